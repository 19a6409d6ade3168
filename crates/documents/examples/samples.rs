//! Writes one PDF of each notice kind (and a three-page acceptance notice) to a folder, to look
//! at them: `cargo run -p yiwang-documents --example samples -- /tmp/notices [font path]`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use yiwang_documents::Renderer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "notices".into()));
    let font = args.next().map(PathBuf::from);
    let renderer = Renderer::new(font.as_deref())?;
    std::fs::create_dir_all(&dir)?;
    let mut samples = common::all();
    samples.push(("long_acceptance", common::long_acceptance(60)));
    for (name, notice) in samples {
        let path = dir.join(format!("{name}.pdf"));
        std::fs::write(&path, renderer.render(&notice)?)?;
        println!("{}", path.display());
    }
    Ok(())
}
