//! `candidate.toml`: the schema (format 1), read with positions so every problem has a
//! line and column. See `FORMAT.md` for the annotated example.
//!
//! The file is walked by hand over `toml`'s span-keeping tables rather than deserialised
//! with serde: serde stops at the first problem, and a candidate fixing a bundle wants
//! all of them at once. Unknown keys are errors (a typo must not silently drop a
//! setting), except in the free-form `[plugin.parameters]`, `[deploy.parameters]` and
//! `[deploy.secrets]` tables.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use chrono::{Months, NaiveDate};
use regex::Regex;
use serde::{Serialize, Serializer};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::problem::{Diagnostics, Source};

pub use certify_program::Tier;

/// The `format` this harness reads.
pub const FORMAT: i64 = 1;

/// The candidate and its product (`[candidate]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The partner company, e.g. "Acme Widgets Inc.".
    pub company: String,
    /// The product under certification, e.g. "Acme Status Page".
    pub product: String,
    /// The product version the candidate advertises, when given.
    pub version: Option<String>,
    /// The program tier, which sets the monthly credit.
    pub tier: Tier,
    /// First day of the candidate's program (its three-month window starts here).
    #[serde(serialize_with = "iso_date")]
    pub program_start: NaiveDate,
}

impl Candidate {
    /// The last day of the three-month window the program gives a candidate.
    pub fn program_end(&self) -> NaiveDate {
        self.program_start
            .checked_add_months(Months::new(3))
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Whether `day` falls inside the program window.
    pub fn in_program_window(&self, day: NaiveDate) -> bool {
        (self.program_start..=self.program_end()).contains(&day)
    }
}

fn iso_date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&d.format("%Y-%m-%d"))
}

/// The Member's support (`[support]`): 24x7 email and telephone, and who to escalate to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Support {
    /// 24x7 support email.
    pub email: String,
    /// 24x7 support telephone.
    pub phone: String,
    /// Who the provider's staff escalate to (internal: must not appear in public articles).
    pub escalation: Contact,
}

/// A contact: a name with an email, a telephone, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Person or role, e.g. "Acme duty manager".
    pub name: String,
    /// Email, when given.
    pub email: Option<String>,
    /// Telephone, when given.
    pub phone: Option<String>,
}

/// The validation plugin (`[plugin]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginSpec {
    /// Where the plugin comes from.
    pub source: PluginSource,
    /// Parameters passed to its checks (`ctx.parameter(name)`), sorted by name.
    pub parameters: BTreeMap<String, String>,
    /// `[plugin.ports]`: the TCP ports of each server role the plugin may reach over
    /// HTTP. Its grant is exactly these ports on that role's servers' addresses.
    pub ports: BTreeMap<String, Vec<u16>>,
}

/// A ready component, or a Cargo project the harness builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PluginSource {
    /// A WebAssembly component (`.wasm`), absolute path.
    Wasm {
        /// The file.
        path: std::path::PathBuf,
    },
    /// A Cargo project to build for `wasm32-wasip2` (crate type `cdylib`).
    Cargo {
        /// The project directory (holding `Cargo.toml`), absolute.
        dir: std::path::PathBuf,
        /// Its package name; the artifact is `<name with - as _>.wasm`.
        package: String,
    },
}

/// The deployment (`[deploy]`): where, and with which parameter values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    /// Data center alias, e.g. `WA1`; the harness's default when `None`.
    pub data_center: Option<String>,
    /// Parameter values by variable: `[deploy.parameters]` then `[deploy.secrets]`,
    /// each sorted by name.
    pub parameters: Vec<DeployParameter>,
}

impl Deploy {
    /// The parameter with this variable.
    pub fn get(&self, name: &str) -> Option<&DeployParameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The values to deploy with: plain values as written, secrets the integrator
    /// supplies (`supplied(name)`, from `--secret NAME=VARIABLE`) or generated. Generated
    /// secrets are new on each call.
    pub fn resolve(
        &self,
        supplied: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<ResolvedParameter>, SecretError> {
        self.parameters
            .iter()
            .map(|p| {
                let (value, secret) = match &p.value {
                    ParameterValue::Plain(v) => (v.clone(), false),
                    ParameterValue::Secret(SecretSource::Literal(s)) => {
                        (s.expose().to_string(), true)
                    }
                    ParameterValue::Secret(SecretSource::Integrator) => {
                        let v = supplied(&p.name).ok_or_else(|| SecretError::Unset {
                            name: p.name.clone(),
                        })?;
                        (v, true)
                    }
                    ParameterValue::Secret(SecretSource::Generate) => (
                        generate().map_err(|source| SecretError::Generate {
                            name: p.name.clone(),
                            source,
                        })?,
                        true,
                    ),
                };
                Ok(ResolvedParameter {
                    name: p.name.clone(),
                    value,
                    secret,
                })
            })
            .collect()
    }
}

/// 32 random hex digits behind a fixed `Cb7-` prefix, so the value also satisfies the
/// usual "upper, lower, digit and symbol" password rules.
fn generate() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(format!("Cb7-{}", hex::encode(bytes)))
}

/// Why a secret could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The environment variable a secret reads is not set.
    #[error(
        "the bundle needs the deployment secret {name} from the integrator; pass --secret {name}=VARIABLE with the value in the environment variable VARIABLE"
    )]
    Unset {
        /// The parameter.
        name: String,
    },
    /// No randomness to generate one.
    #[error("cannot generate a value for deployment secret {name}")]
    Generate {
        /// The parameter.
        name: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A parameter value ready to deploy with. Its `Debug` withholds secret values.
#[derive(Clone, PartialEq, Eq)]
pub struct ResolvedParameter {
    /// The variable.
    pub name: String,
    /// The value.
    pub value: String,
    /// Whether the value must be masked in logs and reports.
    pub secret: bool,
}

impl fmt::Debug for ResolvedParameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedParameter")
            .field("name", &self.name)
            .field("value", &if self.secret { "<secret>" } else { &self.value })
            .field("secret", &self.secret)
            .finish()
    }
}

/// One deployment parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployParameter {
    /// The variable, e.g. `Acme.Port`.
    pub name: String,
    /// Its value, or where a secret comes from.
    pub value: ParameterValue,
}

impl DeployParameter {
    /// Whether the value must never appear in logs or reports.
    pub fn is_secret(&self) -> bool {
        matches!(self.value, ParameterValue::Secret(_))
    }

    /// The value when it is not a secret.
    pub fn plain_value(&self) -> Option<&str> {
        match &self.value {
            ParameterValue::Plain(v) => Some(v),
            ParameterValue::Secret(_) => None,
        }
    }
}

/// A deployment parameter's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParameterValue {
    /// From `[deploy.parameters]`: may appear in reports.
    Plain(String),
    /// From `[deploy.secrets]`: withheld from reports and plugins.
    Secret(SecretSource),
}

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// Written in `candidate.toml` (allowed, with a warning: it ends up in version control).
    Literal(Secret),
    /// `{ integrator = true }`: the integrator supplies it (`--secret NAME=VARIABLE`). A
    /// bundle never names a variable of the machine it runs on.
    Integrator,
    /// `{ generate = true }`: a fresh random value for each run.
    Generate,
}

/// A secret string: `Debug` and `Serialize` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value itself, for the one place that needs it (the deploy request).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<secret>")
    }
}

/// A path as written in `candidate.toml`, with where it was written.
#[derive(Debug, Clone)]
pub(crate) struct PathRef {
    pub text: String,
    pub span: Range<usize>,
}

/// Everything read from `candidate.toml`; `None` where a value was missing or invalid
/// (its problem is already reported).
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub candidate: Option<Candidate>,
    pub support: Option<Support>,
    pub blueprint: Option<PathRef>,
    pub packages: Vec<PathRef>,
    pub kb_public: Option<PathRef>,
    pub kb_internal: Option<PathRef>,
    pub plugin: Option<PathRef>,
    pub plugin_parameters: BTreeMap<String, String>,
    pub plugin_ports: BTreeMap<String, Vec<u16>>,
    pub data_center: Option<String>,
    /// With the span of each value, for cross-checks against the packages.
    pub deploy: Vec<(DeployParameter, Range<usize>)>,
}

type Value<'i> = Spanned<DeValue<'i>>;

/// Parses `candidate.toml`. Syntax errors end the reading of the file (what follows
/// them cannot be trusted); schema problems are all collected.
pub(crate) fn parse(src: &Source, diag: &mut Diagnostics) -> Option<Parsed> {
    let (doc, errors) = DeTable::parse_recoverable(&src.text);
    if !errors.is_empty() {
        for e in errors {
            diag.error(
                src,
                e.span().map_or(0, |s| s.start),
                format!("candidate.toml is not valid TOML: {}", e.message()),
                "fix the TOML syntax (strings in double quotes, one key = value per line, [table] headers)",
            );
        }
        return None;
    }
    let mut w = Walker { src, diag };
    let root = doc.get_ref();
    let mut out = Parsed::default();
    w.unknown_keys(
        root,
        "the top level",
        &[
            "format",
            "candidate",
            "support",
            "blueprint",
            "kb",
            "plugin",
            "deploy",
        ],
    );
    w.format(root);
    if let Some(t) = w.table(
        root,
        "candidate",
        "company, product, tier and program_start",
    ) {
        out.candidate = w.candidate(t);
    }
    if let Some(t) = w.table(
        root,
        "support",
        "the 24x7 email and phone, and an escalation contact",
    ) {
        out.support = w.support(t);
    }
    if let Some(t) = w.table(root, "blueprint", "file (the blueprint JSON) and packages") {
        w.blueprint(t, &mut out);
    }
    if let Some((t, span)) = w.table(root, "kb", "the public and internal articles") {
        w.unknown_keys(t, "[kb]", &["public", "internal"]);
        out.kb_public = w.path(
            t,
            span.clone(),
            "kb",
            "public",
            "\"kb/public/getting-started-with-<product>-blueprint.md\"",
        );
        out.kb_internal = w.path(
            t,
            span,
            "kb",
            "internal",
            "\"kb/internal/<product>-blueprint-internal.md\"",
        );
    }
    if let Some(t) = w.table(
        root,
        "plugin",
        "path (a .wasm component or a Cargo project)",
    ) {
        w.plugin(t, &mut out);
    }
    match get(root, "deploy") {
        None => {}
        Some(d) => match d.get_ref().as_table() {
            None => w.error(
                d.span(),
                "`deploy` must be a table",
                "write a [deploy] section",
            ),
            Some(t) => w.deploy(t, &mut out),
        },
    }
    Some(out)
}

fn get<'t, 'i>(t: &'t DeTable<'i>, key: &str) -> Option<&'t Value<'i>> {
    t.iter().find(|(k, _)| k.get_ref() == key).map(|(_, v)| v)
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
        .expect("static regex")
});

/// An email address as people write them (not the full RFC 5322 grammar).
pub fn well_formed_email(s: &str) -> bool {
    EMAIL.is_match(s)
}

/// A telephone number written in full: digits with spaces, dots, dashes or parentheses,
/// an optional leading `+`; 10 to 15 digits, or 8 to 15 after a `+` country code.
pub fn well_formed_phone(s: &str) -> bool {
    let s = s.trim();
    let body = s.strip_prefix('+').unwrap_or(s);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || " .-()".contains(c))
    {
        return false;
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    (10..=15).contains(&digits) || (s.starts_with('+') && (8..=15).contains(&digits))
}

struct Walker<'a> {
    src: &'a Source,
    diag: &'a mut Diagnostics,
}

impl Walker<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: impl Into<String>) {
        self.diag.error(self.src, span.start, message, hint);
    }

    fn warning(&mut self, span: Range<usize>, message: impl Into<String>, hint: impl Into<String>) {
        self.diag.warning(self.src, span.start, message, hint);
    }

    fn unknown_keys(&mut self, t: &DeTable<'_>, where_: &str, allowed: &[&str]) {
        let mut keys: Vec<_> = t.iter().map(|(k, _)| k).collect();
        keys.sort_by_key(|k| k.span().start);
        for k in keys {
            if !allowed.contains(&k.get_ref().as_ref()) {
                self.error(
                    k.span(),
                    format!("unknown key `{}` in {where_}", k.get_ref()),
                    format!("the keys here are: {}", allowed.join(", ")),
                );
            }
        }
    }

    /// A required top-level table; reports it missing.
    fn table<'t, 'i>(
        &mut self,
        root: &'t DeTable<'i>,
        name: &str,
        holds: &str,
    ) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        match get(root, name) {
            None => {
                self.error(
                    0..0,
                    format!("candidate.toml has no [{name}] table"),
                    format!("add a [{name}] table with {holds} (see FORMAT.md)"),
                );
                None
            }
            Some(v) => match v.get_ref().as_table() {
                Some(t) => Some((t, v.span())),
                None => {
                    self.error(
                        v.span(),
                        format!("`{name}` must be a table"),
                        format!("write it as a [{name}] section with {holds}"),
                    );
                    None
                }
            },
        }
    }

    fn optional_table<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        dotted: &str,
    ) -> Option<&'t DeTable<'i>> {
        let key = dotted.rsplit('.').next().unwrap_or(dotted);
        let v = get(t, key)?;
        match v.get_ref().as_table() {
            Some(t) => Some(t),
            None => {
                self.error(
                    v.span(),
                    format!("`{dotted}` must be a table"),
                    format!("write it as a [{dotted}] section of name = value lines"),
                );
                None
            }
        }
    }

    fn string(
        &mut self,
        t: &DeTable<'_>,
        table_span: Range<usize>,
        table: &str,
        key: &str,
        example: &str,
    ) -> Option<(String, Range<usize>)> {
        match get(t, key) {
            None => {
                self.error(
                    table_span,
                    format!("[{table}] has no `{key}`"),
                    format!("add `{key} = {example}`"),
                );
                None
            }
            Some(v) => match v.get_ref().as_str() {
                Some(s) if !s.trim().is_empty() => Some((s.trim().to_string(), v.span())),
                Some(_) => {
                    self.error(
                        v.span(),
                        format!("`{key}` in [{table}] is empty"),
                        format!("write e.g. `{key} = {example}`"),
                    );
                    None
                }
                None => {
                    self.error(
                        v.span(),
                        format!("`{key}` in [{table}] must be a string"),
                        format!("write e.g. `{key} = {example}`"),
                    );
                    None
                }
            },
        }
    }

    fn path(
        &mut self,
        t: &DeTable<'_>,
        table_span: Range<usize>,
        table: &str,
        key: &str,
        example: &str,
    ) -> Option<PathRef> {
        self.string(t, table_span, table, key, example)
            .map(|(text, span)| PathRef { text, span })
    }

    fn scalar(&mut self, v: &Value<'_>, what: &str) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            DeValue::Integer(i) => Some(
                i64::from_str_radix(i.as_str(), i.radix())
                    .map_or_else(|_| i.as_str().to_string(), |n| n.to_string()),
            ),
            DeValue::Float(f) => Some(f.as_str().to_string()),
            DeValue::Boolean(b) => Some(b.to_string()),
            other => {
                self.error(
                    v.span(),
                    format!(
                        "{what} must be a string, number or boolean, not {}",
                        other.type_str()
                    ),
                    "write the value as a string",
                );
                None
            }
        }
    }

    fn candidate(&mut self, (t, span): (&DeTable<'_>, Range<usize>)) -> Option<Candidate> {
        self.unknown_keys(
            t,
            "[candidate]",
            &["company", "product", "version", "tier", "program_start"],
        );
        let company = self.string(
            t,
            span.clone(),
            "candidate",
            "company",
            "\"Acme Widgets Inc.\"",
        );
        let product = self.string(
            t,
            span.clone(),
            "candidate",
            "product",
            "\"Acme Status Page\"",
        );
        let version = match get(t, "version") {
            None => None,
            Some(v) => self.scalar(v, "`version` in [candidate]"),
        };
        let tier = self
            .string(t, span.clone(), "candidate", "tier", "\"silver\"")
            .and_then(
                |(s, sp)| match Tier::from_name(&s.trim().to_ascii_lowercase()) {
                    Some(tier) => Some(tier),
                    None => {
                        self.error(
                            sp,
                            format!("unknown tier {s:?}"),
                            "use \"silver\" (every candidate), \"gold\" or \"platinum\" (Members)",
                        );
                        None
                    }
                },
            );
        let program_start = match get(t, "program_start") {
            None => {
                self.error(
                    span,
                    "[candidate] has no `program_start`",
                    "add `program_start = 2026-03-02`: the day the program agreement was signed",
                );
                None
            }
            Some(v) => match certify_diag::toml_date(v.get_ref()) {
                Some(d) => Some(d),
                None => {
                    self.error(
                        v.span(),
                        "`program_start` is not a date",
                        "write a calendar date, e.g. `program_start = 2026-03-02`",
                    );
                    None
                }
            },
        };
        Some(Candidate {
            company: company?.0,
            product: product?.0,
            version,
            tier: tier?,
            program_start: program_start?,
        })
    }

    fn email(&mut self, (s, span): (String, Range<usize>), what: &str) -> Option<String> {
        if well_formed_email(&s) {
            Some(s)
        } else {
            self.error(
                span,
                format!("{what} {s:?} is not a well-formed email address"),
                "write it as name@domain.tld, e.g. support@acmewidgets.example",
            );
            None
        }
    }

    fn phone(&mut self, (s, span): (String, Range<usize>), what: &str) -> Option<String> {
        if well_formed_phone(&s) {
            Some(s)
        } else {
            self.error(
                span,
                format!("{what} {s:?} is not a well-formed telephone number"),
                "write it in full with its country code, using only digits, spaces, '-', '.', '(' and ')', e.g. \"+1 800 555 0199\"",
            );
            None
        }
    }

    fn support(&mut self, (t, span): (&DeTable<'_>, Range<usize>)) -> Option<Support> {
        self.unknown_keys(t, "[support]", &["email", "phone", "escalation"]);
        let email = self
            .string(
                t,
                span.clone(),
                "support",
                "email",
                "\"support@acmewidgets.example\"",
            )
            .and_then(|s| self.email(s, "support email"));
        let phone = self
            .string(t, span.clone(), "support", "phone", "\"+1 800 555 0199\"")
            .and_then(|s| self.phone(s, "support phone"));
        let escalation = match get(t, "escalation") {
            None => {
                self.error(
                    span,
                    "[support] has no escalation contact",
                    "add a [support.escalation] table with name and email or phone: who the provider's staff call when first-line support does not resolve an incident",
                );
                None
            }
            Some(v) => match v.get_ref().as_table() {
                None => {
                    self.error(
                        v.span(),
                        "`support.escalation` must be a table",
                        "write a [support.escalation] section with name, email and/or phone",
                    );
                    None
                }
                Some(e) => {
                    let espan = v.span();
                    self.unknown_keys(e, "[support.escalation]", &["name", "email", "phone"]);
                    let name = self.string(
                        e,
                        espan.clone(),
                        "support.escalation",
                        "name",
                        "\"Acme duty manager\"",
                    );
                    let mut bad = false;
                    let email = match get(e, "email") {
                        None => None,
                        Some(_) => {
                            let r = self
                                .string(
                                    e,
                                    espan.clone(),
                                    "support.escalation",
                                    "email",
                                    "\"escalation@acmewidgets.example\"",
                                )
                                .and_then(|s| self.email(s, "escalation email"));
                            bad |= r.is_none();
                            r
                        }
                    };
                    let phone = match get(e, "phone") {
                        None => None,
                        Some(_) => {
                            let r = self
                                .string(
                                    e,
                                    espan.clone(),
                                    "support.escalation",
                                    "phone",
                                    "\"+1 303 555 0142\"",
                                )
                                .and_then(|s| self.phone(s, "escalation phone"));
                            bad |= r.is_none();
                            r
                        }
                    };
                    if email.is_none() && phone.is_none() && !bad {
                        self.error(
                            espan,
                            "the escalation contact has neither an email nor a phone",
                            "add `email = …` or `phone = …` (or both) to [support.escalation]",
                        );
                    }
                    match (name, bad) {
                        (Some((name, _)), false) if email.is_some() || phone.is_some() => {
                            Some(Contact { name, email, phone })
                        }
                        _ => None,
                    }
                }
            },
        };
        Some(Support {
            email: email?,
            phone: phone?,
            escalation: escalation?,
        })
    }

    /// Checks the top-level `format` key names the format this harness reads.
    fn format(&mut self, root: &DeTable<'_>) {
        match get(root, "format") {
            None => self.error(
                0..0,
                "candidate.toml has no `format` key",
                "add `format = 1` as the first line",
            ),
            Some(v) => match v.get_ref().as_integer().map(|i| i.as_str().parse::<i64>()) {
                Some(Ok(FORMAT)) => {}
                Some(Ok(n)) => self.error(
                    v.span(),
                    format!("format {n} is not supported; this harness reads format {FORMAT}"),
                    "write the bundle in format 1 (see FORMAT.md) or use a newer certify",
                ),
                _ => self.error(
                    v.span(),
                    "`format` must be an integer",
                    "write `format = 1`",
                ),
            },
        }
    }

    /// Reads the [blueprint] table: the blueprint file and the package paths.
    fn blueprint(&mut self, (t, span): (&DeTable<'_>, Range<usize>), out: &mut Parsed) {
        self.unknown_keys(t, "[blueprint]", &["file", "packages"]);
        out.blueprint = self.path(t, span.clone(), "blueprint", "file", "\"blueprint.json\"");
        match get(t, "packages") {
            None => self.error(
                span,
                "[blueprint] has no `packages`",
                "add `packages = [\"packages/<name>\"]`: each a directory or zip with a package.manifest",
            ),
            Some(v) => match v.get_ref().as_array() {
                Some(items) => {
                    for item in items.iter() {
                        match item.get_ref().as_str() {
                            Some(s) => out.packages.push(PathRef {
                                text: s.to_string(),
                                span: item.span(),
                            }),
                            None => self.error(
                                item.span(),
                                "each package must be a path (a string)",
                                "write `packages = [\"packages/install-acme\"]`",
                            ),
                        }
                    }
                }
                None => self.error(
                    v.span(),
                    "`packages` must be an array of paths",
                    "write `packages = [\"packages/install-acme\"]`",
                ),
            },
        }
    }

    /// Reads the [plugin] table: its path, parameters and the ports it may reach.
    fn plugin(&mut self, (t, span): (&DeTable<'_>, Range<usize>), out: &mut Parsed) {
        self.unknown_keys(t, "[plugin]", &["path", "parameters", "ports"]);
        out.plugin = self.path(t, span, "plugin", "path", "\"plugin\"");
        if let Some(p) = self.optional_table(t, "plugin.parameters") {
            for (k, v) in p.iter() {
                if let Some(s) = self.scalar(v, &format!("plugin parameter {}", k.get_ref())) {
                    out.plugin_parameters.insert(k.get_ref().to_string(), s);
                }
            }
        }
        if let Some(p) = self.optional_table(t, "plugin.ports") {
            self.plugin_ports(p, out);
        }
    }

    /// Reads [plugin.ports]: for each server role, a non-empty list of TCP ports.
    fn plugin_ports(&mut self, p: &DeTable<'_>, out: &mut Parsed) {
        for (role, v) in p.iter() {
            let ports = v.get_ref().as_array().and_then(|a| {
                a.iter()
                    .map(|p| {
                        p.get_ref()
                            .as_integer()
                            .and_then(|i| i.as_str().parse::<u16>().ok())
                            .filter(|&n| n > 0)
                    })
                    .collect::<Option<Vec<u16>>>()
            });
            match ports {
                Some(ports) if !ports.is_empty() => {
                    out.plugin_ports.insert(role.get_ref().to_string(), ports);
                }
                _ => self.error(
                    v.span(),
                    format!("the ports of server role {} are not a list of TCP ports", role.get_ref()),
                    "write the ports the plugin may reach on that role's servers, e.g. `WEB = [8080]`",
                ),
            }
        }
    }

    fn deploy(&mut self, t: &DeTable<'_>, out: &mut Parsed) {
        self.unknown_keys(t, "[deploy]", &["data_center", "parameters", "secrets"]);
        if let Some(v) = get(t, "data_center") {
            match v.get_ref().as_str() {
                Some(s) if s.len() == 3 && s.chars().all(|c| c.is_ascii_alphanumeric()) => {
                    out.data_center = Some(s.to_ascii_uppercase());
                }
                _ => self.error(
                    v.span(),
                    "`data_center` must be a data center alias such as \"WA1\"",
                    "write e.g. `data_center = \"WA1\"`, or leave it out for the harness's default",
                ),
            }
        }
        let mut plain = Vec::new();
        if let Some(p) = self.optional_table(t, "deploy.parameters") {
            for (k, v) in p.iter() {
                if let Some(s) = self.scalar(v, &format!("deployment parameter {}", k.get_ref())) {
                    plain.push((
                        DeployParameter {
                            name: k.get_ref().to_string(),
                            value: ParameterValue::Plain(s),
                        },
                        v.span(),
                    ));
                }
            }
        }
        plain.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        let mut secrets = Vec::new();
        if let Some(s) = self.optional_table(t, "deploy.secrets") {
            for (k, v) in s.iter() {
                let name = k.get_ref().to_string();
                if let Some((_, span)) = plain.iter().find(|(p, _)| p.name == name) {
                    let (line, _) = self.src.position(span.start);
                    self.error(
                        k.span(),
                        format!("{name} is both a parameter (line {line}) and a secret"),
                        "keep it only under [deploy.secrets]",
                    );
                    continue;
                }
                if let Some(source) = self.secret(&name, v) {
                    secrets.push((
                        DeployParameter {
                            name,
                            value: ParameterValue::Secret(source),
                        },
                        v.span(),
                    ));
                }
            }
        }
        secrets.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        out.deploy = plain.into_iter().chain(secrets).collect();
    }

    fn secret(&mut self, name: &str, v: &Value<'_>) -> Option<SecretSource> {
        let hint = "write `{ generate = true }` (a fresh value each run) or `{ integrator = true }` (the integrator passes it with --secret NAME=VARIABLE)";
        match v.get_ref() {
            DeValue::String(s) => {
                self.warning(
                    v.span(),
                    format!("the secret {name} is written in candidate.toml"),
                    format!("a literal secret ends up in version control; {hint}"),
                );
                Some(SecretSource::Literal(Secret(s.to_string())))
            }
            DeValue::Table(t) => {
                if let Some(e) = get(t, "env") {
                    self.error(
                        e.span(),
                        format!("the secret {name} names an environment variable"),
                        format!(
                            "a bundle cannot read the environment of the machine it runs on; {hint}"
                        ),
                    );
                    return None;
                }
                let integrator = get(t, "integrator");
                let generate = get(t, "generate");
                let extra: Vec<_> = t
                    .iter()
                    .map(|(k, _)| k.get_ref().to_string())
                    .filter(|k| k != "integrator" && k != "generate")
                    .collect();
                match (integrator, generate) {
                    (Some(i), None) if extra.is_empty() && i.get_ref().as_bool() == Some(true) => {
                        Some(SecretSource::Integrator)
                    }
                    (None, Some(g)) if extra.is_empty() && g.get_ref().as_bool() == Some(true) => {
                        Some(SecretSource::Generate)
                    }
                    _ => {
                        self.error(
                            v.span(),
                            format!("the secret {name} must say where its value comes from"),
                            hint,
                        );
                        None
                    }
                }
            }
            other => {
                self.error(
                    v.span(),
                    format!(
                        "the secret {name} must be a table or a string, not {}",
                        other.type_str()
                    ),
                    hint,
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_emails() {
        assert!(well_formed_phone("+1 800 555 0199"));
        assert!(well_formed_phone("(800) 555-0199"));
        assert!(well_formed_phone("+44 20 7946 0958"));
        assert!(!well_formed_phone("555-0199"));
        assert!(!well_formed_phone("+1 800 CALL ACME"));
        assert!(!well_formed_phone("800+555+0199"));
        assert!(well_formed_email("support@acmewidgets.example"));
        assert!(!well_formed_email("support@acmewidgets"));
        assert!(!well_formed_email("support at acme.example"));
    }

    #[test]
    fn program_window_is_three_months() {
        let c = Candidate {
            company: "A".into(),
            product: "P".into(),
            version: None,
            tier: Tier::Silver,
            program_start: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        };
        assert_eq!(
            c.program_end(),
            NaiveDate::from_ymd_opt(2027, 2, 27).unwrap()
        );
        assert!(c.in_program_window(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
        assert!(!c.in_program_window(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()));
        assert_eq!(Tier::Gold.monthly_credit_usd(), 7_000);
    }

    #[test]
    fn secrets_resolve_and_stay_hidden() {
        let d = Deploy {
            data_center: None,
            parameters: vec![
                DeployParameter {
                    name: "A.Port".into(),
                    value: ParameterValue::Plain("8080".into()),
                },
                DeployParameter {
                    name: "A.Pw".into(),
                    value: ParameterValue::Secret(SecretSource::Integrator),
                },
                DeployParameter {
                    name: "A.Gen".into(),
                    value: ParameterValue::Secret(SecretSource::Generate),
                },
            ],
        };
        let r = d
            .resolve(|n| (n == "A.Pw").then(|| "hunter2hunter2".to_string()))
            .unwrap();
        assert_eq!(r[1].value, "hunter2hunter2");
        assert!(r[1].secret && r[2].secret && !r[0].secret);
        assert_eq!(r[2].value.len(), 36);
        assert!(!format!("{r:?}").contains("hunter2"));
        let err = d.resolve(|_| None).unwrap_err();
        assert!(err.to_string().contains("--secret A.Pw=VARIABLE"), "{err}");
        let lit = SecretSource::Literal(Secret("s3cret".into()));
        assert!(!format!("{lit:?}").contains("s3cret"));
        assert!(!serde_json::to_string(&lit).unwrap().contains("s3cret"));
    }
}
