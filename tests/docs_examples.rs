//! Every YAML example in the READMEs (and docs/) goes through the parser it
//! documents, so documentation and parser cannot drift apart again
//! (regression: the README's `shape: {ramp: {...}}` was refused by the
//! parser for as long as it was documented).
//!
//! A ```yaml block is, by its top-level keys: a scenario (`load:`), a fake
//! server section (`server:`, or a bare one), or the judge's `verdicts:`.
//! A block that is deliberately none of these (a CI workflow, a fragment)
//! starts with the line `# not a scenario: <what it is>`, and then only has
//! to be valid YAML.

use std::path::Path;

const DOCS: &[&str] = &[
    "README.md",
    "mock-server/README.md",
    "client/README.md",
    "units/README.md",
    "docs/journal.md",
    "docs/summary-schema.md",
    "docs/benchmarks.md",
];

/// The ```yaml blocks of a Markdown text: (first line number, text).
fn yaml_blocks(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in md.lines().enumerate() {
        match &mut current {
            None if line.trim_start().starts_with("```yaml") => {
                current = Some((i + 2, String::new()))
            }
            Some(_) if line.trim_start().starts_with("```") => {
                out.extend(current.take());
            }
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    out
}

fn check_block(origin: &str, text: &str) -> Result<&'static str, String> {
    if text.trim_start().starts_with("# not a scenario:") {
        return serde_yaml::from_str::<serde_yaml::Value>(text)
            .map(|_| "plain YAML")
            .map_err(|e| e.to_string());
    }
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let has = |k: &str| value.as_mapping().is_some_and(|m| m.contains_key(k));
    if has("load") {
        harness::scenario::parse(text, origin, &[])
            .map(|_| "scenario")
            .map_err(|e| e.to_string())
    } else if has("under_test") {
        let u: harness::scenario::under_test::UnderTest =
            serde_yaml::from_value(value["under_test"].clone()).map_err(|e| e.to_string())?;
        u.validate("under_test").map(|()| "under_test")
    } else if has("verdicts") {
        let v = value["verdicts"].clone();
        let c: harness::judge::VerdictConfig =
            serde_yaml::from_value(v).map_err(|e| e.to_string())?;
        c.validate().map(|()| "verdicts").map_err(|e| e.to_string())
    } else {
        mock_server::parse_server_config(text, origin)
            .map(|_| "server section")
            .map_err(|e| e.to_string())
    }
}

#[test]
fn every_yaml_block_in_the_docs_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut failures = Vec::new();
    for doc in DOCS {
        let Ok(md) = std::fs::read_to_string(root.join(doc)) else {
            continue;
        };
        for (line, text) in yaml_blocks(&md) {
            let origin = format!("{doc}:{line}");
            match check_block(&origin, &text) {
                Ok(_) => checked += 1,
                Err(e) => failures.push(format!("{origin}: {e}\n{text}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    assert!(checked >= 3, "only {checked} YAML blocks found");
}

/// The `load.shape` row of the README's scenario reference lists every
/// shape form; each must parse as written.
#[test]
fn every_documented_shape_form_parses() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `load.shape`"))
        .expect("the README documents load.shape");
    let forms: Vec<&str> = row
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with('{'))
        .collect();
    assert!(forms.len() >= 5, "{row}");
    for form in forms {
        // `R` and `D` stand for a rate and a duration in the table.
        let yaml = form
            .replace(", ...", "")
            .replace(": R", ": 20/s")
            .replace(": D", ": 2s");
        let text = format!("name: s\nduration: 4s\nload:\n  shape: {yaml}\n");
        let s = harness::scenario::parse(&text, "README load.shape", &[])
            .unwrap_or_else(|e| panic!("`{form}` as `{yaml}`: {e}"));
        assert!(s.load.shape().is_ok(), "{form}");
    }
}

/// The map form from `--set` too: `--set load.shape.poisson=50/s`.
#[test]
fn a_shape_can_be_set_from_the_command_line() {
    let text = "name: s\nduration: 2s\nload:\n  shape: { constant: 5/s }\n";
    let s = harness::scenario::parse(
        text,
        "t",
        &["load.shape={ramp: {from: 1/s, to: 9/s}}".into()],
    )
    .expect("ramp");
    assert!(matches!(
        s.load.shape(),
        Ok(harness::scenario::load::Shape::Ramp { .. })
    ));
    let text = "name: s\nduration: 2s\nload: {}\n";
    let s =
        harness::scenario::parse(text, "t", &["load.shape.poisson=50/s".into()]).expect("poisson");
    assert!(matches!(
        s.load.shape(),
        Ok(harness::scenario::load::Shape::Poisson(_))
    ));
    let e = harness::scenario::parse(text, "t", &["load.shape.zigzag=50/s".into()])
        .expect_err("unknown shape");
    assert!(e.to_string().contains("zigzag"), "{e}");
}
