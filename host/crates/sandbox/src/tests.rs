use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener};
use std::process::Stdio;

use super::*;

fn sandbox() -> Option<Sandbox> {
    match Sandbox::probe() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

fn sh(s: &Sandbox, spec: &Spec, script: &str) -> (bool, String) {
    let out = s
        .command(spec, "/bin/sh", &["-c".into(), script.into()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn sees_only_the_system_and_what_it_is_given() {
    let Some(s) = sandbox() else { return };
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("id_rsa"), "CANARY-KEY").unwrap();
    let work = tempfile::tempdir().unwrap();
    let spec = Spec {
        writable: vec![work.path().to_path_buf()],
        cwd: Some(work.path().to_path_buf()),
        env: vec![("ONLY".into(), "this".into())],
        ..Spec::default()
    };
    let script = format!(
        "cat {}/id_rsa; ls /home /root; env; echo written > out; echo procs=$(ls /proc | grep -c '^[0-9]')",
        secret.path().display()
    );
    let (_, out) = sh(&s, &spec, &script);
    assert!(!out.contains("CANARY"), "{out}");
    assert!(out.contains("ONLY=this"), "{out}");
    assert!(!out.contains("HOME="), "{out}");
    // Its own processes only: bwrap's init, sh, ls, grep.
    let procs: u32 = out
        .split("procs=")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(procs < 10, "{out}");
    assert_eq!(
        std::fs::read_to_string(work.path().join("out")).unwrap(),
        "written\n"
    );
    // Read-only is read-only.
    let spec = Spec {
        readable: vec![work.path().to_path_buf()],
        ..Spec::default()
    };
    let (ok, _) = sh(
        &s,
        &spec,
        &format!("echo x > {}/out", work.path().display()),
    );
    assert!(!ok);
}

#[test]
fn limits_files_and_tmp() {
    let Some(s) = sandbox() else { return };
    let work = tempfile::tempdir().unwrap();
    let spec = Spec {
        writable: vec![work.path().to_path_buf()],
        limits: Limits {
            file_size: 1 << 20,
            tmp_size: 1 << 20,
            ..Limits::default()
        },
        ..Spec::default()
    };
    let big = work.path().join("big");
    let (ok, out) = sh(
        &s,
        &spec,
        &format!("head -c 4000000 /dev/zero > {}", big.display()),
    );
    assert!(!ok, "{out}");
    assert!(std::fs::metadata(&big).unwrap().len() <= 1 << 20);
    let (ok, out) = sh(
        &s,
        &spec,
        "for i in 1 2 3; do head -c 900000 /dev/zero > /tmp/f$i || exit 1; done",
    );
    assert!(!ok, "{out}");
}

#[test]
fn nothing_outlives_the_sandbox() {
    let Some(s) = sandbox() else { return };
    let work = tempfile::tempdir().unwrap();
    let marker = work.path().join("alive");
    let spec = Spec {
        writable: vec![work.path().to_path_buf()],
        ..Spec::default()
    };
    // A setsid daemon that keeps touching a file.
    let script = format!(
        "setsid sh -c 'while :; do date +%s%N > {}; sleep 0.05; done' </dev/null >/dev/null 2>&1 & sleep 0.3",
        marker.display()
    );
    let (ok, out) = sh(&s, &spec, &script);
    assert!(ok, "{out}");
    let before = std::fs::read_to_string(&marker).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        before,
        "the daemon survived"
    );
}

#[test]
fn the_run_network_holds_the_servers_and_nothing_else() {
    let Some(s) = sandbox() else { return };
    let net = match RunNetwork::create() {
        Ok(n) => Arc::new(n),
        Err(e) => panic!("the run network: {e}"),
    };
    // A listener of the integrator's on the host's loopback.
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = host.local_addr().unwrap().port();
    let ip = RunNetwork::address(3);
    let spec = Spec {
        network: Some(net.clone()),
        ..Spec::default()
    };
    let script = format!(
        "python3 -c \"import socket\ntry:\n socket.create_connection(('127.0.0.1', {host_port}), 2); print('REACHED')\nexcept OSError as e: print('refused', e)\" ; \
         exec python3 -c \"import socket\ns=socket.socket(); s.bind(('{ip}', 8080)); s.listen(); print('listening', flush=True)\nc,_=s.accept(); c.sendall(b'hello from inside')\""
    );
    let mut child = s
        .command(&spec, "/bin/sh", &["-c".into(), script.into()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("listening") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "{}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(!String::from_utf8_lossy(&seen).contains("REACHED"));
    let mut conn = net.connect(SocketAddrV4::new(ip, 8080)).unwrap();
    let mut got = String::new();
    conn.read_to_string(&mut got).unwrap();
    assert_eq!(got, "hello from inside");
    assert!(child.wait().unwrap().success());
    // Nothing listens now; the host never sees the address.
    assert!(net.connect(SocketAddrV4::new(ip, 8080)).is_err());
    // The harness cannot be made to dial outside the run network.
    let outside = net.connect(SocketAddrV4::new([127, 0, 0, 1].into(), host_port));
    assert!(outside.is_err());
    let _ = std::io::stdout().flush();
}

#[test]
fn the_internet_is_off_unless_allowed_and_then_only_through_the_proxy() {
    let Some(s) = sandbox() else { return };
    let net = Arc::new(RunNetwork::create().expect("the run network"));
    let spec = Spec {
        network: Some(net.clone()),
        ..Spec::default()
    };
    // Off: no proxy to name, and no route to any address outside the run network.
    let (_, out) = sh(
        &s,
        &spec,
        "env | grep -i proxy; python3 -c \"import socket\ntry:\n socket.create_connection(('1.1.1.1', 443), 2); print('REACHED')\nexcept OSError as e: print('unreachable', e.errno)\"",
    );
    assert!(!out.contains("proxy="), "{out}");
    assert!(out.contains("unreachable"), "{out}");

    net.allow_internet().unwrap();
    net.allow_internet().unwrap();
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = host.local_addr().unwrap().port();
    // A server's service on the run network, which clients that ignore `no_proxy`
    // reach through the proxy too.
    let inside = SocketAddrV4::new(RunNetwork::address(5), 8080);
    let service = net.listen(inside).unwrap();
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = service.accept() {
            let _ = c.write_all(b"hello from the server");
        }
    });
    // On: the proxy is named, direct routes are still absent, and the proxy refuses the
    // integrator's loopback and the metadata address however the request is put.
    let script = format!(
        "echo \"$https_proxy\"; python3 -c \"
import os, socket
try:
    socket.create_connection(('1.1.1.1', 443), 2); print('DIRECT')
except OSError: print('no direct route')
host, port = os.environ['http_proxy'][7:].split(':')
for target in ['127.0.0.1:{host_port}', 'localhost:{host_port}', '169.254.169.254:80', '192.168.1.1:80', '{inside}']:
    s = socket.create_connection((host, int(port)), 5)
    s.sendall(('CONNECT ' + target + ' HTTP/1.1\\r\\n\\r\\n').encode())
    first = s.recv(200).decode()
    print(target, first.splitlines()[0])
    if target == '{inside}':
        rest = first.split('\\r\\n\\r\\n', 1)[1] or s.recv(64).decode()
        print('inside said', rest)
\""
    );
    let (ok, out) = sh(&s, &spec, &script);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("http://{}", crate::PROXY)), "{out}");
    assert!(out.contains("no direct route"), "{out}");
    assert!(!out.contains("DIRECT\n"), "{out}");
    assert_eq!(out.matches("HTTP/1.1 403").count(), 4, "{out}");
    assert!(out.contains("inside said hello from the server"), "{out}");
    host.set_nonblocking(true).unwrap();
    assert!(
        host.accept().is_err(),
        "the integrator's listener was reached"
    );
    let log = net.egress_log();
    assert_eq!((log.requests, log.refused, log.omitted()), (4, 4, 0));
    assert!(log.attempts.iter().all(|a| !a.allowed), "{log:?}");
}
