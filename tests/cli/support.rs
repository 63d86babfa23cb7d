//! Helpers: run the `certify` binary, read its reports, serve HTTP locally.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use std::time::Duration;

/// A `certify` command with a cache shared by the tests (so each plugin is
/// compiled once per test run) and no inherited logging settings.
pub fn certify() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certify"));
    cmd.env("CERTIFY_CACHE_DIR", cache_dir())
        .env_remove("CERTIFY_LOG")
        .env_remove("CERTIFY_LEDGER_URL")
        .env_remove("RUST_LOG");
    cmd
}

pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("certify-cache")
}

/// What a finished command said.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("running certify");
    Run {
        code: status.code().expect("certify exited normally"),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every case of a JSON report, as (id, case).
pub fn cases(report: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap().clone())
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect()
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for the plugins to check:
/// `/health` → 200 `ok`, `/version` → 200 `1.4.2`, `/hang` → never answers,
/// anything else → 404.
pub struct Server {
    pub port: u16,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        Server { port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

fn serve(mut stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 && line.trim() != "" {
            line.clear();
        }
        let (status, body) = match path.as_str() {
            "/health" => ("200 OK", "ok"),
            "/version" => ("200 OK", "1.4.2"),
            "/hang" => {
                std::thread::sleep(Duration::from_secs(3600));
                return;
            }
            _ => ("404 Not Found", "not found"),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Validate against `shared/reference/junit-10.xsd`. The one tolerated
/// difference: quick-junit always writes `skipped` on `<testsuites>`, which that
/// schema does not list.
///
/// The validator is the `xmlschema` package (a complete XSD 1.0 validator) in a
/// virtualenv the tests make themselves, so the test command needs nothing but
/// Python and PyPI: no `xmllint`, nothing installed by hand.
pub fn validate_junit(xml: &str) {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/junit-10.xsd");
    assert!(
        xsd.exists(),
        "{} is missing; the repository expects shared/ beside it",
        xsd.display()
    );
    let open_end = xml
        .find("<testsuites")
        .map(|i| i + xml[i..].find('>').unwrap())
        .unwrap();
    let root = &xml[..open_end];
    let stripped_root = regex_lite_strip_skipped(root);
    let candidate = format!("{stripped_root}{}", &xml[open_end..]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, candidate).unwrap();
    let out = Command::new(schema_python())
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(&xsd)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the JUnit report does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Prints every schema violation, exits 1 if there is one.
const VALIDATE_PY: &str = r#"
import sys, xmlschema
schema = xmlschema.XMLSchema10(sys.argv[1])
errors = list(schema.iter_errors(sys.argv[2]))
for e in errors:
    print(f"{e.path}: {e.reason}")
sys.exit(1 if errors else 0)
"#;

/// The pinned validator's version: one validator for every machine.
const XMLSCHEMA: &str = "xmlschema==4.3.2";

/// A Python with `xmlschema`: `<target dir>/xsd-venv`, made once per test
/// process (and kept between runs) with `python3 -m venv` and pip.
fn schema_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
            let venv = target.join("xsd-venv");
            let py = venv.join("bin").join("python");
            let ready = |py: &Path| {
                Command::new(py)
                    .args(["-c", "import xmlschema"])
                    .output()
                    .is_ok_and(|o| o.status.success())
            };
            if !ready(&py) {
                let made = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(made, "cannot create a virtualenv with `python3 -m venv`");
                let installed = Command::new(&py)
                    .args([
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                    ])
                    .arg(XMLSCHEMA)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(installed, "cannot install {XMLSCHEMA} from PyPI");
            }
            py
        })
        .clone()
}

fn regex_lite_strip_skipped(root: &str) -> String {
    match root.find(" skipped=\"") {
        Some(start) => {
            let end = start + 10 + root[start + 10..].find('"').unwrap() + 1;
            format!("{}{}", &root[..start], &root[end..])
        }
        None => root.to_string(),
    }
}
