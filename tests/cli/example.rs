//! The example plugin in `plugins/http-probe` against a real local service.

use certify_fixtures::HTTP_PROBE;

use crate::support::{Server, cases, certify, closed_port, read_json, run};

#[test]
fn a_healthy_service_at_the_advertised_version_passes() {
    let server = Server::start();
    let out = run(certify()
        .args(["plugin", "run", HTTP_PROBE, "--allow-host"])
        .arg(server.address())
        .arg("--param")
        .arg(format!("base_url={}", server.url("")))
        .args(["--param", "expected_version=1.4.2"]));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("3 checks: 3 passed"), "{out:?}");
}

#[test]
fn a_wrong_version_fails_and_a_down_service_fails_health() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = run(certify()
        .args(["plugin", "run", HTTP_PROBE, "--allow-host"])
        .arg(server.address())
        .arg("--param")
        .arg(format!("base_url={}", server.url("")))
        .args(["--param", "expected_version=2.0.0", "--json"])
        .arg(&json));
    assert_eq!(out.code, 1, "{out:?}");
    let report = read_json(&json);
    let version = &cases(&report)
        .into_iter()
        .find(|(id, _)| id == "service.version")
        .unwrap()
        .1;
    assert_eq!(version["verdict"], "failed");
    assert!(version["message"].as_str().unwrap().contains("\"1.4.2\""));

    let port = closed_port();
    let down = run(certify()
        .args([
            "plugin",
            "run",
            HTTP_PROBE,
            "--check",
            "service.health",
            "--allow-host",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--param")
        .arg(format!("base_url=http://127.0.0.1:{port}")));
    assert_eq!(down.code, 1, "{down:?}");
    assert!(down.stdout.contains("FAIL  service.health"), "{down:?}");
    assert!(down.stdout.contains("is not reachable"), "{down:?}");
}

#[test]
fn without_the_grant_the_service_is_out_of_reach() {
    let server = Server::start();
    let out = run(certify()
        .args([
            "plugin",
            "run",
            HTTP_PROBE,
            "--check",
            "service.health",
            "--param",
        ])
        .arg(format!("base_url={}", server.url(""))));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("[check-error]: http: denied"),
        "{out:?}"
    );
}

#[test]
fn a_plugin_project_is_built_from_source() {
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/http-probe");
    let out = run(certify()
        .arg("plugin")
        .arg("inspect")
        .arg(&project)
        .arg("--json"));
    assert_eq!(out.code, 0, "{out:?}");
    let info: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(info["name"], "http-probe");
    let ids: Vec<&str> = info["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["service.health", "service.version", "service.latency"]
    );
    assert!(
        info["file"]
            .as_str()
            .unwrap()
            .contains("plugins/http-probe")
    );
}

/// `certify plugin run <bundle>` runs the bundle's plugin with the parameters its
/// candidate.toml gives it (a --param overrides one), and `--out DIR` writes the
/// whole report there; a directory where a file is expected, and the reverse, are
/// named plainly.
#[test]
fn plugin_run_takes_a_bundle_and_writes_its_report_to_out() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let bundle = crate::run::sample_copy(dir.path());
    std::fs::copy(HTTP_PROBE, bundle.join("plugin.wasm")).unwrap();
    let toml = std::fs::read_to_string(bundle.join("candidate.toml")).unwrap();
    let toml = toml.replace(
        "[plugin.parameters]\n",
        &format!("[plugin.parameters]\nbase_url = \"{}\"\n", server.url("")),
    );
    std::fs::write(bundle.join("candidate.toml"), toml).unwrap();
    let out_dir = dir.path().join("out");
    let out = run(certify()
        .args(["plugin", "run"])
        .arg(&bundle)
        .arg("--allow-host")
        .arg(server.address())
        .args(["--param", "expected_version=1.4.2", "--out"])
        .arg(&out_dir));
    assert_eq!(out.code, 0, "{out:?}");
    for file in ["report.json", "junit.xml", "summary.html"] {
        assert!(out_dir.join(file).is_file(), "{file}: {out:?}");
    }
    let report = read_json(&out_dir.join("report.json"));
    let properties = report["properties"].to_string();
    assert!(properties.contains("\"plugin.file\""), "{properties}");
    assert!(
        !properties.contains(dir.path().to_str().unwrap()),
        "{properties}"
    );

    // A directory that is neither a bundle nor a project.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let refused = run(certify().args(["plugin", "run"]).arg(&empty));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("neither a candidate bundle"),
        "{refused:?}"
    );
    // --junit naming a directory, --out naming a file.
    let to_dir = run(certify()
        .args(["plugin", "run"])
        .arg(&bundle)
        .arg("--junit")
        .arg(&empty));
    assert_eq!(to_dir.code, 2, "{to_dir:?}");
    assert!(to_dir.stderr.contains("is a directory"), "{to_dir:?}");
    let to_file = run(certify()
        .args(["plugin", "run"])
        .arg(&bundle)
        .arg("--out")
        .arg(bundle.join("candidate.toml")));
    assert_eq!(to_file.code, 2, "{to_file:?}");
    assert!(to_file.stderr.contains("is a file"), "{to_file:?}");
}
