//! Package parameters as the Blueprint Engine takes them (`clc-api.md` §5.4): their
//! types and prompts, the `T3.*` names the platform reserves, and the one check of a
//! value against a declaration.
//!
//! Every place that judges a value (the bundle loader on `execute` and the deployment
//! parameters, the emulated account on a deploy, the KB docs runner on a step that fills
//! in the deploy form) calls [`check_value`], so they agree: the type is checked
//! (numbers, IPv4 addresses), an option must be one of the declared values exactly (case
//! counts, as the engine compares), and a regular expression matches the whole value.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The system parameters the engine fills in itself; a manifest declares them with
/// `Prompt="None"` (or the older `Prompt="false"`) to receive them.
pub const SYSTEM_PARAMETERS: &[&str] = &[
    "T3.Identity.User",
    "T3.Identity.Account",
    "T3.Server.Name",
    "T3.Server.IPAddress",
    "T3.Server.Password",
    "T3.Datacenter",
];

/// Whether a parameter is one the platform or the harness sets, which a bundle may
/// only receive (declare), never set: every `T3.*` name, in any case.
pub fn reserved_parameter(name: &str) -> bool {
    name.trim()
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("T3."))
}

/// The environment variable a package's script finds a parameter's value in:
/// `T3.Server.IPAddress` is `T3_SERVER_IPADDRESS` (letters and digits upper-cased,
/// anything else an underscore).
pub fn shell_name(variable: &str) -> String {
    variable
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The type of a package parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterType {
    /// A network of the account.
    Network,
    /// A number.
    Numeric,
    /// One of the options.
    Option,
    /// Several of the options, comma-separated.
    MultiSelect,
    /// A password: a secret.
    Password,
    /// A server of the deployment.
    Server,
    /// An IPv4 address of a server.
    ServerIp,
    /// Free text (the only type with a `Regex`).
    #[default]
    String,
}

impl ParameterType {
    /// The manifest's `Type`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "network" => ParameterType::Network,
            "numeric" => ParameterType::Numeric,
            "option" => ParameterType::Option,
            "multiselect" => ParameterType::MultiSelect,
            "password" => ParameterType::Password,
            "server" => ParameterType::Server,
            "serverip" => ParameterType::ServerIp,
            "string" => ParameterType::String,
            _ => return None,
        })
    }

    /// The name a manifest writes.
    pub fn name(self) -> &'static str {
        match self {
            ParameterType::Network => "Network",
            ParameterType::Numeric => "Numeric",
            ParameterType::Option => "Option",
            ParameterType::MultiSelect => "MultiSelect",
            ParameterType::Password => "Password",
            ParameterType::Server => "Server",
            ParameterType::ServerIp => "ServerIP",
            ParameterType::String => "String",
        }
    }

    /// The v1 API's number for the type (`GetBlueprintParameters`).
    pub fn v1_code(self) -> i32 {
        match self {
            ParameterType::Network => 1,
            ParameterType::Numeric => 2,
            ParameterType::Option => 3,
            ParameterType::Password => 4,
            ParameterType::Server => 5,
            ParameterType::ServerIp => 6,
            ParameterType::String => 7,
            ParameterType::MultiSelect => 8,
        }
    }

    /// The type the v1 API numbers `code`; free text for a number it does not define.
    pub fn from_v1_code(code: i32) -> Self {
        match code {
            1 => ParameterType::Network,
            2 => ParameterType::Numeric,
            3 => ParameterType::Option,
            4 => ParameterType::Password,
            5 => ParameterType::Server,
            6 => ParameterType::ServerIp,
            8 => ParameterType::MultiSelect,
            _ => ParameterType::String,
        }
    }
}

impl fmt::Display for ParameterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When the engine asks for a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    /// Never: a system parameter the engine fills in.
    None,
    /// When the blueprint is deployed.
    Build,
    /// When the blueprint is designed.
    Design,
    /// Once for the whole blueprint.
    Global,
}

impl Prompt {
    /// Every form the Blueprint Engine took: the four names in any case, and the
    /// booleans older manifests (and the Knowledge Base's own package guide) use,
    /// `false` for a value nobody is asked for.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "none" | "false" => Prompt::None,
            "true" | "build" => Prompt::Build,
            "design" => Prompt::Design,
            "global" => Prompt::Global,
            _ => return None,
        })
    }
}

/// A parameter a package declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageParameter {
    /// The label on the deploy form (`Name`).
    pub name: String,
    /// The variable the value is passed as (`Variable`), e.g. `Acme.Port`.
    pub variable: String,
    /// Its type.
    pub kind: ParameterType,
    /// `Hint`.
    pub hint: String,
    /// `Default`, when there is one.
    pub default: Option<String>,
    /// When the engine asks for it.
    pub prompt: Prompt,
    /// `Global`.
    pub global: bool,
    /// `Regex` (String parameters); the engine matches the whole value.
    pub regex: Option<String>,
    /// `Required` (true unless the manifest says otherwise).
    pub required: bool,
    /// `(label, value)` of each `<Option>`.
    pub options: Vec<(String, String)>,
}

impl PackageParameter {
    /// Filled in by the engine (`T3.*` or `Prompt="None"`): nobody provides it.
    pub fn is_system(&self) -> bool {
        self.variable.starts_with("T3.") || self.prompt == Prompt::None
    }

    /// Whether the deployment must provide a value: required, no default, not a system one.
    pub fn needs_value(&self) -> bool {
        self.required && self.default.is_none() && !self.is_system()
    }

    /// Checks a value as the engine would ([`check_value`]).
    pub fn check_value(&self, value: &str) -> Result<(), ValueError> {
        let options: Vec<&str> = self.options.iter().map(|(_, v)| v.as_str()).collect();
        check_value(self.kind, &options, self.regex.as_deref(), value)
    }
}

/// Why a value is refused for a parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value is not of the parameter's type.
    #[error("{value:?} is not {}", wanted(*kind))]
    WrongType {
        /// The value.
        value: String,
        /// The type it should have.
        kind: ParameterType,
    },
    /// The value (or one item of a multi-select) is not one of the options.
    #[error("{item:?} is not one of the options ({})", options.join(", "))]
    NotAnOption {
        /// The item refused.
        item: String,
        /// The values allowed.
        options: Vec<String>,
    },
    /// The value does not match the parameter's regular expression.
    #[error("{value:?} does not match the regex {regex}")]
    NoMatch {
        /// The value.
        value: String,
        /// The regular expression.
        regex: String,
    },
    /// The parameter's regular expression does not compile, so no value can be checked.
    #[error("the regex {regex:?} does not compile: {reason}")]
    BadRegex {
        /// The regular expression.
        regex: String,
        /// The compiler's message.
        reason: String,
    },
}

fn wanted(kind: ParameterType) -> &'static str {
    match kind {
        ParameterType::Numeric => "a number",
        ParameterType::ServerIp => "an IPv4 address",
        _ => "of the parameter's type",
    }
}

/// Checks `value` against a declaration: its type, its options (when it declares any)
/// and its regular expression, as the Blueprint Engine does. Options are compared
/// exactly; a multi-select value is a comma-separated list, each item an option. The
/// regular expression must match the whole value.
pub fn check_value(
    kind: ParameterType,
    options: &[&str],
    regex: Option<&str>,
    value: &str,
) -> Result<(), ValueError> {
    let wrong_type = || ValueError::WrongType {
        value: value.to_string(),
        kind,
    };
    match kind {
        ParameterType::Numeric if value.trim().parse::<f64>().is_err() => return Err(wrong_type()),
        ParameterType::ServerIp if value.parse::<std::net::Ipv4Addr>().is_err() => {
            return Err(wrong_type());
        }
        ParameterType::Option | ParameterType::MultiSelect if !options.is_empty() => {
            let items: Vec<&str> = if kind == ParameterType::MultiSelect {
                value.split(',').map(str::trim).collect()
            } else {
                vec![value]
            };
            if let Some(item) = items.into_iter().find(|i| !options.contains(i)) {
                return Err(ValueError::NotAnOption {
                    item: item.to_string(),
                    options: options.iter().map(|o| o.to_string()).collect(),
                });
            }
        }
        _ => {}
    }
    if let Some(r) = regex.filter(|r| !r.is_empty()) {
        // The engine checks the whole value, not a substring.
        match regex::Regex::new(&format!("^(?:{r})$")) {
            Ok(re) if re.is_match(value) => {}
            Ok(_) => {
                return Err(ValueError::NoMatch {
                    value: value.to_string(),
                    regex: r.to_string(),
                });
            }
            Err(e) => {
                return Err(ValueError::BadRegex {
                    regex: r.to_string(),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// A deploy's parameter value that the manifest does not accept, as the v1 API
/// reports it.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ParameterError {
    /// A required parameter has no value and no default.
    #[error("Parameter '{variable}' is required.")]
    Missing {
        /// Variable.
        variable: String,
    },
    /// The value does not match the parameter's type.
    #[error("Parameter '{variable}' must be of type {kind}.")]
    WrongType {
        /// Variable.
        variable: String,
        /// Declared type.
        kind: String,
    },
    /// The value does not match the regex or is not among the options.
    #[error("Parameter '{variable}' has an invalid value: {reason}")]
    Invalid {
        /// Variable.
        variable: String,
        /// Why.
        reason: String,
    },
}

impl ParameterError {
    /// The variable concerned.
    pub fn variable(&self) -> &str {
        match self {
            ParameterError::Missing { variable }
            | ParameterError::WrongType { variable, .. }
            | ParameterError::Invalid { variable, .. } => variable,
        }
    }

    /// The v1 Blueprint status code: 1210 missing, 1211 invalid value, 1212 invalid type.
    pub fn v1_status_code(&self) -> i32 {
        match self {
            ParameterError::Missing { .. } => 1210,
            ParameterError::Invalid { .. } => 1211,
            ParameterError::WrongType { .. } => 1212,
        }
    }

    /// The v1 API's view of a refused value of `variable`.
    pub fn of(variable: &str, error: ValueError) -> Self {
        let variable = variable.to_string();
        match error {
            ValueError::WrongType { kind, .. } => ParameterError::WrongType {
                variable,
                kind: kind.name().to_string(),
            },
            ValueError::NotAnOption { item, .. } => ParameterError::Invalid {
                variable,
                reason: format!("'{item}' is not one of the options"),
            },
            ValueError::NoMatch { regex, .. } => ParameterError::Invalid {
                variable,
                reason: format!("does not match {regex}"),
            },
            ValueError::BadRegex { reason, .. } => ParameterError::Invalid {
                variable,
                reason: format!("bad regex: {reason}"),
            },
        }
    }
}

/// Checks the values a deploy gives against the declarations, filling in defaults.
/// Returns the effective value of every parameter that is not a system one, by variable.
pub fn resolve(
    parameters: &[PackageParameter],
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ParameterError> {
    let mut out = BTreeMap::new();
    for p in parameters.iter().filter(|p| !p.is_system()) {
        let value = given
            .get(&p.variable)
            .cloned()
            .or_else(|| p.default.clone())
            .unwrap_or_default();
        if value.is_empty() {
            if p.required {
                return Err(ParameterError::Missing {
                    variable: p.variable.clone(),
                });
            }
            out.insert(p.variable.clone(), value);
            continue;
        }
        p.check_value(&value)
            .map_err(|e| ParameterError::of(&p.variable, e))?;
        out.insert(p.variable.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked() {
        let num = |v| check_value(ParameterType::Numeric, &[], None, v);
        assert!(num(" 8080 ").is_ok());
        assert_eq!(
            num("eighty").unwrap_err().to_string(),
            "\"eighty\" is not a number"
        );
        let ip = |v| check_value(ParameterType::ServerIp, &[], None, v);
        assert!(ip("10.0.0.1").is_ok());
        assert!(matches!(ip("host"), Err(ValueError::WrongType { .. })));
        // Free text takes anything without a regex.
        assert!(check_value(ParameterType::String, &[], None, "x y").is_ok());
    }

    #[test]
    fn options_are_compared_exactly() {
        let opts = ["fast", "safe"];
        assert!(check_value(ParameterType::Option, &opts, None, "fast").is_ok());
        assert!(matches!(
            check_value(ParameterType::Option, &opts, None, "Fast"),
            Err(ValueError::NotAnOption { .. })
        ));
        assert!(check_value(ParameterType::Option, &opts, None, " fast").is_err());
        assert!(check_value(ParameterType::MultiSelect, &opts, None, "fast, safe").is_ok());
        let err = check_value(ParameterType::MultiSelect, &opts, None, "fast,SAFE").unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"SAFE\" is not one of the options (fast, safe)"
        );
        // An option parameter that declares no options takes any value.
        assert!(check_value(ParameterType::Option, &[], None, "any").is_ok());
    }

    #[test]
    fn a_regex_matches_the_whole_value_and_a_bad_one_refuses() {
        let re = Some("[a-z]+");
        assert!(check_value(ParameterType::String, &[], re, "bob").is_ok());
        assert!(matches!(
            check_value(ParameterType::String, &[], re, "bob1"),
            Err(ValueError::NoMatch { .. })
        ));
        assert!(matches!(
            check_value(ParameterType::String, &[], Some("[a-z"), "bob"),
            Err(ValueError::BadRegex { .. })
        ));
    }

    #[test]
    fn the_v1_api_reports_codes() {
        let e = ParameterError::of(
            "P",
            check_value(ParameterType::Numeric, &[], None, "x").unwrap_err(),
        );
        assert_eq!(e.to_string(), "Parameter 'P' must be of type Numeric.");
        assert_eq!(e.v1_status_code(), 1212);
        let e = ParameterError::of(
            "M",
            check_value(ParameterType::Option, &["a"], None, "b").unwrap_err(),
        );
        assert_eq!(e.v1_status_code(), 1211);
        assert_eq!(e.variable(), "M");
    }

    #[test]
    fn types_and_prompts_take_every_engine_form() {
        assert_eq!(
            ParameterType::parse("serverip"),
            Some(ParameterType::ServerIp)
        );
        assert_eq!(ParameterType::ServerIp.to_string(), "ServerIP");
        for t in 1..=8 {
            assert_eq!(ParameterType::from_v1_code(t).v1_code(), t);
        }
        assert_eq!(Prompt::parse("FALSE"), Some(Prompt::None));
        assert_eq!(Prompt::parse("true"), Some(Prompt::Build));
        assert_eq!(Prompt::parse(" global "), Some(Prompt::Global));
        assert_eq!(Prompt::parse("later"), None);
        assert!(reserved_parameter(" t3.Datacenter"));
        assert!(!reserved_parameter("Acme.T3"));
        assert_eq!(shell_name("T3.Server.IPAddress"), "T3_SERVER_IPADDRESS");
    }
}
