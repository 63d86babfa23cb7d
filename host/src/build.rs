//! Building a plugin from its Cargo project for `wasm32-wasip2`, so that
//! candidates can hand in (and run) their plugin's source as well as a
//! built `.wasm`.
//!
//! The build uses the harness's own target directory under the cache
//! (`<cache>/cargo-target`), so repeated runs are incremental and a build
//! never waits on the lock of a target directory another cargo holds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Error;

/// Where a plugin comes from.
#[derive(Debug, Clone)]
pub enum PluginSource {
    /// A built component.
    Wasm(PathBuf),
    /// A Cargo project (a directory with `Cargo.toml`) to build.
    Project(PathBuf),
}

impl PluginSource {
    /// A directory with a `Cargo.toml` is a project; anything else a `.wasm`.
    pub fn detect(path: &Path) -> PluginSource {
        if path.is_dir() && path.join("Cargo.toml").is_file() {
            PluginSource::Project(path.to_path_buf())
        } else {
            PluginSource::Wasm(path.to_path_buf())
        }
    }

    /// The `.wasm` to load: the file itself, or the product of building the project.
    pub fn wasm(&self, cache_root: &Path) -> Result<PathBuf, Error> {
        match self {
            PluginSource::Wasm(p) => Ok(p.clone()),
            PluginSource::Project(dir) => build(dir, &cache_root.join("cargo-target")),
        }
    }
}

/// `cargo build --release --target wasm32-wasip2` in `project`; returns the `.wasm`.
pub fn build(project: &Path, target_dir: &Path) -> Result<PathBuf, Error> {
    let manifest = project.join("Cargo.toml");
    tracing::info!("building the plugin {}", project.display());
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        // Flags for whatever built the harness must not leak into the plugin.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        // A plugin's build scripts are the candidate's code: the harness's signing key
        // is not theirs to read.
        .env_remove(crate::commands::review::SIGN_KEY_ENV)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            Error::Io(
                "running cargo to build the plugin (is Rust installed?)".into(),
                e,
            )
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        // The target hint only when the target is what is missing: a broken manifest
        // or a compile error is cargo's to explain.
        let missing_target = [
            "may not be installed",
            "can't find crate for `core`",
            "can't find crate for `std`",
        ]
        .iter()
        .any(|m| stderr.contains(m));
        return Err(Error::Usage(format!(
            "building the plugin {} failed{}:\n{}",
            project.display(),
            if missing_target {
                " (is the target installed? `rustup target add wasm32-wasip2`)"
            } else {
                ""
            },
            tail.join("\n")
        )));
    }
    // The last cdylib artifact cargo reports is the plugin.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let wasm = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .filter_map(|m| {
            m["filenames"].as_array().and_then(|f| {
                f.iter()
                    .filter_map(|f| f.as_str())
                    .find(|f| f.ends_with(".wasm"))
                    .map(PathBuf::from)
            })
        })
        .next_back();
    wasm.ok_or_else(|| {
        Error::Usage(format!(
            "{} built, but produced no .wasm component; set `crate-type = [\"cdylib\"]` in its [lib] section",
            project.display()
        ))
    })
}
