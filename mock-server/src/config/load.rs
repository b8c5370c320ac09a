//! Loading a scenario file: a full harness scenario (its `server:` and
//! `seed:`) or a bare server section, parsed and then validated.

use super::error::{parse_yaml, ConfigError};
use super::server_config::ServerConfig;
use serde::Deserialize;
use std::path::Path;

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
    parse_server_config(&text, &path.display().to_string())
}

/// [`load_server_config`] of text already read; `origin` names it in errors.
pub fn parse_server_config(text: &str, origin: &str) -> Result<ServerConfig, ConfigError> {
    let (text, origin) = (text.to_string(), origin.to_string());
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
