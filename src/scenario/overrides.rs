//! `--set a.b.c=value` overrides applied to the scenario's YAML tree before it
//! is deserialized, so any field can be changed from the command line and is
//! checked exactly like the file itself. List elements are addressed by
//! index, `server.phases[0].at=1s` or `server.phases.0.at=1s`.

use serde_yaml::{Mapping, Value};

/// One step of a `--set` path: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Splits `a.b[0].c` (or `a.b.0.c`) into steps; a number between dots is
/// an index when it meets a list, a key otherwise (see [`apply_set`]).
fn steps(path: &str) -> Result<Vec<Step<'_>>, String> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if key.is_empty() && (out.is_empty() || rest.is_empty()) {
            return Err(
                "the key must be a dotted path such as load.rate or server.phases[0].at".into(),
            );
        }
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while !rest.is_empty() {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("`{part}`: `[` without its `]`"))?;
            let n = &rest[1..close];
            let index = n
                .parse()
                .map_err(|_| format!("`{part}`: `[{n}]` is not a list index (0, 1, ...)"))?;
            out.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(format!("`{part}`: write a `.` after `]`"));
            }
        }
    }
    Ok(out)
}

/// Apply one `dotted.path=value` to `root`. The value is read as YAML, so
/// `5`, `250ms`, `true` and `[a, b]` all work. Missing maps are created;
/// list elements must exist (`[i]` or `.i` with i below the list's length).
pub fn apply_set(root: &mut Value, set: &str) -> Result<(), String> {
    let (path, raw) = set.split_once('=').ok_or_else(|| {
        format!("`{set}` is not key=value; write e.g. client.retry.max_attempts=5")
    })?;
    let path = path.trim();
    let steps = steps(path).map_err(|e| format!("`{set}`: {e}"))?;
    let value: Value = serde_yaml::from_str(raw)
        .map_err(|e| format!("`{set}`: the value is not valid YAML: {e}"))?;
    let mut node = root;
    let mut walked = String::new();
    for step in steps {
        // A number between dots indexes a list it meets.
        let step = match step {
            Step::Key(k) if node.is_sequence() => match k.parse() {
                Ok(i) => Step::Index(i),
                Err(_) => Step::Key(k),
            },
            s => s,
        };
        node = match step {
            Step::Index(i) => {
                let list = node.as_sequence_mut().ok_or_else(|| {
                    format!("`{set}`: `{walked}` is not a list, so `[{i}]` cannot index it")
                })?;
                let len = list.len();
                walked.push_str(&format!("[{i}]"));
                list.get_mut(i).ok_or_else(|| {
                    format!("`{set}`: `{walked}` does not exist: the list has {len} element(s), indices 0..{len}")
                })?
            }
            Step::Key(key) => {
                if node.is_null() {
                    *node = Value::Mapping(Mapping::new());
                }
                let map = node.as_mapping_mut().ok_or_else(|| {
                    let hint = if walked.is_empty() {
                        String::new()
                    } else {
                        format!(" (`{walked}` is not a map)")
                    };
                    format!("`{set}`: `{key}` is inside a value that is not a map{hint}")
                })?;
                if !walked.is_empty() {
                    walked.push('.');
                }
                walked.push_str(key);
                map.entry(Value::String(key.to_string()))
                    .or_insert(Value::Null)
            }
        };
    }
    *node = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_nested_and_creates_maps() {
        let mut v: Value = serde_yaml::from_str("client: {retry: {max_attempts: 3}}").unwrap();
        apply_set(&mut v, "client.retry.max_attempts=5").unwrap();
        apply_set(&mut v, "load.rate=200/s").unwrap();
        assert_eq!(v["client"]["retry"]["max_attempts"], Value::from(5));
        assert_eq!(v["load"]["rate"], Value::from("200/s"));
    }

    #[test]
    fn indexes_list_elements_with_brackets_or_dots() {
        let mut v: Value = serde_yaml::from_str(
            "server: {phases: [{name: a, at: 1s}, {name: b, at: 2s, faults: [{status: {code: 503}}]}]}",
        )
        .unwrap();
        apply_set(&mut v, "server.phases[0].at=5s").unwrap();
        apply_set(&mut v, "server.phases.1.at=7s").unwrap();
        apply_set(&mut v, "server.phases[1].faults[0].status.code=502").unwrap();
        assert_eq!(v["server"]["phases"][0]["at"], Value::from("5s"));
        assert_eq!(v["server"]["phases"][1]["at"], Value::from("7s"));
        assert_eq!(
            v["server"]["phases"][1]["faults"][0]["status"]["code"],
            Value::from(502)
        );
        assert_eq!(v["server"]["phases"][0]["name"], Value::from("a"));
        // A number meeting a map stays a key.
        apply_set(&mut v, "client.statuses.503=1").unwrap();
        assert_eq!(v["client"]["statuses"]["503"], Value::from(1));
    }

    #[test]
    fn rejects_bad_forms() {
        let mut v: Value = serde_yaml::from_str("a: 1\nl: [1, 2]").unwrap();
        assert!(apply_set(&mut v, "noequals")
            .unwrap_err()
            .contains("key=value"));
        assert!(apply_set(&mut v, "a..b=1")
            .unwrap_err()
            .contains("dotted path"));
        assert!(apply_set(&mut v, "a.b=1")
            .unwrap_err()
            .contains("not a map"));
        let e = apply_set(&mut v, "l[2]=1").unwrap_err();
        assert!(e.contains("`l[2]` does not exist: the list has 2"), "{e}");
        let e = apply_set(&mut v, "a[0]=1").unwrap_err();
        assert!(e.contains("`a` is not a list"), "{e}");
        assert!(apply_set(&mut v, "l[x]=1")
            .unwrap_err()
            .contains("not a list index"));
        assert!(apply_set(&mut v, "l[0=1").unwrap_err().contains("without"));
    }
}
