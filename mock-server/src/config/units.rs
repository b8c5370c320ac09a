//! Human units for scenario files, shared with the whole workspace through
//! the `units` crate: durations (`250ms`, `2s`, `0`), byte sizes (`1MiB`) and
//! probabilities (`0.3` or `30%`). Each validates inside `Deserialize`, so
//! serde_yaml attaches the line and column and serde_path_to_error the field
//! path, wherever the value sits in a larger document.

pub use ::units::{parse_duration, ByteSize, HumanDuration, Probability, UnitError};
