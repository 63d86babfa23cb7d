//! Problems found in a bundle: where (file:line:column), what is wrong, and what to do.
//!
//! Validation never stops at the first problem: every check that can still run does, and
//! each finding becomes a [`Problem`]. Errors make the bundle unusable; warnings are
//! reported but do not stop a run (a best practice not followed, a value that is
//! probably a typo).

use std::path::{Path, PathBuf};

pub use certify_diag::{Problem, Severity};

/// The text of one file, able to turn byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The path problems are reported under.
    pub file: PathBuf,
    pub text: String,
    lines: certify_diag::LineIndex,
}

impl Source {
    pub fn new(file: PathBuf, text: String) -> Self {
        let lines = certify_diag::LineIndex::new(&text);
        Source { file, text, lines }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.position(&self.text, offset)
    }
}

/// Collects problems while a bundle is checked.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub problems: Vec<Problem>,
}

impl Diagnostics {
    /// A problem at a byte offset of `src`.
    pub fn at(
        &mut self,
        severity: Severity,
        src: &Source,
        offset: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let (line, column) = src.position(offset);
        self.push(severity, &src.file, line, column, message, hint);
    }

    /// An error at a byte offset of `src`.
    pub fn error(
        &mut self,
        src: &Source,
        offset: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.at(Severity::Error, src, offset, message, hint);
    }

    /// A warning at a byte offset of `src`.
    pub fn warning(
        &mut self,
        src: &Source,
        offset: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.at(Severity::Warning, src, offset, message, hint);
    }

    /// A problem at an explicit place (line 0: the whole file).
    pub fn push(
        &mut self,
        severity: Severity,
        file: &Path,
        line: usize,
        column: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.problems.push(Problem {
            severity,
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        });
    }

    /// The problems grouped by file (files in the order their first problem was found)
    /// and by position within each file, as a reader fixes them.
    pub fn into_sorted(self) -> Vec<Problem> {
        let mut files: Vec<PathBuf> = Vec::new();
        for p in &self.problems {
            if !files.contains(&p.file) {
                files.push(p.file.clone());
            }
        }
        let mut out = self.problems;
        // Stable: problems at the same place keep the order they were found in.
        out.sort_by_key(|p| {
            let f = files
                .iter()
                .position(|f| *f == p.file)
                .unwrap_or(usize::MAX);
            (f, p.line, p.column)
        });
        out
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let s = Source::new("f".into(), "ab\nçd\n\nx".into());
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(3), (2, 1));
        // 'ç' is two bytes, one column.
        assert_eq!(s.position(5), (2, 2));
        assert_eq!(s.position(7), (3, 1));
        assert_eq!(s.position(8), (4, 1));
        assert_eq!(s.position(100), (4, 2));
    }

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
