//! The run's private network: one user and network namespace per run.
//!
//! [`RunNetwork::create`] forks a small holder process that makes the namespaces
//! (unprivileged: the new user namespace maps the harness's own user to its root, which
//! holds `CAP_NET_ADMIN` there and nowhere else), brings up its loopback and adds
//! `10.88.0.1/16` to it. On a loopback device Linux routes the whole prefix locally, so
//! every `10.88.x.y` is an address a server can bind and every process in the namespace
//! can reach — and nothing else exists: no route to the host's loopback, the LAN or the
//! internet. Sandboxes join it ([`RunNetwork::enter`], before `bwrap` starts).
//!
//! The harness itself stays outside. It reaches the servers through the holder:
//! [`RunNetwork::connect`] asks it for a TCP connection to `10.88.x.y:port`, which the
//! holder opens inside and passes back over a Unix socket pair (`SCM_RIGHTS`). The holder
//! exits when that socket closes (the run ends, or the harness dies), and the namespaces
//! vanish with their last process.
//!
//! The holder runs between `fork` and `_exit` without ever calling `exec`, so it only
//! makes system calls and allocates nothing (the parent may be multi-threaded).

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex, OnceLock};

use crate::egress::Egress;

/// The run network's prefix: `10.88.0.0/16`, shaped like an account's private network.
pub const PREFIX: [u8; 2] = [10, 88];

/// The holder's answer to a request: 0 and a descriptor, or an errno.
const OK: u8 = 0;
/// Holder requests: open a connection to an address, or bind a listener on one.
const OP_CONNECT: u8 = 0;
const OP_LISTEN: u8 = 1;

/// Where the egress proxy listens when the integrator allows the internet: the last
/// address of the run network, never a server's.
pub const PROXY: SocketAddrV4 =
    SocketAddrV4::new(Ipv4Addr::new(PREFIX[0], PREFIX[1], 255, 254), 3128);

/// Linux socket ioctls (stable ABI; not all are in the `libc` crate).
const SIOCGIFFLAGS: u64 = 0x8913;
const SIOCSIFFLAGS: u64 = 0x8914;
const SIOCSIFADDR: u64 = 0x8916;
const SIOCSIFNETMASK: u64 = 0x891c;

/// One run's network namespace and the holder that owns it.
#[derive(Debug)]
pub struct RunNetwork {
    holder: libc::pid_t,
    control: Arc<Mutex<OwnedFd>>,
    user_ns: OwnedFd,
    net_ns: OwnedFd,
    egress: OnceLock<Egress>,
}

impl RunNetwork {
    /// Creates the namespaces; fails when unprivileged user namespaces are not allowed.
    pub fn create() -> io::Result<RunNetwork> {
        let mut pair = [0 as RawFd; 2];
        // SAFETY: socketpair writes two descriptors into the array.
        if unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                pair.as_mut_ptr(),
            )
        } < 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned here.
        let (parent, child) =
            unsafe { (OwnedFd::from_raw_fd(pair[0]), OwnedFd::from_raw_fd(pair[1])) };
        // Everything the child needs is prepared before the fork.
        // SAFETY: geteuid/getegid cannot fail.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let uid_map = format!("0 {uid} 1\n");
        let gid_map = format!("0 {gid} 1\n");
        // SAFETY: the child only runs `holder`, which makes system calls and never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: we are the freshly forked child; see `holder`.
            unsafe { holder(child.as_raw_fd(), uid_map.as_bytes(), gid_map.as_bytes()) }
        }
        drop(child);
        let fail = |e: io::Error| {
            // SAFETY: reaps the child we forked.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
            e
        };
        let mut status = [0u8; 1];
        // SAFETY: reads one byte into a local buffer.
        let n = unsafe { libc::recv(parent.as_raw_fd(), status.as_mut_ptr().cast(), 1, 0) };
        if n != 1 {
            return Err(fail(io::Error::other(
                "the network holder died while starting",
            )));
        }
        if status[0] != OK {
            return Err(fail(io::Error::from_raw_os_error(status[0].into())));
        }
        let open = |name: &str| -> io::Result<OwnedFd> {
            let f = std::fs::File::open(format!("/proc/{pid}/ns/{name}"))?;
            Ok(OwnedFd::from(f))
        };
        let user_ns = open("user").map_err(fail)?;
        let net_ns = open("net").map_err(fail)?;
        Ok(RunNetwork {
            holder: pid,
            control: Arc::new(Mutex::new(parent)),
            user_ns,
            net_ns,
            egress: OnceLock::new(),
        })
    }

    /// The address of server number `n` of the run (0-based): `10.88.0.2` onwards.
    pub fn address(n: u32) -> Ipv4Addr {
        let host = n + 2;
        Ipv4Addr::new(PREFIX[0], PREFIX[1], (host >> 8) as u8, host as u8)
    }

    /// Whether `ip` is on the run network.
    pub fn contains(ip: Ipv4Addr) -> bool {
        ip.octets()[..2] == PREFIX
    }

    /// A TCP connection to `addr` inside the run network, opened by the holder.
    pub fn connect(&self, addr: SocketAddrV4) -> io::Result<TcpStream> {
        request(&self.control, OP_CONNECT, addr).map(TcpStream::from)
    }

    /// A TCP listener on `addr` inside the run network, bound by the holder: how the
    /// harness offers a service to the servers (the egress proxy) without joining the
    /// namespace itself.
    pub fn listen(&self, addr: SocketAddrV4) -> io::Result<TcpListener> {
        request(&self.control, OP_LISTEN, addr).map(TcpListener::from)
    }

    /// Lets the servers and steps reach the internet through a filtering proxy at
    /// [`PROXY`]; see [`crate::egress`]. Idempotent.
    pub fn allow_internet(&self) -> io::Result<()> {
        if self.egress.get().is_some() {
            return Ok(());
        }
        let listener = self.listen(PROXY)?;
        let control = self.control.clone();
        let inside: crate::egress::Inside =
            Arc::new(move |addr| request(&control, OP_CONNECT, addr).map(TcpStream::from));
        let egress = Egress::start(listener, crate::egress::is_public, inside)?;
        let _ = self.egress.set(egress);
        Ok(())
    }

    /// The proxy's address when the integrator allowed the internet, for the environment
    /// of everything that runs on the network.
    pub fn proxy(&self) -> Option<SocketAddrV4> {
        self.egress.get().map(|_| PROXY)
    }

    /// What went through (or was refused by) the egress proxy so far; empty when the
    /// internet is off.
    pub fn egress_log(&self) -> crate::egress::Log {
        self.egress.get().map(Egress::log).unwrap_or_default()
    }

    /// Moves the calling (freshly forked, single-threaded) process into the run's user
    /// and network namespaces. Only for `pre_exec`.
    pub(crate) fn enter(&self) -> io::Result<()> {
        // SAFETY: setns on descriptors this value owns.
        unsafe {
            if libc::setns(self.user_ns.as_raw_fd(), libc::CLONE_NEWUSER) < 0
                || libc::setns(self.net_ns.as_raw_fd(), libc::CLONE_NEWNET) < 0
            {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

impl Drop for RunNetwork {
    fn drop(&mut self) {
        // Closing the control socket ends the holder; then reap it.
        let control = self.control.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: shutdown on our own descriptor; waitpid on our own child.
        unsafe {
            libc::shutdown(control.as_raw_fd(), libc::SHUT_RDWR);
            libc::waitpid(self.holder, std::ptr::null_mut(), 0);
        }
    }
}

/// One request to the holder: an operation on `addr`, answered with a descriptor. Only
/// addresses of the run network are asked for (the holder refuses others too).
fn request(control: &Mutex<OwnedFd>, op: u8, addr: SocketAddrV4) -> io::Result<OwnedFd> {
    if !RunNetwork::contains(*addr.ip()) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{addr} is not on the run network"),
        ));
    }
    let mut req = [0u8; 7];
    req[0] = op;
    req[1..5].copy_from_slice(&addr.ip().octets());
    req[5..].copy_from_slice(&addr.port().to_be_bytes());
    let control = control.lock().unwrap_or_else(|p| p.into_inner());
    let fd = control.as_raw_fd();
    // SAFETY: sends seven bytes from a local buffer.
    if unsafe { libc::send(fd, req.as_ptr().cast(), req.len(), libc::MSG_NOSIGNAL) } != 7 {
        return Err(io::Error::other("the run network is gone"));
    }
    match recv_fd(fd)? {
        (OK, Some(passed)) => Ok(passed),
        (OK, None) => Err(io::Error::other("the run network sent no descriptor")),
        (errno, _) => Err(io::Error::from_raw_os_error(errno.into())),
    }
}

/// Receives one status byte and, with it, at most one descriptor.
fn recv_fd(fd: RawFd) -> io::Result<(u8, Option<OwnedFd>)> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // Room for one descriptor, aligned for cmsghdr.
    let mut space = [0u64; 8];
    // SAFETY: msghdr is plain data; every pointer in it points at live locals.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&space) as _;
    // SAFETY: recvmsg fills the buffers described by msg.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n != 1 {
        return Err(io::Error::other("the run network is gone"));
    }
    let mut passed = None;
    // SAFETY: walks the control messages the kernel wrote into `space`.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let raw = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<RawFd>());
                passed = Some(OwnedFd::from_raw_fd(raw));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((byte[0], passed))
}

/// The holder: sets up the namespaces, reports, then opens connections and listeners on
/// request until its control socket closes. Never returns.
///
/// # Safety
///
/// Only in the child right after `fork`: it makes raw system calls and allocates nothing.
unsafe fn holder(control: RawFd, uid_map: &[u8], gid_map: &[u8]) -> ! {
    // SAFETY (whole body): raw system calls on local buffers and our own descriptors.
    unsafe {
        // Keep only the control socket (as 3) and /dev/null for 0-2: the harness's other
        // descriptors (pipes it waits on, its listeners) must not stay open here.
        libc::dup2(control, 3);
        libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        let ctl = 3;
        let report = |code: u8| {
            libc::send(ctl, [code].as_ptr().cast(), 1, libc::MSG_NOSIGNAL);
        };
        let errno = || (*libc::__errno_location()).clamp(1, 255) as u8;
        if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) < 0
            || !write_file(c"/proc/self/setgroups", b"deny")
            || !write_file(c"/proc/self/uid_map", uid_map)
            || !write_file(c"/proc/self/gid_map", gid_map)
        {
            report(errno());
            libc::_exit(1);
        }
        if let Err(code) = configure_loopback() {
            report(code);
            libc::_exit(1);
        }
        report(OK);
        loop {
            let mut req = [0u8; 7];
            let n = libc::recv(ctl, req.as_mut_ptr().cast(), 7, 0);
            if n == 0 || (n < 0 && *libc::__errno_location() != libc::EINTR) {
                libc::_exit(0);
            }
            if n != 7 || req[1..3] != PREFIX || req[0] > OP_LISTEN {
                report(libc::EINVAL as u8);
                continue;
            }
            let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            if s < 0 {
                report(errno());
                continue;
            }
            let mut sa: libc::sockaddr_in = std::mem::zeroed();
            sa.sin_family = libc::AF_INET as _;
            sa.sin_port = u16::from_be_bytes([req[5], req[6]]).to_be();
            sa.sin_addr.s_addr = u32::from_be_bytes([req[1], req[2], req[3], req[4]]).to_be();
            let sa_len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            if req[0] == OP_LISTEN {
                let on: libc::c_int = 1;
                libc::setsockopt(
                    s,
                    libc::SOL_SOCKET,
                    libc::SO_REUSEADDR,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as _,
                );
                if libc::bind(s, (&sa as *const libc::sockaddr_in).cast(), sa_len) < 0
                    || libc::listen(s, 128) < 0
                {
                    report(errno());
                } else {
                    send_fd(ctl, s);
                }
                libc::close(s);
                continue;
            }
            // A connect that cannot complete (a full backlog) gives up after 5 s.
            let tv = libc::timeval {
                tv_sec: 5,
                tv_usec: 0,
            };
            libc::setsockopt(
                s,
                libc::SOL_SOCKET,
                libc::SO_SNDTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as _,
            );
            let r = libc::connect(s, (&sa as *const libc::sockaddr_in).cast(), sa_len);
            if r < 0 {
                report(errno());
            } else {
                send_fd(ctl, s);
            }
            libc::close(s);
        }
    }
}

/// Writes `bytes` to `path` with raw system calls.
unsafe fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> bool {
    // SAFETY: raw open/write/close.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
        if fd < 0 {
            return false;
        }
        let ok = libc::write(fd, bytes.as_ptr().cast(), bytes.len()) == bytes.len() as isize;
        libc::close(fd);
        ok
    }
}

/// Brings `lo` up and adds `10.88.0.1/16` to it (as the alias `lo:1`).
unsafe fn configure_loopback() -> Result<(), u8> {
    // SAFETY: ioctls on a local ifreq and a socket of our own.
    unsafe {
        let errno = || (*libc::__errno_location()).clamp(1, 255) as u8;
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(errno());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        set_name(&mut ifr, b"lo");
        if libc::ioctl(s, SIOCGIFFLAGS as _, &mut ifr) < 0 {
            return Err(errno());
        }
        ifr.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(s, SIOCSIFFLAGS as _, &mut ifr) < 0 {
            return Err(errno());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        set_name(&mut ifr, b"lo:1");
        ifr.ifr_ifru.ifru_addr = sockaddr([PREFIX[0], PREFIX[1], 0, 1]);
        if libc::ioctl(s, SIOCSIFADDR as _, &mut ifr) < 0 {
            return Err(errno());
        }
        ifr.ifr_ifru.ifru_netmask = sockaddr([255, 255, 0, 0]);
        if libc::ioctl(s, SIOCSIFNETMASK as _, &mut ifr) < 0 {
            return Err(errno());
        }
        libc::close(s);
        Ok(())
    }
}

fn set_name(ifr: &mut libc::ifreq, name: &[u8]) {
    for (d, s) in ifr.ifr_name.iter_mut().zip(name) {
        *d = *s as libc::c_char;
    }
}

fn sockaddr(octets: [u8; 4]) -> libc::sockaddr {
    // SAFETY: sockaddr_in and sockaddr are plain data of the same size.
    unsafe {
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as _;
        sa.sin_addr.s_addr = u32::from_be_bytes(octets).to_be();
        std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sa)
    }
}

/// Sends the status byte [`OK`] with descriptor `fd`.
unsafe fn send_fd(ctl: RawFd, fd: RawFd) {
    // SAFETY: sendmsg with buffers on this stack frame.
    unsafe {
        let byte = [OK];
        let mut iov = libc::iovec {
            iov_base: byte.as_ptr() as *mut _,
            iov_len: 1,
        };
        let mut space = [0u64; 8];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as _;
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<RawFd>(), fd);
        libc::sendmsg(ctl, &msg, libc::MSG_NOSIGNAL);
    }
}
