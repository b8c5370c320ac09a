//! Request side: model names, messages, thinking / reasoning options, tools
//! and the [`ChatRequest`] body.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// The client's priority class for this call (its bulkhead share and
    /// fallback under `priorities:`). Read from YAML request bodies, never
    /// sent to the API. Default `normal`.
    #[serde(default, skip_serializing)]
    pub priority: crate::policy::priority::Priority,
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
