//! A realistic public + internal pair for a fictional product passes; a broken copy with a
//! broken step, a missing support phone, a dangling image and an unbound placeholder fails
//! on exactly those, at the right lines.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use certify_kb::{
    Article, Bindings, BlueprintFacts, BlueprintLibrary, BundleFacts, DeploymentOutcome, DocRules,
    FailureKind, ParamFacts, RunContext, RunOptions, StdHttpClient, StepStatus, check_docs,
    find_articles, run_article,
};

use crate::data_dir;

const BLUEPRINT: &str = "Install Acme Widget on Linux";

fn bundle(root: &Path) -> BundleFacts {
    BundleFacts {
        root: Some(root.to_path_buf()),
        blueprint_name: Some(BLUEPRINT.into()),
        package_names: vec![
            "Install Acme Widget Server on Linux".into(),
            "Open Acme Widget Firewall Ports on Linux".into(),
        ],
        support_email: Some("support@acmewidgets.example".into()),
        support_phone: Some("+1 (800) 555-0199".into()),
        internal_only: vec!["+1 303 555 0142".into()],
    }
}

/// The Blueprint Library of a run in which the blueprint deployed fine.
struct Library;

impl BlueprintLibrary for Library {
    fn find(&self, name: &str) -> Option<BlueprintFacts> {
        name.eq_ignore_ascii_case(BLUEPRINT)
            .then(|| BlueprintFacts {
                name: BLUEPRINT.into(),
                parameters: vec![
                    ParamFacts {
                        name: "Execute on Server".into(),
                        required: true,
                        ..ParamFacts::default()
                    },
                    ParamFacts {
                        name: "HTTP Port".into(),
                        required: true,
                        regex: Some(r"\d{2,5}".into()),
                        ..ParamFacts::default()
                    },
                    ParamFacts {
                        name: "Admin Email".into(),
                        required: true,
                        regex: Some(r"[^@\s]+@[^@\s]+\.[a-z]+".into()),
                        ..ParamFacts::default()
                    },
                ],
            })
    }
    fn deployment(&self, blueprint: &str) -> DeploymentOutcome {
        if blueprint == BLUEPRINT {
            DeploymentOutcome::Succeeded {
                request_id: "wa1-4242".into(),
                servers: vec!["WA1ACMEWEB01".into()],
            }
        } else {
            DeploymentOutcome::NotDeployed
        }
    }
}

/// The deployed server's health endpoint, on a local port.
fn serve_health() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s);
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let mut h = String::new();
            while r.read_line(&mut h).is_ok_and(|n| n > 2) {
                h.clear();
            }
            let (status, body) = if first.starts_with("GET /health ") {
                ("200 OK", r#"{"status":"ok","version":"1.4.2"}"#)
            } else {
                ("404 Not Found", "no")
            };
            let mut s = r.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

fn bindings(port: u16) -> Bindings {
    let mut b = Bindings::new();
    b.insert("server.WEB.internal_ip", "127.0.0.1")
        .insert("server.WEB.public_ip", "203.0.113.10")
        .insert("param.HttpPort", port.to_string())
        .insert_secret("secret.AdminPassword", "s3cret-Widget-pw");
    b
}

fn load(dir: &str) -> (PathBuf, Vec<Article>) {
    let root = data_dir().join(dir);
    let articles = find_articles(&root)
        .unwrap()
        .into_iter()
        .map(|p| Article::read(p).unwrap())
        .collect();
    (root, articles)
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn the_sample_pair_passes_every_check() {
    let (root, articles) = load("acme");
    assert_eq!(articles.len(), 2);
    let report = check_docs(&articles, Some(&bundle(&root)), &DocRules::default());
    let failures: Vec<_> = report.articles.iter().flat_map(|r| r.failures()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(report.passed());
    // The internal article names the blueprint and both packages, at their lines.
    let internal = report
        .articles
        .iter()
        .find(|r| name(&r.file) == "acme-widget-internal.md")
        .unwrap();
    let design: Vec<_> = internal
        .checks
        .iter()
        .filter(|c| c.id == "kb.internal.blueprint-design")
        .map(|c| c.line)
        .collect();
    assert_eq!(design, [11, 13, 14]);
    let phone = internal
        .checks
        .iter()
        .find(|c| c.id == "kb.internal.support-phone")
        .unwrap();
    assert_eq!(phone.line, 30);
}

#[test]
fn the_sample_pair_reproduces() {
    let (_, articles) = load("acme");
    let port = serve_health();
    let b = bindings(port);
    let rules = DocRules::default();
    let opts = RunOptions::default();
    let ctx = RunContext {
        bindings: &b,
        options: &opts,
        rules: &rules,
        library: Some(&Library),
        http: &StdHttpClient,
    };
    for a in &articles {
        let run = run_article(a, &ctx).unwrap();
        let bad: Vec<_> = run
            .steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Failed { .. }))
            .collect();
        assert!(bad.is_empty(), "{}: {bad:#?}", a.path.display());
        assert!(
            run.passed(),
            "{}: {}",
            a.path.display(),
            run.verdict.message
        );
    }
    let public = articles
        .iter()
        .find(|a| name(&a.path) == "acme-widget-public.md")
        .unwrap();
    let run = run_article(public, &ctx).unwrap();
    // find + 3 parameters + deploy + queue + bash + 2 console commands + http + skipped block
    assert_eq!(run.total, 11, "{:#?}", run.steps);
    assert_eq!(run.executed, 10);
    let skipped = run
        .steps
        .iter()
        .find(|s| matches!(s.status, StepStatus::Skipped { .. }))
        .unwrap();
    assert_eq!(skipped.line, 71);
    assert!(
        run.verdict
            .message
            .starts_with("10 of 11 steps executed (91%)"),
        "{}",
        run.verdict.message
    );
}

#[test]
fn the_broken_copy_fails_on_exactly_the_four_breakages() {
    let (root, articles) = load("acme-broken");
    let report = check_docs(&articles, Some(&bundle(&root)), &DocRules::default());
    let mut failures: Vec<(String, usize, String)> = report
        .articles
        .iter()
        .flat_map(|r| r.failures())
        .map(|c| (name(&c.file), c.line, c.id.clone()))
        .collect();
    failures.sort();
    assert_eq!(
        failures,
        [
            (
                "acme-widget-internal.md".into(),
                26,
                "kb.internal.support-phone".into()
            ),
            ("acme-widget-public.md".into(), 9, "kb.image".into()),
        ]
    );

    let port = serve_health();
    let b = bindings(port);
    let rules = DocRules::default();
    let opts = RunOptions::default();
    let ctx = RunContext {
        bindings: &b,
        options: &opts,
        rules: &rules,
        library: Some(&Library),
        http: &StdHttpClient,
    };
    let mut step_failures = Vec::new();
    for a in &articles {
        let run = run_article(a, &ctx).unwrap();
        for s in &run.steps {
            if let StepStatus::Failed { kind, message } = &s.status {
                step_failures.push((name(&s.file), s.line, *kind, message.clone()));
            }
        }
        assert_eq!(run.passed(), name(&a.path) != "acme-widget-public.md");
    }
    assert_eq!(step_failures.len(), 2, "{step_failures:#?}");
    let (file, line, kind, msg) = &step_failures[0];
    assert_eq!(
        (file.as_str(), *line, *kind),
        ("acme-widget-public.md", 49, FailureKind::Output)
    );
    assert!(msg.contains("line 50"), "{msg}");
    let (file, line, kind, msg) = &step_failures[1];
    assert_eq!(
        (file.as_str(), *line, *kind),
        ("acme-widget-public.md", 57, FailureKind::Unbound)
    );
    assert!(msg.contains("{{param.HttpsPort}} at line 58"), "{msg}");
}
