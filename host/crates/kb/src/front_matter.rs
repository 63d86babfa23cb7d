//! The KB front matter: a JSON object body between `{{{` and `}}}`, and the dates in it.
//!
//! Real articles open with a byte-order mark, leading whitespace or blank lines, keep the
//! whole front matter on one line, use CRLF, put HTML in `author` and write the date a
//! dozen ways. This module finds the block, parses it, and hands the caller the byte range
//! to blank out so that the Markdown parser's offsets still map to lines of the original
//! file.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// Parsed front matter of one article.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FrontMatter {
    /// `title`, if present and a string.
    pub title: Option<String>,
    /// `date` exactly as written.
    pub date_raw: Option<String>,
    /// `date` parsed, when one of the known formats matched.
    pub date: Option<KbDate>,
    /// `author` as written (may hold HTML anchors).
    pub author_raw: Option<String>,
    /// `author` with HTML tags stripped, e.g. `@KeithResar`.
    pub author: Option<String>,
    /// `contentIsHTML`: the body is HTML, not Markdown. Accepts `true` and `"true"`.
    pub content_is_html: bool,
    /// `audience` (our extension): `"public"` or `"internal"`.
    pub audience: Option<String>,
    /// Every key, for callers that want the rest (`keywords`, `attachments`, …).
    pub fields: Map<String, Value>,
}

/// Where the front matter sits and what went wrong reading it.
#[derive(Debug, Clone)]
pub(crate) struct Split {
    /// The parsed front matter (default when absent or invalid).
    pub front: FrontMatter,
    /// Byte range of `{{{ … }}}` in the original text, to blank out.
    pub range: Option<std::ops::Range<usize>>,
    /// Problems: (byte offset, message, hint).
    pub problems: Vec<(usize, String, &'static str)>,
}

/// The longest front matter read: real ones are a few hundred bytes.
const MAX_LEN: usize = 64 * 1024;

/// The most `}}}` tried as the end of the front matter.
const MAX_CLOSINGS: usize = 32;

/// Finds and parses the front matter of `text`.
pub(crate) fn split(text: &str) -> Split {
    let mut out = Split {
        front: FrontMatter::default(),
        range: None,
        problems: Vec::new(),
    };
    let start = text
        .char_indices()
        .find(|&(_, c)| !c.is_whitespace() && c != '\u{feff}')
        .map_or(text.len(), |(i, _)| i);
    if !text[start..].starts_with("{{{") {
        out.problems.push((
            start,
            "the article has no front matter: it must open with `{{{`".into(),
            "start the file with {{{ \"title\": …, \"date\": \"MM-DD-YYYY\", \"author\": … }}}",
        ));
        return out;
    }
    // The JSON object is the text from the third `{` to the first `}` of the closing
    // `}}}`. Nested objects can put `}}}` earlier than the real end, so try each
    // candidate until one parses; report the first candidate's error if none does.
    //
    // Bounded: only the first MAX_LEN bytes and the first MAX_CLOSINGS candidates are
    // tried, so an article full of `}}}` costs linear time, not one JSON parse per `}}}`.
    let body_from = start + 2;
    let mut window_end = (start + MAX_LEN).min(text.len());
    while !text.is_char_boundary(window_end) {
        window_end -= 1;
    }
    let window = &text[..window_end];
    let mut first_err: Option<(usize, String)> = None;
    let mut search = start + 3;
    let mut tried = 0;
    while tried < MAX_CLOSINGS
        && let Some(rel) = window[search..].find("}}}")
    {
        tried += 1;
        let close = search + rel;
        let candidate = &text[body_from..=close];
        match serde_json::from_str::<Map<String, Value>>(candidate) {
            Ok(map) => {
                out.range = Some(start..close + 3);
                out.front = interpret(map, close, &mut out.problems);
                return out;
            }
            Err(e) => {
                if first_err.is_none() {
                    let offset = offset_of_line_col(candidate, e.line(), e.column()) + body_from;
                    first_err = Some((offset, e.to_string()));
                    out.range = Some(start..close + 3);
                }
            }
        }
        search = close + 1;
    }
    match first_err {
        Some((offset, msg)) => out.problems.push((
            offset,
            format!("the front matter is not valid JSON: {msg}"),
            "the text between {{{ and }}} must be the body of a JSON object: \"key\": value pairs separated by commas",
        )),
        None => out.problems.push((
            start,
            format!(
                "the front matter opened with `{{{{{{` is not closed with `}}}}}}` within {} KiB",
                MAX_LEN / 1024
            ),
            "close the front matter with }}} on its own line",
        )),
    }
    out
}

fn offset_of_line_col(s: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in s.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off + col.saturating_sub(1).min(l.len());
        }
        off += l.len();
    }
    s.len().saturating_sub(1)
}

fn interpret(
    map: Map<String, Value>,
    at: usize,
    problems: &mut Vec<(usize, String, &'static str)>,
) -> FrontMatter {
    let string = |k: &str| match map.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let title = string("title");
    let date_raw = string("date");
    let date = date_raw.as_deref().and_then(KbDate::parse);
    let author_raw = string("author");
    let author = author_raw.as_deref().map(strip_tags);
    let content_is_html = match map.get("contentIsHTML") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        None | Some(Value::Null) => false,
        Some(other) => {
            problems.push((
                at,
                format!("`contentIsHTML` must be true or false, not {other}"),
                "write \"contentIsHTML\": false for a Markdown article",
            ));
            false
        }
    };
    let audience = string("audience").map(|a| a.trim().to_ascii_lowercase());
    FrontMatter {
        title,
        date_raw,
        date,
        author_raw,
        author,
        content_is_html,
        audience,
        fields: map,
    }
}

/// Removes HTML tags and decodes the few entities authors use.
pub(crate) fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .trim()
        .to_string()
}

/// A calendar date from the front matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KbDate {
    /// Four-digit year.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31, valid for the month.
    pub day: u8,
}

impl fmt::Display for KbDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

impl KbDate {
    /// Builds a date, checking the ranges (including leap years).
    pub fn new(year: u16, month: u8, day: u8) -> Option<KbDate> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(KbDate { year, month, day })
    }

    /// Parses the date formats found in the KB: `MM-DD-YYYY` and its one-digit variants,
    /// `MM-DD-YY`, `/` or `.` separators, ISO `YYYY-MM-DD` (with an optional time),
    /// `April 11, 2017`, `11 April 2017`, `Apr 11 2017`, and a date buried in text such as
    /// `UPDATED WITH SIGNING CERTIFICATE 3-5-2015`.
    pub fn parse(raw: &str) -> Option<KbDate> {
        let s = raw.trim();
        if s.is_empty() {
            return None;
        }
        // Numeric forms anywhere in the string: the first run of digits and separators.
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || b"-/.".contains(&bytes[i])) {
                    i += 1;
                }
                if let Some(d) = numeric(&s[start..i]) {
                    return Some(d);
                }
            }
            i += 1;
        }
        words(s)
    }
}

fn numeric(tok: &str) -> Option<KbDate> {
    let tok = tok.trim_end_matches(['-', '/', '.']);
    let parts: Vec<&str> = tok.split(['-', '/', '.']).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4) {
        return None;
    }
    let n: Vec<u32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts[0].len() == 4 {
        return KbDate::new(n[0] as u16, n[1] as u8, n[2] as u8);
    }
    let year = match parts[2].len() {
        4 => n[2],
        2 => 2000 + n[2],
        _ => return None,
    } as u16;
    // US order first (the KB's own), then day-first when the month cannot be a month.
    KbDate::new(year, n[0].try_into().ok()?, n[1].try_into().ok()?)
        .or_else(|| KbDate::new(year, n[1].try_into().ok()?, n[0].try_into().ok()?))
}

fn words(s: &str) -> Option<KbDate> {
    let toks: Vec<String> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let month_at = |t: &str| {
        MONTHS
            .iter()
            .position(|m| t.len() >= 3 && t.starts_with(m))
            .map(|p| p as u8 + 1)
    };
    let num = |t: &str| {
        t.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse::<u32>()
            .ok()
    };
    for w in toks.windows(3) {
        // April 11 2017
        if let (Some(m), Some(d), Some(y)) = (month_at(&w[0]), num(&w[1]), num(&w[2]))
            && y >= 1000
        {
            return KbDate::new(y as u16, m, d as u8);
        }
        // 11 April 2017
        if let (Some(d), Some(m), Some(y)) = (num(&w[0]), month_at(&w[1]), num(&w[2]))
            && y >= 1000
        {
            return KbDate::new(y as u16, m, d as u8);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_kb_formats_parse() {
        let d = |y, m, dd| Some(KbDate::new(y, m, dd).unwrap());
        assert_eq!(KbDate::parse("01-15-2015"), d(2015, 1, 15));
        assert_eq!(KbDate::parse("9-2-2015"), d(2015, 9, 2));
        assert_eq!(KbDate::parse("1-19-2015"), d(2015, 1, 19));
        assert_eq!(KbDate::parse("12-1-2015"), d(2015, 12, 1));
        assert_eq!(KbDate::parse("03-17-15"), d(2015, 3, 17));
        assert_eq!(KbDate::parse("03/17/2015"), d(2015, 3, 17));
        assert_eq!(KbDate::parse("3/17/2015"), d(2015, 3, 17));
        assert_eq!(KbDate::parse("2015-03-17"), d(2015, 3, 17));
        assert_eq!(KbDate::parse("2015-03-17T10:00:00Z"), d(2015, 3, 17));
        assert_eq!(KbDate::parse("17.03.2015"), d(2015, 3, 17));
        assert_eq!(KbDate::parse("April 11, 2017"), d(2017, 4, 11));
        assert_eq!(KbDate::parse("11 April 2017"), d(2017, 4, 11));
        assert_eq!(KbDate::parse("Apr 11th 2017"), d(2017, 4, 11));
        assert_eq!(
            KbDate::parse("UPDATED WITH SIGNING CERTIFICATE 3-5-2015"),
            d(2015, 3, 5)
        );
        assert_eq!(KbDate::parse(""), None);
        assert_eq!(KbDate::parse("soon"), None);
        assert_eq!(KbDate::parse("02-30-2015"), None);
        assert_eq!(KbDate::parse("2-29-2016"), d(2016, 2, 29));
    }

    #[test]
    fn front_matter_variants_split() {
        let one_line = "{{{ \"title\": \"T\", \"date\": \"1-2-2015\", \"author\": \"<a href='x'>@me</a>\", \"contentIsHTML\": \"true\" }}}\nbody";
        let s = split(one_line);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.front.title.as_deref(), Some("T"));
        assert_eq!(s.front.author.as_deref(), Some("@me"));
        assert!(s.front.content_is_html);
        assert_eq!(&one_line[s.range.unwrap()][..3], "{{{");

        let bom = "\u{feff}  \r\n {{{\r\n  \"title\": \"T\",\r\n  \"attachments\": [{\"a\": {\"b\": 1}}]}}}\r\nx";
        let s = split(bom);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.front.title.as_deref(), Some("T"));

        let broken = "{{{\n \"title\": \"T\"\n \"date\": \"x\"\n}}}\n";
        let s = split(broken);
        assert_eq!(s.problems.len(), 1);
        let line = broken[..s.problems[0].0].matches('\n').count() + 1;
        assert_eq!(
            line, 3,
            "the JSON error points at the line with the missing comma"
        );

        assert_eq!(split("# no front matter").problems.len(), 1);
        assert_eq!(split("{{{ \"title\": 1").problems.len(), 1);
    }

    /// Each `}}}` used to be tried with a JSON parse from the start: quadratic in the
    /// number of them. Now a bounded number is tried, in a bounded window.
    #[test]
    fn many_closings_cost_linear_time() {
        let text = format!("{{{{{{ \"title\": {}", "}}} ".repeat(400_000));
        let s = split(&text);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(
            s.problems[0].1.contains("not valid JSON"),
            "{:?}",
            s.problems
        );
        let unclosed = format!("{{{{{{ \"title\": \"{}\"", "x".repeat(200_000));
        let s = split(&unclosed);
        assert!(
            s.problems[0].1.contains("within 64 KiB"),
            "{:?}",
            s.problems
        );
    }
}
