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
