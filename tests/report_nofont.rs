//! Without any usable font the report still succeeds: SVGs are written
//! (valid, with a plain SVG title), PNGs are skipped with a reason, and
//! index.html shows the SVGs. Its own test binary, because font
//! registration is process-wide.

mod report_common;

use harness::outcome::Arm;
use harness::report::{write_report_with, ReportOptions};
use report_common::*;

#[test]
fn missing_font_skips_pngs_but_writes_svgs() {
    let dir = temp_dir("nofont");
    let (data, info) = run(
        &dir,
        &Synth {
            seconds: 5,
            rate: 50,
            arms: vec![Arm::Resilient],
            stream: false,
        },
    );
    // A directory with no fonts and a file that is not a font.
    let empty = dir.join("no-fonts-here");
    std::fs::create_dir_all(&empty).unwrap();
    let bogus = dir.join("bogus.ttf");
    std::fs::write(&bogus, b"definitely not a font").unwrap();
    let opts = ReportOptions {
        font_paths: vec![empty, bogus, dir.join("missing.ttf")],
    };
    let files = write_report_with(&dir.join("report"), &data, &info, &opts).unwrap();
    let why = files
        .png_skipped
        .as_deref()
        .expect("PNGs reported as skipped");
    assert!(why.contains("font"), "{why}");
    assert!(files.warnings.is_empty(), "{:?}", files.warnings);
    assert_eq!(files.charts.len(), 4);
    let index = std::fs::read_to_string(&files.index).unwrap();
    assert!(index.contains(why.split(':').next().unwrap()));
    for c in &files.charts {
        assert!(c.png.is_none());
        assert!(!c.svg.with_extension("png").exists(), "{}: no PNG", c.name);
        let svg = std::fs::read_to_string(&c.svg).unwrap();
        assert_valid_svg(&svg);
        assert!(
            svg.contains(&format!("<title>{}</title>", c.title)),
            "{}",
            c.name
        );
        assert!(index.contains(&format!("\"{}.svg\"", c.name)));
    }
    // The rest of the report is unaffected.
    assert_eq!(files.summary_data.arms["resilient"].requests, 250);
    assert!(files.timeseries.exists() && files.hlog.exists() && files.events.exists());
}
