//! Hostile bundles against the OS sandbox: each is the sample candidate with an attack
//! added (fixtures under `tests/hostile/sandbox-*`), run by an ordinary user (the tests
//! drop root with `setpriv`), with canary credentials in the environment and a canary
//! key in a fake home. The harness and its state must come out unharmed, no canary may
//! appear anywhere, nothing may survive the run, and the verdict must still be the
//! sample's.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::run::sample_copy;
use crate::support::run;

const NOBODY: u32 = 65534;

fn sandbox_available() -> bool {
    Command::new("bwrap")
        .args(["--unshare-all", "--ro-bind", "/", "/", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn chown_all(path: &Path) {
    let _ = std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY));
    if path.is_dir() && !path.is_symlink() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            chown_all(&e.path());
        }
    }
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            found.extend(files_containing(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(p);
        }
    }
    found
}

/// The integrator's fake home under `root`, with a canary SSH key in it.
fn fake_home(root: &Path) -> PathBuf {
    let home = root.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "CANARY-SSH-KEY").unwrap();
    home
}

/// No canary (the key in the fake home, the credentials in the harness's environment)
/// in the run's output or in any file under `root` outside the home itself.
fn assert_no_canary(root: &Path, home: &Path, r: &crate::support::Run) {
    for canary in ["CANARY-SSH-KEY", "CANARY-CLC-PASSWORD", "CANARY-CLC-USER"] {
        assert!(
            !r.stdout.contains(canary) && !r.stderr.contains(canary),
            "{r:?}"
        );
        let leaked: Vec<_> = files_containing(root, canary.as_bytes())
            .into_iter()
            .filter(|p| !p.starts_with(home))
            .collect();
        assert!(leaked.is_empty(), "{canary} leaked into {leaked:?}");
    }
}

/// Processes whose command line contains `needle`.
fn processes_running(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(needle).then_some(cmd)
        })
        .collect()
}

/// Where the attack goes.
enum Attack {
    /// Appended to the package's script.
    Package,
    /// A bash step in the internal article.
    KbStep,
    /// Appended to the package's script: fills the server's directory.
    Disk,
    /// Appended to the package's script, with `--allow-internet`: uses the egress proxy
    /// to reach the integrator's own services.
    Internet,
}

#[test]
fn a_hostile_package_gets_nothing_harms_nothing_and_leaves_nothing() {
    hostile_run(Attack::Package, &["sleep 31337", "sleep 31338"]);
}

#[test]
fn a_package_that_fills_the_disk_is_stopped_at_its_servers_quota() {
    hostile_run(Attack::Disk, &[]);
}

#[test]
fn with_the_internet_allowed_the_proxy_still_refuses_the_integrators_network() {
    hostile_run(Attack::Internet, &[]);
}

#[test]
fn a_hostile_kb_step_and_its_fork_bomb_get_nothing_and_leave_nothing() {
    hostile_run(Attack::KbStep, &["sleep 31339", "sleep 31340"]);
}

fn hostile_run(attack: Attack, daemons: &[&str]) {
    if !sandbox_available() {
        eprintln!("skipped: bubblewrap is missing or cannot create namespaces here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let home = fake_home(root);
    let state = root.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let out = root.join("out");
    let bundle = sample_copy(root);

    // The integrator's own service on loopback.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reached = Arc::new(AtomicBool::new(false));
    {
        let reached = reached.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let mut got = Vec::new();
                if let Ok(mut c) = conn {
                    let _ = c.read_to_end(&mut got);
                }
                reached.store(true, Ordering::SeqCst);
            }
        });
    }
    let fixture = match attack {
        Attack::Package => "tests/hostile/sandbox-package/attack.sh",
        Attack::KbStep => "tests/hostile/sandbox-kb-step/step.sh",
        Attack::Disk => "tests/hostile/sandbox-disk/attack.sh",
        Attack::Internet => "tests/hostile/sandbox-internet/attack.sh",
    };
    let script = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture))
        .unwrap()
        .replace("@HOME@", &home.display().to_string())
        .replace("@STATE@", &state.display().to_string())
        .replace("@PORT@", &port.to_string());
    match attack {
        Attack::Package | Attack::Disk | Attack::Internet => {
            let install = bundle.join("packages/install-acme-status/install.sh");
            let text = std::fs::read_to_string(&install).unwrap();
            std::fs::write(&install, format!("{text}\n{script}")).unwrap();
        }
        Attack::KbStep => {
            let article = bundle.join("kb/internal/acme-status-page-blueprint-internal.md");
            let text = std::fs::read_to_string(&article).unwrap();
            let at = text.find("Troubleshooting:").unwrap();
            let step = format!("```bash\n{script}```\n\n");
            std::fs::write(&article, format!("{}{step}{}", &text[..at], &text[at..])).unwrap();
        }
    }

    // The harness runs as an ordinary user: a copy of the binary it can reach.
    let bin = root.join("certify");
    std::fs::copy(env!("CARGO_BIN_EXE_certify"), &bin).unwrap();
    let mut cmd = if is_root() {
        chown_all(root);
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &home)
        .env("CLC_USERNAME", "CANARY-CLC-USER")
        .env("CLC_PASSWORD", "CANARY-CLC-PASSWORD")
        .env("CERTIFY_STATE_DB", state.join("state.db"))
        .env("CERTIFY_CACHE_DIR", root.join("cache"))
        .arg("run")
        .arg(&bundle)
        .arg("--out")
        .arg(&out)
        // The attacks take real time, and the tests run side by side on a small machine:
        // at 30 the package's 5-minute limit is 10 s, at 20 (writing gigabytes) 15 s.
        .args([
            "--clock-scale",
            if let Attack::Disk = attack {
                "20"
            } else {
                "30"
            },
        ]);
    if let Attack::Internet = attack {
        cmd.arg("--allow-internet");
    }
    let r = run(&mut cmd);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap_or_default())
            .unwrap_or_default();
    let internet = &report["certification"]["internet"];
    if let Attack::Internet = attack {
        // Recorded as allowed, with each refused destination listed.
        assert_eq!(internet, "proxy", "{r:?}");
        let egress = report["certification"]["egress"].as_array().unwrap();
        assert_eq!(egress.len(), 4, "{egress:?}");
        assert!(egress.iter().all(|a| a["allowed"] == false), "{egress:?}");
        assert_eq!(report["certification"]["egress_omitted"], 0);
        assert!(
            !files_containing(&out, b"403 Forbidden").is_empty(),
            "{r:?}"
        );
        assert!(files_containing(&out, b"reached directly").is_empty());
        let page = std::fs::read_to_string(out.join("summary.html")).unwrap();
        assert!(page.contains("Internet allowed"));
    } else if let Attack::Package = attack {
        assert_eq!(internet, "off", "{r:?}");
        assert_eq!(report["certification"]["egress"], serde_json::json!([]));
    }

    if let Attack::Disk = attack {
        // The right verdict: the package failed at the quota, and said so.
        assert_eq!(r.code, 1, "{r:?}");
        let said = files_containing(&out, b"past the disk quota");
        assert!(!said.is_empty(), "{r:?}");
        assert!(files_containing(&out, b"disk: wrote everything").is_empty());
        // Teardown removed what it wrote: the whole test directory is small again.
        let left = certify_sandbox::measure(root);
        assert!(left.bytes < 200 << 20, "{left:?} left behind");
    } else {
        // The right verdict: the product works, the attacks change nothing.
        assert_eq!(r.code, 0, "{r:?}");
        // The attack ran (its output is in the build log or the step's case).
        let ran = files_containing(&out, b"localhost:");
        assert!(!ran.is_empty() || r.stdout.contains("localhost:"), "{r:?}");
    }
    if let Attack::KbStep = attack {
        // The fork bomb hit the sandbox's process limit and the step carried on.
        assert!(
            !files_containing(&out, b"forked: still here").is_empty(),
            "{r:?}"
        );
    }
    // No canary anywhere.
    assert_no_canary(root, &home, &r);
    // The harness's state is unharmed.
    let harmed: Vec<_> = files_containing(&state, b"HOSTILE");
    assert!(harmed.is_empty(), "written: {harmed:?}");
    assert!(
        !reached.load(Ordering::SeqCst),
        "the package reached 127.0.0.1:{port}"
    );
    // Nothing survives the run.
    for daemon in daemons {
        assert!(processes_running(daemon).is_empty(), "{daemon} survived");
    }
}

#[test]
fn without_a_sandbox_a_run_refuses_unless_told_and_then_says_so() {
    // Unsandboxed, the servers are on the host's loopback, as are those of the tests that
    // serve an emulator with local execution.
    let _one = crate::run::ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let out = dir.path().join("out");
    let state = dir.path().join("state.db");
    let refused = run(crate::support::certify()
        .env("CERTIFY_BWRAP", "/nonexistent/bwrap")
        .env("CERTIFY_STATE_DB", &state)
        .arg("run")
        .arg(&bundle)
        .arg("--out")
        .arg(&out));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("apt-get install bubblewrap")
            && refused.stderr.contains("--unsandboxed"),
        "{refused:?}"
    );

    let opted = run(crate::support::certify()
        .env("CERTIFY_BWRAP", "/nonexistent/bwrap")
        .env("CERTIFY_STATE_DB", &state)
        .arg("run")
        .arg(&bundle)
        .arg("--out")
        .arg(&out)
        // At 60 the package's 5-minute limit is 5 s: room for a loaded machine.
        .args(["--clock-scale", "60", "--unsandboxed"]));
    assert_eq!(opted.code, 0, "{opted:?}");
    assert!(
        opted.stdout.contains("warning: unsandboxed run"),
        "{opted:?}"
    );
    let report = crate::support::read_json(&out.join("report.json"));
    assert_eq!(report["certification"]["isolation"], "unsandboxed");
    let summary = std::fs::read_to_string(out.join("summary.html")).unwrap();
    assert!(summary.contains("Unsandboxed run"), "{summary}");
}

#[test]
fn a_bundle_cannot_ask_for_an_environment_variable_only_the_integrator_maps_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let toml = bundle.join("candidate.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let asking = text.replace(
        "\"Acme.AdminPassword\" = { generate = true }",
        "\"Acme.AdminPassword\" = { env = \"CLC_PASSWORD\" }",
    );
    assert_ne!(asking, text);
    std::fs::write(&toml, &asking).unwrap();
    let state = dir.path().join("state.db");
    let certify_run = |extra: &[&str]| {
        run(crate::support::certify()
            .env("CLC_PASSWORD", "CANARY-CLC-PASSWORD")
            .env("ACME_ADMIN", "integrator-chosen-password")
            .env("CERTIFY_STATE_DB", &state)
            .arg("run")
            .arg(&bundle)
            .arg("--out")
            .arg(dir.path().join("out"))
            .args(["--clock-scale", "240"])
            .args(extra))
    };
    let refused = certify_run(&[]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("names an environment variable")
            && refused.stderr.contains("candidate.toml:"),
        "{refused:?}"
    );
    assert!(!refused.stdout.contains("CANARY") && !refused.stderr.contains("CANARY"));

    // Asking the integrator works, and only for what the integrator maps.
    std::fs::write(
        &toml,
        text.replace(
            "\"Acme.AdminPassword\" = { generate = true }",
            "\"Acme.AdminPassword\" = { integrator = true }",
        ),
    )
    .unwrap();
    let unmapped = certify_run(&[]);
    assert_eq!(unmapped.code, 2, "{unmapped:?}");
    assert!(
        unmapped
            .stderr
            .contains("--secret Acme.AdminPassword=VARIABLE"),
        "{unmapped:?}"
    );
    let wrong = certify_run(&["--secret", "Other=CLC_PASSWORD"]);
    assert_eq!(wrong.code, 2, "{wrong:?}");
    let mapped = certify_run(&["--secret", "Acme.AdminPassword=ACME_ADMIN"]);
    assert_eq!(mapped.code, 0, "{mapped:?}");
    assert!(files_containing(&dir.path().join("out"), b"integrator-chosen-password").is_empty());
}

#[test]
fn the_plugins_http_grant_is_the_declared_ports_of_its_servers_only() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_copy(dir.path());
    let toml = bundle.join("candidate.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("WEB = [8080]", "WEB = [9999]")).unwrap();
    let out = dir.path().join("out");
    let r = run(crate::support::certify()
        .env("CERTIFY_STATE_DB", dir.path().join("state.db"))
        .arg("run")
        .arg(&bundle)
        .arg("--out")
        .arg(&out)
        .args(["--clock-scale", "240"]));
    assert_eq!(r.code, 1, "{r:?}");
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        report.contains(":8080 is not granted to this run (granted: 10.88.")
            && report.contains(":9999)"),
        "{report}"
    );
}

#[test]
fn a_hostile_build_script_runs_in_the_sandbox_and_gets_nothing() {
    if !sandbox_available() {
        eprintln!("skipped: bubblewrap is missing or cannot create namespaces here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let home = fake_home(root);
    let bundle = sample_copy(root);
    let blueprint = std::fs::read(bundle.join("blueprint.json")).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // The plugin is the hostile Cargo project.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/sandbox-build/plugin");
    let project = bundle.join("plugin");
    std::fs::create_dir_all(project.join("src")).unwrap();
    for file in ["Cargo.toml", "build.rs", "src/lib.rs"] {
        let text = std::fs::read_to_string(fixture.join(file))
            .unwrap()
            .replace("@HOME@", &home.display().to_string())
            .replace("@BUNDLE@", &bundle.display().to_string())
            .replace("@PORT@", &port.to_string());
        std::fs::write(project.join(file), text).unwrap();
    }
    let toml = bundle.join("candidate.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace("path = \"plugin.wasm\"", "path = \"plugin\""),
    )
    .unwrap();

    let out = root.join("out");
    let mut cmd = crate::support::certify();
    cmd.env("HOME", &home)
        .env("CARGO_HOME", home_or("CARGO_HOME", ".cargo"))
        .env("RUSTUP_HOME", home_or("RUSTUP_HOME", ".rustup"))
        .env("CLC_USERNAME", "CANARY-CLC-USER")
        .env("CLC_PASSWORD", "CANARY-CLC-PASSWORD")
        .env("CERTIFY_STATE_DB", root.join("state/state.db"))
        .env("CERTIFY_CACHE_DIR", root.join("cache"))
        .arg("run")
        .arg(&bundle)
        .arg("--out")
        .arg(&out)
        .args(["--clock-scale", "240"]);
    let r = run(&mut cmd);
    // The build failed (the script panics), so the plugin could not load: not certified.
    assert_eq!(r.code, 1, "{r:?}");
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report.contains("in the sandbox failed"), "{report}");
    assert!(
        report.contains("found: "),
        "the build script did not run: {report}"
    );
    assert_no_canary(root, &home, &r);
    assert_eq!(
        std::fs::read(bundle.join("blueprint.json")).unwrap(),
        blueprint
    );
    assert!(!home.join("pwned").exists());
    assert!(
        listener.accept().is_err(),
        "the build script reached 127.0.0.1:{port}"
    );

    // An integrator who insists on a built plugin refuses the project outright.
    let r = run(cmd.arg("--wasm-only"));
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--wasm-only"), "{r:?}");
}

/// The toolchain's directories as the test's own environment has them.
fn home_or(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap()).join(default))
}
