//! The layer order of src/lib.rs holds: every module of src/ uses only modules below it, so
//! there is no cycle. Read from the sources (the code outside `#[cfg(test)]`), so a new
//! `crate::x` reference in the wrong direction fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// Top to bottom, as in src/lib.rs. `profile` is above the layers that take a part of its
/// plan (`session::Plan`, `mfa::Sources`, `login::Plan`, `aws::ClientConfig`): they cannot
/// reach the whole of it.
const LAYERS: &[&str] = &[
    "commands",
    "cli",
    "child",
    "server",
    "keys",
    "doctor",
    "enforce",
    "output",
    "profile",
    "session",
    "ec2",
    "mfa",
    "login",
    "aws",
    "keystore",
    "config",
    "files",
    "credentials",
    "ui",
    "clock",
    "error",
    "platform",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    files_under(dir, out, |path| path.extension().is_some_and(|e| e == "rs"));
}

/// Every file under `dir` that `keep` keeps (a directory that is not there has none).
fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>, keep: fn(&Path) -> bool) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out, keep);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// The lines of src/ (outside the files `skip` names, relative to src/; only the code before
/// `#[cfg(test)]` when `code_only`) that `hit`, as "file:line: text".
fn lines_in_src(skip: fn(&str) -> bool, code_only: bool, hit: fn(&str) -> bool) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if skip(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = if code_only { text.split("#[cfg(test)]").next().unwrap() } else { &text };
        for (n, line) in code.lines().enumerate() {
            if hit(line) {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

/// The top-level modules `text` refers to as `crate::NAME`.
fn references(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let name: String = code[at + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            found.push(name);
        }
    }
    found
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut wrong = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        let module = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&mine) = rank.get(module.as_str()) else {
            wrong.push(format!("{rel}: module {module} is not in the layer list"));
            continue;
        };
        for used in references(&std::fs::read_to_string(&file).unwrap()) {
            match rank.get(used.as_str()) {
                Some(&theirs) if theirs > mine || used == module => {}
                Some(_) => wrong.push(format!("{rel}: {module} uses {used}, which is not below it")),
                None => wrong.push(format!("{rel}: uses crate::{used}, which is not in the layer list")),
            }
        }
    }
    assert!(wrong.is_empty(), "layer order broken:\n{}", wrong.join("\n"));
}

#[test]
fn no_command_uses_another_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut files = Vec::new();
    sources(&dir, &mut files);
    let commands: Vec<String> =
        files.iter().map(|f| f.file_stem().unwrap().to_string_lossy().into_owned()).filter(|n| n != "mod").collect();
    let mut wrong = Vec::new();
    for file in &files {
        let me = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for used in command_paths(code) {
            if me != "mod" && used != me && commands.contains(&used) {
                wrong.push(format!("commands/{me}.rs uses commands/{used}.rs"));
            }
        }
    }
    assert!(wrong.is_empty(), "shared pieces belong in commands/mod.rs or a lower layer:\n{}", wrong.join("\n"));
}

/// The names a file reaches through `super::` or `crate::commands::`, braces included
/// (`super::{print, login}`).
fn command_paths(code: &str) -> Vec<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut names = Vec::new();
    for prefix in ["super::", "crate::commands::"] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(|part| ident(part.trim())));
            } else {
                names.push(ident(rest));
            }
        }
    }
    names
}

#[test]
fn only_the_aws_module_names_an_sdk_service_crate() {
    let wrong = lines_in_src(|rel| rel.starts_with("aws/"), false, |line| line.contains("aws_sdk_"));
    assert!(wrong.is_empty(), "AWS calls belong in src/aws/ (typed, one place each):\n{}", wrong.join("\n"));
}

#[test]
fn only_profile_env_reads_the_environment() {
    // Every variable is read in one place (src/profile/env.rs), listed with whether it is a
    // secret; the rest of awsmfa gets what it needs from the plan. Children's environments
    // (`Command::env`) are written, not read, and are not matched here.
    let wrong = lines_in_src(
        |rel| rel == "profile/env.rs",
        true,
        |line| ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("].iter().any(|read| line.contains(read)),
    );
    assert!(wrong.is_empty(), "read variables in src/profile/env.rs (and list them there):\n{}", wrong.join("\n"));
}

#[test]
fn no_file_of_the_tree_holds_what_looks_like_a_real_access_key_id() {
    // Only AWS's documented example keys (…EXAMPLE) belong in the tree; a made-up id of the
    // real shape (AKIA + 16) is one a scanner, or a person, takes for a leaked key.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "scripts", "docs", "bench", "examples"] {
        files_under(&root.join(dir), &mut files, |_| true);
    }
    files.push(root.join("README.md"));
    let mut wrong = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices("AKIA").chain(text.match_indices("ASIA")) {
            let id = &bytes[at..(at + 20).min(bytes.len())];
            let shaped = id.len() == 20 && id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            let ends_id = bytes.get(at + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
            let starts_id = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
            if shaped && ends_id && starts_id && !text[at..at + 20].contains("EXAMPLE") {
                wrong.push(format!("{}: {}", file.strip_prefix(root).unwrap().display(), &text[at..at + 20]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "use AKIAIOSFODNN7EXAMPLE (or an id that is not of the real shape):\n{}",
        wrong.join("\n")
    );
}
