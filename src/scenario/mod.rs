//! A scenario file: one YAML document composing the fake server's `server:`
//! section, the `load:` section, the client's `client:` section and the
//! `gates:`. Parsed once, with errors that name the file, line, column and
//! field, then validated.

pub mod bounds;
pub mod load;
mod locate;
mod overrides;
#[cfg(test)]
mod tests;
pub mod under_test;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use load::LoadConfig;
pub use overrides::apply_set;
pub use under_test::UnderTest;

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
    /// An external system under test instead of the in-process client: an
    /// adapter around a client library in any language, or an HTTP service.
    #[serde(default)]
    pub under_test: Option<UnderTest>,
    /// Aim at an already running fake server instead of the embedded one.
    #[serde(default)]
    pub target: Option<Target>,
    /// Extra arms replayed on the same schedule: `[raw]`.
    #[serde(default)]
    pub compare: Vec<CompareArm>,
    /// Gate expressions evaluated after the run (`p99 < 2s`).
    #[serde(default)]
    pub gates: Vec<String>,
    /// Thresholds of the verdicts judged from the fake server's journal
    /// (`docs/journal.md`); every field has a default.
    #[serde(default)]
    pub verdicts: crate::judge::VerdictConfig,
}

/// `target:` an external server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Base URLs (one per endpoint), e.g. `http://127.0.0.1:8080`.
    #[serde(deserialize_with = "one_or_many")]
    pub url: Vec<String>,
}

/// Arms that `compare:` can add, each replayed on the same schedule and
/// seed against its own fake server instance.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareArm {
    /// `raw`: the bare client: no retry, breaker, limiter, queue or fallback.
    Raw,
    /// `client`: the in-process resilient client of `client:` (beside an
    /// external `under_test:`).
    Client,
    /// A map: another external system under test (see [`UnderTest`]).
    UnderTest(Box<UnderTest>),
}

impl<'de> Deserialize<'de> for CompareArm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            Map(serde_yaml::Value),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) => match w.as_str() {
                "raw" => Ok(CompareArm::Raw),
                "client" => Ok(CompareArm::Client),
                other => Err(serde::de::Error::custom(format!(
                    "unknown arm `{other}`; write `raw`, `client`, or a map describing a system under test (name, command, url, ...)"
                ))),
            },
            Raw::Map(v) => serde_yaml::from_value::<UnderTest>(v)
                .map(|u| CompareArm::UnderTest(Box::new(u)))
                .map_err(serde::de::Error::custom),
        }
    }
}

/// What carries one arm's requests.
#[derive(Debug, Clone, PartialEq)]
pub enum ArmKind {
    /// The in-process resilient client of `client:`.
    Client,
    /// The bare in-process client (`compare: [raw]`).
    Raw,
    /// No client: plain connections (`load.via: direct`).
    Direct,
    /// An external system under test.
    External(Box<UnderTest>),
}

/// One arm of a run: its name and what carries its requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSpec {
    /// The arm (its name is the summary's key).
    pub arm: crate::outcome::Arm,
    /// What carries it.
    pub kind: ArmKind,
}

impl Scenario {
    /// The arms of a run, the system under test first.
    pub fn arms(&self) -> Vec<ArmSpec> {
        use crate::outcome::Arm;
        let mut v = vec![match (&self.under_test, self.load.via) {
            (Some(u), _) => ArmSpec {
                arm: Arm::named(&u.name),
                kind: ArmKind::External(Box::new(u.clone())),
            },
            (None, load::Via::Direct) => ArmSpec {
                arm: Arm::Resilient,
                kind: ArmKind::Direct,
            },
            (None, load::Via::Client) => ArmSpec {
                arm: Arm::Resilient,
                kind: ArmKind::Client,
            },
        }];
        for c in &self.compare {
            v.push(match c {
                CompareArm::Raw => ArmSpec {
                    arm: Arm::Raw,
                    kind: ArmKind::Raw,
                },
                CompareArm::Client => ArmSpec {
                    arm: Arm::Resilient,
                    kind: ArmKind::Client,
                },
                CompareArm::UnderTest(u) => ArmSpec {
                    arm: Arm::named(&u.name),
                    kind: ArmKind::External(u.clone()),
                },
            });
        }
        v
    }
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
/// overrides (dotted paths, `[i]` for list elements) before it is checked,
/// so a `--set` can also fix a value the file gets wrong.
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
    // The file as written, so errors carry its line and column.
    let as_written = from_yaml(serde_yaml::Deserializer::from_str(text), origin);
    let scenario = if sets.is_empty() {
        as_written?
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
        match (
            from_yaml(value, &format!("{origin} (after --set)")),
            as_written,
        ) {
            (Ok(s), _) => s,
            // A field no `--set` touched is wrong in the file: the file's
            // error, which has the line and column.
            (Err(ScenarioError::Parse { field, .. }), Err(e)) if !overridden(&field, sets) => {
                return Err(e)
            }
            (Err(e), _) => return Err(e),
        }
    };
    validate(&scenario, origin, text)?;
    Ok(scenario)
}

/// Is the field of an error (`server.phases[0].at: `) set, or inside a
/// value set, by one of `sets`?
fn overridden(field: &str, sets: &[String]) -> bool {
    let norm = |p: &str| p.trim().replace('[', ".").replace(']', "");
    let field = norm(field.trim_end_matches(": "));
    sets.iter()
        .filter_map(|s| s.split_once('='))
        .any(|(key, _)| {
            let key = norm(key);
            field == key || field.starts_with(&format!("{key}."))
        })
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
    if s.load.via == load::Via::Direct && !s.compare.is_empty() {
        return Err(invalid(
            "compare: lists arms to compare with the system under test; with `load.via: direct` there is no client to compare, remove one of them".into(),
        ));
    }
    // Settings `harness run` would otherwise ignore silently: one seed and
    // one place for addresses.
    if let Some(seed) = s.server.seed {
        return Err(invalid(format!(
            "server.seed ({seed}): a scenario has one seed, the top-level `seed:` (it seeds the faults, the schedule and request sampling); write `seed: {seed}` at the top level and remove server.seed (server.seed is for a server file given to `harness mock` or `mock-server` alone)"
        )));
    }
    if !s.client.endpoints.is_empty() {
        return Err(invalid(format!(
            "client.endpoints ({} given): the harness aims the client at the embedded fake server's nodes, or at target.url, and would ignore these URLs; remove client.endpoints (to use a server already running, list its base URLs under target.url)",
            s.client.endpoints.len()
        )));
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
    s.verdicts.validate().map_err(|e| invalid(e.to_string()))?;
    validate_arms(s).map_err(invalid)?;
    Ok(())
}

/// The arms together: external systems under test are valid, names are
/// unique, `client` is only compared with an external system.
fn validate_arms(s: &Scenario) -> Result<(), String> {
    if let Some(u) = &s.under_test {
        u.validate("under_test")?;
        if s.load.via == load::Via::Direct {
            return Err("under_test: sends the load through the system under test; `load.via: direct` sends it with no client at all: remove one of them".into());
        }
    }
    for (i, c) in s.compare.iter().enumerate() {
        match c {
            CompareArm::UnderTest(u) => u.validate(&format!("compare[{i}]"))?,
            CompareArm::Client if s.under_test.is_none() => {
                return Err(format!(
                    "compare[{i}]: `client` is the in-process resilient client, already the system under test here; list it only beside an `under_test:`"
                ));
            }
            _ => {}
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for a in s.arms() {
        if !seen.insert(a.arm.as_str()) {
            return Err(format!(
                "two arms are named `{}`; give each system under test its own `name:`",
                a.arm.as_str()
            ));
        }
    }
    Ok(())
}
