//! The operations scheduler: the queue of operations (plans of steps that take account
//! time), the events that end their steps in account-time order, and the account time
//! the state was last saved at.

use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::ops::Deref;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use certify_clc::model::QueueStatus;

use super::durations;

/// Which server a step acts on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) enum ServerRef {
    Id(String),
    /// The server built by the n-th server task of the operation's blueprint.
    Task(usize),
}

/// What one step of an operation does.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Action {
    /// Finish building an existing server record.
    Build {
        server: String,
    },
    /// Create and build the server of a blueprint server task.
    BuildTask {
        task: usize,
        alias: String,
        template: String,
        cpu: u32,
        memory_gb: u32,
        group_id: String,
        password: String,
        network_id: Option<String>,
    },
    /// Run a package.
    Package {
        server: ServerRef,
        package: String,
        params: BTreeMap<String, String>,
    },
    Power {
        servers: Vec<String>,
        op: String,
    },
    Resize {
        server: String,
        cpu: Option<u32>,
        memory_gb: Option<u32>,
    },
    PublicIpReady {
        server: ServerRef,
        address: String,
    },
    PublicIpRemoved {
        server: String,
        address: String,
    },
    AddDisk {
        server: ServerRef,
        size_gb: u32,
    },
    /// A blueprint's `add_nat_ip` task: a public IP with these TCP ports.
    AddNatIp {
        server: ServerRef,
        ports: Vec<u32>,
    },
    DeleteServer {
        server: String,
    },
    DeleteGroup {
        group: String,
    },
    Publish {
        file_name: String,
    },
    Wait,
}

/// A step: an action and how long it takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Step {
    pub action: Action,
    pub secs: i64,
    /// Decided when the step begins: the failure it will end with.
    pub failure: Option<String>,
}

impl Step {
    pub fn new(action: Action, secs: i64) -> Self {
        Step {
            action,
            secs,
            failure: None,
        }
    }
}

/// An operation in the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OpRec {
    pub n: u64,
    pub dc: String,
    pub title: String,
    pub status: QueueStatus,
    pub requested: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
    pub plan: Vec<Step>,
    pub cursor: usize,
    /// Servers built by blueprint server tasks, by task index.
    pub task_servers: Vec<Option<String>>,
    pub blueprint: Option<u32>,
    pub error: Option<String>,
    /// A Local package process is running for the current step.
    pub awaiting_process: bool,
}

impl OpRec {
    pub fn status_id(&self) -> String {
        format!("{}-{}", self.dc.to_ascii_lowercase(), self.n)
    }

    pub fn percent(&self) -> u32 {
        if self.status == QueueStatus::Succeeded {
            return 100;
        }
        if self.plan.is_empty() {
            return 0;
        }
        (self.cursor * 100 / self.plan.len()) as u32
    }

    pub fn servers(&self) -> Vec<String> {
        let mut out: Vec<String> = self.task_servers.iter().flatten().cloned().collect();
        for s in &self.plan {
            if let Action::Build { server } = &s.action
                && !out.contains(server)
            {
                out.push(server.clone());
            }
        }
        out
    }
}

/// A scheduled event: step `step` of operation `op` ends (or, for `step == usize::MAX`, the
/// operation starts).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Scheduled {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub op: u64,
    pub step: usize,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest first.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The step number of the event that starts an operation.
pub(crate) const START: usize = usize::MAX;

/// Every operation by number, and the events still to come.
#[derive(Debug, Clone)]
pub(crate) struct Scheduler {
    /// Account time when the state was last saved: where the account clock resumes.
    pub account_time: DateTime<Utc>,
    pub(super) next_op: u64,
    pub(super) next_seq: u64,
    pub(super) operations: HashMap<u64, OpRec>,
    pub(super) events: BinaryHeap<Scheduled>,
}

impl Deref for Scheduler {
    type Target = HashMap<u64, OpRec>;

    fn deref(&self) -> &Self::Target {
        &self.operations
    }
}

impl Scheduler {
    /// An empty queue whose clock reads `now`; operation numbers start at 1000.
    pub fn new(now: DateTime<Utc>) -> Self {
        Scheduler {
            account_time: now,
            next_op: 1000,
            next_seq: 0,
            operations: HashMap::new(),
            events: BinaryHeap::new(),
        }
    }

    pub fn get_mut(&mut self, n: u64) -> Option<&mut OpRec> {
        self.operations.get_mut(&n)
    }

    /// The status id (`<dc>-<n>`) of operation `n`.
    pub fn status_id(&self, n: u64) -> String {
        self.operations[&n].status_id()
    }

    /// Queues a new operation; it starts after the queue delay.
    pub fn new_op(&mut self, dc: &str, title: &str, plan: Vec<Step>, now: DateTime<Utc>) -> u64 {
        let n = self.next_op;
        self.next_op += 1;
        self.operations.insert(
            n,
            OpRec {
                n,
                dc: dc.to_ascii_uppercase(),
                title: title.to_string(),
                status: QueueStatus::NotStarted,
                requested: now,
                started: None,
                finished: None,
                plan,
                cursor: 0,
                task_servers: Vec::new(),
                blueprint: None,
                error: None,
                awaiting_process: false,
            },
        );
        self.schedule(n, START, now + TimeDelta::seconds(durations::QUEUE_SECS));
        n
    }

    /// Step `step` of operation `op` ends (or with [`START`], the operation starts) at `at`.
    pub fn schedule(&mut self, op: u64, step: usize, at: DateTime<Utc>) {
        self.next_seq += 1;
        self.events.push(Scheduled {
            at,
            seq: self.next_seq,
            op,
            step,
        });
    }

    /// When the next event is due, if any.
    pub fn next_event_at(&self) -> Option<DateTime<Utc>> {
        self.events.peek().map(|e| e.at)
    }

    /// Takes the earliest event if it is due by `now`.
    pub fn pop_due(&mut self, now: DateTime<Utc>) -> Option<Scheduled> {
        if self.events.peek()?.at > now {
            return None;
        }
        self.events.pop()
    }

    /// The server a step acts on, once it exists.
    pub fn resolve(&self, n: u64, r: &ServerRef) -> Option<String> {
        match r {
            ServerRef::Id(id) => Some(id.clone()),
            ServerRef::Task(t) => self.operations.get(&n)?.task_servers.get(*t)?.clone(),
        }
    }

    /// Looks up an operation by status id (`<dc>-<n>`) or bare number.
    pub fn by_status_id(&self, status_id: &str) -> Option<&OpRec> {
        let n: u64 = status_id.rsplit('-').next()?.parse().ok()?;
        let op = self.operations.get(&n)?;
        match status_id.rsplit_once('-') {
            Some((dc, _)) if !dc.eq_ignore_ascii_case(&op.dc) => None,
            _ => Some(op),
        }
    }
}
