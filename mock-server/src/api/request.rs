//! Parsing and validating a chat-completions request body the way DeepSeek
//! does: 400 for unparseable JSON or an unknown model, 422 naming the field
//! for everything else.

use super::errors::ErrorReply;
use super::models::{self, RetiredModels};
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::error::Category;
use std::borrow::Cow;
use std::fmt;

/// Largest `max_tokens` the v4 models accept.
pub const MAX_OUTPUT_TOKENS: u64 = 384_000;

/// A validated request: only what the reply depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Model name as requested (echoed in replies); always one of the served
    /// names, so it is static and needs no escaping.
    pub model: &'static str,
    /// The model it is served as, the capacity key.
    pub canonical: &'static str,
    /// SSE reply.
    pub stream: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// Output cap (reasoning + answer).
    pub max_tokens: Option<u32>,
    /// Thinking mode.
    pub thinking: bool,
    /// Reasoning length multiplier from `reasoning_effort`.
    pub effort: f64,
    /// Estimated prompt tokens.
    pub prompt_tokens: u32,
}

fn field_err(field: &str, problem: &str) -> ErrorReply {
    ErrorReply::invalid_field(field, problem)
}

/// The fields we read, borrowed from the body where possible. Unknown fields
/// (tools, n, seed, ...) are skipped, as DeepSeek accepts them.
#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    messages: Option<Vec<RawMessage<'a>>>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    max_tokens: Option<serde_json::Number>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(default, borrow)]
    thinking: Option<Thinking<'a>>,
    #[serde(default, borrow)]
    reasoning_effort: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(default, borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    tool_calls: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

#[derive(Deserialize)]
struct Thinking<'a> {
    #[serde(default, borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

/// Message content: a string or an array of parts; only its length matters.
struct Content(usize);

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of parts")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content(v.len()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                #[derive(Deserialize)]
                struct Part<'a> {
                    #[serde(default, borrow)]
                    text: Option<Cow<'a, str>>,
                }
                let mut n = 0;
                while let Some(p) = seq.next_element::<Part>()? {
                    n += p.text.map_or(0, |t| t.len());
                }
                Ok(Content(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses and validates a body.
pub fn parse(body: &[u8], retired: RetiredModels) -> Result<ChatRequest, ErrorReply> {
    // Plain serde first (fast path); only a failure pays for path tracking.
    let raw: Raw = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) if e.classify() != Category::Data => {
            return Err(ErrorReply::bad_json(&e.to_string()))
        }
        Err(e) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let field = match serde_path_to_error::deserialize::<_, Raw>(&mut de) {
                Err(pe) => pe.path().to_string(),
                Ok(_) => String::from("."),
            };
            let field = if field == "." { "body" } else { field.as_str() };
            return Err(field_err(field, &without_position(&e)));
        }
    };
    let model = raw
        .model
        .ok_or_else(|| field_err("model", "missing field `model`"))?;
    let prompt_tokens = messages(raw.messages)?;
    if let Some(t) = raw.temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(field_err(
                "temperature",
                &format!("must be in [0, 2], got {t}"),
            ));
        }
    }
    if let Some(p) = raw.top_p {
        if !(p > 0.0 && p <= 1.0) {
            return Err(field_err("top_p", &format!("must be in (0, 1], got {p}")));
        }
    }
    let max_tokens = match raw.max_tokens {
        None => None,
        Some(n) => match n.as_u64() {
            Some(m) if (1..=MAX_OUTPUT_TOKENS).contains(&m) => Some(m as u32),
            _ => {
                return Err(field_err(
                    "max_tokens",
                    &format!("must be an integer in [1, {MAX_OUTPUT_TOKENS}], got {n}"),
                ))
            }
        },
    };
    let thinking_param = match raw.thinking {
        None => None,
        Some(t) => match t.kind.as_deref() {
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            _ => {
                return Err(field_err(
                    "thinking.type",
                    "must be `enabled` or `disabled`",
                ))
            }
        },
    };
    let effort = match raw.reasoning_effort.as_deref() {
        None => None,
        Some("low" | "minimal") => Some(0.5),
        Some("medium" | "high") => Some(1.0),
        Some("max" | "xhigh") => Some(2.0),
        Some(_) => {
            return Err(field_err(
                "reasoning_effort",
                "must be one of low, medium, high, max",
            ))
        }
    };
    let resolved = models::resolve(&model, retired).ok_or_else(ErrorReply::model_not_exist)?;
    // reasoning_effort asks for thinking unless thinking is explicitly off.
    let thinking = thinking_param.unwrap_or(resolved.thinking || effort.is_some());
    Ok(ChatRequest {
        model: resolved.name,
        canonical: resolved.canonical,
        stream: raw.stream.unwrap_or(false),
        include_usage: raw
            .stream_options
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
        max_tokens,
        thinking,
        effort: effort.unwrap_or(1.0),
        prompt_tokens,
    })
}

/// serde_json appends ` at line L column C`; the field name says more.
fn without_position(e: &serde_json::Error) -> String {
    let mut s = e.to_string();
    if let Some(i) = s.rfind(" at line ") {
        s.truncate(i);
    }
    s
}

/// Validates `messages` and estimates prompt tokens (~4 characters each).
fn messages(list: Option<Vec<RawMessage>>) -> Result<u32, ErrorReply> {
    let list = match list {
        None => return Err(field_err("messages", "missing field `messages`")),
        Some(l) if l.is_empty() => {
            return Err(field_err("messages", "must contain at least one message"))
        }
        Some(l) => l,
    };
    let mut chars = 0usize;
    for (i, m) in list.iter().enumerate() {
        match m.role.as_deref() {
            Some("system" | "user" | "assistant" | "tool" | "developer") => {}
            _ => {
                return Err(field_err(
                    &format!("messages[{i}].role"),
                    "must be one of system, user, assistant, tool",
                ))
            }
        }
        match &m.content {
            Some(c) => chars += c.0,
            None if m.tool_calls.is_some() => {}
            None => {
                return Err(field_err(
                    &format!("messages[{i}].content"),
                    "expected a string or an array of parts",
                ))
            }
        }
    }
    let tokens = chars / 4 + 4 * list.len();
    Ok(tokens.clamp(1, u32::MAX as usize) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(body: &str) -> Result<ChatRequest, ErrorReply> {
        parse(body.as_bytes(), RetiredModels::Accept)
    }

    #[test]
    fn defaults_and_aliases() {
        let r = p(r#"{"model":"deepseek-v4-pro","messages":[{"role":"user","content":"hi"}]}"#)
            .unwrap();
        assert!(r.thinking && !r.stream);
        let r =
            p(r#"{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}"#).unwrap();
        assert_eq!(r.canonical, "deepseek-v4-flash");
        assert!(!r.thinking);
        let r = p(r#"{"model":"deepseek-reasoner","messages":[{"role":"user","content":"hi"}]}"#)
            .unwrap();
        assert!(r.thinking);
        let r = p(r#"{"model":"deepseek-v4-flash","thinking":{"type":"enabled"},"messages":[{"role":"user","content":"hi"}]}"#).unwrap();
        assert!(r.thinking);
        let e = parse(
            br#"{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}"#,
            RetiredModels::Reject,
        )
        .unwrap_err();
        assert_eq!(e, ErrorReply::model_not_exist());
    }

    #[test]
    fn validation_statuses() {
        assert_eq!(p("{not json").unwrap_err().status, 400);
        assert_eq!(p(r#"{"messages":[]}"#).unwrap_err().status, 422);
        let e = p(r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"x"}],"temperature":3}"#).unwrap_err();
        assert_eq!(e.status, 422);
        assert!(String::from_utf8_lossy(&e.body).contains("temperature"));
        let e = p(r#"{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#).unwrap_err();
        assert!(String::from_utf8_lossy(&e.body).contains("max_tokens"));
        assert_eq!(
            p(r#"{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}"#)
                .unwrap_err()
                .status,
            400
        );
    }
}
