//! Finds the example and fixture plugins for tests, here and in the server's end-to-end
//! tests: `example("role-mapper-example")` is the path of its built `.wasm`.
//!
//! With `GUILDHALL_PLUGIN_DIR` set, the file is taken from that directory as is. Otherwise the
//! examples workspace (`plugins/examples`) is built once per process for wasm32-wasip2 in
//! release mode, into `$CARGO_TARGET_DIR` (else `<workspace>/target`); cargo does nothing when
//! the components are up to date, and rebuilds them when an example changed.

use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The guest target.
const TARGET: &str = "wasm32-wasip2";

/// The examples workspace manifest.
pub fn examples_manifest() -> PathBuf {
    workspace_root().join("plugins/examples/Cargo.toml")
}

/// The WAT fixtures (such as `wrong-world.wat`).
pub fn testdata_dir() -> PathBuf {
    workspace_root().join("plugins/examples/testdata")
}

/// The built component of the example crate `name` (hyphens or underscores), building the
/// examples first if needed.
pub fn example(name: &str) -> io::Result<PathBuf> {
    let file = format!("{}.wasm", name.replace('-', "_"));
    if let Some(dir) = std::env::var_os("GUILDHALL_PLUGIN_DIR") {
        let path = PathBuf::from(dir).join(&file);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, format!("{} not found", path.display())))
        };
    }
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT.get_or_init(build_examples).clone().map_err(io::Error::other)?;
    let path = target_dir().join(TARGET).join("release").join(&file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} not found after building {}", path.display(), examples_manifest().display()),
        ))
    }
}

fn workspace_root() -> PathBuf {
    // This crate lives in `<workspace>/plugins/host`.
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

fn build_examples() -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--locked", "--release", "--target", TARGET, "--manifest-path"])
        .arg(examples_manifest())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .map_err(|e| format!("cannot run cargo to build the example plugins: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "building the example plugins failed ({}); is the {TARGET} target installed \
             (`rustup target add {TARGET}`)?\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
