//! Problems found in a suite file: where (file:line:column), what is wrong, and what to do.
//!
//! A suite is read to the end even after a problem, so whoever edits it sees every
//! mistake at once. Errors make the suite unusable; warnings are shown but the suite
//! still loads (a value that is allowed but probably not meant).

use std::path::Path;

pub use certify_diag::{Problem, Severity};

/// The text of a suite file, able to turn byte offsets into lines and columns.
pub(crate) struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    lines: certify_diag::LineIndex,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        let lines = certify_diag::LineIndex::new(text);
        Source { file, text, lines }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.position(self.text, offset)
    }
}

/// Collects problems while a suite is read.
pub(crate) struct Diagnostics<'a> {
    pub src: Source<'a>,
    pub problems: Vec<Problem>,
}

impl<'a> Diagnostics<'a> {
    pub fn new(src: Source<'a>) -> Self {
        Diagnostics {
            src,
            problems: Vec::new(),
        }
    }

    /// A problem at a byte offset; `None` for the whole file.
    pub fn at(
        &mut self,
        severity: Severity,
        offset: Option<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let (line, column) = offset.map_or((0, 0), |o| self.src.position(o));
        self.problems.push(Problem {
            severity,
            file: self.src.file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: hint.into(),
        });
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// The problems in file order, as a reader fixes them. Stable: problems at the
    /// same place keep the order they were found in.
    pub fn into_sorted(self) -> Vec<Problem> {
        let mut out = self.problems;
        out.sort_by_key(|p| (p.line, p.column));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let path = Path::new("f");
        let s = Source::new(path, "ab\nçd\n\nx");
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
            file: "certification-suites/gold.toml".into(),
            line: 3,
            column: 8,
            message: "unknown key `titel` at the top level".into(),
            hint: "did you mean `title`?".into(),
        };
        assert_eq!(
            p.to_string(),
            "certification-suites/gold.toml:3:8: error: unknown key `titel` at the top level\n  help: did you mean `title`?"
        );
    }
}
