//! What every chart is: something that draws itself on any plotters
//! backend, and the files one chart became.

use std::path::PathBuf;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, DrawResult};

/// A chart that can draw itself on any plotters backend.
pub(crate) trait Chart {
    /// File stem (`latency_over_time`).
    fn name(&self) -> &'static str;
    /// Human title.
    fn title(&self) -> String;
    /// Pixel size.
    fn size(&self) -> (u32, u32) {
        style::SIZE
    }
    /// Draws everything; `text` is false when no font is available.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, text: bool) -> DrawResult;
}

/// One chart written to the report directory.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File stem.
    pub name: String,
    /// Human title.
    pub title: String,
    /// The SVG file.
    pub svg: PathBuf,
    /// The PNG file, unless PNGs were skipped.
    pub png: Option<PathBuf>,
}
