//! Finds a TTF font on disk and registers it with plotters at runtime (there
//! are no system font libraries). Registration is process-wide and happens
//! at most once; the font bytes are leaked on purpose (plotters wants
//! `'static` data and one font per process is a bounded cost).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use plotters::style::{register_font, FontStyle};

/// Family name the charts ask for.
pub const FAMILY: &str = "sans-serif";

/// Environment variable naming a TTF file to use before any search.
pub const FONT_ENV: &str = "HARNESS_FONT";

static REGISTERED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Where fonts are looked for by default: `$HARNESS_FONT`, DejaVu Sans at
/// its usual places, then the usual font directories (searched recursively).
pub fn default_font_paths() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os(FONT_ENV) {
        v.push(PathBuf::from(p));
    }
    for p in [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "/Library/Fonts",
        "/System/Library/Fonts",
        "C:\\Windows\\Fonts",
    ] {
        v.push(PathBuf::from(p));
    }
    if let Some(home) = std::env::var_os("HOME") {
        v.push(Path::new(&home).join(".local/share/fonts"));
        v.push(Path::new(&home).join(".fonts"));
    }
    v
}

/// Why no font could be registered (PNG charts are then skipped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    /// No TTF file under any searched path.
    #[error(
        "no TTF font found (searched {}; set {}=/path/to/font.ttf)",
        list(searched),
        FONT_ENV
    )]
    NotFound {
        /// The files and folders searched.
        searched: Vec<PathBuf>,
    },
    /// Files were found, none registered.
    #[error("no usable TTF font: tried {}", tried.join(", "))]
    Unusable {
        /// Each file tried and why it failed.
        tried: Vec<String>,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Registers a font found under `paths` (first usable wins); returns the
/// file used, or why none was usable.
pub fn ensure_font(paths: &[PathBuf]) -> Result<PathBuf, FontError> {
    let mut reg = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = reg.as_ref() {
        return Ok(p.clone());
    }
    let candidates = candidates(paths);
    if candidates.is_empty() {
        return Err(FontError::NotFound {
            searched: paths.to_vec(),
        });
    }
    let mut tried = Vec::new();
    // A few tries only: each failed attempt leaks its bytes.
    for path in candidates.into_iter().take(4) {
        let Ok(bytes) = std::fs::read(&path) else {
            tried.push(format!("{} (unreadable)", path.display()));
            continue;
        };
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        if register_font(FAMILY, FontStyle::Normal, bytes).is_ok() {
            *reg = Some(path.clone());
            return Ok(path);
        }
        tried.push(format!("{} (not a usable font)", path.display()));
    }
    Err(FontError::Unusable { tried })
}

fn candidates(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else if p.is_dir() {
            let mut found = Vec::new();
            walk(p, 0, &mut found);
            found.sort_by_key(|f| rank(f));
            out.extend(found.into_iter().filter(|f| rank(f) < 3));
        }
    }
    out.dedup();
    out
}

/// Lower is better: a plain sans regular face first.
fn rank(p: &Path) -> u8 {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    const BEST: [&str; 4] = [
        "dejavusans.ttf",
        "liberationsans-regular.ttf",
        "notosans-regular.ttf",
        "freesans.ttf",
    ];
    const STYLED: [&str; 8] = [
        "bold",
        "italic",
        "oblique",
        "mono",
        "condensed",
        "light",
        "math",
        "serif",
    ];
    if BEST.contains(&name.as_str()) {
        0
    } else if name.contains("sans") && !STYLED.iter().any(|s| name.contains(s)) {
        1
    } else if !STYLED.iter().any(|s| name.contains(s)) {
        2
    } else {
        3
    }
}

fn walk(dir: &Path, depth: u8, out: &mut Vec<PathBuf>) {
    if depth > 4 || out.len() > 2000 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, depth + 1, out);
        } else if p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ttf") || e.eq_ignore_ascii_case("otf"))
        {
            out.push(p);
        }
    }
}
