//! Reads `latency.hlog` back: accumulates the interval histograms of each
//! tag, as the HdrHistogram tools would. Used by tests and by anyone who
//! wants whole-run histograms from a report directory.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

use crate::record::latency_histogram;

/// Errors reading an interval log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HlogReadError {
    /// A line is not an interval log line.
    #[error("latency.hlog: unparsable line at byte {offset}")]
    Parse {
        /// Byte offset of the line.
        offset: usize,
    },
    /// A histogram is not valid base64.
    #[error("latency.hlog: interval {index}: bad base64: {source}")]
    Base64 {
        /// Interval index (0-based, all tags).
        index: usize,
        /// Cause.
        #[source]
        source: base64::DecodeError,
    },
    /// A histogram could not be decoded.
    #[error("latency.hlog: interval {index}: {message}")]
    Decode {
        /// Interval index (0-based, all tags).
        index: usize,
        /// Cause.
        message: String,
    },
}

/// Accumulated histogram per tag (untagged intervals under `""`), with the
/// number of intervals read for each.
pub fn read_hlog(bytes: &[u8]) -> Result<BTreeMap<String, (Histogram<u64>, usize)>, HlogReadError> {
    let mut out: BTreeMap<String, (Histogram<u64>, usize)> = BTreeMap::new();
    let mut deserializer = Deserializer::new();
    let mut index = 0;
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|e| match e {
            hdrhistogram::serialization::interval_log::LogIteratorError::ParseError { offset } => {
                HlogReadError::Parse { offset }
            }
        })?;
        let LogEntry::Interval(ilh) = entry else {
            continue;
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(ilh.encoded_histogram())
            .map_err(|source| HlogReadError::Base64 { index, source })?;
        let h: Histogram<u64> =
            deserializer
                .deserialize(&mut raw.as_slice())
                .map_err(|e| HlogReadError::Decode {
                    index,
                    message: format!("{e:?}"),
                })?;
        let tag = ilh
            .tag()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default();
        let slot = out.entry(tag).or_insert_with(|| (latency_histogram(), 0));
        slot.0.add(&h).map_err(|e| HlogReadError::Decode {
            index,
            message: format!("{e:?}"),
        })?;
        slot.1 += 1;
        index += 1;
    }
    Ok(out)
}
