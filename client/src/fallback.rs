//! Fallback: which failures a configured fallback may answer, and the
//! static reply as a response or as a one-chunk stream. (The fallback model
//! is one more attempt of the call loop, in `call`.)

use std::collections::VecDeque;

use crate::error::Error;
use crate::meta::CallMeta;
use crate::stream::{ChatStream, StreamState};
use crate::types::{
    ChatChunk, ChatResponse, Choice, ChunkChoice, Delta, FinishReason, ResponseMessage,
};

/// Model name reported on static fallback answers.
pub const STATIC_MODEL: &str = "static-fallback";

/// Whether a call that failed with `err` may be answered by the fallback:
/// not when the request itself is wrong (400/401/422, unbuildable) or the
/// client is misconfigured, since another model or a canned reply would
/// hide the caller's mistake.
pub(crate) fn applies_to(err: &Error) -> bool {
    !matches!(
        err,
        Error::Auth { .. }
            | Error::InvalidRequest { .. }
            | Error::Request { .. }
            | Error::Config(_)
    )
}

pub(crate) fn static_response(text: String) -> ChatResponse {
    ChatResponse {
        id: "fallback".to_owned(),
        object: "chat.completion".to_owned(),
        created: 0,
        model: STATIC_MODEL.to_owned(),
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant".to_owned(),
                content: Some(text),
                ..Default::default()
            },
            finish_reason: Some(FinishReason::Stop),
        }],
        usage: None,
        system_fingerprint: None,
        meta: CallMeta::default(),
    }
}

pub(crate) fn static_stream(text: String, meta: CallMeta) -> ChatStream {
    let chunk = ChatChunk {
        id: "fallback".to_owned(),
        object: "chat.completion.chunk".to_owned(),
        created: 0,
        model: STATIC_MODEL.to_owned(),
        choices: vec![ChunkChoice {
            index: 0,
            delta: Delta {
                role: Some("assistant".to_owned()),
                content: Some(text),
                ..Default::default()
            },
            finish_reason: Some(FinishReason::Stop),
        }],
        usage: None,
    };
    let state = StreamState {
        reader: None,
        buffered: VecDeque::from([chunk]),
        finisher: None::<()>,
    };
    ChatStream::new(state, meta)
}
