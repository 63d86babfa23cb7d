//! The OS sandbox for everything a candidate supplies that is not its WebAssembly plugin:
//! package scripts, KB steps and builds of candidate source.
//!
//! The mechanism is [bubblewrap](https://github.com/containers/bubblewrap) (`bwrap`, the
//! sandbox under Flatpak): unprivileged user, mount, pid, ipc, uts and network
//! namespaces, `no_new_privs`, `--die-with-parent` and `--new-session`, with no setuid
//! helper and no root. Each [`Sandbox::command`] is one `bwrap` invocation that sees:
//!
//! - a read-only system root: `/usr`, the `/bin`, `/sbin`, `/lib*` links or directories,
//!   and a short list of `/etc` files programs need (certificates, the loader cache,
//!   alternatives, time zone); no `/home`, `/root`, `/var`, harness state, cargo or rustup
//!   directories, and a `/proc` of its own pid namespace only (the harness's processes
//!   are not in it);
//! - the directories the caller names ([`Spec::writable`], [`Spec::readable`]), at the
//!   same paths as on the host, and a private size-limited `/tmp`;
//! - an environment holding only [`Spec::env`];
//! - resource limits ([`Limits`]) set *inside* its user namespace with `prlimit`, so the
//!   process limit counts the sandbox's own processes (Linux charges `RLIMIT_NPROC` per
//!   user namespace level since 5.14) rather than all of the integrator's;
//! - either no network at all, or the run's private network ([`RunNetwork`]): a network
//!   namespace with the servers' addresses on its loopback and no route anywhere else;
//!   when the integrator allows the internet, an [`egress`] proxy on that network is the
//!   only way out, and it refuses private and loopback destinations.
//!
//! Everything started inside dies with the sandbox: bwrap's pid 1 takes its pid namespace
//! down when it exits, and it exits when the harness does (`--die-with-parent`) or when
//! the caller kills the `bwrap` process. A `setsid` or double-forked daemon cannot leave.
//!
//! What it does not give: when the harness itself runs as root, the sandbox's processes
//! are root's (mapped), and the kernel exempts root from `RLIMIT_NPROC`, so a fork bomb
//! is bounded only by the CPU limit and teardown. Run the harness as an ordinary user.

pub mod egress;
mod net;
mod quota;

use std::ffi::OsString;
use std::os::fd::RawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

pub use net::{PROXY, RunNetwork};
pub use quota::{DiskQuota, Usage, Watch, measure};

/// Why candidate code cannot be sandboxed here, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// Not Linux.
    #[error(
        "the sandbox for candidate code needs Linux namespaces, and this is {0}; run the harness on Linux (a VM or container will do), or pass --unsandboxed to run the candidate's code as your own user"
    )]
    NotLinux(&'static str),
    /// bubblewrap is not installed.
    #[error(
        "the sandbox for candidate code needs bubblewrap (`bwrap`), which is not installed; install it (Debian/Ubuntu: `apt-get install bubblewrap`, Fedora: `dnf install bubblewrap`), or pass --unsandboxed to run the candidate's code as your own user"
    )]
    NoBwrap,
    /// `prlimit` (util-linux) is not installed.
    #[error(
        "the sandbox for candidate code needs `prlimit` from util-linux under /usr; install util-linux, or pass --unsandboxed"
    )]
    NoPrlimit,
    /// Namespaces could not be created.
    #[error(
        "cannot create a sandbox: {0}. Unprivileged user namespaces are probably disabled: enable them (`sysctl kernel.unprivileged_userns_clone=1` on Debian; on Ubuntu 24.04 and later, `kernel.apparmor_restrict_unprivileged_userns=1` allows them only to programs with an AppArmor profile: use the distribution's bwrap, or set it to 0), or pass --unsandboxed to run the candidate's code as your own user"
    )]
    Namespaces(String),
}

/// Resource limits of one sandbox (set with `prlimit` inside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds per process (`RLIMIT_CPU`).
    pub cpu_seconds: u64,
    /// Address space per process, bytes (`RLIMIT_AS`).
    pub address_space: u64,
    /// Processes of the sandbox's user in its namespace (`RLIMIT_NPROC`).
    pub processes: u64,
    /// Largest file a process may write, bytes (`RLIMIT_FSIZE`).
    pub file_size: u64,
    /// Open files per process (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Size of the private `/tmp`, bytes.
    pub tmp_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_seconds: 600,
            address_space: 4 << 30,
            processes: 256,
            file_size: 256 << 20,
            open_files: 1024,
            tmp_size: 64 << 20,
        }
    }
}

/// What one sandboxed command sees.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// Directories bound read-write, at the same path.
    pub writable: Vec<PathBuf>,
    /// Directories or files bound read-only, at the same path.
    pub readable: Vec<PathBuf>,
    /// The working directory (default `/`).
    pub cwd: Option<PathBuf>,
    /// The whole environment.
    pub env: Vec<(String, String)>,
    /// Resource limits.
    pub limits: Limits,
    /// The run's network; `None` means no network at all, unless `host_network`.
    pub network: Option<Arc<RunNetwork>>,
    /// Keep the host's network (for steps that must reach a real account's servers).
    pub host_network: bool,
    /// A descriptor of the caller's handed in as descriptor 3 (for example, a pipe the
    /// command reports on).
    pub fd3: Option<RawFd>,
}

/// A checked sandbox: bwrap and prlimit found, namespaces known to work.
#[derive(Debug, Clone)]
pub struct Sandbox {
    bwrap: PathBuf,
    prlimit: PathBuf,
}

/// The `/etc` entries a sandbox sees (read-only, where present).
const ETC: &[&str] = &[
    "/etc/alternatives",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
    "/etc/protocols",
    "/etc/services",
];

/// Top-level system directories that are symlinks into `/usr` on merged-usr systems.
const ROOT_DIRS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/// The uid and gid a sandbox's processes have inside it.
const SANDBOX_ID: &str = "1000";

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Sandbox {
    /// Finds bubblewrap and checks that a sandbox can really be created here.
    pub fn probe() -> Result<Sandbox, Unavailable> {
        if !cfg!(target_os = "linux") {
            return Err(Unavailable::NotLinux(std::env::consts::OS));
        }
        let bwrap = match std::env::var_os("CERTIFY_BWRAP") {
            Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
            None => find_program("bwrap"),
        }
        .ok_or(Unavailable::NoBwrap)?;
        // prlimit runs inside, where only the system directories are.
        let prlimit = ["/usr/bin/prlimit", "/bin/prlimit"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or(Unavailable::NoPrlimit)?;
        let sandbox = Sandbox { bwrap, prlimit };
        let out = sandbox
            .command(&Spec::default(), "true", &[])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Unavailable::Namespaces(format!("cannot start bwrap: {e}")))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(Unavailable::Namespaces(if why.is_empty() {
                format!("bwrap exited with {}", out.status)
            } else {
                why
            }));
        }
        Ok(sandbox)
    }

    /// The `bwrap` command that runs `program` with `args` as `spec` says. The caller
    /// sets standard input and output (and may put it in its own process group: killing
    /// that group's `bwrap` ends everything inside); it must not change the environment.
    pub fn command(&self, spec: &Spec, program: &str, args: &[OsString]) -> Command {
        let mut cmd = Command::new(&self.bwrap);
        // bwrap hands its own environment on; it is exactly the spec's.
        cmd.env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .envs(proxy_env(spec))
            .args(self.bwrap_args(spec))
            .arg("--")
            .arg(&self.prlimit)
            .args(limit_args(&spec.limits))
            .arg("--")
            .arg(program)
            .args(args);
        let network = spec.network.clone();
        let fd3 = spec.fd3;
        // SAFETY: the closure runs between fork and exec and only makes system calls
        // (setns, dup2, fcntl) on descriptors opened before the fork; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if let Some(net) = &network {
                    net.enter()?;
                }
                if let Some(fd) = fd3 {
                    pass_as_fd3(fd)?;
                }
                Ok(())
            });
        }
        cmd
    }

    fn bwrap_args(&self, spec: &Spec) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&[
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--uid",
            SANDBOX_ID,
            "--gid",
            SANDBOX_ID,
            "--hostname",
            "server",
            "--die-with-parent",
            "--new-session",
        ]);
        if spec.network.is_none() && !spec.host_network {
            push(&["--unshare-net"]);
        }
        push(&["--ro-bind", "/usr", "/usr"]);
        for dir in ROOT_DIRS {
            match std::fs::symlink_metadata(dir) {
                Ok(m) if m.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(dir) {
                        a.extend(["--symlink".into(), target.into(), OsString::from(dir)]);
                    }
                }
                Ok(m) if m.is_dir() => a.extend(["--ro-bind", dir, dir].map(OsString::from)),
                _ => {}
            }
        }
        for entry in ETC {
            a.extend(["--ro-bind-try", entry, entry].map(OsString::from));
        }
        a.extend(
            [
                "--proc",
                "/proc",
                "--dev",
                "/dev",
                "--size",
                &spec.limits.tmp_size.to_string(),
                "--tmpfs",
                "/tmp",
            ]
            .map(OsString::from),
        );
        for p in &spec.readable {
            a.extend(["--ro-bind".into(), p.into(), p.into()]);
        }
        for p in &spec.writable {
            a.extend(["--bind".into(), p.into(), p.into()]);
        }
        if let Some(cwd) = &spec.cwd {
            a.extend(["--chdir".into(), cwd.into()]);
        }
        a
    }

    /// The bwrap in use.
    pub fn bwrap(&self) -> &Path {
        &self.bwrap
    }
}

/// Where the run network has the internet (the integrator allowed it), the variables
/// that send HTTP clients to its egress proxy, and keep the servers' own traffic direct.
fn proxy_env(spec: &Spec) -> Vec<(String, String)> {
    let Some(proxy) = spec.network.as_ref().and_then(|n| n.proxy()) else {
        return Vec::new();
    };
    let url = format!("http://{proxy}");
    let direct = format!(
        "{}.{}.0.0/16,localhost,127.0.0.1",
        net::PREFIX[0],
        net::PREFIX[1]
    );
    ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]
        .into_iter()
        .map(|k| (k.to_string(), url.clone()))
        .chain(["no_proxy", "NO_PROXY"].map(|k| (k.to_string(), direct.clone())))
        .collect()
}

fn limit_args(l: &Limits) -> Vec<String> {
    vec![
        format!("--cpu={}", l.cpu_seconds),
        format!("--as={}", l.address_space),
        format!("--nproc={}", l.processes),
        format!("--fsize={}", l.file_size),
        format!("--nofile={}", l.open_files),
        // No core dumps: they would land in the writable directories.
        "--core=0".to_string(),
    ]
}

/// Makes `fd` the child's descriptor 3, inheritable across exec.
fn pass_as_fd3(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: plain descriptor system calls in the forked child.
    unsafe {
        if fd == 3 {
            let flags = libc::fcntl(3, libc::F_GETFD);
            if flags < 0 || libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
        } else if libc::dup2(fd, 3) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
