//! A disk quota for a directory that sandboxes write to: a server's own directory, which
//! lives as long as the server and outlives any one `bwrap` (its services keep running
//! after the package that started them).
//!
//! Unprivileged Linux has no per-directory quota (project quotas and loop mounts need
//! root), and a size-limited tmpfs would not survive from one package to the next. So a
//! watcher thread measures the directory — bytes actually allocated and entries, without
//! following links — and calls the owner's `on_exceed` (which kills the server's process
//! groups) the first time either passes its limit. The measuring is what bounds the
//! overshoot: between two looks a writer can add at most what it writes in one interval,
//! and no single file can pass the sandbox's file-size limit.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How much a directory may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskQuota {
    /// Bytes allocated on disk (what `du` counts).
    pub bytes: u64,
    /// Files, directories and links.
    pub entries: u64,
}

impl Default for DiskQuota {
    /// 2 GiB and 100,000 entries: room for a service and its data, not for filling the
    /// integrator's disk.
    fn default() -> DiskQuota {
        DiskQuota {
            bytes: 2 << 30,
            entries: 100_000,
        }
    }
}

/// What a directory holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes allocated.
    pub bytes: u64,
    /// Entries below the directory.
    pub entries: u64,
}

/// As people read it: `2048 MiB or 100000 files`.
impl std::fmt::Display for DiskQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} MiB or {} files", self.bytes >> 20, self.entries)
    }
}

impl DiskQuota {
    /// Whether `usage` is over this quota.
    pub fn exceeded_by(&self, usage: Usage) -> bool {
        usage.bytes > self.bytes || usage.entries > self.entries
    }

    /// Watches `dir` until the returned [`Watch`] is dropped; `on_exceed` runs once, on
    /// the watcher's thread, when the directory first goes over the quota.
    pub fn watch(
        self,
        dir: PathBuf,
        on_exceed: impl FnOnce(Usage) + Send + 'static,
    ) -> std::io::Result<Watch> {
        let stop = Arc::new(AtomicBool::new(false));
        let exceeded = Arc::new(AtomicBool::new(false));
        let (s, e) = (stop.clone(), exceeded.clone());
        std::thread::Builder::new()
            .name("certify-disk-quota".into())
            .spawn(move || {
                while !s.load(Ordering::SeqCst) {
                    let started = std::time::Instant::now();
                    let usage = measure(&dir);
                    if self.exceeded_by(usage) {
                        e.store(true, Ordering::SeqCst);
                        on_exceed(usage);
                        return;
                    }
                    // Look again soon, but never spend more than a fifth of the time
                    // measuring a large directory.
                    let pause = (started.elapsed() * 4).max(Duration::from_millis(100));
                    std::thread::sleep(pause);
                }
            })?;
        Ok(Watch { stop, exceeded })
    }
}

/// A running watch; stops when dropped.
#[derive(Debug)]
pub struct Watch {
    stop: Arc<AtomicBool>,
    exceeded: Arc<AtomicBool>,
}

impl Watch {
    /// Whether the directory went over its quota (and `on_exceed` ran).
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::SeqCst)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// What `dir` holds: allocated bytes and entries, links not followed, unreadable parts
/// skipped (a sandbox can make a directory unreadable, not make it free).
pub fn measure(dir: &Path) -> Usage {
    let mut usage = Usage::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            usage.entries += 1;
            usage.bytes += meta.blocks() * 512;
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn usage_counts_allocated_bytes_and_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/data"), vec![7u8; 64 * 1024]).unwrap();
        std::os::unix::fs::symlink("/usr", dir.path().join("link")).unwrap();
        let usage = measure(dir.path());
        assert_eq!(usage.entries, 3);
        assert!(usage.bytes >= 64 * 1024, "{usage:?}");
        // The link is not followed into /usr.
        assert!(usage.bytes < 1 << 20, "{usage:?}");
    }

    #[test]
    fn the_default_quota_reads_as_people_say_it() {
        assert_eq!(DiskQuota::default().to_string(), "2048 MiB or 100000 files");
    }

    #[test]
    fn going_over_the_quota_calls_the_owner_once() {
        let dir = tempfile::tempdir().unwrap();
        let quota = DiskQuota {
            bytes: 1 << 20,
            entries: 50,
        };
        let (tx, rx) = mpsc::channel();
        let watch = quota
            .watch(dir.path().to_path_buf(), move |u| tx.send(u).unwrap())
            .unwrap();
        std::fs::write(dir.path().join("small"), [1u8; 100]).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(400)).is_err());
        assert!(!watch.exceeded());
        for i in 0..60 {
            std::fs::write(dir.path().join(format!("f{i}")), [1u8; 10]).unwrap();
        }
        let usage = rx.recv_timeout(Duration::from_secs(5)).expect("over quota");
        assert!(usage.entries > 50);
        assert!(watch.exceeded());
    }
}
