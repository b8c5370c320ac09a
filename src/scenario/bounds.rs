//! What `validate` refuses because `run` could not do it in bounded memory
//! and time, each bound with its reason (README, "Limits"). The fake
//! server's own bounds (nodes, output tokens, body size) are checked by its
//! crate, in `ServerConfig::validate`.

use super::load::Model;
use super::Scenario;
use crate::schedule::Schedule;

/// Most requests the open model's schedule may hold (mean rate x
/// duration). The schedule is walked to count it, every request costs the
/// recorder and may write an event line (about 50 bytes each), and a
/// single process cannot offer more in a day-long run anyway; above this
/// the run would take minutes before the first request or fill the disk.
pub const MAX_REQUESTS: f64 = 10_000_000.0;

/// Most virtual users of the closed model. Each user is a task with a
/// connection of its own; beyond this the machine's file descriptors and
/// memory, not the client under test, decide the result.
pub const MAX_USERS: usize = 100_000;

/// Checks `s` against the bounds above; the error names the field, the
/// bound and its reason.
pub fn check(s: &Scenario) -> Result<(), String> {
    match s.load.model {
        Model::Open => {
            let Ok(shape) = s.load.shape() else {
                return Ok(()); // load.validate() names that error
            };
            let secs = s.duration.as_secs_f64();
            let mean = Schedule::new(shape, s.duration, s.seed).mean_rate();
            let requests = mean * secs;
            if requests.is_nan() || requests > MAX_REQUESTS {
                return Err(format!(
                    "load.{} asks for about {requests:.3e} requests ({mean:.3e}/s mean for {secs} s); at most {MAX_REQUESTS:.0} per run: the schedule is counted before the first request and every request costs the recorder and the events file. Lower the rate or the duration",
                    if s.load.rate.is_some() { "rate" } else { "shape" },
                ));
            }
        }
        Model::Closed => {
            if let Some(u) = s.load.users {
                if u > MAX_USERS {
                    return Err(format!(
                        "load.users must be at most {MAX_USERS} (each user is a task with a connection of its own; beyond that file descriptors and memory, not the client, decide the result), got {u}"
                    ));
                }
            }
        }
    }
    Ok(())
}
