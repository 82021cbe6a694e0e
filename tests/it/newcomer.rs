//! A newcomer's first hour: README's hand-run block ("Try it — no AWS account needed"),
//! taken from README.md itself and run as written, its commands fed to bash one after the
//! other as if typed, from the clone. `scripts/shell` builds awsmfa, starts its own emulator
//! and opens the shell the later lines run in; `awsmfa verify` must pass, and nothing may be
//! left behind: not in the clone (no user.json), not the throwaway directory, not the emulator.

use std::path::Path;
use std::time::Duration;

use crate::common;

/// The commands of README's console block that starts with `scripts/shell`, as typed (the
/// `$ ` taken off; output lines, which have none, left out).
fn readme_block() -> Vec<String> {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let section = readme.split("## Try it — no AWS account needed").nth(1).expect("README has the Try it section");
    let section = section.split("\n## ").next().unwrap();
    let block = section
        .split("```console\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.starts_with("$ scripts/shell"))
        .expect("a console block that starts with `$ scripts/shell`");
    block.lines().filter_map(|l| l.strip_prefix("$ ")).map(str::to_string).collect()
}

fn git_status() -> String {
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(common::repo())
        .output()
        .expect("run git");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_readme_block_works_as_written_and_leaves_nothing_behind() {
    let commands = readme_block();
    assert!(commands.len() >= 3, "{commands:?}");
    assert!(commands.iter().any(|c| c.starts_with("awsmfa verify")), "the block ends in verify: {commands:?}");
    let before = git_status();
    let mut bash = assert_cmd::Command::new("bash");
    bash.current_dir(common::repo()).write_stdin(commands.join("\n") + "\n").timeout(Duration::from_secs(1200));
    // What a newcomer's shell would not have: the tests' own variables and any AWS setup.
    for (name, _) in std::env::vars() {
        let keep = ["CARGO_TARGET_DIR", "CARGO_HOME", "AWSMFA_VENV"].contains(&name.as_str());
        if !keep && (name.starts_with("AWS") || name.starts_with("CARGO_")) {
            bash.env_remove(&name);
        }
    }
    let out = bash.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the block failed ({}):\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("denied without MFA: ok") && stdout.contains("allowed with MFA: ok"), "verify:\n{stdout}");
    assert!(stderr.contains("logged in with MFA device"), "login:\n{stderr}");
    assert!(stderr.contains("stops the emulator"), "the shell says how to stop the emulator:\n{stderr}");

    // Nothing left: the clone as it was (user.json went to the throwaway directory), that
    // directory deleted, the emulator stopped.
    assert_eq!(git_status(), before, "the block changed the clone");
    assert!(
        !common::repo().join("user.json").exists(),
        "no user.json in the clone (it is git-ignored, so git would not say)"
    );
    let line = stderr.lines().find(|l| l.contains("the keys and TOTP seed: ")).expect("says where user.json is");
    let user_json = line.split("the keys and TOTP seed: ").nth(1).unwrap().split(' ').next().unwrap();
    assert!(user_json.ends_with("/user.json") && !user_json.starts_with(&*common::repo().to_string_lossy()));
    assert!(!Path::new(user_json).exists(), "{user_json} is deleted with its directory");
    let endpoint = stderr.lines().find_map(|l| l.strip_prefix("emulator: ")).unwrap().split(' ').next().unwrap();
    let address = endpoint.strip_prefix("http://").unwrap();
    assert!(std::net::TcpStream::connect(address).is_err(), "the emulator at {address} was stopped");
}

/// The words of a line as a POSIX shell splits it, without running anything (Python's shlex).
fn shell_words(line: &str) -> Vec<String> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))", line])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "not a shell line: {line}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_demo_prints_commands_that_paste_as_they_ran_and_no_cold_build_warning_when_warm() {
    let built = assert_cmd::cargo::cargo_bin("awsmfa");
    assert!(built.exists(), "cargo test built awsmfa");
    let mut demo = assert_cmd::Command::new(common::repo().join("scripts/demo"));
    demo.current_dir(common::repo()).timeout(Duration::from_secs(1200));
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS") && name != "AWSMFA_VENV" {
            demo.env_remove(&name);
        }
    }
    let out = demo.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/demo failed:\n{stdout}\n{stderr}");
    // The build was there: no "about 7 minutes" for a build of seconds.
    assert!(!stderr.contains("7 minutes"), "a warm build is announced as a cold one:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("$ ")).collect();
    assert!(lines.len() >= 8, "{stdout}");
    let env_line = lines.iter().find(|l| l.starts_with("bash -c")).expect("the session in a shell");
    let words = shell_words(env_line);
    assert_eq!(words.len(), 3, "`bash -c SCRIPT` pastes as three words: {env_line}");
    assert!(words[2].starts_with("eval \"$(") && words[2].contains(" env)\"; echo "), "{}", words[2]);
    for line in lines.iter().filter(|l| !l.starts_with("bash -c") && !l.contains("(the app types")) {
        let words = shell_words(line);
        assert!(words.iter().any(|w| w.ends_with("/awsmfa")), "{line}: {words:?}");
    }
}
