//! Reading an SSE body as typed chunks under the first-token, idle and
//! total timers. Only `data:` events move the idle timer, so `: keep-alive`
//! comments and blank lines cannot keep a dead stream alive. Works on any
//! transport's [`Body`].

use std::pin::Pin;

use futures::stream::StreamExt;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::config::TimeoutsConfig;
use crate::error::{Error, TimeoutPhase};
use crate::sse::{SseEvent, SseParser};
use crate::transport::{bound, Body};
use crate::types::ChatChunk;

/// Reads typed chunks from one SSE response body.
pub(crate) struct ChunkReader {
    body: Body,
    parser: SseParser,
    timer: Pin<Box<Sleep>>,
    phase: TimeoutPhase,
    idle: std::time::Duration,
    deadline: Instant,
    got_token: bool,
    finished: bool,
    /// The body ended and the parser got its final terminator.
    eof: bool,
    partial_at_eof: bool,
}

impl ChunkReader {
    /// `start` is when the attempt began: the first-token timer runs from there.
    pub(crate) fn new(body: Body, t: &TimeoutsConfig, start: Instant, deadline: Instant) -> Self {
        let (at, phase) = bound(start + t.first_token, TimeoutPhase::FirstToken, deadline);
        ChunkReader {
            body,
            parser: SseParser::default(),
            timer: Box::pin(sleep_until(at)),
            phase,
            idle: t.idle,
            deadline,
            got_token: false,
            finished: false,
            eof: false,
            partial_at_eof: false,
        }
    }

    /// Whether a content or reasoning token has been read.
    pub(crate) fn got_token(&self) -> bool {
        self.got_token
    }

    /// The next chunk; `None` after `data: [DONE]`. A body that ends without
    /// `[DONE]` or a `data:` line that is not a chunk is [`Error::StreamBroken`].
    pub(crate) async fn next(&mut self) -> Option<Result<ChatChunk, Error>> {
        if self.finished {
            return None;
        }
        let r = self.next_inner().await;
        if !matches!(r, Some(Ok(_))) {
            self.finished = true;
        }
        r
    }

    async fn next_inner(&mut self) -> Option<Result<ChatChunk, Error>> {
        loop {
            match self.parser.next_event() {
                Err(reason) => return Some(Err(Error::StreamBroken { reason })),
                Ok(Some(SseEvent::Done)) => return None,
                Ok(Some(SseEvent::Data(data))) => {
                    let chunk = match serde_json::from_str::<ChatChunk>(&data) {
                        Ok(c) => c,
                        Err(e) => {
                            let mut shown = data.chars().take(80).collect::<String>();
                            if data.len() > shown.len() {
                                shown.push('…');
                            }
                            return Some(Err(Error::StreamBroken {
                                reason: format!("data line is not a chunk ({e}): {shown:?}"),
                            }));
                        }
                    };
                    if chunk.has_token() {
                        self.got_token = true;
                    }
                    if self.got_token {
                        // Before the first token the first-token bound stays in
                        // force: a role-only chunk is not an answer yet.
                        let (at, phase) = bound(
                            Instant::now() + self.idle,
                            TimeoutPhase::Idle,
                            self.deadline,
                        );
                        self.timer.as_mut().reset(at);
                        self.phase = phase;
                    }
                    return Some(Ok(chunk));
                }
                Ok(None) if self.eof => {
                    let reason = if self.partial_at_eof {
                        "stream ended in the middle of an event"
                    } else {
                        "stream ended without data: [DONE]"
                    };
                    return Some(Err(Error::StreamBroken {
                        reason: reason.to_owned(),
                    }));
                }
                Ok(None) => {}
            }
            tokio::select! {
                biased;
                bytes = self.body.next() => match bytes {
                    Some(Ok(b)) => self.parser.push(&b),
                    Some(Err(e)) => return Some(Err(body_error(e))),
                    None => {
                        // An unterminated last event (`data: [DONE]` then EOF)
                        // still counts, as EventSource implementations do.
                        self.eof = true;
                        self.partial_at_eof = self.parser.has_partial();
                        self.parser.push(b"\n\n");
                    }
                },
                () = self.timer.as_mut() => return Some(Err(Error::Timeout { phase: self.phase })),
            }
        }
    }
}

/// A body error mid-stream: a timeout keeps its class, anything else means
/// the stream broke.
fn body_error(e: Error) -> Error {
    match e {
        t @ Error::Timeout { .. } => t,
        Error::Connection { kind, source } => Error::StreamBroken {
            reason: format!("connection {kind}: {source}"),
        },
        other => Error::StreamBroken {
            reason: other.to_string(),
        },
    }
}
