//! Tests of the call-key rules: each rule alone, their precedence, and the
//! fingerprint's stability.

use super::*;
use serde_json::json;

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const NO_HEADERS: [(&str, &str); 0] = [];

fn body_with(text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": "deepseek-v4-flash",
        "messages": [
            {"role": "system", "content": "[call:sys-not-this]"},
            {"role": "user", "content": text},
        ]
    }))
    .unwrap()
}

#[test]
fn a_valid_traceparent_gives_its_trace_id() {
    assert_eq!(
        trace_id(TP.as_bytes()),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    // Surrounding whitespace is HTTP's optional whitespace, not part of it.
    assert!(trace_id(format!("  {TP} ").as_bytes()).is_some());
    // A later version may append fields after a dash.
    let v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
    assert!(trace_id(v1.as_bytes()).is_some());
}

#[test]
fn invalid_traceparents_are_refused() {
    let bad = [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
    ];
    for b in bad {
        assert_eq!(trace_id(b.as_bytes()), None, "{b:?}");
    }
    // Non-UTF-8 bytes in the value cannot pass the hex checks.
    let mut raw = TP.as_bytes().to_vec();
    raw[5] = 0xff;
    assert_eq!(trace_id(&raw), None);
}

#[test]
fn harness_call_header_is_trimmed_and_bounded() {
    assert_eq!(harness_call_id(b"  job-7/call-3 "), Some("job-7/call-3"));
    assert_eq!(harness_call_id(b"   "), None);
    assert_eq!(
        harness_call_id("x".repeat(128).as_bytes()).map(str::len),
        Some(128)
    );
    assert_eq!(harness_call_id("x".repeat(129).as_bytes()), None);
    assert_eq!(harness_call_id(&[0xff, 0xfe]), None);
}

#[test]
fn markers_follow_the_id_alphabet_and_length() {
    assert_eq!(
        marker_id("hello [call:c-17.a_b:2] world"),
        Some("c-17.a_b:2")
    );
    assert_eq!(marker_id("[call:]"), None);
    assert_eq!(marker_id("[call:has space]"), None);
    assert_eq!(marker_id("[call:unterminated"), None);
    assert_eq!(
        marker_id(&format!("[call:{}]", "a".repeat(64))).map(str::len),
        Some(64)
    );
    assert_eq!(marker_id(&format!("[call:{}]", "a".repeat(65))), None);
    // An invalid first marker does not hide a valid later one.
    assert_eq!(marker_id("[call:bad id] then [call:good]"), Some("good"));
    // Multi-byte text around the marker is fine.
    assert_eq!(marker_id("é[call:x]é"), Some("x"));
}

#[test]
fn the_marker_comes_from_the_last_user_message_as_string_or_parts() {
    let v: Value = serde_json::from_slice(&body_with("question [call:q1]")).unwrap();
    assert_eq!(marker_in_json(&v), Some("q1"));
    assert_eq!(
        marker_in_raw(&body_with("question [call:q1]")).as_deref(),
        Some("q1")
    );
    let parts = json!({"messages": [
        {"role": "user", "content": "[call:old]"},
        {"role": "assistant", "content": "[call:assistant]"},
        {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:..."}},
            {"type": "text", "text": "see [call:parts-2]"}
        ]},
        {"role": "assistant", "content": null},
    ]});
    assert_eq!(marker_in_json(&parts), Some("parts-2"));
    let raw = serde_json::to_vec(&parts).unwrap();
    assert_eq!(marker_in_raw(&raw).as_deref(), Some("parts-2"));
    // Escaped JSON strings are decoded before the search.
    let escaped = br#"{"messages":[{"role":"user","content":"\"quoted\" [call:esc\u0031]"}]}"#;
    assert_eq!(marker_in_raw(escaped).as_deref(), Some("esc1"));
    // The last user message has none: no marker, even if an earlier one had.
    let none = json!({"messages": [
        {"role": "user", "content": "[call:earlier]"},
        {"role": "user", "content": "plain"}
    ]});
    assert_eq!(marker_in_json(&none), None);
    assert_eq!(marker_in_raw(&serde_json::to_vec(&none).unwrap()), None);
    assert_eq!(marker_in_raw(b"not json"), None);
    assert_eq!(marker_in_raw(br#"{"messages": 3}"#), None);
}

#[test]
fn precedence_is_traceparent_then_header_then_marker_then_fingerprint() {
    let body = body_with("hi [call:m1]");
    let both = [("x-harness-call", "h1"), ("TraceParent", TP)];
    let k = call_key("POST", "/chat/completions", both, Body::Raw(&body));
    assert_eq!(k.from, CallFrom::Traceparent);
    assert_eq!(k.id, "4bf92f3577b34da6a3ce929d0e0e4736");

    let bad_tp = [("traceparent", "garbage"), ("X-Harness-Call", " h1 ")];
    let k = call_key("POST", "/chat/completions", bad_tp, Body::Raw(&body));
    assert_eq!((k.id.as_str(), k.from), ("h1", CallFrom::Header));

    let k = call_key("POST", "/chat/completions", NO_HEADERS, Body::Raw(&body));
    assert_eq!((k.id.as_str(), k.from), ("m1", CallFrom::Marker));

    let plain = body_with("hi");
    let k = call_key("POST", "/chat/completions", NO_HEADERS, Body::Raw(&plain));
    assert_eq!(k.from, CallFrom::Fingerprint);
    assert_eq!(k.id.len(), 16);
    assert!(k.id.bytes().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn only_the_first_traceparent_counts() {
    let two = [
        ("traceparent", "garbage"),
        ("traceparent", TP),
        ("x-harness-call", "h"),
    ];
    let k = call_key("POST", "/chat/completions", two, Body::Raw(b"{}"));
    assert_eq!((k.id.as_str(), k.from), ("h", CallFrom::Header));
}

#[test]
fn header_maps_can_be_passed_directly() {
    let mut h = http::HeaderMap::new();
    h.insert("traceparent", http::HeaderValue::from_static(TP));
    let k = call_key("POST", "/v1/chat/completions", &h, Body::Raw(b"{}"));
    assert_eq!(k.from, CallFrom::Traceparent);
}

#[test]
fn fingerprints_ignore_key_order_and_whitespace_but_not_content() {
    let a = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false}"#;
    let b = br#"{ "stream" : false, "messages":[{"content":"hi","role":"user"}], "model":"m" }"#;
    let c = br#"{"model":"m","messages":[{"role":"user","content":"hi!"}],"stream":false}"#;
    let fp = |m, p, body: &[u8]| fingerprint(m, p, Body::Raw(body));
    assert_eq!(
        fp("POST", "/chat/completions", a),
        fp("POST", "/chat/completions", b)
    );
    assert_ne!(
        fp("POST", "/chat/completions", a),
        fp("POST", "/chat/completions", c)
    );
    assert_ne!(
        fp("POST", "/chat/completions", a),
        fp("POST", "/v1/chat/completions", a)
    );
    let v: Value = serde_json::from_slice(b).unwrap();
    assert_eq!(
        fp("POST", "/chat/completions", a),
        fingerprint("POST", "/chat/completions", Body::Json(&v))
    );
    assert_eq!(
        canonical_json(&v),
        r#"{"messages":[{"content":"hi","role":"user"}],"model":"m","stream":false}"#
    );
    // Not JSON: the raw bytes are hashed, still 16 hex.
    assert_eq!(fp("POST", "/x", b"\x00\x01").len(), 16);
    assert_ne!(fp("POST", "/x", b"a"), fp("POST", "/x", b"b"));
}

#[test]
fn fingerprints_are_stable_across_runs_and_platforms() {
    // Pinned values: FNV-1a 64 has no per-process key, so these never change.
    // A change here splits every fingerprint-keyed call of old journals.
    assert_eq!(
        fingerprint("", "", Body::Raw(b"")),
        format!("{:016x}", {
            // "\n\n" through FNV-1a 64, by hand.
            let mut h: u64 = 0xcbf29ce484222325;
            for b in *b"\n\n" {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100000001b3);
            }
            h
        })
    );
    assert_eq!(
        fingerprint(
            "POST",
            "/chat/completions",
            Body::Raw(br#"{"b":1,"a":[true,null]}"#)
        ),
        fingerprint(
            "POST",
            "/chat/completions",
            Body::Raw(br#"{"a":[true,null],"b":1}"#)
        ),
    );
    assert_eq!(
        fingerprint("POST", "/chat/completions", Body::Raw(br#"{"a":1}"#)),
        "e7990cac4745718e" // computed independently in Python
    );
}
