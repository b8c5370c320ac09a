//! Streams interval histograms to an HdrHistogram interval log (V2, deflate
//! compressed, tagged), readable by the standard HdrHistogram tools.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use super::error::RecordError;

/// An open interval log.
pub struct HlogWriter {
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
    path: PathBuf,
}

impl std::fmt::Debug for HlogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlogWriter")
            .field("path", &self.path)
            .finish()
    }
}

impl HlogWriter {
    /// Creates the file and writes the header (StartTime and BaseTime = `t0`,
    /// so interval timestamps are offsets from the run's t0).
    pub fn create(path: &Path, t0: SystemTime) -> Result<Self, RecordError> {
        let file = File::create(path).map_err(|e| RecordError::io(path, e))?;
        let mut out = BufWriter::new(file);
        let mut serializer = V2DeflateSerializer::new();
        let mut builder = IntervalLogWriterBuilder::new();
        builder
            .add_comment(&format!(
                "[Logged with harness {}, values in microseconds]",
                env!("CARGO_PKG_VERSION")
            ))
            .add_comment("[Histogram log format version 1.3]")
            .with_start_time(t0)
            .with_base_time(t0);
        builder
            .begin_log_with(&mut out, &mut serializer)
            .map_err(|e| RecordError::io(path, e))?;
        out.write_all(
            b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
        )
        .map_err(|e| RecordError::io(path, e))?;
        Ok(Self {
            out,
            serializer,
            path: path.to_path_buf(),
        })
    }

    /// Appends one tagged interval histogram.
    pub fn write(
        &mut self,
        tag: &str,
        h: &Histogram<u64>,
        start: Duration,
        length: Duration,
    ) -> Result<(), RecordError> {
        // A builder without headers writes nothing itself; it only lends us a
        // writer for this line, which avoids a self-referential struct.
        // Values (and the max column) stay in microseconds: a divisor would
        // be re-announced by every such builder.
        let mut w = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.out, &mut self.serializer)
            .map_err(|e| RecordError::io(&self.path, e))?;
        w.write_histogram(h, start, length, Tag::new(tag))
            .map_err(|e| RecordError::Hlog {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    /// Flushes buffered lines to disk.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush().map_err(|e| RecordError::io(&self.path, e))
    }
}
