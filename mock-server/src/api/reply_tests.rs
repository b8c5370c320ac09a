use super::*;
use crate::api::request::parse;
use crate::config::RetiredModels;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn script(body: &str) -> Script {
    let req = parse(body.as_bytes(), RetiredModels::Accept).unwrap();
    Script::draw(
        &req,
        &Generation::default(),
        &mut ChaCha8Rng::seed_from_u64(3),
    )
}

#[test]
fn completion_has_openai_and_deepseek_fields() {
    let s = script(
        r#"{"model":"deepseek-v4-pro","messages":[{"role":"user","content":"hello there"}]}"#,
    );
    let v: serde_json::Value = serde_json::from_slice(&completion_body(&s)).unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "deepseek-v4-pro");
    assert!(v["created"].is_u64() && v["system_fingerprint"].is_string());
    let c = &v["choices"][0];
    assert_eq!(c["message"]["role"], "assistant");
    assert!(c["logprobs"].is_null());
    assert_eq!(c["finish_reason"], "stop");
    assert!(c["message"]["reasoning_content"].as_str().unwrap().len() > 1);
    let u = &v["usage"];
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );
    assert_eq!(
        u["prompt_cache_hit_tokens"],
        u["prompt_tokens_details"]["cached_tokens"]
    );
    assert!(
        u["completion_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn max_tokens_cuts_with_length() {
    let s = script(
        r#"{"model":"deepseek-v4-flash","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(s.finish, "length");
    assert_eq!(s.content_tokens, 5);
    let v: serde_json::Value = serde_json::from_slice(&completion_body(&s)).unwrap();
    assert_eq!(v["usage"]["completion_tokens"], 5);
    assert_eq!(
        v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .split(' ')
            .count(),
        5
    );
}

#[test]
fn chunks_are_valid_json_lines() {
    let s = script(
        r#"{"model":"deepseek-reasoner","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}"#,
    );
    let w = ChunkWriter::new(&s);
    for chunk in [
        w.role(),
        w.token("hi", true),
        w.token(" there", false),
        w.finish(&s),
    ] {
        let text = std::str::from_utf8(&chunk).unwrap();
        let json = text
            .strip_prefix("data: ")
            .unwrap()
            .strip_suffix("\n\n")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["object"], "chat.completion.chunk");
    }
    let fin: serde_json::Value =
        serde_json::from_str(std::str::from_utf8(&w.finish(&s)).unwrap()[6..].trim()).unwrap();
    assert_eq!(fin["choices"][0]["finish_reason"], "stop");
    assert!(fin["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    let broken = w.broken("x");
    assert!(serde_json::from_slice::<serde_json::Value>(&broken[6..]).is_err());
}

#[test]
fn hand_written_usage_matches_serde() {
    for body in [
        r#"{"model":"deepseek-v4-pro","messages":[{"role":"user","content":"hello there"}]}"#,
        r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hello there"}]}"#,
    ] {
        let s = script(body);
        let mut out = Vec::new();
        write_usage(&mut out, &s.usage);
        assert_eq!(out, serde_json::to_vec(&s.usage).unwrap());
    }
}
