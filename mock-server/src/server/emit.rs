//! What a streamed body sends next, as pure state machines over `now`: SSE
//! chunks paced by the generation model (with stream faults applied), and
//! JSON replies that are preceded by keep-alive blank lines or cut short.
//!
//! The body driver (`body.rs`) turns each [`Step`] into I/O and pauses briefly
//! before a close so sent bytes reach the wire; tests step the
//! machines with fake instants.

use crate::api::reply::{ChunkWriter, Script, DONE, KEEP_ALIVE_SSE};
use crate::api::text::Words;
use crate::config::fault::{AfterWait, DropMode};
use crate::plan::{Decision, ResponseFault, StreamEnd};
use bytes::Bytes;
use std::time::Duration;
use tokio::time::Instant;

/// The next thing a body does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send these bytes.
    Send(Bytes),
    /// Wait until then and ask again.
    SleepUntil(Instant),
    /// Close the connection (RST when `rst`).
    Close {
        /// Reset instead of FIN.
        rst: bool,
    },
    /// Send nothing until the client leaves.
    Stall,
    /// Finish the body normally.
    End,
}

/// A pure body state machine.
pub trait Emitter: Send + 'static {
    /// The step at `now`. The first call fixes the machine's start time.
    fn next(&mut self, now: Instant) -> Step;

    /// Content and reasoning tokens in the bytes sent so far (the journal's
    /// `tokens`).
    fn tokens(&self) -> u32 {
        0
    }
}

/// Keep-alives every `every` until `until`.
#[derive(Debug, Clone)]
struct KeepAlive {
    every: Duration,
    until: Duration,
    next: Duration,
}

impl KeepAlive {
    /// `Some(step)` while keep-alives are still due before `until`.
    fn step(&mut self, start: Instant, now: Instant, bytes: &'static [u8]) -> Option<Step> {
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= self.until {
            return None;
        }
        if elapsed >= self.next {
            self.next += self.every;
            return Some(Step::Send(Bytes::from_static(bytes)));
        }
        Some(Step::SleepUntil(start + self.next.min(self.until)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Waiting,
    Role,
    Tokens,
    Finish,
    Done,
    Over,
}

/// An SSE stream.
pub struct SseEmitter {
    script: Script,
    writer: ChunkWriter,
    words: Words,
    start: Option<Instant>,
    wait: Option<(KeepAlive, AfterWait)>,
    first_token: Duration,
    tps: Option<f64>,
    sent: u32,
    stage: Stage,
    end: Option<StreamEnd>,
    malformed_after: Option<u32>,
    missing_done: bool,
    truncate_first: bool,
    close_pending: bool,
}

impl SseEmitter {
    /// A stream for `script` with the decided faults; `queue` adds a keep-alive
    /// wait (from a queue_wait fault or the capacity queue) before everything.
    pub fn new(script: Script, d: &Decision) -> Self {
        let wait = match &d.response {
            Some(ResponseFault::QueueWait { wait, then, every }) => Some((
                KeepAlive {
                    every: *every,
                    until: *wait,
                    next: *every,
                },
                *then,
            )),
            _ => None,
        };
        let queued = wait.as_ref().map(|w| w.0.until).unwrap_or_default();
        SseEmitter {
            writer: ChunkWriter::new(&script),
            words: Words::new(script.text_seed),
            start: None,
            first_token: queued + script.ttft + d.first_token_delay,
            tps: d.slow_drip.or(script.tps),
            sent: 0,
            stage: Stage::Waiting,
            end: d.stream_end,
            malformed_after: d.malformed_after,
            missing_done: d.missing_done,
            truncate_first: matches!(d.response, Some(ResponseFault::TruncatedJson)),
            close_pending: false,
            wait,
            script,
        }
    }

    fn total(&self) -> u32 {
        self.script.reasoning_tokens + self.script.content_tokens
    }

    /// When token `i` (0-based) is due, relative to the start.
    fn due(&self, i: u32) -> Duration {
        match self.tps {
            Some(tps) if i > 0 => {
                self.first_token + Duration::from_secs_f64((i as f64 / tps).min(86_400.0))
            }
            _ => self.first_token,
        }
    }

    /// Faults that act "after N tokens", checked before each token and before
    /// the final chunk (so N past the end still fires).
    fn token_faults(&mut self) -> Option<Step> {
        if self.malformed_after == Some(self.sent) {
            self.malformed_after = None;
            return Some(Step::Send(self.writer.broken("broken")));
        }
        match self.end {
            Some(StreamEnd::Drop { after, mode }) if after <= self.sent => {
                self.stage = Stage::Over;
                Some(Step::Close {
                    rst: mode == DropMode::Rst,
                })
            }
            Some(StreamEnd::Stall { after }) if after <= self.sent => {
                self.stage = Stage::Over;
                Some(Step::Stall)
            }
            _ => None,
        }
    }
}

impl Emitter for SseEmitter {
    fn tokens(&self) -> u32 {
        self.sent
    }

    fn next(&mut self, now: Instant) -> Step {
        let start = *self.start.get_or_insert(now);
        let elapsed = now.saturating_duration_since(start);
        loop {
            match self.stage {
                Stage::Waiting => {
                    if let Some((ka, then)) = &mut self.wait {
                        if let Some(step) = ka.step(start, now, KEEP_ALIVE_SSE) {
                            return step;
                        }
                        if *then == AfterWait::Close {
                            self.stage = Stage::Over;
                            return Step::Close { rst: false };
                        }
                    }
                    if elapsed < self.first_token {
                        return Step::SleepUntil(start + self.first_token);
                    }
                    self.stage = Stage::Role;
                }
                Stage::Role => {
                    self.stage = Stage::Tokens;
                    if self.truncate_first {
                        self.stage = Stage::Over;
                        self.close_pending = true;
                        return Step::Send(self.writer.broken("cut"));
                    }
                    return Step::Send(self.writer.role());
                }
                Stage::Tokens => {
                    if let Some(step) = self.token_faults() {
                        return step;
                    }
                    if self.sent >= self.total() {
                        self.stage = Stage::Finish;
                        continue;
                    }
                    let due = self.due(self.sent);
                    if elapsed < due {
                        return Step::SleepUntil(start + due);
                    }
                    let reasoning = self.sent < self.script.reasoning_tokens;
                    let word = self.words.next(reasoning);
                    self.sent += 1;
                    return Step::Send(self.writer.token(word, reasoning));
                }
                Stage::Finish => {
                    self.stage = if self.missing_done {
                        Stage::Over
                    } else {
                        Stage::Done
                    };
                    return Step::Send(self.writer.finish(&self.script));
                }
                Stage::Done => {
                    self.stage = Stage::Over;
                    return Step::Send(Bytes::from_static(DONE));
                }
                Stage::Over => {
                    if std::mem::take(&mut self.close_pending) {
                        return Step::Close { rst: false };
                    }
                    return Step::End;
                }
            }
        }
    }
}

/// A non-streaming JSON reply that is not sent in one piece: preceded by
/// keep-alive blank lines (queue wait), or cut and closed (close_mid_body).
pub struct JsonEmitter {
    start: Option<Instant>,
    keep_alive: Option<KeepAlive>,
    body: Option<Bytes>,
    ready: Duration,
    close_after: bool,
    /// Tokens in `body`, counted once it is sent.
    body_tokens: u32,
    sent: u32,
}

impl JsonEmitter {
    /// Blank lines every `every` until `ready`, then `body` (or a close when `None`).
    pub fn queued(every: Duration, ready: Duration, body: Option<Bytes>) -> Self {
        JsonEmitter {
            start: None,
            keep_alive: Some(KeepAlive {
                every,
                until: ready,
                next: every,
            }),
            close_after: body.is_none(),
            body,
            ready,
            body_tokens: 0,
            sent: 0,
        }
    }

    /// Says how many tokens the body holds (reported once it is sent).
    pub fn with_tokens(mut self, n: u32) -> Self {
        self.body_tokens = n;
        self
    }

    /// The first half of `full`, then a FIN.
    pub fn cut(full: &Bytes) -> Self {
        let half = full.slice(..full.len() / 2);
        JsonEmitter {
            start: None,
            keep_alive: None,
            body: (!half.is_empty()).then_some(half),
            ready: Duration::ZERO,
            close_after: true,
            body_tokens: 0,
            sent: 0,
        }
    }
}

impl Emitter for JsonEmitter {
    fn tokens(&self) -> u32 {
        self.sent
    }

    fn next(&mut self, now: Instant) -> Step {
        let start = *self.start.get_or_insert(now);
        if let Some(ka) = &mut self.keep_alive {
            if let Some(step) = ka.step(start, now, b"\n") {
                return step;
            }
        }
        if now.saturating_duration_since(start) < self.ready {
            return Step::SleepUntil(start + self.ready);
        }
        if let Some(body) = self.body.take() {
            self.sent = self.body_tokens;
            return Step::Send(body);
        }
        if std::mem::take(&mut self.close_after) {
            return Step::Close { rst: false };
        }
        Step::End
    }
}

#[cfg(test)]
#[path = "emit_tests.rs"]
mod tests;
