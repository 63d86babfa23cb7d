//! Benchmark of a whole `certify run` of the sample candidate on the embedded
//! emulator at a high clock scale (240: higher, and the real seconds a package takes to start a real service exceed the Blueprint Engine's 5-minute limit in account time): the harness's own overhead around a
//! deployment (target: ≤ 2 s wall, plugin compilation excluded — the plugin
//! build and the compiled-plugin cache are warmed first), and the credit the
//! run reserves and is charged, which must be the blueprint's servers for
//! the billed hours and nothing more.
//!
//! It also measures the sandbox's cost: the same run with `--unsandboxed`,
//! alternated with the sandboxed one in the same benchmark run, and prints both
//! medians and their ratio (target: sandboxed ≤ 1.2× unsandboxed).
//!
//! Run with `cargo bench --bench run`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/sample-candidate");
    let cache = tempfile::tempdir().unwrap();
    let run_with = |state: &Path, out: &Path, extra: &[&str]| {
        let t = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_certify"))
            .env("CERTIFY_CACHE_DIR", cache.path())
            .env("CERTIFY_STATE_DB", state.join("state.db"))
            .arg("run")
            .arg(&sample)
            .args(["--clock-scale", "240", "--out"])
            .arg(out)
            .args(extra)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "the sample was not certified");
        t.elapsed()
    };
    let run = |state: &Path, out: &Path| run_with(state, out, &[]);
    let warm = tempfile::tempdir().unwrap();
    run(warm.path(), &warm.path().join("out"));
    run_with(warm.path(), &warm.path().join("out"), &["--unsandboxed"]);

    let mut samples: Vec<Duration> = Vec::new();
    let mut unsandboxed: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        samples.push(run(dir.path(), &dir.path().join("out")));
        last = Some(dir);
        let other = tempfile::tempdir().unwrap();
        unsandboxed.push(run_with(
            other.path(),
            &other.path().join("out"),
            &["--unsandboxed"],
        ));
    }
    samples.sort();
    unsandboxed.sort();
    println!(
        "sandboxed run: median {:.2} s; --unsandboxed: median {:.2} s; ratio {:.2} (target ≤ 1.2)",
        samples[2].as_secs_f64(),
        unsandboxed[2].as_secs_f64(),
        samples[2].as_secs_f64() / unsandboxed[2].as_secs_f64()
    );
    let dir = last.unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    // The deployment's own time (building the server, running the packages)
    // is the emulator's, not the harness's: time-to-value in account time,
    // divided by the clock scale.
    let deployment = report["certification"]["time_to_value"]["seconds"]
        .as_f64()
        .unwrap_or(0.0)
        / 240.0;
    let wall = samples[2].as_secs_f64();
    println!(
        "full run of the sample (deploy → checks → steps → teardown → report) at clock scale 240: median {wall:.2} s wall over 5 runs, of which the deployment itself {deployment:.2} s: harness overhead {:.2} s (target ≤ 2 s)",
        wall - deployment
    );
    let used = &report["certification"]["credit_used"];
    let estimate = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap())
        .find(|c| c["id"] == "budget.reservation")
        .map(|c| c["output"].as_str().unwrap().to_string())
        .unwrap_or_default();
    println!(
        "credit: reserved {} (the blueprint's servers for the billed hours), charged {}\n{}",
        used["estimate"].as_str().unwrap_or("?"),
        used["actual"].as_str().unwrap_or("?"),
        estimate.trim_end()
    );
}
