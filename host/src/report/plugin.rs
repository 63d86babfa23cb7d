//! A plugin run as a report: one suite per certification criterion
//! (`plugin-<criterion>`), one case per check, provenance (plugin name, version, sha256, harness version) in
//! the properties, evidence written beside the report.

use std::path::Path;
use std::time::Duration;

use certify_runtime::{CheckInfo, CheckRun, Criterion, Status};

use super::model::{Attachment, Case, Report, Suite, Verdict};
use crate::Error;

/// What the report says about the plugin, whether or not it loaded.
#[derive(Debug, Clone)]
pub struct PluginFacts {
    /// Name (the file stem when it did not load).
    pub name: String,
    /// Version, if known.
    pub version: Option<String>,
    /// SDK, if known.
    pub sdk: Option<String>,
    /// Contract version it was built against, if known.
    pub contract: Option<String>,
    /// sha256 of the .wasm.
    pub sha256: String,
    /// Where it was read from.
    pub file: String,
}

impl PluginFacts {
    /// Provenance properties, in a stable order.
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut p = vec![
            ("harness.version".to_string(), crate::VERSION.to_string()),
            (
                "harness.contract".to_string(),
                certify_runtime::CONTRACT_VERSION.to_string(),
            ),
            ("plugin.name".to_string(), self.name.clone()),
        ];
        let optional = [
            ("plugin.version", &self.version),
            ("plugin.sdk", &self.sdk),
            ("plugin.contract", &self.contract),
        ];
        for (k, v) in optional {
            if let Some(v) = v {
                p.push((k.to_string(), v.clone()));
            }
        }
        p.push(("plugin.sha256".to_string(), self.sha256.clone()));
        p.push(("plugin.file".to_string(), self.file.clone()));
        p
    }
}

/// Build the report. Evidence is written under `evidence_dir` (relative
/// paths in the report are relative to `report_dir`) when one is given.
pub fn report(
    plugin: &PluginFacts,
    runs: Vec<(CheckInfo, CheckRun)>,
    started_at: String,
    duration: Duration,
    report_dir: Option<&Path>,
) -> Result<Report, Error> {
    let mut suites: Vec<Suite> = Vec::new();
    for criterion in Criterion::ALL {
        let name = format!("plugin-{}", criterion.as_str());
        let mut cases = Vec::new();
        for (check, run) in runs.iter().filter(|(c, _)| c.criterion == criterion) {
            cases.push(case(&name, check, run, report_dir)?);
        }
        super::ids::make_unique(&mut cases);
        if !cases.is_empty() {
            suites.push(Suite {
                name,
                properties: vec![("criterion".to_string(), criterion.title().to_string())],
                cases,
            });
        }
    }
    Ok(Report::new(
        format!("certify plugin run {}", plugin.name),
        started_at,
        duration,
        plugin.properties(),
        suites,
        None,
    ))
}

fn case(
    suite: &str,
    check: &CheckInfo,
    run: &CheckRun,
    report_dir: Option<&Path>,
) -> Result<Case, Error> {
    let verdict = match &run.status {
        Status::Passed => Verdict::Passed,
        Status::Failed { message } => Verdict::Failed {
            message: message.clone(),
        },
        Status::Skipped { reason } => Verdict::Skipped {
            reason: reason.clone(),
        },
        Status::Error { kind, message } => Verdict::Error {
            kind: kind.as_str().to_string(),
            message: message.clone(),
        },
    };
    let mut output = run.log.clone();
    if !run.stdio.is_empty() {
        output.push_str("--- stdout/stderr ---\n");
        output.push_str(&run.stdio);
    }
    let attachments = match report_dir {
        Some(dir) => write_evidence(dir, &check.id, run)?,
        None => Vec::new(),
    };
    Ok(Case {
        id: check.id.clone(),
        classname: suite.to_string(),
        title: check.title.clone(),
        verdict,
        duration: super::model::seconds(run.duration),
        hint: check.remediation.clone(),
        location: None,
        measurements: run
            .measurements
            .iter()
            .map(|m| (m.name.clone(), readable(m.value), m.unit.clone()))
            .collect(),
        attachments,
        output,
    })
}

/// A measured value at six significant digits: `1.4369999999999998` is `1.437`, the
/// figure the plugin meant; floating-point noise says nothing a reviewer can use.
pub fn readable(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{x:.5e}").parse().unwrap_or(x)
}

/// Write a check's evidence to `<dir>/evidence/<check>/<name>`. Names come
/// from the plugin, so they are reduced to safe file names first.
fn write_evidence(dir: &Path, check_id: &str, run: &CheckRun) -> Result<Vec<Attachment>, Error> {
    let mut out = Vec::new();
    for (i, e) in run.evidence.iter().enumerate() {
        let file = format!("{:02}-{}", i + 1, safe_name(&e.name));
        let rel = format!("evidence/{}/{file}", safe_name(check_id));
        super::write_file(&dir.join(&rel), &e.data)?;
        out.push(Attachment {
            name: e.name.clone(),
            media_type: e.media_type.clone(),
            path: rel,
            size: e.data.len() as u64,
            sha256: certify_runtime::sha256_hex(&e.data),
        });
    }
    Ok(out)
}

/// One safe path segment (see [`certify_runtime::text::path_segment`]): nothing can
/// climb out of the evidence directory.
fn safe_name(name: &str) -> String {
    certify_runtime::text::path_segment(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurements_read_at_six_significant_digits() {
        assert_eq!(readable(1.4369999999999998), 1.437);
        assert_eq!(readable(0.000123456789), 0.000123457);
        assert_eq!(readable(123456789.0), 123457000.0);
        assert_eq!(readable(0.0), 0.0);
        assert!(readable(f64::NAN).is_nan());
    }

    #[test]
    fn evidence_names_cannot_escape() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".."), "evidence");
        assert_eq!(safe_name("health.json"), "health.json");
        assert_eq!(safe_name("a b/c"), "a_b_c");
    }
}
