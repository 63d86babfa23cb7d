//! Is the process that started a run still alive? The journal asks before it lets anyone
//! reap a run, because reaping a live run would tear down a deployment under its feet.
//!
//! A pid alone is not enough: pids are reused, and a SIGKILLed process may linger as a
//! zombie. So a run also records its process's start time (Linux `/proc/<pid>/stat`) and
//! the machine's boot id and pid namespace; a pid that now belongs to a younger process
//! means the run's process is gone, and a pid from another boot or namespace is not
//! looked at (the run's lease decides then).

/// Who started a run, as recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub hostname: String,
    /// `/proc/sys/kernel/random/boot_id`; empty where the OS has none.
    pub boot_id: String,
    /// The pid namespace (`/proc/self/ns/pid`), which tells containers on one kernel apart:
    /// they share its boot id, but a pid means nothing outside its namespace.
    pub pid_ns: String,
}

impl Identity {
    /// This machine, this boot.
    pub fn current() -> Identity {
        Identity {
            hostname: hostname(),
            boot_id: read_trimmed("/proc/sys/kernel/random/boot_id").unwrap_or_default(),
            pid_ns: std::fs::read_link("/proc/self/ns/pid")
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    /// Another machine, for tests of what a journal sees from there.
    #[cfg(test)]
    pub fn elsewhere(hostname: &str) -> Identity {
        Identity {
            hostname: hostname.to_owned(),
            boot_id: format!("{hostname}-boot"),
            pid_ns: String::new(),
        }
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn hostname() -> String {
    if let Some(name) = read_trimmed("/proc/sys/kernel/hostname") {
        return name;
    }
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname writes at most that.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// State and start time (in clock ticks since boot) of a process, from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself hold spaces and parentheses, so
    // the fields are counted from the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 22 of the whole line; the state above was field 3.
    let start = fields.nth(22 - 3 - 1)?.parse().ok()?;
    Some((state, start))
}

/// The start time of a process, to tell it from a later process that reuses its pid.
/// `None` where `/proc` is not available.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    proc_stat(pid).map(|(_, start)| start)
}

/// Whether the process `pid`, started at `start` (if known), is still running.
pub(crate) fn alive(pid: u32, start: Option<u64>) -> bool {
    // Zero would signal our own process group; a pid beyond `i32` is no process at all.
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission checks; nothing is sent.
    let rc = unsafe { libc::kill(raw, 0) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    match proc_stat(pid) {
        // A zombie has exited; its parent just has not collected it yet.
        Some(('Z' | 'X', _)) => false,
        Some((_, now)) => start.is_none_or(|then| then == now),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        let me = std::process::id();
        assert!(alive(me, start_time(me)));
        assert!(alive(me, None));

        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!alive(pid, None));
        assert!(!alive(0, None), "pid 0 is never a run");
        assert!(!alive(u32::MAX, None));
    }

    #[test]
    fn a_reused_pid_is_told_apart_by_its_start_time() {
        let me = std::process::id();
        if let Some(start) = start_time(me) {
            assert!(!alive(me, Some(start + 1)));
        }
    }

    #[test]
    fn identity_names_this_machine() {
        let id = Identity::current();
        assert!(!id.hostname.is_empty());
        assert_eq!(id, Identity::current());
    }
}
