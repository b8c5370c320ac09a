//! Property tests of the `server:` section and fault parser, run by `cargo
//! test`: arbitrary bytes and generated fault lists (every kind, settings
//! right, wrong or absurd) go through `parse_server_config`, which must not
//! panic, and whose every error names its place: a line and column, or for
//! a check across fields the field path.

use mock_server::config::FaultKind;
use mock_server::{parse_server_config, ConfigError};
use proptest::prelude::*;

fn located(e: &ConfigError) -> bool {
    match e {
        ConfigError::Parse { line, field, .. } => *line > 0 || !field.is_empty(),
        ConfigError::Invalid { field, .. } => !field.is_empty(),
        _ => true,
    }
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("50%".to_string()),
        Just("0.5".to_string()),
        Just("1.5".to_string()),
        Just("-1".to_string()),
        Just("1e308".to_string()),
        Just("503".to_string()),
        Just("200ms".to_string()),
        Just("99999h".to_string()),
        Just("{ uniform: [1e308, 1e308] }".to_string()),
        Just("{ pareto: { scale: 1ms, shape: 0 } }".to_string()),
        Just("[0, 99]".to_string()),
        Just("rst".to_string()),
        Just("~".to_string()),
        Just("[]".to_string()),
        "[a-z0-9%.]{0,8}",
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("rate".to_string()),
        Just("nodes".to_string()),
        Just("code".to_string()),
        Just("delay".to_string()),
        Just("after_tokens".to_string()),
        Just("mode".to_string()),
        Just("wait".to_string()),
        Just("retry_after".to_string()),
        Just("keep_alive_every".to_string()),
        Just("tokens_per_second".to_string()),
        "[a-z_]{1,8}",
    ]
}

fn fault() -> impl Strategy<Value = String> {
    (
        0..FaultKind::ALL.len() + 1,
        proptest::collection::vec((field(), value()), 0..4),
    )
        .prop_map(|(k, settings)| {
            let kind = FaultKind::ALL
                .get(k)
                .map_or("no_such_kind", |k| k.name())
                .to_string();
            let body: Vec<String> = settings.iter().map(|(f, v)| format!("{f}: {v}")).collect();
            format!("  - {kind}: {{ {} }}\n", body.join(", "))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics_and_errors_say_where(text in "[ -~\n]{0,300}") {
        if let Err(e) = parse_server_config(&text, "fuzz.yaml") {
            prop_assert!(located(&e), "no place in `{e}`");
        }
    }

    #[test]
    fn generated_fault_lists_never_panic_and_errors_say_where(
        faults in proptest::collection::vec(fault(), 0..4),
        nodes in 0usize..80,
        output in value(),
    ) {
        let text = format!(
            "server:\n  nodes: {nodes}\n  generation: {{ output_tokens: {output} }}\n  faults:\n{}",
            if faults.is_empty() { "    []\n".to_string() } else { faults.concat() }
        );
        if let Err(e) = parse_server_config(&text, "fuzz.yaml") {
            prop_assert!(located(&e), "no place in `{e}` for\n{text}");
        }
    }
}
