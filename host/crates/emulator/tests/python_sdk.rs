//! The official CenturyLink Python SDK (`clc-sdk` 2.51), unmodified, driven through the
//! certification scenario (`tests/python/clc_sdk_scenario.py`) against an in-process
//! emulator.
//!
//! The interpreter is `$CERTIFY_PYTHON` (CI points it at a virtualenv holding the SDK);
//! without it the test creates `<target dir>/clc-sdk-venv` with `python3 -m venv` and
//! installs `clc-sdk==2.51` from PyPI, so `cargo test` works on a fresh machine with
//! registry access.

use std::path::{Path, PathBuf};
use std::process::Command;

use certify_emulator::Emulator;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("CERTIFY_PYTHON") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"));
    let venv = target.join("clc-sdk-venv");
    let py = venv.join("bin").join("python");
    let ready = py.exists()
        && Command::new(&py)
            .args(["-c", "import clc"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "cannot create a virtualenv with python3 -m venv (set CERTIFY_PYTHON)"
        );
        let ok = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "clc-sdk==2.51"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "cannot install clc-sdk==2.51 (set CERTIFY_PYTHON to a Python with it)"
        );
    }
    py
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_runs_the_scenario_unmodified() {
    let py = tokio::task::spawn_blocking(python).await.unwrap();
    let emu = Emulator::builder()
        .clock_scale(600.0)
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let creds = emu.credentials();
    let script = workspace_root().join("tests/python/clc_sdk_scenario.py");
    let out = tokio::process::Command::new(&py)
        .arg(&script)
        .arg(emu.url())
        .arg(creds.username())
        .arg(creds.password().expose())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("SCENARIO OK"),
        "the SDK scenario failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    emu.shutdown().await;
}
