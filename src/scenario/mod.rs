//! A scenario file: one YAML document composing the fake server's `server:`
//! section, the `load:` section, the client's `client:` section and the
//! `gates:`. Parsed once, with errors that name the file, line, column and
//! field, then validated.

pub mod bounds;
pub mod load;
mod locate;
mod overrides;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use load::LoadConfig;
pub use overrides::apply_set;

/// A whole scenario as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name; used for the report folder.
    pub name: String,
    /// What the scenario shows (free text, printed by `validate`).
    #[serde(default)]
    pub description: Option<String>,
    /// Seed of every random choice (fault decisions, Poisson arrivals,
    /// request sampling, jitter). Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Length of the load (the run then drains in-flight requests).
    #[serde(with = "crate::units::duration")]
    pub duration: Duration,
    /// The fake server (ignored when `target` is given).
    #[serde(default)]
    pub server: mock_server::ServerConfig,
    /// The load model and request bodies.
    pub load: LoadConfig,
    /// The resilient client under test.
    #[serde(default)]
    pub client: resilient_client::ClientConfig,
    /// Aim at an already running fake server instead of the embedded one.
    #[serde(default)]
    pub target: Option<Target>,
    /// Extra arms replayed on the same schedule: `[raw]`.
    #[serde(default)]
    pub compare: Vec<CompareArm>,
    /// Gate expressions evaluated after the run (`p99 < 2s`).
    #[serde(default)]
    pub gates: Vec<String>,
}

/// `target:` an external server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Base URLs (one per endpoint), e.g. `http://127.0.0.1:8080`.
    #[serde(deserialize_with = "one_or_many")]
    pub url: Vec<String>,
}

/// Arms that `compare:` can add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareArm {
    /// The bare client: no retry, breaker, limiter, queue or fallback.
    Raw,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::One(s) => vec![s],
        Raw::Many(v) => v,
    })
}

/// A scenario that could not be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: cannot read the scenario: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// YAML syntax or a field's type/value, with its place.
    #[error("{origin}{location}: {field}{message}")]
    Parse {
        /// File name, or `--set` when the error came from an override.
        origin: String,
        /// `:line:col` or empty.
        location: String,
        /// `path.to.field: ` or empty.
        field: String,
        /// What was wrong and what is allowed.
        message: String,
    },
    /// A check across fields.
    #[error("{origin}{location}: {message}")]
    Invalid {
        /// File name.
        origin: String,
        /// `:line:col` of the field the message is about, or empty.
        location: String,
        /// What was wrong and what to do.
        message: String,
    },
}

/// Read, parse and validate a scenario file, applying `--set key=value`
/// overrides (dotted paths) after the file itself parsed cleanly.
pub fn load(path: &Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    let text = utf8(&bytes, &origin)?;
    parse(text, &origin, sets)
}

/// The file as text, or an error naming the byte (and its line and
/// column) where it stops being UTF-8.
pub fn utf8<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, ScenarioError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        ScenarioError::Parse {
            origin: origin.to_string(),
            location: format!(":{line}:{column}"),
            field: String::new(),
            message: format!(
                "the file is not valid UTF-8 at byte {at} (0x{:02x}); save it as UTF-8",
                bytes[at]
            ),
        }
    })
}

/// Parse scenario text (see [`load`]). `origin` names it in errors.
pub fn parse(text: &str, origin: &str, sets: &[String]) -> Result<Scenario, ScenarioError> {
    // First the file as written, so errors carry its line and column.
    let scenario: Scenario = from_yaml(serde_yaml::Deserializer::from_str(text), origin)?;
    let scenario = if sets.is_empty() {
        scenario
    } else {
        let mut value: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| parse_error(origin, e, String::new()))?;
        for set in sets {
            apply_set(&mut value, set).map_err(|message| ScenarioError::Parse {
                origin: "--set".into(),
                location: String::new(),
                field: String::new(),
                message,
            })?;
        }
        from_yaml(value, &format!("{origin} (after --set)"))?
    };
    validate(&scenario, origin, text)?;
    Ok(scenario)
}

fn from_yaml<'de, D>(de: D, origin: &str) -> Result<Scenario, ScenarioError>
where
    D: serde::Deserializer<'de, Error = serde_yaml::Error>,
{
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        };
        parse_error(origin, e.into_inner(), field)
    })
}

fn parse_error(origin: &str, e: serde_yaml::Error, field: String) -> ScenarioError {
    let location = e
        .location()
        .map(|l| format!(":{}:{}", l.line(), l.column()))
        .unwrap_or_default();
    // serde_yaml appends " at line L column C"; the location is already in front.
    let mut message = e.to_string();
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    // serde_yaml puts its own (shorter) path in front; ours is in `field`.
    if !field.is_empty() {
        if let Some((head, rest)) = message.split_once(": ") {
            if !head.is_empty() && !head.contains(' ') {
                message = rest.to_string();
            }
        }
    }
    ScenarioError::Parse {
        origin: origin.to_string(),
        location,
        field,
        message,
    }
}

fn validate(s: &Scenario, origin: &str, text: &str) -> Result<(), ScenarioError> {
    // Messages start with the field they are about (`load.users must ...`,
    // `server.faults[1].status ...`): its line goes in front.
    let invalid = |message: String| {
        let field = message
            .split([' ', ':'])
            .next()
            .filter(|f| {
                f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._[]".contains(c))
            })
            .unwrap_or("");
        ScenarioError::Invalid {
            origin: origin.to_string(),
            location: locate::locate(text, field)
                .map(|(l, c)| format!(":{l}:{c}"))
                .unwrap_or_default(),
            message,
        }
    };
    if s.name.trim().is_empty()
        || !s
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(invalid(format!(
            "name must be non-empty and use only letters, digits, '-', '_' or '.' (it names the report folder), got {:?}",
            s.name
        )));
    }
    if s.duration.is_zero() {
        return Err(invalid("duration must be > 0, e.g. `duration: 20s`".into()));
    }
    if s.duration > Duration::from_secs(24 * 3600) {
        return Err(invalid("duration must be at most 24h".into()));
    }
    s.load.validate().map_err(invalid)?;
    bounds::check(s).map_err(invalid)?;
    if s.load.via == load::Via::Direct && s.compare.contains(&CompareArm::Raw) {
        return Err(invalid(
            "compare: [raw] compares the resilient client with a bare one; with `load.via: direct` there is no client to compare, remove one of them".into(),
        ));
    }
    if s.target.is_none() {
        s.server.validate().map_err(|e| invalid(e.to_string()))?;
    }
    if let Some(t) = &s.target {
        if t.url.is_empty() {
            return Err(invalid("target.url needs at least one base URL".into()));
        }
    }
    s.client.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(())
}
