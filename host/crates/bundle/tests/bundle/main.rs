//! The candidate bundle loader against the shipped sample candidate
//! (`plugins/sample-candidate`) and against broken copies of it built in temporary
//! directories, each of which must fail with the right file:line and advice.

mod broken;
mod fuzz;
mod sample;

use std::path::{Path, PathBuf};

use certify_bundle::{Bundle, LoadError, Problem, Severity};

/// The sample candidate shipped in the repository.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../plugins/sample-candidate")
}

/// A copy of the sample in a temporary directory (build output left out).
pub fn sample_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == "target" {
                continue;
            }
            let (src, dst) = (e.path(), to.join(&name));
            if src.is_dir() {
                copy(&src, &dst);
            } else {
                // fs::copy keeps the permission bits: install.sh stays executable.
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&sample_dir(), dir.path());
    dir
}

/// Replaces `from` (which must be there) with `to` in a bundle file.
pub fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let p = root.join(file);
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line of the first line of `file` containing `needle`.
pub fn line_of(root: &Path, file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(root.join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{file} has no line with {needle:?}"))
        + 1
}

/// Loads a bundle that must be invalid and returns its errors.
pub fn errors(root: &Path) -> Vec<Problem> {
    match Bundle::load(root) {
        Ok(_) => panic!("the broken bundle loaded"),
        Err(e @ LoadError::Invalid { .. }) => e
            .problems()
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .cloned()
            .collect(),
        Err(e) => panic!("expected problems, got: {e}"),
    }
}

/// The one error of a broken bundle, checked against file, line and message.
pub fn only_error(root: &Path, file: &str, line: usize, message: &str) -> Problem {
    let errs = errors(root);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let p = errs.into_iter().next().unwrap();
    assert_eq!(p.file, root.join(file), "{p}");
    assert_eq!(p.line, line, "{p}");
    assert!(p.message.contains(message), "{p}");
    assert!(!p.hint.is_empty(), "{p}");
    p
}
