//! `certify new`: scaffold a complete candidate bundle that `certify run`
//! certifies as generated.
//!
//! The files are templates in `host/templates/new/` (their markers are
//! listed in the README there), compiled into the binary; the CI workflow is
//! the recipe in `docs/ci/github-actions.yml` itself, so the two never drift.

use std::path::{Path, PathBuf};

use crate::cli::NewArgs;
use crate::{Error, Outcome};

/// What a file of the bundle is made from.
enum Source {
    /// A template, markers replaced.
    Template(&'static str),
    /// Copied as it is.
    Verbatim(&'static str),
}

/// The bundle's files: path (markers allowed) and content. Scripts are
/// marked executable.
const FILES: &[(&str, Source)] = &[
    (
        "candidate.toml",
        Source::Template(include_str!("../../templates/new/candidate.toml")),
    ),
    (
        "blueprint.json",
        Source::Template(include_str!("../../templates/new/blueprint.json")),
    ),
    (
        "packages/install-@@SLUG@@/package.manifest",
        Source::Template(include_str!(
            "../../templates/new/packages/install/package.manifest"
        )),
    ),
    (
        "packages/install-@@SLUG@@/install.sh",
        Source::Template(include_str!(
            "../../templates/new/packages/install/install.sh"
        )),
    ),
    (
        "packages/install-@@SLUG@@/service.py",
        Source::Template(include_str!(
            "../../templates/new/packages/install/service.py"
        )),
    ),
    (
        "kb/public/getting-started-with-@@SLUG@@-blueprint.md",
        Source::Template(include_str!("../../templates/new/kb/public.md")),
    ),
    (
        "kb/internal/@@SLUG@@-blueprint-internal.md",
        Source::Template(include_str!("../../templates/new/kb/internal.md")),
    ),
    (
        "plugin/Cargo.toml",
        Source::Template(include_str!("../../templates/new/plugin/Cargo.toml")),
    ),
    (
        "plugin/src/lib.rs",
        Source::Template(include_str!("../../templates/new/plugin/src/lib.rs")),
    ),
    (
        ".github/workflows/certify.yml",
        Source::Verbatim(include_str!("../../../docs/ci/github-actions.yml")),
    ),
    (
        ".gitignore",
        Source::Verbatim(include_str!("../../templates/new/gitignore")),
    ),
];

/// The longest product or company name accepted (the blueprint's name
/// is built from the product's).
const MAX_NAME: usize = 48;

/// Run `certify new`.
pub fn new(args: NewArgs) -> Result<Outcome, Error> {
    let product = name("--product", &args.product)?;
    let company = name("--company", &args.company)?;
    let slug = slug(product);
    if slug.is_empty() {
        return Err(Error::Usage(format!(
            "--product {product:?} needs at least one letter or digit"
        )));
    }
    let domain = format!(
        "{}.example",
        slug_of(company)
            .replace('-', "")
            .chars()
            .take(30)
            .collect::<String>()
    );
    let today = chrono::Utc::now().date_naive();
    let markers = [
        ("@@PRODUCT@@", product.to_string()),
        ("@@COMPANY@@", company.to_string()),
        ("@@SLUG@@", slug.clone()),
        (
            "@@DOMAIN@@",
            if domain == ".example" {
                "company.example".into()
            } else {
                domain
            },
        ),
        ("@@CRATE@@", format!("plugin-{slug}")),
        ("@@PACKAGE_UUID@@", uuid_v4()?),
        ("@@DATE@@", today.format("%Y-%m-%d").to_string()),
        ("@@KB_DATE@@", today.format("%m-%d-%Y").to_string()),
    ];
    let fill = |text: &str| {
        markers.iter().fold(text.to_string(), |t, (marker, value)| {
            t.replace(marker, value)
        })
    };
    refuse_non_empty(&args.dir)?;
    let mut written = Vec::new();
    for (path, source) in FILES {
        let target = args.dir.join(fill(path));
        let content = match source {
            Source::Template(t) => fill(t),
            Source::Verbatim(t) => (*t).to_string(),
        };
        write(&target, &content)?;
        written.push(target);
    }
    println!(
        "created the candidate bundle {} for {product} by {company}:",
        args.dir.display()
    );
    for path in &written {
        println!(
            "  {}",
            path.strip_prefix(&args.dir).unwrap_or(path).display()
        );
    }
    println!(
        "\nnext: `certify plan {dir}` shows what a run would do; `certify run {dir}` certifies it on the emulator.\n\
         Replace the service in packages/ with your product, the contacts in candidate.toml and the articles,\n\
         and the plugin's checks with ones that prove what your product is for.\n\
         While certify-sdk is not on crates.io, set {sdk_env} to the sdk/ directory of a certify checkout\n\
         for `certify`, and give `cargo test` the same path with `[patch.crates-io]` in plugin/Cargo.toml.",
        sdk_env = crate::build::SDK_PATH_ENV,
        dir = args.dir.display()
    );
    Ok(Outcome::Passed)
}

/// A product or company name that can go into every file as it is (TOML
/// and Rust strings, XML, Markdown, JSON): printable ASCII without quotes,
/// backslashes or markup.
fn name<'a>(flag: &str, value: &'a str) -> Result<&'a str, Error> {
    let value = value.trim();
    let bad = value
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ') || "\"\\<>&`{}@$".contains(*c));
    if value.is_empty() || value.len() > MAX_NAME || bad.is_some() {
        return Err(Error::Usage(format!(
            "{flag} {value:?}: give 1 to {MAX_NAME} characters of letters, digits, spaces and punctuation other than {}",
            "\" \\ < > & ` { } @ $"
        )));
    }
    Ok(value)
}

/// `Widget Pro 2` → `widget-pro-2`.
fn slug_of(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// The product's slug, starting with a letter (it names a crate and paths).
fn slug(product: &str) -> String {
    let s = slug_of(product);
    match s.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("product-{s}"),
        _ => s,
    }
}

/// A random (version 4) UUID: the package's identity in the account's catalog.
fn uuid_v4() -> Result<String, Error> {
    use std::io::Read as _;
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| Error::Io("reading /dev/urandom for the package's UUID".into(), e))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// The target must not exist, or be an empty directory.
fn refuse_non_empty(dir: &Path) -> Result<(), Error> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::Usage(format!(
                    "{} is not empty; give a new or empty directory for the bundle",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if dir.exists() && !dir.is_dir() => Err(Error::Io(
            format!("{} exists and is not a directory", dir.display()),
            e,
        )),
        Err(e) => Err(Error::Io(format!("reading {}", dir.display()), e)),
    }
}

fn write(path: &PathBuf, content: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Io(format!("creating {}", parent.display()), e))?;
    }
    std::fs::write(path, content)
        .map_err(|e| Error::Io(format!("writing {}", path.display()), e))?;
    if path.extension().is_some_and(|x| x == "sh") {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::Io(format!("making {} executable", path.display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs() {
        assert_eq!(slug("Widget Pro 2"), "widget-pro-2");
        assert_eq!(slug("  A.B_C  "), "a-b-c");
        assert_eq!(slug("3D Viewer"), "product-3d-viewer");
        assert_eq!(slug("!!!"), "");
    }

    #[test]
    fn names_that_would_break_a_file_are_refused() {
        assert!(name("--product", "Widget Pro").is_ok());
        for bad in [
            "",
            "a\"b",
            "a\\b",
            "<b>",
            "a&b",
            "{{x}}",
            "naïve",
            "a\nb",
            &"x".repeat(49),
        ] {
            assert!(name("--product", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]), "{u}");
        assert_ne!(u, uuid_v4().unwrap());
    }

    #[test]
    fn every_marker_of_every_template_is_replaced() {
        let known = [
            "@@PRODUCT@@",
            "@@COMPANY@@",
            "@@SLUG@@",
            "@@DOMAIN@@",
            "@@CRATE@@",
            "@@PACKAGE_UUID@@",
            "@@DATE@@",
            "@@KB_DATE@@",
        ];
        for (path, source) in FILES {
            let Source::Template(t) = source else {
                continue;
            };
            let mut rest = known
                .iter()
                .fold(format!("{path}\n{t}"), |s, m| s.replace(m, ""));
            // The e-mail addresses are `support@` + a marker.
            rest = rest.replace("support@", "").replace("escalations@", "");
            assert!(!rest.contains("@@"), "{path} has an unknown marker");
        }
    }
}
