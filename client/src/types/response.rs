//! Response side: non-streamed [`ChatResponse`], streamed [`ChatChunk`]s,
//! usage with DeepSeek's cache split, and DeepSeek's error body.

use serde::{Deserialize, Serialize};

use super::request::ToolCall;
use crate::meta::CallMeta;

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
