//! Property tests of the harness's parsers, run by `cargo test`: arbitrary
//! bytes and structured mutations of the shipped scenarios through the
//! scenario parser and `validate` (no panic, and every error says where:
//! `file:line:col`), and arbitrary answers through the direct sender's
//! HTTP/1.1 reader (no panic, no hang: it ends when the peer closes).

use std::path::Path;
use std::time::Duration;

use harness::scenario::{self, ScenarioError};
use proptest::prelude::*;

/// `origin:LINE:COL` in front of the message.
fn has_location(e: &ScenarioError, origin: &str) -> bool {
    let text = e.to_string();
    let Some(rest) = text.strip_prefix(origin) else {
        return false;
    };
    let rest = rest.strip_prefix(" (after --set)").unwrap_or(rest);
    let mut parts = rest.splitn(3, ':');
    parts.next() == Some("")
        && parts
            .next()
            .is_some_and(|l| l.parse::<usize>().is_ok_and(|n| n > 0))
        && parts.next().is_some_and(|c| {
            c.split(':')
                .next()
                .is_some_and(|c| c.parse::<usize>().is_ok())
        })
}

fn parse_bytes(bytes: &[u8]) -> Result<(), ScenarioError> {
    let text = scenario::utf8(bytes, "fuzz.yaml")?;
    scenario::parse(text, "fuzz.yaml", &[]).map(|_| ())
}

fn shipped() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v.iter()
        .map(|p| std::fs::read_to_string(p).expect("scenario"))
        .collect()
}

/// One edit of a scenario's text, as a careless hand or a bad merge makes.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Replaces the value after the line's first `:` with the junk.
    ReplaceValue(usize, String),
    /// Inserts raw bytes at a byte offset.
    InsertBytes(usize, Vec<u8>),
    Indent(usize, usize),
}

fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("1e308".to_string()),
        Just("-1e308".to_string()),
        Just(".nan".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("~".to_string()),
        Just("!tag x".to_string()),
        Just("{ uniform: [1e308, 1e308] }".to_string()),
        Just("18446744073709551616".to_string()),
        Just("\"\u{0}\"".to_string()),
        Just("0s".to_string()),
        Just("99999h".to_string()),
        Just("1000000000/s".to_string()),
        "[a-z0-9%/.: ]{0,12}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), junk()).prop_map(|(i, j)| Edit::ReplaceValue(i, j)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..4))
            .prop_map(|(i, b)| Edit::InsertBytes(i, b)),
        (any::<usize>(), 0usize..6).prop_map(|(i, n)| Edit::Indent(i, n)),
    ]
}

fn apply(text: &str, e: &Edit) -> Vec<u8> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.as_bytes().to_vec();
    }
    let n = lines.len();
    match e {
        Edit::DeleteLine(i) => {
            lines.remove(i % n);
        }
        Edit::DuplicateLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Edit::ReplaceValue(i, junk) => {
            let l = &mut lines[i % n];
            if let Some(c) = l.find(':') {
                l.truncate(c + 1);
                l.push(' ');
                l.push_str(junk);
            }
        }
        Edit::Indent(i, k) => {
            let l = &mut lines[i % n];
            *l = format!("{}{}", " ".repeat(*k), l.trim_start());
        }
        Edit::InsertBytes(at, bytes) => {
            let mut b = text.as_bytes().to_vec();
            let at = at % (b.len() + 1);
            b.splice(at..at, bytes.iter().copied());
            return b;
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_say_where(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Err(e) = parse_bytes(&bytes) {
            prop_assert!(has_location(&e, "fuzz.yaml"), "no line:col in `{e}`");
        }
    }

    #[test]
    fn mutated_shipped_scenarios_never_panic_and_errors_say_where(
        which in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..4),
    ) {
        let all = shipped();
        let mut bytes = all[which % all.len()].clone().into_bytes();
        for e in &edits {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            bytes = apply(&text, e);
        }
        if let Err(e) = parse_bytes(&bytes) {
            prop_assert!(
                has_location(&e, "fuzz.yaml"),
                "no line:col in `{e}` after {edits:?}\n{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn arbitrary_answers_end_the_direct_exchange(
        answer in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..600),
            (100u16..600, "[a-zA-Z0-9 :\r\n-]{0,200}", proptest::collection::vec(any::<u8>(), 0..200))
                .prop_map(|(s, h, b)| {
                    let mut v = format!("HTTP/1.1 {s} X\r\n{h}\r\n\r\n").into_bytes();
                    v.extend(b);
                    v
                }),
        ],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let done = rt.block_on(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (mut s, _) = l.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(&answer).await;
                // Then close: the reader must end, whatever it was told.
            });
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut c = harness::sender::direct::wire::Conn::new(stream);
            let r = tokio::time::timeout(
                Duration::from_secs(10),
                c.exchange(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n"),
            )
            .await;
            let _ = server.await;
            r.is_ok()
        });
        prop_assert!(done, "the exchange did not end after the peer closed");
    }
}

/// The experiment, deterministic: every shipped scenario with each
/// line's value replaced by each of a few bad values. Many are refused, and
/// every refusal says where (it was 109 of 432 without `line:col`).
#[test]
fn every_line_of_every_shipped_scenario_with_a_bad_value_is_refused_with_its_place() {
    let bad = [
        "-1",
        "1e308",
        "[]",
        "0s",
        "~",
        "{ uniform: [1e308, 1e308] }",
        "99999h",
    ];
    let (mut tried, mut refused) = (0, 0);
    for text in shipped() {
        for i in 0..text.lines().count() {
            for b in bad {
                let bytes = apply(&text, &Edit::ReplaceValue(i, b.to_string()));
                tried += 1;
                if let Err(e) = parse_bytes(&bytes) {
                    refused += 1;
                    assert!(
                        has_location(&e, "fuzz.yaml"),
                        "no line:col in `{e}` for\n{}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
        }
    }
    eprintln!("{refused} of {tried} mutated scenarios refused, every one with file:line:col");
    assert!(tried > 400, "{tried}");
    assert!(refused * 3 > tried, "only {refused} of {tried} refused");
}
