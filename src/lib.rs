//! The harness: scenario parsing, load generation, recording, reports and
//! gates around the fake DeepSeek server and the resilient client.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// `println!` that ignores a closed stdout (`harness run ... | head`): the
/// report is already on disk, and the exit status must stay the run's, not
/// a panic on a broken pipe.
macro_rules! outln {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that ignores a closed stdout (see `outln!`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub mod cmd;
pub mod describe;
pub mod driver;
pub mod gate;
pub mod judge;
pub mod outcome;
pub mod record;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod sender;
pub mod signals;
pub mod sut;
mod threads;
pub mod tune;
pub mod units;
