//! The layering rules of ARCHITECTURE.md, checked: engines and the domain know nothing of HTTP,
//! databases or async runtimes; services know nothing of HTTP or templates; every Rust module
//! opens with a `//!` doc comment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    // The directory at run time (cargo and nextest set it), so that a test binary built from
    // another checkout of the same sources looks at this checkout.
    PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn dependencies(krate: &str) -> Vec<String> {
    let toml =
        std::fs::read_to_string(workspace().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once('=') {
            deps.push(name.trim().trim_end_matches(".workspace").to_string());
        }
    }
    deps
}

#[test]
fn engines_and_domain_know_no_framework() {
    for krate in [
        "domain",
        "search",
        "crypto",
        "workflow",
        "calendar",
        "documents",
    ] {
        for dep in dependencies(krate) {
            assert!(
                ![
                    "axum",
                    "askama",
                    "sqlx",
                    "tokio",
                    "tower",
                    "tower-http",
                    "utoipa",
                    "yiwang-store",
                    "yiwang-services"
                ]
                .contains(&dep.as_str()),
                "crates/{krate} must not depend on {dep}"
            );
        }
    }
    for dep in dependencies("services") {
        assert!(
            ![
                "axum",
                "askama",
                "tower",
                "tower-http",
                "utoipa",
                "yiwang-web"
            ]
            .contains(&dep.as_str()),
            "crates/services must not depend on {dep}"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_has_a_doc_comment() {
    let mut files = Vec::new();
    for krate in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    let missing: Vec<_> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            !text.trim_start().starts_with("//!")
        })
        .collect();
    assert!(missing.is_empty(), "modules without a //! doc: {missing:?}");
}
