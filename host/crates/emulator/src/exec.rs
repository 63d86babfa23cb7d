//! Local package execution: Linux script packages really run, as processes on this host.
//!
//! In [`ExecutionMode::Local`](super::ExecutionMode::Local) every emulated server gets
//! its own loopback address (`127.x.y.z`, which Linux routes to `lo` without any setup) as
//! its internal IP, and its own sandbox directory `<data>/sandboxes/<server-id>/`. A package
//! run unzips the package into `<sandbox>/packages/<uuid>-<request>/` and runs its
//! `Execution/Command` there through `/bin/sh`, with:
//!
//! - `${Variable}` in the command replaced by parameter values; when the command has no
//!   `${...}`, the package's own parameters are passed as arguments in manifest order;
//! - a cleared environment holding only `PATH`, `HOME` (the sandbox), `TMPDIR`, `LANG`,
//!   the system parameters `T3.Identity.User`, `T3.Identity.Account`, `T3.Server.Name`,
//!   `T3.Server.IPAddress`, `T3.Server.Password`, `T3.Datacenter`, and every package
//!   parameter — each under its own name and again in shell-friendly form
//!   (`T3_SERVER_IPADDRESS`);
//! - its own process group, which is killed when the package overruns the Blueprint
//!   Engine's 5-minute limit (in account time), when the server is deleted, and when the
//!   emulator shuts down. A script that leaves a daemon behind (`nohup ... &`) keeps it
//!   running in that group until then, so a deployed product can be reached on
//!   `<server address>:<port>`.
//!
//! # What Local isolates, and what it does not
//!
//! With a sandbox ([`EmulatorBuilder::sandbox`](super::EmulatorBuilder::sandbox), what
//! `certify run` uses), each package runs in its own `certify-sandbox` sandbox on the run's
//! private network: its server's address is a `10.88.x.y` of that network, it sees the
//! system directories read-only and its server's directory writable, its environment is
//! the list above (with `PATH` the system's), and it has resource limits; the server's
//! directory has a disk quota ([`certify_sandbox::DiskQuota`]), and going over it stops
//! everything the server runs and fails the package that was running. The sandbox
//! stays up after the script exits, with what the script started, until the server is
//! deleted: then the sandbox's pid namespace takes everything in it down, daemons that
//! called `setsid` included.
//!
//! Without one, packages are separated by *convention*, not by force: they run as the
//! emulator's own user, see the whole file system, reach the network, can bind any
//! address, have no limits, and a process that calls `setsid` escapes its group. That is
//! for packages you would run in your own shell only.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::state::SpawnRequest;
use certify_blueprint::shell_name;

/// Runs package processes and remembers their process groups per server.
#[derive(Debug)]
pub(crate) struct Supervisor {
    data_dir: PathBuf,
    groups: Arc<Mutex<HashMap<String, Vec<i32>>>>,
    sandboxed: Option<Sandboxed>,
    /// The disk quota watch of each sandboxed server's directory.
    quotas: Mutex<HashMap<String, certify_sandbox::Watch>>,
}

/// The sandbox packages run in, and the run network their servers' addresses are on.
#[derive(Debug, Clone)]
pub(crate) struct Sandboxed {
    pub sandbox: certify_sandbox::Sandbox,
    pub network: Arc<certify_sandbox::RunNetwork>,
}

/// Runs inside a package's sandbox: runs the package's script (`$1`, its arguments after
/// it) without descriptor 3, reports its exit status on descriptor 3, and then keeps the
/// sandbox up, so that what the script started keeps running until its server is
/// deleted (which kills the sandbox, and everything in it with its pid namespace).
const IN_SANDBOX: &str = r#"s=$1; shift
/bin/sh -c "$s" sh "$@" 3>&-
echo $? >&3
exec 3>&-
exec sleep infinity"#;

/// What a finished run reports back: the outcome and the output lines for the build log.
pub(crate) type Completion = Box<dyn FnOnce(Result<(), String>, Vec<String>) + Send>;

impl Supervisor {
    /// A supervisor for `data_dir`. Process groups a previous emulator on the
    /// same state started (and that are still running in its sandboxes) are
    /// taken over, so that deleting their server still stops them.
    pub fn new(data_dir: &Path, sandboxed: Option<Sandboxed>) -> Self {
        let supervisor = Supervisor {
            data_dir: data_dir.to_path_buf(),
            groups: Arc::new(Mutex::new(HashMap::new())),
            sandboxed,
            quotas: Mutex::new(HashMap::new()),
        };
        let recorded: HashMap<String, Vec<i32>> = std::fs::read(supervisor.groups_file())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let sandboxes = data_dir.join("sandboxes");
        let sandboxes = sandboxes.canonicalize().unwrap_or(sandboxes);
        let alive: HashMap<String, Vec<i32>> = recorded
            .into_iter()
            .map(|(server, groups)| {
                let live = groups
                    .into_iter()
                    .filter(|g| group_runs_in(*g, &sandboxes))
                    .collect::<Vec<_>>();
                (server, live)
            })
            .filter(|(_, g)| !g.is_empty())
            .collect();
        *supervisor.groups.lock().expect("poisoned") = alive;
        supervisor.save();
        supervisor
    }

    fn groups_file(&self) -> PathBuf {
        self.data_dir.join("process-groups.json")
    }

    /// Record the process groups, so that a restarted emulator can stop them.
    fn save(&self) {
        let groups = self.groups.lock().expect("poisoned").clone();
        if let Ok(bytes) = serde_json::to_vec(&groups) {
            let path = self.groups_file();
            let tmp = path.with_extension("json.tmp");
            if std::fs::create_dir_all(&self.data_dir).is_ok()
                && std::fs::write(&tmp, bytes).is_ok()
            {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
    }

    /// The sandbox directory of a server.
    pub fn sandbox(&self, server_id: &str) -> PathBuf {
        self.data_dir.join("sandboxes").join(server_id)
    }

    /// Starts a package run; `done` is called when it exits or overruns `limit_real`.
    pub fn spawn(
        self: &std::sync::Arc<Self>,
        req: SpawnRequest,
        limit_real: Duration,
        done: Completion,
    ) {
        let this = self.clone();
        tokio::spawn(async move {
            let (result, lines) = match this.run(&req, limit_real).await {
                Ok(r) => r,
                Err(e) => (Err(e), Vec::new()),
            };
            done(result, lines);
        });
    }

    async fn run(
        &self,
        req: &SpawnRequest,
        limit_real: Duration,
    ) -> Result<(Result<(), String>, Vec<String>), String> {
        let sandbox = self.sandbox(&req.server_id);
        let dir = sandbox.join("packages").join(format!(
            "{}-{}-{}",
            req.manifest.uuid.to_ascii_lowercase(),
            req.op,
            req.step
        ));
        let tmp = sandbox.join("tmp");
        for d in [&dir, &tmp] {
            std::fs::create_dir_all(d)
                .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        }
        let zip = std::fs::read(self.data_dir.join("packages").join(&req.package_file))
            .map_err(|e| format!("cannot read package file: {e}"))?;
        certify_blueprint::unzip_into(&zip, &dir).map_err(|e| e.to_string())?;

        let mut values: BTreeMap<String, String> = BTreeMap::new();
        values.insert("T3.Identity.User".into(), req.username.clone());
        values.insert("T3.Identity.Account".into(), req.alias.clone());
        values.insert("T3.Server.Name".into(), req.server_name.clone());
        values.insert("T3.Server.IPAddress".into(), req.address.clone());
        values.insert("T3.Server.Password".into(), req.password.clone());
        values.insert("T3.Datacenter".into(), req.dc.clone());
        for (k, v) in &req.params {
            values.insert(k.clone(), v.clone());
        }
        let (script, args) = command_line(&req.manifest, &values, &dir);

        let log_path = dir.join("output.log");
        let log =
            std::fs::File::create(&log_path).map_err(|e| format!("cannot create log: {e}"))?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let result = match &self.sandboxed {
            Some(sb) => {
                let mut env = vec![
                    (
                        "PATH".to_string(),
                        "/usr/local/bin:/usr/bin:/bin".to_string(),
                    ),
                    ("HOME".to_string(), sandbox.display().to_string()),
                    ("TMPDIR".to_string(), "/tmp".to_string()),
                    ("LANG".to_string(), "C.UTF-8".to_string()),
                ];
                for (k, v) in &values {
                    env.push((k.clone(), v.clone()));
                    env.push((shell_name(k), v.clone()));
                }
                let spec = certify_sandbox::Spec {
                    writable: vec![sandbox.clone()],
                    cwd: Some(dir.clone()),
                    env,
                    network: Some(sb.network.clone()),
                    ..certify_sandbox::Spec::default()
                };
                self.run_sandboxed(
                    req,
                    &sb.sandbox,
                    &spec,
                    (script, args),
                    (log, log2),
                    limit_real,
                )
                .await?
            }
            None => {
                let mut cmd = tokio::process::Command::new("/bin/sh");
                cmd.arg("-c")
                    .arg(&script)
                    .arg("sh")
                    .args(&args)
                    .current_dir(&dir)
                    .env_clear()
                    .env(
                        "PATH",
                        std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
                    )
                    .env("HOME", &sandbox)
                    .env("TMPDIR", &tmp)
                    .env("LANG", "C.UTF-8")
                    .stdin(std::process::Stdio::null())
                    .stdout(log)
                    .stderr(log2)
                    .process_group(0)
                    .kill_on_drop(false);
                for (k, v) in &values {
                    cmd.env(k, v);
                    cmd.env(shell_name(k), v);
                }
                self.run_unsandboxed(req, cmd, limit_real).await?
            }
        };
        let output = read_log(&log_path);
        let lines: Vec<String> = output.lines().map(str::to_string).collect();
        let tail = lines[lines.len().saturating_sub(200)..].to_vec();
        Ok((result, tail))
    }

    async fn run_unsandboxed(
        &self,
        req: &SpawnRequest,
        mut cmd: tokio::process::Command,
        limit_real: Duration,
    ) -> Result<Result<(), String>, String> {
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the package: {e}"))?;
        if let Some(pid) = child.id() {
            self.groups
                .lock()
                .expect("poisoned")
                .entry(req.server_id.clone())
                .or_default()
                .push(pid as i32);
            self.save();
        }
        let result = match tokio::time::timeout(limit_real, child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!(
                "package {} failed: exit code {}",
                req.manifest.name,
                status
                    .code()
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "signal".into())
            )),
            Ok(Err(e)) => Err(format!(
                "package {} could not be waited on: {e}",
                req.manifest.name
            )),
            Err(_) => {
                if let Some(pid) = child.id() {
                    kill_group(pid as i32);
                }
                Err(format!(
                    "package {} exceeded the maximum package execution time of 5 minutes",
                    req.manifest.name
                ))
            }
        };
        Ok(result)
    }

    /// Runs a package in its own sandbox on the run network (see [`IN_SANDBOX`]): done
    /// when its script has exited, while the sandbox stays up with what it started.
    async fn run_sandboxed(
        &self,
        req: &SpawnRequest,
        sandbox: &certify_sandbox::Sandbox,
        spec: &certify_sandbox::Spec,
        (script, args): (String, Vec<String>),
        (log, log2): (std::fs::File, std::fs::File),
        limit_real: Duration,
    ) -> Result<Result<(), String>, String> {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let (mut status_rx, status_tx) =
            std::io::pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
        let mut argv: Vec<std::ffi::OsString> =
            vec!["-c".into(), IN_SANDBOX.into(), "sh".into(), script.into()];
        argv.extend(args.into_iter().map(Into::into));
        let spec = certify_sandbox::Spec {
            fd3: Some(status_tx.as_raw_fd()),
            ..spec.clone()
        };
        let mut cmd = sandbox.command(&spec, "/bin/sh", &argv);
        cmd.stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0);
        let child = tokio::process::Command::from(cmd)
            .kill_on_drop(false)
            .spawn()
            .map_err(|e| format!("cannot start the package's sandbox: {e}"))?;
        drop(status_tx);
        let pid = child.id().map(|p| p as i32);
        if let Some(pid) = pid {
            self.groups
                .lock()
                .expect("poisoned")
                .entry(req.server_id.clone())
                .or_default()
                .push(pid);
            self.save();
            self.watch_disk(&req.server_id);
        }
        // The status is one short line; more is a package forging it and is cut off.
        let reader = tokio::task::spawn_blocking(move || {
            let mut text = String::new();
            let _ = (&mut status_rx).take(32).read_to_string(&mut text);
            text
        });
        let name = &req.manifest.name;
        Ok(match tokio::time::timeout(limit_real, reader).await {
            Ok(Ok(text)) => match text.trim().parse::<i32>() {
                Ok(0) => Ok(()),
                _ if self.over_quota(&req.server_id) => Err(format!(
                    "package {name} failed: it filled its server's directory past the disk quota ({}), and the server's processes were stopped",
                    certify_sandbox::DiskQuota::default()
                )),
                Ok(code) => Err(format!("package {name} failed: exit code {code}")),
                Err(_) => Err(format!("package {name} failed: its sandbox ended early")),
            },
            Ok(Err(e)) => Err(format!("package {name} could not be waited on: {e}")),
            Err(_) => {
                if let Some(pid) = pid {
                    kill_group(pid);
                }
                Err(format!(
                    "package {name} exceeded the maximum package execution time of 5 minutes"
                ))
            }
        })
    }

    /// Starts watching a sandboxed server's directory against the disk quota, once per
    /// server: going over it stops everything the server runs, as a full disk would.
    fn watch_disk(&self, server_id: &str) {
        let mut quotas = self.quotas.lock().expect("poisoned");
        if quotas.contains_key(server_id) {
            return;
        }
        let groups = self.groups.clone();
        let server = server_id.to_string();
        let quota = certify_sandbox::DiskQuota::default();
        let watch = quota.watch(self.sandbox(server_id), move |usage| {
            tracing::warn!(
                server = %server,
                bytes = usage.bytes,
                entries = usage.entries,
                "a server went over its disk quota; its processes are stopped"
            );
            let pids = groups.lock().expect("poisoned").get(&server).cloned();
            for pgid in pids.unwrap_or_default() {
                kill_group(pgid);
            }
        });
        match watch {
            Ok(w) => {
                quotas.insert(server_id.to_string(), w);
            }
            Err(e) => tracing::warn!("cannot watch a server's disk use: {e}"),
        }
    }

    fn over_quota(&self, server_id: &str) -> bool {
        let quotas = self.quotas.lock().expect("poisoned");
        quotas.get(server_id).is_some_and(|w| w.exceeded())
    }

    /// Kills every process group of a server and removes its sandbox.
    pub fn kill_server(&self, server_id: &str) {
        self.quotas.lock().expect("poisoned").remove(server_id);
        let groups = self.groups.lock().expect("poisoned").remove(server_id);
        for pgid in groups.unwrap_or_default() {
            kill_group(pgid);
        }
        self.save();
        let _ = std::fs::remove_dir_all(self.sandbox(server_id));
    }

    /// Kills every process group (emulator shutdown).
    pub fn kill_all(&self) {
        self.quotas.lock().expect("poisoned").clear();
        let all: Vec<i32> = self
            .groups
            .lock()
            .expect("poisoned")
            .drain()
            .flat_map(|(_, g)| g)
            .collect();
        for pgid in all {
            kill_group(pgid);
        }
        self.save();
    }
}

/// The package's log, at most its last megabyte. The package could have swapped the file
/// for a symlink to something of the harness's user: symlinks are not followed.
fn read_log(path: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::OpenOptionsExt;
    const MAX: u64 = 1 << 20;
    let Ok(mut file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    else {
        return String::new();
    };
    let Ok(meta) = file.metadata() else {
        return String::new();
    };
    if !meta.is_file() {
        return String::new();
    }
    let _ = file.seek(SeekFrom::Start(meta.len().saturating_sub(MAX)));
    let mut bytes = Vec::new();
    let _ = file.take(MAX).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether some process of group `pgid` still runs with its working directory
/// in `sandboxes`: a recorded group id is only trusted while it is still ours
/// (process ids are reused).
fn group_runs_in(pgid: i32, sandboxes: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            return false;
        };
        // The process group is the 5th field of /proc/<pid>/stat, after the
        // command name, which is in parentheses and may contain spaces.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            return false;
        };
        let pgrp = after
            .split_whitespace()
            .nth(2)
            .and_then(|f| f.parse::<i32>().ok());
        pgrp == Some(pgid)
            && std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd.starts_with(sandboxes))
    })
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn kill_group(pgid: i32) {
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) with a negative pid signals a process group we created with
    // process_group(0); it has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// `T3.Server.IPAddress` → `T3_SERVER_IPADDRESS`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The shell script and positional arguments for a package's command.
fn command_line(
    manifest: &certify_blueprint::Manifest,
    values: &BTreeMap<String, String>,
    dir: &Path,
) -> (String, Vec<String>) {
    let mut command = manifest.execution.command.trim().to_string();
    // "install.sh" means the file shipped in the package, as the engine runs it.
    if let Some(first) = command.split_whitespace().next()
        && !first.contains('/')
        && dir.join(first).is_file()
    {
        command = format!("./{command}");
    }
    if command.contains("${") {
        let re = regex::Regex::new(r"\$\{([A-Za-z0-9_.]+)\}").expect("valid regex");
        let script = re
            .replace_all(&command, |c: &regex::Captures<'_>| {
                shell_quote(values.get(&c[1]).map(String::as_str).unwrap_or(""))
            })
            .into_owned();
        (script, Vec::new())
    } else {
        let args = manifest
            .parameters
            .iter()
            .filter(|p| !p.is_system())
            .map(|p| values.get(&p.variable).cloned().unwrap_or_default())
            .collect();
        (format!("{command} \"$@\""), args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certify_blueprint::Manifest;

    /// Three package parameters in manifest order, then a system one that is never passed.
    const MANIFEST: &str = r#"<Manifest>
  <Metadata><UUID>4a1b6c2e-0000-4000-8000-00000000abce</UUID><Name>Args</Name></Metadata>
  <Parameters>
    <Parameter Name="Port" Type="Numeric" Variable="WEB_PORT" Prompt="Build" Default="8080" />
    <Parameter Name="Mode" Type="String" Variable="MODE" Prompt="Build" Required="false" />
    <Parameter Name="Owner" Type="String" Variable="OWNER" Prompt="Build" />
    <Parameter Name="Server" Type="String" Variable="T3.Server.Name" Prompt="None" />
  </Parameters>
  <Execution><Mode>Ssh</Mode><Command>install.sh</Command></Execution>
</Manifest>"#;

    #[test]
    fn substitutes_variables_or_passes_arguments() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("install.sh"), "").unwrap();
        let mut m = Manifest::parse(MANIFEST).unwrap();
        let mut values = BTreeMap::new();
        values.insert("WEB_PORT".to_string(), "8080".to_string());
        values.insert("OWNER".to_string(), "bob's".to_string());
        let (script, args) = command_line(&m, &values, dir.path());
        assert_eq!(script, "./install.sh \"$@\"");
        assert_eq!(args, vec!["8080", "", "bob's"]);
        m.execution.command = "install.sh --port ${WEB_PORT} --owner ${OWNER}".into();
        let (script, args) = command_line(&m, &values, dir.path());
        assert_eq!(script, r"./install.sh --port '8080' --owner 'bob'\''s'");
        assert!(args.is_empty());
        assert_eq!(shell_name("T3.Server.IPAddress"), "T3_SERVER_IPADDRESS");
    }
}
