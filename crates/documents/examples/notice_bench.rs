//! Renders N acceptance notices (five materials, one page, QR code) with one renderer and prints
//! notices per second. Build it in release mode:
//!
//! ```text
//! cargo run --release -p yiwang-documents --example notice_bench -- [N] [font path]
//! ```
//!
//! Each notice differs (its number and case number) so that nothing is cached between them; the
//! font is loaded once, as the platform does.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use yiwang_documents::Renderer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(500);
    let font = args.next().map(PathBuf::from);

    let started = Instant::now();
    let renderer = Renderer::new(font.as_deref())?;
    let load = started.elapsed();
    println!(
        "font: {} ({}), loaded in {:.1} ms",
        renderer.font_family(),
        renderer
            .font_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        load.as_secs_f64() * 1e3
    );

    let notices: Vec<_> = (0..n)
        .map(|i| {
            let mut notice = common::acceptance();
            notice.header.document_number = format!("岳市监受字〔2026〕第{:04}号", i + 1);
            notice.header.case_number = format!("{}{:06}", &common::CASE_NUMBER[..37], i);
            notice
        })
        .collect();

    // One warm-up rendering, not counted.
    let first = renderer.render(&notices[0])?;
    let started = Instant::now();
    let mut bytes = 0;
    for notice in &notices {
        bytes += renderer.render(notice)?.len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{n} acceptance notices in {:.2} s: {:.0} notices/s, {:.2} ms each, {} KiB each (first {} bytes)",
        elapsed,
        n as f64 / elapsed,
        elapsed * 1e3 / n as f64,
        bytes / n.max(1) / 1024,
        first.len()
    );
    Ok(())
}
