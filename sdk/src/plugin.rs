//! Declaring a plugin: its checks, their metadata, and what a check returns.

use std::time::Duration;

use crate::{Context, Result};

/// The certification criterion a check serves: the four things the Ecosystem
/// Program's certification validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Criterion {
    /// The solution performs as advertised.
    PerformsAsAdvertised,
    /// The documentation is simple to follow, accurate and publishable.
    Documentation,
    /// The solution deploys through the Blueprint Engine.
    BlueprintIntegration,
    /// The solution delivers the business value claimed in the application.
    BusinessValue,
}

/// The verdict of one check on the candidate's product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The product did what the check expects.
    Pass,
    /// The product did not; the message says what happened.
    Fail(String),
    /// The check does not apply; the message says why.
    Skipped(String),
}

impl Outcome {
    /// A failure with a message.
    pub fn fail(message: impl Into<String>) -> Self {
        Outcome::Fail(message.into())
    }

    /// A skip with a reason.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Outcome::Skipped(reason.into())
    }

    /// `Pass` when `condition` holds, otherwise a failure with `message`.
    pub fn expect(condition: bool, message: impl Into<String>) -> Self {
        if condition {
            Outcome::Pass
        } else {
            Outcome::Fail(message.into())
        }
    }

    /// Whether this is a pass.
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass)
    }
}

/// A piece of evidence a check attached to its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// File-like name, for example `health.json`.
    pub name: String,
    /// Media type, for example `application/json`.
    pub media_type: String,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A value a check measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// What was measured, for example `latency`.
    pub name: String,
    /// The value.
    pub value: f64,
    /// Its unit, for example `ms`.
    pub unit: String,
}

/// The function that runs a check.
pub type CheckFn = Box<dyn Fn(&mut Context) -> Result<Outcome>>;

/// One check: metadata for the report plus the function that runs it.
pub struct Check {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) criterion: Criterion,
    pub(crate) description: String,
    pub(crate) remediation: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) readiness: bool,
    pub(crate) run: CheckFn,
}

impl Check {
    /// A check with a stable `id` (unique within the plugin), a one-line
    /// `title`, and the function that runs it. It serves
    /// [`Criterion::PerformsAsAdvertised`] unless [`Check::criterion`] says otherwise.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        run: impl Fn(&mut Context) -> Result<Outcome> + 'static,
    ) -> Self {
        Check {
            id: id.into(),
            title: title.into(),
            criterion: Criterion::PerformsAsAdvertised,
            description: String::new(),
            remediation: None,
            timeout: None,
            readiness: false,
            run: Box::new(run),
        }
    }

    /// The certification criterion this check serves.
    pub fn criterion(mut self, criterion: Criterion) -> Self {
        self.criterion = criterion;
        self
    }

    /// What the check verifies and how.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// What the candidate should do when the check fails.
    pub fn remediation(mut self, hint: impl Into<String>) -> Self {
        self.remediation = Some(hint.into());
        self
    }

    /// Wall-clock limit for one run; the harness caps it at its own limit.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Mark this as the readiness check: after a deployment the harness repeats
    /// it until it passes, and that moment ends the time-to-value measurement.
    pub fn readiness(mut self) -> Self {
        self.readiness = true;
        self
    }

    /// The check's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("id", &self.id)
            .field("title", &self.title)
            .field("criterion", &self.criterion)
            .field("readiness", &self.readiness)
            .finish_non_exhaustive()
    }
}

/// A plugin: a name, a version and its checks.
#[derive(Debug)]
pub struct Plugin {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) checks: Vec<Check>,
}

impl Plugin {
    /// A plugin with no checks yet. Use the crate's version for `version`
    /// (`env!("CARGO_PKG_VERSION")`).
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Plugin {
            name: name.into(),
            version: version.into(),
            checks: Vec::new(),
        }
    }

    /// Add a check; checks are reported in the order they are added.
    pub fn check(mut self, check: Check) -> Self {
        self.checks.push(check);
        self
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The checks, in order.
    pub fn checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter()
    }

    pub(crate) fn find(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}
