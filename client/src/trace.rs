//! W3C Trace Context: one trace id per logical call, a fresh span id per
//! attempt, sent as `traceparent: 00-<trace>-<span>-01` so server logs can join
//! every retry of one call.

/// A 128-bit trace id (never all zeros, which W3C declares invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceId(u128);

impl TraceId {
    pub(crate) fn random() -> Self {
        TraceId(rand::random::<u128>().max(1))
    }

    /// 32 lower-case hex digits.
    pub(crate) fn to_hex(self) -> String {
        let mut s = String::with_capacity(32);
        push_hex(&mut s, self.0, 32);
        s
    }

    /// `traceparent` value for a new attempt span.
    pub(crate) fn traceparent(self) -> String {
        let span = rand::random::<u64>().max(1);
        let mut s = String::with_capacity(55);
        s.push_str("00-");
        push_hex(&mut s, self.0, 32);
        s.push('-');
        push_hex(&mut s, u128::from(span), 16);
        s.push_str("-01");
        s
    }
}

/// Appends the low `digits` hex digits of `v`, zero-padded; cheaper than
/// `format!` on the per-attempt path.
fn push_hex(s: &mut String, v: u128, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        s.push(char::from(HEX[((v >> (i * 4)) & 0xf) as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_has_w3c_shape_and_keeps_the_trace_id() {
        let t = TraceId::random();
        let a = t.traceparent();
        let b = t.traceparent();
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], t.to_hex());
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        assert!(a
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b, "every attempt gets a new span id");
        assert_eq!(&b[3..35], t.to_hex());
        assert_eq!(TraceId(0xab).to_hex(), format!("{:032x}", 0xab));
    }
}
