//! The shipped sample candidate loads cleanly, exposes what the harness needs, and its
//! KB articles pass the documentation checks with the bundle's facts — and, with the
//! package's service really started on a loopback address, their steps reproduce.

use std::path::Path;
use std::process::{Command, Stdio};

use certify_bundle::{
    Bundle, ExecutionMode, InputRole, PackageForm, PackageRef, ParameterType, ParameterValue,
    PluginSource, SecretSource, ServerTask, Tier,
};
use certify_kb::{
    Article, Bindings, BundleFacts, DocRules, RunContext, RunOptions, StdHttpClient, StepStatus,
    check_docs, run_article,
};
use sha2::{Digest, Sha256};

use crate::{edit, sample_copy, sample_dir};

#[test]
fn the_sample_loads_cleanly() {
    let b = Bundle::load(sample_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert!(b.warnings.is_empty(), "{:#?}", b.warnings);

    assert_eq!(b.candidate.company, "Acme Widgets Inc.");
    assert_eq!(b.candidate.product, "Acme Status Page");
    assert_eq!(b.candidate.version.as_deref(), Some("2.3.1"));
    assert_eq!(b.candidate.tier, Tier::Silver);
    assert_eq!(b.candidate.tier.monthly_credit_usd(), 2_000);
    assert_eq!(b.candidate.program_start.to_string(), "2026-10-12");
    assert_eq!(b.candidate.program_end().to_string(), "2027-01-11");
    assert_eq!(b.support.email, "support@acmewidgets.example");
    assert_eq!(b.support.phone, "+1 800 555 0199");
    assert_eq!(
        b.internal_only(),
        ["escalations@acmewidgets.example", "+1 303 555 0142"]
    );

    let bp = &b.blueprint;
    assert_eq!(bp.name, "Deploy Acme Status Page on Linux");
    assert_eq!(bp.version, "2.3.1");
    assert_eq!(bp.servers.len(), 1);
    let web = &bp.servers[0];
    assert_eq!(
        (
            web.name.as_str(),
            web.cpu,
            web.memory_gb,
            web.template.as_str()
        ),
        ("WEB", 1, 2, "UBUNTU-16-64-TEMPLATE")
    );
    assert_eq!(web.additional_storage_gb(), 0);
    assert_eq!(web.public_ip_ports(), None);
    let tasks: Vec<_> = bp.package_tasks().map(|(_, t)| t).collect();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].package, PackageRef::Builtin);
    assert_eq!(tasks[1].package, PackageRef::Bundle(0));
    assert!(matches!(&web.tasks[1], ServerTask::Package(t) if b.package_of(t).is_some()));

    let pkg = &b.packages[0];
    assert_eq!(pkg.name, "Install Acme Status Page on Linux");
    assert_eq!(pkg.uuid, "5c3d9a1e-7b42-4f0a-9e61-2d8c4b7a13f5");
    assert_eq!(pkg.form, PackageForm::Directory);
    assert_eq!(pkg.execution.mode, ExecutionMode::Ssh);
    assert_eq!(pkg.execution.command, "install.sh");
    assert_eq!(
        pkg.files,
        ["acme_status.py", "install.sh", "package.manifest"]
    );
    let port = pkg.parameter("Acme.Port").unwrap();
    assert_eq!(
        (port.kind, port.default.as_deref()),
        (ParameterType::Numeric, Some("8080"))
    );
    assert!(pkg.parameter("Acme.AdminEmail").unwrap().regex.is_some());
    assert!(pkg.parameter("T3.Server.IPAddress").unwrap().is_system());

    assert!(
        b.kb.public
            .ends_with("getting-started-with-acme-status-page-blueprint.md")
    );
    assert!(
        b.kb.internal
            .ends_with("acme-status-page-blueprint-internal.md")
    );
    assert_eq!(
        b.plugin.source,
        PluginSource::Cargo {
            dir: b.root.join("plugin"),
            package: "plugin-sample-candidate".into()
        }
    );
    assert_eq!(b.plugin.parameters["expected_version"], "2.3.1");

    let names: Vec<_> = b
        .deploy
        .parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Acme.AdminEmail", "Acme.Port", "Acme.AdminPassword"]
    );
    assert_eq!(
        b.deploy.get("Acme.Port").unwrap().plain_value(),
        Some("8080")
    );
    assert_eq!(
        b.deploy.get("Acme.AdminPassword").unwrap().value,
        ParameterValue::Secret(SecretSource::Generate)
    );
    let resolved = b.deploy.resolve(|_| None).unwrap();
    assert!(resolved[2].secret && resolved[2].value.len() >= 12);
    assert!(!format!("{:?}", resolved).contains(&resolved[2].value));
}

#[test]
fn inputs_are_listed_in_a_stable_order_with_their_digests() {
    let b = Bundle::load(sample_dir()).unwrap();
    let listed: Vec<(&str, InputRole)> =
        b.inputs.iter().map(|i| (i.path.as_str(), i.role)).collect();
    let mut expected = vec![
        ("candidate.toml", InputRole::Candidate),
        ("blueprint.json", InputRole::Blueprint),
        (
            "packages/install-acme-status/acme_status.py",
            InputRole::Package,
        ),
        (
            "packages/install-acme-status/install.sh",
            InputRole::Package,
        ),
        (
            "packages/install-acme-status/package.manifest",
            InputRole::Package,
        ),
        (
            "kb/public/getting-started-with-acme-status-page-blueprint.md",
            InputRole::KbPublic,
        ),
        (
            "kb/internal/acme-status-page-blueprint-internal.md",
            InputRole::KbInternal,
        ),
        ("plugin/Cargo.toml", InputRole::Plugin),
    ];
    expected.push(("plugin/src/lib.rs", InputRole::Plugin));
    // Every other file of the bundle is bound too.
    expected.push(("README.md", InputRole::Other));
    assert_eq!(listed, expected);
    for i in &b.inputs {
        let bytes = std::fs::read(sample_dir().join(&i.path)).unwrap();
        assert_eq!(i.sha256, hex::encode(Sha256::digest(&bytes)), "{}", i.path);
        assert_eq!(i.size, bytes.len() as u64);
    }
    // The same bundle has the same digest; one changed byte changes it.
    let copy = sample_copy();
    let a = Bundle::load(copy.path()).unwrap();
    assert_eq!(a.digest(), b.digest());
    edit(
        copy.path(),
        "kb/public/getting-started-with-acme-status-page-blueprint.md",
        "2.3.1",
        "2.3.2",
    );
    assert_ne!(Bundle::load(copy.path()).unwrap().digest(), b.digest());
}

#[test]
fn a_package_may_be_a_zip() {
    use std::io::Write;
    let copy = sample_copy();
    let dir = copy.path().join("packages/install-acme-status");
    let zip_path = copy.path().join("packages/install-acme-status.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for f in ["package.manifest", "install.sh", "acme_status.py"] {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        w.start_file(f, opts).unwrap();
        w.write_all(&std::fs::read(dir.join(f)).unwrap()).unwrap();
    }
    w.finish().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    edit(
        copy.path(),
        "candidate.toml",
        "packages/install-acme-status\"",
        "packages/install-acme-status.zip\"",
    );
    let b = Bundle::load(copy.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.packages[0].form, PackageForm::Zip);
    assert_eq!(b.packages[0].name, "Install Acme Status Page on Linux");
    assert!(
        b.inputs
            .iter()
            .any(|i| i.path == "packages/install-acme-status.zip")
    );
}

fn facts(b: &Bundle) -> BundleFacts {
    BundleFacts {
        root: Some(b.root.clone()),
        blueprint_name: Some(b.blueprint.name.clone()),
        package_names: b.packages.iter().map(|p| p.name.clone()).collect(),
        support_email: Some(b.support.email.clone()),
        support_phone: Some(b.support.phone.clone()),
        internal_only: b.internal_only(),
    }
}

fn articles(b: &Bundle) -> Vec<Article> {
    [&b.kb.public, &b.kb.internal]
        .into_iter()
        .map(|p| Article::read(p).unwrap())
        .collect()
}

#[test]
fn the_sample_articles_pass_the_documentation_checks() {
    let b = Bundle::load(sample_dir()).unwrap();
    let report = check_docs(&articles(&b), Some(&facts(&b)), &DocRules::default());
    let failures: Vec<_> = report.articles.iter().flat_map(|r| r.failures()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(report.passed());
    let internal = &report.articles[1];
    for id in [
        "kb.internal.blueprint-design",
        "kb.internal.production",
        "kb.internal.support-email",
        "kb.internal.support-phone",
        "kb.internal.support-24x7",
        "kb.internal.escalation",
    ] {
        assert!(internal.checks.iter().any(|c| c.id == id && c.ok()), "{id}");
    }
}

/// Starts the sample's package the way the emulator's local mode does — `/bin/sh`, a
/// clean environment with the parameters under both name forms, its own process group —
/// on a loopback address of its own, and stops the group when dropped.
struct Service {
    pgid: u32,
    _dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.pgid)])
            .status();
    }
}

fn start(package: &Path, address: &str) -> Option<Service> {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    for f in ["install.sh", "acme_status.py", "package.manifest"] {
        std::fs::copy(package.join(f), dir.path().join(f)).unwrap();
    }
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "./install.sh \"$@\"", "sh"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .process_group(0);
    for (k, v) in [
        ("T3.Server.IPAddress", address),
        ("Acme.Port", "8080"),
        ("Acme.AdminEmail", "statuspage-admin@acmewidgets.example"),
        ("Acme.AdminPassword", "Cb7-test-password"),
    ] {
        cmd.env(k, v).env(certify_blueprint::shell_name(k), v);
    }
    let child = cmd.spawn().unwrap();
    let service = Service {
        pgid: child.id(),
        _dir: dir,
    };
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        eprintln!(
            "install.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(service)
}

#[test]
fn the_sample_service_starts_and_the_article_steps_reproduce() {
    if Command::new("python3").arg("--version").output().is_err()
        || Command::new("curl").arg("--version").output().is_err()
    {
        eprintln!("skipped: needs python3 and curl");
        return;
    }
    let b = Bundle::load(sample_dir()).unwrap();
    // An address of its own, as the emulator gives each server (the articles use 8080).
    let address = format!(
        "127.{}.{}.{}",
        100 + std::process::id() % 100,
        std::process::id() / 100 % 250 + 1,
        7
    );
    let service = start(&b.packages[0].path, &address).expect("the package installs");

    let mut bindings = Bindings::new();
    bindings
        .insert("server.WEB.internal_ip", address.clone())
        .insert("server.WEB.name", "WA1ACMEWEB01");
    let rules = DocRules::default();
    let options = RunOptions::default();
    let ctx = RunContext {
        bindings: &bindings,
        options: &options,
        rules: &rules,
        library: None,
        http: &StdHttpClient,
    };
    for article in articles(&b) {
        let run = run_article(&article, &ctx).unwrap();
        let failed: Vec<_> = run
            .steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Failed { .. }))
            .collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", article.path.display());
        let passed = run
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Passed)
            .count();
        assert!(passed >= 2, "{}: {:#?}", article.path.display(), run.steps);
    }
    drop(service);
}
