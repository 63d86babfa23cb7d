//! Documentation checks as a report: one suite per article (plus one for the
//! set), one case per check, each pointing at its file and line.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use certify_kb::{CheckResult, CheckStatus, DocsReport};

use super::model::{Case, Report, Suite, Verdict};

/// Build the report of `certify docs check`. Paths are shown relative to `base`.
pub fn report(docs: &DocsReport, base: &Path, started_at: String, duration: Duration) -> Report {
    let mut suites = Vec::new();
    for article in &docs.articles {
        let file = relative(&article.file, base);
        suites.push(Suite {
            name: format!("docs:{file}"),
            properties: vec![
                ("article.file".into(), file.clone()),
                (
                    "article.audience".into(),
                    format!("{:?}", article.audience).to_lowercase(),
                ),
                (
                    "article.title".into(),
                    article.title.clone().unwrap_or_default(),
                ),
            ],
            cases: cases(&article.checks, &file, base),
        });
    }
    suites.push(Suite {
        name: "docs".into(),
        properties: Vec::new(),
        cases: cases(&docs.set_checks, "docs", base),
    });
    Report {
        name: "certify docs check".into(),
        started_at,
        duration,
        properties: vec![("harness.version".into(), crate::VERSION.into())],
        suites,
        certification: None,
    }
}

/// One case per check. Ids that repeat within an article (one per link, say)
/// get the line appended, so that every test name is unique: GitLab keeps
/// only the first of duplicate names.
fn cases(checks: &[CheckResult], classname: &str, base: &Path) -> Vec<Case> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for c in checks {
        *seen.entry(c.id.as_str()).or_default() += 1;
    }
    checks
        .iter()
        .map(|c| {
            let location = format!("{}:{}", relative(&c.file, base), c.line);
            let id = if seen[c.id.as_str()] > 1 {
                format!("{}:{}", c.id, c.line)
            } else {
                c.id.clone()
            };
            let verdict = match &c.status {
                CheckStatus::Passed => Verdict::Passed,
                CheckStatus::Failed => Verdict::Failed {
                    message: format!("{location}: {}", c.message),
                },
                CheckStatus::Skipped { reason } => Verdict::Skipped {
                    reason: reason.clone(),
                },
            };
            Case {
                id,
                classname: format!("docs.{classname}"),
                title: c.message.clone(),
                verdict,
                duration: Duration::ZERO,
                hint: c.hint.clone(),
                location: Some(location),
                measurements: Vec::new(),
                attachments: Vec::new(),
                output: String::new(),
            }
        })
        .collect()
}

/// `path` relative to `base` when it is inside it, as given otherwise.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
