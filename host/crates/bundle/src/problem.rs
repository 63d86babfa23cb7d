//! Problems found in a bundle: where (file:line:column), what is wrong, and what to do.
//!
//! Validation never stops at the first problem: every check that can still run does, and
//! each finding becomes a [`Problem`]. Errors make the bundle unusable; warnings are
//! reported but do not stop a run (a best practice not followed, a value that is
//! probably a typo). The bundle's files are read as [`certify_diag`] sources, like
//! every file a user hands the harness.

pub(crate) use certify_diag::{Diagnostics, Source};
pub use certify_diag::{Problem, Severity};
