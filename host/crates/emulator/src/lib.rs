//! An embedded emulator of a CLC test account, faithful enough for the official SDKs.
//!
//! It speaks API v2 (JSON, bearer token) and the v1 Blueprint API over HTTP (axum on
//! tokio), keeps an account clock that runs `clock_scale` times faster than real time
//! (builds take minutes of account time, billing accrues on the same clock at the real price
//! list), runs blueprint packages either simulated or as real local processes
//! ([`ExecutionMode`], see [`exec`](self) module docs on what Local isolates), injects
//! reproducible faults ([`FaultSpec`]), and persists its state under a directory so a
//! restarted emulator still knows its account, servers and the month's charges.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use certify_emulator::{Emulator, FaultSpec};
//! let emulator = Emulator::builder()
//!     .clock_scale(600.0)
//!     .faults(FaultSpec::parse("5xx=0.1,seed=7").unwrap())
//!     .start("127.0.0.1:0".parse().unwrap())
//!     .await?;
//! let client = certify_clc::Client::builder(emulator.url(), emulator.credentials()).build()?;
//! client.login().await.unwrap();
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Local execution: what it isolates, and what it does not
//!
//! With [`ExecutionMode::Local`], Linux script packages (manifest mode `Ssh`) really run:
//! each server gets its own loopback address `127.x.y.z` as its internal IP (Linux routes
//! all of 127/8 to `lo`, so two servers can both listen on port 8080), and its own sandbox
//! directory `<state>/sandboxes/<server-id>/`. A run unzips the package there and runs its
//! command through `/bin/sh` in a new process group, with a cleared environment holding
//! `PATH`, `HOME`/`TMPDIR` (the sandbox), the system parameters `T3.Identity.User`,
//! `T3.Identity.Account`, `T3.Server.Name`, `T3.Server.IPAddress`, `T3.Server.Password`,
//! `T3.Datacenter` and the package's parameters, each also in shell form
//! (`T3_SERVER_IPADDRESS`). `${Variable}` in the command is substituted; without any, the
//! package parameters are passed as arguments in manifest order. The group is killed when
//! the package overruns 5 minutes of account time, when the server is deleted and when the
//! emulator shuts down.
//!
//! This is separation by convention, **not** a security boundary. Isolated: working
//! directory, `HOME`, `TMPDIR`, environment, the address each server is told to use, and
//! process lifetime. Not isolated: processes run as the emulator's user, see and can write
//! the whole file system that user can, can bind any address (another server's too), reach
//! the network and the internet, have no CPU/memory/disk limits; a process that calls
//! `setsid` escapes its group and outlives its server; nothing survives an emulator
//! restart. Public IPs are documentation addresses (RFC 5737) and do not route to the
//! process. Run only packages you would run in your own shell.
//!
//! # Emulator-only endpoints
//!
//! The real platform has no public API to upload package files or to register blueprints
//! (the portal and FTP do that), so the emulator adds three, under `/emulator/` and never
//! faulted: `POST /emulator/packages/{alias}?name=FILE.zip` (body: the zip; it then waits
//! to be published with v1 `PublishPackage`), `POST /emulator/blueprints/{alias}` (body:
//! the `bpformation` JSON; answers `{"id", "name"}`), and
//! `GET /emulator/servers/{alias}/{id}/buildLog` (`{"lines": [...]}`).

mod auth;
mod billing;
mod clock;
mod exec;
pub mod faults;
mod server;
pub(crate) mod state;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use clock::AccountClock;

pub use faults::{EndpointClass, FaultSpec, FaultSpecError, Faults};

use certify_clc::Credentials;
use state::State;

/// The templates the emulated account offers in every data center, as its
/// deployment capabilities list them. `certify plan` prices a blueprint's
/// storage from them without asking any account.
pub fn templates() -> Vec<certify_clc::model::Template> {
    use certify_clc::model::Template;
    use state::TEMPLATES;
    TEMPLATES
        .iter()
        .map(|(name, os, desc, gb)| Template {
            name: name.to_string(),
            os_type: os.to_string(),
            description: desc.to_string(),
            storage_size_gb: *gb,
            capabilities: vec!["cpuAutoscale".into()],
            reserved_drive_paths: if os.starts_with("windows") {
                vec!["a".into(), "b".into(), "c".into(), "d".into()]
            } else {
                vec![
                    "bin".into(),
                    "boot".into(),
                    "dev".into(),
                    "etc".into(),
                    "lib".into(),
                    "proc".into(),
                    "usr".into(),
                    "var".into(),
                ]
            },
        })
        .collect()
}

/// How blueprint packages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutionMode {
    /// Validated, timed on the account clock and recorded in the build log; nothing runs.
    #[default]
    Simulated,
    /// Linux script packages really run as local processes, one sandbox directory and one
    /// loopback address per server. See the `exec` module docs for what this isolates.
    Local,
}

/// Why the emulator could not start or persist.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The state directory is unusable.
    #[error("state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The saved state does not parse.
    #[error("saved state {path} is unreadable: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}

/// Everything the tasks and handlers share.
pub(crate) struct Shared {
    state: Mutex<State>,
    clock: AccountClock,
    faults: Arc<Faults>,
    exec: Arc<exec::Supervisor>,
    data_dir: PathBuf,
    state_file: Option<PathBuf>,
    alias: String,
    signing_key: String,
    dirty: AtomicBool,
    dirty_notify: Notify,
    wake: Notify,
    polls: Mutex<std::collections::HashMap<String, u64>>,
    _temp: Option<tempfile::TempDir>,
}

impl Shared {
    /// Runs `f` on the state at the current account time, after processing due events;
    /// `mutates` marks the state for saving. Spawns and kills that the state asked for
    /// run after the lock is released.
    fn with<R>(
        self: &Arc<Self>,
        mutates: bool,
        f: impl FnOnce(&mut State, DateTime<Utc>) -> R,
    ) -> R {
        let now = self.clock.now();
        let (r, changed, effects) = {
            let mut st = self.state.lock().expect("state lock poisoned");
            let changed = st.advance(now);
            let r = f(&mut st, now);
            (r, changed, std::mem::take(&mut st.effects))
        };
        if changed || mutates {
            self.dirty.store(true, Ordering::Release);
            self.dirty_notify.notify_one();
        }
        if mutates {
            self.wake.notify_one();
        }
        self.run_effects(effects);
        r
    }

    fn run_effects(self: &Arc<Self>, effects: state::Effects) {
        for server in effects.kills {
            self.exec.kill_server(&server);
        }
        for req in effects.spawns {
            let limit = self.clock.real_duration(req.limit);
            let weak = Arc::downgrade(self);
            let (op, step, server) = (req.op, req.step, req.server_id.clone());
            self.exec.spawn(
                req,
                limit,
                Box::new(move |result, lines| {
                    if let Some(sh) = weak.upgrade() {
                        sh.with(true, |st, now| {
                            if let Some(s) = st.servers.get_mut(&server) {
                                for l in lines {
                                    s.log(now, format!("  | {l}"));
                                }
                            }
                            st.finish_step(op, step, now, result);
                        });
                    }
                }),
            );
        }
    }

    fn count_poll(&self, status_id: &str) {
        *self
            .polls
            .lock()
            .expect("poll lock poisoned")
            .entry(status_id.to_ascii_lowercase())
            .or_default() += 1;
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let bytes = {
            let mut st = self.state.lock().expect("state lock poisoned");
            st.ops.account_time = self.clock.now();
            serde_json::to_vec(&*st).map_err(std::io::Error::other)?
        };
        // Written aside then renamed, so a crash never leaves half a state file.
        let tmp = path.with_extension("json.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

/// Entry point: [`Emulator::builder`].
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults: in-memory state, clock scale 60, no faults, simulated
    /// execution, alias `CERT`, user `certify`, a generated password, primary DC `VA1`.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configures and starts an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    state_dir: Option<PathBuf>,
    clock_scale: f64,
    faults: FaultSpec,
    execution: ExecutionMode,
    alias: String,
    username: String,
    password: Option<String>,
    primary_dc: String,
    save_interval: Duration,
    sandbox: Option<exec::Sandboxed>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            state_dir: None,
            clock_scale: 60.0,
            faults: FaultSpec::none(),
            execution: ExecutionMode::Simulated,
            alias: "CERT".into(),
            username: "certify".into(),
            password: None,
            primary_dc: "VA1".into(),
            save_interval: Duration::from_millis(200),
            sandbox: None,
        }
    }
}

impl EmulatorBuilder {
    /// Persist the state (and uploaded packages, sandboxes) under this directory; a later
    /// emulator started on the same directory carries on from it.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// How many times faster than real time the account clock runs (default 60: a 3-minute
    /// build takes 3 seconds).
    pub fn clock_scale(mut self, scale: f64) -> Self {
        self.clock_scale = scale;
        self
    }

    /// Faults to inject.
    pub fn faults(mut self, faults: FaultSpec) -> Self {
        self.faults = faults;
        self
    }

    /// How packages run.
    pub fn execution(mut self, mode: ExecutionMode) -> Self {
        self.execution = mode;
        self
    }

    /// Run Local packages in `sandbox`, each server on its own address of `network`
    /// (without this, they run unsandboxed as this process's user).
    pub fn sandbox(
        mut self,
        sandbox: certify_sandbox::Sandbox,
        network: Arc<certify_sandbox::RunNetwork>,
    ) -> Self {
        self.sandbox = Some(exec::Sandboxed { sandbox, network });
        self
    }

    /// The account alias (2–4 letters); used only when the state is new.
    pub fn account_alias(mut self, alias: &str) -> Self {
        self.alias = alias.to_ascii_uppercase();
        self
    }

    /// The API user's credentials; they replace saved ones.
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.username = username.to_string();
        self.password = Some(password.to_string());
        self
    }

    /// The primary data center (default `VA1`); used only when the state is new.
    pub fn primary_data_center(mut self, dc: &str) -> Self {
        self.primary_dc = dc.to_ascii_uppercase();
        self
    }

    /// How often, at most, the state is written to disk (default 200 ms).
    pub fn save_interval(mut self, interval: Duration) -> Self {
        self.save_interval = interval;
        self
    }

    /// Starts serving on `addr` (use port 0 for a free port).
    pub async fn start(self, addr: SocketAddr) -> Result<RunningEmulator, EmulatorError> {
        let (temp, data_dir) = match &self.state_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("certify-emulator-")
                    .tempdir()
                    .map_err(|source| EmulatorError::StateDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        for sub in ["", "pending", "packages", "sandboxes"] {
            let p = data_dir.join(sub);
            std::fs::create_dir_all(&p)
                .map_err(|source| EmulatorError::StateDir { path: p, source })?;
        }
        let state_file = self.state_dir.as_ref().map(|d| d.join("state.json"));
        let faults = Arc::new(Faults::new(self.faults.clone()));
        let mut st = match state_file.as_deref().filter(|p| p.exists()) {
            Some(p) => load(p)?,
            None => State::new(
                &self.alias,
                &self.username,
                self.password
                    .as_deref()
                    .unwrap_or(&state::generate_password()),
                &self.primary_dc,
                Utc::now(),
            ),
        };
        if let Some(pw) = &self.password {
            st.account.username = self.username.clone();
            st.account.password = pw.clone();
        }
        st.local_exec = self.execution == ExecutionMode::Local;
        st.run_network = self.sandbox.is_some();
        st.faults = faults.clone();
        st.reindex();
        let clock = AccountClock::new(st.ops.account_time, self.clock_scale);
        let shared = Arc::new(Shared {
            alias: st.account.alias.clone(),
            signing_key: st.account.signing_key.clone(),
            state: Mutex::new(st),
            clock,
            faults,
            exec: Arc::new(exec::Supervisor::new(&data_dir, self.sandbox.clone())),
            data_dir,
            state_file,
            dirty: AtomicBool::new(true),
            dirty_notify: Notify::new(),
            wake: Notify::new(),
            polls: Mutex::new(Default::default()),
            _temp: temp,
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(accept_loop(listener, shared.clone(), stop_rx.clone())),
            tokio::spawn(ticker(shared.clone(), stop_rx.clone())),
            tokio::spawn(saver(shared.clone(), stop_rx, self.save_interval)),
        ];
        // Effects of the restart itself (failed steps) are processed now.
        shared.with(false, |_, _| ());
        tracing::info!(addr = %local, alias = %shared.alias, "CLC emulator listening");
        Ok(RunningEmulator {
            shared,
            addr: local,
            stop: stop_tx,
            tasks,
        })
    }
}

fn load(path: &Path) -> Result<State, EmulatorError> {
    let bytes = std::fs::read(path).map_err(|source| EmulatorError::StateDir {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EmulatorError::Corrupt {
        path: path.to_path_buf(),
        source,
    })
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let router = server::router(shared);
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let drop_signal = server::DropSignal(Arc::new(Notify::new()));
            let signal = drop_signal.clone();
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    // Paths are case-insensitive on the real API: route on the lower-cased path.
                    let uri = req.uri();
                    let lowered = uri.path().to_ascii_lowercase();
                    if lowered != uri.path() {
                        let pq = match uri.query() {
                            Some(q) => format!("{lowered}?{q}"),
                            None => lowered,
                        };
                        if let Ok(new) = pq.parse() {
                            *req.uri_mut() = new;
                        }
                    }
                    req.extensions_mut().insert(signal.clone());
                    let router = router.clone();
                    async move {
                        use tower::ServiceExt;
                        router.oneshot(req.map(axum::body::Body::new)).await
                    }
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = drop_signal.0.notified() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn ticker(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = shared
            .state
            .lock()
            .expect("state lock poisoned")
            .ops
            .next_event_at();
        let wait = match next {
            Some(at) => shared
                .clock
                .real_duration(at - shared.clock.now())
                .clamp(Duration::from_millis(1), Duration::from_secs(1)),
            None => Duration::from_secs(1),
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.wake.notified() => {}
            _ = stop.changed() => return,
        }
        shared.with(false, |_, _| ());
    }
}

async fn saver(shared: Arc<Shared>, mut stop: watch::Receiver<bool>, interval: Duration) {
    loop {
        tokio::select! {
            _ = shared.dirty_notify.notified() => {}
            _ = stop.changed() => return,
        }
        tokio::time::sleep(interval).await;
        if shared.dirty.swap(false, Ordering::AcqRel) {
            let sh = shared.clone();
            let r = tokio::task::spawn_blocking(move || sh.save()).await;
            if let Ok(Err(e)) = r {
                tracing::warn!(error = %e, "cannot save the emulator state");
            }
        }
    }
}

/// A running emulator. Dropping it stops the tasks without a final save; call
/// [`RunningEmulator::shutdown`] to save and kill local processes.
pub struct RunningEmulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .field("alias", &self.shared.alias)
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// Base URL of the API, e.g. `http://127.0.0.1:43121` (v2 under `/v2`, v1 under `/REST`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API user's credentials.
    pub fn credentials(&self) -> Credentials {
        let st = self.shared.state.lock().expect("state lock poisoned");
        Credentials::new(&st.account.username, &st.account.password)
    }

    /// The account alias.
    pub fn account_alias(&self) -> &str {
        &self.shared.alias
    }

    /// The current account time.
    pub fn account_time(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// The account clock's scale.
    pub fn clock_scale(&self) -> f64 {
        self.shared.clock.scale()
    }

    /// How many times a queue status id was polled (to check clients' polling discipline).
    pub fn status_polls(&self, status_id: &str) -> u64 {
        self.shared
            .polls
            .lock()
            .expect("poll lock poisoned")
            .get(&status_id.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// The build log of a server (also served at `/emulator/servers/{alias}/{id}/buildLog`).
    pub fn build_log(&self, server: &str) -> Option<Vec<String>> {
        self.shared.with(false, |st, _| {
            st.servers.find(server).map(|s| s.build_log.clone())
        })
    }

    /// The account's charges so far this account month, deleted servers included.
    pub fn month_to_date(&self) -> f64 {
        self.shared.with(true, |st, now| {
            st.account_month_total(&state::month_key(now), now)
        })
    }

    /// How many 500s and dropped connections the fault spec injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.shared.faults.injected()
    }

    /// The sandbox directory of a server (Local execution).
    pub fn sandbox_dir(&self, server: &str) -> PathBuf {
        self.shared.exec.sandbox(&server.to_ascii_lowercase())
    }

    /// Stops serving, kills local package processes and saves the state.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut self.tasks);
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
        self.shared.exec.kill_all();
        let sh = self.shared.clone();
        match tokio::task::spawn_blocking(move || sh.save()).await {
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot save the emulator state"),
            Err(e) => tracing::warn!(error = %e, "state save task failed"),
            Ok(Ok(())) => {}
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
        self.shared.exec.kill_all();
    }
}

/// Configuration of a standalone emulator (`certify emulator serve`).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (`--addr`, e.g. `127.0.0.1:8787`).
    pub addr: SocketAddr,
    /// Directory to persist state in (`--state DIR`); in memory when absent.
    pub state_dir: Option<PathBuf>,
    /// Account clock scale (`--clock-scale N`).
    pub clock_scale: f64,
    /// Faults (`--faults SPEC`, see [`FaultSpec`]).
    pub faults: FaultSpec,
    /// Package execution (`--execution simulated|local`).
    pub execution: ExecutionMode,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            state_dir: None,
            clock_scale: 60.0,
            faults: FaultSpec::none(),
            execution: ExecutionMode::Simulated,
        }
    }
}

/// Runs an emulator until Ctrl-C, printing its URL and credentials to stdout at start,
/// then saves its state.
pub async fn serve(config: ServeConfig) -> Result<(), EmulatorError> {
    let mut builder = Emulator::builder()
        .clock_scale(config.clock_scale)
        .faults(config.faults.clone())
        .execution(config.execution);
    if let Some(dir) = &config.state_dir {
        builder = builder.state_dir(dir);
    }
    let emulator = builder.start(config.addr).await?;
    let creds = emulator.credentials();
    println!("CLC emulator listening on {}", emulator.url());
    println!("  v2 API:        {}/v2", emulator.url());
    println!("  v1 API:        {}/REST", emulator.url());
    println!("  account alias: {}", emulator.account_alias());
    println!("  username:      {}", creds.username());
    println!("  password:      {}", creds.password().expose());
    println!("  clock scale:   {}x", emulator.clock_scale());
    if !config.faults.is_empty() {
        println!("  faults:        {}", config.faults);
    }
    match &config.state_dir {
        Some(d) => println!("  state:         {}", d.display()),
        None => println!("  state:         in memory (lost at exit)"),
    }
    println!("Press Ctrl-C to stop.");
    let r = tokio::signal::ctrl_c().await.map_err(EmulatorError::Signal);
    emulator.shutdown().await;
    r
}
