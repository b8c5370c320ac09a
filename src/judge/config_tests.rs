//! Tests of the verdict thresholds: defaults, YAML sections, overrides and
//! validation.

use super::*;

#[test]
fn defaults_are_the_documented_ones_and_valid() {
    let c = VerdictConfig::default();
    c.validate().unwrap();
    assert_eq!(c.call_idle.get(), Duration::from_secs(120));
    assert_eq!(
        c.ignored_retry_after.tolerance.get(),
        Duration::from_millis(50)
    );
    assert_eq!(c.no_backoff.bound.get(), Duration::from_millis(10));
    assert_eq!(c.synchronized_retries.min_calls, 10);
    assert_eq!(c.synchronized_retries.max_cv, 0.05);
    assert_eq!(
        c.synchronized_retries.slot.get(),
        Duration::from_millis(100)
    );
    assert_eq!(c.retry_storm.max_attempts, 5);
    assert_eq!(c.retry_storm.share.get(), 0.5);
    assert_eq!(c.storm_window_s(), 10);
    assert_eq!(c.retry_storm.min_first_attempts, 20);
    assert_eq!(c.no_timeout_on_stall.bound.get(), Duration::from_secs(60));
    assert_eq!(c.no_failover.window.get(), Duration::from_secs(1));
    assert_eq!(c.kept_sending_to_failing_node.ratio.get(), 0.5);
    assert_eq!(c.failing_span_s(), 5);
    assert_eq!(c.kept_sending_to_failing_node.keep.get(), 0.8);
}

#[test]
fn yaml_sections_take_human_units_and_refuse_unknown_fields() {
    let c: VerdictConfig = serde_yaml::from_str(
        "call_idle: 30s\nno_backoff: { bound: 25ms }\nretry_storm: { share: 30%, window: 5s }",
    )
    .unwrap();
    assert_eq!(c.call_idle.get(), Duration::from_secs(30));
    assert_eq!(c.no_backoff.bound.get(), Duration::from_millis(25));
    assert!((c.retry_storm.share.get() - 0.3).abs() < 1e-12);
    assert_eq!(c.storm_window_s(), 5);
    // Untouched sections keep their defaults.
    assert_eq!(c.retry_storm.max_attempts, 5);
    let e = serde_yaml::from_str::<VerdictConfig>("no_backof: { bound: 1ms }").unwrap_err();
    assert!(e.to_string().contains("unknown field `no_backof`"), "{e}");
    let e = serde_yaml::from_str::<VerdictConfig>("no_backoff: { bound: 10 }").unwrap_err();
    assert!(e.to_string().contains("add a unit: `10s`"), "{e}");
}

#[test]
fn overrides_set_one_threshold_and_are_checked_like_the_file() {
    let mut c = VerdictConfig::default();
    c.set("retry_storm.max_attempts=6").unwrap();
    c.set("no_backoff.bound=20ms").unwrap();
    c.set("call_idle=90s").unwrap();
    c.set("kept_sending_to_failing_node.ratio=75%").unwrap();
    assert_eq!(c.retry_storm.max_attempts, 6);
    assert_eq!(c.no_backoff.bound.get(), Duration::from_millis(20));
    assert_eq!(c.call_idle.get(), Duration::from_secs(90));
    assert_eq!(c.kept_sending_to_failing_node.ratio.get(), 0.75);

    let before = c.clone();
    let e = c.set("retry_storm.max_atempts=6").unwrap_err().to_string();
    assert!(
        e.contains("unknown threshold `max_atempts`") && e.contains("max_attempts"),
        "{e}"
    );
    let e = c.set("no_backoff.bound=10").unwrap_err().to_string();
    assert!(e.contains("bound") && e.contains("unit"), "{e}");
    let e = c.set("retry_storm.window=2.5s").unwrap_err().to_string();
    assert!(e.contains("whole seconds"), "{e}");
    let e = c.set("no_backoff").unwrap_err().to_string();
    assert!(e.contains("name.field=value"), "{e}");
    let e = c.set("call_idle.x=1").unwrap_err().to_string();
    assert!(e.contains("not a section"), "{e}");
    assert_eq!(c, before, "a refused override leaves the config as it was");
}

#[test]
fn impossible_thresholds_are_refused_with_the_field() {
    let mut c = VerdictConfig::default();
    c.synchronized_retries.min_calls = 1;
    assert!(c.validate().unwrap_err().to_string().contains("min_calls"));
    let mut c = VerdictConfig::default();
    c.synchronized_retries.max_cv = 0.0;
    assert!(c.validate().unwrap_err().to_string().contains("max_cv"));
    let c = VerdictConfig {
        call_idle: ms(500),
        ..VerdictConfig::default()
    };
    assert!(c.validate().unwrap_err().to_string().contains("call_idle"));
    let mut c = VerdictConfig::default();
    c.kept_sending_to_failing_node.span = ms(0);
    assert!(c.validate().unwrap_err().to_string().contains("span"));
}
