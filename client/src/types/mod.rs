//! Strongly typed DeepSeek chat-completions request and response bodies
//! (OpenAI-compatible). Requests serialize exactly what DeepSeek documents;
//! responses are parsed leniently (unknown fields ignored, new enum values kept
//! as `Other`) so a server-side addition never breaks a running client.

mod request;
mod response;

pub use request::*;
pub use response::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_serializes_only_set_fields() {
        let mut r = ChatRequest::new(
            Model::V4Pro,
            vec![Message::system("s"), Message::user("hi")],
        );
        r.thinking = Some(Thinking {
            kind: ThinkingKind::Enabled,
        });
        r.max_tokens = Some(8);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "model": "deepseek-v4-pro",
                "messages": [{"role":"system","content":"s"},{"role":"user","content":"hi"}],
                "thinking": {"type": "enabled"},
                "max_tokens": 8,
                "stream": false
            })
        );
    }

    #[test]
    fn retired_and_unknown_models_round_trip() {
        assert_eq!(Model::from_name("deepseek-reasoner"), Model::Reasoner);
        let m: Model = serde_json::from_str("\"deepseek-v9\"").unwrap();
        assert_eq!(m.as_str(), "deepseek-v9");
    }

    #[test]
    fn response_with_cache_and_reasoning_usage_parses() {
        let body = r#"{"id":"x","object":"chat.completion","created":1,"model":"deepseek-v4-pro",
          "choices":[{"index":0,"message":{"role":"assistant","content":"hi","reasoning_content":"hm"},
          "finish_reason":"insufficient_system_resource"}],
          "usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,
          "prompt_cache_hit_tokens":4,"prompt_cache_miss_tokens":1,
          "completion_tokens_details":{"reasoning_tokens":2}},"extra":1}"#;
        let r: ChatResponse = serde_json::from_str(body).unwrap();
        assert_eq!(r.content(), Some("hi"));
        assert_eq!(r.reasoning_content(), Some("hm"));
        let u = r.usage.unwrap();
        assert_eq!(
            (u.prompt_cache_hit_tokens, u.prompt_cache_miss_tokens),
            (4, 1)
        );
        assert_eq!(u.completion_tokens_details.unwrap().reasoning_tokens, 2);
        assert_eq!(
            r.choices[0].finish_reason,
            Some(FinishReason::InsufficientSystemResource)
        );
    }

    #[test]
    fn unknown_finish_reason_is_other() {
        let c: ChatChunk =
            serde_json::from_str(r#"{"choices":[{"index":0,"delta":{},"finish_reason":"new"}]}"#)
                .unwrap();
        assert_eq!(c.finish_reason(), Some(&FinishReason::Other));
        assert!(!c.has_token());
    }
}
