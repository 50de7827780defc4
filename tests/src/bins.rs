//! Finding the real `warren-server` and `warren` binaries, building them once per test process.
//!
//! `cargo test -p warren-e2e` builds only this package's targets, so the binaries of the other
//! packages may be missing or stale. The first test that needs a binary runs
//! `$CARGO build --bins -p warren-server -p warren` in the workspace with the profile and target
//! directory this test binary was built with; cargo has released its build lock by the time test
//! binaries run, so the nested build does not wait on the outer one.

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
    let output = Command::new(&cargo)
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
