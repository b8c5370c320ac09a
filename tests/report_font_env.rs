//! `HARNESS_FONT` (README: "or `HARNESS_FONT=/path/font.ttf`") is the font
//! the charts use, before any searched one. Its own test binary, because
//! font registration is process-wide.

mod report_common;

use harness::outcome::Arm;
use harness::report::{default_font_paths, ensure_font, write_report};
use report_common::*;

/// Any TTF of the machine other than the DejaVu Sans the search would find
/// first, so the test can tell which one was registered.
fn another_font() -> std::path::PathBuf {
    for p in [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
        "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    ] {
        if std::path::Path::new(p).is_file() {
            return p.into();
        }
    }
    panic!("no second DejaVu font found to set HARNESS_FONT to");
}

#[test]
fn harness_font_is_the_font_the_charts_use() {
    let dir = temp_dir("font-env");
    // A copy under a name no search would find.
    let chosen = dir.join("chosen-by-env.ttf");
    std::fs::copy(another_font(), &chosen).unwrap();
    std::env::set_var("HARNESS_FONT", &chosen);
    assert_eq!(default_font_paths()[0], chosen);
    let (data, info) = run(
        &dir,
        &Synth {
            seconds: 3,
            rate: 20,
            arms: vec![Arm::Resilient],
            stream: false,
        },
    );
    let files = write_report(&dir.join("report"), &data, &info).unwrap();
    assert!(files.png_skipped.is_none(), "{:?}", files.png_skipped);
    for c in &files.charts {
        let png = std::fs::read(c.png.as_ref().expect("PNG written")).unwrap();
        assert!(png_size(&png).0 >= 1200, "{}", c.name);
    }
    // The process registered the file HARNESS_FONT names, not DejaVu Sans.
    assert_eq!(ensure_font(&[]).unwrap(), chosen);
}
