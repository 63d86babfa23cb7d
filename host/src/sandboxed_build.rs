//! Building a candidate's plugin from source without running its code on the
//! integrator's machine: `cargo fetch` on the host (downloads, runs no build script),
//! then `cargo build --offline` in the sandbox (`certify-sandbox`), with no network, an
//! environment of the toolchain's variables only, the project and the toolchain
//! read-only, and only the build's own target directory writable.
//!
//! The sandbox sees, read-only: the Cargo workspace the project belongs to, and of
//! `CARGO_HOME` only `bin`, `registry` and `git` (never `credentials.toml` or
//! `config.toml`), of `RUSTUP_HOME` only `toolchains` and `settings.toml`. The target
//! directory is one per project path under the cache, so one candidate's build
//! scripts cannot plant artifacts in another candidate's build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::Digest;

use crate::Error;

fn home_dir(var: &str, default: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(default)))
}

/// The cargo to run: `$CARGO`, else the first `cargo` on `PATH`.
fn cargo() -> PathBuf {
    if let Some(c) = std::env::var_os("CARGO") {
        return PathBuf::from(c);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("cargo"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("cargo"))
}

/// Builds `project` for `wasm32-wasip2` in `sandbox`; returns the `.wasm`. `identity`
/// names the project across runs (its place in the candidate's bundle), so that its
/// dependencies stay built between runs; `integrators` are the directories of the
/// integrator's that the project's manifest points at (path dependencies, patches),
/// readable in the build with the workspaces they belong to.
pub fn build(
    project: &Path,
    identity: &Path,
    cache_root: &Path,
    sandbox: &certify_sandbox::Sandbox,
    integrators: &[PathBuf],
) -> Result<PathBuf, Error> {
    let sdk = crate::build::sdk_patch_from_env()?;
    // The sandbox binds and enters paths as they are: absolute ones.
    let project = &project
        .canonicalize()
        .map_err(|e| Error::Io(format!("reading {}", project.display()), e))?;
    let manifest = project.join("Cargo.toml");
    let cargo = cargo();
    let workspace = locate_and_fetch(&cargo, project, &manifest, sdk.as_ref())?;

    // Step 2, in the sandbox: the build, offline.
    let key = hex::encode(sha2::Sha256::digest(
        identity.as_os_str().as_encoded_bytes(),
    ));
    let target = cache_root.join("sandboxed-target").join(&key[..16]);
    std::fs::create_dir_all(&target)
        .map_err(|e| Error::Io(format!("creating {}", target.display()), e))?;
    let cargo_home = home_dir("CARGO_HOME", ".cargo").unwrap_or_default();
    let rustup_home = home_dir("RUSTUP_HOME", ".rustup").unwrap_or_default();
    let mut readable = vec![workspace.clone()];
    // The integrator's directories with the workspaces they belong to: the SDK's
    // manifest inherits from its workspace's.
    readable.extend(
        integrators
            .iter()
            .chain(sdk.iter().map(|(_, dir)| dir))
            .map(|dir| enclosing_workspace(dir)),
    );
    for p in [
        cargo_home.join("bin"),
        cargo_home.join("registry"),
        cargo_home.join("git"),
        rustup_home.join("toolchains"),
        rustup_home.join("settings.toml"),
    ] {
        if p.exists() {
            readable.push(p);
        }
    }
    if let Some(dir) = cargo.parent()
        && !readable.iter().any(|r| dir.starts_with(r))
        && !dir.starts_with("/usr")
    {
        readable.push(dir.to_path_buf());
    }
    let mut env = vec![
        (
            "PATH".to_string(),
            format!(
                "{}:/usr/local/bin:/usr/bin:/bin",
                cargo.parent().unwrap_or(Path::new("/usr/bin")).display()
            ),
        ),
        ("HOME".to_string(), "/tmp".to_string()),
        ("CARGO_HOME".to_string(), cargo_home.display().to_string()),
        ("RUSTUP_HOME".to_string(), rustup_home.display().to_string()),
        ("CARGO_NET_OFFLINE".to_string(), "true".to_string()),
    ];
    if let Ok(t) = std::env::var("RUSTUP_TOOLCHAIN") {
        env.push(("RUSTUP_TOOLCHAIN".to_string(), t));
    }
    let spec = certify_sandbox::Spec {
        readable,
        writable: vec![target.clone()],
        cwd: Some(project.to_path_buf()),
        env,
        limits: certify_sandbox::Limits {
            cpu_seconds: 900,
            address_space: 16 << 30,
            file_size: 1 << 30,
            tmp_size: 512 << 20,
            ..certify_sandbox::Limits::default()
        },
        ..certify_sandbox::Spec::default()
    };
    let patch: Vec<OsString> = sdk
        .iter()
        .flat_map(|(patch, _)| [OsString::from("--config"), OsString::from(patch)])
        .collect();
    let args: Vec<OsString> = patch
        .into_iter()
        .chain(
            [
                "build",
                "--offline",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--message-format=json-render-diagnostics",
            ]
            .iter()
            .map(OsString::from),
        )
        .chain([
            "--manifest-path".into(),
            manifest.clone().into(),
            "--target-dir".into(),
            target.clone().into(),
        ])
        .collect();
    let output = sandbox
        .command(&spec, &cargo.to_string_lossy(), &args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(io_error("running cargo in the sandbox"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Error::Usage(format!(
            "building the plugin {} in the sandbox failed:\n{}",
            project.display(),
            tail.join("\n")
        )));
    }
    crate::build::last_wasm(&String::from_utf8_lossy(&output.stdout)).ok_or_else(|| {
        Error::Usage(format!(
            "{} built, but produced no .wasm component; set `crate-type = [\"cdylib\"]` in its [lib] section",
            project.display()
        ))
    })
}

/// Step 1 of a build, on the host: where the project's workspace is, and its
/// dependencies downloaded. Neither runs anything of the candidate's.
fn locate_and_fetch(
    cargo: &Path,
    project: &Path,
    manifest: &Path,
    sdk: Option<&(String, PathBuf)>,
) -> Result<PathBuf, Error> {
    let located = Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .arg("--manifest-path")
        .arg(manifest)
        .stdin(Stdio::null())
        .output()
        .map_err(io_error("running cargo locate-project"))?;
    if !located.status.success() {
        return Err(Error::Usage(format!(
            "the plugin {} is not a Cargo project cargo can read:\n{}",
            project.display(),
            String::from_utf8_lossy(&located.stderr).trim()
        )));
    }
    let workspace = PathBuf::from(String::from_utf8_lossy(&located.stdout).trim())
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| project.to_path_buf());
    let mut fetch = Command::new(cargo);
    if let Some((patch, _)) = sdk {
        fetch.arg("--config").arg(patch);
    }
    let fetched = fetch
        .args(["fetch", "--target", "wasm32-wasip2"])
        .arg("--manifest-path")
        .arg(manifest)
        .stdin(Stdio::null())
        .output()
        .map_err(io_error("running cargo fetch"))?;
    if !fetched.status.success() {
        return Err(Error::Usage(format!(
            "fetching the plugin's dependencies failed:\n{}",
            String::from_utf8_lossy(&fetched.stderr).trim()
        )));
    }
    Ok(workspace)
}

/// Running cargo failed: most likely Rust is not installed.
fn io_error(what: &str) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.to_string();
    move |e| Error::Io(format!("{what} (is Rust installed?)"), e)
}

/// The root of the Cargo workspace `dir` belongs to (a manifest with `[workspace]`
/// in it or above it), else `dir` itself.
fn enclosing_workspace(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| {
            std::fs::read_to_string(d.join("Cargo.toml"))
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .is_some_and(|t| t.contains_key("workspace"))
        })
        .unwrap_or(dir)
        .to_path_buf()
}
