//! Incremental Server-Sent Events parser. Bytes go in as they arrive; only
//! complete `data:` events come out, so comments (`: keep-alive`) and blank
//! lines are invisible to the caller, which is what keeps them from resetting
//! the idle timeout.

/// A complete SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SseEvent {
    /// The (joined) `data:` payload of one event.
    Data(String),
    /// `data: [DONE]`, DeepSeek's end-of-stream marker.
    Done,
}

/// Longest line accepted; a server that never sends a newline must not make
/// the client buffer without bound.
const MAX_LINE: usize = 4 * 1024 * 1024;
/// Largest event (its `data:` lines joined): many lines with no blank line
/// between them must not make the client buffer without bound either.
const MAX_EVENT: usize = 16 * 1024 * 1024;

/// Line-oriented SSE state.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    pos: usize,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Appends received bytes.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Returns the next complete event, `Ok(None)` when more bytes are needed.
    pub(crate) fn next_event(&mut self) -> Result<Option<SseEvent>, String> {
        loop {
            let rest = &self.buf[self.pos..];
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > MAX_LINE {
                    return Err(format!("SSE line longer than {MAX_LINE} bytes"));
                }
                if self.pos > 0 {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                }
                return Ok(None);
            };
            let mut line = &rest[..nl];
            self.pos += nl + 1;
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if line.is_empty() {
                if self.has_data {
                    self.has_data = false;
                    let data = std::mem::take(&mut self.data);
                    if data == "[DONE]" {
                        return Ok(Some(SseEvent::Done));
                    }
                    return Ok(Some(SseEvent::Data(data)));
                }
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(i) => {
                    let v = &line[i + 1..];
                    (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
                }
                None => (line, &b""[..]),
            };
            if field == b"data" {
                let value = std::str::from_utf8(value)
                    .map_err(|_| "SSE data line is not valid UTF-8".to_owned())?;
                if self.data.len() + value.len() + 1 > MAX_EVENT {
                    return Err(format!(
                        "SSE event longer than {MAX_EVENT} bytes (data lines with no blank line between events)"
                    ));
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // `event:`, `id:` and `retry:` carry nothing DeepSeek uses.
        }
    }

    /// Whether an event was started but not terminated by a blank line.
    pub(crate) fn has_partial(&self) -> bool {
        self.has_data || self.pos < self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(p: &mut SseParser) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Some(e) = p.next_event().unwrap() {
            out.push(e);
        }
        out
    }

    #[test]
    fn comments_and_blank_lines_produce_nothing() {
        let mut p = SseParser::default();
        p.push(b": keep-alive\n\n\n: keep-alive\r\n\r\n");
        assert!(all(&mut p).is_empty());
        assert!(!p.has_partial());
    }

    #[test]
    fn events_split_across_chunks_are_joined() {
        let mut p = SseParser::default();
        p.push(b"data: {\"a\"");
        assert!(all(&mut p).is_empty());
        p.push(b":1}\r\n\r\ndata: [DONE]\n");
        assert_eq!(all(&mut p), vec![SseEvent::Data("{\"a\":1}".into())]);
        assert!(p.has_partial());
        p.push(b"\n");
        assert_eq!(all(&mut p), vec![SseEvent::Done]);
    }

    #[test]
    fn multi_line_data_is_joined_with_newline() {
        let mut p = SseParser::default();
        p.push(b"event: x\ndata: a\ndata:b\nid: 1\n\n");
        assert_eq!(all(&mut p), vec![SseEvent::Data("a\nb".into())]);
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_panic() {
        let mut p = SseParser::default();
        p.push(b"data: \xff\xfe\n\n");
        assert!(p.next_event().is_err());
    }

    /// Regression: `data:` lines with no blank line between them grew the
    /// event without bound.
    #[test]
    fn an_event_that_never_ends_is_an_error_not_unbounded_memory() {
        let mut p = SseParser::default();
        let line = format!("data: {}\n", "x".repeat(1 << 20));
        let mut failed = false;
        for _ in 0..20 {
            p.push(line.as_bytes());
            if p.next_event().is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
        assert!(p.data.len() <= MAX_EVENT);
    }

    mod props {
        // The sse bench includes this file with `#[path]`; there `#[test]`
        // functions are stripped and these imports go unused.
        #[allow(unused_imports)]
        use super::super::*;
        #[allow(unused_imports)]
        use proptest::prelude::*;

        /// Bytes an SSE stream is made of, weighted to hit the parser's
        /// branches (newlines, colons, field names, `[DONE]`).
        fn piece() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..40),
                Just(b"\n".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b"data: ".to_vec()),
                Just(b"data:[DONE]\n\n".to_vec()),
                Just(b": keep-alive\n\n".to_vec()),
                Just(b"event: x\nid: 1\n".to_vec()),
                Just(b"\xff\xfe".to_vec()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_streams_never_panic_and_buffer_a_bounded_amount(
                pieces in proptest::collection::vec(piece(), 0..60),
            ) {
                let mut p = SseParser::default();
                for chunk in &pieces {
                    p.push(chunk);
                    loop {
                        match p.next_event() {
                            Ok(Some(SseEvent::Data(d))) => prop_assert!(d.len() <= MAX_EVENT),
                            Ok(Some(SseEvent::Done)) => {}
                            Ok(None) => break,
                            Err(_) => break,
                        }
                    }
                    // What is kept is at most the unfinished line plus the
                    // last chunk: consumed lines are dropped.
                    prop_assert!(p.buf.len() - p.pos <= MAX_LINE + chunk.len());
                    prop_assert!(p.data.len() <= MAX_EVENT);
                }
            }
        }
    }
}
