//! Every error example in the READMEs is what the binary (or the library)
//! prints: each `$ harness validate FILE` block is run on the file below
//! and compared byte for byte, and each quoted message is produced.

use std::path::PathBuf;
use std::process::Command;

/// Files the README examples validate, by the name they use.
const FILES: &[(&str, &str)] = &[
    (
        "bad.yaml",
        "name: bad
duration: 10s
load:
  rate: 10/s
server:
  nodes: 2
  phases:
    - name: flaky
      at: 2s
      for: 5s
      faults:
      - status:
          code: 503
          rate: 1.5
",
    ),
    ("x.yaml", "name: x\nload: { rate: 10/s }\nduration: 90\n"),
    (
        "scenario.yaml",
        "name: retry-check
duration: 10s
load:
  rate: 10/s
client:
  timeouts:
    connect: 500ms
    total: 5s
  breaker:
    window_size: 10
  bulkhead:
    max_concurrent: 8
  retry:
    max_attempts: 0
",
    ),
];

fn readme(path: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `harness validate NAME` on `FILES[NAME]`, run where the file is, so the
/// error names it as the README does: the first line of stderr.
fn validate(name: &str) -> String {
    let text = FILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("a README validates `{name}`: add it to FILES"))
        .1;
    let dir = std::env::temp_dir().join(format!("harness-readme-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["validate", name])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{name} is refused");
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn every_validate_example_in_the_readmes_is_what_the_binary_prints() {
    let mut seen = 0;
    for path in [
        "README.md",
        "client/README.md",
        "mock-server/README.md",
        "units/README.md",
    ] {
        let text = readme(path);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = line.strip_prefix("$ harness validate ") else {
                continue;
            };
            let want = lines[i + 1];
            assert_eq!(
                validate(name.trim()),
                want,
                "{path}, example at line {}",
                i + 1
            );
            seen += 1;
        }
    }
    assert!(seen >= 2, "{seen} examples found");
}

/// Inline quotes of messages (in running text, not `$` blocks).
#[test]
fn quoted_messages_are_produced() {
    let units = readme("units/README.md");
    assert!(units.contains(&format!(
        "``{}``",
        validate("x.yaml").trim_start_matches("error: ")
    )));

    let top = readme("README.md");
    let quoted = "must be in [0, 1], got 50: write `50%` for a percentage";
    assert!(top.contains(&format!("``{quoted}``")));
    let e = harness::scenario::parse(
        "name: p\nduration: 1s\nload: { rate: 1/s }\nserver: { faults: [ { reset: { rate: 50 } } ] }\n",
        "p.yaml",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains(quoted), "{e}");

    let client = readme("client/README.md");
    let quoted = "timeouts.total: add a unit: `30s`\n(durations are written 250ms, 2s, 1m 30s)";
    assert!(
        client.contains(&format!("``{quoted}``")),
        "client README quote"
    );
    let e = serde_yaml::from_str::<resilient_client::ClientConfig>("timeouts: { total: 30 }")
        .unwrap_err()
        .to_string();
    assert!(e.contains(&quoted.replace('\n', " ")), "{e}");

    let quoted = format!(
        "`{}`",
        validate("scenario.yaml").trim_start_matches("error: ")
    );
    assert!(
        client.replace('\n', " ").contains(&quoted),
        "client README quotes {quoted}"
    );
}
