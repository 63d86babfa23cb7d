//! Tests of the crate as its users meet it: the shipped suites, the golden error files
//! in `golden/`, and certification decisions.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- shipped suites

#[test]
fn shipped_suites_load_with_their_tier_credit() {
    let credits: Vec<(String, Tier, u32)> = Suite::list()
        .into_iter()
        .map(|s| {
            assert!(s.warnings.is_empty(), "{}: {:?}", s.name, s.warnings);
            (s.name, s.tier, s.monthly_credit_usd)
        })
        .collect();
    assert_eq!(
        credits,
        [
            ("silver".to_string(), Tier::Silver, 2_000),
            ("gold".to_string(), Tier::Gold, 7_000),
            ("platinum".to_string(), Tier::Platinum, 15_000),
        ]
    );
}

#[test]
fn shipped_suites_are_the_files_in_certification_suites() {
    let dir = crate_dir().join("../../../certification-suites");
    for name in SHIPPED {
        let path = dir.join(format!("{name}.toml"));
        let bytes = std::fs::read(&path).unwrap();
        let shipped = Suite::builtin(name).unwrap();
        assert_eq!(shipped.sha256, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(
            shipped.source,
            SuiteSource::Shipped {
                name: name.to_string()
            }
        );
        let from_file = Suite::load(&path).unwrap();
        assert_eq!(from_file.sha256, shipped.sha256);
        assert_eq!(from_file.source, SuiteSource::File { path });
        assert_eq!(from_file.name, name);
        assert_eq!(from_file.version, semver::Version::new(1, 0, 0));
    }
}

#[test]
fn stricter_tiers_ask_for_more() {
    let [silver, gold, platinum] = [0, 1, 2].map(|i| Suite::list().remove(i));
    for (lower, higher) in [(&silver, &gold), (&gold, &platinum)] {
        assert!(higher.time_to_value_minutes <= lower.time_to_value_minutes);
        assert!(higher.docs.min_executed_share >= lower.docs.min_executed_share);
        for c in Criterion::ALL {
            assert!(higher.minimum(c) >= lower.minimum(c), "{c}");
        }
    }
    assert_eq!(silver.time_to_value_minutes, ENGINE_BLUEPRINT_LIMIT_MINUTES);
    let minimums: Vec<u32> = Criterion::ALL.iter().map(|c| silver.minimum(*c)).collect();
    assert_eq!(minimums, [1, 0, 0, 1]);
    // The three-month window only warns; everything else is required.
    for s in [&silver, &gold, &platinum] {
        let required = s.required_checks();
        assert_eq!(required.len(), BuiltinCheck::ALL.len() - 1);
        assert!(!required.contains(&BuiltinCheck::ProgramWindow));
        assert!(s.waivers.is_empty());
    }
}

#[test]
fn resolve_takes_a_name_or_a_path() {
    assert_eq!(Suite::resolve("gold").unwrap().tier, Tier::Gold);
    let path = crate_dir().join("golden/valid.toml");
    assert_eq!(
        Suite::resolve(path.to_str().unwrap()).unwrap().name,
        "acme-silver"
    );
    let err = Suite::resolve("bronze").unwrap_err();
    assert_eq!(
        err.to_string(),
        "there is no shipped suite named \"bronze\"; use one of silver, gold, platinum or give the path of a suite file"
    );
    let err = Suite::resolve("./no-such-suite.toml").unwrap_err();
    assert!(matches!(err, SuiteError::Read { .. }), "{err}");
}

#[test]
fn the_annotated_example_in_the_readme_loads() {
    let path = crate_dir().join("../../../certification-suites/README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find("```toml\n")
        .expect("README has a ```toml example")
        + 8;
    let len = readme[start..].find("```").unwrap();
    let suite = Suite::parse("README.md example", &readme[start..start + len]).unwrap();
    assert_eq!(suite.label(), "acme-silver 1.1.0");
    assert_eq!(suite.level(BuiltinCheck::ProgramWindow), Level::Advisory);
    assert_eq!(suite.run_time_limit_minutes, DEFAULT_RUN_TIME_LIMIT_MINUTES);
    assert_eq!(
        suite.docs,
        DocRules {
            min_executed_share: 0.5,
            ..DocRules::default()
        }
    );
    assert_eq!(suite.waivers.len(), 1);
    assert_eq!(
        suite.waivers[0].check,
        WaiverTarget::Builtin(BuiltinCheck::DocsSteps)
    );
    assert!(suite.warnings.is_empty());
}

// ---------------------------------------------------------------- golden errors

/// Each `golden/<case>.toml` is read as `golden/<case>.toml`; its problems must be
/// exactly `golden/<case>.err`, or, without an `.err`, it must load. Run with
/// `UPDATE_GOLDEN=1` to rewrite the `.err` files after an intended change.
#[test]
fn golden_files() {
    let dir = crate_dir().join("golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "golden cases: {cases:?}");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for case in cases {
        let shown = Path::new("golden").join(case.file_name().unwrap());
        let text = std::fs::read_to_string(&case).unwrap();
        let err_file = case.with_extension("err");
        let got = match Suite::parse(&shown, &text) {
            Ok(_) => None,
            Err(e) => Some(format!("{e}\n")),
        };
        if update {
            match &got {
                Some(g) => std::fs::write(&err_file, g).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&err_file);
                }
            }
            continue;
        }
        let want = std::fs::read_to_string(&err_file).ok();
        if got != want {
            mismatches.push(format!(
                "{}:\n--- want\n{}\n--- got\n{}",
                shown.display(),
                want.as_deref().unwrap_or("(loads)\n"),
                got.as_deref().unwrap_or("(loads)\n")
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The golden cases again, as the positions the brief asks for, so a careless
/// `UPDATE_GOLDEN=1` cannot move them unnoticed.
#[test]
fn errors_point_at_the_offending_line() {
    let cases = [
        ("syntax-error", 12, "not valid TOML"),
        ("unknown-key", 4, "unknown key `titel` in the top level"),
        ("unknown-check", 14, "unknown built-in check `docs.step`"),
        ("bad-level", 15, "must be \"required\" or \"advisory\""),
        (
            "waiver-without-justification",
            28,
            "[[waivers]] has no `justification`",
        ),
        (
            "waiver-empty-justification",
            30,
            "`justification` in [[waivers]] is empty",
        ),
        ("expiry-not-a-date", 31, "`expires` is not a date"),
        ("expiry-impossible-date", 31, "not valid TOML"),
    ];
    for (case, line, message) in cases {
        let path = crate_dir().join(format!("golden/{case}.toml"));
        let err = Suite::load(&path).unwrap_err();
        let first = &err.problems()[0];
        assert_eq!(
            (first.line, first.message.contains(message)),
            (line, true),
            "{case}: {first}"
        );
        assert!(!first.hint.is_empty(), "{case} says what to do");
        assert_eq!(first.file, path);
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = Suite::load(crate_dir().join("golden/many-problems.toml")).unwrap_err();
    let lines: Vec<(usize, Severity)> = err
        .problems()
        .iter()
        .map(|p| (p.line, p.severity))
        .collect();
    assert_eq!(
        lines,
        [
            (6, Severity::Error),   // colour
            (9, Severity::Warning), // credit differs from the tier's
            (18, Severity::Error),  // [criteria] has no documentation (at its header)
            (25, Severity::Error),  // "faq"
            (26, Severity::Error),  // 1.5
            (30, Severity::Error),  // teardown.verifed
        ]
    );
}

// ---------------------------------------------------------------- decisions

fn silver() -> Suite {
    Suite::builtin("silver").unwrap()
}

/// The golden valid suite: silver-like, with a waiver for docs.steps through 2026-06-30.
fn waiving() -> Suite {
    Suite::load(crate_dir().join("golden/valid.toml")).unwrap()
}

/// Every built-in check passed, and one passing plugin check per criterion silver needs.
fn all_pass(today: &str) -> Results {
    BuiltinCheck::ALL
        .into_iter()
        .fold(Results::new(day(today)), |r, c| {
            r.builtin(c, Verdict::Passed)
        })
        .plugin(
            "service.health",
            Criterion::PerformsAsAdvertised,
            Verdict::Passed,
        )
        .plugin("roi.page-load", Criterion::BusinessValue, Verdict::Passed)
}

#[test]
fn all_pass_is_certified() {
    let d = silver().decide(&all_pass("2026-04-01"));
    assert!(d.certified);
    assert_eq!(d.verdict(), "Certified");
    assert_eq!(
        d.reasons,
        [
            "Certified: all 11 required checks of silver 1.0.0 passed, no plugin check failed, and every criterion has its minimum of passing plugin checks."
        ]
    );
    assert!(d.warnings.is_empty());
    assert!(d.criteria.iter().all(|c| c.met));
    assert!(d.builtins.iter().all(|b| b.outcome == Outcome::Passed));
}

#[test]
fn a_required_failure_is_not_certified_with_the_reason() {
    let r = all_pass("2026-04-01").builtin(
        BuiltinCheck::TeardownVerified,
        Verdict::Failed("2 servers tagged with the run id still exist".into()),
    );
    let d = silver().decide(&r);
    assert!(!d.certified);
    assert_eq!(
        d.reasons,
        ["Not certified: teardown.verified failed (2 servers tagged with the run id still exist)."]
    );
    let b = d
        .builtins
        .iter()
        .find(|b| b.check == BuiltinCheck::TeardownVerified)
        .unwrap();
    assert_eq!((b.level, b.outcome), (Level::Required, Outcome::Blocking));
}

#[test]
fn a_required_check_that_did_not_run_or_was_skipped_is_not_certified() {
    let mut r = all_pass("2026-04-01");
    r.builtins
        .retain(|(c, _)| *c != BuiltinCheck::BudgetSettled);
    let r = r.builtin(
        BuiltinCheck::DocsSteps,
        Verdict::Skipped("no step can be executed".into()),
    );
    let d = silver().decide(&r);
    assert!(!d.certified);
    assert_eq!(
        d.reasons,
        [
            "Not certified: docs.steps was skipped (no step can be executed); a required check must run and pass.",
            "Not certified: budget.settled did not run; a required check must run and pass.",
        ]
    );
}

#[test]
fn every_reason_says_what_it_is_about_in_the_same_order() {
    let mut r = all_pass("2026-04-01");
    r.builtins
        .retain(|(c, _)| *c != BuiltinCheck::BudgetSettled);
    r.plugin_checks.clear();
    let r = r
        .builtin(
            BuiltinCheck::BlueprintDeployed,
            Verdict::Failed("timeout".into()),
        )
        .plugin(
            "service.health",
            Criterion::PerformsAsAdvertised,
            Verdict::Error("trap: unreachable".into()),
        );
    let d = silver().decide(&r);
    assert_eq!(d.blockers.len(), d.reasons.len(), "{:?}", d.reasons);
    assert_eq!(
        d.blockers,
        [
            Blocker::Builtin {
                check: BuiltinCheck::BlueprintDeployed,
                verdict: Some(Verdict::Failed("timeout".into())),
            },
            Blocker::Builtin {
                check: BuiltinCheck::BudgetSettled,
                verdict: None,
            },
            Blocker::Plugin {
                id: "service.health".into(),
                criterion: Criterion::PerformsAsAdvertised,
            },
            Blocker::Criterion(Criterion::PerformsAsAdvertised),
            Blocker::Criterion(Criterion::BusinessValue),
        ]
    );
    assert!(d.reasons[2].contains("plugin check service.health"));
    assert!(d.reasons[4].contains("business-value needs at least 1"));
    assert!(silver().decide(&all_pass("2026-04-01")).blockers.is_empty());
}

#[test]
fn an_advisory_failure_is_certified_with_a_warning() {
    let r = all_pass("2026-06-15").builtin(
        BuiltinCheck::ProgramWindow,
        Verdict::Failed("day 105 of the 90-day window".into()),
    );
    let d = silver().decide(&r);
    assert!(d.certified, "{:?}", d.reasons);
    assert_eq!(
        d.warnings,
        [
            "Warning: program.window failed (day 105 of the 90-day window); it is advisory in silver 1.0.0, so certification does not depend on it."
        ]
    );
}

#[test]
fn a_waived_failure_is_certified_and_the_waiver_listed() {
    let r = all_pass("2026-06-30").builtin(
        BuiltinCheck::DocsSteps,
        Verdict::Failed("step 7: no browser".into()),
    );
    let d = waiving().decide(&r);
    assert!(d.certified, "{:?}", d.reasons);
    assert_eq!(d.waived.len(), 1);
    let w = &d.waived[0];
    assert_eq!(w.check, "docs.steps");
    assert_eq!(
        w.verdict,
        Some(Verdict::Failed("step 7: no browser".into()))
    );
    assert_eq!(w.waiver.expires, day("2026-06-30"));
    assert_eq!(w.waiver.approved_by.as_deref(), Some("CLC Ecosystem team"));
    assert_eq!(w.waiver.line, 28);
    assert!(
        d.reasons[0].ends_with("(1 failure excused by a waiver)."),
        "{}",
        d.reasons[0]
    );
    assert!(d.expired_waivers.is_empty());
}

#[test]
fn an_expired_waiver_does_not_apply() {
    let r = all_pass("2026-07-01").builtin(
        BuiltinCheck::DocsSteps,
        Verdict::Failed("step 7: no browser".into()),
    );
    let d = waiving().decide(&r);
    assert!(!d.certified);
    assert_eq!(
        d.reasons,
        [
            "Not certified: docs.steps failed (step 7: no browser) (its waiver expired on 2026-06-30)."
        ]
    );
    assert!(d.waived.is_empty());
    assert_eq!(d.expired_waivers.len(), 1);
    assert!(d.expired_waivers[0].needed);
    assert_eq!(d.expired_waivers[0].lapsed_on, day("2026-07-01"));
    assert_eq!(
        d.warnings,
        [
            "Warning: the waiver for docs.steps in acme-silver 1.1.0 expired on 2026-06-30 and no longer applies; renew it with a new expiry or remove it (line 28)."
        ]
    );
}

#[test]
fn an_expired_waiver_nobody_needed_is_still_listed() {
    let d = waiving().decide(&all_pass("2026-07-01"));
    assert!(d.certified);
    assert_eq!(d.expired_waivers.len(), 1);
    assert!(!d.expired_waivers[0].needed);
    assert_eq!(d.warnings.len(), 1);
}

#[test]
fn too_few_passing_checks_for_a_criterion_is_not_certified() {
    let mut r = all_pass("2026-04-01");
    r.plugin_checks
        .retain(|p| p.criterion != Criterion::BusinessValue);
    let r = r.plugin(
        "roi.report",
        Criterion::BusinessValue,
        Verdict::Skipped("no traffic yet".into()),
    );
    let d = silver().decide(&r);
    assert!(!d.certified);
    assert_eq!(
        d.reasons,
        [
            "Not certified: business-value needs at least 1 passing plugin check, and 0 passed (1 skipped)."
        ]
    );
    let c = d
        .criteria
        .iter()
        .find(|c| c.criterion == Criterion::BusinessValue)
        .unwrap();
    assert_eq!((c.minimum, c.passed, c.skipped, c.met), (1, 0, 1, false));
}

#[test]
fn a_failing_plugin_check_is_not_certified_unless_waived() {
    let r = all_pass("2026-04-01")
        .plugin(
            "service.tls",
            Criterion::PerformsAsAdvertised,
            Verdict::Failed("certificate expired".into()),
        )
        .plugin(
            "service.metrics",
            Criterion::PerformsAsAdvertised,
            Verdict::Error("timeout: no answer within 30 s".into()),
        );
    let d = silver().decide(&r);
    assert!(!d.certified);
    assert_eq!(
        d.reasons,
        [
            "Not certified: plugin check service.tls (performs-as-advertised) failed (certificate expired).",
            "Not certified: plugin check service.metrics (performs-as-advertised) could not run (timeout: no answer within 30 s).",
        ]
    );

    let text = std::fs::read_to_string(crate_dir().join("golden/valid.toml")).unwrap()
        + "\n[[waivers]]\ncheck = \"plugin:service.tls\"\njustification = \"The emulator serves a test certificate.\"\nexpires = 2026-12-31\n"
        + "\n[[waivers]]\ncheck = \"plugin:service.metrics\"\njustification = \"Metrics endpoint ships in 2.4.\"\nexpires = \"2026-12-31\"\n";
    let suite = Suite::parse("waivers.toml", &text).unwrap();
    let d = suite.decide(&r);
    assert!(d.certified, "{:?}", d.reasons);
    let waived: Vec<&str> = d.waived.iter().map(|w| w.check.as_str()).collect();
    assert_eq!(waived, ["plugin:service.tls", "plugin:service.metrics"]);
    let c = &d.criteria[0];
    // Waived failures excuse, but never count as passes.
    assert_eq!(
        (c.passed, c.failed, c.errors, c.waived, c.met),
        (1, 1, 1, 2, true)
    );
}

#[test]
fn the_decision_serialises_for_the_record() {
    let r =
        all_pass("2026-07-01").builtin(BuiltinCheck::DocsSteps, Verdict::Failed("step 7".into()));
    let d = waiving().decide(&r);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["certified"], false);
    assert_eq!(json["builtins"][7]["check"], "docs.steps");
    assert_eq!(json["builtins"][7]["verdict"]["verdict"], "failed");
    assert_eq!(json["builtins"][7]["verdict"]["message"], "step 7");
    assert_eq!(json["builtins"][7]["outcome"], "blocking");
    assert_eq!(json["criteria"][3]["criterion"], "business-value");
    assert_eq!(
        json["expired_waivers"][0]["waiver"]["expires"],
        "2026-06-30"
    );
    assert_eq!(json["expired_waivers"][0]["waiver"]["check"], "docs.steps");
    let suite = serde_json::to_value(waiving()).unwrap();
    assert_eq!(suite["version"], "1.1.0");
    assert_eq!(suite["checks"]["program.window"], "advisory");
    assert_eq!(suite["criteria"]["performs-as-advertised"], 1);
}

/// The suite parser on mutated shipped suites: never a panic, always an answer.
mod fuzz {
    use proptest::prelude::*;
    use proptest::sample::Index;

    use crate::Suite;

    const TOKENS: &[&str] = &[
        "[",
        "]",
        "[[",
        "{",
        "}",
        "\"",
        "'''",
        "=",
        "\n",
        "\r\n",
        "#",
        ",",
        ".",
        "0",
        "-1",
        "4294967296",
        "1e999",
        "nan",
        "inf",
        "true",
        "2026-13-45",
        "\u{feff}",
        "\u{0}",
        "[checks]\n",
        "[credit]\nmonthly_usd = ",
        "\"waivers\"",
        "[[waivers]]\n",
        "tier = ",
        "platinum",
        "minimum = ",
    ];

    fn mutate(mut bytes: Vec<u8>, edits: &[(Index, u8, usize)]) -> Vec<u8> {
        for (i, kind, token) in edits {
            let at = i.index(bytes.len() + 1).min(bytes.len());
            match kind % 3 {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => {
                    bytes.splice(at..at, TOKENS[token % TOKENS.len()].bytes());
                }
                _ if at < bytes.len() => bytes[at] = *token as u8,
                _ => {}
            }
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn mutated_suites_parse_or_are_refused(
            which in 0..3usize,
            edits in prop::collection::vec((any::<Index>(), any::<u8>(), any::<usize>()), 0..24),
        ) {
            let name = ["silver", "gold", "platinum"][which];
            let text = Suite::shipped_text(name).unwrap();
            let bytes = mutate(text.as_bytes().to_vec(), &edits);
            let text = String::from_utf8_lossy(&bytes);
            match Suite::parse("mutated.toml", &text) {
                Ok(s) => prop_assert!(!s.name.is_empty()),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn an_oversized_suite_file_is_refused_unread() {
        let dir = tempfile_dir();
        let path = dir.join("huge.toml");
        std::fs::write(&path, "#".repeat(1 << 20)).unwrap();
        let err = Suite::load(&path).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("certify-suite-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
