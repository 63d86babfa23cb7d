//! Problems found in a bundle: where (file:line:column), what is wrong, and what to do.
//!
//! Validation never stops at the first problem: every check that can still run does, and
//! each finding becomes a [`Problem`]. Errors make the bundle unusable; warnings are
//! reported but do not stop a run (a best practice not followed, a value that is
//! probably a typo).

pub(crate) use certify_diag::{Diagnostics, Source};
pub use certify_diag::{Problem, Severity};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_like_a_compiler() {
        let p = Problem {
            severity: Severity::Error,
            file: "b/candidate.toml".into(),
            line: 3,
            column: 8,
            message: "unknown tier \"bronze\"".into(),
            hint: "use silver, gold or platinum".into(),
        };
        assert_eq!(
            p.to_string(),
            "b/candidate.toml:3:8: error: unknown tier \"bronze\"\n  help: use silver, gold or platinum"
        );
    }
}
