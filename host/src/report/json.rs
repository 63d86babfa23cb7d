//! The JSON report (report.json): the same facts as the JUnit report, for machines.

use super::model::Report;
use crate::Error;

/// The version of this JSON layout; bumped on any incompatible change.
pub use certify_review::model::FORMAT;

/// Render a report as pretty JSON, its counts worked out from its suites.
pub fn render(report: &Report) -> Result<String, Error> {
    let mut report = report.clone();
    report.recount();
    report
        .to_json()
        .map_err(|e| Error::Other(anyhow::anyhow!("rendering the JSON report: {e}")))
}
