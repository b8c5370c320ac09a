//! `under_test:`: an external system under test (an adapter around a
//! client library in any language, or any HTTP service that forwards
//! prompts), instead of the in-process resilient client. The harness may
//! start it (`command`), waits until it is ready, sends the load to `url`,
//! and stops it at the end. See docs/adapter-protocol.md.
//!
//! ```yaml
//! under_test:
//!   name: openai-python
//!   command: [python3, clients/openai-python/adapter.py]
//!   env: { PORT: "{port}", OPENAI_BASE_URL: "{node0}/v1", OPENAI_API_KEY: sk-local }
//!   ready: { url: "http://127.0.0.1:{port}/healthz", timeout: 30s }
//!   url: "http://127.0.0.1:{port}/chat"
//!   timeout: 120s
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

/// An external system under test.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnderTest {
    /// Its name in reports (the summary's arm key): letters, digits, `-_.`.
    /// Default `sut`.
    #[serde(default = "default_name")]
    pub name: String,
    /// The program to start, as an argv list (no shell). Without it the
    /// harness drives a service already running at `url`.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// The whole environment of the command, besides `PATH` and `HOME`.
    /// Placeholders: `{port}`, `{node0}`, `{node1}`, ..., `{nodes}` (the
    /// fake nodes' base URLs, comma-separated), `{env:NAME}` (the harness's
    /// own variable NAME: the only way a real key reaches the command).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory of the command (default: the harness's).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Readiness check: `GET url` until it answers 2xx.
    #[serde(default)]
    pub ready: Option<Ready>,
    /// Where each request of the load is POSTed (loopback).
    pub url: String,
    /// Extra headers sent with every request to `url` (e.g. the
    /// `authorization` a gateway expects); placeholders as in `env`, so a
    /// key comes from `{env:NAME}`. Values never appear in logs or reports.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Harness-side bound on one call, whatever the system does.
    #[serde(default = "default_timeout", with = "crate::units::duration")]
    pub timeout: Duration,
    /// How long the command gets to exit after SIGTERM before SIGKILL.
    #[serde(default = "default_grace", with = "crate::units::duration")]
    pub stop_grace: Duration,
    /// How attempts are tied to calls on the fake server's side.
    #[serde(default)]
    pub correlate: Correlate,
}

/// `ready:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// Polled with `GET` every 100 ms.
    pub url: String,
    /// Give up (and stop the command) after this long. Default `30s`.
    #[serde(default = "default_ready_timeout", with = "crate::units::duration")]
    pub timeout: Duration,
}

/// `correlate:`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correlate {
    /// Append ` [call:ID]` to the last user message, so the fake server can
    /// group a call's attempts even when the library sends no header the
    /// adapter can forward. Default `true`.
    #[serde(default = "yes")]
    pub marker: bool,
}

impl Default for Correlate {
    fn default() -> Self {
        Correlate { marker: true }
    }
}

fn default_name() -> String {
    "sut".into()
}
fn default_timeout() -> Duration {
    Duration::from_secs(120)
}
fn default_grace() -> Duration {
    Duration::from_secs(5)
}
fn default_ready_timeout() -> Duration {
    Duration::from_secs(30)
}
fn yes() -> bool {
    true
}

/// The `under_test:` section of a YAML file (or the whole file when it is
/// the bare section), as JSON for a `--set under_test=...` override.
pub fn section_from_file(
    path: &std::path::Path,
) -> Result<serde_json::Value, super::ScenarioError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| super::ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let fail = |message: String| super::ScenarioError::Invalid {
        origin: origin.clone(),
        location: String::new(),
        message,
    };
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let section = doc.get("under_test").cloned().unwrap_or(doc);
    // Checked here too, so a mistake names this file rather than `--set`.
    serde_yaml::from_value::<UnderTest>(section.clone())
        .map_err(|e| fail(format!("under_test: {e}")))?;
    serde_json::to_value(section).map_err(|e| fail(e.to_string()))
}

/// Names the harness uses itself; a system under test cannot take them.
const RESERVED: [&str; 2] = ["resilient", "raw"];

impl UnderTest {
    /// Checks what serde cannot: the name, the command, loopback URLs, the
    /// placeholders. `at` names the section in errors.
    pub fn validate(&self, at: &str) -> Result<(), String> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(format!(
                "{at}.name must use only letters, digits, '-', '_' or '.', got {:?}",
                self.name
            ));
        }
        if RESERVED.contains(&self.name.as_str()) {
            return Err(format!(
                "{at}.name `{}` is the harness's own arm; pick another (e.g. `{}-sut`)",
                self.name, self.name
            ));
        }
        if let Some(c) = &self.command {
            if c.is_empty() || c[0].trim().is_empty() {
                return Err(format!(
                    "{at}.command must name a program: [python3, adapter.py]"
                ));
            }
        }
        check_loopback(&self.url).map_err(|e| format!("{at}.url: {e}"))?;
        if let Some(r) = &self.ready {
            check_loopback(&r.url).map_err(|e| format!("{at}.ready.url: {e}"))?;
            if r.timeout.is_zero() {
                return Err(format!("{at}.ready.timeout must be greater than 0"));
            }
        }
        if self.timeout.is_zero() {
            return Err(format!("{at}.timeout must be greater than 0"));
        }
        let mut texts: Vec<&str> = vec![&self.url];
        texts.extend(self.env.values().map(String::as_str));
        texts.extend(self.headers.values().map(String::as_str));
        for name in self.headers.keys() {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(format!(
                    "{at}.headers: `{name}` is not a valid HTTP header name"
                ));
            }
        }
        texts.extend(self.command.iter().flatten().map(String::as_str));
        texts.extend(self.ready.iter().map(|r| r.url.as_str()));
        for t in texts {
            check_placeholders(t).map_err(|e| format!("{at}: {e}"))?;
        }
        Ok(())
    }
}

/// `http://` URLs on 127.0.0.0/8, ::1 or `localhost`, placeholders allowed
/// in the port and path; a URL may also start with a fake node's
/// `{nodeN}` (itself a loopback URL), to drive a node directly.
fn check_loopback(url: &str) -> Result<(), String> {
    if let Some(rest) = url.strip_prefix("{node") {
        let digits = rest.split('}').next().unwrap_or("");
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(());
        }
    }
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("`{url}` must start with http:// (plain HTTP on loopback)"))?;
    let host_port = rest.split('/').next().unwrap_or("");
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    };
    let ok = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{url}` is not on loopback (127.0.0.0/8, ::1, localhost): the harness only sends load to this machine"
        ))
    }
}

/// Every `{...}` is a known placeholder.
fn check_placeholders(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            return Err(format!("unclosed `{{` in `{text}`"));
        };
        let name = &after[..j];
        let known = name == "port"
            || name == "nodes"
            || name
                .strip_prefix("node")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            || name.strip_prefix("env:").is_some_and(|v| !v.is_empty());
        if !known {
            return Err(format!(
                "unknown placeholder `{{{name}}}` in `{text}`; known: {{port}}, {{node0}}, {{node1}}, ..., {{nodes}}, {{env:NAME}}"
            ));
        }
        rest = &after[j + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sut(yaml: &str) -> UnderTest {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn defaults_and_a_full_section() {
        let u = sut("url: http://127.0.0.1:9000/chat");
        assert_eq!(u.name, "sut");
        assert_eq!(u.timeout, Duration::from_secs(120));
        assert!(u.correlate.marker && u.command.is_none());
        u.validate("under_test").unwrap();
        let u = sut("name: py\ncommand: [python3, a.py]\nenv: {PORT: '{port}', B: '{node0}/v1', N: '{nodes}', K: '{env:HOME}'}\nready: {url: 'http://localhost:{port}/healthz', timeout: 5s}\nurl: 'http://127.0.0.1:{port}/chat'\ntimeout: 30s\ncorrelate: {marker: false}");
        u.validate("under_test").unwrap();
        assert_eq!(u.ready.unwrap().timeout, Duration::from_secs(5));
    }

    #[test]
    fn refuses_what_would_leave_the_machine_or_misname_an_arm() {
        let e = sut("url: http://10.0.0.2:9000/chat")
            .validate("under_test")
            .unwrap_err();
        assert!(
            e.contains("under_test.url") && e.contains("not on loopback"),
            "{e}"
        );
        let e = sut("url: https://127.0.0.1/chat")
            .validate("u")
            .unwrap_err();
        assert!(e.contains("http://"), "{e}");
        let e = sut("name: raw\nurl: http://127.0.0.1:1/chat")
            .validate("u")
            .unwrap_err();
        assert!(e.contains("harness's own arm"), "{e}");
        let e = sut("url: 'http://127.0.0.1:{prot}/chat'")
            .validate("u")
            .unwrap_err();
        assert!(e.contains("unknown placeholder `{prot}`"), "{e}");
        let e = sut("command: []\nurl: http://127.0.0.1:1/chat")
            .validate("u")
            .unwrap_err();
        assert!(e.contains("must name a program"), "{e}");
        assert!(serde_yaml::from_str::<UnderTest>("url: x\ncomand: [a]").is_err());
    }
}
