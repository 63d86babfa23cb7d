//! Property tests over every parser that reads bundle input here: `candidate.toml`,
//! the blueprint JSON, `package.manifest` (in a directory and in a zip). The sample's
//! real files are mutated with byte edits and with the tokens the parsers react to;
//! loading must never panic, and must end with a bundle or with problems. Huge and
//! deep inputs are refused by their caps before they are parsed.

use std::io::Write;
use std::path::Path;

use certify_bundle::{Bundle, LoadError};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::sample_copy;

const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "\"",
    ",",
    ":",
    "=",
    "\n",
    "\r\n",
    "\u{feff}",
    "\u{0}",
    "null",
    "1e999",
    "-0",
    "\"T3.BuildServerTask.GroupID\"",
    "T3.",
    "[deploy.parameters]\n",
    "[[blueprint]]",
    "'''",
    "\\u0000",
    "<Parameter ",
    "Prompt=\"false\"",
    "/>",
    "</",
    "<!--",
    "-->",
    "&amp;",
    "&#0;",
    "<![CDATA[",
    "${",
    "../",
    "/etc/passwd",
    "\"tasks\":[",
    "é",
    "packages = [\"",
    "path = \"",
];

/// The sample's files the parsers read.
const FILES: &[&str] = &[
    "candidate.toml",
    "blueprint.json",
    "packages/install-acme-status/package.manifest",
];

fn mutate(mut bytes: Vec<u8>, edits: &[(Index, u8, usize)]) -> Vec<u8> {
    for (i, kind, token) in edits {
        let at = i.index(bytes.len() + 1).min(bytes.len());
        match kind % 4 {
            0 if at < bytes.len() => {
                let end = (at + 1 + token % 16).min(bytes.len());
                bytes.drain(at..end);
            }
            1 => {
                bytes.splice(at..at, TOKENS[token % TOKENS.len()].bytes());
            }
            2 if at < bytes.len() => bytes[at] = *token as u8,
            3 => {
                // Duplicate a slice: repeated tables, keys, elements.
                let from = token % (bytes.len() + 1);
                let (a, b) = (from.min(at), from.max(at).min(from.min(at) + 2048));
                let piece = bytes[a..b].to_vec();
                bytes.splice(b..b, piece);
            }
            _ => {}
        }
    }
    bytes
}

fn load(root: &Path) {
    match Bundle::load(root) {
        Ok(b) => assert!(!b.inputs.is_empty()),
        Err(LoadError::Invalid { problems, .. }) => assert!(!problems.is_empty()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

fn zip_package(root: &Path) {
    let dir = root.join("packages/install-acme-status");
    let mut w = zip::ZipWriter::new(std::fs::File::create(root.join("packages/p.zip")).unwrap());
    for f in ["package.manifest", "install.sh", "acme_status.py"] {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        w.start_file(f, opts).unwrap();
        w.write_all(&std::fs::read(dir.join(f)).unwrap()).unwrap();
    }
    w.finish().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn mutated_sample_files_load_or_are_refused(
        which in 0..FILES.len(),
        edits in prop::collection::vec((any::<Index>(), any::<u8>(), any::<usize>()), 0..24),
        zipped in any::<bool>(),
    ) {
        let copy = sample_copy();
        let path = copy.path().join(FILES[which]);
        let bytes = mutate(std::fs::read(&path).unwrap(), &edits);
        std::fs::write(&path, bytes).unwrap();
        if zipped && which == 2 {
            zip_package(copy.path());
            let toml = copy.path().join("candidate.toml");
            let text = std::fs::read_to_string(&toml).unwrap();
            std::fs::write(toml, text.replace("packages/install-acme-status\"", "packages/p.zip\"")).unwrap();
        }
        load(copy.path());
    }

    /// Bytes of a mutated zip: the zip reader meets broken headers and sizes.
    #[test]
    fn mutated_zip_packages_are_read_or_refused(
        edits in prop::collection::vec((any::<Index>(), any::<u8>(), any::<usize>()), 1..16),
    ) {
        let copy = sample_copy();
        zip_package(copy.path());
        let zip = copy.path().join("packages/p.zip");
        let bytes = mutate(std::fs::read(&zip).unwrap(), &edits);
        std::fs::write(&zip, bytes).unwrap();
        let toml = copy.path().join("candidate.toml");
        let text = std::fs::read_to_string(&toml).unwrap();
        std::fs::write(toml, text.replace("packages/install-acme-status\"", "packages/p.zip\"")).unwrap();
        load(copy.path());
    }
}

#[test]
fn a_deep_or_huge_blueprint_is_refused_before_it_is_parsed() {
    let copy = sample_copy();
    let path = copy.path().join("blueprint.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let deep = text.replace(
        "\"execute\": {}",
        &format!(
            "\"execute\": {{\"x\": {}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    std::fs::write(&path, deep).unwrap();
    let err = Bundle::load(copy.path()).unwrap_err().to_string();
    assert!(err.contains("nests deeper than 32"), "{err}");
    // 4 MB of blueprint: refused by its size.
    let huge = text.replace(
        "\"execute\": {}",
        &format!("\"execute\": {{\"x\": [{}1]}}", "1,".repeat(2 << 20)),
    );
    std::fs::write(&path, huge).unwrap();
    let err = Bundle::load(copy.path()).unwrap_err().to_string();
    assert!(err.contains("larger than the 1048576-byte limit"), "{err}");
}

#[test]
fn a_huge_candidate_toml_or_manifest_is_refused_unread() {
    let copy = sample_copy();
    let manifest = copy
        .path()
        .join("packages/install-acme-status/package.manifest");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "<Parameters>",
            &format!("<Parameters><!--{}-->", "x".repeat(1 << 20)),
        ),
    )
    .unwrap();
    let err = Bundle::load(copy.path()).unwrap_err().to_string();
    assert!(
        err.contains("package manifest") && err.contains("limit"),
        "{err}"
    );
    let toml = copy.path().join("candidate.toml");
    let mut t = std::fs::read_to_string(&toml).unwrap();
    t.push_str(&format!("# {}\n", "x".repeat(1 << 20)));
    std::fs::write(&toml, t).unwrap();
    let err = Bundle::load(copy.path()).unwrap_err().to_string();
    assert!(err.contains("larger than the 262144-byte limit"), "{err}");
}
