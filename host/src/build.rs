//! Building a plugin from its Cargo project for `wasm32-wasip2`, so that
//! candidates can hand in (and run) their plugin's source as well as a
//! built `.wasm`.
//!
//! The build uses the harness's own target directory under the cache
//! (`<cache>/cargo-target`), so repeated runs are incremental and a build
//! never waits on the lock of a target directory another cargo holds.
//!
//! A plugin depends on `certify-sdk` by version, as on any published crate.
//! [`SDK_PATH_ENV`] names a local copy of the SDK instead (a checkout's
//! `sdk/`): the build patches it in for crates.io, as a `[patch.crates-io]`
//! in the plugin's own manifest would, without editing the candidate's files.

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

/// The environment variable naming a local `certify-sdk` source directory
/// that plugin builds use instead of the crates.io release.
pub const SDK_PATH_ENV: &str = "CERTIFY_SDK_PATH";

/// `--config` for cargo that patches `certify-sdk` to `sdk` (a directory
/// with the SDK's Cargo.toml), or why it cannot.
fn sdk_patch(sdk: &Path) -> Result<String, Error> {
    let dir = sdk
        .canonicalize()
        .map_err(|e| Error::Io(format!("{SDK_PATH_ENV}={}", sdk.display()), e))?;
    if !dir.join("Cargo.toml").is_file() {
        return Err(Error::Usage(format!(
            "{SDK_PATH_ENV}={} is not the certify-sdk crate: it has no Cargo.toml",
            sdk.display()
        )));
    }
    let path = dir.to_str().ok_or_else(|| {
        Error::Usage(format!(
            "{SDK_PATH_ENV}={} is not valid UTF-8",
            sdk.display()
        ))
    })?;
    // A JSON string is a TOML basic string.
    Ok(format!(
        "patch.crates-io.certify-sdk.path={}",
        serde_json::Value::from(path)
    ))
}

/// The `--config` patch for `$CERTIFY_SDK_PATH` and the SDK's directory, when set.
pub(crate) fn sdk_patch_from_env() -> Result<Option<(String, PathBuf)>, Error> {
    match std::env::var_os(SDK_PATH_ENV).filter(|v| !v.is_empty()) {
        Some(sdk) => {
            let patch = sdk_patch(Path::new(&sdk))?;
            let dir = Path::new(&sdk)
                .canonicalize()
                .map_err(|e| Error::Io(format!("{SDK_PATH_ENV}={}", sdk.display()), e))?;
            Ok(Some((patch, dir)))
        }
        None => Ok(None),
    }
}

/// `cargo build --release --target wasm32-wasip2` in `project`; returns the `.wasm`.
pub fn build(project: &Path, target_dir: &Path) -> Result<PathBuf, Error> {
    let manifest = project.join("Cargo.toml");
    tracing::info!("building the plugin {}", project.display());
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    if let Some((patch, _)) = sdk_patch_from_env()? {
        cargo.arg("--config").arg(patch);
    }
    let output = cargo
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
        .env_remove(crate::services::SIGN_KEY_ENV)
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
        // Each hint only when it is the cause: a broken manifest or a compile error
        // is cargo's to explain.
        let missing_target = [
            "may not be installed",
            "can't find crate for `core`",
            "can't find crate for `std`",
        ]
        .iter()
        .any(|m| stderr.contains(m));
        let hint = if stderr.contains("no matching package named `certify-sdk`") {
            format!(
                " (certify-sdk is not on the registry cargo uses: set {SDK_PATH_ENV} to the sdk/ directory of a certify checkout, or add `[patch.crates-io] certify-sdk = {{ path = \"...\" }}` to the plugin's Cargo.toml)"
            )
        } else if missing_target {
            " (is the target installed? `rustup target add wasm32-wasip2`)".to_string()
        } else {
            String::new()
        };
        return Err(Error::Usage(format!(
            "building the plugin {} failed{hint}:\n{}",
            project.display(),
            tail.join("\n")
        )));
    }
    // The last cdylib artifact cargo reports is the plugin.
    let wasm = last_wasm(&String::from_utf8_lossy(&output.stdout));
    wasm.ok_or_else(|| {
        Error::Usage(format!(
            "{} built, but produced no .wasm component; set `crate-type = [\"cdylib\"]` in its [lib] section",
            project.display()
        ))
    })
}

/// The last cdylib `.wasm` artifact in cargo's JSON messages.
pub(crate) fn last_wasm(messages: &str) -> Option<PathBuf> {
    messages
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
        .next_back()
}
