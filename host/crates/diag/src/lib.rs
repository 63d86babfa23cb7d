//! Problems found in the files users hand the harness (candidate bundles,
//! suites): where (file:line:column), what is wrong, and what to do.
//!
//! Readers of those files never stop at the first problem: every check that
//! can still run does, and each finding becomes a [`Problem`]. Errors make
//! the file unusable; warnings are shown but it still loads. A [`LineIndex`]
//! turns the byte offsets parsers report into the lines and columns a person
//! looks for.

#![deny(missing_docs)]

mod collect;

pub use collect::{Diagnostics, Source};

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used until this is fixed.
    Error,
    /// Shown, but the file still loads.
    Warning,
}

/// One finding, at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as a path a reader can open (`a.zip!/package.manifest` for a
    /// file inside a zip).
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column, in characters; 0 when the problem concerns the whole file.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for Problem {
    /// `file:line:column: error: message`, then `  help: hint`, as compilers print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": {what}: {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, "\n  help: {}", self.hint)?;
        }
        Ok(())
    }
}

/// Where each line of a text starts, to turn byte offsets into positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Index `text`.
    pub fn new(text: &str) -> Self {
        LineIndex {
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset into `text`
    /// (the text this index was built from).
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\nnämé = 2\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), (1, 1));
        assert_eq!(index.position(text, 6), (2, 1));
        // `=` after a four-character name written in six bytes.
        assert_eq!(index.position(text, text.find(" = 2").unwrap()), (2, 5));
        assert_eq!(index.position(text, 10_000), (3, 1));
    }

    #[test]
    fn problems_print_like_a_compiler() {
        let p = Problem {
            severity: Severity::Error,
            file: "candidate.toml".into(),
            line: 3,
            column: 7,
            message: "unknown tier `bronze`".into(),
            hint: "use silver, gold or platinum".into(),
        };
        assert_eq!(
            p.to_string(),
            "candidate.toml:3:7: error: unknown tier `bronze`\n  help: use silver, gold or platinum"
        );
    }
}
