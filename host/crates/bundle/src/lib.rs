//! Candidate bundles: what a candidate hands in for certification, loaded and validated.
//!
//! A bundle is a directory described by `candidate.toml` (format 1, documented with an
//! annotated example in `FORMAT.md`):
//!
//! ```text
//! acme-status-page/
//! ├── candidate.toml          company, product, tier, program start, support contacts,
//! │                           and where everything else is
//! ├── blueprint.json          the blueprint, in the bpformation JSON shape
//! ├── packages/
//! │   └── install-acme-status/   a package: package.manifest + install.sh (or a .zip)
//! ├── kb/public/….md          the public KB article (end users, step by step)
//! ├── kb/internal/….md        the internal KB article (the provider's support staff)
//! └── plugin/                 the validation plugin: a Cargo project, or a .wasm
//! ```
//!
//! [`Bundle::load`] reads all of it and checks it before anything is deployed: the TOML
//! schema, the blueprint's JSON and structure, each package's manifest and script, and
//! the cross-references between them — every package the blueprint runs is in the
//! bundle (or built into every account), every required package parameter without a
//! default gets a value from the blueprint or the deployment parameters, values satisfy
//! their parameter's type and regex, referenced files exist inside the bundle. It
//! collects **every** problem, each with file:line:column and what to do, and fails
//! with [`LoadError::Invalid`] when any is an error:
//!
//! ```no_run
//! match certify_bundle::Bundle::load("plugins/sample-candidate") {
//!     Ok(bundle) => {
//!         for w in &bundle.warnings {
//!             eprintln!("{w}");
//!         }
//!         println!("{} by {}", bundle.candidate.product, bundle.candidate.company);
//!         for input in &bundle.inputs {
//!             println!("{}  {}", input.sha256, input.path);
//!         }
//!     }
//!     Err(e) => eprintln!("{e}"),
//! }
//! ```
//!
//! The loaded [`Bundle`] is typed data for the harness: the candidate and its tier's
//! credit, support contacts, the [`Blueprint`] (servers with size, template and tasks;
//! package tasks resolved to the bundle's [`Package`]s), the KB article paths, the
//! [`PluginSource`], the deployment parameters (secrets marked, and withheld by `Debug`
//! and `Serialize`), and every input file with its SHA-256 in a stable order, which
//! reports record so reviewers can verify what was certified.

#![warn(missing_docs)]

mod candidate;
mod load;
mod package;
mod problem;
mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use candidate::{
    Candidate, Contact, Deploy, DeployParameter, FORMAT, ParameterValue, PluginSource, PluginSpec,
    ResolvedParameter, Secret, SecretError, SecretSource, Support, Tier, well_formed_email,
    well_formed_phone,
};
pub use certify_blueprint::{
    BUILTIN_PACKAGES, Blueprint, BlueprintServer, BuiltinPackage, Execution, ExecutionMode,
    LINUX_UPDATE, PackageParameter, PackageRef, PackageTask, ParameterType, Prompt,
    SYSTEM_PARAMETERS, ServerTask, ValueError, reserved_parameter,
};
pub use package::{Package, PackageForm};
pub use problem::{Problem, Severity};
pub use snapshot::{Limits, Snapshot, SnapshotError, SnapshotFile};

/// The file that describes a bundle.
pub const CANDIDATE_TOML: &str = "candidate.toml";

/// A loaded, valid candidate bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// The root of the bundle's private, read-only snapshot: every path of the loaded
    /// bundle is inside it, and nothing after loading reads the candidate's directory.
    pub root: PathBuf,
    /// The candidate's directory, as given to [`Bundle::load`] (for messages only).
    pub source: PathBuf,
    /// The candidate and its product.
    pub candidate: Candidate,
    /// The Member's support contacts.
    pub support: Support,
    /// The blueprint.
    pub blueprint: Blueprint,
    /// The packages, in `candidate.toml` order.
    pub packages: Vec<Package>,
    /// The KB articles.
    pub kb: KbArticles,
    /// The validation plugin.
    pub plugin: PluginSpec,
    /// The deployment parameters.
    pub deploy: Deploy,
    /// Every input file with its digest, in a stable order: `candidate.toml`, the
    /// blueprint, each package's files (packages in `candidate.toml` order, files
    /// sorted), the public article, the internal article, the plugin's files (sorted,
    /// hidden files included), then every other file of the bundle (sorted). Only
    /// `.git` and a Cargo project's `target/` are left out, and they are not in the
    /// snapshot either.
    pub inputs: Vec<InputFile>,
    /// Problems that do not stop certification (best practices not followed, likely typos).
    pub warnings: Vec<Problem>,
    /// The snapshot everything above points into; removed when the last clone goes.
    #[serde(skip)]
    pub snapshot: Arc<Snapshot>,
}

/// Paths of the two KB articles the program requires, absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KbArticles {
    /// The public, step-by-step article for end users.
    pub public: PathBuf,
    /// The internal article for the provider's support staff.
    pub internal: PathBuf,
}

/// One input file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    /// Path relative to the bundle root, `/`-separated (a zip package is one file).
    pub path: String,
    /// What part of the bundle it belongs to.
    pub role: InputRole,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The part of a bundle an input file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputRole {
    /// `candidate.toml`.
    Candidate,
    /// The blueprint JSON.
    Blueprint,
    /// A file of a package (or a package zip).
    Package,
    /// The public KB article.
    KbPublic,
    /// The internal KB article.
    KbInternal,
    /// A file of the plugin (or the `.wasm`).
    Plugin,
    /// Any other file of the bundle.
    Other,
}

impl InputRole {
    /// As report.json and the attestation spell it (`kb-public`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            InputRole::Candidate => "candidate",
            InputRole::Blueprint => "blueprint",
            InputRole::Package => "package",
            InputRole::KbPublic => "kb-public",
            InputRole::KbInternal => "kb-internal",
            InputRole::Plugin => "plugin",
            InputRole::Other => "other",
        }
    }
}

/// Why a bundle could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bundle directory does not exist or is not a directory.
    #[error("{} is not a directory; give the candidate bundle's directory (the one holding candidate.toml)", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// There is no `candidate.toml` in the directory.
    #[error("{} has no candidate.toml; a candidate bundle is a directory described by candidate.toml (see host/crates/bundle/FORMAT.md)", path.display())]
    NoCandidateToml {
        /// The bundle directory.
        path: PathBuf,
    },
    /// The bundle holds what a snapshot refuses (links, devices, too much).
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The bundle has errors; `problems` holds every error and warning found.
    #[error("{}", summary(root, problems))]
    Invalid {
        /// The bundle directory.
        root: PathBuf,
        /// Every problem found, errors and warnings, in the order found.
        problems: Vec<Problem>,
    },
}

impl LoadError {
    /// The problems of an invalid bundle (empty for the other errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid { problems, .. } => problems,
            LoadError::Snapshot(SnapshotError::Refused { problems, .. }) => problems,
            _ => &[],
        }
    }
}

fn summary(root: &Path, problems: &[Problem]) -> String {
    certify_diag::summary(problems, |errors| {
        format!(
            "the candidate bundle {} has {errors} error{}",
            root.display(),
            if errors == 1 { "" } else { "s" }
        )
    })
}

impl Bundle {
    /// Snapshots the bundle in `root` (the directory holding `candidate.toml`), then
    /// loads and validates the snapshot.
    pub fn load(root: impl AsRef<Path>) -> Result<Bundle, LoadError> {
        let root = root.as_ref();
        if !root.is_dir() {
            return Err(LoadError::NotADirectory {
                path: root.to_path_buf(),
            });
        }
        if !root.join(CANDIDATE_TOML).is_file() {
            return Err(LoadError::NoCandidateToml {
                path: root.to_path_buf(),
            });
        }
        Bundle::load_snapshot(Arc::new(Snapshot::take(root)?))
    }

    /// Loads and validates a snapshot already taken.
    pub fn load_snapshot(snapshot: Arc<Snapshot>) -> Result<Bundle, LoadError> {
        load::load(snapshot)
    }

    /// The bundle's package a package task runs, if it is one of the bundle's.
    pub fn package_of(&self, task: &PackageTask) -> Option<&Package> {
        match task.package {
            PackageRef::Bundle(i) => self.packages.get(i),
            _ => None,
        }
    }

    /// One digest for the whole bundle: the SHA-256 of its `sha256sum`-style listing
    /// (`<sha256>  <path>\n` per input, in [`Bundle::inputs`] order).
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for i in &self.inputs {
            h.update(format!("{}  {}\n", i.sha256, i.path).as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Values public articles must not contain: the escalation contacts.
    pub fn internal_only(&self) -> Vec<String> {
        let e = &self.support.escalation;
        e.email.iter().chain(&e.phone).cloned().collect()
    }
}
