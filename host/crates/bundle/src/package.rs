//! Blueprint packages of a bundle: a directory or a zip holding a `package.manifest`
//! (XML) and the scripts it runs (`clc-api.md` §5.4).
//!
//! The package is found and read here; its manifest is read and checked by
//! [`certify_blueprint::parse_manifest`], the Blueprint Engine's rules, with the
//! package's files so the script the command runs is checked too.

use std::path::{Path, PathBuf};

use certify_blueprint::{
    Execution, MAX_MANIFEST, Manifest, PackageFiles, PackageParameter, parse_manifest, read_entry,
    zip_entries,
};
use serde::Serialize;

use crate::problem::{Diagnostics, Source};

/// How the package was handed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageForm {
    /// A directory; the harness zips it (keeping file modes) to publish it.
    Directory,
    /// A zip, published as it is.
    Zip,
}

/// A package of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// The directory or zip, absolute (the bundle root joined with its path).
    pub path: PathBuf,
    /// The path as written in `candidate.toml`, relative to the bundle root.
    pub relative_path: String,
    /// Directory or zip.
    pub form: PackageForm,
    /// `Metadata/UUID`, as written.
    pub uuid: String,
    /// `Metadata/Name`: the name the package is published under.
    pub name: String,
    /// `Metadata/Description`.
    pub description: String,
    /// Parameters, in manifest order.
    pub parameters: Vec<PackageParameter>,
    /// How it runs.
    pub execution: Execution,
    /// The package's files, relative to its root, `/`-separated, sorted.
    pub files: Vec<String>,
}

impl Package {
    /// The parameter with this variable.
    pub fn parameter(&self, variable: &str) -> Option<&PackageParameter> {
        self.parameters.iter().find(|p| p.variable == variable)
    }

    /// Whether `uuid` names this package (case-insensitive, as the engine compares).
    pub fn has_uuid(&self, uuid: &str) -> bool {
        self.uuid.eq_ignore_ascii_case(uuid.trim())
    }
}

/// Loads the package at `path` (a directory or a zip); `None` when its manifest is not
/// usable (the problems are reported).
pub(crate) fn load(path: &Path, relative: &str, diag: &mut Diagnostics) -> Option<Package> {
    let shown = path.to_path_buf();
    if path.is_dir() {
        let manifest = path.join("package.manifest");
        let text = match crate::load::read_capped(&manifest, MAX_MANIFEST) {
            Ok(t) => t,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &manifest,
                    0,
                    0,
                    format!("cannot read the package manifest: {e}"),
                    "a package directory holds package.manifest at its root (clc-api.md §5.4)",
                );
                return None;
            }
        };
        let files = list_dir(path);
        let src = Source::new(manifest, text);
        let modes = |f: &str| file_mode(&path.join(f));
        let package = PackageFiles {
            names: &files,
            mode_of: &modes,
        };
        let m = parse_manifest(&src, Some(&package), diag)?;
        Some(into_package(
            m,
            path,
            relative,
            PackageForm::Directory,
            files,
        ))
    } else {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("cannot read the package: {e}"),
                    "give a package directory or a zip with package.manifest at its root",
                );
                return None;
            }
        };
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("the package is neither a directory nor a readable zip: {e}"),
                    "give a package directory or a zip with package.manifest at its root",
                );
                return None;
            }
        };
        let listing = match zip_entries(&mut archive) {
            Ok(listing) => listing,
            Err(why) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("the package zip is refused: {why}"),
                    "zip only the package's files; a package holds a manifest and its scripts",
                );
                return None;
            }
        };
        let manifest_path = PathBuf::from(format!("{}!/package.manifest", path.display()));
        let read = archive
            .by_name("package.manifest")
            .map_err(|e| e.to_string())
            .and_then(|f| read_entry(f, MAX_MANIFEST));
        let text = match read {
            Ok(text) => text,
            Err(e) => {
                diag.push(
                    crate::Severity::Error,
                    &shown,
                    0,
                    0,
                    format!("the zip has no readable package.manifest at its root: {e}"),
                    "zip the package's contents, not the directory holding them, so package.manifest is at the root",
                );
                return None;
            }
        };
        let src = Source::new(manifest_path, text);
        let mode_of = |f: &str| listing.modes.get(f).copied().flatten();
        let package = PackageFiles {
            names: &listing.files,
            mode_of: &mode_of,
        };
        let m = parse_manifest(&src, Some(&package), diag)?;
        Some(into_package(
            m,
            path,
            relative,
            PackageForm::Zip,
            listing.files,
        ))
    }
}

/// Every file under `dir`, relative and `/`-separated, sorted.
pub(crate) fn list_dir(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            // The snapshot holds no links; `file_type` would not follow one anyway.
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(root, &p, out);
            } else if let Ok(rel) = p.strip_prefix(root) {
                out.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> Option<u32> {
    None
}

fn into_package(
    m: Manifest,
    path: &Path,
    relative: &str,
    form: PackageForm,
    files: Vec<String>,
) -> Package {
    Package {
        path: path.to_path_buf(),
        relative_path: relative.to_string(),
        form,
        uuid: m.uuid,
        name: m.name,
        description: m.description,
        parameters: m.parameters,
        execution: m.execution,
        files,
    }
}
