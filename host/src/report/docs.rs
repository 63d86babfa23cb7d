//! Documentation checks as a report: one suite per article (plus one for the
//! set), one case per check, each pointing at its file and line, named by the
//! scheme in [`super::ids`].

use std::path::Path;
use std::time::Duration;

use certify_kb::{CheckResult, CheckStatus, DocsReport};

use super::ids;
use super::model::{Case, Report, Suite, Verdict};

/// Build the report of `certify docs check`. Paths are shown relative to `base`.
pub fn report(docs: &DocsReport, base: &Path, started_at: String, duration: Duration) -> Report {
    let mut suites = Vec::new();
    for article in &docs.articles {
        let file = relative(&article.file, base);
        let name = format!("docs-{}", ids::article(&file));
        suites.push(Suite {
            cases: cases(&article.checks, &name, base),
            name,
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
        });
    }
    suites.push(Suite {
        name: "docs".into(),
        properties: Vec::new(),
        cases: cases(&docs.set_checks, "docs", base),
    });
    Report::new(
        "certify docs check".into(),
        started_at,
        duration,
        vec![("harness.version".into(), crate::VERSION.into())],
        suites,
        None,
    )
}

/// One case per check, named by what it checks (`kb.link.<target>`), never by its
/// line: the line is in the location and the message. GitLab keeps only the first
/// of duplicate names, and CI history follows the name, so ids are unique and stable.
fn cases(checks: &[CheckResult], suite: &str, base: &Path) -> Vec<Case> {
    let mut cases: Vec<Case> = checks
        .iter()
        .map(|c| {
            let location = format!("{}:{}", relative(&c.file, base), c.line);
            let id = match &c.subject {
                Some(subject) => format!("{}.{}", c.id, ids::slug(subject)),
                None => c.id.clone(),
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
            let mut case = Case::new(&id, suite, &c.message, verdict);
            case.hint = c.hint.clone();
            case.location = Some(location);
            case
        })
        .collect();
    ids::make_unique(&mut cases);
    cases
}

/// `path` relative to `base` when it is inside it, as given otherwise.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}
