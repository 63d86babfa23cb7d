//! Building a plugin from a bundle's snapshot, never from the candidate's directory.
//!
//! The snapshot is read-only and cargo writes (`Cargo.lock`), so the build runs in a
//! private, writable copy of the snapshot beside it. The copy is a standalone Cargo
//! project: what its manifest inherits from a workspace *outside* the bundle (the
//! sample candidate and the test guests live in the harness's own workspace) is
//! resolved into the copy's manifest, path dependencies that leave the bundle are made
//! absolute (they are the integrator's, not the candidate's: the SDK checkout), and
//! that workspace's `Cargo.lock` is copied in so the build resolves the same versions.
//! Path dependencies inside the bundle resolve inside the copy.
//!
//! The `.wasm` is read while a lock on the target directory is held, so a concurrent
//! build of another plugin of the same crate name cannot swap it in between.

use std::path::{Component, Path, PathBuf};

use certify_bundle::Snapshot;

use crate::Error;

/// Builds the Cargo project at `project` (a directory inside `snapshot`) and returns the
/// `.wasm`'s path (for messages) and bytes.
///
/// With a `sandbox`, the build runs in it (`crate::sandboxed_build`): the candidate's
/// build scripts and proc macros see the copy, the toolchain and, read-only, the
/// integrator's workspace the copy's path dependencies may point into; nothing else.
pub fn build(
    snapshot: &Snapshot,
    project: &Path,
    cache_root: &Path,
    sandbox: Option<&certify_sandbox::Sandbox>,
) -> Result<(PathBuf, Vec<u8>), Error> {
    let io = |what: &str, e| Error::Io(format!("{what} the plugin's build copy"), e);
    let rel = project
        .strip_prefix(snapshot.root())
        .map_err(|_| Error::Usage(format!("{} is not in the bundle", project.display())))?
        .to_path_buf();
    let copy_root = snapshot.scratch("build").map_err(|e| io("making", e))?;
    copy_tree(snapshot.root(), &copy_root).map_err(|e| io("making", e))?;
    let copy = copy_root.join(&rel);
    let original = snapshot.source().join(&rel);
    let integrators = standalone(&copy, &original, snapshot.source())?;
    if let Some(sandbox) = sandbox {
        let wasm =
            crate::sandboxed_build::build(&copy, &original, cache_root, sandbox, &integrators)?;
        let bytes = std::fs::read(&wasm)
            .map_err(|e| Error::Io(format!("reading the plugin {}", wasm.display()), e))?;
        return Ok((wasm, bytes));
    }
    let target_dir = cache_root.join("cargo-target");
    std::fs::create_dir_all(&target_dir).map_err(|e| io("preparing", e))?;
    let _lock =
        TargetLock::take(&target_dir).map_err(|e| io("locking the target directory for", e))?;
    let wasm = crate::build::build(&copy, &target_dir)?;
    let bytes = std::fs::read(&wasm)
        .map_err(|e| Error::Io(format!("reading the plugin {}", wasm.display()), e))?;
    Ok((wasm, bytes))
}

/// A writable copy of a (read-only) tree of regular files and directories.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let kind = e.file_type()?;
        let dest = to.join(e.file_name());
        if kind.is_dir() {
            std::fs::create_dir_all(&dest)?;
            copy_tree(&e.path(), &dest)?;
        } else if kind.is_file() {
            std::fs::copy(e.path(), &dest)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&dest)?.permissions().mode();
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode | 0o200))?;
            }
        }
    }
    Ok(())
}

/// Makes the project at `copy` build on its own (see the module docs); returns the
/// directories outside the copy that its manifest now points at (the integrator's:
/// path dependencies and patches that leave the bundle), which a sandboxed build
/// must be able to read, and nothing else of the integrator's.
fn standalone(copy: &Path, original: &Path, bundle: &Path) -> Result<Vec<PathBuf>, Error> {
    let manifest_path = copy.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| Error::Io("reading the plugin's Cargo.toml".into(), e))?;
    let mut manifest: toml::Table = text
        .parse()
        .map_err(|e| Error::Usage(format!("the plugin's Cargo.toml is not valid TOML: {e}")))?;
    let workspace = enclosing_workspace(bundle);
    let inherited = workspace
        .as_ref()
        .and_then(|(_, t)| t.get("workspace"))
        .and_then(|w| w.as_table())
        .cloned()
        .unwrap_or_default();
    let ws_root = workspace.as_ref().map(|(root, _)| root.as_path());
    if let Some(package) = manifest.get_mut("package").and_then(|p| p.as_table_mut()) {
        let from = inherited.get("package").and_then(|p| p.as_table());
        for (key, value) in package.iter_mut() {
            if is_inherited(value)
                && let Some(v) = from.and_then(|f| f.get(key.as_str()))
            {
                *value = v.clone();
            }
        }
    }
    if manifest.get("lints").is_some_and(is_inherited)
        && let Some(lints) = inherited.get("lints")
    {
        manifest.insert("lints".into(), lints.clone());
    }
    let ws_deps = inherited
        .get("dependencies")
        .and_then(|d| d.as_table())
        .cloned()
        .unwrap_or_default();
    for_each_dependency_table(&mut manifest, &mut |deps| {
        for (name, dep) in deps.iter_mut() {
            if is_inherited(dep)
                && let Some(base) = ws_deps.get(name.as_str())
            {
                *dep = merge_inherited(base, dep, ws_root);
            }
            absolute_if_outside(dep, original, bundle);
        }
    });
    // The enclosing workspace's `[patch]` (the harness's own points `certify-sdk` at its
    // checkout) applied to the member; the copy is its own workspace, so it carries it.
    if let (Some(root), Some(patch)) = (
        ws_root,
        workspace
            .as_ref()
            .and_then(|(_, t)| t.get("patch"))
            .and_then(|p| p.as_table()),
    ) {
        let own = manifest
            .entry("patch")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(own) = own.as_table_mut() {
            for (registry, entries) in patch {
                let Some(entries) = entries.as_table() else {
                    continue;
                };
                let target = own
                    .entry(registry.as_str())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let Some(target) = target.as_table_mut() {
                    for (name, dep) in entries {
                        let mut dep = dep.clone();
                        if let Some(path) =
                            dep.get("path").and_then(|p| p.as_str()).map(str::to_owned)
                            && let Some(t) = dep.as_table_mut()
                        {
                            t.insert(
                                "path".into(),
                                toml::Value::String(root.join(path).display().to_string()),
                            );
                        }
                        target.entry(name.as_str()).or_insert(dep);
                    }
                }
            }
        }
    }
    manifest
        .entry("workspace")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let mut outside = Vec::new();
    let mut collect = |deps: &toml::Table| {
        for dep in deps.values() {
            if let Some(path) = dep.get("path").and_then(|p| p.as_str()).map(Path::new)
                && path.is_absolute()
                && !path.starts_with(copy)
            {
                outside.push(path.to_path_buf());
            }
        }
    };
    for_each_dependency_table(&mut manifest.clone(), &mut |deps| collect(deps));
    if let Some(patch) = manifest.get("patch").and_then(|p| p.as_table()) {
        for entries in patch.values().filter_map(|e| e.as_table()) {
            collect(entries);
        }
    }
    // Only the integrator's workspace the bundle sits in may be read: a path the
    // candidate's manifest names anywhere else (`path = "/home/me/.ssh"`) is not
    // made readable, and the build fails on it.
    outside.retain(|p| ws_root.is_some_and(|root| lexical(p).is_some_and(|p| p.starts_with(root))));
    let text = toml::to_string(&manifest)
        .map_err(|e| Error::Other(anyhow::anyhow!("writing the plugin's build manifest: {e}")))?;
    std::fs::write(&manifest_path, text)
        .map_err(|e| Error::Io("writing the plugin's build manifest".into(), e))?;
    let lock = copy.join("Cargo.lock");
    if !lock.exists()
        && let Some(root) = ws_root
        && root.join("Cargo.lock").is_file()
    {
        std::fs::copy(root.join("Cargo.lock"), &lock)
            .map_err(|e| Error::Io("copying the workspace's Cargo.lock".into(), e))?;
    }
    Ok(outside)
}

fn is_inherited(v: &toml::Value) -> bool {
    v.get("workspace").and_then(|w| w.as_bool()) == Some(true)
}

fn for_each_dependency_table(manifest: &mut toml::Table, f: &mut dyn FnMut(&mut toml::Table)) {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in KINDS {
        if let Some(t) = manifest.get_mut(kind).and_then(|t| t.as_table_mut()) {
            f(t);
        }
    }
    if let Some(targets) = manifest.get_mut("target").and_then(|t| t.as_table_mut()) {
        for (_, target) in targets.iter_mut() {
            for kind in KINDS {
                if let Some(t) = target.get_mut(kind).and_then(|t| t.as_table_mut()) {
                    f(t);
                }
            }
        }
    }
}

/// `dep = { workspace = true, features = [..] }` with the workspace's `dep = ...`.
fn merge_inherited(base: &toml::Value, local: &toml::Value, ws_root: Option<&Path>) -> toml::Value {
    let mut merged = match base {
        toml::Value::String(v) => {
            let mut t = toml::Table::new();
            t.insert("version".into(), toml::Value::String(v.clone()));
            t
        }
        toml::Value::Table(t) => t.clone(),
        other => return other.clone(),
    };
    if let (Some(root), Some(path)) = (ws_root, merged.get("path").and_then(|p| p.as_str())) {
        let abs = root.join(path).display().to_string();
        merged.insert("path".into(), toml::Value::String(abs));
    }
    if let Some(local) = local.as_table() {
        for (k, v) in local {
            match k.as_str() {
                "workspace" => {}
                "features" => {
                    let mut all = merged
                        .get("features")
                        .and_then(|f| f.as_array())
                        .cloned()
                        .unwrap_or_default();
                    all.extend(v.as_array().cloned().unwrap_or_default());
                    merged.insert("features".into(), toml::Value::Array(all));
                }
                _ => {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
    }
    toml::Value::Table(merged)
}

/// A relative `path` dependency that leaves the bundle points at the integrator's
/// files beside it: make it absolute (from where the project was).
fn absolute_if_outside(dep: &mut toml::Value, original: &Path, bundle: &Path) {
    let Some(t) = dep.as_table_mut() else {
        return;
    };
    let Some(path) = t.get("path").and_then(|p| p.as_str()) else {
        return;
    };
    if Path::new(path).is_absolute() {
        return;
    }
    let inside = lexical(&original.join(path))
        .is_some_and(|p| lexical(bundle).is_some_and(|b| p.starts_with(b)));
    if !inside {
        let abs = lexical(&original.join(path)).unwrap_or_else(|| original.join(path));
        t.insert(
            "path".into(),
            toml::Value::String(abs.display().to_string()),
        );
    }
}

/// `/a/b/../c` → `/a/c`, without touching the file system.
fn lexical(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// The Cargo workspace the bundle directory sits in, if any: its root and manifest.
fn enclosing_workspace(bundle: &Path) -> Option<(PathBuf, toml::Table)> {
    let start = std::path::absolute(bundle).ok()?;
    let start = lexical(&start)?;
    for dir in start.ancestors().skip(1) {
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest)
            && let Ok(t) = text.parse::<toml::Table>()
            && t.contains_key("workspace")
        {
            return Some((dir.to_path_buf(), t));
        }
    }
    None
}

/// An exclusive lock on a file in the target directory, released on drop.
struct TargetLock(std::fs::File);

impl TargetLock {
    fn take(target_dir: &Path) -> std::io::Result<TargetLock> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(target_dir.join(".certify-build.lock"))?;
        f.lock()?;
        Ok(TargetLock(f))
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_dependencies_are_resolved() {
        let base: toml::Value = toml::from_str::<toml::Table>(
            "d = { version = \"1\", path = \"sdk\", features = [\"a\"] }",
        )
        .unwrap()["d"]
            .clone();
        let local: toml::Value =
            toml::from_str::<toml::Table>("d = { workspace = true, features = [\"b\"] }").unwrap()
                ["d"]
                .clone();
        let m = merge_inherited(&base, &local, Some(Path::new("/ws")));
        assert_eq!(m["path"].as_str(), Some("/ws/sdk"));
        assert_eq!(m["features"].as_array().unwrap().len(), 2);
        assert!(m.get("workspace").is_none());
    }

    #[test]
    fn paths_leaving_the_bundle_become_absolute() {
        let mut dep: toml::Value =
            toml::from_str::<toml::Table>("d = { path = \"../../../sdk\" }").unwrap()["d"].clone();
        absolute_if_outside(
            &mut dep,
            Path::new("/repo/plugins/b/plugin"),
            Path::new("/repo/plugins/b"),
        );
        assert_eq!(dep["path"].as_str(), Some("/repo/sdk"));
        let mut inside: toml::Value =
            toml::from_str::<toml::Table>("d = { path = \"../shared\" }").unwrap()["d"].clone();
        absolute_if_outside(
            &mut inside,
            Path::new("/repo/plugins/b/plugin"),
            Path::new("/repo/plugins/b"),
        );
        assert_eq!(inside["path"].as_str(), Some("../shared"));
    }

    /// What a sandboxed build may read of the integrator's: paths inside the workspace
    /// the bundle sits in, never a path the candidate names elsewhere.
    #[test]
    fn only_the_enclosing_workspace_is_made_readable() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let bundle = ws.join("bundles/b");
        let plugin = bundle.join("plugin");
        std::fs::create_dir_all(&plugin).unwrap();
        std::fs::create_dir_all(ws.join("sdk")).unwrap();
        std::fs::write(
            ws.join("Cargo.toml"),
            "[workspace]\n[patch.crates-io]\ncertify-sdk = { path = \"sdk\" }\n",
        )
        .unwrap();
        let copy = dir.path().join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::write(
            copy.join("Cargo.toml"),
            "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\n[dependencies]\n\
             secret = { path = \"/root/.ssh\" }\nhelper = { path = \"../../../helper\" }\n",
        )
        .unwrap();
        let readable = standalone(&copy, &plugin, &bundle).unwrap();
        let ws = lexical(&ws).unwrap();
        assert!(readable.iter().all(|p| p.starts_with(&ws)), "{readable:?}");
        assert!(readable.contains(&ws.join("sdk")), "{readable:?}");
        assert!(readable.contains(&ws.join("helper")), "{readable:?}");
        assert!(
            !readable.iter().any(|p| p.starts_with("/root")),
            "{readable:?}"
        );
    }
}
