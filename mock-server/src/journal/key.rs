//! The call key: which logical call an attempt belongs to, so retries of one
//! call group together whatever client sent them. First rule that applies:
//!
//! 1. `traceparent`: the trace id of a valid W3C `traceparent` header;
//! 2. `header`: the `x-harness-call` header (trimmed, 1 to 128 chars);
//! 3. `marker`: `[call:ID]` in the last user message's text;
//! 4. `fingerprint`: 16 hex of FNV-1a 64 over `METHOD\nPATH\n` and the
//!    canonical body (JSON, keys sorted, no whitespace; raw bytes if the body
//!    is not JSON). Identical prompts merge into one call: a fallback.
//!
//! Pure functions over plain types (header names as `&str`, values as bytes,
//! the body as bytes or a parsed `serde_json::Value`), cheap enough for every
//! request: the two header rules never look at the body, and the body is
//! parsed only when neither applies.

use super::record::{CallFrom, MAX_CALL_LEN};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A call key and the rule that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallKey {
    /// The key written to the journal's `call`.
    pub id: String,
    /// The rule.
    pub from: CallFrom,
}

/// The request body, as the caller happens to have it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    /// The bytes received (parsed here only if the header rules fail).
    Raw(&'a [u8]),
    /// Already parsed JSON.
    Json(&'a Value),
}

/// The key of one request. `headers` yields (name, value) pairs, e.g. a
/// `&http::HeaderMap`; names match case-insensitively and the first
/// `traceparent` / `x-harness-call` wins.
pub fn call_key<I, K, V>(method: &str, path: &str, headers: I, body: Body<'_>) -> CallKey
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    header_key(headers).unwrap_or_else(|| body_key(method, path, body))
}

/// The key from the two header rules (`traceparent`, then `x-harness-call`),
/// or `None` when neither applies. Never looks at the body, so a server can
/// run it on the request path and leave [`body_key`] for later.
pub fn header_key<I, K, V>(headers: I) -> Option<CallKey>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    let mut header_id: Option<String> = None;
    let mut seen_traceparent = false;
    for (name, value) in headers {
        let name = name.as_ref();
        if name.eq_ignore_ascii_case("traceparent") {
            // W3C: a repeated traceparent is not a second chance.
            if !std::mem::replace(&mut seen_traceparent, true) {
                if let Some(id) = trace_id(value.as_ref()) {
                    return Some(CallKey {
                        id: id.to_string(),
                        from: CallFrom::Traceparent,
                    });
                }
            }
        } else if header_id.is_none() && name.eq_ignore_ascii_case("x-harness-call") {
            header_id = harness_call_id(value.as_ref()).map(str::to_string);
        }
    }
    header_id.map(|id| CallKey {
        id,
        from: CallFrom::Header,
    })
}

/// The key from the body rules alone (`[call:ID]` marker, else the
/// fingerprint): what [`call_key`] gives when no header rule applies.
pub fn body_key(method: &str, path: &str, body: Body<'_>) -> CallKey {
    let marker = match body {
        Body::Json(v) => marker_in_json(v).map(str::to_string),
        Body::Raw(bytes) => marker_in_raw(bytes),
    };
    match marker {
        Some(id) => CallKey {
            id,
            from: CallFrom::Marker,
        },
        None => CallKey {
            id: fingerprint(method, path, body),
            from: CallFrom::Fingerprint,
        },
    }
}

/// The trace id of a W3C `traceparent` value, or `None` if the value is not
/// valid: `VV-<32 hex>-<16 hex>-<2 hex>`, lowercase, version not `ff`,
/// trace id and parent id not all zeros; version `00` has exactly these four
/// fields, later versions may append `-...`.
pub fn trace_id(value: &[u8]) -> Option<&str> {
    let v = value.trim_ascii();
    if v.len() < 55 || v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let (version, trace, parent, flags) = (&v[..2], &v[3..35], &v[36..52], &v[53..55]);
    let hex = |s: &[u8]| s.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let zero = |s: &[u8]| s.iter().all(|&c| c == b'0');
    if !(hex(version) && hex(trace) && hex(parent) && hex(flags)) || version == b"ff" {
        return None;
    }
    if zero(trace) || zero(parent) {
        return None;
    }
    if v.len() > 55 && (version == b"00" || v[55] != b'-') {
        return None;
    }
    // All checked bytes are ASCII hex.
    std::str::from_utf8(trace).ok()
}

/// The `x-harness-call` value: trimmed, 1 to 128 characters, UTF-8.
/// Longer values are refused rather than cut, so two calls sharing a long
/// prefix never merge; the next rule applies instead.
pub fn harness_call_id(value: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(value).ok()?.trim();
    (!s.is_empty() && s.chars().count() <= MAX_CALL_LEN).then_some(s)
}

/// The first valid `[call:ID]` marker in `text` (ID: 1 to 64 characters of
/// `A-Z a-z 0-9 _ . : -`).
pub fn marker_id(text: &str) -> Option<&str> {
    const OPEN: &str = "[call:";
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        let after = &rest[i + OPEN.len()..];
        let len = after
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'-'))
            .count();
        if (1..=64).contains(&len) && after.as_bytes().get(len) == Some(&b']') {
            return Some(&after[..len]);
        }
        rest = after;
    }
    None
}

/// The marker in the last user message of a parsed body.
pub fn marker_in_json(body: &Value) -> Option<&str> {
    let last_user = body
        .get("messages")?
        .as_array()?
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?;
    match last_user.get("content")? {
        Value::String(s) => marker_id(s),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .find_map(marker_id),
        _ => None,
    }
}

/// The marker in the last user message of a raw body, reading only the
/// messages (borrowed where the JSON has no escapes).
pub fn marker_in_raw(body: &[u8]) -> Option<String> {
    let parsed: Messages<'_> = serde_json::from_slice(body).ok()?;
    let last_user = parsed
        .messages
        .iter()
        .rev()
        .find(|m| m.role.as_deref() == Some("user"))?;
    last_user
        .content
        .iter()
        .find_map(|t| marker_id(t))
        .map(str::to_string)
}

#[derive(Deserialize)]
struct Messages<'a> {
    #[serde(borrow, default)]
    messages: Vec<Message<'a>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Texts<'a>,
}

/// A message's text pieces: the string content, or the `text` of each part.
#[derive(Default)]
struct Texts<'a>(Vec<Cow<'a, str>>);

impl<'a> std::ops::Deref for Texts<'a> {
    type Target = [Cow<'a, str>];
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Texts<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextsVisitor(std::marker::PhantomData))
    }
}

struct TextsVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextsVisitor<'a> {
    type Value = Texts<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("message content")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Texts<'a>, E> {
        Ok(Texts(vec![Cow::Borrowed(v)]))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Texts<'a>, E> {
        Ok(Texts(vec![Cow::Owned(v.to_string())]))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Texts<'a>, E> {
        Ok(Texts::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Texts<'a>, A::Error> {
        let mut out = Vec::new();
        while let Some(part) = seq.next_element::<Part<'a>>()? {
            out.extend(part.0);
        }
        Ok(Texts(out))
    }
    // Any other shape (number, object) carries no text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Texts<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Texts::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Texts<'a>, E> {
        Ok(Texts::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Texts<'a>, E> {
        Ok(Texts::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Texts<'a>, E> {
        Ok(Texts::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Texts<'a>, E> {
        Ok(Texts::default())
    }
}

/// One content part: its `text` if it has a string one.
struct Part<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Part<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Keep only a map's `text`; any other shape carries none.
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Part<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a content part")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Part<'a>, A::Error> {
                let mut text = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "text" && text.is_none() {
                        text = map.next_value::<Texts<'a>>()?.0.into_iter().next();
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Part(text))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Part<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Part(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Part<'a>, E> {
                Ok(Part(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Part<'a>, E> {
                Ok(Part(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Part<'a>, E> {
                Ok(Part(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Part<'a>, E> {
                Ok(Part(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Part<'a>, E> {
                Ok(Part(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Part<'a>, E> {
                Ok(Part(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// FNV-1a 64: tiny, and the same on every run and platform (std's hasher
/// is randomly keyed per process, which would split calls across runs).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.feed(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A JSON value serialized with object keys sorted, whatever order the map
/// keeps (serde_json's `preserve_order` feature may be on in a build).
struct Canonical<'a>(&'a Value);

impl Serialize for Canonical<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &Canonical(v))?;
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Canonical(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The canonical form of a JSON value: keys sorted, no whitespace.
pub fn canonical_json(v: &Value) -> String {
    serde_json::to_string(&Canonical(v)).expect("a JSON value serializes")
}

/// 16 lowercase hex of FNV-1a 64 over `METHOD\nPATH\n` and the canonical body.
pub fn fingerprint(method: &str, path: &str, body: Body<'_>) -> String {
    let mut h = Fnv::new();
    h.feed(method.as_bytes());
    h.feed(b"\n");
    h.feed(path.as_bytes());
    h.feed(b"\n");
    let parsed;
    let json = match body {
        Body::Json(v) => Some(v),
        Body::Raw(bytes) => {
            parsed = serde_json::from_slice::<Value>(bytes).ok();
            if parsed.is_none() {
                h.feed(bytes);
            }
            parsed.as_ref()
        }
    };
    if let Some(v) = json {
        serde_json::to_writer(&mut h, &Canonical(v)).expect("hashing cannot fail");
    }
    format!("{:016x}", h.0)
}

#[cfg(test)]
#[path = "key_tests.rs"]
mod tests;
