//! The command line itself: help, version, usage errors. No emulator needed.

use predicates::prelude::*;

fn awsmfa() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("awsmfa").unwrap();
    cmd.env_clear().env("HOME", std::env::temp_dir());
    cmd
}

#[test]
fn help_lists_every_command_with_an_example() {
    let out = awsmfa().arg("--help").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for command in ["login", "env", "exec", "credential-process", "status", "logout", "completions", "man"] {
        assert!(text.contains(command), "--help misses {command}:\n{text}");
    }
    assert!(text.contains("eval \"$(awsmfa env)\""), "help shows the everyday use");
}

#[test]
fn every_subcommand_help_teaches_by_example() {
    for command in ["login", "env", "exec", "credential-process", "status", "logout", "completions"] {
        awsmfa().args([command, "--help"]).assert().success().stdout(predicate::str::contains("Example"));
    }
}

#[test]
fn version_prints_the_crate_version() {
    awsmfa().arg("--version").assert().success().stdout(format!("awsmfa {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn an_unknown_command_is_a_usage_error() {
    awsmfa()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unrecognized subcommand 'frobnicate'"));
}

#[test]
fn a_bad_flag_value_is_a_usage_error() {
    awsmfa().args(["env", "--format", "xml"]).assert().code(2);
    awsmfa().args(["login", "--duration", "12x"]).assert().code(2);
}

#[test]
fn completions_and_man_page_come_from_the_same_definitions() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        awsmfa().args(["completions", shell]).assert().success().stdout(predicate::str::contains("credential-process"));
    }
    awsmfa().arg("man").assert().success().stdout(predicate::str::contains(".TH awsmfa"));
}

#[test]
fn the_man_pages_render_whole_with_no_dangling_reference() {
    let dir = tempfile::tempdir().unwrap();
    let out = awsmfa().args(["man", "--dir"]).arg(dir.path()).assert().success();
    let listed = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(listed.lines().count(), names.len(), "every page written is listed: {listed}");
    for expected in ["awsmfa.1", "awsmfa-login.1", "awsmfa-keys-rotate.1", "awsmfa-man.1"] {
        assert!(names.iter().any(|n| n == expected), "{expected} not written: {names:?}");
    }
    let top = std::fs::read(dir.path().join("awsmfa.1")).unwrap();
    awsmfa().arg("man").assert().success().stdout(top);
    for name in &names {
        // groff (scripts/ensure-tools installs groff-base): -ww warns about anything malformed;
        // -P-cbou prints plain text, no bold or underline overstrikes.
        let out = std::process::Command::new("groff")
            .args(["-man", "-Tascii", "-ww", "-P-cbou"])
            .arg(dir.path().join(name))
            .output()
            .expect("run groff (scripts/ensure-tools installs groff-base)");
        assert!(out.status.success(), "groff failed on {name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim().is_empty(), "groff warns about {name}: {stderr}");
        let shown = String::from_utf8_lossy(&out.stdout);
        let mut sections = vec!["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"];
        if name == "awsmfa.1" {
            sections.extend(["OPTIONS", "SUBCOMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES"]);
        }
        for section in sections {
            assert!(shown.lines().any(|l| l == section), "{name} has no {section} section:\n{shown}");
        }
        for (at, _) in shown.match_indices("awsmfa-") {
            let reference: String = shown[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '(' || *c == ')')
                .collect();
            if let Some(page) = reference.strip_suffix("(1)") {
                assert!(names.contains(&format!("{page}.1")), "{name} names {reference}, which was not written");
            }
        }
    }
    let shown_top = std::process::Command::new("groff")
        .args(["-man", "-Tascii", "-P-cbou"])
        .arg(dir.path().join("awsmfa.1"))
        .output()
        .unwrap();
    let shown_top = String::from_utf8_lossy(&shown_top.stdout);
    assert!(shown_top.contains("awsmfa-login(1)"), "the top page names the command pages:\n{shown_top}");
    assert!(shown_top.contains("AWS_LOGIN_CACHE_DIRECTORY") && shown_top.contains("~/.aws/awsmfa/"));
}

#[test]
fn man_and_completions_do_not_offer_profile_or_region() {
    for command in [vec!["man", "--help"], vec!["completions", "--help"]] {
        let out = awsmfa().args(&command).assert().success();
        let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        assert!(!help.contains("--profile") && !help.contains("--region"), "{command:?}:\n{help}");
    }
    // Given anyway (a habit, an alias), they are accepted and change nothing.
    let plain = awsmfa().arg("man").assert().success().get_output().stdout.clone();
    awsmfa().args(["--profile", "work", "man", "--region", "eu-west-1"]).assert().success().stdout(plain);
}

/// Every command path of the tree, from the definitions themselves (so none is forgotten).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&<awsmfa::cli::Cli as clap::CommandFactory>::command(), &mut Vec::new(), &mut out);
    out
}

#[test]
fn every_command_of_the_tree_has_help_that_says_what_it_does_and_shows_an_example() {
    let paths = command_paths();
    assert!(paths.len() > 15, "{paths:?}");
    for path in paths {
        let out = awsmfa().args(&path).arg("--help").assert().success();
        let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
        let shown = path.join(" ");
        assert!(text.contains(&format!("Usage: awsmfa {shown}")), "{shown}:\n{text}");
        let about = text.lines().next().unwrap_or_default();
        assert!(!about.trim().is_empty() && !about.starts_with("Usage"), "{shown} says what it does:\n{text}");
        let has_subcommands = text.contains("Commands:");
        assert!(has_subcommands || text.contains("Example"), "{shown} teaches by example:\n{text}");
    }
}
