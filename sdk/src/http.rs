//! HTTP requests through the harness.
//!
//! Plugins have no sockets; the harness sends requests on their behalf, only
//! to the addresses the run grants, with a time limit and a cap on the
//! response size.

use std::time::Duration;

use crate::context::Host;

/// An HTTP request, as the harness receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Upper-case method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// Body bytes (empty for none).
    pub body: Vec<u8>,
    /// Optional time limit, lower than the harness's own.
    pub timeout: Option<Duration>,
}

/// Builds and sends a [`Request`].
pub struct RequestBuilder<'h> {
    host: &'h dyn Host,
    request: Request,
}

impl<'h> RequestBuilder<'h> {
    pub(crate) fn new(host: &'h dyn Host, method: &str, url: String) -> Self {
        RequestBuilder {
            host,
            request: Request {
                method: method.to_ascii_uppercase(),
                url,
                headers: Vec::new(),
                body: Vec::new(),
                timeout: None,
            },
        }
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.request.headers.push((name.into(), value.into()));
        self
    }

    /// Set the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.request.body = body.into();
        self
    }

    /// Give up sooner than the harness's own limit.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.request.timeout = Some(limit);
        self
    }

    /// Send the request and wait for the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        self.host.http(&self.request)
    }
}

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) elapsed: Duration,
}

impl Response {
    /// A response, for test doubles.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
            elapsed: Duration::ZERO,
        }
    }

    /// With a header, for test doubles.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// With a response time, for test doubles.
    pub fn with_elapsed(mut self, elapsed: Duration) -> Self {
        self.elapsed = elapsed;
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body bytes.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Time from sending the request to the end of the body.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The run does not grant this address.
    Denied(String),
    /// The request is malformed.
    InvalidRequest(String),
    /// No complete response within the time limit.
    Timeout,
    /// The response exceeded the harness's size limit (bytes).
    TooLarge(u64),
    /// Connection refused, reset, DNS or TLS failure.
    Transport(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Denied(m) => write!(f, "denied: {m}"),
            HttpError::InvalidRequest(m) => write!(f, "invalid request: {m}"),
            HttpError::Timeout => f.write_str("timed out"),
            HttpError::TooLarge(limit) => write!(f, "response larger than {limit} bytes"),
            HttpError::Transport(m) => write!(f, "transport: {m}"),
        }
    }
}

impl std::error::Error for HttpError {}
