//! Running an article's steps against the run's deployment.
//!
//! Every step is bound first ([`Bindings`]); a step with an unbound placeholder fails at
//! its line and is not run. Then the steps run in order:
//!
//! - shell steps and console commands run in a fresh `bash --noprofile --norc` each, in
//!   one process group per step, with `set -eo pipefail`. What carries from one step to
//!   the next is what a reader can follow: the exported environment variables and the
//!   working directory (and the files in it). On exit each step writes its environment
//!   and directory out; the harness reads them back, keeps ordinary variables only, and
//!   starts the next step with them. Functions, aliases, unexported variables, shell
//!   options and traps never carry, and neither do the variables that change how the
//!   shell or every program behaves ([`NEVER_CARRIED`]: `PATH`, `BASH_ENV`, `LD_*`, …),
//!   so a hidden setup step cannot redefine `curl` for the visible steps after it. The
//!   step's script and the code that saves its state are handed to bash directly (on
//!   standard input and as `-c`), never through files a step could rewrite.
//! - `http` steps go through an [`HttpClient`] (the built-in [`StdHttpClient`] speaks plain
//!   HTTP/1.1; give the runner one that speaks TLS for `https`).
//! - Blueprint Library steps ask a [`BlueprintLibrary`]: does the named blueprint exist, do
//!   the parameters the article lists exist and accept its example values, was the
//!   deployment submitted and did it succeed.
//!
//! Each step has a time limit (its `timeout` annotation, else [`RunOptions::step_timeout`])
//! and the article has one ([`RunOptions::article_timeout`]); a step that runs out is
//! killed with its whole process group, and steps left when the article's time is up fail
//! without running. Output (stdout and stderr merged, as a reader sees it) is bounded by
//! [`RunOptions::max_output_bytes`] and every secret value of the bindings is masked in
//! output, messages and commands before anything leaves this module.
//!
//! # Isolation: what it gives and what not
//!
//! Commands run in a throwaway working directory (a fresh temporary directory, also
//! `HOME`, removed afterwards) with a clean environment: only `PATH`, `HOME`,
//! `LANG=C.UTF-8`, `TZ=UTC`, `TERM=dumb`, `TMPDIR`, the suite's explicit variables
//! ([`RunOptions::env`]) and the non-secret bindings as `CERTIFY_<KEY>` variables
//! (`{{server.WEB.internal_ip}}` → `CERTIFY_SERVER_WEB_INTERNAL_IP`). Standard input is
//! `/dev/null`.
//!
//! With [`RunOptions::sandbox`] (what `certify run` uses) each step runs in its own
//! `certify-sandbox` sandbox: it sees the system directories read-only, its working
//! directory and the directory it writes its state to, a private `/tmp`, and the run's
//! private network (the servers, nothing else); it has resource limits; whatever it
//! starts in the background ends with it. Use [`RunNetworkHttpClient`] for `http` steps
//! then. Without a sandbox the commands run as the harness's user, can read and write
//! anything that user can, have the host's network, and their process groups are killed
//! only when the article ends: that is for trusted articles only.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use certify_blueprint::{ParameterType, ValueError};
use serde::Serialize;

use crate::KbError;
use crate::article::Article;
use crate::checks::{CheckResult, CheckStatus, DocRules};
use crate::matching;
use crate::placeholder::Bindings;
use crate::steps::{Step, StepKind};

/// Limits and environment of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Default time limit of one step.
    pub step_timeout: Duration,
    /// Time limit of the whole article.
    pub article_timeout: Duration,
    /// Output kept per step (stdout and stderr merged).
    pub max_output_bytes: usize,
    /// The bash to run.
    pub bash: PathBuf,
    /// `PATH` for the commands; `None` keeps the host's.
    pub path: Option<String>,
    /// Extra environment variables, set explicitly by the suite.
    pub env: Vec<(String, String)>,
    /// Run shell steps in this sandbox, on this network (see the module docs; without a
    /// run network they keep the host's, to reach a real account's servers); `None` runs
    /// them as the harness's user.
    pub sandbox: Option<(
        certify_sandbox::Sandbox,
        Option<Arc<certify_sandbox::RunNetwork>>,
    )>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            step_timeout: Duration::from_secs(60),
            article_timeout: Duration::from_secs(15 * 60),
            max_output_bytes: 64 * 1024,
            bash: PathBuf::from("bash"),
            path: None,
            env: Vec::new(),
            sandbox: None,
        }
    }
}

/// A blueprint as the library publishes it.
#[derive(Debug, Clone, Default)]
pub struct BlueprintFacts {
    /// Its published name.
    pub name: String,
    /// Its deploy-form parameters.
    pub parameters: Vec<ParamFacts>,
}

/// One deploy-form parameter.
#[derive(Debug, Clone, Default)]
pub struct ParamFacts {
    /// Its label on the form.
    pub name: String,
    /// Its type, which a value must have (a number, an IPv4 address, an option).
    pub kind: ParameterType,
    /// Must be filled in.
    pub required: bool,
    /// A value must match this regular expression (whole value).
    pub regex: Option<String>,
    /// A value must be one of these (option and multi-select parameters).
    pub options: Vec<String>,
}

impl ParamFacts {
    /// Whether `value` is acceptable for this parameter, by the Blueprint Engine's own
    /// check ([`certify_blueprint::check_value`]): the type, the options exactly as
    /// declared, the whole value against the regular expression.
    pub fn validate(&self, value: &str) -> Result<(), String> {
        if self.required && value.trim().is_empty() {
            return Err(format!("\"{}\" is required", self.name));
        }
        let options: Vec<&str> = self.options.iter().map(String::as_str).collect();
        certify_blueprint::check_value(self.kind, &options, self.regex.as_deref(), value).map_err(
            |e| match e {
                ValueError::NotAnOption { item, .. } => format!(
                    "\"{item}\" is not one of the options of \"{}\": {}",
                    self.name,
                    self.options.join(", ")
                ),
                ValueError::NoMatch { regex, .. } => {
                    format!("\"{value}\" does not match the parameter's pattern {regex}")
                }
                ValueError::BadRegex { regex, reason } => {
                    format!("the parameter's regex {regex:?} is invalid: {reason}")
                }
                ValueError::WrongType { .. } => format!("\"{}\": {e}", self.name),
            },
        )
    }
}

/// What became of the run's deployment of a blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentOutcome {
    /// It was never deployed in this run.
    NotDeployed,
    /// Submitted, not finished.
    Submitted {
        /// The queue's request id.
        request_id: String,
    },
    /// Finished successfully.
    Succeeded {
        /// The queue's request id.
        request_id: String,
        /// The servers it built.
        servers: Vec<String>,
    },
    /// Finished with an error.
    Failed {
        /// The queue's request id.
        request_id: String,
        /// The queue's message.
        message: String,
    },
}

/// The Blueprint Library and the run's deployment, as the harness sees them through the
/// API. Synchronous on purpose: the answers are facts the run already has.
pub trait BlueprintLibrary {
    /// The blueprint with exactly this name (case-insensitive), if published.
    fn find(&self, name: &str) -> Option<BlueprintFacts>;
    /// Blueprints whose name contains `keyword` (the library's keyword search).
    fn search(&self, keyword: &str) -> Vec<BlueprintFacts> {
        self.find(keyword).into_iter().collect()
    }
    /// What became of this run's deployment of the named blueprint.
    fn deployment(&self, blueprint: &str) -> DeploymentOutcome;
}

/// An HTTP request from an `http` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body (may be empty).
    pub body: String,
}

impl HttpRequest {
    /// Parses `METHOD URL [HTTP/1.1]`, header lines, a blank line and the body.
    pub fn parse(text: &str) -> Result<HttpRequest, String> {
        let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
        let first = lines.next().ok_or("empty http block")?;
        let mut parts = first.split_whitespace();
        let (Some(method), Some(url)) = (parts.next(), parts.next()) else {
            return Err(format!(
                "the first line must be `METHOD URL`, not {first:?}"
            ));
        };
        let mut headers = Vec::new();
        let mut body = String::new();
        let mut in_body = false;
        for l in lines {
            if in_body {
                body.push_str(l);
                body.push('\n');
            } else if l.trim().is_empty() {
                in_body = true;
            } else {
                let (k, v) = l
                    .split_once(':')
                    .ok_or_else(|| format!("not a header line: {l:?}"))?;
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        Ok(HttpRequest {
            method: method.to_ascii_uppercase(),
            url: url.to_string(),
            headers,
            body: body.trim_end().to_string(),
        })
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body as text (lossy).
    pub body: String,
}

/// Sends the requests of `http` steps.
pub trait HttpClient {
    /// Sends `req`, giving up after `timeout`. `Err` describes a transport failure.
    fn send(&self, req: &HttpRequest, timeout: Duration) -> Result<HttpResponse, String>;
}

/// A plain-HTTP/1.1 client on `std::net` (no TLS), enough for probing the deployment's
/// servers on their internal addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdHttpClient;

impl HttpClient for StdHttpClient {
    fn send(&self, req: &HttpRequest, timeout: Duration) -> Result<HttpResponse, String> {
        exchange(req, timeout, &|sock, timeout| {
            TcpStream::connect_timeout(&sock, timeout)
        })
    }
}

/// [`StdHttpClient`] for a sandboxed run: it reaches the servers on the run's private
/// network, through the network's holder, and nothing else.
#[derive(Debug, Clone)]
pub struct RunNetworkHttpClient(pub Arc<certify_sandbox::RunNetwork>);

impl HttpClient for RunNetworkHttpClient {
    fn send(&self, req: &HttpRequest, timeout: Duration) -> Result<HttpResponse, String> {
        exchange(req, timeout, &|sock, _| match sock {
            std::net::SocketAddr::V4(v4) => self.0.connect(v4),
            other => Err(std::io::Error::other(format!(
                "{other} is not on the run network"
            ))),
        })
    }
}

type Connect<'a> = &'a dyn Fn(std::net::SocketAddr, Duration) -> std::io::Result<TcpStream>;

fn exchange(
    req: &HttpRequest,
    timeout: Duration,
    connect: Connect<'_>,
) -> Result<HttpResponse, String> {
    let rest = req.url.strip_prefix("http://").ok_or_else(|| {
        format!(
            "{}: only http:// URLs are supported by the built-in client",
            req.url
        )
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let deadline = Instant::now() + timeout;
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {authority}"))?;
    let mut s = connect(sock, timeout).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    s.set_read_timeout(Some(left)).ok();
    s.set_write_timeout(Some(left)).ok();
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nUser-Agent: certify-kb\r\n",
        req.method
    );
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !req.body.is_empty() || matches!(req.method.as_str(), "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(req.body.as_bytes()))
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let raw = read_before(&mut s, deadline, MAX_RESPONSE_BYTES)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => (&raw[..], &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| "the response has no HTTP status line".to_string())?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked");
    // Decoded as text only once whole: a chunk may end inside a UTF-8 character.
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok(HttpResponse {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The most of a response the built-in client reads.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Reads until the peer closes, `cap` bytes, or `deadline`: a server that trickles a
/// byte at a time cannot outlast the step's time limit.
fn read_before(s: &mut TcpStream, deadline: Instant, cap: usize) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("no complete response within the step's time limit".into());
        }
        s.set_read_timeout(Some(left)).ok();
        match s.read(&mut buf) {
            Ok(0) => return Ok(raw),
            Ok(n) => {
                let room = cap - raw.len();
                raw.extend_from_slice(&buf[..n.min(room)]);
                if raw.len() >= cap {
                    return Ok(raw);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("no complete response within the time limit: {e}")),
        }
    }
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let (size, rest) = (&s[..eol], &s[eol + 2..]);
        let size = String::from_utf8_lossy(size);
        let Ok(n) = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            out.extend_from_slice(&rest[..n.min(rest.len())]);
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = &rest[n..];
        while let Some(r) = s.strip_prefix(b"\r\n") {
            s = r;
        }
    }
    out
}

/// Why a step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Wrong exit status.
    Exit,
    /// Output differs from what the article shows.
    Output,
    /// Ran out of time.
    Timeout,
    /// HTTP transport error or unexpected status.
    Http,
    /// Blueprint not found, parameter missing or invalid, deployment failed.
    Blueprint,
    /// A placeholder had no binding; the step was not run.
    Unbound,
}

/// Outcome of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum StepStatus {
    /// Ran and did what the article says.
    Passed,
    /// Ran (or could not be run) and did not.
    Failed {
        /// Category, for triage.
        kind: FailureKind,
        /// What went wrong.
        message: String,
    },
    /// Not run, with the stated reason.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Cannot be executed by the harness.
    NotExecutable {
        /// Why.
        reason: String,
    },
}

/// One step's result: a JUnit testcase.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// The article.
    pub file: PathBuf,
    /// 1-based line of the step.
    pub line: usize,
    /// The numbered step it belongs to.
    pub step_number: Option<usize>,
    /// One-line label (`$ curl …`, `find blueprint "…"`).
    pub label: String,
    /// The command as written in the article (placeholders unbound), secrets masked.
    pub command: String,
    /// Captured output (stdout and stderr merged, or the HTTP status and body), bounded,
    /// secrets masked.
    pub output: String,
    /// Output was cut at [`RunOptions::max_output_bytes`].
    pub output_truncated: bool,
    /// The expected output, as written.
    pub expected: Option<String>,
    /// Exit status of a shell step.
    pub exit_code: Option<i32>,
    /// Outcome.
    #[serde(flatten)]
    pub status: StepStatus,
    /// Wall time.
    #[serde(with = "crate::duration_ms")]
    pub duration: Duration,
    /// A hidden setup step.
    pub hidden: bool,
}

impl StepResult {
    /// Ran (passed or failed after running). Unbound, skipped and not-executable steps did not.
    pub fn executed(&self) -> bool {
        match &self.status {
            StepStatus::Passed => true,
            StepStatus::Failed { kind, .. } => *kind != FailureKind::Unbound,
            _ => false,
        }
    }
}

/// The run of one article.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleRun {
    /// The article.
    pub file: PathBuf,
    /// One result per step, in order.
    pub steps: Vec<StepResult>,
    /// Visible steps executed.
    pub executed: usize,
    /// Visible steps.
    pub total: usize,
    /// The verdict on the article as a whole (`kb.steps.reproduce`).
    pub verdict: CheckResult,
    /// Wall time.
    #[serde(with = "crate::duration_ms")]
    pub duration: Duration,
}

impl ArticleRun {
    /// Share of visible steps executed, 0.0–1.0 (0 when there are none).
    pub fn executed_share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.executed as f64 / self.total as f64
        }
    }

    /// True when every step passed or was skipped with a reason, and the verdict passed.
    pub fn passed(&self) -> bool {
        self.verdict.ok()
            && self
                .steps
                .iter()
                .all(|s| !matches!(s.status, StepStatus::Failed { .. }))
    }
}

/// What a run needs besides the article.
pub struct RunContext<'a> {
    /// Values for placeholders, and the secrets to mask.
    pub bindings: &'a Bindings,
    /// Limits and environment.
    pub options: &'a RunOptions,
    /// Suite rules (executed share).
    pub rules: &'a DocRules,
    /// The Blueprint Library; `None` skips Blueprint Library steps with a reason.
    pub library: Option<&'a dyn BlueprintLibrary>,
    /// The HTTP client for `http` steps.
    pub http: &'a dyn HttpClient,
}

/// Runs every step of `article`. `Err` only when the harness cannot run steps at all
/// (no temporary directory, no bash); a failing step is a result.
pub fn run_article(article: &Article, ctx: &RunContext<'_>) -> Result<ArticleRun, KbError> {
    let started = Instant::now();
    let deadline = started + ctx.options.article_timeout;
    let b = ctx.bindings;
    let mut shell: Option<Shell> = None;
    let mut found: HashMap<String, Option<BlueprintFacts>> = HashMap::new();
    let mut results = Vec::with_capacity(article.steps.len());
    // Bind everything before anything runs.
    let bound: Vec<Result<Bound, String>> = article.steps.iter().map(|s| bind(s, b)).collect();
    for (step, bound) in article.steps.iter().zip(bound) {
        let mut r = StepResult {
            file: article.path.clone(),
            line: step.line,
            step_number: step.step_number,
            label: b.mask(&step.label()),
            command: b.mask(&step.source()),
            output: String::new(),
            output_truncated: false,
            expected: step.expected.as_ref().map(|e| b.mask(&e.text)),
            exit_code: None,
            status: StepStatus::Passed,
            duration: Duration::ZERO,
            hidden: step.hidden,
        };
        let t0 = Instant::now();
        r.status = if let Some(reason) = &step.skip {
            StepStatus::Skipped {
                reason: reason.clone(),
            }
        } else if let StepKind::NotExecutable { reason } = &step.kind {
            StepStatus::NotExecutable {
                reason: reason.clone(),
            }
        } else {
            match bound {
                Err(missing) => StepStatus::Failed {
                    kind: FailureKind::Unbound,
                    message: format!("unbound placeholder {missing}: the step was not run"),
                },
                Ok(_) if Instant::now() >= deadline => StepStatus::Failed {
                    kind: FailureKind::Timeout,
                    message: format!(
                        "not run: the article's time limit of {:?} was reached",
                        ctx.options.article_timeout
                    ),
                },
                Ok(bound) => {
                    let limit = step
                        .timeout
                        .unwrap_or(ctx.options.step_timeout)
                        .min(deadline.saturating_duration_since(Instant::now()));
                    match &step.kind {
                        StepKind::Shell { .. } | StepKind::Command { .. } => {
                            if shell.is_none() {
                                shell = Some(Shell::new(ctx)?);
                            }
                            let sh = shell.as_mut().expect("just created");
                            run_shell(sh, step, &bound, limit, ctx, &mut r)?
                        }
                        StepKind::Http { expect_status, .. } => {
                            run_http(&bound, *expect_status, limit, ctx, &mut r)
                        }
                        _ => run_blueprint(step, &bound, ctx, &mut found, &mut r),
                    }
                }
            }
        };
        r.duration = t0.elapsed();
        if let StepStatus::Failed { message, .. } = &mut r.status {
            *message = b.mask(message);
        }
        results.push(r);
    }
    drop(shell);
    let visible: Vec<&StepResult> = results.iter().filter(|s| !s.hidden).collect();
    let total = visible.len();
    let executed = visible.iter().filter(|s| s.executed()).count();
    let failed = results
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Failed { .. }))
        .count();
    let skipped = visible
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Skipped { .. }))
        .count();
    let not_exec = visible
        .iter()
        .filter(|s| matches!(s.status, StepStatus::NotExecutable { .. }))
        .count();
    let share = if total == 0 {
        0.0
    } else {
        executed as f64 / total as f64
    };
    let mut problems = Vec::new();
    if total == 0 {
        problems.push("no steps found".to_string());
    } else if executed == 0 {
        problems.push("no step could be run".to_string());
    }
    if failed > 0 {
        problems.push(format!("{failed} failed"));
    }
    if total > 0 && share + 1e-9 < ctx.rules.min_executed_share {
        problems.push(format!(
            "executed share {:.0}% is below the required {:.0}%",
            share * 100.0,
            ctx.rules.min_executed_share * 100.0
        ));
    }
    let message = format!(
        "{executed} of {total} steps executed ({:.0}%): {} passed, {failed} failed, {skipped} skipped, {not_exec} not executable{}",
        share * 100.0,
        results
            .iter()
            .filter(|s| s.status == StepStatus::Passed)
            .count(),
        if problems.is_empty() {
            String::new()
        } else {
            format!(" — {}", problems.join("; "))
        }
    );
    let verdict = CheckResult {
        id: "kb.steps.reproduce".into(),
        file: article.path.clone(),
        line: results.first().map_or(article.front_line, |s| s.line),
        status: if problems.is_empty() { CheckStatus::Passed } else { CheckStatus::Failed },
        message,
        hint: (!problems.is_empty()).then(|| {
            "every step must reproduce: fix failing steps, tag code blocks bash/console/http, skip only with a stated reason".to_string()
        }),
        subject: None,
    };
    Ok(ArticleRun {
        file: article.path.clone(),
        steps: results,
        executed,
        total,
        verdict,
        duration: started.elapsed(),
    })
}

/// A step's texts with placeholders filled in.
struct Bound {
    main: String,
    expected: Option<String>,
    value: Option<String>,
}

fn bind(step: &Step, b: &Bindings) -> Result<Bound, String> {
    // (key, line) of every unbound placeholder, in order.
    let mut missing: Vec<(String, usize)> = Vec::new();
    let mut one = |t: &str, first_line: usize| match b.bind(t) {
        Ok(v) => v,
        Err(keys) => {
            for p in crate::placeholder::find(t) {
                if keys.contains(&p.key) && !missing.iter().any(|(k, _)| *k == p.key) {
                    missing.push((p.key, first_line + t[..p.range.start].matches('\n').count()));
                }
            }
            String::new()
        }
    };
    let l = step.text_line;
    let main = match &step.kind {
        StepKind::Shell { script } => one(script, l),
        StepKind::Command { command } => one(command, l),
        StepKind::Http { request, .. } => one(request, l),
        StepKind::FindBlueprint { name, .. } => one(name, l),
        StepKind::BlueprintParameter { name, .. } => one(name, l),
        StepKind::DeployBlueprint { blueprint } | StepKind::WatchQueue { blueprint } => {
            one(blueprint, l)
        }
        StepKind::NotExecutable { .. } => String::new(),
    };
    let expected = step.expected.as_ref().map(|e| one(&e.text, e.line));
    let value = match &step.kind {
        StepKind::BlueprintParameter { value: Some(v), .. } => Some(one(v, l)),
        _ => None,
    };
    if missing.is_empty() {
        Ok(Bound {
            main,
            expected,
            value,
        })
    } else {
        Err(missing
            .iter()
            .map(|(k, line)| format!("{{{{{k}}}}} at line {line}"))
            .collect::<Vec<_>>()
            .join(", "))
    }
}

/// The per-article shell state: a throwaway home/working directory, a private directory
/// for what steps write out on exit, the environment carried so far, and the process
/// groups to kill at the end.
struct Shell {
    /// Held for its `Drop`, which removes the directory with the article's files.
    _work: tempfile::TempDir,
    ctl: tempfile::TempDir,
    env: Vec<(String, String)>,
    carried: Vec<(String, String)>,
    cwd: PathBuf,
    bash: PathBuf,
    groups: Vec<i32>,
    counter: usize,
    sandbox: Option<(
        certify_sandbox::Sandbox,
        Option<Arc<certify_sandbox::RunNetwork>>,
    )>,
}

/// Run by `bash -c` around every step: reads the step's script from standard input,
/// runs it, and on exit writes the exported environment (`env -0`) and the working
/// directory to `$__CERTIFY_OUT.env` and `.cwd` for the harness to read back.
const PRELUDE: &str = r#"__certify_script="$(cat)"
exec </dev/null
__certify_save() {
  local __certify_rc=$?
  set +e +o pipefail
  env -0 > "$__CERTIFY_OUT.env" 2>/dev/null
  printf '%s' "$PWD" > "$__CERTIFY_OUT.cwd" 2>/dev/null
  exit $__certify_rc
}
trap __certify_save EXIT
set -eo pipefail
eval "$__certify_script"
"#;

/// Variables the harness sets for every step and that never carry from one step to the
/// next: they decide which programs run and how the shell starts, so carrying them
/// would let one step swap the commands of the steps after it.
pub const NEVER_CARRIED: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "PWD",
    "OLDPWD",
    "SHLVL",
    "_",
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "IFS",
    "GLOBIGNORE",
    "CDPATH",
    "PROMPT_COMMAND",
    "TERM",
    "LANG",
    "TZ",
];

/// Prefixes of variables that never carry (dynamic loader, harness internals).
const NEVER_CARRIED_PREFIXES: &[&str] = &["LD_", "__CERTIFY", "BASH_FUNC_"];

/// The most a step's saved environment may hold.
const MAX_CARRIED_BYTES: u64 = 256 * 1024;

/// The ordinary variables of an `env -0` dump: names that are identifiers (which also
/// drops `BASH_FUNC_name%%` exported functions), minus [`NEVER_CARRIED`].
fn carried_variables(dump: &[u8]) -> Vec<(String, String)> {
    dump.split(|&b| b == 0)
        .filter_map(|entry| {
            let entry = std::str::from_utf8(entry).ok()?;
            let (name, value) = entry.split_once('=')?;
            let identifier = name
                .chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
            let carried = identifier
                && !name.is_empty()
                && !NEVER_CARRIED.contains(&name)
                && !NEVER_CARRIED_PREFIXES.iter().any(|p| name.starts_with(p));
            carried.then(|| (name.to_string(), value.to_string()))
        })
        .collect()
}

/// Reads what a step wrote out, refusing anything but a small regular file (a step may
/// have replaced it with a symlink to a device or a secret).
fn read_step_output(path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_CARRIED_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_CARRIED_BYTES).then_some(bytes)
}

impl Shell {
    fn new(ctx: &RunContext<'_>) -> Result<Shell, KbError> {
        let work = tempfile::Builder::new()
            .prefix("certify-kb-work-")
            .tempdir()
            .map_err(|source| KbError::TempDir { source })?;
        let ctl = tempfile::Builder::new()
            .prefix("certify-kb-ctl-")
            .tempdir()
            .map_err(|source| KbError::TempDir { source })?;
        let home = work.path().display().to_string();
        // In a sandbox only the system's programs exist.
        let host_path = match ctx.options.sandbox {
            Some(_) => None,
            None => std::env::var("PATH").ok(),
        };
        let path = ctx
            .options
            .path
            .clone()
            .or(host_path)
            .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
        let mut env = vec![
            ("PATH".to_string(), path),
            ("HOME".to_string(), home.clone()),
            ("TMPDIR".to_string(), home),
            ("LANG".to_string(), "C.UTF-8".to_string()),
            ("TZ".to_string(), "UTC".to_string()),
            ("TERM".to_string(), "dumb".to_string()),
        ];
        let secrets = ctx.bindings.secrets();
        for (k, v) in ctx.bindings.iter() {
            if k.starts_with("secret.") || secrets.iter().any(|s| s == v) {
                continue;
            }
            // Named as the engine names a package's parameters.
            let name = certify_blueprint::shell_name(k);
            env.push((format!("CERTIFY_{name}"), v.to_string()));
        }
        env.extend(ctx.options.env.iter().cloned());
        let cwd = work.path().to_path_buf();
        Ok(Shell {
            _work: work,
            ctl,
            env,
            carried: Vec::new(),
            cwd,
            bash: ctx.options.bash.clone(),
            groups: Vec::new(),
            counter: 0,
            sandbox: ctx.options.sandbox.clone(),
        })
    }

    /// Takes over what the step that just ended wrote out; see [`PRELUDE`].
    fn carry_from(&mut self, out: &Path) {
        if let Some(dump) = read_step_output(&out.with_extension("env")) {
            // The harness's own variables are set again for every step.
            let own: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
            self.carried = carried_variables(&dump)
                .into_iter()
                .filter(|(k, _)| !own.contains(&k.as_str()))
                .collect();
        }
        if let Some(cwd) = read_step_output(&out.with_extension("cwd"))
            && let Ok(cwd) = String::from_utf8(cwd)
            && Path::new(&cwd).is_dir()
        {
            self.cwd = PathBuf::from(cwd);
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // Background processes a step left behind die with the article.
        for &g in &self.groups {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe {
                libc::kill(-g, libc::SIGKILL);
            }
        }
    }
}

/// The bash that runs one step: in the sandbox, where it sees its working directory and
/// the directory it writes its state to (both at their own paths) and the run network;
/// or as the harness's user.
fn shell_command(sh: &Shell, out: &Path) -> Command {
    let args = ["--noprofile", "--norc", "-c", PRELUDE, "certify-step"];
    let mut env: Vec<(String, String)> = sh.carried.clone();
    env.extend(sh.env.iter().cloned());
    env.push(("__CERTIFY_OUT".into(), out.display().to_string()));
    match &sh.sandbox {
        Some((sandbox, network)) => {
            let spec = certify_sandbox::Spec {
                writable: vec![sh._work.path().to_path_buf(), sh.ctl.path().to_path_buf()],
                cwd: Some(sh.cwd.clone()),
                env,
                host_network: network.is_none(),
                network: network.clone(),
                ..certify_sandbox::Spec::default()
            };
            let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
            sandbox.command(&spec, &sh.bash.to_string_lossy(), &args)
        }
        None => {
            let mut cmd = Command::new(&sh.bash);
            cmd.args(args).current_dir(&sh.cwd).env_clear().envs(env);
            cmd
        }
    }
}

#[derive(Default)]
struct Capture {
    bytes: Vec<u8>,
    truncated: bool,
}

fn run_shell(
    sh: &mut Shell,
    step: &Step,
    bound: &Bound,
    limit: Duration,
    ctx: &RunContext<'_>,
    r: &mut StepResult,
) -> Result<StepStatus, KbError> {
    sh.counter += 1;
    let out = sh.ctl.path().join(format!("step-{}", sh.counter));
    let (reader, writer) = std::io::pipe().map_err(|source| KbError::Spawn {
        program: sh.bash.clone(),
        source,
    })?;
    let writer2 = writer.try_clone().map_err(|source| KbError::Spawn {
        program: sh.bash.clone(),
        source,
    })?;
    let mut child = {
        let mut cmd = shell_command(sh, &out);
        cmd.stdin(Stdio::piped())
            .stdout(writer)
            .stderr(writer2)
            .process_group(0);
        // The command owns the write ends; dropping it with this scope lets the reader see EOF.
        cmd.spawn().map_err(|source| KbError::Spawn {
            program: sh.bash.clone(),
            source,
        })?
    };
    // The script goes in on standard input; the prelude reads it whole before running
    // it. A write error means bash is gone already, which its exit status will tell.
    if let Some(mut stdin) = child.stdin.take() {
        let script = bound.main.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(script.as_bytes());
        });
    }
    let pid = child.id() as i32;
    sh.groups.push(pid);
    let cap = Arc::new(Mutex::new(Capture::default()));
    let keep = ctx.options.max_output_bytes + 4096;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    {
        let cap = Arc::clone(&cap);
        let mut reader = reader;
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut c = cap.lock().expect("capture lock");
                let room = keep.saturating_sub(c.bytes.len());
                c.bytes.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    c.truncated = true;
                }
            }
            let _ = done_tx.send(());
        });
    }
    let (wait_tx, wait_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = wait_tx.send(child.wait());
    });
    let mut timed_out = false;
    let status = match wait_rx.recv_timeout(limit) {
        Ok(s) => s,
        Err(_) => {
            timed_out = true;
            // SAFETY: signals the step's process group; no memory involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            wait_rx
                .recv()
                .unwrap_or_else(|_| Err(std::io::Error::other("waiter thread vanished")))
        }
    }
    .map_err(|source| KbError::Spawn {
        program: sh.bash.clone(),
        source,
    })?;
    // A background job may hold the pipe open; don't wait on it for long.
    let _ = done_rx.recv_timeout(Duration::from_millis(if timed_out { 50 } else { 300 }));
    sh.carry_from(&out);
    let (output, truncated) = {
        let c = cap.lock().expect("capture lock");
        let masked = ctx.bindings.mask(&String::from_utf8_lossy(&c.bytes));
        let max = ctx.options.max_output_bytes;
        if masked.len() > max {
            let mut cut = max;
            while !masked.is_char_boundary(cut) {
                cut -= 1;
            }
            (masked[..cut].to_string(), true)
        } else {
            (masked, c.truncated)
        }
    };
    r.output = output;
    r.output_truncated = truncated;
    let code = status.code().or_else(|| status.signal().map(|s| 128 + s));
    r.exit_code = code;
    if timed_out {
        return Ok(StepStatus::Failed {
            kind: FailureKind::Timeout,
            message: format!("killed after the step's time limit of {limit:?}"),
        });
    }
    if code != Some(step.expect_exit) {
        let tail: Vec<&str> = r.output.lines().rev().take(5).collect();
        return Ok(StepStatus::Failed {
            kind: FailureKind::Exit,
            message: format!(
                "exited with {} (expected {}){}",
                code.map_or("a signal".to_string(), |c| c.to_string()),
                step.expect_exit,
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": {}",
                        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                    )
                }
            ),
        });
    }
    if let Some(exp) = &bound.expected {
        if truncated {
            return Ok(StepStatus::Failed {
                kind: FailureKind::Output,
                message: "output exceeded the limit and cannot be compared".into(),
            });
        }
        if let Err(why) = matching::matches(exp, &r.output) {
            let line = step.expected.as_ref().map_or(step.line, |e| e.line);
            return Ok(StepStatus::Failed {
                kind: FailureKind::Output,
                message: format!(
                    "output differs from the article (expected output at line {line}): {why}"
                ),
            });
        }
    }
    Ok(StepStatus::Passed)
}

fn run_http(
    bound: &Bound,
    expect: Option<u16>,
    limit: Duration,
    ctx: &RunContext<'_>,
    r: &mut StepResult,
) -> StepStatus {
    let req = match HttpRequest::parse(&bound.main) {
        Ok(q) => q,
        Err(e) => {
            return StepStatus::Failed {
                kind: FailureKind::Http,
                message: format!("not an HTTP request: {e}"),
            };
        }
    };
    let resp = match ctx.http.send(&req, limit) {
        Ok(resp) => resp,
        Err(e) => {
            return StepStatus::Failed {
                kind: FailureKind::Http,
                message: e,
            };
        }
    };
    let mut out = format!("HTTP {}\n{}", resp.status, resp.body);
    if out.len() > ctx.options.max_output_bytes {
        let mut cut = ctx.options.max_output_bytes;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        r.output_truncated = true;
    }
    r.output = ctx.bindings.mask(&out);
    let ok_status = match expect {
        Some(s) => resp.status == s,
        None => (200..300).contains(&resp.status),
    };
    if !ok_status {
        return StepStatus::Failed {
            kind: FailureKind::Http,
            message: format!(
                "{} {} answered {} (expected {})",
                req.method,
                req.url,
                resp.status,
                expect.map_or("2xx".to_string(), |s| s.to_string())
            ),
        };
    }
    if let Some(exp) = &bound.expected
        && let Err(why) = matching::matches(exp, &resp.body)
    {
        return StepStatus::Failed {
            kind: FailureKind::Output,
            message: format!("response body differs from the article: {why}"),
        };
    }
    StepStatus::Passed
}

fn run_blueprint(
    step: &Step,
    bound: &Bound,
    ctx: &RunContext<'_>,
    found: &mut HashMap<String, Option<BlueprintFacts>>,
    r: &mut StepResult,
) -> StepStatus {
    let Some(lib) = ctx.library else {
        return StepStatus::Skipped {
            reason: "no deployment in this run: Blueprint Library steps are reproduced inside `certify run`".into(),
        };
    };
    let fail = |message: String| StepStatus::Failed {
        kind: FailureKind::Blueprint,
        message,
    };
    let mut lookup = |name: &str, search: bool| -> Option<BlueprintFacts> {
        found
            .entry(name.to_string())
            .or_insert_with(|| {
                if search {
                    lib.search(name).into_iter().next()
                } else {
                    lib.find(name)
                }
            })
            .clone()
    };
    match &step.kind {
        StepKind::FindBlueprint { search, .. } => match lookup(&bound.main, *search) {
            Some(bp) => {
                r.output = format!(
                    "{}\nparameters: {}",
                    bp.name,
                    bp.parameters
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                StepStatus::Passed
            }
            None if *search => fail(format!(
                "a Blueprint Library search for \"{}\" finds nothing",
                bound.main
            )),
            None => fail(format!(
                "the Blueprint Library has no blueprint named \"{}\"",
                bound.main
            )),
        },
        StepKind::BlueprintParameter { blueprint, .. } => {
            let Some(bp) = found.get(blueprint.as_str()).cloned().flatten() else {
                return fail(format!(
                    "the blueprint \"{blueprint}\" was not found, so its parameters cannot be checked"
                ));
            };
            let want = bound.main.to_lowercase();
            let Some(p) = bp.parameters.iter().find(|p| p.name.to_lowercase() == want) else {
                return fail(format!(
                    "\"{}\" has no parameter \"{}\" (it has: {})",
                    bp.name,
                    bound.main,
                    bp.parameters
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            };
            match &bound.value {
                Some(v) => match p.validate(v) {
                    Ok(()) => {
                        r.output = format!("{} = {v}: valid", p.name);
                        StepStatus::Passed
                    }
                    Err(e) => fail(e),
                },
                None => {
                    r.output = format!("{} exists", p.name);
                    StepStatus::Passed
                }
            }
        }
        StepKind::DeployBlueprint { blueprint } | StepKind::WatchQueue { blueprint } => {
            let name = found
                .get(blueprint.as_str())
                .cloned()
                .flatten()
                .map_or_else(|| bound.main.clone(), |bp| bp.name);
            let outcome = lib.deployment(&name);
            let deploy = matches!(step.kind, StepKind::DeployBlueprint { .. });
            match outcome {
                DeploymentOutcome::NotDeployed => {
                    fail(format!("\"{name}\" was not deployed in this run"))
                }
                DeploymentOutcome::Submitted { request_id } if deploy => {
                    r.output = format!("request {request_id} submitted");
                    StepStatus::Passed
                }
                DeploymentOutcome::Submitted { request_id } => fail(format!(
                    "request {request_id} for \"{name}\" has not completed"
                )),
                DeploymentOutcome::Succeeded {
                    request_id,
                    servers,
                } => {
                    r.output = format!(
                        "request {request_id}: succeeded; servers: {}",
                        servers.join(", ")
                    );
                    StepStatus::Passed
                }
                DeploymentOutcome::Failed { request_id, .. } if deploy => {
                    r.output = format!("request {request_id} submitted");
                    StepStatus::Passed
                }
                DeploymentOutcome::Failed {
                    request_id,
                    message,
                } => fail(format!(
                    "request {request_id} for \"{name}\" failed: {message}"
                )),
            }
        }
        _ => StepStatus::NotExecutable {
            reason: "not a Blueprint Library step".into(),
        },
    }
}

/// Convenience for tests and callers: the bash in `PATH` exists.
pub fn bash_available(bash: &Path) -> bool {
    Command::new(bash)
        .arg("-c")
        .arg("true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(kind: ParameterType, options: &[&str], regex: Option<&str>) -> ParamFacts {
        ParamFacts {
            name: "P".into(),
            kind,
            required: true,
            regex: regex.map(str::to_string),
            options: options.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn values_are_judged_by_the_engine_s_check() {
        // Options are compared exactly, as the engine does.
        let mode = param(ParameterType::Option, &["fast", "safe"], None);
        assert!(mode.validate("fast").is_ok());
        assert_eq!(
            mode.validate("Fast").unwrap_err(),
            "\"Fast\" is not one of the options of \"P\": fast, safe"
        );
        // Types are checked.
        let port = param(ParameterType::Numeric, &[], None);
        assert!(port.validate("8080").is_ok());
        assert!(
            port.validate("eighty")
                .unwrap_err()
                .contains("is not a number")
        );
        let ip = param(ParameterType::ServerIp, &[], None);
        assert!(ip.validate("10.1.2.3").is_ok());
        assert!(ip.validate("web").is_err());
        // The whole value must match; a regex that does not compile refuses.
        let email = param(ParameterType::String, &[], Some("[a-z]+@[a-z]+"));
        assert!(email.validate("a@b").is_ok());
        assert!(
            email
                .validate("a@b!")
                .unwrap_err()
                .contains("does not match")
        );
        let bad = param(ParameterType::String, &[], Some("([a-z]"));
        assert!(bad.validate("a").unwrap_err().contains("is invalid"));
        assert_eq!(port.validate(" ").unwrap_err(), "\"P\" is required");
    }
}
