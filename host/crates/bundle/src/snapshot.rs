//! One private, read-only copy of a bundle, taken once, that every later phase reads.
//!
//! A bundle is hostile input, and a directory can change while it is read. So the
//! harness copies it once, at the start, into a temporary directory it owns, and
//! everything after — validation, the input digests, pricing, publishing, the plugin
//! build, the articles — reads that copy. A file changed in the candidate's directory
//! after the snapshot changes nothing the run does; the candidate's directory is never
//! written to.
//!
//! The copy takes regular files and directories only. A symbolic link, a device, a fifo
//! or a socket anywhere in the bundle is refused with a problem naming it: nothing is
//! ever followed (entries are inspected with `symlink_metadata`, files opened with
//! `O_NOFOLLOW` and checked again on the open descriptor). Sizes are capped
//! ([`Limits`]); each file is hashed while it is copied, so the digests describe exactly
//! the bytes the run uses. Copied files are mode 0444 (0555 when the original was
//! executable, which package scripts must be), directories 0555.
//!
//! Two kinds of directory are not copied, and so cannot influence the run: `.git`, and a
//! `target` directory beside a `Cargo.toml` (build output; the harness builds with its
//! own target directory). Every other file is, hidden files included, and is bound in
//! the bundle's input digests.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::problem::{Problem, Severity};

/// The caps on what a bundle may hold (documented in FORMAT.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files in the bundle.
    pub max_files: usize,
    /// Bytes of all files together.
    pub max_total_bytes: u64,
    /// Bytes of one file.
    pub max_file_bytes: u64,
    /// Directory nesting below the bundle root.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: 10_000,
            max_total_bytes: 256 * 1024 * 1024,
            max_file_bytes: 64 * 1024 * 1024,
            max_depth: 32,
        }
    }
}

/// One file of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes copied.
    pub sha256: String,
}

/// A bundle's private, read-only copy.
#[derive(Debug)]
pub struct Snapshot {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    source: PathBuf,
    files: BTreeMap<String, SnapshotFile>,
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bundle holds something the snapshot refuses; each problem names it.
    #[error("{}", refused(root, problems))]
    Refused {
        /// The candidate's directory.
        root: PathBuf,
        /// What was refused, one problem a path.
        problems: Vec<Problem>,
    },
    /// The harness could not make or write its copy.
    #[error("making the bundle's snapshot: {0}")]
    Io(#[from] std::io::Error),
}

fn refused(root: &Path, problems: &[Problem]) -> String {
    let mut s = format!(
        "the candidate bundle {} cannot be snapshotted ({} problem{})",
        root.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push('\n');
        s.push_str(&p.to_string());
    }
    s
}

impl Snapshot {
    /// Copies the directory `source` with the default [`Limits`].
    pub fn take(source: &Path) -> Result<Snapshot, SnapshotError> {
        Snapshot::take_with(source, Limits::default())
    }

    /// Copies the directory `source` within `limits`.
    pub fn take_with(source: &Path, limits: Limits) -> Result<Snapshot, SnapshotError> {
        let dir = tempfile::Builder::new()
            .prefix("certify-bundle-")
            .tempdir()?;
        let root = dir.path().join("bundle");
        std::fs::create_dir(&root)?;
        let mut copy = Copy {
            source,
            limits,
            files: BTreeMap::new(),
            total: 0,
            problems: Vec::new(),
            dirs: Vec::new(),
            too_many: false,
        };
        copy.dir(source, &root, "", 0)?;
        let Copy {
            files,
            problems,
            dirs,
            ..
        } = copy;
        let snapshot = Snapshot {
            dir: Some(dir),
            root,
            source: source.to_path_buf(),
            files,
        };
        if !problems.is_empty() {
            return Err(SnapshotError::Refused {
                root: source.to_path_buf(),
                problems,
            });
        }
        // Deepest first, so a directory is sealed after everything in it.
        for d in dirs.iter().rev().chain(std::iter::once(&snapshot.root)) {
            set_mode(d, 0o555)?;
        }
        Ok(snapshot)
    }

    /// The copy's root directory (read-only).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The candidate's directory the copy was taken from (for messages only: it is
    /// never read again).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// A private, writable directory beside the copy, removed with it (for a build).
    pub fn scratch(&self, name: &str) -> std::io::Result<PathBuf> {
        let base = self
            .root
            .parent()
            .expect("the snapshot root is inside its temporary directory");
        let dir = base.join(name);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Every file, by `/`-separated path relative to the root, sorted.
    pub fn files(&self) -> &BTreeMap<String, SnapshotFile> {
        &self.files
    }

    /// The file at a `/`-separated path relative to the root.
    pub fn file(&self, relative: &str) -> Option<&SnapshotFile> {
        self.files.get(relative)
    }

    /// Maps a path inside the copy back to the candidate's directory, for messages.
    pub fn shown(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.root) {
            Ok(rel) => self.source.join(rel),
            Err(_) => {
                // `a.zip!/package.manifest` and the like.
                let s = path.to_string_lossy();
                let root = self.root.to_string_lossy();
                match s.strip_prefix(root.as_ref()) {
                    Some(rest) => PathBuf::from(format!("{}{rest}", self.source.display())),
                    None => path.to_path_buf(),
                }
            }
        }
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // Read-only directories cannot be emptied by a non-root owner: unseal first.
        if let Some(dir) = self.dir.take() {
            unseal(dir.path());
            let _ = dir.close();
        }
    }
}

fn unseal(dir: &Path) {
    let _ = set_mode(dir, 0o755);
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                unseal(&e.path());
            }
        }
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(path: &Path, _mode: u32) -> std::io::Result<()> {
    let mut p = std::fs::metadata(path)?.permissions();
    p.set_readonly(true);
    std::fs::set_permissions(path, p)
}

struct Copy<'a> {
    source: &'a Path,
    limits: Limits,
    files: BTreeMap<String, SnapshotFile>,
    total: u64,
    problems: Vec<Problem>,
    dirs: Vec<PathBuf>,
    too_many: bool,
}

impl Copy<'_> {
    fn refuse(&mut self, path: &Path, message: String, hint: &str) {
        self.problems.push(Problem {
            severity: Severity::Error,
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            message,
            hint: hint.to_string(),
        });
    }

    fn dir(&mut self, from: &Path, to: &Path, rel: &str, depth: usize) -> std::io::Result<()> {
        if depth > self.limits.max_depth {
            self.refuse(
                from,
                format!(
                    "directories nest deeper than {} levels",
                    self.limits.max_depth
                ),
                "flatten the bundle's directory tree",
            );
            return Ok(());
        }
        let mut entries: Vec<(String, std::fs::FileType)> = Vec::new();
        let rd = match std::fs::read_dir(from) {
            Ok(rd) => rd,
            Err(e) => {
                self.refuse(
                    from,
                    format!("cannot read the directory: {e}"),
                    "make it readable",
                );
                return Ok(());
            }
        };
        for e in rd {
            let e = e?;
            // `DirEntry::file_type` does not follow symbolic links.
            entries.push((e.file_name().to_string_lossy().into_owned(), e.file_type()?));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let cargo_project = entries
            .iter()
            .any(|(n, t)| n == "Cargo.toml" && t.is_file());
        for (name, kind) in entries {
            let path = from.join(&name);
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if kind.is_dir() {
                if name == ".git" || (cargo_project && name == "target") {
                    continue;
                }
                let target = to.join(&name);
                std::fs::create_dir(&target)?;
                self.dirs.push(target.clone());
                self.dir(&path, &target, &child_rel, depth + 1)?;
            } else if kind.is_file() {
                self.file(&path, &to.join(&name), child_rel)?;
            } else {
                let what = if kind.is_symlink() {
                    "a symbolic link"
                } else {
                    "not a regular file or directory (a device, fifo or socket)"
                };
                self.refuse(
                    &path,
                    format!(
                        "{child_rel} is {what}; a bundle holds regular files and directories only"
                    ),
                    "replace it with the file itself (links are never followed)",
                );
            }
        }
        Ok(())
    }

    fn file(&mut self, from: &Path, to: &Path, rel: String) -> std::io::Result<()> {
        if self.files.len() >= self.limits.max_files {
            if !self.too_many {
                self.too_many = true;
                self.refuse(
                    self.source,
                    format!("the bundle holds more than {} files", self.limits.max_files),
                    "remove what the certification does not need (build output, caches)",
                );
            }
            return Ok(());
        }
        let mut f = match open_no_follow(from) {
            Ok(f) => f,
            Err(e) => {
                self.refuse(
                    from,
                    format!("{rel} cannot be opened without following links: {e}"),
                    "replace it with a regular file",
                );
                return Ok(());
            }
        };
        let meta = f.metadata()?;
        if !meta.is_file() {
            self.refuse(
                from,
                format!("{rel} is not a regular file"),
                "a bundle holds regular files and directories only",
            );
            return Ok(());
        }
        let cap = self.limits.max_file_bytes;
        let left = self.limits.max_total_bytes.saturating_sub(self.total);
        let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize);
        // Read one byte past the cap: a file that grows while it is read is caught too.
        (&mut f).take(cap.min(left) + 1).read_to_end(&mut bytes)?;
        let size = bytes.len() as u64;
        if size > cap {
            self.refuse(
                from,
                format!("{rel} is larger than {}", bytes_shown(cap)),
                "a bundle file may be at most that large",
            );
            return Ok(());
        }
        if size > left {
            if self.total > self.limits.max_total_bytes {
                return Ok(());
            }
            self.refuse(
                self.source,
                format!(
                    "the bundle is larger than {} in all",
                    bytes_shown(self.limits.max_total_bytes)
                ),
                "remove what the certification does not need (build output, caches)",
            );
            self.total = self.limits.max_total_bytes.saturating_add(1);
            return Ok(());
        }
        self.total += size;
        let executable = is_executable(&meta);
        let mut out = File::create(to)?;
        out.write_all(&bytes)?;
        drop(out);
        set_mode(to, if executable { 0o555 } else { 0o444 })?;
        self.files.insert(
            rel,
            SnapshotFile {
                size,
                sha256: hex::encode(Sha256::digest(&bytes)),
            },
        );
        Ok(())
    }
}

/// `64 MiB`, `4096 bytes`.
fn bytes_shown(n: u64) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else {
        format!("{n} bytes")
    }
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        // Never follow a link swapped in after the directory was listed, and never
        // block on a fifo swapped in the same way.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.txt"), "a").unwrap();
        std::fs::create_dir_all(d.path().join(".hidden")).unwrap();
        std::fs::write(d.path().join(".hidden/lib.rs"), "fn x() {}").unwrap();
        std::fs::create_dir_all(d.path().join("p/target/release")).unwrap();
        std::fs::write(d.path().join("p/Cargo.toml"), "[package]").unwrap();
        std::fs::write(d.path().join("p/target/release/x"), "built").unwrap();
        d
    }

    #[test]
    fn copies_hidden_files_and_skips_build_output() {
        let d = tree();
        let s = Snapshot::take(d.path()).unwrap();
        let names: Vec<&str> = s.files().keys().map(String::as_str).collect();
        assert_eq!(names, [".hidden/lib.rs", "a.txt", "p/Cargo.toml"]);
        assert_eq!(
            std::fs::read_to_string(s.root().join("a.txt")).unwrap(),
            "a"
        );
        // Changing the original afterwards changes nothing in the copy.
        std::fs::write(d.path().join("a.txt"), "changed").unwrap();
        assert_eq!(
            std::fs::read_to_string(s.root().join("a.txt")).unwrap(),
            "a"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&s.root().join("a.txt")), 0o444);
            assert_eq!(mode(s.root()), 0o555);
        }
        let root = s.root().parent().unwrap().to_path_buf();
        drop(s);
        assert!(!root.exists(), "the snapshot is removed with it");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_links_and_devices_naming_them() {
        let d = tree();
        std::os::unix::fs::symlink("/dev/zero", d.path().join("zero")).unwrap();
        std::os::unix::fs::symlink(".", d.path().join("loop")).unwrap();
        let err = Snapshot::take(d.path()).unwrap_err();
        let SnapshotError::Refused { problems, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(problems.len(), 2, "{err}");
        assert!(problems[0].file.ends_with("loop"), "{err}");
        assert!(
            problems[1].message.contains("zero is a symbolic link"),
            "{err}"
        );
    }

    #[test]
    fn caps_files_and_sizes() {
        let d = tree();
        let tight = Limits {
            max_files: 2,
            ..Limits::default()
        };
        let err = Snapshot::take_with(d.path(), tight)
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 2 files"), "{err}");
        let small = Limits {
            max_file_bytes: 4,
            ..Limits::default()
        };
        let err = Snapshot::take_with(d.path(), small)
            .unwrap_err()
            .to_string();
        assert!(err.contains(".hidden/lib.rs is larger than"), "{err}");
    }
}
