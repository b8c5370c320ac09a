//! One HTTP/1.1 keep-alive connection, driven in the caller's task: write a
//! prebuilt request in one `write`, read the answer's head (parsed by
//! `httparse`) and its body to the last byte (`content-length`, `chunked`,
//! or until close), discarding it. No second task, no channel, no header
//! map: the least a load generator can do per request (as wrk does in C).

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most response headers read; more is a malformed answer here.
const MAX_HEADERS: usize = 64;
/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Read buffer kept per connection.
const BUF: usize = 8 * 1024;

/// Why an exchange failed.
#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    /// The peer closed or reset the connection, or the write failed.
    Io,
    /// The answer is not HTTP/1.x as expected.
    Malformed,
}

/// What a complete answer told.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Whether the connection may carry another request.
    pub reusable: bool,
}

/// An open connection and its read buffer.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

impl Conn {
    /// Wraps a connected stream.
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: BytesMut::with_capacity(BUF),
        }
    }

    /// Sends `request` (a whole HTTP/1.1 request, head and body) and reads
    /// the answer to its end. On `Err`, or an answer that is not
    /// `reusable`, the connection must be dropped. A status read before the
    /// body failed comes with the error.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Answer, (u16, WireError)> {
        self.buf.clear();
        self.stream
            .write_all(request)
            .await
            .map_err(|_| (0, WireError::Io))?;
        let (status, framing, mut reusable) = self.read_head().await.map_err(|e| (0, e))?;
        let body = match framing {
            Framing::Length(n) => self.skip(n).await,
            Framing::Chunked => self.skip_chunked().await,
            Framing::UntilClose => {
                reusable = false;
                self.skip_to_eof().await
            }
        };
        body.map_err(|e| (status, e))?;
        // Bytes past the answer were never asked for: do not reuse.
        if !self.buf.is_empty() {
            reusable = false;
        }
        Ok(Answer { status, reusable })
    }

    /// Reads more bytes into the buffer; `Io` at end of stream.
    async fn fill(&mut self) -> Result<(), WireError> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(BUF);
        }
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) | Err(_) => Err(WireError::Io),
            Ok(_) => Ok(()),
        }
    }

    async fn read_head(&mut self) -> Result<(u16, Framing, bool), WireError> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let status = resp.code.unwrap_or(0);
                    let http10 = resp.version == Some(0);
                    let mut framing = Framing::UntilClose;
                    let mut keep = !http10;
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            let n = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<u64>().ok())
                                .ok_or(WireError::Malformed)?;
                            if !matches!(framing, Framing::Chunked) {
                                framing = Framing::Length(n);
                            }
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            if contains_token(h.value, b"chunked") {
                                framing = Framing::Chunked;
                            }
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            if contains_token(h.value, b"close") {
                                keep = false;
                            } else if contains_token(h.value, b"keep-alive") {
                                keep = true;
                            }
                        }
                    }
                    // 1xx, 204 and 304 answers carry no body.
                    if (100..200).contains(&status) || status == 204 || status == 304 {
                        framing = Framing::Length(0);
                    }
                    self.buf.advance(len);
                    return Ok((status, framing, keep));
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(WireError::Malformed);
                    }
                }
                Err(_) => return Err(WireError::Malformed),
            }
            self.fill().await?;
        }
    }

    /// Discards `n` body bytes.
    async fn skip(&mut self, mut n: u64) -> Result<(), WireError> {
        loop {
            let have = (self.buf.len() as u64).min(n);
            self.buf.advance(have as usize);
            n -= have;
            if n == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }

    async fn skip_chunked(&mut self) -> Result<(), WireError> {
        loop {
            let (used, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete(c)) => break c,
                    Ok(httparse::Status::Partial) => self.fill().await?,
                    Err(_) => return Err(WireError::Malformed),
                }
            };
            self.buf.advance(used);
            if size == 0 {
                return self.skip_trailers().await;
            }
            self.skip(size).await?;
            self.expect_crlf().await?;
        }
    }

    /// After the last chunk: optional trailer lines, then an empty line.
    async fn skip_trailers(&mut self) -> Result<(), WireError> {
        loop {
            match self.buf.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buf.advance(2);
                    return Ok(());
                }
                Some(i) => self.buf.advance(i + 2),
                None => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(WireError::Malformed);
                    }
                    self.fill().await?;
                }
            }
        }
    }

    async fn expect_crlf(&mut self) -> Result<(), WireError> {
        while self.buf.len() < 2 {
            self.fill().await?;
        }
        if &self.buf[..2] != b"\r\n" {
            return Err(WireError::Malformed);
        }
        self.buf.advance(2);
        Ok(())
    }

    async fn skip_to_eof(&mut self) -> Result<(), WireError> {
        loop {
            self.buf.clear();
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(_) => return Err(WireError::Io),
            }
        }
    }
}

/// Whether a comma-separated header value holds `token` (any case).
fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Serves `answers` in order, one per request read, on one connection.
    async fn serve(answers: Vec<&'static [u8]>) -> (Conn, tokio::task::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for a in answers {
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(a).await.unwrap();
            }
        });
        let c = Conn::new(TcpStream::connect(addr).await.unwrap());
        (c, server)
    }

    const REQ: &[u8] = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";

    #[tokio::test]
    async fn length_and_chunked_answers_reuse_the_connection() {
        let (mut c, server) = serve(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n\r\n\r\n0\r\nx-t: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ])
        .await;
        let ok = Answer {
            status: 200,
            reusable: true,
        };
        assert_eq!(c.exchange(REQ).await, Ok(ok));
        assert_eq!(
            c.exchange(REQ).await,
            Ok(Answer {
                status: 503,
                reusable: true
            })
        );
        assert_eq!(
            c.exchange(REQ).await,
            Ok(Answer {
                status: 204,
                reusable: true
            })
        );
        server.await.unwrap();
    }

    #[tokio::test]
    async fn close_framing_and_connection_close_end_reuse() {
        let (mut c, _s) = serve(vec![b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nbody"]).await;
        assert_eq!(
            c.exchange(REQ).await,
            Ok(Answer {
                status: 200,
                reusable: false
            })
        );
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error_with_its_status() {
        let (mut c, _s) = serve(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort"]).await;
        assert_eq!(c.exchange(REQ).await, Err((200, WireError::Io)));
    }

    #[tokio::test]
    async fn garbage_is_malformed() {
        let (mut c, _s) = serve(vec![b"SSH-2.0-OpenSSH\r\n\r\n"]).await;
        assert_eq!(c.exchange(REQ).await, Err((0, WireError::Malformed)));
    }

    #[test]
    fn tokens_are_matched_whole_and_case_blind() {
        assert!(contains_token(b"gzip, Chunked", b"chunked"));
        assert!(!contains_token(b"unchunked", b"chunked"));
    }
}
