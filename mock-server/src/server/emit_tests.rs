use super::*;
use crate::api::request::parse;
use crate::config::{Generation, RetiredModels};
use crate::plan::Decision;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn script(tokens: u32, tps: f64) -> Script {
    let req = parse(
        br#"{"model":"deepseek-v4-flash","stream":true,"messages":[{"role":"user","content":"x"}]}"#,
        RetiredModels::Accept,
    )
    .unwrap();
    let yaml = format!("ttft: 100ms\ntokens_per_second: {tps}\noutput_tokens: {tokens}\n");
    let gen: Generation = serde_yaml::from_str(&yaml).unwrap();
    Script::draw(&req, &gen, &mut ChaCha8Rng::seed_from_u64(1))
}

/// Runs an emitter on fake time; returns (offset ms, step) pairs, sleeping as asked.
fn run(e: &mut dyn Emitter) -> Vec<(u128, Step)> {
    let t0 = Instant::now();
    let mut now = t0;
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let step = e.next(now);
        match &step {
            Step::SleepUntil(t) => {
                assert!(*t >= now, "time goes forward");
                now = *t;
                continue;
            }
            Step::Send(_) => out.push((now.duration_since(t0).as_millis(), step)),
            _ => {
                out.push((now.duration_since(t0).as_millis(), step));
                break;
            }
        }
    }
    out
}

fn text(step: &Step) -> String {
    match step {
        Step::Send(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn paced_stream_then_done() {
    let mut e = SseEmitter::new(script(3, 10.0), &Decision::default());
    let steps = run(&mut e);
    let times: Vec<u128> = steps.iter().map(|s| s.0).collect();
    // role at ttft, tokens at ttft + i/tps, finish, DONE, end.
    assert_eq!(times, vec![100, 100, 200, 300, 300, 300, 300]);
    assert!(text(&steps[0].1).contains(r#""role":"assistant""#));
    assert!(text(&steps[4].1).contains(r#""finish_reason":"stop""#));
    assert_eq!(text(&steps[5].1), "data: [DONE]\n\n");
    assert_eq!(steps[6].1, Step::End);
}

#[test]
fn drop_after_n_tokens() {
    let d = Decision {
        stream_end: Some(StreamEnd::Drop {
            after: 2,
            mode: DropMode::Rst,
        }),
        ..Decision::default()
    };
    let steps = run(&mut SseEmitter::new(script(10, 1000.0), &d));
    let tokens = steps
        .iter()
        .filter(|s| {
            text(&s.1).contains(r#""content":" "#) || text(&s.1).contains(r#""content":"t"#)
        })
        .count();
    assert_eq!(steps.len(), 4, "role + 2 tokens + close: {steps:?}");
    assert!(tokens <= 2);
    assert_eq!(steps.last().unwrap().1, Step::Close { rst: true });
}

#[test]
fn queue_wait_sends_keep_alives_then_answers() {
    let d = Decision {
        response: Some(ResponseFault::QueueWait {
            wait: Duration::from_millis(2500),
            then: AfterWait::Answer,
            every: Duration::from_secs(1),
        }),
        ..Decision::default()
    };
    let steps = run(&mut SseEmitter::new(script(1, 10.0), &d));
    assert_eq!(text(&steps[0].1), ": keep-alive\n\n");
    assert_eq!((steps[0].0, steps[1].0), (1000, 2000));
    assert!(text(&steps[2].1).contains("role"));
    assert_eq!(steps[2].0, 2600, "ttft counts after the wait");
}

#[test]
fn malformed_and_missing_done() {
    let d = Decision {
        malformed_after: Some(1),
        missing_done: true,
        ..Decision::default()
    };
    let steps = run(&mut SseEmitter::new(script(2, 1000.0), &d));
    let bodies: Vec<String> = steps.iter().map(|s| text(&s.1)).collect();
    let broken = bodies
        .iter()
        .filter(|b| {
            b.starts_with("data: ")
                && serde_json::from_str::<serde_json::Value>(b[6..].trim()).is_err()
        })
        .count();
    assert_eq!(broken, 1);
    assert!(!bodies.iter().any(|b| b.contains("[DONE]")));
    assert_eq!(steps.last().unwrap().1, Step::End);
}

#[test]
fn json_queue_close_and_cut() {
    let mut e = JsonEmitter::queued(Duration::from_millis(300), Duration::from_secs(1), None);
    let steps = run(&mut e);
    assert_eq!(steps.iter().filter(|s| text(&s.1) == "\n").count(), 3);
    assert_eq!(steps.last().unwrap().1, Step::Close { rst: false });
    let full = Bytes::from_static(b"{\"a\":12345678}");
    let steps = run(&mut JsonEmitter::cut(&full));
    assert_eq!(text(&steps[0].1), "{\"a\":12");
    assert_eq!(steps[1].1, Step::Close { rst: false });
}
