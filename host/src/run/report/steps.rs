//! The articles' steps: one suite per article, a case per step that shows and one that
//! says whether the article reproduces, all filed under `docs.steps`.

use certify_kb::StepStatus;
use certify_program::{BuiltinCheck as B, case as case_id};

use super::{Cases, case, error, failed, round, skipped};
use crate::report::ids;
use crate::report::model::{Case, Suite, Verdict};
use crate::run::RunRecord;

/// The suites of the articles' step runs.
pub(super) fn suites(facts: &RunRecord<'_>, record: &mut Cases) {
    let base = facts.bundle.root.as_path();
    for (file, run) in &facts.found.steps {
        let rel = crate::report::docs::relative(file, base);
        let suite = format!("docs-steps-{}", ids::article(&rel));
        let suite_cases = match run {
            Ok(run) => {
                let mut cases: Vec<Case> = run
                    .steps
                    .iter()
                    .filter(|s| !s.hidden)
                    .map(|s| {
                        let location = format!(
                            "{}:{}",
                            crate::report::docs::relative(&s.file, base),
                            s.line
                        );
                        let verdict = match &s.status {
                            StepStatus::Passed => Verdict::Passed,
                            StepStatus::Failed { message, .. } => {
                                failed(format!("{location}: {message}"))
                            }
                            StepStatus::Skipped { reason } => skipped(reason.clone()),
                            StepStatus::NotExecutable { reason } => {
                                skipped(format!("not executable: {reason}"))
                            }
                        };
                        let mut c = case(
                            &format!("step.{}", ids::slug(&s.label)),
                            &suite,
                            &s.label,
                            verdict,
                        );
                        c.location = Some(location);
                        c.set_duration(s.duration);
                        c.output = format!("$ {}\n{}", s.command, s.output);
                        c
                    })
                    .collect();
                ids::make_unique(&mut cases);
                let mut summary = case(
                    case_id::STEPS_REPRODUCE,
                    &suite,
                    "The article's steps reproduce against the deployment",
                    if run.passed() {
                        Verdict::Passed
                    } else {
                        failed(format!(
                            "{}:{}: {}",
                            rel, run.verdict.line, run.verdict.message
                        ))
                    },
                );
                summary.measurements.push((
                    "steps_executed".into(),
                    round(run.executed_share() * 100.0),
                    "%".into(),
                ));
                summary.output = format!("{} of {} steps executed\n", run.executed, run.total);
                cases.push(summary);
                cases
            }
            Err(e) => vec![case(
                case_id::STEPS_REPRODUCE,
                &suite,
                "The article's steps reproduce against the deployment",
                error("docs", e.clone()),
            )],
        };
        record.push_all(
            Some(B::DocsSteps),
            Suite {
                name: suite,
                properties: vec![("article.file".into(), rel.clone())],
                cases: suite_cases,
            },
        );
    }
}
