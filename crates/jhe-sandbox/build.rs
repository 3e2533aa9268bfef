//! Embeds the vendored OMH / IEEE 1752 JSON schemas (`schemas/omh/`, `schemas/ieee/`) into the
//! binary: writes `$OUT_DIR/schema_files.rs` with a sorted `&[(relative path, contents)]` table
//! built from `include_str!`, so the server validates uploads without any file on disk.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(err) => panic!("cannot read schema directory {}: {err}", dir.display()),
    };
    for entry in entries {
        let path = match entry {
            Ok(e) => e.path(),
            Err(err) => panic!("cannot list {}: {err}", dir.display()),
        };
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest.join("schemas");
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    for sub in ["omh", "ieee"] {
        collect(&root.join(sub), &mut files);
    }
    files.sort();

    let mut src = String::from(
        "/// Vendored schema files: (path relative to `schemas/`, file contents).\n\
         pub static SCHEMA_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .expect("schema file under schemas/")
            .to_string_lossy()
            .replace('\\', "/");
        // No absolute path in the generated file: a target directory shared by clones in
        // different folders keeps this output when the build script does not rerun, and
        // `env!` is expanded for the clone being compiled.
        let from_manifest = format!("/schemas/{rel}");
        writeln!(
            src,
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {from_manifest:?}))),"
        )
        .expect("write to String");
    }
    src.push_str("];\n");

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("schema_files.rs");
    std::fs::write(&out, src).expect("write schema_files.rs");
}
