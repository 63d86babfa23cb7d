//! Comparing a command's output with the output the article shows.
//!
//! The syntax is trycmd's (snapbox): `[..]` inside a line matches any text on that line,
//! and a line that is only `...` matches any number of lines (including none). Before
//! comparing, both sides are normalised: CRLF to LF, ANSI colour codes removed, trailing
//! whitespace of each line and trailing blank lines dropped.
//!
//! Both sides come from the candidate (the article and the command it runs), so matching
//! is bounded: it allocates nothing beyond the two normalised texts, and the work it
//! does is capped by [`WORK_BUDGET`]. An expected output that would need more work than
//! that (thousands of `...` and `[..]` lines against a long output) fails its step with
//! a message saying so, instead of holding the harness.
//!
//! The `...` lines split the expected output into segments of ordinary lines. The first
//! segment must match at the start of the output, the last at its end, and each one in
//! between at its leftmost place after the one before: with only "any number of lines"
//! between segments, the leftmost place is always the best one, so no backtracking is
//! needed.

/// The most bytes of pattern and line that one comparison may look at, summed over the
/// whole comparison: about a tenth of a second of work.
pub const WORK_BUDGET: usize = 64 * 1024 * 1024;

/// Normalises text for comparison and for reports.
pub fn normalize(text: &str) -> String {
    let no_ansi = strip_ansi(text);
    let mut lines: Vec<&str> = no_ansi
        .split('\n')
        .map(|l| l.trim_end_matches('\r').trim_end())
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Removes ANSI escape sequences (CSI `ESC [ … letter` and OSC `ESC ] … BEL`).
pub fn strip_ansi(text: &str) -> String {
    if !text.contains('\u{1b}') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for n in chars.by_ref() {
                    if ('@'..='~').contains(&n) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(n) = chars.next() {
                    if n == '\u{7}' {
                        break;
                    }
                    if n == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `actual` matches the `expected` pattern. `Err` carries a short explanation:
/// the first expected line that could not be matched.
pub fn matches(expected: &str, actual: &str) -> Result<(), String> {
    let exp = normalize(expected);
    let act = normalize(actual);
    let e = lines(&exp);
    let a = lines(&act);
    let mut budget = Budget(WORK_BUDGET);

    // Segments of ordinary lines between `...` lines, with their first line's index.
    let mut segments: Vec<(usize, &[&str])> = Vec::new();
    let mut from = 0;
    for (i, line) in e.iter().enumerate() {
        if is_any(line) {
            segments.push((from, &e[from..i]));
            from = i + 1;
        }
    }
    segments.push((from, &e[from..]));
    let open = segments.len() > 1; // at least one `...`

    let (first_at, first) = segments[0];
    let head = first.len().min(a.len());
    if let Some(k) = first_mismatch(first, &a[..head], &mut budget)? {
        return Err(missing(first_at + k, e[first_at + k]));
    }
    if first.len() > a.len() {
        return Err(missing(first_at + a.len(), e[first_at + a.len()]));
    }
    if !open {
        return if a.len() > e.len() {
            Err(MORE_LINES.to_string())
        } else {
            Ok(())
        };
    }
    let (last_at, last) = segments[segments.len() - 1];
    // The last segment is anchored at the end: find where it must start.
    let Some(tail_from) = a
        .len()
        .checked_sub(last.len())
        .filter(|&t| t >= first.len())
    else {
        return Err(missing(last_at, e.get(last_at).copied().unwrap_or("...")));
    };
    let mut pos = first.len();
    for &(seg_at, seg) in &segments[1..segments.len() - 1] {
        match find(seg, &a[pos..tail_from], &mut budget)? {
            Some(found) => pos += found + seg.len(),
            None => return Err(missing(seg_at, e[seg_at])),
        }
    }
    if let Some(k) = first_mismatch(last, &a[tail_from..], &mut budget)? {
        return Err(missing(last_at + k, e[last_at + k]));
    }
    Ok(())
}

const MORE_LINES: &str = "the command printed more lines than the article shows (end the expected output with `...` if more is fine)";

fn lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').collect()
    }
}

fn is_any(line: &str) -> bool {
    line.trim() == "..."
}

fn missing(index: usize, line: &str) -> String {
    format!("expected output line {} not found: {line:?}", index + 1)
}

/// What is left of the comparison's work; see [`WORK_BUDGET`].
struct Budget(usize);

impl Budget {
    fn spend(&mut self, pattern: &str, line: &str) -> Result<(), String> {
        let cost = pattern.len() + line.len() + 1;
        self.0 = self.0.checked_sub(cost).ok_or_else(|| {
            "the expected output is too large or too irregular to compare with this output (use fewer `...` and `[..]`, or `ignore-output`)".to_string()
        })?;
        Ok(())
    }
}

/// The first pattern line that does not match the line beside it (`lines` is at most
/// as long as `pattern`).
fn first_mismatch(
    pattern: &[&str],
    lines: &[&str],
    budget: &mut Budget,
) -> Result<Option<usize>, String> {
    for (k, (p, l)) in pattern.iter().zip(lines).enumerate() {
        budget.spend(p, l)?;
        if !line_matches(p, l) {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

/// The leftmost place in `lines` where every line of `segment` matches in turn.
fn find(segment: &[&str], lines: &[&str], budget: &mut Budget) -> Result<Option<usize>, String> {
    if segment.len() > lines.len() {
        return Ok(None);
    }
    for start in 0..=lines.len() - segment.len() {
        if first_mismatch(segment, &lines[start..start + segment.len()], budget)?.is_none() {
            return Ok(Some(start));
        }
    }
    Ok(None)
}

/// One line against a pattern line with `[..]` wildcards. The pieces between wildcards
/// are found leftmost-first, which is the best choice for `*`-like wildcards.
fn line_matches(pattern: &str, line: &str) -> bool {
    if !pattern.contains("[..]") {
        return pattern == line;
    }
    let mut parts = pattern.split("[..]");
    let first = parts.next().unwrap_or("");
    let last = pattern.rsplit("[..]").next().unwrap_or("");
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    let middle = pattern.matches("[..]").count().saturating_sub(1);
    for mid in parts.take(middle) {
        match rest.find(mid) {
            Some(p) => rest = &rest[p + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches("hello\n", "hello\r\n\n").is_ok());
        assert!(matches("Listening on [..]:8080", "Listening on 10.0.0.5:8080").is_ok());
        assert!(matches("a [..] c [..] e", "a b c d e").is_ok());
        assert!(matches("a [..] c", "a b d").is_err());
        assert!(matches("start\n...\nend", "start\nx\ny\nend").is_ok());
        assert!(matches("start\n...\nend", "start\nend").is_ok());
        assert!(matches("...", "").is_ok());
        assert!(matches("a\n...", "a\nb\nc").is_ok());
        assert!(matches("\u{1b}[32mok\u{1b}[0m", "ok").is_ok());
        assert!(matches("ok", "\u{1b}[1;32mok\u{1b}[0m  ").is_ok());
        let e = matches("a\nb\nc", "a\nx\nc").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        let e = matches("a", "a\nb").unwrap_err();
        assert!(e.contains("more lines"), "{e}");
        let e = matches("a\nb", "a").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn segments_between_any_lines() {
        assert!(matches("a\n...\nb\n...\nc", "a\nx\nb\ny\nc").is_ok());
        assert!(matches("a\n...\nb\n...\nc", "a\nb\nc").is_ok());
        assert!(matches("...\nb\n...", "x\nb\ny").is_ok());
        assert!(matches("...\nb", "b").is_ok());
        assert!(matches("a\n...\nb\nc\n...\nd", "a\nb\nx\nb\nc\nd").is_ok());
        // The last segment is anchored at the end, the first at the start.
        assert!(matches("...\nb", "b\nc").is_err());
        assert!(matches("b\n...", "a\nb").is_err());
        // The middle segment must fit between the first and the last.
        let e = matches("a\n...\nq\n...\nc", "a\nb\nc").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(matches("a\n...\na", "a").is_err());
        assert!(matches("a[..]b[..]c", "a-b-b-c").is_ok());
        assert!(matches("a[..]b[..]c", "a-c-b").is_err());
        assert!(matches("[..]", "anything").is_ok());
        assert!(matches("x[..]", "").is_err());
    }

    /// A long expectation against a long output is bounded work: the old table of every
    /// expected line against every output line took gigabytes. Here a segment of 5,000
    /// wildcard lines that fails only on its last line would be tried at each of 30,000
    /// places; the budget stops it.
    #[test]
    fn a_huge_irregular_expectation_is_refused_not_computed() {
        let expected = format!("...\n{}z\n...", "[..]\n".repeat(5_000));
        let actual = vec!["y"; 30_000].join("\n");
        let e = matches(&expected, &actual).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        // A large but regular expectation still matches.
        let lines: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        assert!(matches(&lines, &lines).is_ok());
        let with_gaps = format!("line 0\n...\nline 10000\n...\n{}", "line 19999");
        assert!(matches(&with_gaps, &lines).is_ok());
    }
}
