//! Comparing a command's output with the output the article shows.
//!
//! The syntax is trycmd's (snapbox): `[..]` inside a line matches any text on that line,
//! and a line that is only `...` matches any number of lines (including none). Before
//! comparing, both sides are normalised: CRLF to LF, ANSI colour codes removed, trailing
//! whitespace of each line and trailing blank lines dropped.

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
    let e: Vec<&str> = if exp.is_empty() {
        Vec::new()
    } else {
        exp.split('\n').collect()
    };
    let a: Vec<&str> = if act.is_empty() {
        Vec::new()
    } else {
        act.split('\n').collect()
    };
    // reach[i][j]: expected[..i] matches actual[..j]. Small tables: outputs are bounded.
    let mut reach = vec![vec![false; a.len() + 1]; e.len() + 1];
    reach[0][0] = true;
    let mut furthest = 0;
    for i in 0..e.len() {
        let any = e[i].trim() == "...";
        let mut any_row = false;
        for j in 0..=a.len() {
            if !reach[i][j] {
                continue;
            }
            any_row = true;
            if any {
                for r in &mut reach[i + 1][j..] {
                    *r = true;
                }
                break;
            }
            if j < a.len() && line_matches(e[i], a[j]) {
                reach[i + 1][j + 1] = true;
            }
        }
        if any_row {
            furthest = i;
        }
    }
    if reach[e.len()][a.len()] {
        return Ok(());
    }
    let missing = (0..=e.len())
        .rev()
        .find(|&i| reach[i].iter().any(|&r| r))
        .unwrap_or(furthest);
    Err(if missing < e.len() {
        format!(
            "expected output line {} not found: {:?}",
            missing + 1,
            e[missing]
        )
    } else {
        "the command printed more lines than the article shows (end the expected output with `...` if more is fine)"
            .to_string()
    })
}

/// One line against a pattern line with `[..]` wildcards.
fn line_matches(pattern: &str, line: &str) -> bool {
    if !pattern.contains("[..]") {
        return pattern == line;
    }
    let parts: Vec<&str> = pattern.split("[..]").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
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
    }
}
