//! A load that overran its duration by more than the drain bound makes the
//! generator unhealthy and says so, and its rate is per time taken.

mod report_common;

use std::time::Duration;

use harness::outcome::Arm;
use harness::report::build_summary;
use report_common::*;

#[test]
fn an_overrun_beyond_the_drain_bound_is_a_generator_problem() {
    let dir = temp_dir("overrun");
    let (data, mut info) = run(
        &dir,
        &Synth {
            seconds: 2,
            rate: 50,
            arms: vec![Arm::Resilient],
            stream: false,
        },
    );
    info.duration = Duration::from_secs(2);
    info.drain = Some(Duration::from_secs(3));
    info.load_time = Some(Duration::from_millis(4_900));
    let s = build_summary(&data, &info);
    assert!(
        !s.generator
            .problems
            .iter()
            .any(|p| p.contains("fell behind")),
        "{:?}",
        s.generator.problems
    );
    info.load_time = Some(Duration::from_secs(8));
    let s = build_summary(&data, &info);
    assert!(!s.generator.healthy);
    let p = s
        .generator
        .problems
        .iter()
        .find(|p| p.contains("fell behind"))
        .expect("the overrun is named");
    assert!(p.contains("8.0 s for a 2.0 s run"), "{p}");
    // 100 requests over the 8 s taken, not the 2 s asked.
    assert!(
        (s.load.achieved_rps - 100.0 / 8.0).abs() < 1e-9,
        "{}",
        s.load.achieved_rps
    );
}
