//! Parsing a typical streamed answer: 100 content chunks in DeepSeek's SSE
//! format (a role chunk first, a final chunk with `finish_reason` and
//! `usage`, keep-alive comments, `data: [DONE]`), with the client's own SSE
//! parser. Measured whole (one buffer) and split into 64-byte reads (a slow
//! network's worst case), framing alone and framing plus the JSON decode of
//! each chunk into `ChatChunk`, which is what `ChatStream` does per event.
//!
//! `cargo bench -p resilient-client --bench sse`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use resilient_client::ChatChunk;

// The parser is crate-private; the bench compiles the same source file so it
// measures exactly the code `ChatStream` runs, without widening the API.
#[allow(dead_code)]
#[path = "../src/sse.rs"]
mod sse;

use sse::{SseEvent, SseParser};

const CHUNKS: usize = 100;

fn body() -> Vec<u8> {
    let head = r#"{"id":"6f4946d3-cb7f-8784-e758-8949f2a354cf","object":"chat.completion.chunk","created":1795689151,"model":"deepseek-v4-flash","system_fingerprint":"fp_mock_v4_0425","choices":[{"index":0,"delta":"#;
    let tail = r#","logprobs":null,"finish_reason":null}]}"#;
    let mut s = String::new();
    s.push_str(&format!(
        "data: {head}{{\"role\":\"assistant\",\"content\":\"\"}}{tail}\n\n"
    ));
    for i in 0..CHUNKS {
        if i % 25 == 0 {
            s.push_str(": keep-alive\n\n");
        }
        s.push_str(&format!(
            "data: {head}{{\"content\":\" token{i}\"}}{tail}\n\n"
        ));
    }
    s.push_str(&format!(
        "data: {head}{{\"content\":\"\"}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":10,\"completion_tokens\":{CHUNKS},\"total_tokens\":{},\"prompt_cache_hit_tokens\":0,\"prompt_cache_miss_tokens\":10}}}}\n\n",
        CHUNKS + 10
    ));
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

/// Feeds `body` in `piece`-byte reads; returns (data events, tokens decoded).
fn parse(body: &[u8], piece: usize, decode: bool) -> (usize, usize) {
    let mut p = SseParser::default();
    let (mut events, mut tokens) = (0, 0);
    for part in body.chunks(piece) {
        p.push(part);
        while let Some(ev) = p.next_event().expect("valid SSE") {
            match ev {
                SseEvent::Data(d) => {
                    events += 1;
                    if decode {
                        let c: ChatChunk = serde_json::from_str(&d).expect("valid chunk");
                        tokens += usize::from(c.has_token());
                    }
                }
                SseEvent::Done => return (events, tokens),
            }
        }
    }
    (events, tokens)
}

fn bench_sse(c: &mut Criterion) {
    let body = body();
    // The fixture itself is checked: 1 role chunk + 100 tokens + 1 final.
    assert_eq!(parse(&body, body.len(), true), (CHUNKS + 2, CHUNKS));
    assert_eq!(parse(&body, 64, false).0, CHUNKS + 2);
    let mut g = c.benchmark_group("sse_100_chunks");
    g.throughput(Throughput::Bytes(body.len() as u64));
    for (name, piece, decode) in [
        ("frame_whole", body.len(), false),
        ("frame_64b_reads", 64, false),
        ("frame_and_decode_whole", body.len(), true),
        ("frame_and_decode_64b_reads", 64, true),
    ] {
        g.bench_function(name, |b| b.iter(|| parse(black_box(&body), piece, decode)));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // plotters has no system fonts here: text results only.
    config = Criterion::default().without_plots();
    targets = bench_sse
}
criterion_main!(benches);
