//! On-disk cache of compiled plugins.
//!
//! Compiling a component with Cranelift takes a hundred milliseconds or more;
//! reading back the compiled artifact takes about one. Compiled artifacts are
//! native code that wasmtime loads without validation, so the cache is only
//! ever read from where this host wrote it:
//!
//! - the directory is created by the host with mode 0700 and refused if it is
//!   not owned by the current user or is writable by anyone else;
//! - an artifact is keyed by the sha256 of the plugin's `.wasm` and by the
//!   engine's compatibility hash (wasmtime version and settings), so a changed
//!   plugin or harness never reads a stale artifact;
//! - every artifact has a sidecar with its own sha256, written after it and
//!   checked before it is deserialized, so a torn or altered file is compiled
//!   again instead of loaded;
//! - files are written to a temporary name and renamed into place.
//!
//! Candidates hand in `.wasm` files only; precompiled input is refused at load.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a plugin's component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Compiled now (and written to the cache, if there is one).
    Compiled,
    /// Read back from the cache.
    Hit,
}

/// The compiled-artifact cache.
#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
}

impl ArtifactCache {
    /// Open (creating it if needed) the cache directory.
    pub fn open(dir: PathBuf) -> anyhow::Result<ArtifactCache> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the plugin cache {}", dir.display()))?;
        check_private(&dir)?;
        Ok(ArtifactCache { dir })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn component(
        &self,
        engine: &Engine,
        wasm: &[u8],
        wasm_sha256: &str,
    ) -> anyhow::Result<(Component, CacheOutcome)> {
        let path = self
            .dir
            .join(format!("{wasm_sha256}-{}.cwasm", engine_key(engine)));
        let sidecar = path.with_extension("cwasm.sha256");
        if let Some(bytes) = read_verified(&path, &sidecar) {
            // SAFETY: `bytes` is an artifact this host serialized into its own
            // private directory (see the module docs), and its digest matches
            // the one written after it. Artifacts from another wasmtime
            // version or configuration have another file name.
            if let Ok(component) = unsafe { Component::deserialize(engine, &bytes) } {
                return Ok((component, CacheOutcome::Hit));
            }
        }
        let component = Component::from_binary(engine, wasm)?;
        let bytes = component.serialize()?;
        // A cache that cannot be written is a slower run, not a failed one.
        if let Err(e) = write_atomically(&path, &bytes).and_then(|()| {
            write_atomically(&sidecar, hex::encode(Sha256::digest(&bytes)).as_bytes())
        }) {
            tracing::warn!("could not write the plugin cache {}: {e:#}", path.display());
        }
        Ok((component, CacheOutcome::Compiled))
    }
}

/// A stable key for the engine's compatibility: wasmtime's own hash of its
/// version and settings, run through a hasher with fixed keys.
fn engine_key(engine: &Engine) -> String {
    #[allow(
        deprecated,
        reason = "SipHasher has fixed keys, so the key is the same in every process"
    )]
    let mut hasher = std::hash::SipHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn read_verified(path: &Path, sidecar: &Path) -> Option<Vec<u8>> {
    let expected = std::fs::read_to_string(sidecar).ok()?;
    let bytes = std::fs::read(path).ok()?;
    (hex::encode(Sha256::digest(&bytes)) == expected.trim()).then_some(bytes)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no parent")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    Ok(())
}

#[cfg(unix)]
fn check_private(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        bail!(
            "the plugin cache {} belongs to another user; use a cache directory of your own (--cache-dir) or --no-cache",
            dir.display()
        );
    }
    let mode = meta.permissions().mode();
    if mode & 0o022 != 0 {
        bail!(
            "the plugin cache {} is writable by other users (mode {:o}); run `chmod 700 {}` or use --no-cache",
            dir.display(),
            mode & 0o777,
            dir.display()
        );
    }
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn refuses_a_directory_others_can_write() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = ArtifactCache::open(dir.clone()).unwrap_err().to_string();
        assert!(err.contains("writable by other users"), "{err}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        ArtifactCache::open(dir.clone()).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the cache is made private");
    }

    #[test]
    fn a_tampered_artifact_is_not_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a.cwasm");
        let sidecar = tmp.path().join("a.cwasm.sha256");
        write_atomically(&path, b"compiled").unwrap();
        write_atomically(
            &sidecar,
            hex::encode(Sha256::digest(b"compiled")).as_bytes(),
        )
        .unwrap();
        assert_eq!(
            read_verified(&path, &sidecar).as_deref(),
            Some(&b"compiled"[..])
        );
        std::fs::write(&path, b"compiled but altered").unwrap();
        assert_eq!(read_verified(&path, &sidecar), None);
        std::fs::remove_file(&sidecar).unwrap();
        assert_eq!(read_verified(&path, &sidecar), None);
    }
}
