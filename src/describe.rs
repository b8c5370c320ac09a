//! `harness validate`'s account of what a scenario will do: load, server
//! phases and faults, the client's policies, comparison arms and gates.

use crate::scenario::{self, Scenario};
use resilient_client::policy::RateLimitAlgorithm;

/// A human description of what a scenario will do.
pub fn describe(s: &Scenario) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "scenario  {} (seed {})", s.name, s.seed);
    if let Some(d) = &s.description {
        for line in d.trim().lines() {
            let _ = writeln!(out, "          {line}");
        }
    }
    let _ = writeln!(out, "duration  {}", humantime::format_duration(s.duration));
    let load = &s.load;
    match load.model {
        scenario::load::Model::Open => {
            if let Ok(shape) = load.shape() {
                let sched = crate::schedule::Schedule::new(shape.clone(), s.duration, s.seed);
                let mean = sched.mean_rate();
                let _ = writeln!(
                    out,
                    "load      open, {} (mean {:.1}/s, ~{} requests), max_in_flight {}",
                    shape_name(&shape),
                    mean,
                    (mean * s.duration.as_secs_f64()).round(),
                    load.max_in_flight
                );
            }
        }
        scenario::load::Model::Closed => {
            let _ = writeln!(
                out,
                "load      closed, {} users, think time {}",
                load.users.unwrap_or(0),
                humantime::format_duration(load.think_time.unwrap_or_default())
            );
        }
    }
    let _ = writeln!(
        out,
        "requests  {} bod{}, {}, {}",
        load.requests.len().max(1),
        if load.requests.len() > 1 { "ies" } else { "y" },
        if load.stream {
            "streaming"
        } else {
            "non-streaming"
        },
        match load.pick {
            scenario::load::Pick::Rotate => "rotated",
            scenario::load::Pick::Sample => "sampled",
        }
    );
    match &s.target {
        Some(t) => {
            let _ = writeln!(out, "target    {}", t.url.join(", "));
        }
        None => {
            let _ = writeln!(
                out,
                "server    embedded, {} node(s) on 127.0.0.1",
                s.server.nodes()
            );
            let faults = |fs: &[mock_server::config::Fault]| -> String {
                fs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if !s.server.faults.is_empty() {
                let _ = writeln!(out, "  always  {}", faults(&s.server.faults));
            }
            for p in &s.server.phases {
                let end = p.duration.map_or("end".to_string(), |d| {
                    humantime::format_duration(p.at.0 + d.0).to_string()
                });
                let _ = writeln!(
                    out,
                    "  phase   {} {}..{}{}: {}",
                    p.name,
                    humantime::format_duration(p.at.0),
                    end,
                    p.nodes
                        .as_ref()
                        .map_or(String::new(), |n| format!(" on nodes {n:?}")),
                    faults(&p.faults)
                );
            }
        }
    }
    if s.load.via == scenario::load::Via::Direct {
        let _ = writeln!(
            out,
            "via       direct: plain HTTP/1.1 connections, no client under test (only client.timeouts.connect {} and total {} apply)",
            humantime::format_duration(s.client.timeouts.connect),
            humantime::format_duration(s.client.timeouts.total)
        );
    } else {
        let _ = write!(out, "{}", describe_client(&s.client));
    }
    if let Some(u) = &s.under_test {
        let _ = writeln!(out, "{}", describe_sut("under test", u));
    }
    for c in &s.compare {
        if let crate::scenario::CompareArm::UnderTest(u) = c {
            let _ = writeln!(out, "{}", describe_sut("compared", u));
        }
    }
    if s.arms().len() > 1 {
        let names: Vec<&str> = s.arms().iter().map(|a| a.arm.as_str()).collect();
        let _ = writeln!(
            out,
            "compare   {} (same schedule and seed, a fake server each)",
            names.join(" vs ")
        );
    }
    if s.verdicts != crate::judge::VerdictConfig::default() {
        let _ = writeln!(
            out,
            "verdicts  thresholds changed from the defaults (see docs/journal.md)"
        );
    }
    for g in &s.gates {
        let _ = writeln!(out, "gate      {g}");
    }
    out
}

/// One external system under test in a line or two.
fn describe_sut(role: &str, u: &crate::scenario::UnderTest) -> String {
    let how = match &u.command {
        Some(c) => format!("started as `{}`", c.join(" ")),
        None => "already running".to_string(),
    };
    format!(
        "sut       {role}: {} ({how}), load to {}, {} per call at most{}",
        u.name,
        u.url,
        humantime::format_duration(u.timeout),
        match &u.ready {
            Some(r) => format!(", ready when {} answers 2xx", r.url),
            None => String::new(),
        }
    )
}

/// How a config enum is written in YAML (`round_robin`, `full`).
fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One line per policy of the client under test.
fn describe_client(c: &resilient_client::ClientConfig) -> String {
    use std::fmt::Write;
    let d = |d: std::time::Duration| humantime::format_duration(d).to_string();
    let mut out = String::new();
    let t = &c.timeouts;
    let _ = writeln!(
        out,
        "client    timeouts connect {}, first byte {}, first token {}, idle {}, total {}",
        d(t.connect),
        d(t.first_byte),
        d(t.first_token),
        d(t.idle),
        d(t.total)
    );
    let r = &c.retry;
    let _ = writeln!(
        out,
        "          retry {} attempts, backoff {} x{} up to {} ({} jitter){}{}",
        r.max_attempts,
        d(r.backoff.base),
        r.backoff.multiplier,
        d(r.backoff.max),
        name(&r.backoff.jitter),
        if r.budget.enabled {
            format!(
                ", budget {} (floor {})",
                r.budget.ratio, r.budget.min_per_second
            )
        } else {
            String::new()
        },
        if r.failover { ", failover" } else { "" }
    );
    let b = &c.breaker;
    if b.enabled {
        let _ = writeln!(
            out,
            "          breaker {} window {}, opens at {} failures or {} calls slower than {}, open {}, {} probes",
            name(&b.window_type),
            b.window_size,
            b.failure_rate_threshold,
            b.slow_call_rate_threshold,
            d(b.slow_call_duration_threshold),
            d(b.wait_duration_in_open),
            b.permitted_calls_in_half_open
        );
    } else {
        let _ = writeln!(out, "          breaker off");
    }
    if let Some(l) = &c.rate_limit {
        let shape = match l.algorithm {
            RateLimitAlgorithm::Gcra => format!("burst {}", l.burst),
            RateLimitAlgorithm::FixedWindow | RateLimitAlgorithm::SlidingWindow => {
                format!("per {} window", d(l.window))
            }
            RateLimitAlgorithm::LeakyBucket => "no burst".to_owned(),
        };
        let _ = writeln!(
            out,
            "          rate limit {} {} {}, wait up to {}",
            l.algorithm.name(),
            l.rate,
            shape,
            d(l.max_wait)
        );
    }
    if c.bulkhead.enabled {
        let _ = writeln!(
            out,
            "          bulkhead {} in flight, queue {} for up to {}",
            c.bulkhead.max_concurrent,
            c.bulkhead.max_queue,
            d(c.bulkhead.max_queue_wait)
        );
    }
    let _ = writeln!(
        out,
        "          balancer {}{}{}",
        name(&c.balancer.strategy),
        if c.balancer.ejection.enabled {
            format!(
                ", ejection after {} failures",
                c.balancer.ejection.consecutive_failures
            )
        } else {
            String::new()
        },
        match &c.fallback {
            Some(f) => format!(
                ", fallback {}",
                serde_json::to_string(f).unwrap_or_default()
            ),
            None => String::new(),
        }
    );
    out
}

fn shape_name(shape: &scenario::load::Shape) -> String {
    use scenario::load::Shape;
    match shape {
        Shape::Constant(r) => format!("constant {r}"),
        Shape::Ramp { from, to } => format!("ramp {from} -> {to}"),
        Shape::Steps(s) => format!("{} steps", s.len()),
        Shape::Sine {
            mean,
            amplitude,
            period,
        } => format!(
            "sine {mean} +/- {amplitude} every {}",
            humantime::format_duration(*period)
        ),
        Shape::Poisson(r) => format!("poisson {r}"),
    }
}
