//! The summary page reviewers read, on screen and printed: report.json as one
//! self-contained HTML file (inline stylesheet with print rules, no external assets, no
//! JavaScript).
//!
//! Order follows the reviewer's questions: the verdict overall and per criterion with
//! the reasons; what failed, with hints and file:line locations; time-to-value, credit
//! and teardown; the program's facts; the run and its inputs with their sha256; then every
//! suite and case.
//!
//! Every string from the report goes through [`escape`]: command output and plugin
//! messages are untrusted, and may carry markup, `]]>` or terminal escape codes. The
//! page's `<head>` carries the verdict, run id and counts as `<meta>` tags so that
//! verification can check the page against report.json.

use std::fmt::Write as _;

use serde_json::Value;

use crate::report::{self, Counts, array, str_at, str_of};

/// `<meta>` name carrying the verdict (`certified`, `not-certified`, or `passed`/`failed`
/// for a report without a certification).
pub const META_VERDICT: &str = "certify:verdict";
/// `<meta>` name carrying the run id.
pub const META_RUN_ID: &str = "certify:run-id";
/// `<meta>` name carrying the case counts.
pub const META_COUNTS: &str = "certify:counts";

/// The program's window: three months, counted as 90 days.
const WINDOW_DAYS: u64 = 90;

/// Render report.json (format `certify-report/1`) as the summary page. Missing optional
/// fields leave their part of the page out (or say "not recorded").
pub fn render(report: &Value) -> String {
    let cert = report.get("certification");
    let facts = facts(report);
    let mut h = String::with_capacity(16 * 1024);

    let product = cert
        .map(|c| {
            ["company", "product", "version"]
                .iter()
                .filter_map(|k| str_at(c, &["candidate", k]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|s| !s.is_empty());
    let title = match &product {
        Some(p) => format!("Certification summary: {p}"),
        None => format!(
            "Summary: {}",
            str_of(report, "name").unwrap_or("certify report")
        ),
    };

    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    for (name, value) in [
        (META_VERDICT, &facts.verdict),
        (META_RUN_ID, &facts.run_id),
        (META_COUNTS, &facts.counts),
    ] {
        let _ = writeln!(h, "<meta name=\"{name}\" content=\"{}\">", escape(value));
    }
    let _ = writeln!(h, "<title>{}</title>", escape(&title));
    h.push_str(STYLE);
    h.push_str("</head>\n<body>\n<main>\n");

    let _ = writeln!(h, "<header>\n<h1>{}</h1>", escape(&title));
    if let Some(name) = str_of(report, "name") {
        let _ = write!(h, "<p class=\"sub\">{}", escape(name));
        if let Some(started) = str_of(report, "started_at") {
            let _ = write!(h, " · started {}", escape(started));
        }
        h.push_str("</p>\n");
    }
    h.push_str("</header>\n");

    verdict(&mut h, report, cert);
    failures(&mut h, report);
    if let Some(cert) = cert {
        time_to_value(&mut h, cert);
        credit(&mut h, cert);
        teardown(&mut h, cert);
        program(&mut h, cert);
    }
    run(&mut h, report, cert);
    if let Some(cert) = cert {
        inputs(&mut h, cert);
    }
    suites(&mut h, report);

    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// What the page's `<meta>` tags carry, as report.json implies them.
pub(crate) struct Facts {
    pub verdict: String,
    pub run_id: String,
    pub counts: String,
}

pub(crate) fn facts(report: &Value) -> Facts {
    let verdict = match str_at(report, &["certification", "verdict"]) {
        Some(v) => v.to_string(),
        None => match report.get("passed").and_then(Value::as_bool) {
            Some(true) => "passed".into(),
            Some(false) => "failed".into(),
            None => String::new(),
        },
    };
    let run_id = str_at(report, &["certification", "run_id"])
        .map(str::to_string)
        .or_else(|| property(report, "run.id"))
        .unwrap_or_default();
    Facts {
        verdict,
        run_id,
        counts: Counts::of_cases(report).to_string(),
    }
}

/// The content of `<meta name="NAME" content="…">` in the page's head, as written
/// (escaped). Only the head is searched: the body holds untrusted (escaped) text.
pub(crate) fn meta<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let head = &html[..html.find("</head>")?];
    let open = format!("<meta name=\"{name}\" content=\"");
    let start = head.find(&open)? + open.len();
    let len = head[start..].find('"')?;
    Some(&head[start..start + len])
}

fn verdict(h: &mut String, report: &Value, cert: Option<&Value>) {
    let (class, word) = match cert.and_then(|c| str_of(c, "verdict")) {
        Some("certified") => ("pass", "Certified"),
        Some("not-certified") => ("fail", "Not certified"),
        Some(other) => ("fail", other),
        None => match report.get("passed").and_then(Value::as_bool) {
            Some(true) => ("pass", "All checks passed"),
            Some(false) => ("fail", "Some checks did not pass"),
            None => ("fail", "No verdict recorded"),
        },
    };
    let _ = writeln!(
        h,
        "<section class=\"verdict {class}\" aria-label=\"Verdict\">\n<p class=\"word\">{}</p>",
        escape(word)
    );
    if cert.and_then(|c| str_of(c, "isolation")) == Some("unsandboxed") {
        h.push_str("<p class=\"warn\">Unsandboxed run: the candidate's package scripts and KB steps ran as the integrator's own user (--unsandboxed), not in the sandbox.</p>\n");
    }
    if cert.and_then(|c| str_of(c, "internet")) == Some("proxy") {
        h.push_str("<p class=\"warn\">Internet allowed: the servers and KB steps could reach public internet addresses through the harness's egress proxy (--allow-internet); what they asked for is in report.json.</p>\n");
    }
    if let Some(cert) = cert {
        where_and_how(h, cert);
        signer(h, cert);
    }
    let reasons = cert.map(|c| array(c, "reasons")).unwrap_or(&[]);
    if !reasons.is_empty() {
        h.push_str("<ul class=\"reasons\">\n");
        for r in reasons {
            // The verdict above says "Not certified" once; older reports repeat it.
            let r = r.as_str().unwrap_or("");
            let r = r.strip_prefix("Not certified: ").unwrap_or(r);
            let _ = writeln!(h, "<li>{}</li>", escape(r));
        }
        h.push_str("</ul>\n");
    }
    let c = Counts::of_cases(report);
    let _ = writeln!(
        h,
        "<p class=\"counts\">{} checks: {} passed, {} failed, {} could not run, {} skipped</p>",
        c.tests, c.passed, c.failures, c.errors, c.skipped
    );
    let criteria = cert.map(|c| array(c, "criteria")).unwrap_or(&[]);
    if !criteria.is_empty() {
        h.push_str("<table class=\"criteria\">\n<thead><tr><th>Criterion</th><th>Verdict</th><th class=\"num\">Passed</th><th class=\"num\">Failed</th><th class=\"num\">Required</th><th>Why</th></tr></thead>\n<tbody>\n");
        for c in criteria {
            let v = str_of(c, "verdict").unwrap_or("");
            let (class, word) = match v {
                "pass" => ("pass", "Pass"),
                "fail" => ("fail", "Fail"),
                other => ("", other),
            };
            let n = |k: &str| c.get(k).and_then(Value::as_u64);
            let show = |k: &str| n(k).map_or("–".to_string(), |x| x.to_string());
            let failed = n("failed").unwrap_or(0) + n("errors").unwrap_or(0);
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"{class}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&sentence_case(str_of(c, "criterion").unwrap_or(""))),
                escape(word),
                escape(&show("passed")),
                escape(
                    &(if n("failed").is_some() || n("errors").is_some() {
                        failed.to_string()
                    } else {
                        "–".into()
                    })
                ),
                escape(&show("required")),
                escape(&criterion_why(c, v == "pass")),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

/// Where and how the run happened, under the verdict: the endpoint (the embedded
/// emulator or a real account), the account clock's scale, the suite and version (who
/// signed the report follows it). A verdict on an emulator is not one on a real account, and a
/// reviewer must not have to look for which it was.
fn where_and_how(h: &mut String, cert: &Value) {
    let mut parts = Vec::new();
    match str_of(cert, "endpoint") {
        Some("embedded emulator") => {
            parts.push("on the embedded test-account emulator".to_string())
        }
        Some(url) => parts.push(format!("on the account at {url}")),
        None => {}
    }
    if let Some(scale) = cert.get("clock_scale").and_then(Value::as_f64) {
        parts.push(if scale == 1.0 {
            "account clock in real time".to_string()
        } else {
            format!("account clock {}× real time", number_text(scale))
        });
    }
    if let Some(suite) = cert.get("suite") {
        let name = sentence_case(str_of(suite, "name").unwrap_or("?"));
        parts.push(match str_of(suite, "version") {
            Some(v) => format!("{name} suite {v}"),
            None => format!("{name} suite"),
        });
    }
    let _ = writeln!(h, "<p class=\"where\">{}</p>", escape(&parts.join(" · ")));
}

/// A number without a needless fraction: `60`, `2.5`.
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Why a criterion row passes or fails, in words: the counts alone can read as a
/// contradiction ("2 passed, 1 required, Fail") when a failure blocks.
fn criterion_why(c: &Value, pass: bool) -> String {
    let n = |k: &str| c.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (passed, required, waived) = (n("passed"), n("required"), n("waived"));
    let blocking = (n("failed") + n("errors")).saturating_sub(waived);
    let mut why = Vec::new();
    if blocking > 0 {
        why.push(format!(
            "{blocking} check{} failed or could not run, and a failure blocks unless waived",
            if blocking == 1 { "" } else { "s" }
        ));
    }
    if passed < required {
        why.push(format!("{passed} passed of the {required} required"));
    }
    if why.is_empty() {
        if pass {
            let mut s = format!("{passed} passed, {required} required");
            if waived > 0 {
                let _ = write!(
                    s,
                    "; {waived} failure{} waived",
                    if waived == 1 { "" } else { "s" }
                );
            }
            s
        } else {
            "see the reasons above".to_string()
        }
    } else {
        let mut s = why.join("; ");
        if let Some(first) = s.get(..1) {
            s = first.to_uppercase() + &s[1..];
        }
        s
    }
}

/// Who vouches for the report: the key that signs it, as report.json records it
/// (`certify report verify --key` checks the signature is that key's), or "unsigned".
fn signer(h: &mut String, cert: &Value) {
    match str_at(cert, &["signer", "keyid"]) {
        Some(keyid) => {
            let _ = writeln!(
                h,
                "<p class=\"signer\">Signed by {} key <code class=\"hash\">{}</code> — check with <code>certify report verify --key</code>.</p>",
                escape(str_at(cert, &["signer", "algorithm"]).unwrap_or("an unknown")),
                escape(keyid)
            );
        }
        None => h.push_str(
            "<p class=\"signer warn\">Unsigned: nothing vouches for this report but its own digests, which anyone can recompute.</p>\n",
        ),
    }
}

/// `performs-as-advertised` → `Performs as advertised`, `silver` → `Silver`.
fn sentence_case(id: &str) -> String {
    let words = id.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

fn failures(h: &mut String, report: &Value) {
    let failed: Vec<_> = report::cases(report)
        .filter(|(_, c)| matches!(report::verdict(c), "failed" | "error"))
        .collect();
    let _ = writeln!(
        h,
        "<section id=\"failures\">\n<h2>Failures ({})</h2>",
        failed.len()
    );
    if failed.is_empty() {
        h.push_str("<p>No check failed.</p>\n");
    }
    for (suite, case) in failed {
        let id = str_of(case, "id").unwrap_or("");
        let label = match report::verdict(case) {
            "error" => match str_of(case, "kind") {
                Some(kind) => format!("Could not run ({kind})"),
                None => "Could not run".into(),
            },
            _ => "Failed".into(),
        };
        let _ = writeln!(
            h,
            "<article class=\"failure\">\n<h3><span class=\"badge fail\">{}</span> <code>{}</code> <span class=\"suite\">in {}</span></h3>",
            escape(&label),
            escape(id),
            escape(suite)
        );
        if let Some(title) = str_of(case, "title") {
            let _ = writeln!(h, "<p class=\"title\">{}</p>", escape(title));
        }
        if let Some(message) = str_of(case, "message") {
            let _ = writeln!(h, "<pre class=\"message\">{}</pre>", escape(message));
        }
        h.push_str("<dl>\n");
        if let Some(location) = str_of(case, "location") {
            let _ = writeln!(
                h,
                "<dt>Where</dt><dd><code>{}</code></dd>",
                escape(location)
            );
        }
        if let Some(hint) = str_of(case, "hint") {
            let _ = writeln!(h, "<dt>What to do</dt><dd>{}</dd>", escape(hint));
        }
        h.push_str("</dl>\n");
        attachments(h, case);
        if let Some(output) = str_of(case, "output").filter(|o| !o.is_empty()) {
            let _ = writeln!(
                h,
                "<p class=\"label\">Output</p>\n<pre class=\"output\">{}</pre>",
                escape(output)
            );
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

fn time_to_value(h: &mut String, cert: &Value) {
    let Some(ttv) = cert.get("time_to_value") else {
        return;
    };
    h.push_str("<section>\n<h2>Time to value (account time)</h2>\n");
    let seconds = ttv.get("seconds").and_then(Value::as_f64);
    let limit = ttv.get("limit_seconds").and_then(Value::as_f64);
    let (class, text) = match (seconds, limit) {
        (Some(s), Some(l)) if s <= l => (
            "pass",
            format!(
                "{} from publishing to a working deployment, within the limit of {}.",
                duration(s),
                duration(l)
            ),
        ),
        (Some(s), Some(l)) => (
            "fail",
            format!(
                "{} from publishing to a working deployment, over the limit of {}.",
                duration(s),
                duration(l)
            ),
        ),
        (Some(s), None) => (
            "",
            format!("{} from publishing to a working deployment.", duration(s)),
        ),
        (None, Some(_)) if cert.get("stopped").is_some_and(Value::is_string) => (
            "skip",
            "Not measured: the run stopped before anything was deployed.".to_string(),
        ),
        (None, Some(l)) => (
            "fail",
            format!(
                "Not measured: the deployment did not complete (limit {}).",
                duration(l)
            ),
        ),
        (None, None) => ("fail", "Not measured.".to_string()),
    };
    let _ = writeln!(h, "<p class=\"{class}\">{}</p>", escape(&text));
    if let Some(scale) = cert
        .get("clock_scale")
        .and_then(Value::as_f64)
        .filter(|s| *s != 1.0)
    {
        let _ = writeln!(
            h,
            "<p class=\"note\">Measured on the account's clock, which ran {}× faster than real time: the run's wall time (under Run) is shorter.</p>",
            escape(&number_text(scale))
        );
    }
    h.push_str("</section>\n");
}

fn credit(h: &mut String, cert: &Value) {
    let Some(used) = cert.get("credit_used") else {
        return;
    };
    h.push_str("<section>\n<h2>Credit used</h2>\n<table class=\"facts\">\n<tbody>\n");
    let rows = [
        ("Estimated before deploying", str_of(used, "estimate")),
        ("Charged to the account", str_of(used, "actual")),
        ("Month to date", str_of(used, "month_to_date")),
        ("Left of the monthly credit", str_of(used, "remaining")),
        ("Monthly credit", str_of(cert, "credit")),
    ];
    for (label, value) in rows {
        if let Some(v) = value {
            row(h, label, &escape(v));
        }
    }
    h.push_str("</tbody>\n</table>\n");
    // A charge of $0.00 against an estimate reads as if nothing ran: say why it is not.
    if str_of(used, "actual") == Some("$0.00") {
        let why = match str_of(cert, "endpoint") {
            Some("embedded emulator") | None => {
                "The emulator bills the account's minutes the run used at the public price list; a few account minutes round to $0.00. The estimate is what the run reserved: its servers for the suite's whole time limit."
            }
            Some(_) => {
                "The account billed less than a cent for the minutes the run used; the estimate is what the run reserved, its servers for the suite's whole time limit."
            }
        };
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(why));
    }
    h.push_str("</section>\n");
}

fn teardown(h: &mut String, cert: &Value) {
    let Some(t) = cert.get("teardown") else {
        return;
    };
    let complete = t.get("complete").and_then(Value::as_bool);
    let verified = t.get("verified").and_then(Value::as_bool);
    let (class, text) = match (complete, verified) {
        (Some(true), Some(true)) => ("pass", "Complete, and verified against the account."),
        (Some(true), _) => ("warn", "Complete, but not verified against the account."),
        (Some(false), _) => (
            "fail",
            "Incomplete: resources may still be running and charging the account.",
        ),
        (None, _) if cert.get("stopped").is_some_and(Value::is_string) => (
            "skip",
            "Nothing to tear down: the run stopped before anything was created.",
        ),
        (None, _) => ("warn", "Not recorded."),
    };
    let _ = writeln!(
        h,
        "<section>\n<h2>Teardown</h2>\n<p class=\"{class}\">{}</p>",
        escape(text)
    );
    if let Some(detail) = str_of(t, "detail").filter(|d| !d.is_empty()) {
        let _ = writeln!(h, "<pre class=\"output\">{}</pre>", escape(detail));
    }
    h.push_str("</section>\n");
}

fn program(h: &mut String, cert: &Value) {
    h.push_str("<section>\n<h2>Program</h2>\n<table class=\"facts\">\n<tbody>\n");
    if let Some(tier) = str_at(cert, &["candidate", "tier"]) {
        row(h, "Tier", &escape(&sentence_case(tier)));
    }
    if let Some(credit) = str_of(cert, "credit") {
        row(h, "Monthly credit", &escape(credit));
    }
    let p = cert.get("program");
    if let Some(start) = p.and_then(|p| str_of(p, "start")) {
        row(h, "Program start", &escape(start));
    }
    let day = p.and_then(|p| p.get("day")).and_then(Value::as_u64);
    if let Some(day) = day {
        row(
            h,
            "Day of the three-month window",
            &escape(&format!("day {day} of {WINDOW_DAYS}")),
        );
    }
    h.push_str("</tbody>\n</table>\n");
    let warning = p
        .and_then(|p| str_of(p, "warning"))
        .map(str::to_string)
        .or_else(|| {
            // An older report may not carry the warning; the day alone says enough.
            day.filter(|d| *d > WINDOW_DAYS).map(|d| {
                format!("Day {d}: past the program's three-month window of {WINDOW_DAYS} days.")
            })
        });
    if let Some(w) = warning {
        let _ = writeln!(h, "<p class=\"warn\">Warning: {}</p>", escape(&w));
    }
    h.push_str("</section>\n");
}

fn run(h: &mut String, report: &Value, cert: Option<&Value>) {
    h.push_str("<section>\n<h2>Run</h2>\n<table class=\"facts\">\n<tbody>\n");
    let text = |path: &[&str]| cert.and_then(|c| str_at(c, path));
    if let Some(v) = text(&["run_id"])
        .map(str::to_string)
        .or_else(|| property(report, "run.id"))
    {
        row(h, "Run id", &code(&v));
    }
    if let Some(v) = text(&["account"]) {
        row(h, "Account", &code(v));
    }
    if let Some(v) = text(&["endpoint"]) {
        row(h, "Endpoint", &code(v));
    }
    if let Some(v) = str_of(report, "started_at") {
        row(h, "Started", &escape(v));
    }
    if let Some(v) = report.get("duration").and_then(Value::as_f64) {
        row(h, "Wall time", &escape(&duration(v)));
    }
    if let Some(suite) = cert.and_then(|c| c.get("suite")) {
        let name = [str_of(suite, "name"), str_of(suite, "version")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" version ");
        row(h, "Suite", &escape(&name));
        if let Some(sha) = str_of(suite, "sha256") {
            row(h, "Suite sha256", &code(sha));
        }
    }
    if let Some(harness) = cert.and_then(|c| c.get("harness")) {
        let mut v = format!("certify {}", str_of(harness, "version").unwrap_or("?"));
        if let Some(contract) = str_of(harness, "contract") {
            let _ = write!(v, ", plugin contract {contract}");
        }
        row(h, "Harness", &escape(&v));
        if let Some(sha) = str_of(harness, "sha256") {
            row(h, "Harness sha256", &code(sha));
        }
    }
    h.push_str("</tbody>\n</table>\n");
    properties(h, report);
    h.push_str("</section>\n");
}

fn inputs(h: &mut String, cert: &Value) {
    let inputs = array(cert, "inputs");
    let _ = writeln!(
        h,
        "<section>\n<h2>Inputs ({})</h2>\n<p>The files certified, with the sha256 of each: <code>certify report verify --bundle</code> names any that changed.</p>",
        inputs.len()
    );
    if inputs.is_empty() {
        h.push_str("<p class=\"warn\">No inputs recorded.</p>\n</section>\n");
        return;
    }
    h.push_str("<table class=\"inputs\">\n<thead><tr><th>File</th><th>Role</th><th>Size</th><th>sha256</th></tr></thead>\n<tbody>\n");
    for i in inputs {
        let size = i
            .get("size")
            .and_then(Value::as_u64)
            .map(bytes)
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"hash\">{}</td></tr>",
            escape(str_of(i, "path").unwrap_or("")),
            escape(str_of(i, "role").unwrap_or("")),
            escape(&size),
            escape(str_of(i, "sha256").unwrap_or(""))
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn suites(h: &mut String, report: &Value) {
    h.push_str("<section id=\"suites\">\n<h2>Suites and cases</h2>\n");
    for suite in array(report, "suites") {
        let cases = array(suite, "cases");
        let mut c = Counts::default();
        for case in cases {
            c.tests += 1;
            match report::verdict(case) {
                "passed" => c.passed += 1,
                "failed" => c.failures += 1,
                "error" => c.errors += 1,
                "skipped" => c.skipped += 1,
                _ => {}
            }
        }
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"suite\">{} passed of {}</span></h3>",
            escape(str_of(suite, "name").unwrap_or("")),
            c.passed,
            c.tests
        );
        properties(h, suite);
        if cases.is_empty() {
            h.push_str("<p>No cases.</p>\n");
            continue;
        }
        h.push_str("<table class=\"cases\">\n<thead><tr><th>Verdict</th><th>Check</th><th>Time</th></tr></thead>\n<tbody>\n");
        for case in cases {
            let (class, word) = match report::verdict(case) {
                "passed" => ("pass", "Passed"),
                "failed" => ("fail", "Failed"),
                "error" => ("fail", "Error"),
                "skipped" => ("skip", "Skipped"),
                other => ("", other),
            };
            let _ = write!(
                h,
                "<tr><td class=\"{class}\">{}</td><td><code>{}</code>",
                escape(word),
                escape(str_of(case, "id").unwrap_or(""))
            );
            if let Some(t) = str_of(case, "title") {
                let _ = write!(h, "<br>{}", escape(t));
            }
            if let Some(l) = str_of(case, "location") {
                let _ = write!(h, "<br><span class=\"loc\">{}</span>", escape(l));
            }
            let detail = match report::verdict(case) {
                "skipped" => str_of(case, "reason"),
                "failed" | "error" => str_of(case, "message"),
                _ => None,
            };
            if let Some(d) = detail {
                let _ = write!(
                    h,
                    "<br><span class=\"detail\">{}</span>",
                    escape(first_line(d))
                );
            }
            for m in array(case, "measurements") {
                if let Some([name, value, unit]) = m.as_array().map(Vec::as_slice) {
                    let _ = write!(
                        h,
                        "<br><span class=\"measure\">{} = {} {}</span>",
                        escape(name.as_str().unwrap_or("")),
                        escape(&number(value)),
                        escape(unit.as_str().unwrap_or(""))
                    );
                }
            }
            attachments_inline(h, case);
            let time = case
                .get("duration")
                .and_then(Value::as_f64)
                .map(duration)
                .unwrap_or_default();
            let _ = writeln!(h, "</td><td class=\"num\">{}</td></tr>", escape(&time));
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

fn attachments(h: &mut String, case: &Value) {
    let list = array(case, "attachments");
    if list.is_empty() {
        return;
    }
    h.push_str("<p class=\"label\">Evidence</p>\n<ul class=\"evidence\">\n");
    for a in list {
        h.push_str("<li>");
        attachment(h, a);
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n");
}

fn attachments_inline(h: &mut String, case: &Value) {
    for a in array(case, "attachments") {
        h.push_str("<br>evidence: ");
        attachment(h, a);
    }
}

fn attachment(h: &mut String, a: &Value) {
    let name = str_of(a, "name").unwrap_or("attachment");
    match str_of(a, "path").filter(|p| is_local_link(p)) {
        Some(path) => {
            let _ = write!(h, "<a href=\"{}\">{}</a>", escape(path), escape(name));
        }
        None => h.push_str(&escape(name)),
    }
    let mut about = Vec::new();
    if let Some(t) = str_of(a, "media_type") {
        about.push(t.to_string());
    }
    if let Some(s) = a.get("size").and_then(Value::as_u64) {
        about.push(bytes(s));
    }
    if !about.is_empty() {
        let _ = write!(h, " ({})", escape(&about.join(", ")));
    }
    if let Some(sha) = str_of(a, "sha256") {
        let _ = write!(h, " <span class=\"hash\">sha256 {}</span>", escape(sha));
    }
}

/// Only links to files beside the report: a plugin cannot make the page link elsewhere
/// (`javascript:`, `https:`, `//host`, `/etc/…`).
fn is_local_link(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(':')
        && !path.contains('\\')
        && !path.split('/').any(|p| p == "..")
}

fn properties(h: &mut String, v: &Value) {
    let props: Vec<_> = array(v, "properties")
        .iter()
        .filter_map(|p| {
            let p = p.as_array()?;
            Some((p.first()?.as_str()?, p.get(1)?.as_str()?))
        })
        .collect();
    if props.is_empty() {
        return;
    }
    h.push_str("<table class=\"props\">\n<tbody>\n");
    for (k, val) in props {
        let _ = writeln!(
            h,
            "<tr><th><code>{}</code></th><td class=\"hash\">{}</td></tr>",
            escape(k),
            escape(val)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn property(report: &Value, key: &str) -> Option<String> {
    array(report, "properties").iter().find_map(|p| {
        let p = p.as_array()?;
        (p.first()?.as_str()? == key).then(|| p.get(1)?.as_str().map(str::to_string))?
    })
}

/// A table row; `value` is already HTML.
fn row(h: &mut String, label: &str, value: &str) {
    let _ = writeln!(h, "<tr><th>{}</th><td>{value}</td></tr>", escape(label));
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", escape(s))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Some(f) => format!("{f}"),
        None => v.as_str().unwrap_or("").to_string(),
    }
}

/// `0.012` → `12 ms`, `8.4` → `8.4 s`, `312` → `5 min 12 s`, `4000` → `1 h 6 min`.
fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return String::new();
    }
    if secs < 1.0 {
        return format!("{:.0} ms", secs * 1000.0);
    }
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let total = secs.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    match (h, s) {
        (0, 0) => format!("{m} min"),
        (0, s) => format!("{m} min {s} s"),
        (h, _) => format!("{h} h {m} min"),
    }
}

fn bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// Escape text for HTML text and double- or single-quoted attributes, and make terminal
/// output safe to show: ANSI escape sequences (colours, cursor moves, OSC titles and
/// links) are dropped, other control characters are shown as their visible Control
/// Pictures (`␀`, `␇`…), and carriage returns are dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            '\r' => {}
            '\u{1b}' => skip_escape_sequence(&mut chars),
            '\u{0}'..='\u{1f}' => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
            }
            '\u{7f}' => out.push('\u{2421}'),
            // C1 controls (0x9b is a one-byte CSI) have no business in a page.
            '\u{80}'..='\u{9f}' => out.push('\u{fffd}'),
            _ => out.push(c),
        }
    }
    out
}

/// Consume what follows an ESC: a CSI sequence (`ESC [ params final`), an OSC string
/// (`ESC ] … BEL` or `ESC ] … ESC \`), or a single character.
fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            while let Some(&c) = chars.peek() {
                match c {
                    '\u{20}'..='\u{3f}' => {
                        chars.next();
                    }
                    '\u{40}'..='\u{7e}' => {
                        chars.next();
                        break;
                    }
                    // A malformed sequence: stop, and let the rest show.
                    _ => break,
                }
            }
        }
        Some(']') => {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        Some(&c) if ('\u{40}'..='\u{5f}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// The whole stylesheet: screen first, then print. Printed, colour is a bonus:
/// verdicts also read from their words and borders.
const STYLE: &str = r#"<style>
:root { --pass: #1a7f37; --fail: #c62828; --warn: #9a6700; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328; background: #fff; }
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
.sub, .suite, .loc, .label { color: var(--muted); }
.label { margin: .5rem 0 .2rem; font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; }
code, pre, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.hash { word-break: break-all; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: .5rem .75rem; margin: .3rem 0; }
pre.output { max-height: 30rem; overflow: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
thead th { font-size: .85rem; color: var(--muted); }
table.facts th, table.props th { width: 16rem; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
.pass { color: var(--pass); font-weight: 600; }
.fail { color: var(--fail); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.skip { color: var(--muted); }
.verdict { border: 3px solid; border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
.verdict.pass { border-color: var(--pass); }
.verdict.fail { border-color: var(--fail); }
.verdict .word { font-size: 2rem; font-weight: 700; margin: 0; }
.verdict .reasons, .verdict .counts, .verdict .where, .verdict .signer, .verdict table { color: #1f2328; font-weight: normal; }
.verdict .where { margin: .2rem 0 0; }
.note { color: var(--muted); font-size: .9rem; }
.verdict table td.pass, .verdict table td.fail { font-weight: 600; }
.failure { border-left: 4px solid var(--fail); padding: .1rem 0 .3rem .9rem; margin: 1rem 0; }
.failure h3 { margin-top: .4rem; }
.badge { display: inline-block; padding: 0 .4rem; border: 1px solid; border-radius: 3px; font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; margin: .4rem 0; }
dt { font-weight: 600; }
dd { margin: 0; }
a { color: #0969da; }
@media print {
  @page { margin: 14mm 12mm; }
  body { font-size: 10pt; color: #000; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  tr, .failure, .verdict, dl { break-inside: avoid; }
  pre { background: none; border-color: #999; }
  pre.output { max-height: none; overflow: visible; }
  a { color: inherit; text-decoration: none; }
  .verdict { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
</style>
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::report;

    #[test]
    fn hostile_text_is_escaped() {
        let mut r = report();
        r["suites"][0]["cases"][1]["attachments"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": "sneaky", "path": "javascript:alert(1)"}));
        let html = render(&r);
        // The fixture's failing check prints markup, a CDATA terminator and colours.
        assert!(!html.contains("<script"), "markup got through");
        assert!(html.contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"));
        assert!(!html.contains("]]>"));
        assert!(html.contains("]]&gt;"));
        assert!(!html.contains('\u{1b}'), "an escape code got through");
        assert!(
            html.contains("connection refused"),
            "the text around the codes is kept"
        );
        assert!(
            !html.contains("[31m"),
            "the rest of the colour code is dropped too"
        );
        // The plugin cannot make the page link elsewhere.
        assert!(!html.contains("href=\"javascript:"));
        assert!(html.contains("<a href=\"evidence/http-probe.tls/chain.pem\">"));
    }

    #[test]
    fn escape_handles_terminal_output() {
        assert_eq!(escape("\u{1b}[1;31mred\u{1b}[0m"), "red");
        assert_eq!(escape("\u{1b}]0;title\u{7}after"), "after");
        assert_eq!(escape("\u{1b}]8;;https://x\u{1b}\\link"), "link");
        assert_eq!(escape("bell\u{7} nul\u{0}"), "bell\u{2407} nul\u{2400}");
        assert_eq!(escape("50%\r\n"), "50%\n");
        assert_eq!(escape("a'b\"c&d"), "a&#39;b&quot;c&amp;d");
        assert_eq!(escape("\u{9b}31m"), "\u{fffd}31m");
    }

    #[test]
    fn verdict_comes_first_then_failures_then_the_rest() {
        let html = render(&report());
        let at = |needle: &str| {
            html.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} is not on the page"))
        };
        assert!(at("Not certified") < at("Failures (2)"));
        assert!(at("Performs as advertised") < at("Failures (2)"));
        // Failures first: the failing check, its hint and location, before the full list.
        let failures = at("Failures (2)");
        let tls = failures + html[failures..].find("http-probe.tls").unwrap();
        let hint = at("Serve the full certificate chain");
        let location = at("plugin/src/lib.rs:42");
        let deploy = failures + html[failures..].find("blueprint.deploy").unwrap();
        let rest = at("Time to value");
        assert!(tls < hint && hint < rest && location < rest && deploy < rest);
        assert!(rest < at("Credit used"));
        assert!(at("Credit used") < at("Teardown"));
        assert!(at("Teardown") < at("Program"));
        assert!(at("Program") < at("Inputs (3)"));
        assert!(at("Inputs (3)") < at("Suites and cases"));
        // The passing check appears only in the full list.
        assert!(at("http-probe.status") > at("Suites and cases"));
    }

    #[test]
    fn the_facts_reviewers_look_for_are_on_the_page() {
        let html = render(&report());
        for needle in [
            "One check of performs-as-advertised failed",
            "5 min 12 s from publishing to a working deployment, within the limit of 20 min",
            "$0.09",
            "$1,990.91",
            "Complete, and verified against the account.",
            "Silver",
            "$2,000.00",
            "day 95 of 90",
            "Warning: day 95 is past the three-month window",
            "candidate.toml",
            &"1".repeat(64),
            "run-20260901-ab12",
            "Skipped",
            "no public IP requested",
            "latency_ms = 42 ms",
            "<meta name=\"certify:verdict\" content=\"not-certified\">",
        ] {
            assert!(html.contains(needle), "{needle:?} is not on the page");
        }
        assert!(html.contains("@media print"));
        assert!(!html.contains("<script"));
        for asset in ["src=", "<link", "@import", "url(", "href=\"http"] {
            assert!(!html.contains(asset), "{asset:?}: no external assets");
        }
    }

    #[test]
    fn a_criterion_that_fails_on_a_failure_says_so_without_contradiction() {
        let mut r = report();
        r["certification"]["criteria"] = serde_json::json!([
            {"criterion": "performs-as-advertised", "verdict": "fail",
             "passed": 2, "failed": 1, "errors": 0, "skipped": 0, "waived": 0, "required": 1},
            {"criterion": "documentation", "verdict": "fail",
             "passed": 0, "failed": 0, "errors": 0, "skipped": 1, "waived": 0, "required": 1},
            {"criterion": "business-value", "verdict": "pass",
             "passed": 1, "failed": 1, "errors": 0, "skipped": 0, "waived": 1, "required": 1},
        ]);
        let html = render(&r);
        assert!(!html.contains("2 of 1 required"), "{html}");
        assert!(
            html.contains("<td>Performs as advertised</td><td class=\"fail\">Fail</td><td class=\"num\">2</td><td class=\"num\">1</td><td class=\"num\">1</td><td>1 check failed or could not run, and a failure blocks unless waived</td>"),
            "{html}"
        );
        assert!(
            html.contains("<td>0 passed of the 1 required</td>"),
            "{html}"
        );
        assert!(
            html.contains("<td>1 passed, 1 required; 1 failure waived</td>"),
            "{html}"
        );
    }

    #[test]
    fn the_signer_or_its_absence_is_at_the_top() {
        let mut r = report();
        let unsigned = render(&r);
        let verdict_box = |page: &str| {
            let start = page.find("aria-label=\"Verdict\"").unwrap();
            page[start..start + page[start..].find("</section>").unwrap()].to_string()
        };
        let top = verdict_box(&unsigned);
        assert!(
            top.contains("Unsigned: nothing vouches for this report"),
            "{top}"
        );
        assert!(top.contains("on the account at"), "{top}");
        r["certification"]["signer"] =
            serde_json::json!({"algorithm": "ed25519", "keyid": "ab".repeat(32)});
        let signed = render(&r);
        let top = verdict_box(&signed);
        assert!(
            top.contains(&format!(
                "Signed by ed25519 key <code class=\"hash\">{}</code>",
                "ab".repeat(32)
            )),
            "{top}"
        );
        // A hostile key id is escaped like everything else.
        r["certification"]["signer"]["keyid"] = "<script>".into();
        assert!(!render(&r).contains("<script>"));
    }

    #[test]
    fn the_verdict_box_says_where_and_how_and_a_zero_charge_is_explained() {
        let mut r = report();
        r["certification"]["endpoint"] = "embedded emulator".into();
        r["certification"]["clock_scale"] = 60.0.into();
        r["certification"]["credit_used"]["actual"] = "$0.00".into();
        r["certification"]["reasons"] = serde_json::json!(["Not certified: docs.steps failed."]);
        let page = render(&r);
        let start = page.find("aria-label=\"Verdict\"").unwrap();
        let verdict_box = &page[start..start + page[start..].find("</section>").unwrap()];
        assert!(
            verdict_box.contains(
                "on the embedded test-account emulator · account clock 60× real time · Silver suite 1"
            ),
            "{verdict_box}"
        );
        assert!(verdict_box.contains("Unsigned"), "{verdict_box}");
        assert!(
            verdict_box.contains("<li>docs.steps failed.</li>"),
            "{verdict_box}"
        );
        assert!(page.contains("round to $0.00"), "{page}");
        assert!(page.contains("Time to value (account time)"), "{page}");
        assert!(page.contains("60× faster than real time"), "{page}");
        assert!(page.contains("<th>Wall time</th>"), "{page}");

        // A real account is named by its URL; a real charge needs no note.
        r["certification"]["endpoint"] = "https://api.ctl.io".into();
        r["certification"]["clock_scale"] = 1.0.into();
        r["certification"]["credit_used"]["actual"] = "$0.09".into();
        let page = render(&r);
        assert!(
            page.contains("on the account at https://api.ctl.io · account clock in real time"),
            "{page}"
        );
        assert!(!page.contains("round to $0.00"), "{page}");
    }

    #[test]
    fn a_sparse_report_renders_what_is_there() {
        let sparse = serde_json::json!({
            "format": "certify-report/1",
            "passed": true,
            "name": "certify plugin run hello",
            "suites": [{"name": "s", "cases": [{"id": "a", "verdict": "passed"}]}],
        });
        let html = render(&sparse);
        assert!(html.contains("All checks passed"));
        assert!(html.contains("Failures (0)"));
        assert!(html.contains("No check failed."));
        assert!(!html.contains("Time to value"));
        assert_eq!(meta(&html, META_VERDICT), Some("passed"));
        assert_eq!(
            meta(&html, META_COUNTS),
            Some("1 tests, 0 failures, 0 errors, 0 skipped")
        );

        let empty = render(&serde_json::json!({}));
        assert!(empty.contains("No verdict recorded"));
    }

    #[test]
    fn nulls_for_what_did_not_happen_render_as_such() {
        let mut r = report();
        let c = &mut r["certification"];
        c["teardown"] = Value::Null;
        c["time_to_value"]["seconds"] = Value::Null;
        c["credit_used"]["actual"] = Value::Null;
        c.as_object_mut().unwrap().remove("suite");
        let html = render(&r);
        assert!(html.contains("Not measured: the deployment did not complete (limit 20 min)."));
        assert!(html.contains("<h2>Teardown</h2>\n<p class=\"warn\">Not recorded.</p>"));
        assert!(!html.contains("Charged to the account"));
        assert!(html.contains("$0.12"));
    }

    #[test]
    fn a_late_day_without_a_recorded_warning_still_warns() {
        let mut r = report();
        r["certification"]["program"]["warning"] = Value::Null;
        let html = render(&r);
        assert!(html.contains("Warning: Day 95: past the program&#39;s three-month window"));
        r["certification"]["program"]["day"] = 12.into();
        assert!(!render(&r).contains("Warning:"));
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(duration(0.012), "12 ms");
        assert_eq!(duration(8.25), "8.2 s");
        assert_eq!(duration(312.0), "5 min 12 s");
        assert_eq!(duration(1200.0), "20 min");
        assert_eq!(duration(4000.0), "1 h 6 min");
    }

    #[test]
    fn meta_reads_only_the_head() {
        let html = "<head><meta name=\"certify:verdict\" content=\"x\"></head><body>";
        assert_eq!(meta(html, META_VERDICT), Some("x"));
        let forged = "<head></head><body><meta name=\"certify:verdict\" content=\"certified\">";
        assert_eq!(meta(forged, META_VERDICT), None);
    }
}
