//! The attempt journal (`docs/journal.md`): one JSON line per
//! chat-completions attempt the fake server received, written when the
//! attempt ends, so any client's resilience can be judged from what reached
//! the server alone.
//!
//! This module holds the pure parts shared by the writer (the server's
//! handler) and the reader (the harness's judge): the record and its line
//! format ([`record`]) and the call-key rules that group attempts into
//! logical calls ([`key`]). Nothing here touches tokio or hyper, so the
//! handler can call it on every request and the judge can link it without a
//! runtime.

pub mod key;
pub mod record;

pub use key::{body_key, call_key, fingerprint, header_key, marker_id, trace_id, Body, CallKey};
pub use record::{Attempt, CallFrom, End, FaultTag, Line, LineError, RecordError};
