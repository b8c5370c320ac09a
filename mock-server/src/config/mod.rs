//! Configuration: the scenario's `server:` section and how it is read.
//!
//! Field-level checks live in `Deserialize` (validated newtypes), so errors
//! carry line, column and path whether this section is parsed alone or inside
//! the harness scenario. Cross-field checks are in [`ServerConfig::validate`].
//! This file only names the parts; each lives in its own file.

pub mod dist;
mod error;
pub mod fault;
mod load;
mod server_config;
pub mod units;

pub use crate::api::models::RetiredModels;
pub use dist::{Dist, DurationDist, NumberDist, TokenRate};
pub use error::{parse_yaml, ConfigError};
pub use fault::{Fault, FaultKind, FaultParams};
pub use load::{load_server_config, parse_server_config};
pub use server_config::{
    AuthConfig, Capacity, Generation, Keys, Phase, PhaseInfo, ServerConfig, WhenFull, MAX_NODES,
};
pub use units::{ByteSize, HumanDuration, Probability};
