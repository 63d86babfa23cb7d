//! The steps of an article: what a reader does, in order, and how the harness does it.
//!
//! Steps come from three places:
//!
//! - **Code blocks.** ```` ```bash ```` / ```` ```sh ```` / ```` ```shell ```` blocks are scripts
//!   that must exit 0 (or the `exit` annotation's status). ```` ```console ```` blocks hold
//!   `$ command` lines (`> ` continues one) followed by their expected output; each command
//!   is its own step; a command with no output lines under it is not output-checked. An
//!   output block (```` ```text ````, `output`, `plaintext`, `txt`, `log`, `json`) right
//!   after a command block — or after one short paragraph such as "You should see:" — is the
//!   expected output of that block. ```` ```http ```` blocks are requests (`METHOD URL`,
//!   headers, blank line, body) whose status must be 2xx or the `expect-status` annotation's.
//!   Blocks in data languages (`json`, `yaml`, `xml`, `ini`, `toml`, `conf`, `hcl`, `text`,
//!   …) are file contents, not steps. Any other block — untagged, indented, `powershell`,
//!   `python`, … — is a step the harness cannot execute: it is reported as such and counts
//!   against the share of steps executed, unless annotated `skip reason="…"` or `as bash`.
//! - **Setup annotations** (`<!-- certify: setup … -->`): hidden bash steps.
//! - **The Blueprint Library flow** of partner articles: an ordered list whose items locate
//!   a blueprint in the Blueprint Library, configure its parameters, deploy it and watch the
//!   queue. The harness reproduces these through the API ([`crate::BlueprintLibrary`]): the
//!   named blueprint exists, each parameter the article lists exists and accepts the example
//!   value, the deployment was submitted and succeeded. The blueprint name comes from a
//!   `blueprint name="…"` annotation above the list, else from the quoted or bold name
//!   followed by "Blueprint", else from the `Search for "…"` keyword.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use serde::Serialize;

use crate::annotation::Directive;
use crate::article::Article;

/// What kind of step, with what the harness needs to run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepKind {
    /// A bash script (a `bash`/`sh` block, or a hidden setup).
    Shell {
        /// The script, placeholders unbound.
        script: String,
    },
    /// One `$ command` of a `console` block.
    Command {
        /// The command line, placeholders unbound.
        command: String,
    },
    /// An `http` block.
    Http {
        /// The request text, placeholders unbound.
        request: String,
        /// Expected status; `None` means any 2xx.
        expect_status: Option<u16>,
    },
    /// Locate the blueprint in the Blueprint Library.
    FindBlueprint {
        /// The name (or, with `search`, the keyword) the article gives.
        name: String,
        /// The article gives only a search keyword, not the full name.
        search: bool,
    },
    /// Fill in one parameter of the blueprint's deploy form.
    BlueprintParameter {
        /// The blueprint (as in the find step).
        blueprint: String,
        /// The parameter's label.
        name: String,
        /// The example value the article gives, if any.
        value: Option<String>,
    },
    /// Deploy the blueprint.
    DeployBlueprint {
        /// The blueprint (as in the find step).
        blueprint: String,
    },
    /// Watch the queue until the deployment completes.
    WatchQueue {
        /// The blueprint (as in the find step).
        blueprint: String,
    },
    /// A block the harness cannot execute.
    NotExecutable {
        /// Why (e.g. "untagged code block").
        reason: String,
    },
}

/// Expected output of a command step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// The text, with `[..]` and `...` wildcards and placeholders.
    pub text: String,
    /// 1-based line where it starts.
    pub line: usize,
}

/// One step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// 1-based line of the step (the command line, the fence, the list item).
    pub line: usize,
    /// 1-based line of the first line of the step's text (script, command, request);
    /// placeholders are reported at `text_line` plus their line within the text.
    pub text_line: usize,
    /// The numbered step (ordered-list item) it belongs to.
    pub step_number: Option<usize>,
    /// What it does.
    pub kind: StepKind,
    /// Not visible to readers (setup annotations).
    pub hidden: bool,
    /// Skipped, with the stated reason.
    pub skip: Option<String>,
    /// Time limit from an annotation (else the run's default).
    #[serde(with = "crate::duration_ms::option")]
    pub timeout: Option<Duration>,
    /// Expected exit status of a shell step or command.
    pub expect_exit: i32,
    /// Expected output.
    pub expected: Option<Expected>,
}

impl Step {
    /// A one-line label: `bash`, `$ curl …`, `find blueprint "…"`.
    pub fn label(&self) -> String {
        let first = |s: &str| {
            let l = s
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            if l.chars().count() > 80 {
                format!("{}…", l.chars().take(80).collect::<String>())
            } else {
                l.to_string()
            }
        };
        match &self.kind {
            StepKind::Shell { script } if self.hidden => format!("setup: {}", first(script)),
            StepKind::Shell { script } => first(script),
            StepKind::Command { command } => format!("$ {}", first(command)),
            StepKind::Http { request, .. } => first(request),
            StepKind::FindBlueprint {
                name,
                search: false,
            } => format!("find blueprint \"{name}\""),
            StepKind::FindBlueprint { name, search: true } => {
                format!("search blueprints for \"{name}\"")
            }
            StepKind::BlueprintParameter { name, value, .. } => match value {
                Some(v) => format!("parameter \"{name}\" = \"{v}\""),
                None => format!("parameter \"{name}\""),
            },
            StepKind::DeployBlueprint { blueprint } => format!("deploy blueprint \"{blueprint}\""),
            StepKind::WatchQueue { blueprint } => format!("queue: \"{blueprint}\" completes"),
            StepKind::NotExecutable { reason } => format!("not executable: {reason}"),
        }
    }

    /// The text as written in the article (command, script, request), for reports.
    pub fn source(&self) -> String {
        match &self.kind {
            StepKind::Shell { script } => script.clone(),
            StepKind::Command { command } => format!("$ {command}"),
            StepKind::Http { request, .. } => request.clone(),
            _ => self.label(),
        }
    }

    /// Counts towards the share of steps executed (hidden setup does not).
    pub fn visible(&self) -> bool {
        !self.hidden
    }
}

/// Languages that run as bash.
const SHELL_LANGS: &[&str] = &["bash", "sh", "shell"];
/// Languages that hold `$ command` lines with their output.
const CONSOLE_LANGS: &[&str] = &[
    "console",
    "shell-session",
    "shellsession",
    "terminal",
    "sh-session",
];
/// Languages whose blocks are file contents or sample output, not steps.
const DATA_LANGS: &[&str] = &[
    "json",
    "yaml",
    "yml",
    "xml",
    "ini",
    "toml",
    "conf",
    "cfg",
    "properties",
    "csv",
    "diff",
    "patch",
    "text",
    "txt",
    "plaintext",
    "output",
    "log",
    "markdown",
    "md",
    "html",
    "css",
    "hcl",
    "tf",
    "dockerfile",
    "nginx",
    "apache",
    "sql-output",
];

/// True for languages whose block is a command an output block can follow.
pub(crate) fn is_command_lang(lang: &str) -> bool {
    SHELL_LANGS.contains(&lang) || lang == "http"
}

pub(crate) fn extract(a: &Article) -> Vec<Step> {
    let mut steps = Vec::new();
    for (line, script) in &a.setups {
        steps.push(Step {
            line: *line,
            text_line: line + 1,
            step_number: None,
            kind: StepKind::Shell {
                script: script.clone(),
            },
            hidden: true,
            skip: None,
            timeout: None,
            expect_exit: 0,
            expected: None,
        });
    }
    for (i, block) in a.code_blocks.iter().enumerate() {
        if block.output_of.is_some() {
            continue;
        }
        let expected_block = a
            .code_blocks
            .iter()
            .skip(i + 1)
            .find(|b| b.output_of == Some(i));
        code_block_steps(block, expected_block, &mut steps);
    }
    if !a.front.content_is_html {
        blueprint_flows(a, &mut steps);
    }
    steps.sort_by_key(|s| s.line);
    steps
}

fn code_block_steps(
    block: &crate::article::CodeBlock,
    output: Option<&crate::article::CodeBlock>,
    steps: &mut Vec<Step>,
) {
    let mut step = Step {
        line: block.line,
        text_line: block.content_line,
        step_number: block.step_number,
        kind: StepKind::NotExecutable {
            reason: String::new(),
        },
        hidden: false,
        skip: None,
        timeout: None,
        expect_exit: 0,
        expected: output.map(|o| Expected {
            text: o.content.clone(),
            line: o.content_line,
        }),
    };
    let mut lang = block.lang.clone().unwrap_or_default();
    let mut expect_status = None;
    let mut ignore_output = false;
    for (line, d) in &block.directives {
        match d {
            Directive::Skip { reason } => step.skip = Some(reason.clone()),
            Directive::Exit { code } => step.expect_exit = *code,
            Directive::Timeout { limit } => step.timeout = Some(*limit),
            Directive::ExpectStatus { status } => expect_status = Some(*status),
            Directive::ExpectOutput { text } => {
                step.expected = Some(Expected {
                    text: text.clone(),
                    line: line + 1,
                })
            }
            Directive::IgnoreOutput => ignore_output = true,
            Directive::As { lang: l } => lang = l.clone(),
            Directive::Setup { .. } | Directive::Blueprint { .. } => {}
        }
    }
    if ignore_output {
        step.expected = None;
    }
    let l = lang.as_str();
    if SHELL_LANGS.contains(&l) {
        step.kind = StepKind::Shell {
            script: block.content.clone(),
        };
        steps.push(step);
    } else if l == "http" {
        step.kind = StepKind::Http {
            request: block.content.clone(),
            expect_status,
        };
        steps.push(step);
    } else if CONSOLE_LANGS.contains(&l) {
        let before = steps.len();
        console_steps(block, &step, ignore_output, steps);
        if steps.len() == before {
            step.kind = StepKind::NotExecutable {
                reason: "console block without `$ ` command lines".into(),
            };
            steps.push(step);
        }
    } else if DATA_LANGS.contains(&l) && step.skip.is_none() {
        // File contents or sample output: nothing to do.
    } else {
        let reason = if block.indented {
            "indented code block (fence it as ```bash or ```console to run it)".to_string()
        } else if l.is_empty() && step.skip.is_some() {
            // Already skipped with its reason: no advice to add one.
            "untagged code block".to_string()
        } else if l.is_empty() {
            "untagged code block (tag it bash, console or http, or annotate skip with a reason)"
                .to_string()
        } else {
            format!("`{l}` blocks are not run by the harness")
        };
        step.kind = StepKind::NotExecutable { reason };
        steps.push(step);
    }
}

fn console_steps(
    block: &crate::article::CodeBlock,
    template: &Step,
    ignore_output: bool,
    steps: &mut Vec<Step>,
) {
    // (command, line, expected lines, line of first expected line)
    let mut cur: Option<(String, usize, Vec<String>, usize)> = None;
    let flush = |cur: Option<(String, usize, Vec<String>, usize)>, steps: &mut Vec<Step>| {
        if let Some((command, line, out, out_line)) = cur {
            let mut s = template.clone();
            s.line = line;
            s.text_line = line;
            s.kind = StepKind::Command { command };
            s.expected = (!ignore_output && !out.is_empty()).then(|| Expected {
                text: out.join("\n") + "\n",
                line: out_line,
            });
            steps.push(s);
        }
    };
    for (i, raw) in block.content.lines().enumerate() {
        let line = block.content_line + i;
        let l = raw.trim_end_matches('\r');
        if let Some(cmd) = l.strip_prefix("$ ").or_else(|| (l == "$").then_some("")) {
            flush(cur.take(), steps);
            cur = Some((cmd.to_string(), line, Vec::new(), line + 1));
        } else if let Some(cont) = l.strip_prefix("> ")
            && let Some(c) = cur.as_mut()
            && c.2.is_empty()
        {
            c.0.push('\n');
            c.0.push_str(cont);
            c.3 = line + 1;
        } else if let Some(c) = cur.as_mut() {
            c.2.push(l.to_string());
        }
    }
    flush(cur, steps);
    // Trailing blank lines of the block are not expected output.
    for s in steps.iter_mut() {
        if let Some(e) = &mut s.expected {
            let t = e.text.trim_end().to_string();
            if t.is_empty() {
                s.expected = None;
            } else {
                e.text = t + "\n";
            }
        }
    }
}

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:'([^'\n]{2,100})'|‘([^’\n]{2,100})’|“([^”\n]{2,100})”|"([^"\n]{2,100})"|\*\*([^*\n]{2,100})\*\*)(\s+blueprint\b)?"#,
    )
    .expect("static regex")
});
static CONVENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(install|deploy|configure|add|create|set ?up)\b.*\bon\b")
        .expect("static regex")
});
static LOCATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)blueprints?\s+library|\b(locate|search|find|choose|select)\b[^\n]*\bblueprint")
        .expect("static regex")
});
static SEARCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:search for|type)\s+(?:the\s+)?["“'‘]([^"”'’\n]{2,60})["”'’]"#)
        .expect("static regex")
});
static CONFIGURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)configur|parameters|customi[sz]e|complete the information|fill in")
        .expect("static regex")
});
static DEPLOY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)deploy blueprint|^\s*deploy\b").expect("static regex"));
static QUEUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bqueue\b|deployment (is )?complete|build (is )?complete|receive an email")
        .expect("static regex")
});
static BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*[*+-][ \t]+(.+)$").expect("static regex"));
static EXAMPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(.+?)\s*(?:,\s*e\.g\.,?|\s+-\s+default|\(default:?)\s*(.*?)\)?\s*\.?$")
        .expect("static regex")
});

/// The item's own line (after the marker) and its whole text.
fn item_text<'a>(a: &'a Article, item: &crate::article::ListItem) -> (&'a str, &'a str) {
    let whole = &a.text[item.range.clone()];
    let first = whole.lines().next().unwrap_or("");
    let title = first
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start_matches(['.', ')'])
        .trim();
    (title, whole)
}

fn blueprint_flows(a: &Article, steps: &mut Vec<Step>) {
    let annotated: Vec<usize> = a.blueprint_names.iter().map(|(l, _, _)| *l).collect();
    let mut found_auto = false;
    for (li, list) in a.ordered_lists.iter().enumerate() {
        let named = a.blueprint_names.iter().find(|(l, _, _)| *l == li);
        if named.is_none() && (found_auto || !annotated.is_empty()) {
            continue;
        }
        let Some(flow) = flow_of(a, list, named.map(|(_, line, n)| (*line, n.as_str()))) else {
            continue;
        };
        found_auto |= named.is_none();
        steps.extend(flow);
    }
}

fn flow_of(
    a: &Article,
    list: &crate::article::OrderedList,
    named: Option<(usize, &str)>,
) -> Option<Vec<Step>> {
    let items: Vec<_> = list.items.iter().map(|it| (it, item_text(a, it))).collect();
    let locate = items
        .iter()
        .position(|(_, (t, w))| LOCATE.is_match(t) || (LOCATE.is_match(w) && NAME.is_match(w)));
    if named.is_none() && locate.is_none() {
        return None;
    }
    let step = |line: usize, n: usize, kind: StepKind| Step {
        line,
        text_line: line,
        step_number: Some(n),
        kind,
        hidden: false,
        skip: None,
        timeout: None,
        expect_exit: 0,
        expected: None,
    };
    // Name: annotation, else a quoted/bold name followed by "Blueprint" or following the
    // naming convention, else the search keyword.
    let (name, search, find_line, find_item) = if let Some((line, n)) = named {
        (n.to_string(), false, line, locate.unwrap_or(0))
    } else {
        let mut best: Option<(String, bool, usize, usize, u8)> = None;
        for (idx, (it, (_, whole))) in items.iter().enumerate().skip(locate.unwrap_or(0)) {
            if DEPLOY.is_match(item_text(a, it).0) && best.is_some() {
                break;
            }
            for c in NAME.captures_iter(whole) {
                let text = (1..=5)
                    .find_map(|g| c.get(g))
                    .map_or("", |m| m.as_str())
                    .trim();
                let rank = if c.get(6).is_some() {
                    3
                } else if CONVENTION.is_match(text) {
                    2
                } else {
                    0
                };
                let line = a.line(it.range.start + c.get(0).expect("group 0").start());
                if rank > 0 && best.as_ref().is_none_or(|b| rank > b.4) {
                    best = Some((text.to_string(), false, line, idx, rank));
                }
            }
            if best.is_none()
                && let Some(c) = SEARCH.captures(whole)
            {
                let line = a.line(it.range.start + c.get(0).expect("group 0").start());
                best = Some((c[1].trim().to_string(), true, line, idx, 1));
            }
        }
        let (n, s, l, i, _) = best?;
        (n, s, l, i)
    };
    let mut out = vec![step(
        find_line,
        find_item + 1,
        StepKind::FindBlueprint {
            name: name.clone(),
            search,
        },
    )];
    let deploy = items.iter().rposition(|(_, (t, w))| {
        DEPLOY.is_match(t) || w.to_ascii_lowercase().contains("deploy blueprint")
    });
    for (idx, (it, (title, whole))) in items.iter().enumerate().skip(find_item) {
        if deploy.is_some_and(|d| idx >= d) {
            break;
        }
        if !CONFIGURE.is_match(title) {
            continue;
        }
        for c in BULLET.captures_iter(whole) {
            if let Some((pname, value)) = parameter(&c[1]) {
                let line = a.line(it.range.start + c.get(0).expect("group 0").start());
                out.push(step(
                    line,
                    idx + 1,
                    StepKind::BlueprintParameter {
                        blueprint: name.clone(),
                        name: pname,
                        value,
                    },
                ));
            }
        }
    }
    if let Some(d) = deploy.filter(|&d| d >= find_item) {
        out.push(step(
            items[d].0.line,
            d + 1,
            StepKind::DeployBlueprint {
                blueprint: name.clone(),
            },
        ));
        if let Some(q) = items
            .iter()
            .skip(d + 1)
            .position(|(_, (_, w))| QUEUE.is_match(w))
        {
            let q = d + 1 + q;
            out.push(step(
                items[q].0.line,
                q + 1,
                StepKind::WatchQueue { blueprint: name },
            ));
        }
    }
    Some(out)
}

/// A parameter bullet: `Name, e.g., value`, `**Name** - default value`, `Name: text` or a
/// short bare label. Long sentences are instructions, not parameters.
fn parameter(bullet: &str) -> Option<(String, Option<String>)> {
    let b = bullet.trim();
    let clean = |s: &str| {
        s.replace("**", "")
            .replace('`', "")
            .trim()
            .trim_end_matches([':', '.'])
            .trim()
            .to_string()
    };
    let first_word = b
        .trim_start_matches('*')
        .split([' ', ':', '*'])
        .next()
        .unwrap_or("");
    if ["important", "note", "tip", "warning", "caution"]
        .contains(&first_word.to_ascii_lowercase().as_str())
    {
        return None;
    }
    if let Some(c) = EXAMPLE.captures(b) {
        let value = clean(&c[2]);
        return Some((clean(&c[1]), (!value.is_empty()).then_some(value)));
    }
    if let Some(rest) = b.strip_prefix("**")
        && let Some(end) = rest.find("**")
    {
        return Some((clean(&rest[..end]), None));
    }
    if let Some((name, _)) = b.split_once(':')
        && name.split_whitespace().count() <= 5
    {
        return Some((clean(name), None));
    }
    (b.split_whitespace().count() <= 4 && !b.ends_with('.')).then(|| (clean(b), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(usize, StepKind)> {
        Article::parse("a.md", text)
            .steps
            .into_iter()
            .map(|s| (s.line, s.kind))
            .collect()
    }

    #[test]
    fn console_blocks_give_one_step_per_command() {
        let a = Article::parse(
            "a.md",
            "{{{ }}}\n1. Run:\n\n   ```console\n   $ echo a\n   a\n   $ echo b \\\n   > c\n   b c\n   $ true\n   ```\n",
        );
        let s: Vec<_> = a
            .steps
            .iter()
            .map(|s| (s.line, s.label(), s.expected.clone()))
            .collect();
        assert_eq!(s[0].0, 5);
        assert_eq!(s[0].2.as_ref().unwrap().text, "a\n");
        assert_eq!(s[0].2.as_ref().unwrap().line, 6);
        assert_eq!(s[1].0, 7);
        assert_eq!(s[1].2.as_ref().unwrap().line, 9);
        assert_eq!(s[2].1, "$ true");
        assert_eq!(s[2].2, None);
        assert!(a.steps.iter().all(|s| s.step_number == Some(1)));
    }

    #[test]
    fn untagged_and_foreign_blocks_are_not_executable_data_is_not_a_step() {
        let k =
            kinds("{{{ }}}\n```\nx\n```\n\n```powershell\nGet-Item\n```\n\n```yaml\na: 1\n```\n");
        assert_eq!(k.len(), 2);
        assert!(
            matches!(&k[0].1, StepKind::NotExecutable { reason } if reason.contains("untagged"))
        );
        assert!(
            matches!(&k[1].1, StepKind::NotExecutable { reason } if reason.contains("powershell"))
        );
    }

    #[test]
    fn the_blueprint_library_flow_becomes_api_steps() {
        let text = "{{{ }}}\n### Steps\n1. Locate the Blueprint.\n   * Click **Orchestration > Blueprints Library**.\n   * Locate the 'Install Acme on Linux' Blueprint.\n\n2. Configure the Blueprint.\n   * Execute on Server: pick one.\n   * Acme Port, e.g., 8080\n   * **Admin Email** - default ops@example.com\n   * Please read the whole manual before you continue here.\n\n3. Deploy the Blueprint.\n   * Click `deploy blueprint`.\n\n4. Monitor the Activity Queue.\n";
        let k = kinds(text);
        let bp = "Install Acme on Linux".to_string();
        assert_eq!(
            k,
            vec![
                (
                    5,
                    StepKind::FindBlueprint {
                        name: bp.clone(),
                        search: false
                    }
                ),
                (
                    8,
                    StepKind::BlueprintParameter {
                        blueprint: bp.clone(),
                        name: "Execute on Server".into(),
                        value: None
                    }
                ),
                (
                    9,
                    StepKind::BlueprintParameter {
                        blueprint: bp.clone(),
                        name: "Acme Port".into(),
                        value: Some("8080".into())
                    }
                ),
                (
                    10,
                    StepKind::BlueprintParameter {
                        blueprint: bp.clone(),
                        name: "Admin Email".into(),
                        value: Some("ops@example.com".into())
                    }
                ),
                (
                    13,
                    StepKind::DeployBlueprint {
                        blueprint: bp.clone()
                    }
                ),
                (16, StepKind::WatchQueue { blueprint: bp }),
            ]
        );
    }

    #[test]
    fn annotations_shape_steps() {
        let text = "{{{ }}}\n<!-- certify: setup\ncd /tmp\n-->\n\n<!-- certify: exit 3 -->\n<!-- certify: timeout 5s -->\n```bash\nexit 3\n```\n\n<!-- certify: skip reason=\"browser\" -->\n```\nopen http://x\n```\n\n<!-- certify: expect-status 204 -->\n```http\nGET http://x/\n```\n";
        let a = Article::parse("a.md", text);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        let s = &a.steps;
        assert_eq!(s.len(), 4);
        assert!(s[0].hidden);
        assert_eq!(
            (s[1].expect_exit, s[1].timeout),
            (3, Some(Duration::from_secs(5)))
        );
        assert_eq!(s[2].skip.as_deref(), Some("browser"));
        // Skipped with its reason: not told to add one.
        assert!(
            matches!(&s[2].kind, StepKind::NotExecutable { reason } if !reason.contains("annotate")),
            "{:?}",
            s[2].kind
        );
        assert_eq!(
            s[3].kind,
            StepKind::Http {
                request: "GET http://x/\n".into(),
                expect_status: Some(204)
            }
        );
    }
}
