//! The JSON summary: the same facts as the JUnit report, for machines.

use serde::Serialize;

use super::model::{Counts, Report};
use crate::Error;

/// The version of this JSON layout; bumped on any incompatible change.
pub const FORMAT: &str = "certify-report/1";

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    passed: bool,
    counts: Counts,
    #[serde(flatten)]
    report: &'a Report,
}

/// Render a report as pretty JSON.
pub fn render(report: &Report) -> Result<String, Error> {
    let doc = Document {
        format: FORMAT,
        passed: report.all_passed(),
        counts: report.counts(),
        report,
    };
    serde_json::to_string_pretty(&doc)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::Other(anyhow::anyhow!("rendering the JSON report: {e}")))
}
