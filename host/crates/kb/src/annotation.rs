//! Invisible annotations: what the harness needs and a reader should not see.
//!
//! An annotation is an HTML comment that starts with `certify:`. The KB renderer drops
//! comments, so the published article reads as written while the harness learns how to
//! run it. One directive per comment; several comments may precede one block. A directive
//! applies to the next code block (or, for `skip` and `blueprint`, the next ordered list
//! when that comes first). Inside a numbered step, indent the comment like the block.
//!
//! ```text
//! <!-- certify: skip reason="needs a browser" -->      the next block is not run; reason required
//! <!-- certify: exit 1 -->                             expected exit status (default 0)
//! <!-- certify: timeout 90s -->                        time limit for the next block (ms, s, m)
//! <!-- certify: expect-status 200 -->                  expected HTTP status of the next `http` block
//! <!-- certify: ignore-output -->                      run, but do not compare output
//! <!-- certify: as bash -->                            run an untagged block as bash|console|http
//! <!-- certify: blueprint name="Install Acme on Linux" -->  the Blueprint Library flow of the next list
//! <!-- certify: expect-output                          hidden expected output of the next block
//! Listening on [..]:8080
//! ...
//! -->
//! <!-- certify: setup                                  a hidden bash step, run here
//! export ACME_HOME="$HOME/acme"
//! -->
//! ```
//!
//! An unknown directive, a `skip` without a reason, or an annotation that precedes no
//! block is reported as a failed `kb.annotation` check at its line: a typo must not make
//! the harness quietly run (or not run) something else.

use std::time::Duration;

use serde::Serialize;

/// One parsed directive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "directive", rename_all = "kebab-case")]
pub enum Directive {
    /// Do not run the next block (or list); the reason is reported.
    Skip {
        /// Why; required and non-empty.
        reason: String,
    },
    /// The next block must exit with this status.
    Exit {
        /// Expected exit status.
        code: i32,
    },
    /// Time limit for the next block.
    Timeout {
        /// The limit.
        #[serde(with = "crate::duration_ms")]
        limit: Duration,
    },
    /// Expected HTTP status of the next `http` block.
    ExpectStatus {
        /// Status code, 100–599.
        status: u16,
    },
    /// Hidden expected output of the next command block.
    ExpectOutput {
        /// The expected text, with wildcards.
        text: String,
    },
    /// Run the next block but do not compare its output.
    IgnoreOutput,
    /// A hidden bash step run at this point.
    Setup {
        /// The script.
        script: String,
    },
    /// Treat the next block as this language.
    As {
        /// `bash`, `console` or `http`.
        lang: String,
    },
    /// Name the blueprint of the next ordered list's Blueprint Library flow.
    Blueprint {
        /// The blueprint name as published.
        name: String,
    },
}

/// The prefix that marks a comment as ours.
pub const PREFIX: &str = "certify:";

/// Finds every `<!-- certify: … -->` in an HTML fragment.
///
/// Returns (byte offset of `<!--` within `html`, parse result). Comments that are not
/// ours are ignored.
pub(crate) fn scan(html: &str) -> Vec<(usize, Result<Directive, String>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rel) = html[from..].find("<!--") {
        let open = from + rel;
        let inner_start = open + 4;
        let (inner, next) = match html[inner_start..].find("-->") {
            Some(end) => (&html[inner_start..inner_start + end], inner_start + end + 3),
            None => (&html[inner_start..], html.len()),
        };
        let trimmed = inner.trim_start();
        if let Some(rest) = trimmed.strip_prefix(PREFIX) {
            let r = if next == html.len() && !html[inner_start..].contains("-->") {
                Err("the annotation comment is not closed with `-->`".to_string())
            } else {
                parse(rest)
            };
            out.push((open, r));
        }
        from = next;
    }
    out
}

/// Parses the text after `certify:` up to the closing `-->`.
pub fn parse(text: &str) -> Result<Directive, String> {
    let (head, body) = match text.find('\n') {
        Some(nl) => (&text[..nl], &text[nl + 1..]),
        None => (text, ""),
    };
    let mut toks = tokens(head.trim())?;
    // `exit=1` is the same as `exit 1`.
    if let Some((w, v)) = toks
        .first()
        .and_then(|t| t.split_once('='))
        .map(|(w, v)| (w.to_string(), v.to_string()))
    {
        toks[0] = w;
        toks.insert(1, v);
    }
    let Some((word, args)) = toks.split_first() else {
        return Err("empty annotation: expected a directive after `certify:`".into());
    };
    let kv = |key: &str| -> Option<String> {
        args.iter().find_map(|a| {
            a.strip_prefix(key)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_string)
        })
    };
    // The single argument: the first positional one, or `key=value` under the directive's
    // own name (`exit=1` as well as `exit 1`).
    let arg = |key: &str| -> Option<String> {
        kv(key).or_else(|| args.iter().find(|a| !a.contains('=')).cloned())
    };
    let body = dedent(body);
    match word.as_str() {
        "skip" => {
            let reason = kv("reason").unwrap_or_default();
            if reason.trim().is_empty() {
                Err("`skip` needs a stated reason: <!-- certify: skip reason=\"…\" -->".into())
            } else {
                Ok(Directive::Skip { reason })
            }
        }
        "exit" => arg("code")
            .or_else(|| arg("exit"))
            .and_then(|a| a.parse().ok())
            .map(|code| Directive::Exit { code })
            .ok_or_else(|| "`exit` needs a number, e.g. <!-- certify: exit 1 -->".into()),
        "timeout" => arg("timeout")
            .as_deref()
            .and_then(parse_duration)
            .map(|limit| Directive::Timeout { limit })
            .ok_or_else(|| "`timeout` needs a duration such as 500ms, 30s or 5m".into()),
        "expect-status" => arg("status")
            .and_then(|a| a.parse().ok())
            .filter(|s| (100..600).contains(s))
            .map(|status| Directive::ExpectStatus { status })
            .ok_or_else(|| "`expect-status` needs an HTTP status, e.g. 200".into()),
        "expect-output" => Ok(Directive::ExpectOutput { text: body }),
        "ignore-output" => Ok(Directive::IgnoreOutput),
        "setup" => {
            let script = strip_fences(&body);
            if script.trim().is_empty() {
                Err("`setup` needs a script on the lines after `certify: setup`".into())
            } else {
                Ok(Directive::Setup { script })
            }
        }
        "as" => match arg("lang").as_deref() {
            Some(l @ ("bash" | "sh" | "console" | "http")) => Ok(Directive::As {
                lang: l.to_string(),
            }),
            _ => Err("`as` takes bash, sh, console or http".into()),
        },
        "blueprint" => arg("name")
            .filter(|n| !n.trim().is_empty())
            .map(|name| Directive::Blueprint { name })
            .ok_or_else(|| {
                "`blueprint` needs a name: <!-- certify: blueprint name=\"…\" -->".into()
            }),
        other => Err(format!(
            "unknown annotation `{other}`; known: skip, exit, timeout, expect-status, expect-output, ignore-output, setup, as, blueprint"
        )),
    }
}

/// Splits on whitespace, honouring double quotes (`reason="needs a browser"` is one token,
/// without the quotes).
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("unbalanced quote in the annotation".into());
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Parses `500ms`, `30s`, `5m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    Some(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return None,
    })
}

/// Removes the common leading indentation (a comment inside a list item is indented).
pub(crate) fn dedent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for l in s.lines() {
        let l = l.trim_end_matches('\r');
        out.push_str(l.get(indent..).unwrap_or(l.trim_start()));
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.trim().is_empty() {
        out.clear();
    }
    out
}

/// A setup script may be written as a fenced block inside the comment; drop the fences.
fn strip_fences(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_parse() {
        assert_eq!(
            parse(" skip reason=\"needs a browser\" "),
            Ok(Directive::Skip {
                reason: "needs a browser".into()
            })
        );
        assert!(parse(" skip").is_err());
        assert!(parse(" skip reason=\"\"").is_err());
        assert_eq!(parse(" exit 2"), Ok(Directive::Exit { code: 2 }));
        assert_eq!(parse(" exit=2"), Ok(Directive::Exit { code: 2 }));
        assert_eq!(
            parse(" timeout 2m"),
            Ok(Directive::Timeout {
                limit: Duration::from_secs(120)
            })
        );
        assert_eq!(
            parse(" expect-status 204"),
            Ok(Directive::ExpectStatus { status: 204 })
        );
        assert!(parse(" expect-status 999").is_err());
        assert_eq!(
            parse(" setup\n    export A=1\n    cd /tmp\n"),
            Ok(Directive::Setup {
                script: "export A=1\ncd /tmp\n".into()
            })
        );
        assert_eq!(
            parse(" expect-output\n  ok\n  ...\n"),
            Ok(Directive::ExpectOutput {
                text: "ok\n...\n".into()
            })
        );
        assert_eq!(
            parse(" blueprint name=\"Install Acme on Linux\""),
            Ok(Directive::Blueprint {
                name: "Install Acme on Linux".into()
            })
        );
        assert!(parse(" skp reason=x").unwrap_err().contains("unknown"));
        assert!(parse(" as python").is_err());
    }

    #[test]
    fn scan_finds_only_our_comments() {
        let html = "<!-- a note -->\n<!-- certify: exit 3 -->\n<!-- certify: nope -->";
        let found = scan(html);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, 16);
        assert_eq!(found[0].1, Ok(Directive::Exit { code: 3 }));
        assert!(found[1].1.is_err());
    }
}
