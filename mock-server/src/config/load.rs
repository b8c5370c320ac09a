//! Reading scenario YAML with errors that point at the spot:
//! `scenarios/x.yaml:12:9: server.phases[0].faults[1].status.rate must be in [0, 1], got 1.5`,
//! followed by how to write it.

use super::{ServerConfig, MAX_NODES};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario that could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// YAML syntax or a field value is wrong.
    #[error("{}", Located(origin, *line, *column, field, message))]
    Parse {
        /// File name (or another origin label).
        origin: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// Field path such as `server.phases[0].faults[1].status.rate`.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A cross-field rule is broken.
    #[error("{}{field} {message}", origin.as_deref().map(|o| format!("{o}: ")).unwrap_or_default())]
    Invalid {
        /// File name, when known.
        origin: Option<String>,
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
}

struct Located<'a>(&'a str, usize, usize, &'a str, &'a str);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Located(origin, line, col, field, msg) = *self;
        if line > 0 {
            write!(f, "{origin}:{line}:{col}: ")?;
        } else {
            write!(f, "{origin}: ")?;
        }
        match (field.is_empty() || field == ".", msg.starts_with("must")) {
            (true, _) => write!(f, "{msg}"),
            // Our own messages read as a sentence after the field name.
            (false, true) => write!(f, "{field} {msg}"),
            (false, false) => write!(f, "{field}: {msg}"),
        }
    }
}

impl ConfigError {
    /// A cross-field error without location.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            origin: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Attach a file name to a cross-field error.
    pub fn with_origin(self, origin: &str) -> Self {
        match self {
            ConfigError::Invalid { field, message, .. } => ConfigError::Invalid {
                origin: Some(origin.to_string()),
                field,
                message,
            },
            other => other,
        }
    }
}

/// Deserializes `text` as `T` with serde_path_to_error over serde_yaml; the
/// error names `origin:line:col`, the field path and the problem. The harness
/// uses it for whole scenarios, so `T` is generic.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, ConfigError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = inner
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        ConfigError::Parse {
            origin: origin.to_string(),
            line,
            column,
            field,
            message: bare_message(&inner),
        }
    })
}

/// serde_yaml prints `path: message at line L column C`; we print path and
/// position ourselves, so keep only the message.
fn bare_message(e: &serde_yaml::Error) -> String {
    let mut s = e.to_string();
    if let Some(i) = s.rfind(" at line ") {
        s.truncate(i);
    }
    if let Some((head, tail)) = s.split_once(": ") {
        if !head.is_empty() && !head.contains(char::is_whitespace) {
            return tail.to_string();
        }
    }
    s
}

/// A full harness scenario: only `server:` and `seed:` matter here.
#[derive(Deserialize)]
struct ScenarioShell {
    server: ServerConfig,
    #[serde(default)]
    seed: Option<u64>,
}

/// Reads a YAML file that is either a full scenario (top-level `server:`,
/// plus an optional top-level `seed:`; other keys are ignored) or a bare
/// `ServerConfig`, then runs [`ServerConfig::validate`].
pub fn load_server_config(path: &Path) -> Result<ServerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    let is_scenario = serde_yaml::from_str::<serde_yaml::Value>(&text)
        .ok()
        .and_then(|v| v.as_mapping().map(|m| m.contains_key("server")))
        .unwrap_or(false);
    let config = if is_scenario {
        let shell: ScenarioShell = parse_yaml(&text, &origin)?;
        let mut server = shell.server;
        server.seed = server.seed.or(shell.seed);
        server
    } else {
        parse_yaml::<ServerConfig>(&text, &origin).map_err(prefix_server)?
    };
    config.validate().map_err(|e| e.with_origin(&origin))?;
    Ok(config)
}

/// A bare server file still reports paths as `server.…` so they match the
/// scenario reference.
fn prefix_server(e: ConfigError) -> ConfigError {
    match e {
        ConfigError::Parse {
            origin,
            line,
            column,
            field,
            message,
        } => ConfigError::Parse {
            origin,
            line,
            column,
            field: if field.is_empty() || field == "." {
                "server".into()
            } else {
                format!("server.{field}")
            },
            message,
        },
        other => other,
    }
}

pub(super) fn node_count<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let n = i64::deserialize(d)?;
    if (1..=MAX_NODES as i64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(serde::de::Error::custom(format!(
            "must be in [1, {MAX_NODES}], got {n}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_line_column_and_path() {
        let yaml = "server:\n  phases:\n    - name: a\n      at: 1s\n      faults:\n        - reset: {}\n        - status: { code: 503, rate: 1.5 }\n";
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            server: ServerConfig,
        }
        let e = parse_yaml::<S>(yaml, "x.yaml").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.yaml:7:38: server.phases[0].faults[1].status.rate must be in [0, 1], got 1.5: write `1.5%` for a percentage (percentages are written 30% or 0.3)"
        );
    }

    #[test]
    fn unknown_fields_are_errors() {
        let e = parse_yaml::<ServerConfig>("nodes: 2\nnodez: 3\n", "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.yaml:2:1: "), "{e}");
        assert!(e.contains("unknown field `nodez`"), "{e}");
    }
}
