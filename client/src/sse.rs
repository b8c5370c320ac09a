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
}
