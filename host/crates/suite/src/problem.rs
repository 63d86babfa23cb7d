//! Problems found in a suite file: where (file:line:column), what is wrong, and what to do.
//!
//! A suite is read to the end even after a problem, so whoever edits it sees every
//! mistake at once. Errors make the suite unusable; warnings are shown but the suite
//! still loads (a value that is allowed but probably not meant). The suite is read as a
//! [`certify_diag`] source, like every file a user hands the harness.

pub(crate) use certify_diag::{Diagnostics, Source};
pub use certify_diag::{Problem, Severity};
