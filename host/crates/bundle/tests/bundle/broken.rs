//! Broken copies of the sample: each mistake a candidate makes is reported at its file
//! and line, with what to do; several mistakes are all reported at once.

use certify_bundle::{Bundle, LoadError};

use crate::{edit, errors, line_of, only_error, sample_copy};

const TOML: &str = "candidate.toml";
const BLUEPRINT: &str = "blueprint.json";
const INSTALL_UUID: &str = "5c3d9a1e-7b42-4f0a-9e61-2d8c4b7a13f5";

#[test]
fn toml_syntax_error() {
    let b = sample_copy();
    edit(b.path(), TOML, "tier = \"silver\"", "tier = silver");
    let p = only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "tier = silver"),
        "not valid TOML",
    );
    assert_eq!(p.column, 8, "{p}");
}

#[test]
fn missing_required_field_points_at_its_table() {
    let b = sample_copy();
    edit(b.path(), TOML, "company = \"Acme Widgets Inc.\"\n", "");
    let p = only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "[candidate]"),
        "[candidate] has no `company`",
    );
    assert!(p.hint.contains("company = "), "{p}");
}

#[test]
fn unknown_tier() {
    let b = sample_copy();
    edit(b.path(), TOML, "tier = \"silver\"", "tier = \"bronze\"");
    let p = only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "bronze"),
        "unknown tier \"bronze\"",
    );
    assert_eq!(p.column, 8);
    assert!(p.hint.contains("silver"), "{p}");
}

#[test]
fn blueprint_json_syntax_error_has_its_line() {
    let b = sample_copy();
    edit(
        b.path(),
        BLUEPRINT,
        "\"name\": \"WEB\",",
        "\"name\": \"WEB\"",
    );
    // serde_json notices the missing comma at the next key.
    let line = line_of(b.path(), BLUEPRINT, "\"name\": \"WEB\"") + 1;
    let p = only_error(b.path(), BLUEPRINT, line, "not valid JSON");
    assert!(p.column > 0, "{p}");
}

#[test]
fn package_referenced_by_the_blueprint_but_missing() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "packages = [\"packages/install-acme-status\"]",
        "packages = []",
    );
    let p = only_error(
        b.path(),
        BLUEPRINT,
        line_of(b.path(), BLUEPRINT, INSTALL_UUID),
        "which is not in the bundle",
    );
    assert!(p.message.contains(INSTALL_UUID), "{p}");
    assert!(p.hint.contains("packages"), "{p}");
}

#[test]
fn wrong_uuid_for_a_bundle_package_says_which_one_is_right() {
    let b = sample_copy();
    edit(
        b.path(),
        BLUEPRINT,
        INSTALL_UUID,
        "00000000-0000-4000-8000-000000000000",
    );
    let p = only_error(
        b.path(),
        BLUEPRINT,
        line_of(b.path(), BLUEPRINT, "00000000-0000"),
        "has uuid 00000000",
    );
    assert!(p.hint.contains(INSTALL_UUID), "{p}");
}

#[test]
fn required_package_parameter_not_provided() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "\"Acme.AdminEmail\" = \"statuspage-admin@acmewidgets.example\"\n",
        "",
    );
    let p = only_error(
        b.path(),
        BLUEPRINT,
        line_of(b.path(), BLUEPRINT, INSTALL_UUID),
        "needs a value for Acme.AdminEmail",
    );
    assert!(p.hint.contains("[deploy.parameters]"), "{p}");
}

#[test]
fn parameter_value_refused_by_the_manifest() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "\"Acme.Port\" = 8080",
        "\"Acme.Port\" = \"eighty\"",
    );
    let p = only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "eighty"),
        "not a number",
    );
    assert!(p.hint.contains("Numeric"), "{p}");
}

#[test]
fn article_path_escaping_the_bundle() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "public = \"kb/public/getting-started-with-acme-status-page-blueprint.md\"",
        "public = \"kb/../../outside.md\"",
    );
    let p = only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "outside.md"),
        "escapes the bundle",
    );
    assert_eq!(p.column, 10);
}

#[cfg(unix)]
#[test]
fn article_escaping_through_a_symlink() {
    let b = sample_copy();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::os::unix::fs::symlink(outside.path(), b.path().join("kb/public/linked.md")).unwrap();
    edit(
        b.path(),
        TOML,
        "getting-started-with-acme-status-page-blueprint.md",
        "linked.md",
    );
    // Refused when the snapshot is taken, before anything reads it.
    let err = Bundle::load(b.path()).unwrap_err();
    assert!(matches!(err, LoadError::Snapshot(_)), "{err}");
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{err}");
    assert_eq!(problems[0].file, b.path().join("kb/public/linked.md"));
    assert!(problems[0].message.contains("symbolic link"), "{err}");
}

#[test]
fn malformed_support_phone() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "phone = \"+1 800 555 0199\"",
        "phone = \"+1 800 CALL ACME\"",
    );
    let p = only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "CALL ACME"),
        "not a well-formed telephone number",
    );
    assert!(p.hint.contains("country code"), "{p}");
}

#[cfg(unix)]
#[test]
fn package_script_that_is_not_executable() {
    use std::os::unix::fs::PermissionsExt;
    let b = sample_copy();
    let script = b.path().join("packages/install-acme-status/install.sh");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let manifest = "packages/install-acme-status/package.manifest";
    let p = only_error(
        b.path(),
        manifest,
        line_of(b.path(), manifest, "<Command>"),
        "not executable",
    );
    assert!(p.hint.contains("chmod 755"), "{p}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let b = sample_copy();
    edit(b.path(), TOML, "tier = \"silver\"", "tier = \"bronze\"");
    edit(
        b.path(),
        TOML,
        "phone = \"+1 800 555 0199\"",
        "phone = \"555\"",
    );
    edit(
        b.path(),
        TOML,
        "email = \"support@acmewidgets.example\"",
        "email = \"support-at-acme\"",
    );
    edit(
        b.path(),
        TOML,
        "path = \"plugin\"",
        "path = \"plugin.wasm\"",
    );
    edit(b.path(), TOML, "[kb]", "[kb]\nextra = 1");
    edit(b.path(), BLUEPRINT, "\"cpu\": \"1\"", "\"cpu\": \"lots\"");
    edit(
        b.path(),
        TOML,
        "\"Acme.AdminEmail\" = \"statuspage-admin@acmewidgets.example\"\n",
        "",
    );
    let errs = errors(b.path());
    let at: Vec<(String, usize)> = errs
        .iter()
        .map(|p| {
            (
                p.file.file_name().unwrap().to_string_lossy().into_owned(),
                p.line,
            )
        })
        .collect();
    let t = |n: &str| (TOML.to_string(), line_of(b.path(), TOML, n));
    let j = |n: &str| (BLUEPRINT.to_string(), line_of(b.path(), BLUEPRINT, n));
    assert_eq!(
        at,
        [
            t("bronze"),
            t("support-at-acme"),
            t("phone = \"555\""),
            t("extra = 1"),
            t("plugin.wasm"),
            j("\"lots\""),
            j(INSTALL_UUID),
        ],
        "{errs:#?}"
    );
    // The error's message lists them all, one per line, compiler style.
    let message = Bundle::load(b.path()).unwrap_err().to_string();
    assert!(message.starts_with(&format!(
        "the candidate bundle {} has 7 errors\n",
        b.path().display()
    )));
    assert!(message.contains(&format!(
        "{}:{}:8: error: unknown tier \"bronze\"\n  help: ",
        b.path().join(TOML).display(),
        line_of(b.path(), TOML, "bronze")
    )));
}

#[test]
fn not_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let err = Bundle::load(dir.path()).unwrap_err();
    assert!(matches!(err, LoadError::NoCandidateToml { .. }));
    assert!(err.to_string().contains("FORMAT.md"), "{err}");
    let err = Bundle::load(dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, LoadError::NotADirectory { .. }));
}

#[test]
fn unsupported_format_and_unknown_keys() {
    let b = sample_copy();
    edit(b.path(), TOML, "format = 1", "format = 2");
    only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "format = 2"),
        "format 2 is not supported",
    );
    let b = sample_copy();
    edit(b.path(), TOML, "[deploy.secrets]", "[deploy.secret]");
    let errs = errors(b.path());
    // The typo is reported, and so is what it leaves missing.
    assert!(
        errs[0].message.contains("unknown key `secret` in [deploy]"),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|p| p.message.contains("Acme.AdminPassword")),
        "{errs:#?}"
    );
}

// Hostile bundles: what a candidate must not be able to do with its bundle.

#[test]
fn a_platform_parameter_in_the_deploy_parameters_is_refused_at_its_line() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "[deploy.parameters]\n",
        "[deploy.parameters]\n\"T3.BuildServerTask.GroupID\" = \"wa1-0001\"\n",
    );
    only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "T3.BuildServerTask.GroupID"),
        "T3.BuildServerTask.GroupID is set by the platform or the harness",
    );
}

#[test]
fn the_build_password_cannot_be_set_as_a_secret_either() {
    let b = sample_copy();
    edit(
        b.path(),
        TOML,
        "[deploy.secrets]\n",
        "[deploy.secrets]\n\"t3.buildservertask.password\" = { generate = true }\n",
    );
    only_error(
        b.path(),
        TOML,
        line_of(b.path(), TOML, "t3.buildservertask.password"),
        "is set by the platform or the harness",
    );
}

#[test]
fn a_platform_parameter_in_the_blueprint_is_refused_at_its_line() {
    let b = sample_copy();
    edit(
        b.path(),
        BLUEPRINT,
        "\"execute\": {},",
        "\"execute\": {\n        \"T3.Datacenter\": \"GB3\"\n    },",
    );
    only_error(
        b.path(),
        BLUEPRINT,
        line_of(b.path(), BLUEPRINT, "T3.Datacenter"),
        "T3.Datacenter is set by the platform or the harness",
    );
}

#[test]
fn a_manifest_may_declare_a_system_parameter_with_prompt_false() {
    let b = sample_copy();
    edit(
        b.path(),
        "packages/install-acme-status/package.manifest",
        "<Parameters>\n",
        "<Parameters>\n    <Parameter Name=\"User\" Type=\"String\" Variable=\"T3.Identity.User\" Prompt=\"false\" />\n",
    );
    let bundle = Bundle::load(b.path()).unwrap_or_else(|e| panic!("{e}"));
    let user = bundle.packages[0].parameter("T3.Identity.User").unwrap();
    assert!(user.is_system());
    assert!(bundle.warnings.is_empty(), "{:#?}", bundle.warnings);
}

#[test]
fn a_hidden_file_of_the_plugin_is_bound_in_the_digests() {
    let b = sample_copy();
    std::fs::create_dir_all(b.path().join("plugin/.hidden")).unwrap();
    std::fs::write(b.path().join("plugin/.hidden/real_lib.rs"), "// v1").unwrap();
    let first = Bundle::load(b.path()).unwrap();
    assert!(
        first
            .inputs
            .iter()
            .any(|i| i.path == "plugin/.hidden/real_lib.rs"),
        "{:#?}",
        first.inputs
    );
    std::fs::write(b.path().join("plugin/.hidden/real_lib.rs"), "// v2").unwrap();
    assert_ne!(Bundle::load(b.path()).unwrap().digest(), first.digest());
}

#[cfg(unix)]
#[test]
fn links_devices_and_fifos_are_refused_and_never_read() {
    let b = sample_copy();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    std::fs::write(home.path().join(".ssh/id_rsa"), "CANARY PRIVATE KEY").unwrap();
    let pkg = b.path().join("packages/install-acme-status");
    std::os::unix::fs::symlink(home.path().join(".ssh/id_rsa"), pkg.join("id_rsa")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", b.path().join("zero")).unwrap();
    std::os::unix::fs::symlink(".", b.path().join("kb/loop1")).unwrap();
    std::os::unix::fs::symlink(".", b.path().join("kb/loop2")).unwrap();
    let fifo = std::ffi::CString::new(b.path().join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let err = Bundle::load(b.path()).unwrap_err();
    let named: Vec<_> = err
        .problems()
        .iter()
        .map(|p| p.file.strip_prefix(b.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        named,
        [
            "fifo",
            "kb/loop1",
            "kb/loop2",
            "packages/install-acme-status/id_rsa",
            "zero"
        ],
        "{err}"
    );
    assert!(!err.to_string().contains("CANARY"), "{err}");
}

#[test]
fn a_zip_bomb_package_is_refused_without_being_expanded() {
    use std::io::Write;
    let b = sample_copy();
    let zip_path = b.path().join("packages/bomb.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    w.start_file("package.manifest", opts).unwrap();
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..8 {
        w.write_all(&zeros).unwrap();
    }
    w.finish().unwrap();
    edit(
        b.path(),
        TOML,
        "packages = [\"packages/install-acme-status\"]",
        "packages = [\"packages/install-acme-status\", \"packages/bomb.zip\"]",
    );
    let errs = errors(b.path());
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].message.contains("like a zip bomb"), "{}", errs[0]);
}
