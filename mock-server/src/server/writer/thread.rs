//! The writer thread: numbers finished attempts, completes their records
//! (call keys and models read from the body off the request path), and feeds
//! the ring, the file and the channel. Everything it does is bounded: a
//! batch at a time, the ring by its size, the file through a `BufWriter`.

use super::{Lost, Pending, Ring, Sinks};
use crate::config::FaultKind;
use crate::journal::{body_key, Attempt, CallKey, End, FaultTag, Line};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The file is flushed at least this often while records come in, so
/// `tail -f` follows the run.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// Pause between drains of the intake: at 50,000 attempts/s about 100
/// records wait, far below the queue's 8,192.
const POLL: Duration = Duration::from_millis(2);

/// Records taken from the intake per ring lock.
const BATCH: usize = 256;

/// Body keys remembered (a retry resends the same bytes, so its marker or
/// fingerprint is looked up instead of parsed and hashed again), and the
/// largest body remembered: at most 8 MiB held, copied, not pinning hyper's
/// buffers.
const KEY_CACHE: usize = 1024;
const KEY_CACHE_BODY: usize = 8 << 10;

struct FileSink {
    out: BufWriter<File>,
    path: PathBuf,
    /// Intake drops already written as a gap line.
    gaps_written: u64,
    line: Vec<u8>,
    dirty: bool,
}

pub(super) struct Writer {
    rx: Receiver<Pending>,
    lost: Arc<Lost>,
    ring: Arc<Mutex<Ring>>,
    file: Option<FileSink>,
    file_failed: bool,
    channel: Option<tokio::sync::mpsc::Sender<Attempt>>,
    seq: u64,
    keys: HashMap<Box<[u8]>, CallKey>,
    _done: tokio::sync::oneshot::Sender<()>,
}

impl Writer {
    pub(super) fn new(
        rx: Receiver<Pending>,
        lost: Arc<Lost>,
        ring: Arc<Mutex<Ring>>,
        sinks: Sinks,
        done: tokio::sync::oneshot::Sender<()>,
    ) -> Writer {
        Writer {
            rx,
            lost,
            ring,
            file: sinks.file.map(|(f, path)| FileSink {
                out: BufWriter::with_capacity(64 << 10, f),
                path,
                gaps_written: 0,
                line: Vec::with_capacity(512),
                dirty: false,
            }),
            file_failed: false,
            channel: sinks.channel,
            seq: 0,
            keys: HashMap::new(),
            _done: done,
        }
    }

    /// Runs until every intake sender is gone, then writes what is left.
    ///
    /// It polls (drain, then sleep [`POLL`]) rather than blocking on the
    /// queue: a blocked reader makes nearly every sender pay a wake-up (a
    /// system call and a context switch per request at full speed).
    pub(super) fn run(mut self) {
        let mut batch = Vec::with_capacity(BATCH);
        let mut next_flush = Instant::now() + FLUSH_EVERY;
        let mut open = true;
        while open {
            loop {
                match self.rx.try_recv() {
                    Ok(p) => {
                        batch.push(p);
                        if batch.len() == BATCH {
                            break;
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            let full = batch.len() == BATCH;
            if !batch.is_empty() {
                self.write(&mut batch);
            }
            if Instant::now() >= next_flush {
                self.flush();
                next_flush = Instant::now() + FLUSH_EVERY;
            }
            if open && !full {
                std::thread::sleep(POLL);
            }
        }
        // Drops after the last record still get their gap line.
        self.note_gap();
        self.flush();
        // `self` drops here: the channel's Sender, then `_done`.
    }

    fn write(&mut self, batch: &mut Vec<Pending>) {
        let mut records = Vec::with_capacity(batch.len());
        for p in batch.drain(..) {
            self.seq += 1;
            let a = complete(p, self.seq, &mut self.keys);
            self.note_gap();
            self.write_file(&a);
            self.send_channel(&a);
            records.push(a);
        }
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        for a in records {
            ring.push(a);
        }
    }

    /// Writes `{"dropped":N}` for intake drops not yet in the file.
    fn note_gap(&mut self) {
        let Some(f) = &mut self.file else { return };
        let lost = self.lost.intake.load(Ordering::Relaxed);
        if lost > f.gaps_written {
            f.line.clear();
            Line::write_dropped(lost - f.gaps_written, &mut f.line);
            f.gaps_written = lost;
            Self::put(&mut self.file, &mut self.file_failed);
        }
    }

    fn write_file(&mut self, a: &Attempt) {
        if let Some(f) = &mut self.file {
            f.line.clear();
            a.write_line(&mut f.line);
            Self::put(&mut self.file, &mut self.file_failed);
        }
        if self.file_failed {
            self.lost.file.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the prepared line; on an I/O error, says so once and stops
    /// writing (every later record counts as lost to the file).
    fn put(file: &mut Option<FileSink>, failed: &mut bool) {
        let Some(f) = file else {
            return;
        };
        match f.out.write_all(&f.line) {
            Ok(()) => f.dirty = true,
            Err(e) => {
                tracing::error!(path = %f.path.display(), error = %e, "cannot write the journal; later records are counted as dropped");
                *file = None;
                *failed = true;
            }
        }
    }

    fn send_channel(&mut self, a: &Attempt) {
        let Some(tx) = &self.channel else { return };
        // Full: the reader fell behind; closed: it left. Lost either way.
        if tx.try_send(a.clone()).is_err() {
            self.lost.channel.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&mut self) {
        let Some(f) = &mut self.file else { return };
        if !std::mem::take(&mut f.dirty) {
            return;
        }
        if let Err(e) = f.out.flush() {
            tracing::error!(path = %f.path.display(), error = %e, "cannot write the journal; later records are counted as dropped");
            self.file = None;
            self.file_failed = true;
        }
    }
}

/// The record of `p`, numbered `seq`: times as seconds from t0 (µs), the
/// key and model read from the body when the request path left them.
fn complete(p: Pending, seq: u64, keys: &mut HashMap<Box<[u8]>, CallKey>) -> Attempt {
    let secs = |ns: u64| (ns.saturating_sub(p.t0_ns) / 1_000) as f64 / 1e6;
    let key = match p.key {
        Some(k) => k,
        None => cached_body_key(p.path, &p.body, keys),
    };
    let (model, stream) = match (p.model, p.stream) {
        (Some(m), Some(s)) => (Some(m.to_string()), s),
        _ => peek(&p.body),
    };
    let end = p.end.unwrap_or(End::Shutdown);
    let at = secs(p.at_ns);
    let end_at = secs(p.end_ns);
    Attempt {
        seq,
        node: p.node,
        call: key.id,
        call_from: key.from,
        at,
        headers_at: p.headers_ns.map(secs),
        end_at,
        end,
        faults: FaultKind::ALL
            .into_iter()
            .filter(|k| p.faults & (1 << k.index()) != 0)
            .map(|k| FaultTag::from_name(k.name()))
            .collect(),
        status: p.status,
        retry_after_s: p.retry_after_s,
        retry_after_ms: p.retry_after_ms,
        should_retry: p.should_retry,
        tokens: p.tokens,
        model,
        stream,
        sdk_retry_count: p.sdk_retry_count,
        client_gone_after: (end == End::ClientClosed)
            .then(|| (p.end_ns.saturating_sub(p.at_ns) / 1_000) as f64 / 1e6),
        stalled_at: p.stalled_ns.map(secs),
    }
}

/// [`body_key`], remembered for bodies seen again (the path is part of a
/// fingerprint, so it is part of the cache key too).
fn cached_body_key(path: &str, body: &[u8], keys: &mut HashMap<Box<[u8]>, CallKey>) -> CallKey {
    if body.len() > KEY_CACHE_BODY {
        return body_key("POST", path, crate::journal::Body::Raw(body));
    }
    let mut k = Vec::with_capacity(path.len() + 1 + body.len());
    k.extend_from_slice(path.as_bytes());
    k.push(b'\n');
    k.extend_from_slice(body);
    if let Some(key) = keys.get(k.as_slice()) {
        return key.clone();
    }
    let key = body_key("POST", path, crate::journal::Body::Raw(body));
    if keys.len() >= KEY_CACHE {
        keys.clear();
    }
    keys.insert(k.into_boxed_slice(), key.clone());
    key
}

/// `model` and `stream` of a body the server refused (it did not parse as a
/// valid request): whatever is there, leniently.
fn peek(body: &[u8]) -> (Option<String>, bool) {
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(default)]
        model: Option<Value>,
        #[serde(default)]
        stream: Option<Value>,
    }
    match serde_json::from_slice::<Peek>(body) {
        Ok(p) => (
            p.model.as_ref().and_then(Value::as_str).map(str::to_string),
            p.stream.as_ref().and_then(Value::as_bool).unwrap_or(false),
        ),
        Err(_) => (None, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Body, CallFrom};

    #[test]
    fn cached_body_keys_equal_computed_ones_and_the_cache_stays_bounded() {
        let mut keys = HashMap::new();
        let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
        let marked = br#"{"messages":[{"role":"user","content":"[call:k9]"}]}"#;
        for path in ["/chat/completions", "/v1/chat/completions"] {
            for _ in 0..2 {
                let k = cached_body_key(path, body, &mut keys);
                assert_eq!(k, body_key("POST", path, Body::Raw(body)));
                assert_eq!(k.from, CallFrom::Fingerprint);
                assert_eq!(cached_body_key(path, marked, &mut keys).id, "k9");
            }
        }
        assert_ne!(
            cached_body_key("/chat/completions", body, &mut keys),
            cached_body_key("/v1/chat/completions", body, &mut keys),
            "the path is part of a fingerprint"
        );
        for i in 0..3 * KEY_CACHE {
            let b = format!(r#"{{"n":{i}}}"#);
            cached_body_key("/chat/completions", b.as_bytes(), &mut keys);
            assert!(keys.len() <= KEY_CACHE);
        }
        let big = vec![b' '; KEY_CACHE_BODY + 1];
        keys.clear();
        cached_body_key("/chat/completions", &big, &mut keys);
        assert!(keys.is_empty(), "large bodies are not remembered");
    }

    #[test]
    fn a_refused_body_still_gives_its_model_and_stream_flag() {
        assert_eq!(
            peek(br#"{"model":"nope","stream":true,"x":[1]}"#),
            (Some("nope".to_string()), true)
        );
        assert_eq!(peek(b"not json"), (None, false));
        assert_eq!(peek(br#"{"model":3,"stream":"yes"}"#), (None, false));
    }
}
