#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The connectors are a library of outside connections: no web framework, no database, no
//! templates among the normal dependencies (axum is only a dev-dependency, for test servers).

#[test]
fn no_framework_or_database_in_the_library() {
    // The directory at run time (cargo and nextest set it), so that a test binary built from
    // another checkout of the same sources reads this checkout's manifest.
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let manifest = std::fs::read_to_string(format!("{dir}/Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    for banned in [
        "axum",
        "sqlx",
        "askama",
        "sea-query",
        "yiwang-store",
        "yiwang-services",
        "yiwang-web",
    ] {
        assert!(
            !dependencies
                .lines()
                .any(|l| l.trim_start().starts_with(banned)),
            "{banned} is a dependency of yiwang-connectors"
        );
    }
}
