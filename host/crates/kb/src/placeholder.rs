//! Placeholders in commands and expected output, and the bindings that fill them.
//!
//! A placeholder is `{{namespace.path}}` (spaces inside the braces allowed). Only these
//! namespaces are placeholders, so Go templates (`{{.Names}}`), Jinja and Ansible
//! (`{{ ansible_host }}`) in an article pass through untouched:
//!
//! | Placeholder | Bound to |
//! |---|---|
//! | `{{server.ALIAS.name}}` | the name of the server the blueprint built for `ALIAS` |
//! | `{{server.ALIAS.internal_ip}}` / `{{server.ALIAS.public_ip}}` | its addresses |
//! | `{{account.alias}}`, `{{account.datacenter}}` | the test account |
//! | `{{param.NAME}}` | a blueprint parameter's deployed value |
//! | `{{deploy.NAME}}` | other facts of the run's deployment |
//! | `{{secret.NAME}}` | a secret (always masked in output and reports) |
//! | `{{var.NAME}}` | anything else the suite binds |
//!
//! Every placeholder of a step is bound before anything runs; an unbound one fails that
//! step at its line and the step is not run, so no command ever runs with a hole in it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// The namespaces that make `{{…}}` a placeholder.
pub const NAMESPACES: &[&str] = &["server", "account", "param", "deploy", "secret", "var"];

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\{\{\s*((?:server|account|param|deploy|secret|var)\.[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*\}\}",
    )
    .expect("static regex")
});

/// One occurrence of a placeholder in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placeholder {
    /// The key inside the braces, e.g. `server.WEB.internal_ip`.
    pub key: String,
    /// Byte range of `{{…}}` in the text it was found in.
    pub range: std::ops::Range<usize>,
}

/// Every placeholder in `text`, in order.
pub fn find(text: &str) -> Vec<Placeholder> {
    PLACEHOLDER
        .captures_iter(text)
        .map(|c| Placeholder {
            key: c[1].to_string(),
            range: c.get(0).expect("group 0").range(),
        })
        .collect()
}

/// Values for placeholders, taken from the run's deployment.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    values: BTreeMap<String, String>,
    secrets: Vec<String>,
}

impl Bindings {
    /// No bindings.
    pub fn new() -> Bindings {
        Bindings::default()
    }

    /// Binds `key` (without braces, e.g. `server.WEB.internal_ip`). Keys in the `secret.`
    /// namespace are masked like [`Bindings::insert_secret`].
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        let value = value.into();
        if key.starts_with("secret.") {
            self.add_secret(&value);
        }
        self.values.insert(key, value);
        self
    }

    /// Binds `key` and masks its value wherever it would appear in output or reports.
    pub fn insert_secret(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        self.add_secret(&value);
        self.values.insert(key.into(), value);
        self
    }

    /// Adds a value to mask without binding it to a placeholder (e.g. the account's API
    /// password, which a step should never print).
    pub fn add_secret(&mut self, value: &str) -> &mut Self {
        // Masking a one- or two-character "secret" would garble every output.
        if value.len() >= 3 && !self.secrets.iter().any(|s| s == value) {
            self.secrets.push(value.to_string());
            // Longest first, so a secret that contains another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        self
    }

    /// The value bound to `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Every binding, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The values to mask.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Replaces every placeholder in `text`; `Err` lists the unbound keys (deduplicated,
    /// in order of appearance).
    pub fn bind(&self, text: &str) -> Result<String, Vec<String>> {
        let mut missing: Vec<String> = Vec::new();
        let out = PLACEHOLDER.replace_all(text, |c: &regex::Captures<'_>| match self.get(&c[1]) {
            Some(v) => v.to_string(),
            None => {
                if !missing.iter().any(|m| m == &c[1]) {
                    missing.push(c[1].to_string());
                }
                String::new()
            }
        });
        if missing.is_empty() {
            Ok(out.into_owned())
        } else {
            Err(missing)
        }
    }

    /// Replaces every secret value in `text` with `********`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "********");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_namespaces_are_placeholders() {
        let t = "curl http://{{server.WEB.internal_ip}}:8080 {{ param.Port }} {{.Names}} {{ ansible_host }}";
        let keys: Vec<_> = find(t).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["server.WEB.internal_ip", "param.Port"]);
    }

    #[test]
    fn bind_fills_or_lists_what_is_missing() {
        let mut b = Bindings::new();
        b.insert("server.WEB.internal_ip", "10.0.0.5");
        assert_eq!(
            b.bind("ping {{server.WEB.internal_ip}}").unwrap(),
            "ping 10.0.0.5"
        );
        assert_eq!(
            b.bind("{{account.alias}} {{ account.alias }} {{param.X}}")
                .unwrap_err(),
            ["account.alias", "param.X"]
        );
    }

    #[test]
    fn secrets_are_masked_longest_first() {
        let mut b = Bindings::new();
        b.insert("secret.pw", "hunter2");
        b.insert_secret("param.AdminPassword", "hunter2-and-more");
        b.add_secret("ab");
        assert_eq!(
            b.mask("x hunter2-and-more hunter2 ab"),
            "x ******** ******** ab"
        );
    }
}
