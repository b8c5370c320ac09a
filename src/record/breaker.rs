//! Breaker transitions per endpoint, folded from the client's `breaker`
//! events: open count, time spent open / half-open, and a capped list of
//! transitions for charts.

use std::time::Duration;

use serde::Serialize;

/// Most transitions kept per endpoint; later ones are only counted, so a
/// flapping breaker cannot grow memory without bound.
pub const MAX_TRANSITIONS: usize = 4096;

/// State of one endpoint's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    #[default]
    Closed,
    /// Probing with a few calls.
    HalfOpen,
    /// Calls rejected.
    Open,
}

impl BreakerState {
    /// Parses the `state` field of a `breaker` event.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "closed" => Some(Self::Closed),
            "open" => Some(Self::Open),
            "half_open" | "half-open" | "halfopen" => Some(Self::HalfOpen),
            _ => None,
        }
    }

    /// Stable snake_case name (CSV, JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::HalfOpen => "half_open",
            Self::Open => "open",
        }
    }
}

/// One recorded transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// Offset from t0.
    pub at: Duration,
    /// State entered.
    pub state: BreakerState,
}

/// Breaker facts for one endpoint of one arm.
#[derive(Debug, Clone)]
pub struct EndpointBreaker {
    /// Endpoint as named in the events (base URL or node index).
    pub endpoint: String,
    /// Current (at the end of the run: final) state.
    pub state: BreakerState,
    /// Transitions into `open`.
    pub opens: u64,
    /// Total time in `open` (closed at the run's end by `finish`).
    pub time_open: Duration,
    /// Total time in `half_open`.
    pub time_half_open: Duration,
    /// First [`MAX_TRANSITIONS`] transitions, in order.
    pub transitions: Vec<Transition>,
    /// Transitions not kept because the list was full.
    pub transitions_dropped: u64,
    /// Worst state seen in the current interval (for the time series).
    pub(crate) interval_worst: BreakerState,
    since: Duration,
}

impl EndpointBreaker {
    /// A closed breaker seen for the first time.
    pub fn new(endpoint: String) -> Self {
        Self {
            endpoint,
            state: BreakerState::Closed,
            opens: 0,
            time_open: Duration::ZERO,
            time_half_open: Duration::ZERO,
            transitions: Vec::new(),
            transitions_dropped: 0,
            interval_worst: BreakerState::Closed,
            since: Duration::ZERO,
        }
    }

    /// Applies a transition at `at`.
    pub fn transition(&mut self, at: Duration, state: BreakerState) {
        self.close_span(at);
        if state == BreakerState::Open && self.state != BreakerState::Open {
            self.opens += 1;
        }
        self.state = state;
        self.since = at.max(self.since);
        self.interval_worst = self.interval_worst.max(state);
        if self.transitions.len() < MAX_TRANSITIONS {
            self.transitions.push(Transition { at, state });
        } else {
            self.transitions_dropped += 1;
        }
    }

    /// Accounts the time spent in the current state up to `at`.
    pub(crate) fn close_span(&mut self, at: Duration) {
        let spent = at.saturating_sub(self.since);
        match self.state {
            BreakerState::Open => self.time_open += spent,
            BreakerState::HalfOpen => self.time_half_open += spent,
            BreakerState::Closed => {}
        }
        self.since = at.max(self.since);
    }

    /// Takes the worst state of the interval just closed and starts the next
    /// one from the current state.
    pub(crate) fn take_interval_worst(&mut self) -> BreakerState {
        let worst = self.interval_worst;
        self.interval_worst = self.state;
        worst
    }

    /// Spans `[start, end)` during which the breaker was not closed, from the
    /// kept transitions (`end` closes a span still open at the run's end).
    pub fn not_closed_spans(&self, end: Duration) -> Vec<(Duration, Duration)> {
        let mut spans = Vec::new();
        let mut start: Option<Duration> = None;
        for t in &self.transitions {
            match (t.state, start) {
                (BreakerState::Closed, Some(s)) => {
                    spans.push((s, t.at));
                    start = None;
                }
                (BreakerState::Closed, None) => {}
                (_, None) => start = Some(t.at),
                (_, Some(_)) => {}
            }
        }
        if let Some(s) = start {
            spans.push((s, end.max(s)));
        }
        spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> Duration {
        Duration::from_secs(x)
    }

    #[test]
    fn open_time_and_spans_follow_transitions() {
        let mut b = EndpointBreaker::new("n0".into());
        b.transition(s(2), BreakerState::Open);
        b.transition(s(5), BreakerState::HalfOpen);
        b.transition(s(6), BreakerState::Open);
        b.transition(s(8), BreakerState::Closed);
        b.transition(s(10), BreakerState::Open);
        b.close_span(s(12));
        assert_eq!(b.opens, 3);
        assert_eq!(b.time_open, s(3 + 2 + 2));
        assert_eq!(b.time_half_open, s(1));
        assert_eq!(
            b.not_closed_spans(s(12)),
            vec![(s(2), s(8)), (s(10), s(12))]
        );
    }

    #[test]
    fn transition_list_is_capped() {
        let mut b = EndpointBreaker::new("n0".into());
        for i in 0..(MAX_TRANSITIONS as u64 + 10) {
            let st = if i % 2 == 0 {
                BreakerState::Open
            } else {
                BreakerState::Closed
            };
            b.transition(Duration::from_millis(i), st);
        }
        assert_eq!(b.transitions.len(), MAX_TRANSITIONS);
        assert_eq!(b.transitions_dropped, 10);
        assert_eq!(b.opens, (MAX_TRANSITIONS as u64 + 10) / 2);
    }
}
