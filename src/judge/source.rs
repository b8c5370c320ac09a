//! Where `harness judge` finds journals: a journal file, a report folder
//! (its `journal.jsonl` and `journal.<arm>.jsonl`), or a running fake
//! server's `GET /_mock/journal` (loopback only, read page by page), and
//! thresholds from a YAML file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::config::{ConfigError, VerdictConfig};
use super::reader::ReadError;

/// Why `harness judge` could not judge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JudgeError {
    /// A journal file could not be opened.
    #[error("{}: cannot open the journal: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A journal could not be read or had no attempts.
    #[error("{what}: {source}")]
    Read {
        /// Which journal.
        what: String,
        /// Why.
        source: ReadError,
    },
    /// Thresholds that do not validate, or an override that does not apply.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A `--verdicts` file that is not a `verdicts:` section.
    #[error("{}: {message}", path.display())]
    VerdictsFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column when known.
        message: String,
    },
    /// A report folder without a journal.
    #[error("{}: no journal.jsonl here; is it a report of `harness run` (which writes one per arm)?", .0.display())]
    NoJournal(PathBuf),
    /// Neither a file, a folder nor a URL.
    #[error("{0}: no such file or folder (give a journal.jsonl, a report folder, or http://127.0.0.1:PORT/_mock/journal)")]
    NotFound(String),
    /// A URL that is not on this machine.
    #[error("{0}: only loopback URLs are read (127.0.0.0/8, ::1, localhost)")]
    NotLoopback(String),
    /// The fake server's journal endpoint failed.
    #[error("{url}: {message}")]
    Fetch {
        /// The URL asked.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// One journal to judge.
#[derive(Debug)]
pub struct Journal {
    /// How it is named in messages and headings.
    pub label: String,
    /// The arm it belongs to (`resilient` for a lone journal file).
    pub arm: String,
    /// Its lines.
    pub input: Input,
    /// Where its `verdicts.json` goes unless `--json` says otherwise.
    pub default_json: PathBuf,
}

/// Where a journal's lines come from.
#[derive(Debug)]
pub enum Input {
    /// A JSONL file, streamed.
    File(PathBuf),
    /// Lines fetched from a server.
    Bytes(Vec<u8>),
}

/// The journals named by `src`.
pub async fn resolve(src: &str) -> Result<Vec<Journal>, JudgeError> {
    if src.starts_with("http://") || src.starts_with("https://") {
        let bytes = fetch_all(src).await?;
        return Ok(vec![Journal {
            label: src.to_string(),
            arm: "server".into(),
            input: Input::Bytes(bytes),
            default_json: PathBuf::from("verdicts.json"),
        }]);
    }
    let path = Path::new(src);
    if path.is_file() {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let arm = arm_of(name).unwrap_or("resilient").to_string();
        let json = if arm == "resilient" {
            "verdicts.json".to_string()
        } else {
            format!("verdicts.{arm}.json")
        };
        return Ok(vec![Journal {
            label: path.display().to_string(),
            arm,
            input: Input::File(path.to_path_buf()),
            default_json: path.with_file_name(json),
        }]);
    }
    if path.is_dir() {
        let mut found = Vec::new();
        let entries = std::fs::read_dir(path).map_err(|source| JudgeError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(arm) = arm_of(&name) {
                let json = if arm == "resilient" {
                    "verdicts.json".to_string()
                } else {
                    format!("verdicts.{arm}.json")
                };
                found.push(Journal {
                    label: e.path().display().to_string(),
                    arm: arm.to_string(),
                    input: Input::File(e.path()),
                    default_json: path.join(json),
                });
            }
        }
        if found.is_empty() {
            return Err(JudgeError::NoJournal(path.to_path_buf()));
        }
        // The system under test first, then the other arms by name.
        found.sort_by(|a, b| (a.arm != "resilient", &a.arm).cmp(&(b.arm != "resilient", &b.arm)));
        return Ok(found);
    }
    Err(JudgeError::NotFound(src.to_string()))
}

/// `journal.jsonl` -> the main arm; `journal.raw.jsonl` -> `raw`.
fn arm_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("journal")?.strip_suffix(".jsonl")?;
    match rest {
        "" => Some("resilient"),
        r => r.strip_prefix('.').filter(|a| !a.is_empty()),
    }
}

/// Thresholds from a YAML file: a `verdicts:` section (a whole scenario
/// works) or the bare section.
pub fn config_from_file(path: &Path) -> Result<VerdictConfig, JudgeError> {
    let fail = |message: String| JudgeError::VerdictsFile {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let section = match doc.get("verdicts") {
        Some(v) => v.clone(),
        None if doc.get("name").is_some() && doc.get("load").is_some() => {
            // A scenario without a `verdicts:` section: the defaults.
            return Ok(VerdictConfig::default());
        }
        None => doc,
    };
    let config: VerdictConfig = serde_path_to_error::deserialize(section)
        .map_err(|e| fail(format!("verdicts.{}: {}", e.path(), e.inner())))?;
    config.validate()?;
    Ok(config)
}

#[derive(Deserialize)]
struct Page {
    records: Vec<serde_json::Value>,
    next: u64,
    #[serde(default)]
    dropped: u64,
    #[serde(default)]
    oldest: Option<u64>,
}

/// Most records asked per page.
const PAGE: u64 = 10_000;
/// Most pages read: a bound on a journal that keeps growing while read.
const MAX_PAGES: u64 = 10_000;

/// Reads the whole journal ring of a running fake server as JSONL: records
/// older than the ring and records the server dropped become one
/// `{"dropped": N}` line each, so the verdicts say they are incomplete.
async fn fetch_all(url: &str) -> Result<Vec<u8>, JudgeError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| JudgeError::Fetch {
        url: url.to_string(),
        message: e.to_string(),
    })?;
    let host = parsed.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(JudgeError::NotLoopback(url.to_string()));
    }
    let fail = |message: String| JudgeError::Fetch {
        url: url.to_string(),
        message,
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::new();
    let mut since = 0u64;
    let mut dropped = 0u64;
    for page in 0..MAX_PAGES {
        let mut u = parsed.clone();
        u.query_pairs_mut()
            .append_pair("since", &since.to_string())
            .append_pair("limit", &PAGE.to_string());
        let resp = client
            .get(u)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("answered {}", resp.status())));
        }
        let p: Page = resp
            .json()
            .await
            .map_err(|e| fail(format!("not a journal page: {e}")))?;
        if page == 0 {
            // Records the ring no longer holds.
            let lost = p.oldest.map_or(0, |o| o.saturating_sub(1));
            if lost > 0 {
                out.extend_from_slice(format!("{{\"dropped\":{lost}}}\n").as_bytes());
            }
        }
        dropped = dropped.max(p.dropped);
        if p.records.is_empty() {
            break;
        }
        for r in &p.records {
            serde_json::to_writer(&mut out, r).map_err(|e| fail(e.to_string()))?;
            out.push(b'\n');
        }
        if p.next <= since {
            break;
        }
        since = p.next;
    }
    if dropped > 0 {
        out.extend_from_slice(format!("{{\"dropped\":{dropped}}}\n").as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_files_name_their_arm() {
        assert_eq!(arm_of("journal.jsonl"), Some("resilient"));
        assert_eq!(arm_of("journal.raw.jsonl"), Some("raw"));
        assert_eq!(arm_of("journal.openai-python.jsonl"), Some("openai-python"));
        assert_eq!(arm_of("journal..jsonl"), None);
        assert_eq!(arm_of("events.jsonl"), None);
        assert_eq!(arm_of("journal.json"), None);
    }

    #[test]
    fn thresholds_come_from_a_section_or_a_bare_file() {
        let dir = std::env::temp_dir().join(format!("judge-src-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.yaml");
        std::fs::write(&a, "verdicts:\n  no_backoff: { bound: 20ms }\n").unwrap();
        assert_eq!(
            config_from_file(&a).unwrap().no_backoff.bound.get(),
            std::time::Duration::from_millis(20)
        );
        let b = dir.join("b.yaml");
        std::fs::write(&b, "retry_storm: { max_attempts: 7 }\n").unwrap();
        assert_eq!(config_from_file(&b).unwrap().retry_storm.max_attempts, 7);
        let c = dir.join("c.yaml");
        std::fs::write(&c, "no_backof: { bound: 20ms }\n").unwrap();
        let e = config_from_file(&c).unwrap_err().to_string();
        assert!(e.contains("unknown field `no_backof`"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn only_loopback_urls_are_read() {
        let e = fetch_all("http://10.1.2.3:8080/_mock/journal")
            .await
            .unwrap_err();
        assert!(matches!(e, JudgeError::NotLoopback(_)), "{e}");
    }
}
