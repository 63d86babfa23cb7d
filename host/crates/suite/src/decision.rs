//! The certification decision: a run's results held against a suite.
//!
//! The rules, in the order the reasons are given:
//!
//! 1. Every **required** built-in check must pass. Failed, errored, skipped or missing
//!    (the run never reached it) all count against it: a verifier must be able to show
//!    that every required check ran and passed. An **advisory** one that does not pass
//!    only adds a warning.
//! 2. Every plugin check that **fails or errors** costs certification; a skipped one
//!    does not (it said why it does not apply), but it does not count as passing either.
//! 3. Each **criterion** needs at least the suite's minimum of passing plugin checks.
//!
//! A waiver for a check excuses it under rules 1 and 2 until the day after it expires;
//! an expired waiver is listed and named in the reason, and excuses nothing. A waived
//! failure never counts as a pass under rule 3.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use crate::model::{BuiltinCheck, Criterion, Level, Suite, Waiver, WaiverTarget, iso_date};

/// The verdict of one check, as the run reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "message", rename_all = "lowercase")]
pub enum Verdict {
    /// It did what is expected.
    Passed,
    /// The candidate's product (or documentation) did not; what happened.
    Failed(String),
    /// It could not be run to a verdict (harness, account, plugin trap or timeout).
    Error(String),
    /// It does not apply; why.
    Skipped(String),
}

impl Verdict {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        matches!(self, Verdict::Passed)
    }

    /// "failed (message)", "could not run (message)", … for reasons and warnings.
    fn describe(&self) -> String {
        let with = |what: &str, m: &str| {
            if m.trim().is_empty() {
                what.to_string()
            } else {
                format!("{what} ({})", m.trim())
            }
        };
        match self {
            Verdict::Passed => "passed".to_string(),
            Verdict::Failed(m) => with("failed", m),
            Verdict::Error(m) => with("could not run", m),
            Verdict::Skipped(m) => with("was skipped", m),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// One plugin check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginCheckResult {
    /// The id the plugin declares, e.g. `service.health`.
    pub id: String,
    /// The criterion it serves.
    pub criterion: Criterion,
    /// What happened.
    pub verdict: Verdict,
}

/// What a run found: the input to [`Suite::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Results {
    /// The day of the decision; waivers expire against it.
    pub today: NaiveDate,
    /// The built-in checks that ran; a check left out did not run.
    pub builtins: Vec<(BuiltinCheck, Verdict)>,
    /// Every plugin check that ran.
    pub plugin_checks: Vec<PluginCheckResult>,
}

impl Results {
    /// No results yet, decided on `today`.
    pub fn new(today: NaiveDate) -> Self {
        Results {
            today,
            builtins: Vec::new(),
            plugin_checks: Vec::new(),
        }
    }

    /// Records a built-in check's verdict (a later one for the same check replaces it).
    pub fn builtin(mut self, check: BuiltinCheck, verdict: Verdict) -> Self {
        self.builtins.retain(|(c, _)| *c != check);
        self.builtins.push((check, verdict));
        self
    }

    /// Records a plugin check's verdict.
    pub fn plugin(mut self, id: impl Into<String>, criterion: Criterion, verdict: Verdict) -> Self {
        self.plugin_checks.push(PluginCheckResult {
            id: id.into(),
            criterion,
            verdict,
        });
        self
    }

    fn builtin_verdict(&self, check: BuiltinCheck) -> Option<&Verdict> {
        self.builtins
            .iter()
            .rev()
            .find(|(c, _)| *c == check)
            .map(|(_, v)| v)
    }
}

/// What a reason not to certify is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Blocker {
    /// A required built-in check that did not pass, with how it ended (`None`: it did
    /// not run).
    Builtin {
        /// The check.
        check: BuiltinCheck,
        /// How it ended.
        verdict: Option<Verdict>,
    },
    /// A plugin check that failed or could not run.
    Plugin {
        /// Its id.
        id: String,
        /// The criterion it serves.
        criterion: Criterion,
    },
    /// A criterion short of its minimum of passing plugin checks.
    Criterion(Criterion),
}

/// The certification decision, ready for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Whether the candidate is certified.
    pub certified: bool,
    /// Plain sentences for the report. When not certified, one per reason, each
    /// starting "Not certified:"; when certified, one starting "Certified:".
    pub reasons: Vec<String>,
    /// What each "Not certified:" reason is about, in the same order: so that a reader
    /// can tell a cause from its consequences without reading the sentences.
    pub blockers: Vec<Blocker>,
    /// Advisory checks that did not pass, and expired waivers, as sentences starting
    /// "Warning:".
    pub warnings: Vec<String>,
    /// Every built-in check with its level and outcome, in run order.
    pub builtins: Vec<BuiltinVerdict>,
    /// Every criterion with its minimum and counts, in the program's order.
    pub criteria: Vec<CriterionVerdict>,
    /// Failures excused by a waiver.
    pub waived: Vec<AppliedWaiver>,
    /// The suite's waivers that have expired (whether or not a check needed them).
    pub expired_waivers: Vec<ExpiredWaiver>,
}

impl Decision {
    /// "Certified" or "Not certified".
    pub fn verdict(&self) -> &'static str {
        if self.certified {
            "Certified"
        } else {
            "Not certified"
        }
    }
}

/// A built-in check in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltinVerdict {
    /// The check.
    pub check: BuiltinCheck,
    /// Its level in the suite.
    pub level: Level,
    /// What the run found; `None` when it did not run.
    pub verdict: Option<Verdict>,
    /// How it counts in the decision.
    pub outcome: Outcome,
}

/// How a check counts in the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It did not pass and costs certification.
    Blocking,
    /// It did not pass, and a waiver excuses it.
    Waived,
    /// It did not pass, and only warns (an advisory check, or a skipped plugin check).
    Warning,
}

/// A criterion in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionVerdict {
    /// The criterion.
    pub criterion: Criterion,
    /// The suite's minimum of passing plugin checks.
    pub minimum: u32,
    /// Plugin checks for it that passed.
    pub passed: u32,
    /// That failed (waived ones included).
    pub failed: u32,
    /// That could not run (waived ones included).
    pub errors: u32,
    /// That were skipped.
    pub skipped: u32,
    /// Of the failed and errored ones, those a waiver excuses.
    pub waived: u32,
    /// Whether it reaches its minimum with no unwaived failure or error.
    pub met: bool,
}

/// A failure excused by a waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedWaiver {
    /// The check, as waivers name it (`docs.steps`, `plugin:service.health`).
    pub check: String,
    /// What the waiver excuses (`None`: the check did not run).
    pub verdict: Option<Verdict>,
    /// The waiver.
    pub waiver: Waiver,
}

/// A waiver past its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpiredWaiver {
    /// The waiver.
    pub waiver: Waiver,
    /// The day after `expires`: the first day it no longer applied.
    #[serde(serialize_with = "iso_date")]
    pub lapsed_on: NaiveDate,
    /// Whether a check failed that the waiver would have excused.
    pub needed: bool,
}

impl Suite {
    /// Holds a run's results against this suite. See the module docs for the rules.
    pub fn decide(&self, results: &Results) -> Decision {
        let mut d = Decider {
            suite: self,
            today: results.today,
            reasons: Vec::new(),
            blockers: Vec::new(),
            warnings: Vec::new(),
            waived: Vec::new(),
            needed_expired: Vec::new(),
        };

        let mut builtins = Vec::new();
        for check in BuiltinCheck::ALL {
            let level = self.level(check);
            let verdict = results.builtin_verdict(check).cloned();
            let outcome = d.builtin(check, level, verdict.as_ref());
            builtins.push(BuiltinVerdict {
                check,
                level,
                verdict,
                outcome,
            });
        }

        let mut criteria = Vec::new();
        for criterion in Criterion::ALL {
            let mut c = CriterionVerdict {
                criterion,
                minimum: self.minimum(criterion),
                passed: 0,
                failed: 0,
                errors: 0,
                skipped: 0,
                waived: 0,
                met: true,
            };
            for r in results
                .plugin_checks
                .iter()
                .filter(|r| r.criterion == criterion)
            {
                match &r.verdict {
                    Verdict::Passed => c.passed += 1,
                    Verdict::Skipped(_) => c.skipped += 1,
                    v @ (Verdict::Failed(_) | Verdict::Error(_)) => {
                        if matches!(v, Verdict::Failed(_)) {
                            c.failed += 1;
                        } else {
                            c.errors += 1;
                        }
                        if d.plugin_failure(r) {
                            c.waived += 1;
                        } else {
                            c.met = false;
                        }
                    }
                }
            }
            if c.passed < c.minimum {
                c.met = false;
                d.blockers.push(Blocker::Criterion(criterion));
                d.reasons.push(format!(
                    "Not certified: {criterion} needs at least {} passing plugin {}, and {} passed{}.",
                    c.minimum,
                    plural(c.minimum, "check", "checks"),
                    c.passed,
                    counts(&c),
                ));
            }
            criteria.push(c);
        }

        let expired_waivers: Vec<ExpiredWaiver> = self
            .waivers
            .iter()
            .filter(|w| w.is_expired(results.today))
            .map(|w| ExpiredWaiver {
                waiver: w.clone(),
                lapsed_on: w.expires.succ_opt().unwrap_or(w.expires),
                needed: d.needed_expired.contains(&w.check),
            })
            .collect();
        for e in &expired_waivers {
            d.warnings.push(format!(
                "Warning: the waiver for {} in {} expired on {} and no longer applies; renew it with a new expiry or remove it (line {}).",
                e.waiver.check,
                self.label(),
                e.waiver.expires.format("%Y-%m-%d"),
                e.waiver.line,
            ));
        }

        let certified = d.reasons.is_empty();
        let mut reasons = d.reasons;
        if certified {
            let required = self.required_checks().len();
            let mut s = format!(
                "Certified: all {required} required checks of {} passed, no plugin check failed, and every criterion has its minimum of passing plugin checks",
                self.label()
            );
            if !d.waived.is_empty() {
                let n = d.waived.len();
                s.push_str(&format!(
                    " ({n} {} excused by {})",
                    plural(n as u32, "failure", "failures"),
                    plural(n as u32, "a waiver", "waivers")
                ));
            }
            s.push('.');
            reasons.push(s);
        }
        Decision {
            certified,
            reasons,
            blockers: d.blockers,
            warnings: d.warnings,
            builtins,
            criteria,
            waived: d.waived,
            expired_waivers,
        }
    }
}

struct Decider<'s> {
    suite: &'s Suite,
    today: NaiveDate,
    reasons: Vec<String>,
    blockers: Vec<Blocker>,
    warnings: Vec<String>,
    waived: Vec<AppliedWaiver>,
    /// Targets whose failure an expired waiver would have excused.
    needed_expired: Vec<WaiverTarget>,
}

impl<'s> Decider<'s> {
    fn builtin(&mut self, check: BuiltinCheck, level: Level, verdict: Option<&Verdict>) -> Outcome {
        if verdict.is_some_and(Verdict::passed) {
            return Outcome::Passed;
        }
        let what = match verdict {
            Some(v) => format!("{check} {v}"),
            None => format!("{check} did not run"),
        };
        if level == Level::Advisory {
            self.warnings.push(format!(
                "Warning: {what}; it is advisory in {}, so certification does not depend on it.",
                self.suite.label()
            ));
            return Outcome::Warning;
        }
        let target = WaiverTarget::Builtin(check);
        match self.waiver_for(&target, verdict) {
            Ok(()) => Outcome::Waived,
            Err(expired) => {
                let must = match verdict {
                    Some(Verdict::Skipped(_)) | None => "; a required check must run and pass",
                    _ => "",
                };
                self.blockers.push(Blocker::Builtin {
                    check,
                    verdict: verdict.cloned(),
                });
                self.reasons.push(format!(
                    "Not certified: {what}{must}{}.",
                    expired_note(expired)
                ));
                Outcome::Blocking
            }
        }
    }

    /// Whether a failed or errored plugin check is waived; reports it when it is not.
    fn plugin_failure(&mut self, r: &PluginCheckResult) -> bool {
        let target = WaiverTarget::Plugin(r.id.clone());
        match self.waiver_for(&target, Some(&r.verdict)) {
            Ok(()) => true,
            Err(expired) => {
                self.blockers.push(Blocker::Plugin {
                    id: r.id.clone(),
                    criterion: r.criterion,
                });
                self.reasons.push(format!(
                    "Not certified: plugin check {} ({}) {}{}.",
                    r.id,
                    r.criterion,
                    r.verdict,
                    expired_note(expired)
                ));
                false
            }
        }
    }

    /// Applies the waiver for `target` when there is a live one; otherwise returns the
    /// expired one, if any, so the reason can name it.
    fn waiver_for(
        &mut self,
        target: &WaiverTarget,
        verdict: Option<&Verdict>,
    ) -> Result<(), Option<&'s Waiver>> {
        let suite: &'s Suite = self.suite;
        let Some(w) = suite.waivers.iter().find(|w| w.check == *target) else {
            return Err(None);
        };
        if w.is_expired(self.today) {
            self.needed_expired.push(target.clone());
            return Err(Some(w));
        }
        self.waived.push(AppliedWaiver {
            check: target.to_string(),
            verdict: verdict.cloned(),
            waiver: w.clone(),
        });
        Ok(())
    }
}

fn expired_note(expired: Option<&Waiver>) -> String {
    match expired {
        Some(w) => format!(" (its waiver expired on {})", w.expires.format("%Y-%m-%d")),
        None => String::new(),
    }
}

/// ", with 1 failed (waived) and 1 skipped" — what else happened to the criterion's
/// checks, so the reason explains a low count.
fn counts(c: &CriterionVerdict) -> String {
    let mut parts = Vec::new();
    if c.failed > 0 {
        parts.push(format!("{} failed", c.failed));
    }
    if c.errors > 0 {
        parts.push(format!("{} could not run", c.errors));
    }
    if c.waived > 0 {
        parts.push(format!("{} of them waived", c.waived));
    }
    if c.skipped > 0 {
        parts.push(format!("{} skipped", c.skipped));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn plural(n: u32, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
