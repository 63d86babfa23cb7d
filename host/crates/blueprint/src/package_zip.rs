//! Packages as zips, the form the Blueprint Engine takes them in (`clc-api.md` §5.4):
//! zipping a package directory with its Unix modes (Linux scripts must stay mode 755),
//! extracting one, and listing one within caps so a hostile zip cannot expand without
//! bound.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

/// Why a package or blueprint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The zip is unreadable.
    #[error("package is not a readable zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// The zip is refused (too many entries, too large, a zip bomb).
    #[error("package zip is refused: {0}")]
    Refused(String),
    /// No `package.manifest` in the zip or directory.
    #[error("package has no package.manifest at its root")]
    NoManifest,
    /// The manifest is not well-formed or misses required parts.
    #[error("package.manifest is invalid: {0}")]
    Manifest(String),
    /// A blueprint definition that does not parse.
    #[error("blueprint definition is invalid: {0}")]
    Blueprint(String),
    /// File-system error while reading or extracting.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Entries in a package zip.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// What a package zip may expand to, all entries together (as declared, and as read).
pub const MAX_ZIP_UNCOMPRESSED: u64 = 64 * 1024 * 1024;
/// How much larger than its compressed size a zip may expand to (beyond 1 MiB).
pub const MAX_ZIP_RATIO: u64 = 100;

/// The files of a package zip and their Unix modes.
#[derive(Debug, Clone, Default)]
pub struct ZipListing {
    /// File names (directories left out), sorted.
    pub files: Vec<String>,
    /// The Unix mode of each file, when the zip records one.
    pub modes: BTreeMap<String, Option<u32>>,
}

/// A zip's file names and modes, after its declared sizes are checked against the caps;
/// `Err` says why it is refused.
pub fn zip_entries<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
) -> Result<ZipListing, String> {
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!(
            "it has {} entries; the limit is {MAX_ZIP_ENTRIES}",
            archive.len()
        ));
    }
    let mut listing = ZipListing::default();
    let (mut expanded, mut compressed) = (0u64, 0u64);
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(|e| e.to_string())?;
        expanded = expanded.saturating_add(f.size());
        compressed = compressed.saturating_add(f.compressed_size());
        if !f.is_dir() {
            listing.files.push(f.name().to_string());
            listing.modes.insert(f.name().to_string(), f.unix_mode());
        }
    }
    if expanded > MAX_ZIP_UNCOMPRESSED {
        return Err(format!(
            "it expands to {expanded} bytes; the limit is {MAX_ZIP_UNCOMPRESSED}"
        ));
    }
    if expanded > 1024 * 1024 && expanded / compressed.max(1) > MAX_ZIP_RATIO {
        return Err(format!(
            "it expands {}-fold ({compressed} to {expanded} bytes), like a zip bomb; the limit is {MAX_ZIP_RATIO}",
            expanded / compressed.max(1)
        ));
    }
    listing.files.sort();
    Ok(listing)
}

/// Reads a zip entry (or any reader) as UTF-8, at most `cap` bytes whatever its header
/// declares.
pub fn read_entry(f: impl Read, cap: u64) -> Result<String, String> {
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("it is larger than the {cap}-byte limit"));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8".into())
}

/// Zips a package directory (which must hold `package.manifest`), keeping Unix modes so
/// scripts stay executable, as the Blueprint Engine requires.
pub fn zip_dir(dir: &Path) -> Result<Vec<u8>, CatalogError> {
    if !dir.join("package.manifest").is_file() {
        return Err(CatalogError::NoManifest);
    }
    let io = |context: String| move |source| CatalogError::Io { context, source };
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(format!("reading {}", d.display())))? {
            let entry = entry.map_err(io(format!("reading {}", d.display())))?;
            let path = entry.path();
            // Never follow a link: a package must not ship what it points at.
            let kind = entry
                .file_type()
                .map_err(io(format!("reading {}", path.display())))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                files.push(path);
            } else {
                return Err(CatalogError::Io {
                    context: format!("zipping {}", path.display()),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not a regular file (links are never followed)",
                    ),
                });
            }
        }
    }
    files.sort();
    for path in files {
        let rel = path
            .strip_prefix(dir)
            .expect("walked under dir")
            .to_string_lossy()
            .replace('\\', "/");
        let meta =
            std::fs::symlink_metadata(&path).map_err(io(format!("reading {}", path.display())))?;
        #[cfg(unix)]
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
        #[cfg(not(unix))]
        let mode = if meta.permissions().readonly() {
            0o444
        } else {
            0o644
        };
        let options = zip::write::SimpleFileOptions::default().unix_permissions(mode & 0o7777);
        writer.start_file(rel, options)?;
        let bytes = std::fs::read(&path).map_err(io(format!("reading {}", path.display())))?;
        writer
            .write_all(&bytes)
            .map_err(io(format!("zipping {}", path.display())))?;
    }
    Ok(writer.finish()?.into_inner())
}

/// Extracts a package zip into `dir`, keeping Unix modes.
pub fn unzip_into(bytes: &[u8], dir: &Path) -> Result<(), CatalogError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    archive.extract(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::MANIFEST;

    #[cfg(unix)]
    #[test]
    fn a_link_in_a_package_dir_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let secret = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(secret.path(), "CANARY").unwrap();
        std::fs::write(dir.path().join("package.manifest"), MANIFEST).unwrap();
        std::os::unix::fs::symlink(secret.path(), dir.path().join("id_rsa")).unwrap();
        let err = zip_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("id_rsa"), "{err}");
    }

    #[test]
    fn zips_and_reads_back_a_package_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.manifest"), MANIFEST).unwrap();
        std::fs::write(dir.path().join("install.sh"), "#!/bin/sh\necho hi\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("install.sh"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        }
        let zip = zip_dir(dir.path()).unwrap();
        assert_eq!(
            crate::Manifest::from_zip(&zip).unwrap().name,
            "Install Web on Linux"
        );
        let mut archive = zip::ZipArchive::new(Cursor::new(zip.as_slice())).unwrap();
        let listing = zip_entries(&mut archive).unwrap();
        assert_eq!(listing.files, ["install.sh", "package.manifest"]);
        let out = tempfile::tempdir().unwrap();
        unzip_into(&zip, out.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.path().join("install.sh"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o111, 0o111);
        }
    }
}
