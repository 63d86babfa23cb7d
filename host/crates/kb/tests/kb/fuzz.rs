//! Property tests over everything in this crate that reads candidate input: the front
//! matter, the Markdown with its annotations and steps, and the output matcher. Real
//! corpus articles are mutated with byte edits and with the tokens the parsers look
//! for; nothing may panic, and every parse ends (the bounds are in the parsers).

use certify_kb::{Article, Audience, BundleFacts, DocRules, check_article, find_articles};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::corpus_dir;

/// The tokens the parsers react to: front matter, fences, annotations, placeholders,
/// wildcards, console prompts, odd characters.
const TOKENS: &[&str] = &[
    "{{{",
    "}}}",
    "```",
    "```bash\n",
    "```console\n$ ",
    "```http\nGET ",
    "<!--",
    "-->",
    "<!-- certify: ",
    "skip reason=\"",
    "setup\n",
    "expect-output",
    "timeout 1ms",
    "{{server.",
    "{{param.",
    "}}",
    "[..]",
    "\n...\n",
    "\r\n",
    "\u{feff}",
    "\u{1b}[31m",
    "é",
    "\0",
    "# ",
    "1. ",
    "](",
    "[x](../../a.md)",
    "\"date\": \"13-45-2015\"",
];

/// One edit of an article's bytes.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, u8),
    Delete(Index, u8),
    Insert(Index, usize),
    Duplicate(Index, Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        (any::<Index>(), 1..64u8).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), 0..TOKENS.len()).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len().max(1);
        match e {
            Edit::Replace(i, b) => {
                if !bytes.is_empty() {
                    let at = i.index(len);
                    bytes[at] = *b;
                }
            }
            Edit::Delete(i, n) => {
                let at = i.index(len).min(bytes.len());
                let end = (at + *n as usize).min(bytes.len());
                bytes.drain(at..end);
            }
            Edit::Insert(i, t) => {
                let at = i.index(len + 1).min(bytes.len());
                bytes.splice(at..at, TOKENS[*t].bytes());
            }
            Edit::Duplicate(a, b) => {
                let (x, y) = (a.index(len).min(bytes.len()), b.index(len).min(bytes.len()));
                let (from, to) = (x.min(y), x.max(y).min(x.min(y) + 4096));
                let piece = bytes[from..to].to_vec();
                bytes.splice(to..to, piece);
            }
        }
    }
    bytes
}

fn corpus() -> Vec<Vec<u8>> {
    find_articles(&corpus_dir())
        .expect("the corpus is readable")
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_articles_parse_and_check(
        which in any::<Index>(),
        edits in prop::collection::vec(edit(), 0..24),
    ) {
        let articles = corpus();
        let bytes = apply(articles[which.index(articles.len())].clone(), &edits);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let article = Article::parse("kb/mutated.md", text);
        let bundle = BundleFacts { root: Some(corpus_dir()), ..BundleFacts::default() };
        for audience in [Audience::Public, Audience::Internal] {
            let report = check_article(&article, audience, Some(&bundle), &DocRules::default());
            prop_assert!(!report.checks.is_empty());
        }
        for step in &article.steps {
            let _ = (step.label(), step.source());
        }
    }

    /// The matcher agrees with the plain dynamic program it replaced, on inputs small
    /// enough for that one.
    #[test]
    fn the_matcher_agrees_with_the_reference(
        expected in prop::collection::vec(prop_oneof!["a", "b", "...", "[..]", "a[..]", "[..]b", "a[..]b"], 0..8),
        actual in prop::collection::vec(prop_oneof!["a", "b", "ab", "aab", "ba", ""], 0..10),
    ) {
        let (e, a) = (expected.join("\n"), actual.join("\n"));
        prop_assert_eq!(
            certify_kb::matching::matches(&e, &a).is_ok(),
            reference(&e, &a),
            "expected {:?} actual {:?}", e, a
        );
    }
}

/// The former matcher: every expected line against every output line.
fn reference(expected: &str, actual: &str) -> bool {
    use certify_kb::matching::normalize;
    let (exp, act) = (normalize(expected), normalize(actual));
    let e: Vec<&str> = if exp.is_empty() {
        vec![]
    } else {
        exp.split('\n').collect()
    };
    let a: Vec<&str> = if act.is_empty() {
        vec![]
    } else {
        act.split('\n').collect()
    };
    let mut reach = vec![vec![false; a.len() + 1]; e.len() + 1];
    reach[0][0] = true;
    for i in 0..e.len() {
        for j in 0..=a.len() {
            if !reach[i][j] {
                continue;
            }
            if e[i].trim() == "..." {
                for r in &mut reach[i + 1][j..] {
                    *r = true;
                }
                break;
            }
            if j < a.len() && line(e[i], a[j]) {
                reach[i + 1][j + 1] = true;
            }
        }
    }
    reach[e.len()][a.len()]
}

/// `[..]` as a regex `.*`, the obvious way.
fn line(pattern: &str, text: &str) -> bool {
    let re = format!(
        "^{}$",
        pattern
            .split("[..]")
            .map(regex::escape)
            .collect::<Vec<_>>()
            .join(".*")
    );
    is_match(&re, text)
}

fn is_match(re: &str, text: &str) -> bool {
    regex::Regex::new(re).unwrap().is_match(text)
}
