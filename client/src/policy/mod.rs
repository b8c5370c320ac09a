//! Resilience policies as pure state machines: each takes `now`
//! (`tokio::time::Instant`) and, where random, an injected `rand::Rng`, so it
//! is unit-tested and benchmarked without I/O. The bulkhead is the exception:
//! it is an async semaphore by nature, cancellation-safe on drop.
//!
//! The client composes them per request: rate limiter -> bulkhead -> for each
//! attempt { balancer pick (skipping ejected endpoints and open breakers) ->
//! breaker permit -> send -> record outcome in breaker, ejection, budget } with
//! backoff between attempts.

pub mod backoff;
pub mod balancer;
pub mod breaker;
pub mod bulkhead;
pub mod ejection;
pub mod priority;
pub mod rate_limit;
pub mod response_cache;
pub mod retry_budget;

pub use backoff::{
    parse_retry_after, parse_retry_after_ms, retry_after_from_headers, Backoff, BackoffConfig,
    InvalidBackoff, Jitter,
};
pub use balancer::{Balancer, BalancerConfig, InvalidBalancer, Strategy};
pub use breaker::{
    BreakerConfig, BreakerState, CircuitBreaker, InvalidBreaker, Permit, Rejected, Transition,
    TransitionReason, WindowCounts, WindowType,
};
pub use bulkhead::{Bulkhead, BulkheadConfig, BulkheadPermit, InvalidBulkhead, Shed};
pub use ejection::{EjectionConfig, EjectionEvent, InvalidEjection, OutlierDetector};
pub use priority::{
    CacheConfig, ClassConfig, ClassFallback, ClassPermit, InvalidPriorities, PrioritiesConfig,
    Priority, PriorityGate,
};
pub use rate_limit::{
    Algorithm as RateLimitAlgorithm, InvalidRateLimit, RateLimitConfig, RateLimited, RateLimiter,
};
pub use response_cache::{prompt_key, ResponseCache};
pub use retry_budget::{InvalidRetryBudget, RetryBudget, RetryBudgetConfig};
