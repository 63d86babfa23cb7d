//! Text that came from a plugin (or a package, or a step) made safe to show and to
//! store: control sequences stripped, lengths capped with a marker.
//!
//! A plugin's message reaches the integrator's terminal, the JUnit XML and the JSON
//! report. Raw ANSI escape sequences would repaint or hide what the terminal shows;
//! other C0 characters are invalid in XML 1.0; and an unbounded message becomes a
//! text node larger than XML parsers accept by default (lxml: 10 MB).

/// The longest failure message or skip reason kept (64 KiB).
pub const MAX_MESSAGE: usize = 64 << 10;
/// Measurements kept per check; the rest are dropped with a note in the log.
pub const MAX_MEASUREMENTS: usize = 256;
/// Evidence items kept per check; the rest are dropped with a note in the log.
pub const MAX_EVIDENCE_ITEMS: usize = 64;
/// The longest name, unit or media type kept.
pub const MAX_NAME: usize = 200;

/// `text` without control sequences: ANSI escape sequences (CSI, OSC and two-byte
/// escapes) are removed, and every other C0 control character, DEL and C1 control
/// except `\n` and `\t` is dropped.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => {
                    chars.next();
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        if ('\u{40}'..='\u{7e}').contains(&n) {
                            break;
                        }
                    }
                }
                // OSC (and DCS, SOS, PM, APC): up to BEL or ST.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
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
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to at most `max` bytes (on a character boundary), with a marker saying
/// how long it was when it was cut.
pub fn truncate(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[truncated: {} bytes in all; the first {end} are kept]",
        &text[..end],
        text.len()
    )
}

/// Plugin text for a message: controls stripped, at most [`MAX_MESSAGE`] bytes.
pub fn message(text: &str) -> String {
    // Cut first, so a 24 MB message is not copied whole before it is cut.
    let head = if text.len() > MAX_MESSAGE * 2 {
        let mut end = MAX_MESSAGE * 2;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    } else {
        text
    };
    let stripped = strip_controls(head);
    if head.len() < text.len() {
        let mut cut = truncate(stripped, MAX_MESSAGE);
        if let Some(at) = cut.rfind("\n[truncated: ") {
            cut.truncate(at);
        }
        format!(
            "{cut}\n[truncated: {} bytes in all; the first {} are kept]",
            text.len(),
            cut.len()
        )
    } else {
        truncate(stripped, MAX_MESSAGE)
    }
}

/// A short label (a measurement's name or unit, a media type): one line, capped.
pub fn label(text: &str) -> String {
    let one_line: String = strip_controls(text)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .take(MAX_NAME)
        .collect();
    one_line
}

/// An evidence name as one safe path segment: letters, digits, `.`, `-` and `_`
/// (everything else becomes `_`), no leading dot, at most 100 characters, never
/// empty.
pub fn path_segment(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .take(400)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "evidence".to_string()
    } else {
        trimmed.chars().take(100).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_stripped() {
        assert_eq!(
            strip_controls("\u{1b}[31;1mred\u{1b}[0m\tok\n\u{7}\u{0}\u{1b}]0;title\u{7}end\u{9b}"),
            "red\tok\nend"
        );
        assert_eq!(strip_controls("\u{1b}]8;;http://x\u{1b}\\link"), "link");
        assert_eq!(strip_controls("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn messages_are_capped_with_a_marker() {
        let big = "é".repeat(12 << 20);
        let m = message(&big);
        assert!(m.len() < MAX_MESSAGE + 100, "{}", m.len());
        assert!(
            m.contains(&format!("[truncated: {} bytes in all", big.len())),
            "{}",
            &m[m.len() - 80..]
        );
        assert_eq!(message("short"), "short");
    }

    #[test]
    fn evidence_names_are_one_safe_segment() {
        assert_eq!(path_segment("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(path_segment(".."), "evidence");
        assert_eq!(path_segment("a b/c"), "a_b_c");
        assert_eq!(path_segment(&"x".repeat(1000)).len(), 100);
    }
}
