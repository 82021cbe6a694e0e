//! Proving MFA is enforced, then launching: `policy`, `verify`, `launch`, `instances`,
//! `terminate`, judged by the emulator's policy evaluation and EC2.

use crate::common;

use common::World;
use predicates::prelude::*;

const AMI: &str = "ami-12c6146b";

/// Attaches `document` to the world's user as an inline policy, with the emulator's admin keys.
fn put_user_policy(w: &World, document: &str) {
    let path = w.path("policy.json");
    std::fs::write(&path, document).unwrap();
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["iam", "put-user-policy", "--user-name", &w.user.name, "--policy-name", "from-awsmfa"])
        .arg("--policy-document")
        .arg(format!("file://{}", path.display()))
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn key_pair(w: &World, name: &str) {
    w.awsmfa()
        .args(["exec", "--", &common::venv_bin("aws"), "ec2", "create-key-pair", "--key-name", name])
        .assert()
        .success();
}

#[test]
fn the_policy_awsmfa_prints_makes_verify_pass() {
    let w = World::with_fixture(&["--policy", "none"]);
    w.standard_profile();
    let policy = w.awsmfa().args(["policy"]).output().unwrap();
    let text = String::from_utf8(policy.stdout).unwrap();
    assert!(text.starts_with("{\n  \"Version\": \"2012-10-17\""), "{text}");
    put_user_policy(&w, &text);
    let out = w.awsmfa().args(["verify", "--image-id", AMI, "--code", &w.code(0)]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(table.contains("denied without MFA: ok"), "{table}");
    assert!(table.contains("allowed with MFA: ok"), "{table}");
}

#[test]
fn the_ec2_scoped_policy_also_enforces_mfa() {
    let w = World::with_fixture(&["--policy", "none"]);
    w.standard_profile();
    let policy = w.awsmfa().args(["policy", "--scope", "ec2"]).output().unwrap();
    put_user_policy(&w, &String::from_utf8(policy.stdout).unwrap());
    w.awsmfa().args(["verify", "--image-id", AMI, "--code", &w.code(0)]).assert().success();
}

#[test]
fn without_any_policy_verify_says_mfa_is_not_enforced() {
    let w = World::with_fixture(&["--policy", "none"]);
    w.standard_profile();
    let out = w.awsmfa().args(["verify", "--image-id", AMI, "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(10));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mfa_enforced"], false);
    assert_eq!(v["steps"][0]["got"], "DryRunOperation");
    assert_eq!(
        v["suggested_policy"]["Statement"][0]["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"],
        "false"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("MFA is NOT enforced: long-term keys can launch instances"));
    assert_eq!(w.sts_calls(), 0, "no login when the pre-test already failed");
}

#[test]
fn a_policy_that_denies_ec2_even_with_mfa_is_exit_5_and_explained() {
    let w = World::with_fixture(&["--policy", "deny-ec2-always"]);
    w.standard_profile();
    let out = w.awsmfa().args(["verify", "--image-id", AMI, "--code", &w.code(0)]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("denied even with MFA"), "{err}");
    assert!(err.contains("decoded authorization message") && err.contains("ec2:RunInstances"), "{err}");
}

#[test]
fn verify_launch_terminate_goes_through_running_and_terminated() {
    let w = World::new();
    w.standard_profile();
    let key = key_pair_after_login(&w);
    let out = w
        .awsmfa()
        .args(["verify", "--image-id", AMI, "--key-name", &key, "--launch", "--terminate", "--json"])
        .env("AWSMFA_POLL_SECONDS", "0.2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["pre-test", "session", "post-test", "launch", "terminate"]);
    assert!(v["steps"].as_array().unwrap().iter().all(|s| s["ok"] == true));
    assert_eq!(v["instances"][0]["state"], "terminated");
}

/// Logs in and creates a key pair named after the user (the account is shared by all tests).
fn key_pair_after_login(w: &World) -> String {
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    key_pair(w, &w.user.name);
    w.user.name.clone()
}

#[test]
fn launch_tags_and_lists_and_terminate_guards_untagged_instances() {
    let w = World::new();
    w.standard_profile();
    let key = key_pair_after_login(&w);
    let out = w
        .awsmfa()
        .args(["launch", "--image-id", AMI, "--key-name", &key, "--count", "2", "--name", "web", "--tag", "team=data"])
        .args(["--wait", "--json"])
        .env("AWSMFA_POLL_SECONDS", "0.2")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let launched: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<String> = launched.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 2);
    assert!(launched.as_array().unwrap().iter().all(|i| i["state"] == "running"));

    let listed = w.awsmfa().args(["instances", "--json"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    for id in &ids {
        let found = listed.as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).expect("listed");
        assert_eq!(found["tags"]["created-by"], "awsmfa");
        assert_eq!(found["tags"]["Name"], "web");
        assert_eq!(found["tags"]["team"], "data");
    }

    // An instance launched by someone else is refused without --any.
    let other = w
        .awsmfa()
        .args(["exec", "--", &common::venv_bin("aws"), "ec2", "run-instances", "--image-id", AMI])
        .args(["--query", "Instances[0].InstanceId", "--output", "text"])
        .output()
        .unwrap();
    let other_id = String::from_utf8(other.stdout).unwrap().trim().to_string();
    assert!(other_id.starts_with("i-"), "{other_id}");
    w.awsmfa()
        .args(["terminate", &other_id, "--yes"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not launched by awsmfa").and(predicate::str::contains("--any")));
    // Without a terminal and without --yes, nothing is terminated: not even a "y" piped in
    // answers for a person.
    w.awsmfa_without_terminal()
        .args(["terminate", &ids[0]])
        .write_stdin("y\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--yes"));
    // At a terminal, "n" keeps the instance, as anything but yes does.
    let out = w
        .command(common::python())
        .arg(common::repo().join("tests/support/pty_answer.py"))
        .args([&format!("terminate {}? [y/N] ", ids[0]), "n", "--"])
        .arg(assert_cmd::cargo::cargo_bin("awsmfa"))
        .args(["terminate", &ids[0]])
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{screen}");
    assert!(screen.contains("nothing terminated"), "{screen}");
    let listed = w.awsmfa().args(["instances", "--json"]).assert().success();
    assert!(
        String::from_utf8_lossy(&listed.get_output().stdout).contains("\"running\""),
        "answering n terminated nothing"
    );
    w.awsmfa()
        .args(["terminate", "--yes", "--wait", &ids[0], &ids[1]])
        .env("AWSMFA_POLL_SECONDS", "0.2")
        .assert()
        .success()
        .stderr(predicate::str::contains("terminated"));
    w.awsmfa().args(["terminate", &other_id, "--yes", "--any"]).assert().success();
}

#[test]
fn a_bad_ami_and_a_bad_key_pair_get_their_hints() {
    let w = World::new();
    w.standard_profile();
    let key = key_pair_after_login(&w);
    w.awsmfa()
        .args(["launch", "--image-id", "ami-00000000000000000", "--key-name", &key])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("InvalidAMIID").and(predicate::str::contains("us-east-1")));
    w.awsmfa().args(["launch", "--image-id", AMI, "--key-name", "no-such-key"]).assert().code(3).stderr(
        predicate::str::contains("InvalidKeyPair.NotFound")
            .and(predicate::str::contains("key pairs in us-east-1: "))
            .and(predicate::str::contains(key.as_str())),
    );
}

#[test]
fn the_recipe_variables_are_the_launch_defaults() {
    let w = World::new();
    w.standard_profile();
    let key = key_pair_after_login(&w);
    let out = w
        .awsmfa()
        .args(["launch", "--json"])
        .env("AWS_IMAGE_ID", AMI)
        .env("SENZING_AWS_KEYPAIR", &key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.awsmfa().arg("launch").assert().code(2).stderr(predicate::str::contains("--image-id"));
}

#[test]
fn a_launch_denied_by_policy_keeps_aws_words_and_suggests_verify() {
    let w = World::with_fixture(&["--policy", "deny-ec2-always"]);
    w.standard_profile();
    w.awsmfa()
        .args(["launch", "--image-id", AMI, "--code", &w.code(0)])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("UnauthorizedOperation").and(predicate::str::contains("awsmfa verify")));
}

/// `launch --wait` on an instance the emulator keeps `pending` (tag awsmfa-emulator-stuck).
fn stuck_launch(w: &World, extra: &[&str]) -> std::process::Command {
    let mut cmd = w.command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap());
    cmd.args(["launch", "--image-id", AMI, "--tag", "awsmfa-emulator-stuck=pending", "--wait"])
        .args(extra)
        .env("AWSMFA_POLL_SECONDS", "0.2");
    cmd
}

#[test]
fn waiting_gives_up_after_the_timeout_and_leaves_the_instance() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let out = stuck_launch(&w, &["--timeout", "2s"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(err.contains("gave up after 2s waiting for i-") && err.contains("to be running"), "{err}");
    assert!(err.contains("left as they are"), "{err}");
}

#[test]
fn an_instance_that_dies_while_waited_on_is_exit_7_not_a_denial() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    w.awsmfa()
        .args(["launch", "--image-id", AMI, "--tag", "awsmfa-emulator-stuck=shutting-down", "--wait"])
        .env("AWSMFA_POLL_SECONDS", "0.2")
        .assert()
        .code(7)
        .stderr(predicate::str::contains("is shutting-down instead of running"));
}

#[test]
fn ctrl_c_stops_waiting_and_names_the_instance_left_running() {
    use std::io::Read;
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let mut child = stuck_launch(&w, &[]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("launched i-") {
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "launch ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let id = seen.split("launched ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    stderr.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}");
    assert!(seen.contains(&format!("stopped waiting; {id} left as they are")), "{seen}");
    let listed = w.awsmfa().args(["instances", "--json"]).output().unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&id), "the instance still exists");
}
