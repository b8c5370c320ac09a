//! `{port}`, `{node0}`, `{nodes}` and `{env:NAME}` in an `under_test:`
//! section, filled in once the fake nodes and the port are known.

/// What the placeholders stand for in one run of one system under test.
#[derive(Debug, Clone)]
pub struct Placeholders {
    /// A free loopback port for the command to listen on.
    pub port: u16,
    /// The fake nodes' base URLs (`http://127.0.0.1:PORT`), node order.
    pub nodes: Vec<String>,
}

impl Placeholders {
    /// `text` with every placeholder replaced; an unknown node index or an
    /// unset `{env:NAME}` is an error naming it.
    pub fn apply(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let Some(j) = after.find('}') else {
                return Err(format!("unclosed `{{` in `{text}`"));
            };
            let name = &after[..j];
            out.push_str(&self.value(name, text)?);
            rest = &after[j + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn value(&self, name: &str, text: &str) -> Result<String, String> {
        if name == "port" {
            return Ok(self.port.to_string());
        }
        if name == "nodes" {
            return Ok(self.nodes.join(","));
        }
        if let Some(i) = name.strip_prefix("node") {
            let i: usize = i
                .parse()
                .map_err(|_| format!("unknown placeholder `{{{name}}}` in `{text}`"))?;
            return self.nodes.get(i).cloned().ok_or_else(|| {
                format!(
                    "`{{{name}}}` in `{text}`: the fake server has {} node(s), node0..node{}",
                    self.nodes.len(),
                    self.nodes.len().saturating_sub(1)
                )
            });
        }
        if let Some(var) = name.strip_prefix("env:") {
            return std::env::var(var).map_err(|_| {
                format!("`{{env:{var}}}` in `{text}`: the harness's environment has no {var}")
            });
        }
        Err(format!("unknown placeholder `{{{name}}}` in `{text}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Placeholders {
        Placeholders {
            port: 4567,
            nodes: vec!["http://127.0.0.1:1".into(), "http://127.0.0.1:2".into()],
        }
    }

    #[test]
    fn fills_every_placeholder() {
        assert_eq!(
            p().apply("http://127.0.0.1:{port}/chat").unwrap(),
            "http://127.0.0.1:4567/chat"
        );
        assert_eq!(p().apply("{node1}/v1").unwrap(), "http://127.0.0.1:2/v1");
        assert_eq!(
            p().apply("{nodes}").unwrap(),
            "http://127.0.0.1:1,http://127.0.0.1:2"
        );
        assert_eq!(p().apply("plain").unwrap(), "plain");
        std::env::set_var("HARNESS_PLACEHOLDER_TEST", "v");
        assert_eq!(
            p().apply("k={env:HARNESS_PLACEHOLDER_TEST}").unwrap(),
            "k=v"
        );
    }

    #[test]
    fn names_what_it_cannot_fill() {
        let e = p().apply("{node2}").unwrap_err();
        assert!(e.contains("2 node(s)"), "{e}");
        let e = p().apply("{env:HARNESS_SURELY_UNSET_VAR}").unwrap_err();
        assert!(e.contains("has no HARNESS_SURELY_UNSET_VAR"), "{e}");
        assert!(p().apply("{x").is_err());
    }
}
