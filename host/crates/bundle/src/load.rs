//! Loading a bundle: each file on its own, then the cross-references between them.
//!
//! Order: `candidate.toml` (a syntax error there ends loading: nothing else can be found
//! without it), the referenced paths, the packages, the blueprint and its references to
//! the packages, the deployment parameters against the packages' declarations, the KB
//! articles and the plugin, and finally the input digests.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::candidate::{
    self, Deploy, DeployParameter, ParameterValue, Parsed, PathRef, PluginSource, PluginSpec,
};
use crate::package::{self, Package};
use crate::problem::{Diagnostics, Problem, Severity, Source};
use crate::snapshot::Snapshot;
use crate::{Bundle, CANDIDATE_TOML, InputFile, InputRole, KbArticles, LoadError};
use certify_blueprint::blueprint::{self, PackageRef, PackageTask, ServerTask};
use certify_blueprint::json_pos::{JsonPositions, segment};
use certify_blueprint::{PackageParameter, ParameterType};

/// The largest `candidate.toml` read (it is a few hundred bytes in practice).
pub(crate) const MAX_CANDIDATE_TOML: u64 = 256 * 1024;
/// The largest blueprint JSON read.
pub(crate) const MAX_BLUEPRINT: u64 = 1024 * 1024;

/// The largest KB article read (the KB checker has the same limit).
fn certify_kb_limit() -> u64 {
    4 * 1024 * 1024
}

/// Reads a file of the snapshot as UTF-8, refusing one larger than `cap`.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    certify_blueprint::read_entry(f, cap)
}

pub(crate) fn load(snapshot: Arc<Snapshot>) -> Result<Bundle, LoadError> {
    let root = snapshot.root();
    let source_root = snapshot.source().to_path_buf();
    let toml_path = root.join(CANDIDATE_TOML);
    if !toml_path.is_file() {
        return Err(LoadError::NoCandidateToml { path: source_root });
    }
    let invalid = |diag: Diagnostics| LoadError::Invalid {
        root: source_root.clone(),
        problems: shown(&snapshot, diag.into_sorted()),
    };
    let mut diag = Diagnostics::default();
    let Some(toml_src) = read_candidate_toml(toml_path, &mut diag) else {
        return Err(invalid(diag));
    };
    let Some(parsed) = candidate::parse(&toml_src, &mut diag) else {
        return Err(invalid(diag));
    };
    let mut l = Loader {
        root,
        source_root: &source_root,
        canonical_root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
        toml: &toml_src,
        diag,
    };
    let packages = l.packages(&parsed.packages);
    l.duplicate_packages(&packages);
    let blueprint = parsed
        .blueprint
        .as_ref()
        .and_then(|b| l.blueprint(b, &packages, &parsed.deploy));
    let (kb_public, kb_internal) = l.articles(&parsed);
    let plugin = parsed.plugin.as_ref().and_then(|p| l.plugin(p));

    let Loader { mut diag, .. } = l;
    if diag.has_errors() {
        return Err(invalid(diag));
    }
    let (
        Some(candidate),
        Some(support),
        Some(blueprint),
        Some(kb_public),
        Some(kb_internal),
        Some(plugin_source),
    ) = (
        parsed.candidate,
        parsed.support,
        blueprint,
        kb_public,
        kb_internal,
        plugin,
    )
    else {
        // Every `None` above reported an error; this is a guard, not a path.
        diag.push(
            Severity::Error,
            &toml_src.file,
            0,
            0,
            "the bundle is incomplete",
            "see FORMAT.md for the required tables",
        );
        return Err(invalid(diag));
    };
    let packages: Vec<Package> = packages.into_iter().map(|(p, _)| p).collect();
    let kb = KbArticles {
        public: kb_public,
        internal: kb_internal,
    };
    let inputs = inputs(&snapshot, &blueprint.path, &packages, &kb, &plugin_source);
    let warnings = shown(&snapshot, diag.into_sorted());
    Ok(Bundle {
        root: root.to_path_buf(),
        source: source_root.clone(),
        candidate,
        support,
        blueprint,
        packages,
        kb,
        plugin: PluginSpec {
            source: plugin_source,
            parameters: parsed.plugin_parameters,
            ports: parsed.plugin_ports,
        },
        deploy: Deploy {
            data_center: parsed.data_center,
            parameters: parsed.deploy.into_iter().map(|(p, _)| p).collect(),
        },
        inputs,
        warnings,
        snapshot: snapshot.clone(),
    })
}

/// Reads `candidate.toml`; `None` (with the reason reported) when it cannot be read.
fn read_candidate_toml(path: PathBuf, diag: &mut Diagnostics) -> Option<Source> {
    match read_capped(&path, MAX_CANDIDATE_TOML) {
        Ok(text) => Some(Source::new(path, text)),
        Err(why) => {
            diag.push(
                Severity::Error,
                &path,
                0,
                0,
                format!("candidate.toml cannot be read: {why}"),
                "candidate.toml is a short UTF-8 TOML file (see FORMAT.md)",
            );
            None
        }
    }
}

/// Problems name the candidate's files, not the snapshot's.
fn shown(snapshot: &Snapshot, mut problems: Vec<Problem>) -> Vec<Problem> {
    for p in &mut problems {
        p.file = snapshot.shown(&p.file);
    }
    problems
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Any,
}

struct Loader<'a> {
    root: &'a Path,
    source_root: &'a Path,
    canonical_root: PathBuf,
    toml: &'a Source,
    diag: Diagnostics,
}

/// `a/./b/../c` → `a/c`; `None` when the path climbs out of its base.
fn lexical(rel: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn normalise(rel: &str) -> String {
    lexical(Path::new(rel)).map_or_else(
        || rel.to_string(),
        |p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        },
    )
}

impl Loader<'_> {
    /// Loads the listed packages, each with where `candidate.toml` names it.
    fn packages(&mut self, refs: &[PathRef]) -> Vec<(Package, Range<usize>)> {
        let mut packages = Vec::new();
        for p in refs {
            let Some(path) = self.bundle_path(p, "package", Kind::Any) else {
                continue;
            };
            if path.is_file() && !p.text.to_ascii_lowercase().ends_with(".zip") {
                self.diag.error(
                    self.toml,
                    p.span.start,
                    format!("package {} is a file but not a .zip", p.text),
                    "give a package directory, or a zip of it named *.zip",
                );
                continue;
            }
            if let Some(pkg) = package::load(&path, &normalise(&p.text), &mut self.diag) {
                packages.push((pkg, p.span.clone()));
            }
        }
        packages
    }

    /// Packages must differ in UUID and in name from every package listed before them.
    fn duplicate_packages(&mut self, packages: &[(Package, Range<usize>)]) {
        for i in 0..packages.len() {
            for j in 0..i {
                let (a, b) = (&packages[j].0, &packages[i].0);
                let (line, _) = self.toml.position(packages[j].1.start);
                if a.has_uuid(&b.uuid) {
                    self.diag.error(
                        self.toml,
                        packages[i].1.start,
                        format!(
                            "package {} has the same UUID as the package on line {line} ({})",
                            b.relative_path, b.uuid
                        ),
                        "give each package its own UUID (a new one when its parameter list changes)",
                    );
                } else if a.name.eq_ignore_ascii_case(&b.name) {
                    self.diag.error(
                        self.toml,
                        packages[i].1.start,
                        format!("package {} has the same name as the package on line {line} ({:?})", b.relative_path, b.name),
                        "give each package its own Metadata/Name: articles and the Blueprint Library refer to packages by name",
                    );
                }
            }
        }
    }

    /// Reads the blueprint and checks it against the packages and deployment parameters.
    fn blueprint(
        &mut self,
        b: &PathRef,
        packages: &[(Package, Range<usize>)],
        deploy: &[(DeployParameter, Range<usize>)],
    ) -> Option<blueprint::Blueprint> {
        let path = self.bundle_path(b, "blueprint", Kind::File)?;
        match read_capped(&path, MAX_BLUEPRINT) {
            Err(e) => {
                self.diag.error(
                    self.toml,
                    b.span.start,
                    format!("cannot read the blueprint {}: {e}", b.text),
                    "give a readable UTF-8 JSON file of at most 1 MiB",
                );
                None
            }
            Ok(text) => {
                let src = Source::new(path.clone(), text);
                let (mut bp, pos) = blueprint::parse_blueprint(&src, path, &mut self.diag)?;
                self.cross_check(&mut bp, &src, &pos, packages, deploy);
                Some(bp)
            }
        }
    }

    /// The public and internal KB articles, which must be two different files.
    fn articles(&mut self, parsed: &Parsed) -> (Option<PathBuf>, Option<PathBuf>) {
        let kb_public = parsed.kb_public.as_ref().and_then(|p| self.article(p));
        let kb_internal = parsed.kb_internal.as_ref().and_then(|p| self.article(p));
        if let (Some(a), Some(b), Some(r)) = (&kb_public, &kb_internal, &parsed.kb_internal)
            && a == b
        {
            self.diag.error(
                self.toml,
                r.span.start,
                "the public and the internal article are the same file",
                "the program requires two articles: a public guide for end users and an internal one for support staff",
            );
        }
        (kb_public, kb_internal)
    }

    /// Resolves a path written in `candidate.toml`: relative, inside the bundle (also
    /// after following symbolic links), existing, of the expected kind.
    fn bundle_path(&mut self, p: &PathRef, what: &str, kind: Kind) -> Option<PathBuf> {
        let at = p.span.start;
        let rel = Path::new(&p.text);
        if rel.is_absolute() {
            self.diag.error(
                self.toml,
                at,
                format!("the {what} path {:?} is absolute", p.text),
                "write paths relative to the bundle directory: the bundle must be self-contained",
            );
            return None;
        }
        let Some(clean) = lexical(rel) else {
            self.diag.error(
                self.toml,
                at,
                format!("the {what} path {:?} escapes the bundle", p.text),
                "keep every file inside the bundle directory and refer to it without `..` leaving it",
            );
            return None;
        };
        let path = self.root.join(&clean);
        if !path.exists() {
            self.diag.error(
                self.toml,
                at,
                format!("the {what} {:?} does not exist", p.text),
                format!(
                    "add it to the bundle or fix the path (relative to {})",
                    self.source_root.display()
                ),
            );
            return None;
        }
        if let Ok(real) = path.canonicalize()
            && !real.starts_with(&self.canonical_root)
        {
            self.diag.error(
                self.toml,
                at,
                format!(
                    "the {what} {:?} leads outside the bundle through a symbolic link",
                    p.text
                ),
                "copy the file into the bundle instead of linking to it",
            );
            return None;
        }
        match kind {
            Kind::File if !path.is_file() => {
                self.diag.error(
                    self.toml,
                    at,
                    format!("the {what} {:?} is not a file", p.text),
                    "give the path of a file",
                );
                None
            }
            _ => Some(path),
        }
    }

    fn article(&mut self, p: &PathRef) -> Option<PathBuf> {
        let path = self.bundle_path(p, "KB article", Kind::File)?;
        if !p.text.to_ascii_lowercase().ends_with(".md") {
            self.diag.warning(
                self.toml,
                p.span.start,
                format!("the KB article {:?} is not a .md file", p.text),
                "KB articles are Markdown files with {{{ … }}} front matter",
            );
        }
        if let Err(e) = read_capped(&path, certify_kb_limit()) {
            self.diag.error(
                self.toml,
                p.span.start,
                format!("cannot read the KB article {:?}: {e}", p.text),
                "KB articles are UTF-8 Markdown",
            );
            return None;
        }
        Some(path)
    }

    fn plugin(&mut self, p: &PathRef) -> Option<PluginSource> {
        let path = self.bundle_path(p, "plugin", Kind::Any)?;
        if path.is_file() {
            if path.extension().is_some_and(|e| e == "wasm") {
                return Some(PluginSource::Wasm { path });
            }
            self.diag.error(
                self.toml,
                p.span.start,
                format!("the plugin {:?} is neither a .wasm component nor a Cargo project directory", p.text),
                "give a .wasm file built for wasm32-wasip2, or the directory holding the plugin's Cargo.toml",
            );
            return None;
        }
        let manifest = path.join("Cargo.toml");
        let text = match read_capped(&manifest, MAX_CANDIDATE_TOML) {
            Ok(t) => t,
            Err(_) => {
                self.diag.error(
                    self.toml,
                    p.span.start,
                    format!("the plugin directory {:?} has no Cargo.toml", p.text),
                    "give the directory of the plugin's Cargo project (crate-type cdylib, depending on certify-sdk), or a .wasm file",
                );
                return None;
            }
        };
        let src = Source::new(manifest, text);
        let package = match toml::from_str::<toml::Table>(&src.text) {
            Ok(t) => t
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .map(str::to_string),
            Err(e) => {
                self.diag.error(
                    &src,
                    e.span().map_or(0, |s| s.start),
                    format!("the plugin's Cargo.toml is not valid TOML: {}", e.message()),
                    "fix the TOML syntax",
                );
                return None;
            }
        };
        match package {
            Some(package) => Some(PluginSource::Cargo { dir: path, package }),
            None => {
                self.diag.error(
                    &src,
                    0,
                    "the plugin's Cargo.toml has no [package] name",
                    "a plugin is a Cargo package with crate-type = [\"cdylib\"]; add [package] name = \"plugin-<product>\"",
                );
                None
            }
        }
    }

    /// Parameters the platform or the harness sets (`T3.*`: the run's group, the build
    /// password, the network, the system values) may not be set by the bundle: not in
    /// `[deploy.parameters]` or `[deploy.secrets]`, not in the blueprint's `execute`,
    /// not in a task's `properties`.
    fn reserved(
        &mut self,
        bp: &blueprint::Blueprint,
        src: &Source,
        pos: &JsonPositions,
        deploy: &[(DeployParameter, Range<usize>)],
    ) {
        let hint = "remove it: T3.* parameters are set by the platform and the harness (the run's group, the build password, the data center), and a manifest receives them by declaring them with Prompt=\"None\"";
        for (d, span) in deploy
            .iter()
            .filter(|(d, _)| crate::reserved_parameter(&d.name))
        {
            self.diag.error(
                self.toml,
                span.start,
                format!(
                    "{} is set by the platform or the harness; a bundle may not set it",
                    d.name
                ),
                hint,
            );
        }
        for k in bp.execute.keys().filter(|k| crate::reserved_parameter(k)) {
            self.diag.error(
                src,
                pos.of(&format!("/execute/{}", segment(k))),
                format!("{k} is set by the platform or the harness; a blueprint may not set it"),
                hint,
            );
        }
        for server in &bp.servers {
            for task in &server.tasks {
                let ServerTask::Package(task) = task else {
                    continue;
                };
                for k in task
                    .properties
                    .keys()
                    .filter(|k| crate::reserved_parameter(k))
                {
                    self.diag.error(
                        src,
                        pos.of(&format!("{}/properties/{}", task.pointer, segment(k))),
                        format!(
                            "{k} is set by the platform or the harness; a blueprint may not set it"
                        ),
                        hint,
                    );
                }
            }
        }
    }

    /// A package task against its package: its name, its properties, and a value for
    /// every parameter that needs one (`given_elsewhere`: in `execute` or the
    /// deployment parameters).
    fn package_task(
        &mut self,
        src: &Source,
        pos: &JsonPositions,
        task: &PackageTask,
        pkg: &Package,
        given_elsewhere: impl Fn(&str) -> bool,
    ) {
        let at = pos.of(&format!("{}/uuid", task.pointer));
        if !task.name.is_empty() && !task.name.eq_ignore_ascii_case(&pkg.name) {
            self.diag.warning(
                src,
                pos.of(&format!("{}/name", task.pointer)),
                format!(
                    "the task calls package {} {:?}, its manifest calls it {:?}",
                    pkg.uuid, task.name, pkg.name
                ),
                "use the manifest's name, so the blueprint and the KB articles agree",
            );
        }
        for (k, v) in &task.properties {
            let at = pos.of(&format!("{}/properties/{}", task.pointer, segment(k)));
            match pkg.parameter(k) {
                None => self.diag.error(
                    src,
                    at,
                    format!("package {:?} has no parameter {k}", pkg.name),
                    format!("its parameters are: {}", variables(pkg)),
                ),
                Some(p) => {
                    if let Err(why) = p.check_value(v) {
                        self.diag
                            .error(src, at, format!("{k}: {why}"), param_hint(p));
                    }
                }
            }
        }
        for p in pkg.parameters.iter().filter(|p| p.needs_value()) {
            let given = task.properties.contains_key(&p.variable) || given_elsewhere(&p.variable);
            if !given {
                let section = if p.kind == ParameterType::Password {
                    "[deploy.secrets]"
                } else {
                    "[deploy.parameters]"
                };
                self.diag.error(
                    src,
                    at,
                    format!(
                        "package {:?} needs a value for {} ({:?}): it is required and has no default",
                        pkg.name, p.variable, p.name
                    ),
                    format!(
                        "add `\"{}\" = …` under {section} in candidate.toml, or \"{}\" to this task's \"properties\"",
                        p.variable, p.variable
                    ),
                );
            }
        }
    }

    /// The blueprint against the packages and the deployment parameters.
    fn cross_check(
        &mut self,
        bp: &mut blueprint::Blueprint,
        src: &Source,
        pos: &JsonPositions,
        packages: &[(Package, Range<usize>)],
        deploy: &[(DeployParameter, Range<usize>)],
    ) {
        self.reserved(bp, src, pos, deploy);
        let mut used = vec![false; packages.len()];
        let deploy_names: Vec<&str> = deploy.iter().map(|(p, _)| p.name.as_str()).collect();
        for server in &mut bp.servers {
            for task in &mut server.tasks {
                let ServerTask::Package(task) = task else {
                    continue;
                };
                let at = pos.of(&format!("{}/uuid", task.pointer));
                if let Some(i) = packages.iter().position(|(p, _)| p.has_uuid(&task.uuid)) {
                    task.package = PackageRef::Bundle(i);
                    used[i] = true;
                } else if certify_blueprint::is_builtin(&task.uuid) {
                    task.package = PackageRef::Builtin;
                    continue;
                } else {
                    let by_name = packages.iter().find(|(p, _)| {
                        !task.name.is_empty() && p.name.eq_ignore_ascii_case(&task.name)
                    });
                    match by_name {
                        Some((p, _)) => self.diag.error(
                            src,
                            at,
                            format!(
                                "package task {:?} has uuid {}, but the bundle's package of that name has {}",
                                task.name, task.uuid, p.uuid
                            ),
                            format!("use \"uuid\": \"{}\" (the Metadata/UUID in {}/package.manifest)", p.uuid, p.relative_path),
                        ),
                        None => self.diag.error(
                            src,
                            at,
                            format!(
                                "package task {:?} refers to package {}, which is not in the bundle",
                                task.name, task.uuid
                            ),
                            "add the package's directory (or zip) to `packages` in candidate.toml, or fix the uuid",
                        ),
                    }
                    continue;
                }
                let PackageRef::Bundle(i) = task.package else {
                    continue;
                };
                let pkg = &packages[i].0;
                let execute = &bp.execute;
                self.package_task(src, pos, task, pkg, |v| {
                    execute.contains_key(v) || deploy_names.contains(&v)
                });
            }
        }
        for (i, (p, span)) in packages.iter().enumerate() {
            if !used[i] {
                self.diag.warning(
                    self.toml,
                    span.start,
                    format!("package {:?} is not used by the blueprint", p.name),
                    "add a package task with its uuid to a server of blueprint.json, or remove it from `packages`",
                );
            }
        }
        // Values in `execute` and the deployment parameters against their declarations.
        let declared = |name: &str| {
            packages
                .iter()
                .filter_map(move |(pkg, _)| pkg.parameter(name))
                .collect::<Vec<_>>()
        };
        for (k, v) in &bp.execute {
            for p in declared(k) {
                if let Err(why) = p.check_value(v) {
                    self.diag.error(
                        src,
                        pos.of(&format!("/execute/{}", segment(k))),
                        format!("{k}: {why}"),
                        param_hint(p),
                    );
                }
            }
        }
        for (d, span) in deploy {
            let decls = declared(&d.name);
            if decls.is_empty() && !crate::reserved_parameter(&d.name) {
                let all: BTreeMap<&str, ()> = packages
                    .iter()
                    .flat_map(|(p, _)| p.parameters.iter())
                    .filter(|p| !p.is_system())
                    .map(|p| (p.variable.as_str(), ()))
                    .collect();
                self.diag.warning(
                    self.toml,
                    span.start,
                    format!("no package of the bundle declares the parameter {}", d.name),
                    format!(
                        "check the spelling; the packages declare: {}",
                        all.keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            for p in decls {
                match &d.value {
                    ParameterValue::Plain(v) => {
                        if let Err(why) = p.check_value(v) {
                            self.diag.error(
                                self.toml,
                                span.start,
                                format!("{}: {why}", d.name),
                                param_hint(p),
                            );
                        }
                        if p.kind == ParameterType::Password {
                            self.diag.warning(
                                self.toml,
                                span.start,
                                format!(
                                    "{} is a Password parameter but is not marked secret",
                                    d.name
                                ),
                                "move it to [deploy.secrets] so it never appears in reports",
                            );
                        }
                    }
                    ParameterValue::Secret(candidate::SecretSource::Literal(s)) => {
                        if let Err(why) = p.check_value(s.expose()) {
                            // The value itself stays out of the message.
                            let why = why.to_string().replace(s.expose(), "<secret>");
                            self.diag.error(
                                self.toml,
                                span.start,
                                format!("{}: {why}", d.name),
                                param_hint(p),
                            );
                        }
                    }
                    ParameterValue::Secret(_) => {}
                }
            }
        }
    }
}

fn variables(pkg: &Package) -> String {
    pkg.parameters
        .iter()
        .filter(|p| !p.is_system())
        .map(|p| p.variable.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn param_hint(p: &PackageParameter) -> String {
    let mut h = format!("{} is {:?}", p.variable, p.kind);
    if let Some(r) = &p.regex {
        h.push_str(&format!(" matching {r}"));
    }
    if !p.options.is_empty() {
        let values: Vec<&str> = p.options.iter().map(|(_, v)| v.as_str()).collect();
        h.push_str(&format!(", one of {}", values.join(", ")));
    }
    if !p.hint.is_empty() {
        h.push_str(&format!(" ({})", p.hint));
    }
    h
}

/// Every input file with its digest, in the documented order, then every other file
/// of the snapshot: whatever is in the bundle can influence a run (a plugin's build
/// reads any file it names), so all of it is bound.
fn inputs(
    snapshot: &Snapshot,
    blueprint: &Path,
    packages: &[Package],
    kb: &KbArticles,
    plugin: &PluginSource,
) -> Vec<InputFile> {
    let root = snapshot.root();
    let mut out: Vec<InputFile> = Vec::new();
    let rel = |path: &Path| {
        path.strip_prefix(root)
            .map(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_else(|_| path.display().to_string())
    };
    let mut add = |rel: String, role: InputRole| {
        if out.iter().any(|i| i.path == rel) {
            return;
        }
        if let Some(f) = snapshot.file(&rel) {
            out.push(InputFile {
                path: rel,
                role,
                sha256: f.sha256.clone(),
                size: f.size,
            });
        }
    };
    add(CANDIDATE_TOML.to_string(), InputRole::Candidate);
    add(rel(blueprint), InputRole::Blueprint);
    for p in packages {
        match p.form {
            package::PackageForm::Zip => add(rel(&p.path), InputRole::Package),
            package::PackageForm::Directory => {
                for f in &p.files {
                    add(rel(&p.path.join(f)), InputRole::Package);
                }
            }
        }
    }
    add(rel(&kb.public), InputRole::KbPublic);
    add(rel(&kb.internal), InputRole::KbInternal);
    match plugin {
        PluginSource::Wasm { path } => add(rel(path), InputRole::Plugin),
        PluginSource::Cargo { dir, .. } => {
            let prefix = format!("{}/", rel(dir));
            for f in snapshot.files().keys() {
                if f.starts_with(&prefix) || prefix == "/" {
                    add(f.clone(), InputRole::Plugin);
                }
            }
        }
    }
    for f in snapshot.files().keys() {
        add(f.clone(), InputRole::Other);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_paths() {
        assert_eq!(lexical(Path::new("a/./b/../c")), Some(PathBuf::from("a/c")));
        assert_eq!(lexical(Path::new("a/../../etc/passwd")), None);
        assert_eq!(lexical(Path::new("/etc/passwd")), None);
        assert_eq!(normalise("./packages//x/"), "packages/x");
    }
}
