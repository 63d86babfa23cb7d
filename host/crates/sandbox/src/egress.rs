//! The run network's only way out: a filtering HTTP proxy, there only when the integrator
//! allows the internet (`certify run --allow-internet`).
//!
//! The run network has no route anywhere, and that stays so: a server that needs to fetch
//! something (a package mirror, a licence server) asks the proxy at [`crate::net::PROXY`],
//! which the sandboxes name in `http_proxy`/`https_proxy`. The proxy runs in the harness,
//! outside the namespace, on a listener the network's holder bound inside it. For each
//! request it resolves the name on the host and connects only when *every* address is
//! public unicast ([`is_public`]): the integrator's loopback, LAN, link-local (the cloud
//! metadata service) and other special ranges stay unreachable, whatever a name resolves
//! to. It speaks `CONNECT host:port` (TLS and anything else end to end, unread) and plain
//! `GET http://host/…` requests, and keeps a bounded log of what was asked, for the report.
//! Requests for the run network's own addresses (from clients that do not understand the
//! `no_proxy` ranges) are carried inside it, as if the proxy were not there.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream,
};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many attempts the log lists; later ones are counted, not listed, so that a flood
/// of requests can neither grow the report nor hide how many there were.
pub const LOG_LIMIT: usize = 256;
/// Connections served at once; more are refused with `503`.
const CONCURRENT: usize = 64;
/// The longest request head the proxy reads.
const HEAD_LIMIT: usize = 16 * 1024;
/// How long a client has to send its request head, and the proxy to connect out.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `host:port` as the client asked for it (bounded, printable).
    pub destination: String,
    /// Whether the proxy connected.
    pub allowed: bool,
    /// Why not, when refused.
    pub reason: Option<String>,
}

/// What the proxy was asked: the first [`LOG_LIMIT`] attempts, and the count of all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    /// The first attempts, in the order they came.
    pub attempts: Vec<Attempt>,
    /// Every attempt, listed or not.
    pub requests: usize,
    /// Every refused attempt, listed or not.
    pub refused: usize,
}

impl Log {
    fn record(&mut self, attempt: Attempt) {
        self.requests += 1;
        self.refused += usize::from(!attempt.allowed);
        if self.attempts.len() < LOG_LIMIT {
            self.attempts.push(attempt);
        }
    }

    /// How many attempts are counted but not listed.
    pub fn omitted(&self) -> usize {
        self.requests - self.attempts.len()
    }
}

/// The running proxy: stops accepting when dropped (its open tunnels end with the run's
/// servers).
#[derive(Debug)]
pub struct Egress {
    listener: Arc<TcpListener>,
    log: Arc<Mutex<Log>>,
}

type Policy = fn(IpAddr) -> bool;

/// Opens a connection to an address of the run network itself: clients that do not
/// understand the `no_proxy` ranges send the servers' own traffic to the proxy too, and
/// it must arrive as if they had not.
pub type Inside = Arc<dyn Fn(SocketAddrV4) -> io::Result<TcpStream> + Send + Sync>;

impl Egress {
    /// Serves `listener` on a thread of its own, connecting out only to addresses
    /// `allow` accepts, and to the run network's own addresses through `inside`.
    pub fn start(listener: TcpListener, allow: Policy, inside: Inside) -> io::Result<Egress> {
        let listener = Arc::new(listener);
        let log = Arc::new(Mutex::new(Log::default()));
        let (l, g) = (listener.clone(), log.clone());
        let route = Route { allow, inside };
        std::thread::Builder::new()
            .name("certify-egress".into())
            .spawn(move || serve(&l, &route, &g))?;
        Ok(Egress { listener, log })
    }

    /// What the proxy saw so far.
    pub fn log(&self) -> Log {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Egress {
    fn drop(&mut self) {
        // Wakes the blocked accept with an error, which ends the serving thread.
        // SAFETY: shutdown on a descriptor the listener owns.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
    }
}

/// Where a destination is reached from.
#[derive(Clone)]
struct Route {
    allow: Policy,
    inside: Inside,
}

fn serve(listener: &TcpListener, route: &Route, log: &Arc<Mutex<Log>>) {
    let active = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        if active.load(Ordering::SeqCst) >= CONCURRENT {
            let _ = respond(&mut client, 503, "too many connections through the proxy");
            continue;
        }
        active.fetch_add(1, Ordering::SeqCst);
        let (counter, log, route) = (active.clone(), log.clone(), route.clone());
        let spawned = std::thread::Builder::new()
            .name("certify-egress-conn".into())
            .spawn(move || {
                handle(client, &route, &log);
                counter.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            // The connection went down with the closure that was never run.
            active.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A request head: the target and, for plain HTTP, the head to forward.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    /// `CONNECT host:port`: a tunnel.
    Connect { host: String, port: u16 },
    /// `GET http://host:port/path`: forwarded with the request line in origin form.
    Forward {
        host: String,
        port: u16,
        head: Vec<u8>,
    },
}

fn handle(client: TcpStream, route: &Route, log: &Mutex<Log>) {
    let _ = client.set_read_timeout(Some(HANDSHAKE));
    let mut reader = BufReader::new(match client.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut client = client;
    let request = match read_head(&mut reader) {
        Ok(r) => r,
        Err(reason) => {
            let _ = respond(&mut client, 400, &reason);
            return;
        }
    };
    let (host, port) = match &request {
        Request::Connect { host, port } | Request::Forward { host, port, .. } => {
            (host.clone(), *port)
        }
    };
    let destination = printable(&format!("{host}:{port}"));
    // The servers' own traffic is not the internet's: it goes inside, unlogged.
    if let Ok(ip) = host.parse::<Ipv4Addr>()
        && crate::RunNetwork::contains(ip)
    {
        return match (route.inside)(SocketAddrV4::new(ip, port)) {
            Ok(upstream) => relay(client, reader, &request, upstream),
            Err(e) => {
                let _ = respond(&mut client, 502, &format!("{destination}: {e}"));
            }
        };
    }
    let upstream = open(&host, port, route.allow);
    log.lock()
        .unwrap_or_else(|p| p.into_inner())
        .record(Attempt {
            destination,
            allowed: upstream.is_ok(),
            reason: upstream.as_ref().err().cloned(),
        });
    match upstream {
        Ok(upstream) => relay(client, reader, &request, upstream),
        Err(reason) => {
            let _ = respond(&mut client, 403, &reason);
        }
    }
}

/// Answers the client (or forwards its head) and then copies both ways.
fn relay(
    mut client: TcpStream,
    reader: BufReader<TcpStream>,
    request: &Request,
    mut upstream: TcpStream,
) {
    let sent = match request {
        Request::Connect { .. } => client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n"),
        Request::Forward { head, .. } => upstream.write_all(head),
    };
    if sent.is_err() {
        return;
    }
    let _ = client.set_read_timeout(None);
    // Whatever the client sent after its head is already in the reader's buffer.
    let pending = reader.buffer().to_vec();
    if !pending.is_empty() && upstream.write_all(&pending).is_err() {
        return;
    }
    splice(client, upstream);
}

/// Reads and parses the request head, bounded by [`HEAD_LIMIT`].
fn read_head(reader: &mut impl BufRead) -> Result<Request, String> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader
            .by_ref()
            .take((HEAD_LIMIT - head.len().min(HEAD_LIMIT)) as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read the request: {e}"))?;
        if n == 0 {
            return Err("the request ended before its head did".into());
        }
        head.extend_from_slice(&line);
        if head.len() > HEAD_LIMIT {
            return Err("the request head is too long".into());
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    parse_head(&head)
}

fn parse_head(head: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(head).map_err(|_| "the request head is not UTF-8")?;
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let mut parts = first.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the request line is malformed".into());
    };
    if method == "CONNECT" {
        let (host, port) = host_port(target, None)?;
        return Ok(Request::Connect { host, port });
    }
    let Some(after) = target.strip_prefix("http://") else {
        return Err("only CONNECT and absolute http:// requests go through the proxy".into());
    };
    let (authority, path) = match after.find('/') {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, "/"),
    };
    let (host, port) = host_port(authority, Some(80))?;
    let mut forwarded = format!("{method} {path} {version}\r\n").into_bytes();
    for line in rest.split_inclusive('\n') {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        // Hop-by-hop headers meant for the proxy stay here.
        if name == "proxy-connection" || name == "proxy-authorization" {
            continue;
        }
        forwarded.extend_from_slice(line.as_bytes());
    }
    Ok(Request::Forward {
        host,
        port,
        head: forwarded,
    })
}

/// Splits `host:port` (IPv6 literals in brackets); `default` when no port is given.
fn host_port(authority: &str, default: Option<u16>) -> Result<(String, u16), String> {
    let bad = || format!("`{}` is not host:port", printable(authority));
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, rest) = v6.split_once(']').ok_or_else(bad)?;
        (host, rest.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match (port, default) {
        (Some(p), _) => p.parse().map_err(|_| bad())?,
        (None, Some(d)) => d,
        (None, None) => return Err(bad()),
    };
    if host.is_empty() || port == 0 {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// Resolves `host` on the host and connects, when every address it has is allowed.
fn open(host: &str, port: u16, allow: Policy) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .map_err(|e| format!("cannot resolve {}: {e}", printable(host)))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{} has no address", printable(host)));
    }
    // All or nothing: a name that also resolves to a private address is refused, so
    // that a rebinding name cannot pick which address the proxy uses.
    if let Some(a) = addrs.iter().find(|a| !allow(a.ip())) {
        return Err(format!(
            "{} resolves to {}, which is not a public internet address",
            printable(host),
            a.ip()
        ));
    }
    let mut last = String::new();
    for a in &addrs {
        match TcpStream::connect_timeout(a, HANDSHAKE) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    Err(last)
}

/// Copies both ways until either side closes.
fn splice(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut c2), Ok(mut u2)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = std::thread::Builder::new()
        .name("certify-egress-up".into())
        .spawn(move || {
            let mut client = client;
            let mut upstream = upstream;
            let _ = io::copy(&mut client, &mut upstream);
            let _ = upstream.shutdown(Shutdown::Write);
        });
    let _ = io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    if let Ok(up) = up {
        let _ = up.join();
    }
}

fn respond(client: &mut TcpStream, status: u16, reason: &str) -> io::Result<()> {
    let title = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        502 => "Bad Gateway",
        _ => "Service Unavailable",
    };
    let body = format!("certify egress proxy: {reason}\n");
    // One write: `write!` on a socket sends each piece of the format as a segment of its
    // own, and a client's first read would see only `HTTP/1.1 `.
    let response = format!(
        "HTTP/1.1 {status} {title}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes())
}

/// At most 200 characters, control characters replaced: the destination comes from the
/// candidate and ends up in the report.
fn printable(s: &str) -> String {
    s.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Whether `ip` is a public unicast address: not loopback, private (RFC 1918, unique
/// local), shared (CGNAT), link-local (where cloud metadata services live), multicast,
/// broadcast, documentation, benchmarking or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, shared address space
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b & 0xfe) == 18) // 198.18.0.0/15, benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64, which maps onto IPv4 ranges
        || s[0] == 0) // IPv4-compatible and other reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_reachable() {
        for private in [
            "127.0.0.1",
            "10.88.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "151.101.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_flood_of_requests_is_counted_but_listed_only_so_far() {
        let mut log = Log::default();
        for i in 0..LOG_LIMIT + 10 {
            log.record(Attempt {
                destination: format!("host-{i}:443"),
                allowed: i % 2 == 0,
                reason: None,
            });
        }
        assert_eq!(log.attempts.len(), LOG_LIMIT);
        assert_eq!(log.requests, LOG_LIMIT + 10);
        assert_eq!(log.refused, (LOG_LIMIT + 10) / 2);
        assert_eq!(log.omitted(), 10);
    }

    #[test]
    fn request_heads_parse_into_tunnels_and_forwards() {
        assert_eq!(
            parse_head(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            Ok(Request::Connect {
                host: "example.com".into(),
                port: 443
            })
        );
        assert_eq!(
            parse_head(b"CONNECT [2606:4700::1111]:443 HTTP/1.1\r\n\r\n"),
            Ok(Request::Connect {
                host: "2606:4700::1111".into(),
                port: 443
            })
        );
        let forwarded = parse_head(
            b"GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: keep-alive\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            forwarded,
            Request::Forward {
                host: "example.com".into(),
                port: 80,
                head: b"GET /a?b HTTP/1.1\r\nHost: example.com\r\n\r\n".to_vec()
            }
        );
        assert!(parse_head(b"GET /relative HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_head(b"CONNECT example.com HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_head(b"CONNECT :443 HTTP/1.1\r\n\r\n").is_err());
    }

    /// A proxy on the host's loopback, with `allow` as its policy, and an echo server.
    fn proxy(allow: Policy) -> (Egress, SocketAddr, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = listener.local_addr().unwrap();
        let inside: Inside = Arc::new(|_| Err(io::Error::other("no run network here")));
        let egress = Egress::start(listener, allow, inside).unwrap();
        let echo = TcpListener::bind("127.0.0.1:0").unwrap();
        let echo_at = echo.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut s in echo.incoming().flatten() {
                let mut buf = [0u8; 5];
                if s.read_exact(&mut buf).is_ok() {
                    let _ = s.write_all(&buf);
                }
            }
        });
        (egress, at, echo_at)
    }

    /// Sends a request head; returns the stream and the response's head, read byte by
    /// byte so that nothing after it is consumed.
    fn ask(proxy: SocketAddr, head: &str) -> (TcpStream, String) {
        let mut s = TcpStream::connect(proxy).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            got.push(byte[0]);
        }
        (s, String::from_utf8_lossy(&got).into_owned())
    }

    #[test]
    fn the_integrators_loopback_is_refused_and_logged() {
        let (egress, at, echo) = proxy(is_public);
        let (_s, status) = ask(at, &format!("CONNECT {echo} HTTP/1.1\r\n\r\n"));
        assert!(status.starts_with("HTTP/1.1 403"), "{status}");
        let (_s, status) = ask(at, "CONNECT localhost:22 HTTP/1.1\r\n\r\n");
        assert!(status.starts_with("HTTP/1.1 403"), "{status}");
        let (_s, status) = ask(at, &format!("GET http://{echo}/ HTTP/1.1\r\n\r\n"));
        assert!(status.starts_with("HTTP/1.1 403"), "{status}");
        let log = egress.log();
        assert_eq!((log.requests, log.refused), (3, 3));
        assert_eq!(log.attempts.len(), 3);
        assert!(log.attempts.iter().all(|a| !a.allowed));
        assert!(
            log.attempts[0]
                .reason
                .as_deref()
                .unwrap()
                .contains("not a public")
        );
    }

    #[test]
    fn an_allowed_destination_is_tunnelled_both_ways() {
        let (egress, at, echo) = proxy(|ip| ip.is_loopback());
        let (mut s, status) = ask(at, &format!("CONNECT {echo} HTTP/1.1\r\n\r\n"));
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        s.write_all(b"hello").unwrap();
        let mut back = [0u8; 5];
        s.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"hello");
        assert_eq!(egress.log().attempts[0].destination, echo.to_string());
        assert!(egress.log().attempts[0].allowed);
    }

    #[test]
    fn a_dropped_proxy_stops_accepting() {
        let (egress, at, _) = proxy(is_public);
        drop(egress);
        std::thread::sleep(Duration::from_millis(100));
        let refused = TcpStream::connect(at)
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                s.write_all(b"CONNECT 1.1.1.1:443 HTTP/1.1\r\n\r\n")?;
                let mut b = [0u8; 1];
                s.read(&mut b)
            })
            .map(|n| n == 0);
        assert!(refused.unwrap_or(true));
    }
}
