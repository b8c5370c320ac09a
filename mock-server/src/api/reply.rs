//! Successful replies: the per-request generation script (lengths, timing,
//! text seed) and the bytes of a `chat.completion` or of its SSE chunks.
//!
//! Chunks share a per-request JSON prefix built once, so each token costs a
//! couple of small copies.

use super::request::ChatRequest;
use super::text::Words;
use crate::config::{Generation, TokenRate};
use bytes::{BufMut, Bytes, BytesMut};
use rand::Rng;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// DeepSeek-style fingerprint echoed in every reply.
pub const SYSTEM_FINGERPRINT: &str = "fp_mock_v4_0425";

/// Token accounting, DeepSeek field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Reasoning + answer tokens.
    pub completion_tokens: u32,
    /// Sum of both.
    pub total_tokens: u32,
    /// OpenAI-style cache detail.
    pub prompt_tokens_details: PromptDetails,
    /// Reasoning detail (thinking mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek context-cache hits.
    pub prompt_cache_hit_tokens: u32,
    /// DeepSeek context-cache misses.
    pub prompt_cache_miss_tokens: u32,
}

/// `prompt_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PromptDetails {
    /// Same as `prompt_cache_hit_tokens`.
    pub cached_tokens: u32,
}

/// `completion_tokens_details`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompletionDetails {
    /// Tokens of `reasoning_content`.
    pub reasoning_tokens: u32,
}

/// Everything drawn for one successful reply.
#[derive(Debug, Clone)]
pub struct Script {
    /// Completion id (UUID-shaped ASCII).
    pub id: [u8; 36],
    /// Unix seconds.
    pub created: u64,
    /// Echoed model name (one of the served names: no escaping needed).
    pub model: &'static str,
    /// Reasoning tokens (0 without thinking).
    pub reasoning_tokens: u32,
    /// Answer tokens.
    pub content_tokens: u32,
    /// Thinking mode.
    pub thinking: bool,
    /// `stop` or `length`.
    pub finish: &'static str,
    /// Time to first token.
    pub ttft: Duration,
    /// Tokens per second; `None` = unlimited.
    pub tps: Option<f64>,
    /// Seed of the text.
    pub text_seed: u64,
    /// Usage reported at the end.
    pub usage: Usage,
    /// Send `usage` in the final chunk (streams).
    pub include_usage: bool,
}

impl Script {
    /// Draws lengths and timing from the generation model.
    pub fn draw<R: Rng + ?Sized>(req: &ChatRequest, gen: &Generation, rng: &mut R) -> Script {
        // A heavy tail (pareto, lognormal) may draw any length: clamp to what
        // DeepSeek could answer, so one draw cannot exhaust memory.
        let cap = super::request::MAX_OUTPUT_TOKENS as f64;
        let content = gen.output_tokens.sample(rng).round().clamp(1.0, cap) as u32;
        let reasoning = if req.thinking {
            (gen.reasoning_tokens.sample(rng) * req.effort)
                .round()
                .clamp(1.0, cap) as u32
        } else {
            0
        };
        let ttft = gen.ttft.sample(rng);
        let tps = match gen.tokens_per_second {
            TokenRate::Unlimited => None,
            TokenRate::PerSecond(d) => Some(d.sample(rng).max(0.001)),
        };
        let text_seed = rng.next_u64();
        // max_tokens caps reasoning + answer, as DeepSeek counts them.
        let (reasoning, content, finish) = match req.max_tokens {
            Some(max) if reasoning + content > max => {
                let r = reasoning.min(max);
                (r, max - r, "length")
            }
            _ => (reasoning, content, "stop"),
        };
        let hit = ((req.prompt_tokens as f64 * gen.prompt_cache_hit.get()) as u32 / 64) * 64;
        let usage = Usage {
            prompt_tokens: req.prompt_tokens,
            completion_tokens: reasoning + content,
            total_tokens: req.prompt_tokens.saturating_add(reasoning + content),
            prompt_tokens_details: PromptDetails { cached_tokens: hit },
            completion_tokens_details: req.thinking.then_some(CompletionDetails {
                reasoning_tokens: reasoning,
            }),
            prompt_cache_hit_tokens: hit,
            prompt_cache_miss_tokens: req.prompt_tokens - hit,
        };
        Script {
            id: uuid_like(text_seed),
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            model: req.model,
            reasoning_tokens: reasoning,
            content_tokens: content,
            thinking: req.thinking,
            finish,
            ttft,
            tps,
            text_seed,
            usage,
            include_usage: req.include_usage,
        }
    }

    /// Time to produce every token after the first (non-streaming replies wait it out).
    pub fn generation_time(&self) -> Duration {
        let tokens = self.reasoning_tokens + self.content_tokens;
        match self.tps {
            Some(tps) if tokens > 1 => {
                Duration::from_secs_f64(((tokens - 1) as f64 / tps).min(86_400.0))
            }
            _ => Duration::ZERO,
        }
    }
}

/// A UUID-shaped id (DeepSeek's ids look like UUIDs), from the text seed.
fn uuid_like(seed: u64) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = seed.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    let nibbles = ((seed as u128) << 64) | b as u128;
    let mut out = [b'-'; 36];
    let mut pos = 0;
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            pos += 1;
        }
        out[pos] = HEX[((nibbles >> (124 - 4 * i)) & 0xf) as usize];
        pos += 1;
    }
    out
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes `usage` with the same keys and order as its `Serialize` impl, by
/// hand: this runs for every reply.
pub fn write_usage(out: &mut Vec<u8>, u: &Usage) {
    out.extend_from_slice(b"{\"prompt_tokens\":");
    push_u64(out, u.prompt_tokens.into());
    out.extend_from_slice(b",\"completion_tokens\":");
    push_u64(out, u.completion_tokens.into());
    out.extend_from_slice(b",\"total_tokens\":");
    push_u64(out, u.total_tokens.into());
    out.extend_from_slice(b",\"prompt_tokens_details\":{\"cached_tokens\":");
    push_u64(out, u.prompt_tokens_details.cached_tokens.into());
    out.push(b'}');
    if let Some(d) = u.completion_tokens_details {
        out.extend_from_slice(b",\"completion_tokens_details\":{\"reasoning_tokens\":");
        push_u64(out, d.reasoning_tokens.into());
        out.push(b'}');
    }
    out.extend_from_slice(b",\"prompt_cache_hit_tokens\":");
    push_u64(out, u.prompt_cache_hit_tokens.into());
    out.extend_from_slice(b",\"prompt_cache_miss_tokens\":");
    push_u64(out, u.prompt_cache_miss_tokens.into());
    out.push(b'}');
}

fn push_words(out: &mut Vec<u8>, words: &mut Words, n: u32, reasoning: bool) {
    for _ in 0..n {
        out.extend_from_slice(words.next(reasoning).as_bytes());
    }
}

/// The full non-streaming `chat.completion` body, written by hand from
/// parts that never need escaping (fixed words and model names).
pub fn completion_body(s: &Script) -> Bytes {
    let mut words = Words::new(s.text_seed);
    let tokens = (s.reasoning_tokens + s.content_tokens) as usize;
    let mut out = Vec::with_capacity(640 + tokens * 10);
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(&s.id);
    out.extend_from_slice(b"\",\"object\":\"chat.completion\",\"created\":");
    push_u64(&mut out, s.created);
    out.extend_from_slice(b",\"model\":\"");
    out.extend_from_slice(s.model.as_bytes());
    out.extend_from_slice(
        b"\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"",
    );
    // Reasoning comes first in generation order, so draw it first.
    let mut reasoning = Vec::new();
    if s.thinking {
        push_words(&mut reasoning, &mut words, s.reasoning_tokens, true);
    }
    push_words(&mut out, &mut words, s.content_tokens, false);
    out.push(b'"');
    if s.thinking {
        out.extend_from_slice(b",\"reasoning_content\":\"");
        out.extend_from_slice(&reasoning);
        out.push(b'"');
    }
    out.extend_from_slice(b"},\"logprobs\":null,\"finish_reason\":\"");
    out.extend_from_slice(s.finish.as_bytes());
    out.extend_from_slice(b"\"}],\"usage\":");
    write_usage(&mut out, &s.usage);
    out.extend_from_slice(b",\"system_fingerprint\":\"");
    out.extend_from_slice(SYSTEM_FINGERPRINT.as_bytes());
    out.extend_from_slice(b"\"}");
    Bytes::from(out)
}

/// Builds the SSE lines of one stream.
#[derive(Debug, Clone)]
pub struct ChunkWriter {
    prefix: Bytes,
    thinking: bool,
}

const SUFFIX: &[u8] = b",\"logprobs\":null,\"finish_reason\":null}]}\n\n";

/// `: keep-alive` SSE comment.
pub const KEEP_ALIVE_SSE: &[u8] = b": keep-alive\n\n";
/// The stream terminator.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

impl ChunkWriter {
    /// Pre-serializes the shared head of every chunk.
    pub fn new(s: &Script) -> Self {
        let prefix = format!(
            "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":\"{}\",\"system_fingerprint\":\"{}\",\"choices\":[{{\"index\":0,\"delta\":",
            String::from_utf8_lossy(&s.id),
            s.created,
            s.model,
            SYSTEM_FINGERPRINT
        );
        ChunkWriter {
            prefix: Bytes::from(prefix),
            thinking: s.thinking,
        }
    }

    fn chunk(&self, delta: &[&[u8]], tail: &[u8]) -> Bytes {
        let len = self.prefix.len() + delta.iter().map(|d| d.len()).sum::<usize>() + tail.len();
        let mut b = BytesMut::with_capacity(len);
        b.put_slice(&self.prefix);
        for d in delta {
            b.put_slice(d);
        }
        b.put_slice(tail);
        b.freeze()
    }

    /// First chunk: the role, empty content.
    pub fn role(&self) -> Bytes {
        let delta: &[u8] = if self.thinking {
            br#"{"role":"assistant","content":null,"reasoning_content":""}"#
        } else {
            br#"{"role":"assistant","content":""}"#
        };
        self.chunk(&[delta], SUFFIX)
    }

    /// One token of reasoning or answer; `word` must not need JSON escaping.
    pub fn token(&self, word: &str, reasoning: bool) -> Bytes {
        let (open, close): (&[u8], &[u8]) = match (self.thinking, reasoning) {
            (_, true) => (br#"{"content":null,"reasoning_content":""#, b"\"}"),
            (true, false) => (br#"{"content":""#, br#"","reasoning_content":null}"#),
            (false, false) => (br#"{"content":""#, b"\"}"),
        };
        self.chunk(&[open, word.as_bytes(), close], SUFFIX)
    }

    /// Final chunk with `finish_reason` and, when asked, `usage`.
    pub fn finish(&self, s: &Script) -> Bytes {
        let usage = if s.include_usage {
            let mut u = b",\"usage\":".to_vec();
            write_usage(&mut u, &s.usage);
            u
        } else {
            Vec::new()
        };
        let tail = format!(",\"logprobs\":null,\"finish_reason\":\"{}\"}}]", s.finish);
        self.chunk(
            &[br#"{"content":""}"#, tail.as_bytes(), &usage, b"}\n\n"],
            b"",
        )
    }

    /// A chunk whose JSON stops halfway (malformed / truncated faults).
    pub fn broken(&self, word: &str) -> Bytes {
        let full = self.token(word, false);
        let cut = full.len() / 2;
        let mut b = BytesMut::with_capacity(cut + 2);
        b.put_slice(&full[..cut]);
        b.put_slice(b"\n\n");
        b.freeze()
    }
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
