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

use crate::model::{
    Attachment, Case, Certification, Counts, CriterionResult, Decision, Report, Verdict,
};

/// `<meta>` name carrying the verdict (`certified`, `not-certified`, or `passed`/`failed`
/// for a report without a certification).
pub const META_VERDICT: &str = "certify:verdict";
/// `<meta>` name carrying the run id.
pub const META_RUN_ID: &str = "certify:run-id";
/// `<meta>` name carrying the case counts.
pub const META_COUNTS: &str = "certify:counts";

/// The program's window: three months, counted as 90 days.
const WINDOW_DAYS: u64 = 90;

/// Render a report as the summary page. A report without a certification (`certify
/// plugin run`) leaves the certification's parts out; facts the certification leaves
/// open (no teardown, no time measured) say so.
pub fn render(report: &Report) -> String {
    let cert = report.certification.as_ref();
    let facts = facts(report);
    let mut h = String::with_capacity(16 * 1024);

    let title = match cert {
        Some(c) => {
            let candidate = &c.candidate;
            let mut product = format!("{} {}", candidate.company, candidate.product);
            if let Some(version) = &candidate.version {
                let _ = write!(product, " {version}");
            }
            format!("Certification summary: {product}")
        }
        None => format!("Summary: {}", report.name),
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
    let _ = writeln!(
        h,
        "<p class=\"sub\">{} · started {}</p>",
        escape(&report.name),
        escape(&report.started_at)
    );
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

pub(crate) fn facts(report: &Report) -> Facts {
    let cert = report.certification.as_ref();
    let verdict = match cert {
        Some(c) => c.verdict.as_str(),
        None if report.passed => "passed",
        None => "failed",
    };
    let run_id = cert
        .map(|c| c.run_id.as_str())
        .or_else(|| report.property("run.id"))
        .unwrap_or_default();
    Facts {
        verdict: verdict.to_string(),
        run_id: run_id.to_string(),
        // Counted from the cases, as the page shows them, not taken from `counts`:
        // verification checks the two agree.
        counts: report.counted().to_string(),
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

fn verdict(h: &mut String, report: &Report, cert: Option<&Certification>) {
    let (class, word) = match cert.map(|c| c.verdict) {
        Some(Decision::Certified) => ("pass", "Certified"),
        Some(Decision::NotCertified) => ("fail", "Not certified"),
        None if report.passed => ("pass", "All checks passed"),
        None => ("fail", "Some checks did not pass"),
    };
    let _ = writeln!(
        h,
        "<section class=\"verdict {class}\" aria-label=\"Verdict\">\n<p class=\"word\">{}</p>",
        escape(word)
    );
    if let Some(cert) = cert {
        if cert.isolation == "unsandboxed" {
            h.push_str("<p class=\"warn\">Unsandboxed run: the candidate's package scripts and KB steps ran as the integrator's own user (--unsandboxed), not in the sandbox.</p>\n");
        }
        if cert.internet == "proxy" {
            h.push_str("<p class=\"warn\">Internet allowed: the servers and KB steps could reach public internet addresses through the harness's egress proxy (--allow-internet); what they asked for is in report.json.</p>\n");
        }
        where_and_how(h, cert);
        signer(h, cert);
        if !cert.reasons.is_empty() {
            h.push_str("<ul class=\"reasons\">\n");
            for r in &cert.reasons {
                // The verdict above says "Not certified" once; older reports repeat it.
                let r = r.strip_prefix("Not certified: ").unwrap_or(r);
                let _ = writeln!(h, "<li>{}</li>", escape(r));
            }
            h.push_str("</ul>\n");
        }
    }
    let c = report.counted();
    let _ = writeln!(
        h,
        "<p class=\"counts\">{} checks: {} passed, {} failed, {} could not run, {} skipped</p>",
        c.tests, c.passed, c.failures, c.errors, c.skipped
    );
    if let Some(cert) = cert.filter(|c| !c.criteria.is_empty()) {
        criteria(h, &cert.criteria);
    }
    h.push_str("</section>\n");
}

/// The criteria table: each criterion's verdict, counts and why.
fn criteria(h: &mut String, criteria: &[CriterionResult]) {
    h.push_str("<table class=\"criteria\">\n<thead><tr><th>Criterion</th><th>Verdict</th><th class=\"num\">Passed</th><th class=\"num\">Failed</th><th class=\"num\">Required</th><th>Why</th></tr></thead>\n<tbody>\n");
    for c in criteria {
        let (class, word) = match c.verdict.as_str() {
            "pass" => ("pass", "Pass"),
            "fail" => ("fail", "Fail"),
            other => ("", other),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&sentence_case(&c.criterion)),
            escape(word),
            c.passed,
            u64::from(c.failed) + u64::from(c.errors),
            c.required,
            escape(&criterion_why(c, c.verdict == "pass")),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Where and how the run happened, under the verdict: the endpoint (the embedded
/// emulator or a real account), the account clock's scale, the suite and version (who
/// signed the report follows it). A verdict on an emulator is not one on a real account, and a
/// reviewer must not have to look for which it was.
fn where_and_how(h: &mut String, cert: &Certification) {
    let place = match cert.endpoint.as_str() {
        "embedded emulator" => "on the embedded test-account emulator".to_string(),
        url => format!("on the account at {url}"),
    };
    let clock = if cert.clock_scale == 1.0 {
        "account clock in real time".to_string()
    } else {
        format!("account clock {}× real time", number_text(cert.clock_scale))
    };
    let suite = format!(
        "{} suite {}",
        sentence_case(&cert.suite.name),
        cert.suite.version
    );
    let _ = writeln!(
        h,
        "<p class=\"where\">{}</p>",
        escape(&[place, clock, suite].join(" · "))
    );
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
fn criterion_why(c: &CriterionResult, pass: bool) -> String {
    let (passed, required, waived) = (c.passed, c.required, c.waived);
    let blocking = (u64::from(c.failed) + u64::from(c.errors)).saturating_sub(u64::from(waived));
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
fn signer(h: &mut String, cert: &Certification) {
    match &cert.signer {
        Some(signer) => {
            let _ = writeln!(
                h,
                "<p class=\"signer\">Signed by {} key <code class=\"hash\">{}</code> — check with <code>certify report verify --key</code>.</p>",
                escape(&signer.algorithm),
                escape(&signer.keyid)
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

fn failures(h: &mut String, report: &Report) {
    let failed: Vec<_> = report
        .cases()
        .filter_map(|(suite, case)| match &case.verdict {
            Verdict::Failed { message } => Some((suite, case, "Failed".to_string(), message)),
            Verdict::Error { kind, message } => {
                Some((suite, case, format!("Could not run ({kind})"), message))
            }
            Verdict::Passed | Verdict::Skipped { .. } => None,
        })
        .collect();
    let _ = writeln!(
        h,
        "<section id=\"failures\">\n<h2>Failures ({})</h2>",
        failed.len()
    );
    if failed.is_empty() {
        h.push_str("<p>No check failed.</p>\n");
    }
    for (suite, case, label, message) in failed {
        let _ = writeln!(
            h,
            "<article class=\"failure\">\n<h3><span class=\"badge fail\">{}</span> <code>{}</code> <span class=\"suite\">in {}</span></h3>",
            escape(&label),
            escape(&case.id),
            escape(&suite.name)
        );
        let _ = writeln!(h, "<p class=\"title\">{}</p>", escape(&case.title));
        let _ = writeln!(h, "<pre class=\"message\">{}</pre>", escape(message));
        h.push_str("<dl>\n");
        if let Some(location) = &case.location {
            let _ = writeln!(
                h,
                "<dt>Where</dt><dd><code>{}</code></dd>",
                escape(location)
            );
        }
        if let Some(hint) = &case.hint {
            let _ = writeln!(h, "<dt>What to do</dt><dd>{}</dd>", escape(hint));
        }
        h.push_str("</dl>\n");
        attachments(h, case);
        if !case.output.is_empty() {
            let _ = writeln!(
                h,
                "<p class=\"label\">Output</p>\n<pre class=\"output\">{}</pre>",
                escape(&case.output)
            );
        }
        h.push_str("</article>\n");
    }
    h.push_str("</section>\n");
}

fn time_to_value(h: &mut String, cert: &Certification) {
    h.push_str("<section>\n<h2>Time to value (account time)</h2>\n");
    let limit = cert.time_to_value.limit_seconds;
    let (class, text) = match cert.time_to_value.seconds {
        Some(s) if s <= limit => (
            "pass",
            format!(
                "{} from publishing to a working deployment, within the limit of {}.",
                duration(s),
                duration(limit)
            ),
        ),
        Some(s) => (
            "fail",
            format!(
                "{} from publishing to a working deployment, over the limit of {}.",
                duration(s),
                duration(limit)
            ),
        ),
        None if cert.stopped.is_some() => (
            "skip",
            "Not measured: the run stopped before anything was deployed.".to_string(),
        ),
        None => (
            "fail",
            format!(
                "Not measured: the deployment did not complete (limit {}).",
                duration(limit)
            ),
        ),
    };
    let _ = writeln!(h, "<p class=\"{class}\">{}</p>", escape(&text));
    if cert.clock_scale != 1.0 {
        let _ = writeln!(
            h,
            "<p class=\"note\">Measured on the account's clock, which ran {}× faster than real time: the run's wall time (under Run) is shorter.</p>",
            escape(&number_text(cert.clock_scale))
        );
    }
    h.push_str("</section>\n");
}

fn credit(h: &mut String, cert: &Certification) {
    let used = &cert.credit_used;
    h.push_str("<section>\n<h2>Credit used</h2>\n<table class=\"facts\">\n<tbody>\n");
    let rows = [
        ("Estimated before deploying", used.estimate.as_deref()),
        ("Charged to the account", used.actual.as_deref()),
        ("Month to date", Some(used.month_to_date.as_str())),
        ("Left of the monthly credit", Some(used.remaining.as_str())),
        ("Monthly credit", Some(cert.credit.as_str())),
    ];
    for (label, value) in rows {
        if let Some(v) = value {
            row(h, label, &escape(v));
        }
    }
    h.push_str("</tbody>\n</table>\n");
    // A charge of $0.00 against an estimate reads as if nothing ran: say why it is not.
    if used.actual.as_deref() == Some("$0.00") {
        let why = if cert.endpoint == "embedded emulator" {
            "The emulator bills the account's minutes the run used at the public price list; a few account minutes round to $0.00. The estimate is what the run reserved: its servers for the suite's whole time limit."
        } else {
            "The account billed less than a cent for the minutes the run used; the estimate is what the run reserved, its servers for the suite's whole time limit."
        };
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(why));
    }
    h.push_str("</section>\n");
}

fn teardown(h: &mut String, cert: &Certification) {
    let (class, text) = match &cert.teardown {
        Some(t) if t.complete && t.verified => {
            ("pass", "Complete, and verified against the account.")
        }
        Some(t) if t.complete => ("warn", "Complete, but not verified against the account."),
        Some(_) => (
            "fail",
            "Incomplete: resources may still be running and charging the account.",
        ),
        None if cert.stopped.is_some() => (
            "skip",
            "Nothing to tear down: the run stopped before anything was created.",
        ),
        None => ("warn", "Not recorded."),
    };
    let _ = writeln!(
        h,
        "<section>\n<h2>Teardown</h2>\n<p class=\"{class}\">{}</p>",
        escape(text)
    );
    if let Some(t) = cert.teardown.as_ref().filter(|t| !t.detail.is_empty()) {
        let _ = writeln!(h, "<pre class=\"output\">{}</pre>", escape(&t.detail));
    }
    h.push_str("</section>\n");
}

fn program(h: &mut String, cert: &Certification) {
    h.push_str("<section>\n<h2>Program</h2>\n<table class=\"facts\">\n<tbody>\n");
    row(h, "Tier", &escape(&sentence_case(&cert.candidate.tier)));
    row(h, "Monthly credit", &escape(&cert.credit));
    let p = &cert.program;
    if let Some(start) = &p.start {
        row(h, "Program start", &escape(start));
    }
    // A run before the program's start is on no day of the window.
    let day = p.day.and_then(|d| u64::try_from(d).ok());
    if let Some(day) = day {
        row(
            h,
            "Day of the three-month window",
            &escape(&format!("day {day} of {WINDOW_DAYS}")),
        );
    }
    h.push_str("</tbody>\n</table>\n");
    let warning = p.warning.clone().or_else(|| {
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

fn run(h: &mut String, report: &Report, cert: Option<&Certification>) {
    h.push_str("<section>\n<h2>Run</h2>\n<table class=\"facts\">\n<tbody>\n");
    if let Some(v) = cert
        .map(|c| c.run_id.as_str())
        .or_else(|| report.property("run.id"))
    {
        row(h, "Run id", &code(v));
    }
    if let Some(cert) = cert {
        row(h, "Account", &code(&cert.account));
        row(h, "Endpoint", &code(&cert.endpoint));
    }
    row(h, "Started", &escape(&report.started_at));
    row(h, "Wall time", &escape(&duration(report.duration)));
    if let Some(cert) = cert {
        let suite = &cert.suite;
        row(
            h,
            "Suite",
            &escape(&format!("{} version {}", suite.name, suite.version)),
        );
        row(h, "Suite sha256", &code(&suite.sha256));
        let harness = &cert.harness;
        row(
            h,
            "Harness",
            &escape(&format!(
                "certify {}, plugin contract {}",
                harness.version, harness.contract
            )),
        );
        if let Some(sha) = &harness.sha256 {
            row(h, "Harness sha256", &code(sha));
        }
    }
    h.push_str("</tbody>\n</table>\n");
    properties(h, &report.properties);
    h.push_str("</section>\n");
}

fn inputs(h: &mut String, cert: &Certification) {
    let _ = writeln!(
        h,
        "<section>\n<h2>Inputs ({})</h2>\n<p>The files certified, with the sha256 of each: <code>certify report verify --bundle</code> names any that changed.</p>",
        cert.inputs.len()
    );
    if cert.inputs.is_empty() {
        h.push_str("<p class=\"warn\">No inputs recorded.</p>\n</section>\n");
        return;
    }
    h.push_str("<table class=\"inputs\">\n<thead><tr><th>File</th><th>Role</th><th>Size</th><th>sha256</th></tr></thead>\n<tbody>\n");
    for i in &cert.inputs {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"hash\">{}</td></tr>",
            escape(&i.path),
            escape(&i.role),
            escape(&bytes(i.size)),
            escape(&i.sha256)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn suites(h: &mut String, report: &Report) {
    h.push_str("<section id=\"suites\">\n<h2>Suites and cases</h2>\n");
    for suite in &report.suites {
        let c = Counts::of(&suite.cases);
        let _ = writeln!(
            h,
            "<h3>{} <span class=\"suite\">{} passed of {}</span></h3>",
            escape(&suite.name),
            c.passed,
            c.tests
        );
        properties(h, &suite.properties);
        if suite.cases.is_empty() {
            h.push_str("<p>No cases.</p>\n");
            continue;
        }
        h.push_str("<table class=\"cases\">\n<thead><tr><th>Verdict</th><th>Check</th><th>Time</th></tr></thead>\n<tbody>\n");
        for case in &suite.cases {
            case_row(h, case);
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
}

/// A case's row in its suite's table: verdict, what was checked and how, and its time.
fn case_row(h: &mut String, case: &Case) {
    let (class, word, detail) = match &case.verdict {
        Verdict::Passed => ("pass", "Passed", None),
        Verdict::Failed { message } => ("fail", "Failed", Some(message)),
        Verdict::Error { message, .. } => ("fail", "Error", Some(message)),
        Verdict::Skipped { reason } => ("skip", "Skipped", Some(reason)),
    };
    let _ = write!(
        h,
        "<tr><td class=\"{class}\">{}</td><td><code>{}</code><br>{}",
        escape(word),
        escape(&case.id),
        escape(&case.title)
    );
    if let Some(l) = &case.location {
        let _ = write!(h, "<br><span class=\"loc\">{}</span>", escape(l));
    }
    if let Some(d) = detail {
        let _ = write!(
            h,
            "<br><span class=\"detail\">{}</span>",
            escape(first_line(d))
        );
    }
    for (name, value, unit) in &case.measurements {
        let _ = write!(
            h,
            "<br><span class=\"measure\">{} = {} {}</span>",
            escape(name),
            escape(&number(*value)),
            escape(unit)
        );
    }
    attachments_inline(h, case);
    let _ = writeln!(
        h,
        "</td><td class=\"num\">{}</td></tr>",
        escape(&duration(case.duration))
    );
}

fn attachments(h: &mut String, case: &Case) {
    if case.attachments.is_empty() {
        return;
    }
    h.push_str("<p class=\"label\">Evidence</p>\n<ul class=\"evidence\">\n");
    for a in &case.attachments {
        h.push_str("<li>");
        attachment(h, a);
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n");
}

fn attachments_inline(h: &mut String, case: &Case) {
    for a in &case.attachments {
        h.push_str("<br>evidence: ");
        attachment(h, a);
    }
}

fn attachment(h: &mut String, a: &Attachment) {
    if is_local_link(&a.path) {
        let _ = write!(h, "<a href=\"{}\">{}</a>", escape(&a.path), escape(&a.name));
    } else {
        h.push_str(&escape(&a.name));
    }
    let _ = write!(
        h,
        " ({}, {}) <span class=\"hash\">sha256 {}</span>",
        escape(&a.media_type),
        escape(&bytes(a.size)),
        escape(&a.sha256)
    );
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

fn properties(h: &mut String, props: &[(String, String)]) {
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

fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        format!("{f}")
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
    use crate::model::{Signer, Suite};

    /// The fixture report, typed.
    fn report() -> Report {
        serde_json::from_value(crate::testutil::report()).unwrap()
    }

    /// The fixture's certification, to change.
    fn cert(r: &mut Report) -> &mut Certification {
        r.certification.as_mut().unwrap()
    }

    #[test]
    fn hostile_text_is_escaped() {
        let mut r = report();
        r.suites[0].cases[1].attachments.push(Attachment {
            name: "sneaky".into(),
            media_type: "text/html".into(),
            path: "javascript:alert(1)".into(),
            size: 0,
            sha256: "0".repeat(64),
        });
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
        // Each with its passed, failed, skipped and waived checks; one required.
        let criterion =
            |criterion: &str, verdict: &str, [passed, failed, skipped, waived]: [u32; 4]| {
                CriterionResult {
                    criterion: criterion.into(),
                    verdict: verdict.into(),
                    passed,
                    failed,
                    errors: 0,
                    skipped,
                    waived,
                    required: 1,
                }
            };
        cert(&mut r).criteria = vec![
            criterion("performs-as-advertised", "fail", [2, 1, 0, 0]),
            criterion("documentation", "fail", [0, 0, 1, 0]),
            criterion("business-value", "pass", [1, 1, 0, 1]),
        ];
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
        cert(&mut r).signer = Some(Signer {
            algorithm: "ed25519".into(),
            keyid: "ab".repeat(32),
        });
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
        cert(&mut r).signer.as_mut().unwrap().keyid = "<script>".into();
        assert!(!render(&r).contains("<script>"));
    }

    #[test]
    fn the_verdict_box_says_where_and_how_and_a_zero_charge_is_explained() {
        let mut r = report();
        let c = cert(&mut r);
        c.endpoint = "embedded emulator".into();
        c.clock_scale = 60.0;
        c.credit_used.actual = Some("$0.00".into());
        c.reasons = vec!["Not certified: docs.steps failed.".into()];
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
        let c = cert(&mut r);
        c.endpoint = "https://api.ctl.io".into();
        c.clock_scale = 1.0;
        c.credit_used.actual = Some("$0.09".into());
        let page = render(&r);
        assert!(
            page.contains("on the account at https://api.ctl.io · account clock in real time"),
            "{page}"
        );
        assert!(!page.contains("round to $0.00"), "{page}");
    }

    #[test]
    fn a_sparse_report_renders_what_is_there() {
        // What `certify plugin run` writes: no certification, no provenance, one case
        // with nothing but its verdict.
        let sparse = Report::new(
            "certify plugin run hello".into(),
            "2026-09-01T10:00:00Z".into(),
            std::time::Duration::ZERO,
            Vec::new(),
            vec![Suite {
                name: "s".into(),
                properties: Vec::new(),
                cases: vec![Case::new("a", "s", "", Verdict::Passed)],
            }],
            None,
        );
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
        assert!(html.contains("<title>Summary: certify plugin run hello</title>"));
        assert_eq!(meta(&html, META_RUN_ID), Some(""));

        // A failing run without a certification says so without one.
        let mut failing = sparse;
        failing.suites[0].cases[0].verdict = Verdict::Failed {
            message: "no".into(),
        };
        failing.recount();
        let html = render(&failing);
        assert!(html.contains("Some checks did not pass"));
        assert_eq!(meta(&html, META_VERDICT), Some("failed"));
    }

    #[test]
    fn nulls_for_what_did_not_happen_render_as_such() {
        let mut r = report();
        let c = cert(&mut r);
        c.teardown = None;
        c.time_to_value.seconds = None;
        c.credit_used.actual = None;
        let html = render(&r);
        assert!(html.contains("Not measured: the deployment did not complete (limit 20 min)."));
        assert!(html.contains("<h2>Teardown</h2>\n<p class=\"warn\">Not recorded.</p>"));
        assert!(!html.contains("Charged to the account"));
        assert!(html.contains("$0.12"));
    }

    #[test]
    fn a_late_day_without_a_recorded_warning_still_warns() {
        let mut r = report();
        cert(&mut r).program.warning = None;
        let html = render(&r);
        assert!(html.contains("Warning: Day 95: past the program&#39;s three-month window"));
        cert(&mut r).program.day = Some(12);
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
