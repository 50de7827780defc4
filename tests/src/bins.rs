//! Finding the real `warren-server` and `warren` binaries, building them once per test process.
//!
//! `cargo test -p warren-e2e` builds only this package's targets, so the binaries of the other
//! packages may be missing or stale. The first test that needs a binary runs
//! `$CARGO build --bins -p warren-server -p warren` in the workspace with the profile and target
//! directory this test binary was built with; cargo has released its build lock by the time test
//! binaries run, so the nested build does not wait on the outer one. The nested build runs
//! without the package variables cargo gave this process, so it and the outer build agree on
//! what is up to date.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The directory holding the built binaries, such as `target/debug`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    // target/<profile>/deps/<test binary>
    let deps = exe.parent().expect("the test binary lives in a directory");
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps/ has a parent")
    } else {
        deps
    };
    dir.to_path_buf()
}

/// The cargo arguments that select the profile whose output lands in `dir`.
fn profile_args(dir: &Path) -> Vec<String> {
    match dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => Vec::new(),
        Some("release") => vec!["--release".to_owned()],
        Some(other) => vec!["--profile".to_owned(), other.to_owned()],
    }
}

fn build(dir: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("the e2e crate has no parent directory")?;
    let target_dir = dir
        .parent()
        .ok_or("the profile directory has no parent (the target directory)")?;
    let mut command = Command::new(&cargo);
    // `cargo test` gives this process the variables of the e2e package (`CARGO_MANIFEST_DIR`,
    // `CARGO_PKG_NAME`, …). Passed on, they reach build scripts that watch them (ring's watches
    // `CARGO_MANIFEST_DIR`), which then look changed to both builds: each `cargo test` after a
    // nested build (and each nested build after it) recompiled ring, rustls, axum, reqwest and
    // both binaries, minutes each time. A shell's `cargo build` has none of them.
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if is_package_variable(name) {
            command.env_remove(name);
        }
    }
    let output = command
        .current_dir(workspace)
        .args(["build", "--bins", "-p", "warren-server", "-p", "warren"])
        .args(profile_args(dir))
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo build --bins -p warren-server -p warren` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Whether `name` is one of the variables cargo sets for a package's build script or test
/// process (not one a user sets to configure cargo, such as `CARGO_HOME`).
fn is_package_variable(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_MANIFEST_LINKS"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "CARGO_RUSTC_CURRENT_DIR"
            | "OUT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

/// The path of a workspace binary, built (once per process) if needed.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let dir = profile_dir();
        build(&dir).map(|()| dir)
    });
    match built {
        Ok(dir) => dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)),
        Err(e) => panic!("cannot build the binaries for the e2e tests: {e}"),
    }
}

/// `warren-server`.
pub fn server_bin() -> PathBuf {
    bin("warren-server")
}

/// `warren`, the CLI.
pub fn cli_bin() -> PathBuf {
    bin("warren")
}
