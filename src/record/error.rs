//! What can go wrong while recording: the files it streams to.

use std::path::{Path, PathBuf};

/// Errors of the recorder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A file could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A histogram could not be encoded into the interval log.
    #[error("{}: cannot write interval histogram: {message}", path.display())]
    Hlog {
        /// The log file.
        path: PathBuf,
        /// Cause.
        message: String,
    },
    /// The interval must be longer than zero.
    #[error("recorder interval must be longer than zero")]
    ZeroInterval,
}

impl RecordError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
