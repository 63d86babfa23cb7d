//! How long starting a sandbox takes: a server's package sandbox on the run network,
//! from spawning `bwrap` to the command inside having run (`/bin/true`), and creating a
//! run network. Prints medians (target: a sandbox ≤ 50 ms).
//!
//! Run with `cargo bench -p certify-sandbox`.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use certify_sandbox::{RunNetwork, Sandbox, Spec};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let sandbox = match Sandbox::probe() {
        Ok(s) => s,
        Err(e) => {
            println!("no sandbox here: {e}");
            return;
        }
    };
    let mut networks = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let net = RunNetwork::create().expect("a run network");
        networks.push(t.elapsed());
        drop(net);
    }
    let net = Arc::new(RunNetwork::create().expect("a run network"));
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        writable: vec![dir.path().to_path_buf()],
        cwd: Some(dir.path().to_path_buf()),
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        network: Some(net),
        ..Spec::default()
    };
    let mut starts = Vec::new();
    for _ in 0..51 {
        let t = Instant::now();
        let status = sandbox
            .command(&spec, "/bin/true", &[])
            .stdin(Stdio::null())
            .status()
            .unwrap();
        starts.push(t.elapsed());
        assert!(status.success());
    }
    println!(
        "sandbox start (bwrap + limits + /bin/true, on the run network): median {:.1} ms over {} (target ≤ 50 ms)",
        median(starts.clone()).as_secs_f64() * 1e3,
        starts.len()
    );
    println!(
        "run network creation: median {:.1} ms over {}",
        median(networks.clone()).as_secs_f64() * 1e3,
        networks.len()
    );
}
