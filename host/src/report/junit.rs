//! The JUnit XML report: rendered by `certify_review::junit` from the JSON report
//! (report.json), so that junit.xml is a pure function of report.json and a reviewer
//! can render it again to check it.

use super::json;
use super::model::Report;
use crate::Error;

/// Render a report as JUnit XML, by way of its JSON form.
pub fn render(report: &Report) -> Result<String, Error> {
    from_json(&json::render(report)?)
}

/// Render the JSON report (report.json's text) as JUnit XML.
pub fn from_json(json: &str) -> Result<String, Error> {
    let typed = Report::from_json(json.as_bytes()).map_err(|e| {
        Error::Other(anyhow::anyhow!(
            "reading back the JSON report as {}: {e}",
            json::FORMAT
        ))
    })?;
    render_typed(&typed)
}

/// Render a report as read back from report.json.
pub fn render_typed(report: &Report) -> Result<String, Error> {
    certify_review::junit::render(report).map_err(|e| Error::Other(anyhow::anyhow!(e)))
}
