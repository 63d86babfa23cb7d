//! `certify new`: the scaffolded bundle is certified as generated, its
//! plugin's native unit tests pass, and a non-empty directory is refused.

use std::path::Path;
use std::process::Command;

use crate::run::{ONE_RUN_AT_A_TIME, case, certify_run, lock_like_the_workspace, workspace_sdk};
use crate::support::{certify, read_json, run};

#[test]
fn certify_new_scaffolds_a_bundle_that_is_certified() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("widget-pro");
    let made = run(certify().arg("new").arg(&bundle).args([
        "--product",
        "Widget Pro",
        "--company",
        "Widget Works Ltd.",
    ]));
    assert_eq!(made.code, 0, "{made:?}");
    for file in [
        "candidate.toml",
        "blueprint.json",
        "packages/install-widget-pro/package.manifest",
        "packages/install-widget-pro/install.sh",
        "packages/install-widget-pro/service.py",
        "kb/public/getting-started-with-widget-pro-blueprint.md",
        "kb/internal/widget-pro-blueprint-internal.md",
        "plugin/Cargo.toml",
        "plugin/src/lib.rs",
        ".github/workflows/certify.yml",
    ] {
        assert!(bundle.join(file).is_file(), "{file} is missing");
    }
    let toml = std::fs::read_to_string(bundle.join("candidate.toml")).unwrap();
    assert!(toml.contains("product = \"Widget Pro\""), "{toml}");
    assert!(toml.contains("company = \"Widget Works Ltd.\""), "{toml}");
    let cargo = std::fs::read_to_string(bundle.join("plugin/Cargo.toml")).unwrap();
    assert!(cargo.contains("certify-sdk = \"0.1\""), "{cargo}");
    assert_eq!(
        std::fs::read_to_string(bundle.join(".github/workflows/certify.yml")).unwrap(),
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci/github-actions.yml")
        )
        .unwrap()
    );
    lock_like_the_workspace(&bundle.join("plugin"));

    // The plugin's own unit tests pass natively, as the CI recipe runs them.
    let tested = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--manifest-path"])
        .arg(bundle.join("plugin/Cargo.toml"))
        .arg("--target-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target"))
        .arg("--config")
        .arg(format!(
            "patch.crates-io.certify-sdk.path={}",
            serde_json::Value::from(workspace_sdk().to_str().unwrap())
        ))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&tested.stdout);
    assert!(
        tested.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    assert!(said.contains("2 passed"), "{said}");

    // Certified as generated.
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = dir.path().join("report");
    let done = run(certify_run(dir.path(), &bundle, &out).env("CERTIFY_SDK_PATH", workspace_sdk()));
    assert_eq!(done.code, 0, "{done:?}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["certification"]["verdict"], "certified");
    for id in [
        "service.health",
        "service.offers",
        "blueprint.time-to-value",
        "teardown.verified",
    ] {
        assert_eq!(case(&report, id)["verdict"], "passed", "{id}");
    }
}

#[test]
fn certify_new_refuses_a_non_empty_directory_and_unsafe_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let refused = run(certify().arg("new").arg(dir.path()));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("not empty"), "{refused:?}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing was written"
    );
    let target = dir.path().join("new");
    let refused = run(certify()
        .arg("new")
        .arg(&target)
        .args(["--product", "Widget\" = 1\nx = \""]));
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(!target.exists());
}

/// certify-sdk carries the contract inside its package (`sdk/wit`, which
/// `cargo package` follows), and that is the repository's one `wit/`, not a
/// copy that could drift. `cargo publish --dry-run -p certify-sdk` checks the
/// rest (it needs crates.io).
#[test]
fn the_sdk_ships_the_one_contract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let link = root.join("sdk/wit");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "sdk/wit must link to wit/, not copy it"
    );
    assert_eq!(
        std::fs::canonicalize(&link).unwrap(),
        std::fs::canonicalize(root.join("wit")).unwrap()
    );
    let manifest = std::fs::read_to_string(root.join("sdk/Cargo.toml")).unwrap();
    assert!(manifest.contains("\"wit/*.wit\""), "{manifest}");
    assert!(!manifest.contains("publish = false"), "{manifest}");
    let bindings = std::fs::read_to_string(root.join("sdk/src/bindings.rs")).unwrap();
    assert!(bindings.contains("path: \"wit\""), "{bindings}");
}
