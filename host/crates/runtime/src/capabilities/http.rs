//! `ecosystem:certify/http`: outbound HTTP through the host, to the addresses
//! the run grants only, with a time limit and a cap on the response size.
//!
//! The host sends the request (plugins have no sockets), never follows
//! redirects (a granted server must not be able to send the plugin
//! elsewhere), ignores proxy settings, and answers a refused address with
//! `denied` naming it.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::run::to_pairs;
use crate::bindings::http;
use crate::sandbox::State;

/// The addresses a run grants: `host` (any port) or `host:port` entries.
/// Hosts compare case-insensitively; IPv6 addresses are written in brackets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpPolicy {
    allow: Vec<(String, Option<u16>)>,
    dialer: Option<Dialer>,
}

/// Opens the TCP connections of granted requests when the servers are on a network the
/// harness cannot route to (the run's private network): plain HTTP/1.1 then goes over
/// the connection it returns.
#[derive(Clone)]
pub struct Dialer(
    pub Arc<dyn Fn(SocketAddrV4) -> std::io::Result<std::net::TcpStream> + Send + Sync>,
);

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dialer")
    }
}

impl PartialEq for Dialer {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Dialer {}

impl HttpPolicy {
    /// A policy that grants nothing.
    pub fn deny_all() -> HttpPolicy {
        HttpPolicy::default()
    }

    /// Grant `host` or `host:port`.
    pub fn allow(mut self, address: &str) -> Result<HttpPolicy, String> {
        self.allow.push(parse_address(address)?);
        Ok(self)
    }

    /// The granted addresses, as given.
    /// Connect through `dialer` instead of the host's network (see [`Dialer`]).
    pub fn through(mut self, dialer: Dialer) -> HttpPolicy {
        self.dialer = Some(dialer);
        self
    }

    pub fn addresses(&self) -> Vec<String> {
        self.allow
            .iter()
            .map(|(h, p)| match p {
                Some(p) => format!("{h}:{p}"),
                None => h.clone(),
            })
            .collect()
    }

    /// Whether `url` may be requested; the reason when not.
    pub fn check(&self, url: &reqwest::Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme `{}` is not allowed (http or https only)",
                url.scheme()
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("{url} has no host"))?
            .to_ascii_lowercase();
        let port = url.port_or_known_default();
        let granted = self
            .allow
            .iter()
            .any(|(h, p)| *h == host && (p.is_none() || *p == port));
        if granted {
            Ok(())
        } else {
            Err(format!(
                "{host}:{} is not granted to this run (granted: {})",
                port.map_or("?".to_string(), |p| p.to_string()),
                if self.allow.is_empty() {
                    "nothing".to_string()
                } else {
                    self.addresses().join(", ")
                }
            ))
        }
    }
}

fn parse_address(address: &str) -> Result<(String, Option<u16>), String> {
    let address = address.trim();
    let bad = || format!("`{address}` is not an address; use host or host:port (IPv6 in brackets)");
    if address.is_empty() || address.contains('/') {
        return Err(bad());
    }
    let (host, port) = if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
            None if after.is_empty() => None,
            None => return Err(bad()),
        };
        (format!("[{host}]"), port)
    } else {
        match address.rsplit_once(':') {
            Some((host, port)) => (
                host.to_string(),
                Some(port.parse::<u16>().map_err(|_| bad())?),
            ),
            None => (address.to_string(), None),
        }
    };
    Ok((host.to_ascii_lowercase(), port))
}

impl http::Host for State {
    async fn send(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::Error>> {
        Ok(self.send_http(request).await)
    }
}

impl State {
    async fn send_http(&mut self, request: http::Request) -> Result<http::Response, http::Error> {
        let url = reqwest::Url::parse(&request.url)
            .map_err(|e| http::Error::InvalidRequest(format!("bad URL `{}`: {e}", request.url)))?;
        self.grants.http.check(&url).map_err(http::Error::Denied)?;
        let method = match request.method.to_ascii_uppercase().as_str() {
            m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => {
                reqwest::Method::from_bytes(m.as_bytes()).expect("a valid method")
            }
            other => {
                return Err(http::Error::InvalidRequest(format!(
                    "method `{other}` is not allowed"
                )));
            }
        };
        let mut builder = self.http.request(method, url);
        for header in request.headers {
            builder = builder.header(header.name, header.value);
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        let mut timeout = self.limits.http_timeout;
        if let Some(ms) = request.timeout_ms {
            timeout = timeout.min(Duration::from_millis(ms.into()));
        }
        let cap = self.limits.http_response;
        let started = Instant::now();
        if let Some(dialer) = self.grants.http.dialer.clone() {
            let exchange = dialed(dialer, builder, cap);
            return match tokio::time::timeout(timeout, exchange).await {
                Ok(Ok((status, headers, body))) => Ok(http::Response {
                    status,
                    headers: to_pairs(&headers),
                    body,
                    elapsed_us: started.elapsed().as_micros().try_into().unwrap_or(u64::MAX),
                }),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(http::Error::Timeout),
            };
        }
        let exchange = async {
            let mut response = builder.send().await.map_err(transport)?;
            let status = response.status().as_u16();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport)? {
                if body.len() + chunk.len() > cap {
                    return Err(http::Error::TooLarge(cap as u64));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(http::Response {
                status,
                headers: to_pairs(&headers),
                body,
                elapsed_us: started.elapsed().as_micros().try_into().unwrap_or(u64::MAX),
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(http::Error::Timeout),
        }
    }
}

type Exchange = (u16, Vec<(String, String)>, Vec<u8>);

/// One plain HTTP/1.1 exchange over a connection from `dialer`.
async fn dialed(
    dialer: Dialer,
    builder: reqwest::RequestBuilder,
    cap: usize,
) -> Result<Exchange, http::Error> {
    use http_body_util::BodyExt;
    let request = builder
        .build()
        .map_err(|e| http::Error::InvalidRequest(e.to_string()))?;
    let url = request.url().clone();
    if url.scheme() != "http" {
        return Err(http::Error::Denied(format!(
            "{url}: the run's servers speak plain http here"
        )));
    }
    let ip: Ipv4Addr = url
        .host_str()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| http::Error::Denied(format!("{url}: not a server of the run")))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let stream = tokio::task::spawn_blocking(move || (dialer.0)(SocketAddrV4::new(ip, port)))
        .await
        .map_err(|e| http::Error::Transport(e.to_string()))?
        .and_then(|s| {
            s.set_nonblocking(true)?;
            tokio::net::TcpStream::from_std(s)
        })
        .map_err(|e| http::Error::Transport(format!("cannot connect to {ip}:{port}: {e}")))?;
    let hyper_err = |e: hyper::Error| http::Error::Transport(e.to_string());
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(hyper_err)?;
    let conn = tokio::spawn(conn);
    let mut out = hyper::Request::builder()
        .method(request.method().clone())
        .uri(&url[url::Position::BeforePath..])
        .header(
            "host",
            &url[url::Position::BeforeHost..url::Position::AfterPort],
        );
    for (name, value) in request.headers() {
        out = out.header(name, value);
    }
    let body = request
        .body()
        .and_then(|b| b.as_bytes())
        .map(bytes::Bytes::copy_from_slice)
        .unwrap_or_default();
    let out = out
        .body(http_body_util::Full::new(body))
        .map_err(|e| http::Error::InvalidRequest(e.to_string()))?;
    let response = sender.send_request(out).await.map_err(hyper_err)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut incoming = response.into_body();
    let mut body = Vec::new();
    while let Some(frame) = incoming.frame().await {
        if let Ok(data) = frame.map_err(hyper_err)?.into_data() {
            if body.len() + data.len() > cap {
                conn.abort();
                return Err(http::Error::TooLarge(cap as u64));
            }
            body.extend_from_slice(&data);
        }
    }
    conn.abort();
    Ok((status, headers, body))
}

fn transport(e: reqwest::Error) -> http::Error {
    if e.is_timeout() {
        return http::Error::Timeout;
    }
    if e.is_builder() {
        return http::Error::InvalidRequest(e.to_string());
    }
    // The source chain says what actually failed (refused, reset, DNS).
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    http::Error::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn grants_exactly_what_is_listed() {
        let policy = HttpPolicy::deny_all()
            .allow("127.0.0.1:8080")
            .unwrap()
            .allow("Example.COM")
            .unwrap()
            .allow("[::1]:9000")
            .unwrap();
        assert!(policy.check(&url("http://127.0.0.1:8080/health")).is_ok());
        assert!(policy.check(&url("http://127.0.0.1:8081/health")).is_err());
        assert!(policy.check(&url("https://example.com/x")).is_ok());
        assert!(policy.check(&url("http://example.com:1234/x")).is_ok());
        assert!(policy.check(&url("http://[::1]:9000/")).is_ok());
        assert!(policy.check(&url("http://evil.example.com/")).is_err());
        let err = policy.check(&url("file:///etc/passwd")).unwrap_err();
        assert!(err.contains("scheme `file`"), "{err}");
    }

    #[test]
    fn deny_all_names_the_address() {
        let err = HttpPolicy::deny_all()
            .check(&url("http://203.0.113.9/steal"))
            .unwrap_err();
        assert_eq!(
            err,
            "203.0.113.9:80 is not granted to this run (granted: nothing)"
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in ["", "http://x", "host:port", "[::1", "a:99999"] {
            assert!(HttpPolicy::deny_all().allow(bad).is_err(), "{bad}");
        }
    }
}
