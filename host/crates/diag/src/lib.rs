//! Problems found in the files users hand the harness (candidate bundles,
//! suites): where (file:line:column), what is wrong, and what to do.
//!
//! Readers of those files never stop at the first problem: every check that
//! can still run does, and each finding becomes a [`Problem`]. Errors make
//! the file unusable; warnings are shown but it still loads. A [`LineIndex`]
//! turns the byte offsets parsers report into the lines and columns a person
//! looks for; a [`Source`] is a file's text with its index, and [`Diagnostics`]
//! collects the problems found while reading one or more files.
//!
//! [`toml_date`] reads a calendar date the way every TOML file the harness
//! takes writes it.

#![deny(missing_docs)]

mod collect;

pub use collect::{Diagnostics, Source};

use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use toml::de::DeValue;

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
    /// 1-based column, in characters; 0 when the problem concerns the whole line (or
    /// the whole file).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for Problem {
    /// `file:line:column: error: message`, then `  help: hint`, as compilers print
    /// (`file:line:` for a whole line, `file:` for the whole file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
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

/// `heading` (given the number of errors), then every problem on a line of its own: the
/// message of an error that carries a file's problems.
pub fn summary(problems: &[Problem], heading: impl FnOnce(usize) -> String) -> String {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let mut s = heading(errors);
    for p in problems {
        s.push('\n');
        s.push_str(&p.to_string());
    }
    s
}

/// A calendar date in a TOML file: a bare local date (`2026-03-02`) or the same in a
/// string. `None` for anything else, a date with a time or offset included.
pub fn toml_date(value: &DeValue<'_>) -> Option<NaiveDate> {
    let text = match value {
        DeValue::Datetime(d) if d.time.is_none() && d.offset.is_none() => d
            .date
            .map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        DeValue::String(s) => Some(s.trim().to_string()),
        _ => None,
    };
    NaiveDate::parse_from_str(text.as_deref()?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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

    #[test]
    fn problems_without_a_column_name_the_line_or_the_file() {
        let mut p = Problem {
            severity: Severity::Warning,
            file: "kb/public.md".into(),
            line: 4,
            column: 0,
            message: "odd".into(),
            hint: String::new(),
        };
        assert_eq!(p.to_string(), "kb/public.md:4: warning: odd");
        p.line = 0;
        assert_eq!(p.to_string(), "kb/public.md: warning: odd");
    }

    #[test]
    fn diagnostics_sort_by_file_then_position() {
        let a = Source::new("a.toml".into(), "x = 1\ny = 2\n".into());
        let b = Source::new("b.xml".into(), "<a/>\n".into());
        let mut d = Diagnostics::default();
        d.error(&a, 6, "second line", "");
        d.warning(&b, 0, "other file", "");
        d.error(&a, 0, "first line", "");
        d.push(
            Severity::Warning,
            Path::new("a.toml"),
            0,
            0,
            "whole file",
            "",
        );
        assert!(d.has_errors());
        let order: Vec<String> = d.into_sorted().into_iter().map(|p| p.message).collect();
        assert_eq!(
            order,
            ["whole file", "first line", "second line", "other file"]
        );
    }

    #[test]
    fn summaries_count_errors_and_list_every_problem() {
        let src = Source::new("s.toml".into(), "a\n".into());
        let mut d = Diagnostics::default();
        d.error(&src, 0, "bad", "fix it");
        d.warning(&src, 0, "odd", "");
        let s = summary(&d.problems, |errors| format!("{errors} error(s):"));
        assert_eq!(
            s,
            "1 error(s):\ns.toml:1:1: error: bad\n  help: fix it\ns.toml:1:1: warning: odd"
        );
    }

    #[test]
    fn toml_dates_are_bare_dates_or_date_strings() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 2);
        let date = |text: &str| {
            let table = toml::de::DeTable::parse(text).expect("valid TOML");
            let value = table.get_ref().get("d").expect("key d").get_ref().clone();
            toml_date(&value)
        };
        assert_eq!(date("d = 2026-03-02"), day);
        assert_eq!(date("d = \" 2026-03-02 \""), day);
        assert_eq!(date("d = 2026-03-02T10:00:00"), None);
        assert_eq!(date("d = 2026-03-02T10:00:00Z"), None);
        assert_eq!(date("d = \"2 March\""), None);
        assert_eq!(date("d = 20260302"), None);
    }
}
