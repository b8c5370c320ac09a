use super::*;
use crate::config::parse_yaml;
use crate::config::ServerConfig;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn set(yaml: &str) -> FaultSet {
    let c: ServerConfig = parse_yaml(yaml, "t").unwrap();
    FaultSet::new(&c.faults, &c.phases)
}

#[test]
fn rate_is_respected_statistically() {
    let s = set("faults: [ {status: {code: 503, rate: 30%}} ]");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n = 20_000;
    let fired = (0..n)
        .filter(|_| {
            s.decide(Duration::ZERO, 0, false, &mut rng)
                .response
                .is_some()
        })
        .count();
    let p = fired as f64 / n as f64;
    // 4.5 sigma of a binomial(20000, 0.3) is about 0.0146.
    assert!((0.285..0.315).contains(&p), "p = {p}");
}

#[test]
fn latency_stacks_and_first_response_fault_wins() {
    let s = set(
        "faults:\n  - latency: {delay: 100ms}\n  - latency: {delay: 50ms}\n  - latency: {delay: 7ms, on: first_token}\n  - status: {code: 429}\n  - reset: {}\n",
    );
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let d = s.decide(Duration::ZERO, 0, true, &mut rng);
    assert_eq!(d.header_delay, Duration::from_millis(150));
    assert_eq!(d.first_token_delay, Duration::from_millis(7));
    assert!(matches!(d.response, Some(ResponseFault::Status(ref r)) if r.status == 429));
    let kinds: Vec<_> = d.fired_kinds().collect();
    assert_eq!(kinds, vec![FaultKind::Latency, FaultKind::Status]);
    // Non-streaming: first_token latency lands before the headers.
    let d = s.decide(Duration::ZERO, 0, false, &mut rng);
    assert_eq!(d.header_delay, Duration::from_millis(157));
}

#[test]
fn stream_faults_skip_json_requests() {
    let s = set("faults: [ {stream_drop: {after_tokens: 3}}, {missing_done: {}}, {slow_drip: {tokens_per_second: 2}} ]");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let d = s.decide(Duration::ZERO, 0, false, &mut rng);
    assert_eq!(d.fired, 0);
    let d = s.decide(Duration::ZERO, 0, true, &mut rng);
    assert_eq!(
        d.stream_end,
        Some(StreamEnd::Drop {
            after: 3,
            mode: DropMode::Fin
        })
    );
    assert!(d.missing_done);
    assert_eq!(d.slow_drip, Some(2.0));
}

#[test]
fn phases_follow_time_and_nodes() {
    let s = set(
        "nodes: 2\nphases:\n  - {name: storm, at: 10s, for: 5s, nodes: [1], faults: [ {status: {code: 503}} ]}\n  - {name: tail, at: 20s, faults: [ {reset: {}} ]}\n",
    );
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let at = |secs: u64, node: usize, rng: &mut ChaCha8Rng| {
        s.decide(Duration::from_secs(secs), node, false, rng)
            .response
    };
    assert!(at(9, 1, &mut rng).is_none());
    assert!(matches!(
        at(10, 1, &mut rng),
        Some(ResponseFault::Status(_))
    ));
    assert!(at(12, 0, &mut rng).is_none(), "phase is scoped to node 1");
    assert!(at(15, 1, &mut rng).is_none(), "phase ends at at + for");
    assert!(matches!(at(3600, 0, &mut rng), Some(ResponseFault::Reset)));
    assert_eq!(
        s.active_phases(Duration::from_secs(11), 1),
        vec!["storm".to_string()]
    );
    assert!(s.active_phases(Duration::from_secs(11), 0).is_empty());
}

#[test]
fn same_seed_same_decisions() {
    let s = set("faults: [ {status: {code: 500, rate: 0.5}}, {latency: {delay: {uniform: [0ms, 100ms]}, rate: 0.5}} ]");
    let run = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..200)
            .map(|_| {
                let d = s.decide(Duration::ZERO, 0, false, &mut rng);
                (d.fired, d.header_delay)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}
