//! Reports: the model every reporter reads, and the writers.
//!
//! - [`model`]: suites of cases with verdicts, provenance properties and attachments.
//! - [`junit`]: the JUnit XML, rendered from the JSON form by `certify_review::junit`
//!   (the only place that knows JUnit), so that junit.xml is a function of report.json.
//! - [`json`]: the JSON summary, the same facts for machines.
//! - [`terminal`]: live lines while checks run, and the closing summary.
//! - [`plugin`]: turning a plugin run into a report.
//! - [`docs`]: turning documentation checks into a report.
//! - [`ids`]: the naming scheme of suites, classes and test ids.

pub mod docs;
pub mod ids;
pub mod json;
pub mod junit;
pub mod model;
pub mod plugin;
pub mod terminal;

pub use model::{Attachment, Case, Counts, Report, Suite, Verdict};

use std::io::Write as _;
use std::path::Path;

use crate::Error;

/// Write a file atomically: a reader sees the old file or the whole new one. Report
/// files are mode 0644 (a temporary file is born 0600): a CI artifact step, a
/// teammate or a web server reads them as they are.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let what = || format!("writing {}", path.display());
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::Io(what(), e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::Io(what(), e))?;
    tmp.write_all(bytes).map_err(|e| Error::Io(what(), e))?;
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Error::Io(what(), e))?;
    }
    tmp.persist(path).map_err(|e| Error::Io(what(), e.error))?;
    Ok(())
}
