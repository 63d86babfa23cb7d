//! Signed reports end to end: `certify key generate`, `certify run` signing with the
//! key from CERTIFY_SIGN_KEY (as in CI), `certify report verify --key` accepting the
//! honest report and rejecting forgeries, the private key in no output, and
//! `certify report diff`. One run's output is reused across the forgeries by copying
//! the directory.

use std::path::Path;

use crate::run::{ONE_RUN_AT_A_TIME, certify_run, copy_dir, sample_copy};
use crate::support::{certify, read_json, run};

fn verify(out: &Path, extra: &[&str]) -> crate::support::Run {
    run(certify().args(["report", "verify"]).arg(out).args(extra))
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn rewrite_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v = read_json(path);
    f(&mut v);
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// Re-digest a file in attestation.json, as a forger would.
fn redigest(out: &Path, name: &str) {
    use sha2::Digest as _;
    let sha = hex::encode(sha2::Sha256::digest(std::fs::read(out.join(name)).unwrap()));
    rewrite_json(&out.join("attestation.json"), |a| {
        for s in a["subject"].as_array_mut().unwrap() {
            if s["name"] == name {
                s["digest"]["sha256"] = sha.clone().into();
            }
        }
    });
}

#[test]
fn a_signed_run_verifies_by_key_and_forgeries_do_not() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();

    // Keys: standard PEM files, the private one 0600, never overwritten.
    let made = run(certify().args(["key", "generate"]).arg(keys.join("ci")));
    assert_eq!(made.code, 0, "{made:?}");
    let again = run(certify().args(["key", "generate"]).arg(keys.join("ci")));
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    let other = run(certify().args(["key", "generate"]).arg(keys.join("other")));
    assert_eq!(other.code, 0, "{other:?}");
    let private = std::fs::read_to_string(keys.join("ci.key")).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(keys.join("ci.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let secret: String = private
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();

    // A key that is not one is refused before anything is deployed, without quoting it.
    let bundle = sample_copy(dir.path());
    let bogus =
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n";
    let refused =
        run(certify_run(dir.path(), &bundle, &dir.path().join("nope"))
            .env("CERTIFY_SIGN_KEY", bogus));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("CERTIFY_SIGN_KEY"), "{refused:?}");
    assert!(!refused.stderr.contains("bm90IGEga2V5"), "{refused:?}");
    assert!(!dir.path().join("nope").exists());

    // The run, signed with the key from the environment, as in CI.
    let out = dir.path().join("report");
    let done = run(certify_run(dir.path(), &bundle, &out).env("CERTIFY_SIGN_KEY", &private));
    assert_eq!(done.code, 0, "{done:?}");
    assert!(out.join("attestation.dsse.json").is_file());
    // The key-specific part of the PEM body (every Ed25519 PKCS#8 key starts with
    // the same 21 characters), in stdout, stderr and every file written.
    let specific = &secret[21..];
    assert!(specific.len() >= 40, "{secret}");
    for text in [&done.stdout, &done.stderr] {
        assert!(!text.contains(&specific[..24]), "the key is in the output");
    }
    for file in files(&out) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&specific[..24]),
            "{} holds the private key",
            file.display()
        );
    }
    let summary = std::fs::read_to_string(out.join("summary.html")).unwrap();
    let keyid = read_json(&out.join("report.json"))["certification"]["signer"]["keyid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(summary.contains(&keyid), "the page names the signer");

    // Honest: verifies by key, and says who signed it.
    let pubkey = keys.join("ci.pub");
    let key_arg = ["--key", pubkey.to_str().unwrap()];
    let ok = verify(&out, &key_arg);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(
        ok.stdout.contains(&format!("signed by key {keyid}")),
        "{ok:?}"
    );
    // Without a key it is consistent, and says that nothing vouches for it.
    let plain = verify(&out, &[]);
    assert_eq!(plain.code, 0, "{plain:?}");
    assert!(
        plain.stdout.contains("nothing vouches for this report"),
        "{plain:?}"
    );
    // Another key does not vouch for it.
    let other_pub = keys.join("other.pub");
    let wrong = verify(&out, &["--key", other_pub.to_str().unwrap()]);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stdout.contains("none of the keys given"), "{wrong:?}");

    // The harness that made it is this build; a list without it rejects it.
    let exe = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(env!("CARGO_BIN_EXE_certify")).unwrap(),
        ))
    };
    let released = verify(&out, &[&key_arg[..], &["--harness-sha256", &exe]].concat());
    assert_eq!(released.code, 0, "{released:?}");
    let releases = dir.path().join("releases.txt");
    std::fs::write(
        &releases,
        format!("# released builds\n{}  certify-x86_64\n", "0".repeat(64)),
    )
    .unwrap();
    let patched = verify(
        &out,
        &[
            &key_arg[..],
            &["--harness-releases", releases.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(patched.code, 1, "{patched:?}");
    assert!(
        patched.stdout.contains("not among the released builds"),
        "{patched:?}"
    );

    // Forgery: the verdict flipped in report.json and its digest recomputed.
    let forged = dir.path().join("forged");
    copy_dir(&out, &forged, &|_| false);
    rewrite_json(&forged.join("report.json"), |r| {
        r["certification"]["verdict"] = "not-certified".into();
    });
    redigest(&forged, "report.json");
    let caught = verify(&forged, &key_arg);
    assert_eq!(caught.code, 1, "{caught:?}");
    assert!(
        caught.stdout.contains("not the statement that was signed"),
        "{caught:?}"
    );

    // The signature stripped: an unsigned report does not verify by key. (Re-signing
    // with another key and the other forgeries are in certify-review's unit tests.)
    let stripped = dir.path().join("stripped");
    copy_dir(&out, &stripped, &|_| false);
    std::fs::remove_file(stripped.join("attestation.dsse.json")).unwrap();
    let unsigned = verify(&stripped, &key_arg);
    assert_eq!(unsigned.code, 1, "{unsigned:?}");
    assert!(
        unsigned.stdout.contains("the report is unsigned"),
        "{unsigned:?}"
    );

    // diff: the report against itself agrees; a changed check outcome is named first.
    let same = run(certify().args(["report", "diff"]).arg(&out).arg(&out));
    assert_eq!(same.code, 0, "{same:?}");
    let b = dir.path().join("b");
    copy_dir(&out, &b, &|_| false);
    rewrite_json(&b.join("report.json"), |r| {
        for suite in r["suites"].as_array_mut().unwrap() {
            for case in suite["cases"].as_array_mut().unwrap() {
                if case["id"] == "status.api" {
                    case["verdict"] = "failed".into();
                    case["message"] = "503".into();
                }
            }
        }
        r["certification"]["inputs"][0]["sha256"] = "0".repeat(64).into();
    });
    let differ = run(certify().args(["report", "diff"]).arg(&out).arg(&b));
    assert_eq!(differ.code, 1, "{differ:?}");
    let first = differ
        .stdout
        .lines()
        .find(|l| l.starts_with("  - "))
        .unwrap();
    assert!(
        first.contains("status.api passed in A but is failed in B"),
        "{differ:?}"
    );
    assert!(differ.stdout.contains("differs: sha256"), "{differ:?}");
    let json = run(certify()
        .args(["report", "diff", "--json"])
        .arg(&out)
        .arg(&b));
    assert_eq!(json.code, 1, "{json:?}");
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed["format"], "certify-report-diff/1");
    assert_eq!(parsed["same"], false);
    assert_eq!(parsed["differences"][0]["kind"], "regression");
}
