//! Every fault kind, one by one, through parse -> describe -> decide ->
//! count, and its row in the README. `case` matches on the kind without a
//! wildcard, so a kind added to the table without a case does not compile.

use super::*;
use crate::config::{parse_yaml, ServerConfig};
use crate::server::counters::NodeCounters;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// One kind's example: its settings (without `rate` and `nodes`), whether
/// it needs a stream to fire, whether it may be written as a bare word, and
/// what `decide` must have done when it fired.
struct Case {
    settings: &'static str,
    stream: bool,
    bare: bool,
    check: fn(&Decision) -> bool,
}

fn case(kind: FaultKind) -> Option<Case> {
    let (settings, stream, bare, check): (_, _, _, fn(&Decision) -> bool) = match kind {
        FaultKind::Latency => ("delay: 7ms", false, false, |d| {
            d.header_delay == Duration::from_millis(7)
        }),
        FaultKind::Status => ("code: 503, retry_after: 1", false, false, |d| {
            matches!(&d.response, Some(ResponseFault::Status(r))
                if r.status == 503 && r.headers.iter().any(|(k, v)| k == "retry-after" && v == "1"))
        }),
        FaultKind::Reset => ("", false, true, |d| {
            matches!(d.response, Some(ResponseFault::Reset))
        }),
        FaultKind::CloseMidBody => ("", false, true, |d| {
            matches!(d.response, Some(ResponseFault::CloseMidBody))
        }),
        FaultKind::TruncatedJson => ("", false, true, |d| {
            matches!(d.response, Some(ResponseFault::TruncatedJson))
        }),
        FaultKind::Stall => ("", false, true, |d| {
            matches!(d.response, Some(ResponseFault::Stall))
        }),
        FaultKind::StreamDrop => ("after_tokens: 4, mode: rst", true, true, |d| {
            d.stream_end
                == Some(StreamEnd::Drop {
                    after: 4,
                    mode: DropMode::Rst,
                })
        }),
        FaultKind::StreamStall => ("after_tokens: 2", true, true, |d| {
            d.stream_end == Some(StreamEnd::Stall { after: 2 })
        }),
        FaultKind::SlowDrip => ("tokens_per_second: 3", true, false, |d| {
            d.slow_drip == Some(3.0)
        }),
        FaultKind::MalformedChunk => ("after_tokens: 1", true, true, |d| {
            d.malformed_after == Some(1)
        }),
        FaultKind::MissingDone => ("", true, true, |d| d.missing_done),
        FaultKind::QueueWait => (
            "wait: 2s, then: close, keep_alive_every: 250ms",
            false,
            false,
            |d| {
                matches!(d.response, Some(ResponseFault::QueueWait { wait, then: AfterWait::Close, every })
                    if wait == Duration::from_secs(2) && every == Duration::from_millis(250))
            },
        ),
        FaultKind::NodeDown => ("mode: blackhole", false, true, |d| {
            matches!(d.response, Some(ResponseFault::Stall))
        }),
        // No YAML form: the handler counts it (tests/faults_wire.rs).
        FaultKind::Capacity => return None,
    };
    Some(Case {
        settings,
        stream,
        bare,
        check,
    })
}

fn parse(faults: &str) -> Result<ServerConfig, crate::ConfigError> {
    let c: ServerConfig = parse_yaml(&format!("nodes: 2\nfaults:\n  - {faults}\n"), "t.yaml")?;
    c.validate()?;
    Ok(c)
}

#[test]
fn every_kind_parses_describes_decides_and_counts() {
    let mut covered = Vec::new();
    for kind in FaultKind::ALL {
        let Some(case) = case(kind) else { continue };
        let name = kind.name();
        let sep = if case.settings.is_empty() { "" } else { ", " };
        let yaml = format!("{name}: {{{}{sep}rate: 100%, nodes: [1]}}", case.settings);

        // parse: the YAML key is the kind's name; rate and nodes are shared.
        let c = parse(&yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        let f = &c.faults[0];
        assert_eq!(f.kind(), kind, "{yaml}");
        assert_eq!((f.rate.get(), f.nodes.as_deref()), (1.0, Some(&[1][..])));
        assert_eq!(FaultKind::from_name(name), Some(kind));

        // describe
        assert_eq!(f.to_string(), format!("{name} 100% on nodes [1]"));

        // decide: fires on node 1 only, only this kind, with its effect.
        let set = FaultSet::new(&c.faults, &c.phases);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let d = set.decide(Duration::ZERO, 1, case.stream, &mut rng);
        assert_eq!(d.fired_kinds().collect::<Vec<_>>(), vec![kind], "{yaml}");
        assert!((case.check)(&d), "{yaml}: {d:?}");
        let other_node = set.decide(Duration::ZERO, 0, case.stream, &mut rng);
        assert_eq!(other_node.fired, 0, "{yaml} is scoped to node 1");
        if case.stream {
            let json = set.decide(Duration::ZERO, 1, false, &mut rng);
            assert_eq!(json.fired, 0, "{yaml} is stream-only");
        }

        // count: under the kind's name.
        let counters = NodeCounters::default();
        d.fired_kinds().for_each(|k| counters.fault(k));
        let snap = counters.snapshot(1, "127.0.0.1:1".parse().unwrap());
        assert_eq!(
            snap.by_fault.into_iter().collect::<Vec<_>>(),
            vec![(name.to_string(), 1)]
        );

        // The bare word works exactly for kinds whose settings all default.
        match parse(name) {
            Ok(c) => {
                assert!(case.bare, "`- {name}` should need settings");
                assert_eq!(c.faults[0].to_string(), format!("{name} 100%"));
            }
            Err(e) => {
                assert!(!case.bare, "`- {name}`: {e}");
                assert!(
                    e.to_string()
                        .ends_with(&format!("`{name}` needs settings, e.g. `{name}: {{...}}`")),
                    "{e}"
                );
            }
        }
        covered.push(kind);
    }
    let mut scenario_kinds = FaultKind::ALL.to_vec();
    scenario_kinds.retain(|k| *k != FaultKind::Capacity);
    assert_eq!(covered, scenario_kinds);
}

#[test]
fn every_kind_has_a_row_in_the_readme() {
    let readme = include_str!("../README.md");
    for kind in FaultKind::ALL {
        if kind != FaultKind::Capacity {
            let row = format!("\n| `{}` |", kind.name());
            assert!(readme.contains(&row), "README.md has no row for {row:?}");
        }
    }
    assert!(readme.contains("under the fault name `capacity`"));
}
