//! Reading one KB article: front matter, then Markdown (or HTML) into the facts the checks
//! and the runner need, each with its 1-based line in the original file.
//!
//! The Markdown goes through pulldown-cmark, a CommonMark parser, because the KB writes
//! code blocks indented under numbered steps and line-based fence scanners miss those.
//! The front matter is blanked (bytes replaced by spaces, newlines kept) before parsing so
//! that every byte offset the parser reports is an offset into the original file.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;
use serde::Serialize;

use certify_diag::{Problem, Severity};

use crate::KbError;
use crate::annotation::{self, Directive};
use crate::front_matter::{self, FrontMatter};
use crate::steps::{self, Step};

/// Who an article is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// End users: step-by-step deployment guide, published.
    Public,
    /// The provider's support staff: design, production, support contacts.
    Internal,
}

/// A heading.
#[derive(Debug, Clone, Serialize)]
pub struct Heading {
    /// 1–6.
    pub level: u8,
    /// Plain text.
    pub text: String,
    /// The anchor a `#fragment` link uses (explicit `{#id}` or the GitHub-style slug).
    pub anchor: String,
    /// 1-based line.
    pub line: usize,
}

/// An ordered list: the shape of "step by step".
#[derive(Debug, Clone, Serialize)]
pub struct OrderedList {
    /// 1-based line of the first item.
    pub line: usize,
    /// Nesting depth among lists (0 = top level).
    pub depth: usize,
    /// Index into [`Article::headings`] of the heading the list sits under.
    pub section: Option<usize>,
    /// The items.
    pub items: Vec<ListItem>,
}

/// One item of an ordered list.
#[derive(Debug, Clone, Serialize)]
pub struct ListItem {
    /// 1-based line of the item marker.
    pub line: usize,
    /// Byte range in the original text (marker to end of the item, nested content included).
    #[serde(skip)]
    pub range: Range<usize>,
}

/// A link or image target.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// The destination as written.
    pub dest: String,
    /// An image (`![..](..)`, `<img src>`) rather than a link.
    pub image: bool,
    /// 1-based line.
    pub line: usize,
}

/// A code block.
#[derive(Debug, Clone, Serialize)]
pub struct CodeBlock {
    /// 1-based line of the opening fence (or of the first line of an indented block).
    pub line: usize,
    /// First word of the info string, lowercased; `None` for untagged or indented blocks.
    pub lang: Option<String>,
    /// Indented (4 spaces) rather than fenced.
    pub indented: bool,
    /// The block's text.
    pub content: String,
    /// 1-based line of the block's first content line.
    pub content_line: usize,
    /// Item number (1-based) of the innermost ordered-list item containing the block.
    pub step_number: Option<usize>,
    /// Annotations that apply to this block, with their lines.
    pub directives: Vec<(usize, Directive)>,
    /// Index of the command block this block is the expected output of.
    pub output_of: Option<usize>,
    /// Byte range in the original text.
    #[serde(skip)]
    pub range: Range<usize>,
}

/// One parsed article.
#[derive(Debug, Clone)]
pub struct Article {
    /// Where it was read from (as given).
    pub path: PathBuf,
    /// The original text (lossy UTF-8).
    pub text: String,
    /// The front matter.
    pub front: FrontMatter,
    /// 1-based line of `{{{` (1 when absent).
    pub front_line: usize,
    /// Headings in order.
    pub headings: Vec<Heading>,
    /// Ordered lists in order of their first item.
    pub ordered_lists: Vec<OrderedList>,
    /// Links and images in order.
    pub links: Vec<Link>,
    /// Code blocks in order.
    pub code_blocks: Vec<CodeBlock>,
    /// Hidden setup scripts: (line, script).
    pub setups: Vec<(usize, String)>,
    /// `blueprint` annotations bound to an ordered list: (list index, line, name).
    pub blueprint_names: Vec<(usize, usize, String)>,
    /// Problems found while reading (front matter, annotations), each with the id of
    /// the check it fails (e.g. `kb.front-matter`). Articles are read by line, so
    /// their column is 0.
    pub problems: Vec<(&'static str, Problem)>,
    /// The steps a reader follows, in order; see [`crate::steps`].
    pub steps: Vec<Step>,
    /// The text a reader sees: original with front matter and comments blanked.
    pub(crate) visible: String,
    line_starts: Vec<usize>,
}

static HTML_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<h([1-6])\b([^>]*)>(.*?)</h[1-6]\s*>").expect("static regex")
});
static HTML_OL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<ol\b[^>]*>(.*?)</ol\s*>").expect("static regex"));
static HTML_LI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)<li\b").expect("static regex"));
static HTML_HREF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)<(a|img)\b[^>]*?\b(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')"#)
        .expect("static regex")
});
static HTML_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("static regex")
});
static OUTPUT_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(output|returns|you should see|prints|responds|response|result)[^.]*:?\s*$")
        .expect("static regex")
});

/// Languages whose block is the expected output of the command block right before it.
pub(crate) const OUTPUT_LANGS: &[&str] = &["text", "output", "plaintext", "txt", "log", "json"];

/// The largest article read (4 MiB; the longest real KB article is under 200 KB).
pub const MAX_ARTICLE_BYTES: u64 = 4 * 1024 * 1024;

impl Article {
    /// Reads and parses the article at `path`. `Err` only when the file cannot be read.
    pub fn read(path: impl AsRef<Path>) -> Result<Article, KbError> {
        use std::io::Read as _;
        let path = path.as_ref();
        let err = |source| KbError::Read {
            path: path.to_path_buf(),
            source,
        };
        // Bounded: an article is read whole, and a link to /dev/zero must not be.
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_ARTICLE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(err)?;
        if bytes.len() as u64 > MAX_ARTICLE_BYTES {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the article is larger than {MAX_ARTICLE_BYTES} bytes"),
            )));
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Ok(Article::parse(path, text))
    }

    /// Parses an article from its text. Never fails: what is wrong with the article is
    /// recorded in [`Article::problems`] and reported by the checks.
    pub fn parse(path: impl Into<PathBuf>, text: impl Into<String>) -> Article {
        let path = path.into();
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let split = front_matter::split(&text);
        let mut a = Article {
            path,
            front: split.front,
            front_line: 1,
            headings: Vec::new(),
            ordered_lists: Vec::new(),
            links: Vec::new(),
            code_blocks: Vec::new(),
            setups: Vec::new(),
            blueprint_names: Vec::new(),
            problems: Vec::new(),
            steps: Vec::new(),
            visible: String::new(),
            line_starts,
            text: String::new(),
        };
        // Blank the byte-order mark and the front matter, keeping newlines, so offsets
        // into the body are offsets into the file.
        let mut body = text.clone().into_bytes();
        if text.starts_with('\u{feff}') {
            body[..3].copy_from_slice(b"   ");
        }
        if let Some(r) = &split.range {
            a.front_line = line_of(&a.line_starts, r.start);
            blank(&mut body, r.clone());
        }
        a.text = text;
        for (off, msg, hint) in split.problems {
            let line = a.line(off);
            a.problem("kb.front-matter", line, msg, hint);
        }
        let body = String::from_utf8(body).expect("blanking keeps UTF-8 boundaries");
        if a.front.content_is_html {
            a.read_html(&body);
        } else {
            a.read_markdown(&body);
        }
        a.visible = blank_comments(&body);
        a.steps = steps::extract(&a);
        a
    }

    /// The 1-based line of a byte offset in [`Article::text`].
    pub fn line(&self, offset: usize) -> usize {
        line_of(&self.line_starts, offset)
    }

    /// Who the article is for: the front matter's `audience` (our extension) if given,
    /// else `internal` when the file name says so, else public.
    pub fn audience(&self) -> Audience {
        match self.front.audience.as_deref() {
            Some("internal") => return Audience::Internal,
            Some("public") => return Audience::Public,
            _ => {}
        }
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if stem.contains("internal") {
            Audience::Internal
        } else {
            Audience::Public
        }
    }

    fn read_markdown(&mut self, body: &str) {
        let opts = Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_HEADING_ATTRIBUTES;
        let mut st = MarkdownState::default();
        for (ev, range) in Parser::new_ext(body, opts).into_offset_iter() {
            if let Some(h) = st.heading.as_mut() {
                match &ev {
                    Event::Text(t) | Event::Code(t) => h.2.push_str(t),
                    Event::End(TagEnd::Heading(_)) => {}
                    _ => {}
                }
            }
            if let Some(p) = st.paragraph.as_mut()
                && let Event::Text(t) | Event::Code(t) = &ev
            {
                p.1.push_str(t);
            }
            self.markdown_event(&mut st, ev, range);
        }
        for (line, d) in st.pending {
            self.problem(
                "kb.annotation",
                line,
                format!("the annotation {d:?} is not followed by a code block it could apply to"),
                "place the annotation directly above the block it is for (inside the numbered step, indented like the block)",
            );
        }
    }

    /// Records what one Markdown event contributes to the article's facts.
    fn markdown_event(&mut self, st: &mut MarkdownState, ev: Event<'_>, range: Range<usize>) {
        match ev {
            Event::Start(Tag::Heading { level, id, .. }) => {
                st.heading = Some((
                    heading_level(level),
                    self.line(range.start),
                    String::new(),
                    id.map(|i| i.to_string()),
                ));
                st.last_command = None;
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(st),
            Event::Start(Tag::List(start)) => self.start_list(st, start.is_some(), &range),
            Event::End(TagEnd::List(_)) => {
                st.lists.pop();
                st.last_command = None;
            }
            Event::Start(Tag::Item) => self.start_item(st, &range),
            Event::End(TagEnd::Item) => {
                st.item_stack.pop();
                st.last_command = None;
            }
            Event::Start(Tag::Paragraph) => {
                st.paragraph = Some((range.start, String::new()));
            }
            Event::End(TagEnd::Paragraph) => {
                if let Some((_, text)) = st.paragraph.take()
                    && !OUTPUT_INTRO.is_match(text.trim())
                {
                    st.last_command = None;
                }
            }
            Event::Start(Tag::CodeBlock(kind)) => self.start_code_block(st, &kind, &range),
            Event::Text(t) if st.code.is_some() => {
                st.code.as_mut().expect("checked").content.push_str(&t);
            }
            Event::End(TagEnd::CodeBlock) => self.end_code_block(st),
            Event::Start(Tag::HtmlBlock) => {
                st.html_block = Some((range.start, String::new()));
            }
            Event::Html(t) => match st.html_block.as_mut() {
                Some((_, buf)) => buf.push_str(&t),
                None => self.html_fragment(range.start, &t, &mut st.pending),
            },
            Event::End(TagEnd::HtmlBlock) => {
                if let Some((start, buf)) = st.html_block.take() {
                    self.html_fragment(start, &buf, &mut st.pending);
                }
            }
            Event::InlineHtml(t) => self.html_fragment(range.start, &t, &mut st.pending),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                let dest = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                self.links.push(Link {
                    dest,
                    image: false,
                    line: self.line(range.start),
                });
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                self.links.push(Link {
                    dest: dest_url.to_string(),
                    image: true,
                    line: self.line(range.start),
                });
            }
            Event::Start(Tag::Table(_) | Tag::BlockQuote(_)) => {
                st.last_command = None;
            }
            _ => {}
        }
    }

    /// Records the heading whose text has just been collected.
    fn end_heading(&mut self, st: &mut MarkdownState) {
        if let Some((level, line, text, id)) = st.heading.take() {
            let text = text.trim().to_string();
            let anchor = id.unwrap_or_else(|| slug(&text));
            self.headings.push(Heading {
                level,
                text,
                anchor,
                line,
            });
        }
    }

    /// Opens a list; an ordered one becomes a numbered flow and takes a pending
    /// `blueprint` annotation as its name.
    fn start_list(&mut self, st: &mut MarkdownState, ordered: bool, range: &Range<usize>) {
        st.last_command = None;
        if ordered {
            let depth = st.lists.len();
            self.ordered_lists.push(OrderedList {
                line: self.line(range.start),
                depth,
                section: self.headings.len().checked_sub(1),
                items: Vec::new(),
            });
            let idx = self.ordered_lists.len() - 1;
            st.lists.push(Some(idx));
            st.pending.retain(|(line, d)| match d {
                Directive::Blueprint { name } => {
                    self.blueprint_names.push((idx, *line, name.clone()));
                    false
                }
                _ => true,
            });
        } else {
            st.lists.push(None);
        }
    }

    /// Opens a list item, numbering it when its list is ordered.
    fn start_item(&mut self, st: &mut MarkdownState, range: &Range<usize>) {
        st.last_command = None;
        let list = st.lists.last().copied().flatten();
        if let Some(l) = list {
            let line = self.line(range.start);
            self.ordered_lists[l].items.push(ListItem {
                line,
                range: range.clone(),
            });
            st.item_stack
                .push((Some(l), self.ordered_lists[l].items.len()));
        } else {
            st.item_stack.push((None, 0));
        }
    }

    /// Opens a code block, taking the pending annotations and the enclosing step number.
    fn start_code_block(
        &mut self,
        st: &mut MarkdownState,
        kind: &CodeBlockKind<'_>,
        range: &Range<usize>,
    ) {
        let (lang, indented) = match kind {
            CodeBlockKind::Fenced(info) => {
                let first = info
                    .split(|c: char| c.is_whitespace() || c == '{' || c == ',')
                    .next()
                    .unwrap_or("")
                    .trim_start_matches('.')
                    .to_ascii_lowercase();
                ((!first.is_empty()).then_some(first), false)
            }
            CodeBlockKind::Indented => (None, true),
        };
        let line = self.line(range.start);
        let content_line = if indented { line } else { line + 1 };
        let step_number = st
            .item_stack
            .iter()
            .rev()
            .find(|(l, _)| l.is_some())
            .map(|&(_, n)| n);
        st.code = Some(CodeBlock {
            line,
            lang,
            indented,
            content: String::new(),
            content_line,
            step_number,
            directives: std::mem::take(&mut st.pending),
            output_of: None,
            range: range.clone(),
        });
    }

    /// Closes a code block, pairing it as output of the command block before it
    /// when only an output introduction stands between them.
    fn end_code_block(&mut self, st: &mut MarkdownState) {
        if let Some(mut block) = st.code.take() {
            let lang = block.lang.as_deref().unwrap_or("");
            let idx = self.code_blocks.len();
            if let Some(prev) = st.last_command
                && OUTPUT_LANGS.contains(&lang)
            {
                block.output_of = Some(prev);
                st.last_command = None;
            } else {
                let runs_as = block
                    .directives
                    .iter()
                    .find_map(|(_, d)| match d {
                        Directive::As { lang } => Some(lang.as_str()),
                        _ => None,
                    })
                    .unwrap_or(lang);
                st.last_command = steps::is_command_lang(runs_as).then_some(idx);
            }
            self.code_blocks.push(block);
        }
    }

    /// Links, images, anchors and annotations in a piece of raw HTML at `start`.
    fn html_fragment(&mut self, start: usize, html: &str, pending: &mut Vec<(usize, Directive)>) {
        // Event text may have container indentation stripped; count lines, not bytes.
        let line_at = |a: &Article, rel: usize| a.line(start) + html[..rel].matches('\n').count();
        for (rel, result) in annotation::scan(html) {
            let line = line_at(self, rel);
            match result {
                Ok(Directive::Setup { script }) => self.setups.push((line, script)),
                Ok(d) => pending.push((line, d)),
                Err(message) => self.problem(
                    "kb.annotation",
                    line,
                    message,
                    "see the annotation syntax: <!-- certify: DIRECTIVE [ARGS] -->",
                ),
            }
        }
        if !html.contains('<') {
            return;
        }
        for c in HTML_HREF.captures_iter(html) {
            let dest = c.get(3).or(c.get(4)).map_or("", |m| m.as_str());
            let rel = c.get(0).expect("group 0").start();
            // A comment's content is not rendered.
            if inside_comment(html, rel) {
                continue;
            }
            self.links.push(Link {
                dest: dest.to_string(),
                image: c[1].eq_ignore_ascii_case("img"),
                line: line_at(self, rel),
            });
        }
    }

    fn read_html(&mut self, body: &str) {
        for c in HTML_HEADING.captures_iter(body) {
            let start = c.get(0).expect("group 0").start();
            let text = front_matter::strip_tags(&c[3]);
            let anchor = HTML_ID
                .captures(&c[2])
                .and_then(|i| i.get(1).or(i.get(2)))
                .map_or_else(|| slug(&text), |m| m.as_str().to_string());
            self.headings.push(Heading {
                level: c[1].parse().unwrap_or(1),
                text,
                anchor,
                line: self.line(start),
            });
        }
        for c in HTML_OL.captures_iter(body) {
            let whole = c.get(0).expect("group 0");
            let inner = c.get(1).expect("group 1");
            let section = self
                .headings
                .iter()
                .rposition(|h| self.line(whole.start()) >= h.line);
            let items = HTML_LI
                .find_iter(inner.as_str())
                .map(|m| {
                    let at = inner.start() + m.start();
                    ListItem {
                        line: self.line(at),
                        range: at..inner.end(),
                    }
                })
                .collect();
            self.ordered_lists.push(OrderedList {
                line: self.line(whole.start()),
                depth: 0,
                section,
                items,
            });
        }
        let mut pending = Vec::new();
        self.html_fragment(0, body, &mut pending);
        for (line, d) in pending {
            self.problem(
                "kb.annotation",
                line,
                format!("annotations are not supported in HTML articles ({d:?})"),
                "write the steps as Markdown code blocks (contentIsHTML: false)",
            );
        }
    }

    /// Records a problem found while reading, as a failure of the check `check`.
    fn problem(
        &mut self,
        check: &'static str,
        line: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let problem = Problem {
            severity: Severity::Error,
            file: self.path.clone(),
            line,
            column: 0,
            message: message.into(),
            hint: hint.into(),
        };
        self.problems.push((check, problem));
    }

    /// Anchors a `#fragment` link into this article may target: headings, plus `id=` and
    /// `name=` attributes in raw HTML.
    pub fn anchors(&self) -> impl Iterator<Item = String> + '_ {
        self.headings.iter().map(|h| h.anchor.clone()).chain(
            HTML_ID
                .captures_iter(&self.visible)
                .filter_map(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_string())),
        )
    }

    /// The heading a line falls under.
    pub fn section_at(&self, line: usize) -> Option<&Heading> {
        self.headings.iter().rev().find(|h| h.line <= line)
    }
}

/// The open containers and pending state while Markdown events are read.
#[derive(Default)]
struct MarkdownState {
    /// Open lists: for each, Some(index into ordered_lists) if ordered.
    lists: Vec<Option<usize>>,
    item_stack: Vec<(Option<usize>, usize)>,
    heading: Option<(u8, usize, String, Option<String>)>,
    code: Option<CodeBlock>,
    pending: Vec<(usize, Directive)>,
    html_block: Option<(usize, String)>,
    /// Output pairing: the last command block, and whether only an introducing
    /// paragraph ("You should see:") stands between it and the next block.
    last_command: Option<usize>,
    paragraph: Option<(usize, String)>,
}

fn heading_level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

pub(crate) fn line_of(starts: &[usize], offset: usize) -> usize {
    starts.partition_point(|&s| s <= offset).max(1)
}

fn blank(bytes: &mut [u8], r: Range<usize>) {
    for b in &mut bytes[r] {
        if *b != b'\n' {
            *b = b' ';
        }
    }
}

fn inside_comment(html: &str, at: usize) -> bool {
    match html[..at].rfind("<!--") {
        Some(open) => !html[open..at].contains("-->"),
        None => false,
    }
}

/// The body with every HTML comment blanked (annotations are not what a reader sees).
fn blank_comments(body: &str) -> String {
    if !body.contains("<!--") {
        return body.to_string();
    }
    let mut bytes = body as &str;
    let mut out = Vec::with_capacity(body.len());
    while let Some(open) = bytes.find("<!--") {
        out.extend_from_slice(&bytes.as_bytes()[..open]);
        let end = bytes[open..]
            .find("-->")
            .map_or(bytes.len(), |e| open + e + 3);
        let mut hidden = bytes.as_bytes()[open..end].to_vec();
        let len = hidden.len();
        blank(&mut hidden, 0..len);
        out.extend_from_slice(&hidden);
        bytes = &bytes[end..];
    }
    out.extend_from_slice(bytes.as_bytes());
    String::from_utf8(out).expect("blanking keeps UTF-8 boundaries")
}

/// The GitHub-style anchor of a heading: lowercase, punctuation dropped, spaces to `-`.
pub fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_code_blocks_and_lines_survive_bom_crlf_and_one_line_front_matter() {
        let text = "\u{feff} {{{ \"title\": \"T\", \"date\": \"1-2-2015\", \"author\": \"A\" }}}\r\n\r\n### Steps\r\n1. Install.\r\n\r\n   ```bash\r\n   echo hi\r\n   ```\r\n\r\n2. Check.\r\n   ![shot](img/x.png)\r\n";
        let a = Article::parse("a.md", text);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(a.headings[0].line, 3);
        assert_eq!(a.headings[0].anchor, "steps");
        assert_eq!(a.ordered_lists.len(), 1);
        assert_eq!(a.ordered_lists[0].items.len(), 2);
        assert_eq!(a.code_blocks.len(), 1);
        let b = &a.code_blocks[0];
        assert_eq!(
            (b.line, b.lang.as_deref(), b.step_number),
            (6, Some("bash"), Some(1))
        );
        assert_eq!(b.content.trim(), "echo hi");
        assert_eq!(a.links[0].line, 11);
        assert!(a.links[0].image);
    }

    #[test]
    fn output_blocks_pair_with_the_command_before_them() {
        let text = "{{{ \"title\": \"T\" }}}\n```bash\necho hi\n```\n\nYou should see:\n\n```text\nhi\n```\n\n```text\nunrelated\n```\n";
        let a = Article::parse("a.md", text);
        assert_eq!(a.code_blocks.len(), 3);
        assert_eq!(a.code_blocks[1].output_of, Some(0));
        assert_eq!(a.code_blocks[2].output_of, None);
    }

    #[test]
    fn annotations_attach_and_problems_have_lines() {
        let text = "{{{ \"title\": \"T\" }}}\n1. Step\n\n   <!-- certify: skip reason=\"browser\" -->\n   ```bash\n   open x\n   ```\n\n<!-- certify: frobnicate -->\n\n<!-- certify: setup\nexport A=1\n-->\n\n<!-- certify: exit 1 -->\n";
        let a = Article::parse("a.md", text);
        assert_eq!(
            a.code_blocks[0].directives,
            [(
                4,
                Directive::Skip {
                    reason: "browser".into()
                }
            )]
        );
        assert_eq!(a.setups, [(11, "export A=1\n".to_string())]);
        let lines: Vec<_> = a
            .problems
            .iter()
            .map(|(check, p)| (*check, p.line))
            .collect();
        assert_eq!(lines, [("kb.annotation", 9), ("kb.annotation", 15)]);
    }

    #[test]
    fn html_articles_give_headings_lists_and_links() {
        let text = "{{{ \"title\": \"T\", \"contentIsHTML\": true }}}\n<h3 id=\"go\">Steps</h3>\n<ol>\n<li>One</li>\n<li>Two <img src=\"../i.png\"></li>\n</ol>\n";
        let a = Article::parse("a.md", text);
        assert_eq!(a.headings[0].anchor, "go");
        assert_eq!(a.headings[0].line, 2);
        assert_eq!(a.ordered_lists[0].items.len(), 2);
        assert_eq!(a.links[0].line, 5);
        assert!(a.links[0].image);
    }

    #[test]
    fn audience_from_front_matter_or_name() {
        assert_eq!(
            Article::parse("x/internal.md", "").audience(),
            Audience::Internal
        );
        assert_eq!(Article::parse("x/acme.md", "").audience(), Audience::Public);
        assert_eq!(
            Article::parse("x/acme.md", "{{{ \"audience\": \"Internal\" }}}").audience(),
            Audience::Internal
        );
    }
}
