//! Parsing and validating a chat-completions request body the way DeepSeek
//! does: 400 for unparseable JSON or an unknown model, 422 naming the field
//! for everything else.

use super::errors::ErrorReply;
use crate::config::RetiredModels;
use serde_json::{Map, Value};

/// Largest `max_tokens` the v4 models accept.
pub const MAX_OUTPUT_TOKENS: u64 = 384_000;

/// Models served, in `/models` order.
pub const MODELS: [&str; 2] = ["deepseek-v4-flash", "deepseek-v4-pro"];

/// A validated request: only what the reply depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Model name as requested (echoed in replies).
    pub model: String,
    /// Canonical model (`deepseek-v4-flash` or `deepseek-v4-pro`), the capacity key.
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

/// The canonical model behind a name, retired aliases included.
pub fn canonical(model: &str) -> Option<&'static str> {
    resolve(model, RetiredModels::Accept).map(|(c, _)| c)
}

/// Resolves a model name: canonical name and default thinking mode.
fn resolve(model: &str, retired: RetiredModels) -> Option<(&'static str, bool)> {
    match (model, retired) {
        ("deepseek-v4-flash", _) => Some(("deepseek-v4-flash", false)),
        ("deepseek-v4-pro", _) => Some(("deepseek-v4-pro", true)),
        ("deepseek-chat", RetiredModels::Accept) => Some(("deepseek-v4-flash", false)),
        ("deepseek-reasoner", RetiredModels::Accept) => Some(("deepseek-v4-flash", true)),
        _ => None,
    }
}

fn field_err(field: &str, problem: &str) -> ErrorReply {
    ErrorReply::invalid_field(field, problem)
}

/// Parses and validates a body.
pub fn parse(body: &[u8], retired: RetiredModels) -> Result<ChatRequest, ErrorReply> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ErrorReply::bad_json(&e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| field_err("body", "expected a JSON object"))?;
    let model = match obj.get("model") {
        None | Some(Value::Null) => return Err(field_err("model", "missing field `model`")),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(field_err("model", "expected a string")),
    };
    let prompt_tokens = messages(obj)?;
    let temperature = number(obj, "temperature")?;
    if let Some(t) = temperature {
        if !(0.0..=2.0).contains(&t) {
            return Err(field_err(
                "temperature",
                &format!("must be in [0, 2], got {t}"),
            ));
        }
    }
    if let Some(p) = number(obj, "top_p")? {
        if !(p > 0.0 && p <= 1.0) {
            return Err(field_err("top_p", &format!("must be in (0, 1], got {p}")));
        }
    }
    let max_tokens = match obj.get("max_tokens") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(m) if (1..=MAX_OUTPUT_TOKENS).contains(&m) => Some(m as u32),
            _ => {
                return Err(field_err(
                    "max_tokens",
                    &format!("must be an integer in [1, {MAX_OUTPUT_TOKENS}], got {n}"),
                ))
            }
        },
        Some(_) => return Err(field_err("max_tokens", "expected an integer")),
    };
    let stream = flag(obj, "stream")?;
    let include_usage = match obj.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => flag(o, "include_usage")?,
        Some(_) => return Err(field_err("stream_options", "expected an object")),
    };
    let thinking_param = match obj.get("thinking") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => match o.get("type").and_then(Value::as_str) {
            Some("enabled") => Some(true),
            Some("disabled") => Some(false),
            _ => {
                return Err(field_err(
                    "thinking.type",
                    "must be `enabled` or `disabled`",
                ))
            }
        },
        Some(_) => return Err(field_err("thinking", "expected an object")),
    };
    let effort = match obj.get("reasoning_effort") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "low" | "minimal" => 0.5,
            "medium" | "high" => 1.0,
            "max" | "xhigh" => 2.0,
            _ => {
                return Err(field_err(
                    "reasoning_effort",
                    "must be one of low, medium, high, max",
                ))
            }
        }),
        Some(_) => return Err(field_err("reasoning_effort", "expected a string")),
    };
    let (canonical, default_thinking) =
        resolve(model, retired).ok_or_else(ErrorReply::model_not_exist)?;
    // reasoning_effort asks for thinking unless thinking is explicitly off.
    let thinking = thinking_param.unwrap_or(default_thinking || effort.is_some());
    Ok(ChatRequest {
        model: model.to_string(),
        canonical,
        stream,
        include_usage,
        max_tokens,
        thinking,
        effort: effort.unwrap_or(1.0),
        prompt_tokens,
    })
}

fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, ErrorReply> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(field_err(key, "expected a boolean")),
    }
}

fn number(obj: &Map<String, Value>, key: &str) -> Result<Option<f64>, ErrorReply> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(field_err(key, "expected a number")),
    }
}

/// Validates `messages` and estimates prompt tokens (~4 characters each).
fn messages(obj: &Map<String, Value>) -> Result<u32, ErrorReply> {
    let list = match obj.get("messages") {
        None | Some(Value::Null) => return Err(field_err("messages", "missing field `messages`")),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(field_err("messages", "must contain at least one message"))
        }
        Some(Value::Array(a)) => a,
        Some(_) => return Err(field_err("messages", "expected an array")),
    };
    let mut chars = 0usize;
    for (i, m) in list.iter().enumerate() {
        let m = m
            .as_object()
            .ok_or_else(|| field_err(&format!("messages[{i}]"), "expected an object"))?;
        match m.get("role").and_then(Value::as_str) {
            Some("system" | "user" | "assistant" | "tool" | "developer") => {}
            _ => {
                return Err(field_err(
                    &format!("messages[{i}].role"),
                    "must be one of system, user, assistant, tool",
                ))
            }
        }
        match m.get("content") {
            Some(Value::String(s)) => chars += s.len(),
            Some(Value::Array(parts)) => {
                chars += parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .map(str::len)
                    .sum::<usize>()
            }
            None | Some(Value::Null) if m.contains_key("tool_calls") => {}
            _ => {
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
