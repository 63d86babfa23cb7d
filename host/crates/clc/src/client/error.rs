//! Errors of the CLC client. They carry the API's own words (`message`, `modelState`,
//! per-item `errorMessage`) and never a password or token.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::QueueStatus;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The API answered with an error status.
    #[error("{method} {path}: HTTP {status}: {message}{}", format_model_state(.model_state))]
    Api {
        /// HTTP method.
        method: String,
        /// Request path (no query, no secrets).
        path: String,
        /// HTTP status.
        status: u16,
        /// The API's `message` (or the raw body when it had none).
        message: String,
        /// The API's `modelState`, field → messages.
        model_state: BTreeMap<String, Vec<String>>,
    },
    /// One item of a batch was not queued (`errorMessage`).
    #[error("{server}: {message}")]
    ItemFailed {
        /// Server id.
        server: String,
        /// The API's `errorMessage`.
        message: String,
    },
    /// The request did not get an answer (connection refused, reset, timeout).
    #[error("{method} {path}: {source}")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer did not have the expected shape.
    #[error("{method} {path}: unexpected response: {detail}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// A non-idempotent call failed in a way that leaves its outcome unknown, and the
    /// resource could not be found to settle it; it was deliberately not repeated.
    #[error("{what}: outcome unknown after a failed request ({detail}); not repeated")]
    Ambiguous {
        /// What was attempted.
        what: String,
        /// The failure.
        detail: String,
    },
    /// A queued operation ended in a failure.
    #[error("operation {id} ended {status:?}{}", .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OperationFailed {
        /// Status id or request id.
        id: String,
        /// Final status.
        status: QueueStatus,
        /// What the API said, when it said anything.
        detail: Option<String>,
    },
    /// Polling gave up at its deadline.
    #[error("gave up waiting for {what} after {waited:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
    /// A v1 call answered `Success: false`.
    #[error("v1 {method}: {message} (status code {status_code})")]
    V1 {
        /// `Area/Method`.
        method: String,
        /// The envelope's `StatusCode`.
        status_code: i32,
        /// The envelope's `Message`.
        message: String,
    },
    /// A package could not be read or zipped.
    #[error(transparent)]
    Package(#[from] certify_blueprint::CatalogError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

fn format_model_state(m: &BTreeMap<String, Vec<String>>) -> String {
    if m.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.join(" ")))
        .collect();
    format!(" ({})", parts.join("; "))
}

impl ClientError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's message, for API, item and v1 errors.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            ClientError::Api { message, .. }
            | ClientError::ItemFailed { message, .. }
            | ClientError::V1 { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The API's `modelState`, empty unless this is a validation error.
    pub fn model_state(&self) -> BTreeMap<String, Vec<String>> {
        match self {
            ClientError::Api { model_state, .. } => model_state.clone(),
            _ => BTreeMap::new(),
        }
    }

    /// Whether the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether retrying the same request could succeed (5xx, transport failures).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Api { status, .. } => *status >= 500,
            ClientError::Transport { source, .. } => !source.is_builder() && !source.is_decode(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_carries_the_api_words() {
        let mut ms = BTreeMap::new();
        ms.insert(
            "body.cpu".to_string(),
            vec!["The cpu must be between 1 and 16.".to_string()],
        );
        let e = ClientError::Api {
            method: "POST".into(),
            path: "/v2/servers/CERT".into(),
            status: 400,
            message: "The request is invalid.".into(),
            model_state: ms,
        };
        assert_eq!(
            e.to_string(),
            "POST /v2/servers/CERT: HTTP 400: The request is invalid. (body.cpu: The cpu must be between 1 and 16.)"
        );
    }
}
