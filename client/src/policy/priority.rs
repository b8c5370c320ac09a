//! Priority classes with tiered degradation, as the guides rank features:
//! under stress each class gets its own share of the bulkhead (so low
//! cannot starve high), is shed in order (the class with the smallest share
//! first, since its share runs out first), and has its own fallback (high: the
//! last good answer from the cache; normal: a static reply; low: none, the
//! feature is dropped).
//!
//! [`PriorityGate`] is the share check: a counter per class, taken before the
//! bulkhead and released when the call ends. A class over its share is shed
//! at once rather than queued: waiting would hold back the classes above it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::FallbackConfig;
use crate::units::Percent;

/// A request's priority class (`ChatRequest::priority`, YAML `priority:` on
/// a request body). Default `normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Interactive: must survive a brownout.
    High,
    /// The default.
    #[default]
    Normal,
    /// Batch: shed first.
    Low,
}

impl Priority {
    /// Every class, highest first.
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Normal, Priority::Low];

    /// Stable name for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What answers a failed call of one class: `none`, `cached`,
/// `{static_reply: "..."}` or `{model: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(try_from = "RawClassFallback", into = "RawClassFallback")]
pub enum ClassFallback {
    /// Nothing: the call fails (the feature is dropped). The default.
    #[default]
    None,
    /// The last good answer for the same model and messages, if younger
    /// than `priorities.cache.ttl`.
    Cached,
    /// A canned answer.
    StaticReply(String),
    /// Re-send once with this model.
    Model(crate::types::Model),
}

/// The YAML shape of a class's `fallback`: a word or the map of `fallback:`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
enum RawClassFallback {
    Word(String),
    Request(FallbackConfig),
}

impl TryFrom<RawClassFallback> for ClassFallback {
    type Error = String;
    fn try_from(r: RawClassFallback) -> Result<Self, String> {
        match r {
            RawClassFallback::Word(w) => match w.as_str() {
                "none" => Ok(ClassFallback::None),
                "cached" => Ok(ClassFallback::Cached),
                other => Err(format!(
                    "unknown fallback `{other}`: write `none`, `cached`, `{{static_reply: \"...\"}}` or `{{model: ...}}`"
                )),
            },
            RawClassFallback::Request(FallbackConfig::StaticReply(s)) => {
                Ok(ClassFallback::StaticReply(s))
            }
            RawClassFallback::Request(FallbackConfig::Model(m)) => Ok(ClassFallback::Model(m)),
        }
    }
}

impl From<ClassFallback> for RawClassFallback {
    fn from(f: ClassFallback) -> Self {
        match f {
            ClassFallback::None => RawClassFallback::Word("none".into()),
            ClassFallback::Cached => RawClassFallback::Word("cached".into()),
            ClassFallback::StaticReply(s) => {
                RawClassFallback::Request(FallbackConfig::StaticReply(s))
            }
            ClassFallback::Model(m) => RawClassFallback::Request(FallbackConfig::Model(m)),
        }
    }
}

impl ClassFallback {
    /// The shared fallback shape, for the kinds the client already had.
    pub(crate) fn as_config(&self) -> Option<FallbackConfig> {
        match self {
            ClassFallback::StaticReply(s) => Some(FallbackConfig::StaticReply(s.clone())),
            ClassFallback::Model(m) => Some(FallbackConfig::Model(m.clone())),
            ClassFallback::None | ClassFallback::Cached => None,
        }
    }
}

/// One class's settings (YAML `priorities.<class>`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassConfig {
    /// Share of `bulkhead.max_concurrent` this class may hold at once (at
    /// least one slot). Default `100%`.
    pub share: Percent,
    /// `none` (default), `cached`, `{static_reply: "..."}` or `{model: ...}`.
    pub fallback: ClassFallback,
}

impl Default for ClassConfig {
    fn default() -> Self {
        ClassConfig {
            share: Percent::HUNDRED,
            fallback: ClassFallback::None,
        }
    }
}

/// The answer cache behind `fallback: cached` (YAML `priorities.cache`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// How long a good answer may stand in for a failed call. Default `5m`.
    #[serde(with = "crate::units::duration")]
    pub ttl: Duration,
    /// Answers kept at most (the oldest goes first). Default `1000`.
    pub max_entries: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            ttl: Duration::from_secs(300),
            max_entries: 1000,
        }
    }
}

/// YAML `priorities:`; absent means every request is treated alike.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrioritiesConfig {
    /// Interactive requests.
    pub high: ClassConfig,
    /// The default class.
    pub normal: ClassConfig,
    /// Batch requests.
    pub low: ClassConfig,
    /// The cache of `fallback: cached`.
    pub cache: CacheConfig,
}

impl PrioritiesConfig {
    /// The settings of `p`'s class.
    pub fn class(&self, p: Priority) -> &ClassConfig {
        match p {
            Priority::High => &self.high,
            Priority::Normal => &self.normal,
            Priority::Low => &self.low,
        }
    }

    /// True when some class falls back to the cache.
    pub fn uses_cache(&self) -> bool {
        Priority::ALL
            .iter()
            .any(|p| self.class(*p).fallback == ClassFallback::Cached)
    }
}

/// Why a [`PrioritiesConfig`] was refused; [`field`](Self::field) names the
/// setting, the caller adds the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidPriorities {
    /// A class's `share` was 0%.
    #[error("must be greater than 0% (write 100% to let the class use the whole bulkhead)")]
    ZeroShare(Priority),
    /// A static reply was empty.
    #[error("must not be empty")]
    EmptyReply(Priority),
    /// `cache.max_entries` or `cache.ttl` was zero while a class uses it.
    #[error("must be greater than 0 when a class has `fallback: cached`")]
    NoCache(&'static str),
}

impl InvalidPriorities {
    /// The offending field below `priorities.`.
    pub fn field(&self) -> String {
        match self {
            InvalidPriorities::ZeroShare(p) => format!("{}.share", p.as_str()),
            InvalidPriorities::EmptyReply(p) => format!("{}.fallback.static_reply", p.as_str()),
            InvalidPriorities::NoCache(f) => format!("cache.{f}"),
        }
    }
}

/// The per-class share of the bulkhead. Cheap to clone (shared counters).
#[derive(Debug, Clone)]
pub struct PriorityGate {
    limits: [usize; 3],
    in_use: Arc<[AtomicUsize; 3]>,
}

/// A class's slot, released on drop.
#[derive(Debug)]
pub struct ClassPermit {
    in_use: Arc<[AtomicUsize; 3]>,
    class: usize,
}

impl Drop for ClassPermit {
    fn drop(&mut self) {
        self.in_use[self.class].fetch_sub(1, Ordering::AcqRel);
    }
}

impl PriorityGate {
    /// Each class may hold `share x max_concurrent` slots (rounded down, at
    /// least one). Checks every class's settings.
    pub fn new(cfg: &PrioritiesConfig, max_concurrent: usize) -> Result<Self, InvalidPriorities> {
        let mut limits = [0; 3];
        for p in Priority::ALL {
            let c = cfg.class(p);
            if c.share.fraction() <= 0.0 {
                return Err(InvalidPriorities::ZeroShare(p));
            }
            if matches!(&c.fallback, ClassFallback::StaticReply(s) if s.is_empty()) {
                return Err(InvalidPriorities::EmptyReply(p));
            }
            limits[p.index()] =
                ((c.share.fraction() * max_concurrent as f64).floor() as usize).max(1);
        }
        if cfg.uses_cache() {
            if cfg.cache.max_entries == 0 {
                return Err(InvalidPriorities::NoCache("max_entries"));
            }
            if cfg.cache.ttl.is_zero() {
                return Err(InvalidPriorities::NoCache("ttl"));
            }
        }
        Ok(PriorityGate {
            limits,
            in_use: Arc::new(Default::default()),
        })
    }

    /// Slots class `p` may hold at once.
    pub fn limit(&self, p: Priority) -> usize {
        self.limits[p.index()]
    }

    /// A slot for class `p` if it is under its share; `None` means shed.
    pub fn try_acquire(&self, p: Priority) -> Option<ClassPermit> {
        let i = p.index();
        let used = &self.in_use[i];
        let mut cur = used.load(Ordering::Acquire);
        loop {
            if cur >= self.limits[i] {
                return None;
            }
            match used.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    return Some(ClassPermit {
                        in_use: self.in_use.clone(),
                        class: i,
                    })
                }
                Err(now) => cur = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(high: f64, normal: f64, low: f64) -> PrioritiesConfig {
        let class = |s| ClassConfig {
            share: Percent::from_fraction(s).unwrap(),
            fallback: ClassFallback::None,
        };
        PrioritiesConfig {
            high: class(high),
            normal: class(normal),
            low: class(low),
            cache: CacheConfig::default(),
        }
    }

    #[test]
    fn low_cannot_starve_high() {
        let g = PriorityGate::new(&cfg(1.0, 0.7, 0.3), 10).unwrap();
        assert_eq!(
            Priority::ALL.map(|p| g.limit(p)),
            [10, 7, 3],
            "shares of 10 slots"
        );
        let lows: Vec<_> = std::iter::from_fn(|| g.try_acquire(Priority::Low)).collect();
        assert_eq!(lows.len(), 3, "low is shed after its 3 slots");
        let normals: Vec<_> = std::iter::from_fn(|| g.try_acquire(Priority::Normal)).collect();
        assert_eq!(normals.len(), 7);
        // High still gets slots: the gate never lets the lower classes take its share.
        assert!(g.try_acquire(Priority::High).is_some());
        drop(lows);
        assert!(
            g.try_acquire(Priority::Low).is_some(),
            "a released slot is reusable"
        );
    }

    #[test]
    fn the_smallest_share_is_shed_first_as_load_grows() {
        let g = PriorityGate::new(&cfg(1.0, 0.6, 0.2), 10).unwrap();
        // Offer calls round-robin across the classes and hold them: the first
        // shed is low's, then normal's; high is never shed by its share.
        let mut held = Vec::new();
        let mut first_shed = Vec::new();
        for _ in 0..10 {
            for p in Priority::ALL {
                match g.try_acquire(p) {
                    Some(permit) => held.push(permit),
                    None if !first_shed.contains(&p) => first_shed.push(p),
                    None => {}
                }
            }
        }
        assert_eq!(first_shed, vec![Priority::Low, Priority::Normal]);
    }

    #[test]
    fn validation_and_yaml() {
        assert_eq!(
            PriorityGate::new(&cfg(1.0, 0.0, 0.3), 10)
                .unwrap_err()
                .field(),
            "normal.share"
        );
        let y: PrioritiesConfig = serde_yaml::from_str(
            "high: { fallback: cached }\nnormal: { share: 70%, fallback: { static_reply: busy } }\nlow: { share: 30% }\ncache: { ttl: 10s, max_entries: 5 }\n",
        )
        .unwrap();
        assert_eq!(y.high.fallback, ClassFallback::Cached);
        assert_eq!(y.normal.fallback, ClassFallback::StaticReply("busy".into()));
        assert_eq!(y.low.fallback, ClassFallback::None);
        assert_eq!(y.cache.ttl, Duration::from_secs(10));
        let mut bad = y.clone();
        bad.cache.max_entries = 0;
        assert_eq!(
            PriorityGate::new(&bad, 10).unwrap_err().field(),
            "cache.max_entries"
        );
        let mut bad = y;
        bad.normal.fallback = ClassFallback::StaticReply(String::new());
        assert_eq!(
            PriorityGate::new(&bad, 10).unwrap_err().field(),
            "normal.fallback.static_reply"
        );
        assert!(serde_yaml::from_str::<PrioritiesConfig>("urgent: {}\n").is_err());
        let e = serde_yaml::from_str::<PrioritiesConfig>("low: { fallback: hidden }\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("low.fallback") || e.contains("low"), "{e}");
    }
}
