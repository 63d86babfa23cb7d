//! Benchmarks of the plugin host, printing the figures the plugin-host work
//! is held to (medians; these machines are noisy):
//!
//! - per-check overhead: fresh store, instantiate, call a trivial check, drop
//!   (target: median ≤ 100 µs);
//! - loading a plugin from the compiled-artifact cache versus compiling it
//!   (target: ≥ 10× faster);
//! - 1,000 trivial checks through the CLI (target: ≤ 2 s on 2 cores);
//! - peak host memory with 16 checks alive at once (target: ≤ 200 MB).
//!
//! Run with `cargo bench --bench plugin_host`.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use certify_fixtures::{MISBEHAVING, TRIVIAL};
use certify_runtime::{Grants, Runtime, RuntimeConfig};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter we ignore.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let wasm = std::fs::read(TRIVIAL).unwrap();

    // Per-check overhead, on a check that returns at once. (Not the trivial
    // plugin's: it builds its 1,000-check table inside every call.)
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    let misbehaving = std::fs::read(MISBEHAVING).unwrap();
    let plugin = Arc::new(rt.block_on(runtime.load(misbehaving, None)).unwrap());
    let grants = Arc::new(Grants::default());
    let check = || rt.block_on(plugin.run_check("well.skip", 1, grants.clone()));
    for _ in 0..200 {
        check();
    }
    let samples: Vec<Duration> = (0..3000)
        .map(|_| {
            let t = Instant::now();
            let run = check();
            let d = t.elapsed();
            assert!(matches!(
                run.status,
                certify_runtime::Status::Skipped { .. }
            ));
            d
        })
        .collect();
    let overhead = median(samples);
    println!(
        "per-check overhead (fresh store + instantiate + trivial check + drop): median {:.1} µs over 3000 runs (target ≤ 100 µs)",
        overhead.as_secs_f64() * 1e6
    );

    // Compile versus cache.
    let cache = tempfile::tempdir().unwrap();
    let uncached = Runtime::new(RuntimeConfig::default()).unwrap();
    let cached = Runtime::new(RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..RuntimeConfig::default()
    })
    .unwrap();
    rt.block_on(cached.load(wasm.clone(), None)).unwrap();
    let compile = median(
        (0..7)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(uncached.load(wasm.clone(), None)).unwrap();
                t.elapsed()
            })
            .collect(),
    );
    let from_cache = median(
        (0..31)
            .map(|_| {
                let t = Instant::now();
                let p = rt.block_on(cached.load(wasm.clone(), None)).unwrap();
                let d = t.elapsed();
                assert!(p.from_cache());
                d
            })
            .collect(),
    );
    println!(
        "plugin load: compile median {:.1} ms, from cache median {:.2} ms: {:.0}x faster (target ≥ 10x)",
        compile.as_secs_f64() * 1e3,
        from_cache.as_secs_f64() * 1e3,
        compile.as_secs_f64() / from_cache.as_secs_f64()
    );

    // 1,000 trivial checks through the CLI (cache warm, as in repeated runs).
    let cli_cache = tempfile::tempdir().unwrap();
    let certify = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_certify"));
        cmd.env("CERTIFY_CACHE_DIR", cli_cache.path());
        cmd
    };
    let warm = certify().args(["plugin", "run", TRIVIAL]).output().unwrap();
    assert!(
        warm.status.success(),
        "{}",
        String::from_utf8_lossy(&warm.stdout)
    );
    let cli = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let out = certify().args(["plugin", "run", TRIVIAL]).output().unwrap();
                let d = t.elapsed();
                assert!(out.status.success());
                d
            })
            .collect(),
    );
    println!(
        "1,000 trivial checks through the CLI: median {:.2} s over 5 runs (target ≤ 2 s)",
        cli.as_secs_f64()
    );

    // Peak memory with 16 checks alive at once: each waits in a host call
    // until its 2 s limit, so all 16 stores and instances coexist.
    let mut cmd = certify();
    cmd.args(["plugin", "run", MISBEHAVING, "--concurrency", "16"]);
    for _ in 0..16 {
        cmd.args(["--check", "host-call-hangs"]);
    }
    let peak = peak_rss(cmd);
    println!(
        "peak host memory with 16 concurrent checks: {:.1} MiB (target ≤ 200 MB)",
        peak as f64 / (1 << 20) as f64
    );
}

/// Run a command to the end and return its peak resident set size in bytes.
fn peak_rss(mut cmd: Command) -> u64 {
    use std::os::unix::process::ExitStatusExt as _;
    let child = cmd.stdout(std::process::Stdio::null()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, and both out-pointers are valid.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let _ = std::process::ExitStatus::from_raw(status);
    std::mem::forget(child);
    // Linux reports ru_maxrss in KiB.
    usage.ru_maxrss as u64 * 1024
}
