//! Strongly typed DeepSeek chat-completions request and response bodies
//! (OpenAI-compatible). Requests serialize exactly what DeepSeek documents;
//! responses are parsed leniently (unknown fields ignored, new enum values kept
//! as `Other`) so a server-side addition never breaks a running client.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::meta::CallMeta;

/// A DeepSeek model name. The current models are [`Model::V4Flash`] and
/// [`Model::V4Pro`]; the retired aliases `deepseek-chat` and
/// `deepseek-reasoner` stay sendable because older deployments still use them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Model {
    /// `deepseek-v4-flash`: the fast general model (default).
    #[default]
    V4Flash,
    /// `deepseek-v4-pro`: the larger model.
    V4Pro,
    /// `deepseek-chat`: retired alias, still accepted.
    Chat,
    /// `deepseek-reasoner`: retired alias, still accepted.
    Reasoner,
    /// Any other model name, sent verbatim.
    Other(String),
}

impl Model {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Model::V4Flash => "deepseek-v4-flash",
            Model::V4Pro => "deepseek-v4-pro",
            Model::Chat => "deepseek-chat",
            Model::Reasoner => "deepseek-reasoner",
            Model::Other(s) => s,
        }
    }

    /// Parses a wire name; unknown names become [`Model::Other`].
    pub fn from_name(name: &str) -> Model {
        match name {
            "deepseek-v4-flash" => Model::V4Flash,
            "deepseek-v4-pro" => Model::V4Pro,
            "deepseek-chat" => Model::Chat,
            "deepseek-reasoner" => Model::Reasoner,
            other => Model::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Model {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Model::from_name(&s))
    }
}

/// One message of the conversation, tagged by `role` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    /// Instructions for the model.
    System {
        /// Text.
        content: String,
        /// Optional participant name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A user turn.
    User {
        /// Text.
        content: String,
        /// Optional participant name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// A previous assistant turn (or a prefix to continue).
    Assistant {
        /// Text; `None` when the turn only called tools.
        #[serde(default)]
        content: Option<String>,
        /// Optional participant name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Tool calls the assistant made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_calls: Option<Vec<ToolCall>>,
        /// Beta: ask the model to continue this message as a prefix.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<bool>,
    },
    /// The result of a tool call.
    Tool {
        /// Tool output.
        content: String,
        /// The id of the call this answers.
        tool_call_id: String,
    },
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message::System {
            content: content.into(),
            name: None,
        }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::User {
            content: content.into(),
            name: None,
        }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::Assistant {
            content: Some(content.into()),
            name: None,
            tool_calls: None,
            prefix: None,
        }
    }
}

/// `thinking: {type}`: switches reasoning on or off for models that support both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thinking {
    /// Enabled or disabled.
    #[serde(rename = "type")]
    pub kind: ThinkingKind,
}

/// Whether the model thinks before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingKind {
    /// Produce `reasoning_content` before the answer.
    Enabled,
    /// Answer directly.
    Disabled,
}

/// How much reasoning effort the model spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    /// Least reasoning.
    Low,
    /// Default.
    Medium,
    /// Most reasoning.
    High,
}

/// `stream_options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a final chunk with `usage`.
    pub include_usage: bool,
}

/// `response_format: {type}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseFormat {
    /// `text` or `json_object`.
    #[serde(rename = "type")]
    pub kind: ResponseFormatKind,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseFormatKind {
    /// Free text.
    Text,
    /// A JSON object.
    JsonObject,
}

/// A function tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDef,
}

/// A function definition (JSON Schema parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    /// Function name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Value>,
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id.
    #[serde(default)]
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Name and JSON-encoded arguments.
    pub function: FunctionCall,
}

/// Name and arguments of a called function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    #[serde(default)]
    pub name: String,
    /// JSON-encoded arguments.
    #[serde(default)]
    pub arguments: String,
}

/// A chat-completions request. `stream` is set by the client
/// ([`crate::Client::chat`] sends `false`, [`crate::Client::chat_stream`] `true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ChatRequest {
    /// Model name.
    pub model: Model,
    /// Conversation.
    pub messages: Vec<Message>,
    /// Reasoning switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Thinking>,
    /// Reasoning effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Sampling temperature (0..=2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Output token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// Streamed (SSE) answer.
    #[serde(default)]
    pub stream: bool,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Tool choice (`none`, `auto`, `required` or a named function).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<serde_json::Value>,
}

impl ChatRequest {
    /// A request with one user message.
    pub fn new(model: Model, messages: Vec<Message>) -> Self {
        ChatRequest {
            model,
            messages,
            ..Default::default()
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// Natural end or stop sequence.
    Stop,
    /// `max_tokens` reached.
    Length,
    /// Filtered.
    ContentFilter,
    /// The model called tools.
    ToolCalls,
    /// DeepSeek: the server ran out of resources mid-answer.
    InsufficientSystemResource,
    /// Anything newer.
    #[serde(other)]
    Other,
}

/// Token accounting, including DeepSeek's context-cache split.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Output tokens (including reasoning).
    #[serde(default)]
    pub completion_tokens: u32,
    /// Sum.
    #[serde(default)]
    pub total_tokens: u32,
    /// Input tokens served from the context cache.
    #[serde(default)]
    pub prompt_cache_hit_tokens: u32,
    /// Input tokens not in the cache.
    #[serde(default)]
    pub prompt_cache_miss_tokens: u32,
    /// Breakdown of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

/// Breakdown of output tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Tokens spent on `reasoning_content`.
    #[serde(default)]
    pub reasoning_tokens: u32,
}

/// The assistant message of a non-streamed answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage {
    /// Always `assistant`.
    #[serde(default)]
    pub role: String,
    /// Answer text.
    #[serde(default)]
    pub content: Option<String>,
    /// Reasoning (reasoning models / thinking enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
}

/// One choice of a non-streamed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Index.
    #[serde(default)]
    pub index: u32,
    /// The message.
    pub message: ResponseMessage,
    /// Why it stopped.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

/// A non-streamed answer, plus what the client did to get it ([`CallMeta`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Completion id.
    #[serde(default)]
    pub id: String,
    /// `chat.completion`.
    #[serde(default)]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model that answered.
    #[serde(default)]
    pub model: String,
    /// Choices (DeepSeek returns one).
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Token accounting.
    #[serde(default)]
    pub usage: Option<Usage>,
    /// Backend fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Attempts, statuses, endpoints, queue wait, fallback and trace id.
    #[serde(skip)]
    pub meta: CallMeta,
}

impl ChatResponse {
    /// Text of the first choice.
    pub fn content(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.message.content.as_deref())
    }
    /// Reasoning text of the first choice.
    pub fn reasoning_content(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.message.reasoning_content.as_deref())
    }
}

/// The incremental part of one streamed chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Present on the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Answer text piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Reasoning text piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool call pieces, passed through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<serde_json::Value>>,
}

/// One choice of a streamed chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Index.
    #[serde(default)]
    pub index: u32,
    /// The increment.
    #[serde(default)]
    pub delta: Delta,
    /// Set on the last content chunk.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

/// One `data:` event of a streamed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// Completion id.
    #[serde(default)]
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default)]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model.
    #[serde(default)]
    pub model: String,
    /// Choices (usually one; empty on the usage-only chunk).
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Present on the final chunk when `include_usage` is set.
    #[serde(default)]
    pub usage: Option<Usage>,
}

impl ChatChunk {
    /// Answer text piece of the first choice.
    pub fn content(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
    }
    /// Reasoning text piece of the first choice.
    pub fn reasoning_content(&self) -> Option<&str> {
        self.choices
            .first()
            .and_then(|c| c.delta.reasoning_content.as_deref())
    }
    /// Finish reason of the first choice.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first().and_then(|c| c.finish_reason.as_ref())
    }
    /// Whether this chunk carries a content or reasoning token, which ends
    /// the retryable phase of a stream.
    pub fn has_token(&self) -> bool {
        self.choices.iter().any(|c| {
            c.delta.content.as_deref().is_some_and(|s| !s.is_empty())
                || c.delta
                    .reasoning_content
                    .as_deref()
                    .is_some_and(|s| !s.is_empty())
                || c.delta.tool_calls.is_some()
        })
    }
}

/// DeepSeek's error body: `{"error":{"message","type","param","code"}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ApiErrorBody {
    /// The error.
    pub error: ApiErrorDetail,
}

/// The inner error object.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ApiErrorDetail {
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Error type, e.g. `invalid_request_error`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Offending parameter.
    #[serde(default)]
    pub param: Option<String>,
    /// Machine code (string or number on the wire).
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

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
