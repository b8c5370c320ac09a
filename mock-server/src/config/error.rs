//! Scenario errors that point at the spot, and the YAML reader that makes
//! them: `scenarios/x.yaml:12:9: server.phases[0].faults[1].status.rate must
//! be in [0, 1], got 1.5`.

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::PathBuf;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;
    use serde::Deserialize;

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
