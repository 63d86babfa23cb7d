//! Collecting problems while a file is read: a [`Source`] turns the byte offsets a
//! parser reports into lines and columns, and [`Diagnostics`] gathers every finding so
//! that a reader sees them all at once, in the order they would fix them.

use std::path::{Path, PathBuf};

use crate::{LineIndex, Problem, Severity};

/// The text of one file, able to turn byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path problems are reported under.
    pub file: PathBuf,
    /// The file's text.
    pub text: String,
    lines: LineIndex,
}

impl Source {
    /// `text`, reported as `file`.
    pub fn new(file: PathBuf, text: String) -> Self {
        let lines = LineIndex::new(&text);
        Source { file, text, lines }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.position(&self.text, offset)
    }
}

/// Collects problems while files are checked.
#[derive(Debug, Default)]
pub struct Diagnostics {
    /// Every problem found, in the order found.
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

    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// The first error, if any.
    pub fn first_error(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.severity == Severity::Error)
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
    fn the_first_error_is_the_first_found() {
        let a = Source::new("a".into(), "x\ny\n".into());
        let mut d = Diagnostics::default();
        d.warning(&a, 0, "odd", "");
        d.error(&a, 2, "second", "");
        d.error(&a, 0, "first", "");
        assert_eq!(d.first_error().unwrap().message, "second");
    }
}
