//! The scenario's `load:` section: open (arrival-rate) or closed (virtual
//! users) model, what each request sends, and whether it streams.

use std::time::Duration;

use serde::Deserialize;

use crate::units::Rate;

/// Which load model drives the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Arrival rate: requests leave on a precomputed schedule whatever the
    /// answers do (wrk2, k6 `constant-arrival-rate`). Default.
    #[default]
    Open,
    /// N virtual users, each sending its next request after the previous one
    /// ends (plus think time).
    Closed,
}

/// How the open model's rate changes over the run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A fixed rate, evenly spaced.
    Constant(Rate),
    /// Linear change from `from` to `to` over the whole run.
    Ramp {
        /// Rate at t = 0.
        from: Rate,
        /// Rate at the end of the run.
        to: Rate,
    },
    /// Piecewise constant rates; the last step holds until the end.
    Steps(Vec<Step>),
    /// `mean + amplitude * sin(2 pi t / period)`, never below 0.
    Sine {
        /// Mean rate.
        mean: Rate,
        /// Swing above and below the mean.
        amplitude: Rate,
        /// Length of one full cycle.
        #[serde(with = "crate::units::duration")]
        period: Duration,
    },
    /// Poisson arrivals (exponential gaps, seeded) at a mean rate.
    Poisson(Rate),
}

/// One step of a `steps` shape.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Rate during this step.
    pub rate: Rate,
    /// How long the step lasts.
    #[serde(rename = "for", with = "crate::units::duration")]
    pub duration: Duration,
}

/// How requests are picked from `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// In order, wrapping around. Default.
    #[default]
    Rotate,
    /// Uniformly at random (seeded).
    Sample,
}

/// What carries the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The resilient client under test (`client:`). Default.
    #[default]
    Client,
    /// Plain HTTP/1.1 keep-alive connections with no client under test: no
    /// retry, breaker, limiter or fallback, and the answer is read but not
    /// decoded. For the generator's own ceiling and the server's capacity
    /// (what `oha` or `wrk` measure).
    Direct,
}

impl Via {
    /// Stable lower-case name used in `summary.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Client => "client",
            Via::Direct => "direct",
        }
    }
}

/// The `load:` section as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadConfig {
    /// `open` (default) or `closed`.
    #[serde(default)]
    pub model: Model,
    /// Open model: constant rate, shorthand for `shape: {constant: R}`.
    #[serde(default)]
    pub rate: Option<Rate>,
    /// Open model: a rate shape, a one-key map as the README writes it:
    /// `{ramp: {from: 10/s, to: 50/s}}` (constant, ramp, steps, sine,
    /// poisson); `--set load.shape.poisson=50/s` builds the same map.
    #[serde(default, with = "serde_yaml::with::singleton_map")]
    pub shape: Option<Shape>,
    /// Open model: most requests in flight at once; when reached, the
    /// generator waits (the wait shows as send lag) and reports it.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Closed model: number of virtual users.
    #[serde(default)]
    pub users: Option<usize>,
    /// Closed model: pause between a user's requests.
    #[serde(default, with = "crate::units::duration")]
    pub think_time: Option<Duration>,
    /// Send `stream: true` requests and measure TTFT and inter-token latency.
    #[serde(default)]
    pub stream: bool,
    /// Request bodies (chat-completions JSON as YAML). Default: one short
    /// `deepseek-v4-flash` prompt with `max_tokens: 64`.
    #[serde(default)]
    pub requests: Vec<serde_json::Value>,
    /// `rotate` (default) or `sample`.
    #[serde(default)]
    pub pick: Pick,
    /// `client` (default): every request through the resilient client;
    /// `direct`: plain HTTP/1.1 connections, no client under test.
    #[serde(default)]
    pub via: Via,
}

fn default_max_in_flight() -> usize {
    10_000
}

impl LoadConfig {
    /// The rate shape of an open-model run, or an error naming the fields.
    pub fn shape(&self) -> Result<Shape, String> {
        match (&self.rate, &self.shape) {
            (Some(_), Some(_)) => {
                Err("load: give either `rate` or `shape`, not both".to_string())
            }
            (Some(r), None) => Ok(Shape::Constant(*r)),
            (None, Some(s)) => Ok(s.clone()),
            (None, None) => Err(
                "load: the open model needs `rate: 100/s` or a `shape:` (constant, ramp, steps, sine, poisson)"
                    .to_string(),
            ),
        }
    }

    /// Cross-field checks that serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.via == Via::Direct && self.stream {
            return Err(
                "load.via: direct sends plain requests only; streaming (TTFT, inter-token latency) needs `via: client`"
                    .to_string(),
            );
        }
        match self.model {
            Model::Open => {
                if self.users.is_some() || self.think_time.is_some() {
                    return Err(
                        "load: `users` and `think_time` belong to `model: closed`".to_string()
                    );
                }
                if self.max_in_flight == 0 {
                    return Err("load.max_in_flight must be >= 1, got 0".to_string());
                }
                if let Shape::Steps(steps) = self.shape()? {
                    if steps.is_empty() {
                        return Err("load.shape.steps needs at least one step".to_string());
                    }
                }
                if let Shape::Sine { period, .. } = self.shape()? {
                    if period.is_zero() {
                        return Err("load.shape.sine.period must be > 0".to_string());
                    }
                }
            }
            Model::Closed => {
                if self.rate.is_some() || self.shape.is_some() {
                    return Err("load: `rate` and `shape` belong to `model: open`".to_string());
                }
                match self.users {
                    None => return Err("load: the closed model needs `users: N`".to_string()),
                    Some(0) => return Err("load.users must be >= 1, got 0".to_string()),
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}
