//! `--set a.b.c=value` overrides applied to the scenario's YAML tree before it
//! is deserialized, so any field can be changed from the command line and is
//! checked exactly like the file itself.

use serde_yaml::{Mapping, Value};

/// Apply one `dotted.path=value` to `root`. The value is read as YAML, so
/// `5`, `250ms`, `true` and `[a, b]` all work. Missing maps are created.
pub fn apply_set(root: &mut Value, set: &str) -> Result<(), String> {
    let (path, raw) = set.split_once('=').ok_or_else(|| {
        format!("`{set}` is not key=value; write e.g. client.retry.max_attempts=5")
    })?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!(
            "`{set}`: the key must be a dotted path such as load.rate"
        ));
    }
    let value: Value = serde_yaml::from_str(raw)
        .map_err(|e| format!("`{set}`: the value is not valid YAML: {e}"))?;
    let mut node = root;
    for key in path.split('.') {
        if node.is_null() {
            *node = Value::Mapping(Mapping::new());
        }
        let map = node
            .as_mapping_mut()
            .ok_or_else(|| format!("`{set}`: `{key}` is inside a value that is not a map"))?;
        node = map
            .entry(Value::String(key.to_string()))
            .or_insert(Value::Null);
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
    fn rejects_bad_forms() {
        let mut v: Value = serde_yaml::from_str("a: 1").unwrap();
        assert!(apply_set(&mut v, "noequals")
            .unwrap_err()
            .contains("key=value"));
        assert!(apply_set(&mut v, "a..b=1")
            .unwrap_err()
            .contains("dotted path"));
        assert!(apply_set(&mut v, "a.b=1")
            .unwrap_err()
            .contains("not a map"));
    }
}
