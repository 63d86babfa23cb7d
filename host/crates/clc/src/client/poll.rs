//! Waiting on queued work: exponential backoff with jitter, a cap, and an overall
//! deadline. A client waiting on N operations sends at most one status request per
//! operation per poll interval: all pending operations are polled together once per
//! round, operations sharing a status id are polled once, and a failed poll is not
//! retried inside the round (the next round is the retry), as the official SDKs do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;

use super::{Body, Client, ClientError, Retry};
use crate::model::{DeploymentStatus, Link, QueueStatus, RequestDetails, Server, StatusResponse};

/// Something to wait on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pending {
    /// Nothing: already done.
    Done,
    /// A v2 queue status id (`<dc>-<n>`).
    Queue(String),
    /// A server (id or UUID) that must become `active` (used when the create's answer
    /// was lost and the server was found by lookup).
    ServerBuilt(String),
    /// A server (id) that must disappear.
    ServerDeleted(String),
    /// A v1 blueprint deployment request (`GetDeploymentStatus`).
    Deployment(u64),
    /// A v1 request (`Queue/GetRequestStatus`), e.g. a package publication.
    Request(u64),
}

impl Pending {
    /// From a bare status link (`{"rel":"status","href":...,"id":...}`).
    pub fn from_link(link: &Link) -> Pending {
        match &link.id {
            Some(id) => Pending::Queue(id.clone()),
            None => match link.href.rsplit('/').next() {
                Some(id) if !id.is_empty() => Pending::Queue(id.to_string()),
                _ => Pending::Done,
            },
        }
    }

    fn describe(&self) -> String {
        match self {
            Pending::Done => "nothing".into(),
            Pending::Queue(id) => format!("operation {id}"),
            Pending::ServerBuilt(id) => format!("build of server {id}"),
            Pending::ServerDeleted(id) => format!("deletion of server {id}"),
            Pending::Deployment(n) => format!("blueprint deployment {n}"),
            Pending::Request(n) => format!("request {n}"),
        }
    }
}

/// How to poll.
#[derive(Debug, Clone)]
pub struct PollPolicy {
    /// First interval.
    pub initial: Duration,
    /// Cap on the interval.
    pub max: Duration,
    /// Growth factor per round.
    pub factor: f64,
    /// Random spread of each interval, as a fraction (0.2 = ±20%).
    pub jitter: f64,
    /// Overall deadline.
    pub deadline: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(20),
            factor: 1.5,
            jitter: 0.2,
            deadline: Duration::from_secs(3600),
        }
    }
}

impl PollPolicy {
    /// A fast policy for emulators with a high clock scale.
    pub fn fast() -> Self {
        PollPolicy {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(500),
            factor: 1.5,
            jitter: 0.2,
            deadline: Duration::from_secs(120),
        }
    }

    /// The `round`-th interval before jitter.
    pub fn interval(&self, round: u32) -> Duration {
        let secs = self.initial.as_secs_f64() * self.factor.max(1.0).powi(round as i32);
        Duration::from_secs_f64(secs.min(self.max.as_secs_f64()))
    }
}

fn is_uuid_like(s: &str) -> bool {
    s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn v1_status(s: &str) -> QueueStatus {
    match s {
        "NotStarted" | "Not Started" => QueueStatus::NotStarted,
        "Executing" => QueueStatus::Executing,
        "Succeeded" => QueueStatus::Succeeded,
        "Failed" => QueueStatus::Failed,
        "Resumed" => QueueStatus::Resumed,
        _ => QueueStatus::Unknown,
    }
}

impl Client {
    /// Polls once. `Ok(None)`: still pending (or the poll failed transiently).
    async fn poll_once(&self, p: &Pending) -> Result<Option<QueueStatus>, ClientError> {
        let terminal = |s: QueueStatus| (!s.is_pending()).then_some(s);
        let outcome = match p {
            Pending::Done => return Ok(Some(QueueStatus::Succeeded)),
            Pending::Queue(id) => {
                let alias = self.alias().await?;
                let path = format!("/v2/operations/{alias}/status/{id}");
                self.call_json::<StatusResponse>(Method::GET, &path, Body::None, Retry::Once)
                    .await
                    .map(|r| terminal(r.status))
            }
            Pending::ServerBuilt(id) => {
                let alias = self.alias().await?;
                let path = if is_uuid_like(id) {
                    format!("/v2/servers/{alias}/{id}?uuid=true")
                } else {
                    format!("/v2/servers/{alias}/{id}")
                };
                match self
                    .call_json::<Server>(Method::GET, &path, Body::None, Retry::Once)
                    .await
                {
                    Ok(s) if s.status == "active" => Ok(Some(QueueStatus::Succeeded)),
                    Ok(_) => Ok(None),
                    Err(e) if e.is_not_found() => Ok(Some(QueueStatus::Failed)),
                    Err(e) => Err(e),
                }
            }
            Pending::ServerDeleted(id) => {
                let alias = self.alias().await?;
                let path = format!("/v2/servers/{alias}/{id}");
                match self
                    .call_json::<Server>(Method::GET, &path, Body::None, Retry::Once)
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) if e.is_not_found() => Ok(Some(QueueStatus::Succeeded)),
                    Err(e) => Err(e),
                }
            }
            Pending::Deployment(n) => self
                .deployment_status_with(*n, Retry::Once)
                .await
                .map(|d: DeploymentStatus| terminal(v1_status(&d.current_status))),
            Pending::Request(n) => self
                .request_status_with(*n, Retry::Once)
                .await
                .map(|d: RequestDetails| terminal(v1_status(&d.current_status))),
        };
        match outcome {
            Err(e) if e.is_transient() => Ok(None),
            other => other,
        }
    }

    /// Waits until every item is finished; returns the final status of each, in order.
    /// A failed operation is a result (`QueueStatus::Failed`), not an error; errors are
    /// for the deadline and for answers that make waiting pointless (e.g. 404 on a status).
    pub async fn wait_all(&self, items: &[Pending]) -> Result<Vec<QueueStatus>, ClientError> {
        let policy = self.inner.poll.clone();
        let start = Instant::now();
        let mut done: HashMap<Pending, QueueStatus> = HashMap::new();
        let mut round = 0u32;
        loop {
            let mut todo: Vec<&Pending> = Vec::new();
            for p in items {
                if !done.contains_key(p) && !todo.contains(&p) {
                    todo.push(p);
                }
            }
            if todo.is_empty() {
                break;
            }
            let results =
                futures_util::future::join_all(todo.iter().map(|p| self.poll_once(p))).await;
            for (p, r) in todo.iter().zip(results) {
                if let Some(s) = r? {
                    done.insert((*p).clone(), s);
                }
            }
            if items.iter().all(|p| done.contains_key(p)) {
                break;
            }
            if start.elapsed() >= policy.deadline {
                let first = items
                    .iter()
                    .find(|p| !done.contains_key(p))
                    .expect("some pending");
                return Err(ClientError::Timeout {
                    what: first.describe(),
                    waited: start.elapsed(),
                });
            }
            let base = policy.interval(round).as_secs_f64();
            let spread = policy.jitter.clamp(0.0, 0.9);
            let factor = 1.0 - spread + 2.0 * spread * super::jitter_unit(self.next_seq());
            tokio::time::sleep(std::time::Duration::from_secs_f64(base * factor)).await;
            round += 1;
        }
        Ok(items.iter().map(|p| done[p]).collect())
    }

    /// Waits for one item; a failure is [`ClientError::OperationFailed`].
    pub async fn wait(&self, item: &Pending) -> Result<(), ClientError> {
        let status = self.wait_all(std::slice::from_ref(item)).await?[0];
        if status == QueueStatus::Succeeded {
            return Ok(());
        }
        let detail = match item {
            Pending::Deployment(n) => self.deployment_status(*n).await.ok().map(|d| d.description),
            Pending::Request(n) => self.request_status(*n).await.ok().map(|d| d.progress_desc),
            _ => None,
        };
        Err(ClientError::OperationFailed {
            id: item.describe(),
            status,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_grow_to_the_cap() {
        let p = PollPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(300),
            factor: 2.0,
            jitter: 0.0,
            deadline: Duration::from_secs(1),
        };
        assert_eq!(p.interval(0), Duration::from_millis(100));
        assert_eq!(p.interval(1), Duration::from_millis(200));
        assert_eq!(p.interval(5), Duration::from_millis(300));
    }

    #[test]
    fn bare_status_links_become_queue_items() {
        let l = Link::new("status", "/v2/operations/cert/status/va1-12").with_id("va1-12");
        assert_eq!(Pending::from_link(&l), Pending::Queue("va1-12".into()));
        let l = Link::new("status", "/v2/operations/cert/status/va1-13");
        assert_eq!(Pending::from_link(&l), Pending::Queue("va1-13".into()));
    }
}
