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
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a directory; give a file name (or --out DIR for a whole report)",
            path.display()
        )));
    }
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

/// Check that `--out` names a directory (or nothing yet): a file there is a mistake to
/// say plainly, not an I/O error.
pub fn check_out_dir(dir: &Path) -> Result<(), Error> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--out {} is a file; give a directory for the report",
            dir.display()
        )));
    }
    Ok(())
}

/// Write a report to a directory as `certify run` does: report.json, then junit.xml
/// and summary.html rendered from report.json read back, the way `certify report
/// verify` renders them again.
pub fn write_out_dir(report: &Report, dir: &Path) -> Result<(), Error> {
    let json_text = json::render(report)?;
    write_file(&dir.join(certify_review::REPORT_JSON), json_text.as_bytes())?;
    let written = Report::from_json(json_text.as_bytes()).map_err(|e| {
        Error::Other(anyhow::anyhow!(
            "reading back the JSON report as {}: {e}",
            json::FORMAT
        ))
    })?;
    write_file(
        &dir.join(certify_review::JUNIT_XML),
        junit::render_typed(&written)?.as_bytes(),
    )?;
    write_file(
        &dir.join(certify_review::SUMMARY_HTML),
        certify_review::summary::render(&written).as_bytes(),
    )
}
