//! Roles with MFA: one code serves many roles; role chaining capped at 1 h; `--direct`;
//! errors for a trust policy that says no, a duration over the role's maximum, a cycle.

use crate::common;

use common::World;
use predicates::prelude::*;

/// Long-term keys in [dev] (with mfa_serial) and role profiles on top of it.
fn with_roles(w: &World, roles: &str) {
    w.keys_in("dev");
    w.config(&format!("[profile dev]\nregion = us-east-1\nmfa_serial = {}\n\n{roles}", w.user.serial));
}

fn caller_arn(w: &World, profile: &str, extra: &[&str]) -> String {
    let out = w
        .awsmfa()
        .args(["--profile", profile, "exec"])
        .args(extra)
        .args(["--", &common::venv_bin("aws"), "sts", "get-caller-identity", "--query", "Arn", "--output", "text"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_role_that_requires_mfa_is_assumed_with_the_mfa_session() {
    let w = World::new();
    let (role, name) = common::role(&[&w.user.arn], &[]);
    with_roles(&w, &format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\n"));
    w.awsmfa().args(["--profile", "admin", "login", "--code", &w.code(0)]).assert().success();
    assert_eq!(w.sts_calls(), 1, "one MFA session");
    assert_eq!(common::assume_role_calls(&role), 1);
    assert!(caller_arn(&w, "admin", &[]).contains(&format!(":assumed-role/{name}/")));
    w.awsmfa().args(["--profile", "admin", "status"]).assert().success().stdout(
        predicate::str::contains(format!("role:         {role}"))
            .and(predicate::str::contains("MFA session:  valid until"))
            .and(predicate::str::contains("roles renew without a code")),
    );

    // Without MFA, the same role is out of reach: the long-term keys are denied.
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["sts", "assume-role", "--role-arn", &role, "--role-session-name", "no-mfa-probe"])
        .env("AWS_ACCESS_KEY_ID", &w.user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &w.user.secret_access_key)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("AccessDenied"), "{out:?}");
}

#[test]
fn two_roles_from_one_source_profile_need_one_code() {
    let w = World::new();
    let (ops, _) = common::role(&[&w.user.arn], &[]);
    let (audit, _) = common::role(&[&w.user.arn], &[]);
    let (code_command, counter) = w.counting_code_command("0");
    with_roles(
        &w,
        &format!(
            "[profile ops]\nrole_arn = {ops}\nsource_profile = dev\n\n[profile audit]\nrole_arn = {audit}\nsource_profile = dev\n"
        ),
    );
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    w.config(&config.replacen("[profile dev]\n", &format!("[profile dev]\nmfa_process = {code_command}\n"), 1));
    for profile in ["ops", "audit", "ops"] {
        w.awsmfa().args(["--profile", profile, "credential-process"]).assert().success();
    }
    assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 1, "exactly one code");
    assert_eq!(w.sts_calls(), 1, "one MFA session");
    assert_eq!(common::assume_role_calls(&ops), 1, "the second use of ops came from the cache");
    assert_eq!(common::assume_role_calls(&audit), 1);
}

#[test]
fn an_expired_role_session_is_renewed_from_the_mfa_session_without_a_code() {
    let w = World::new();
    let (role, _) = common::role(&[&w.user.arn], &[]);
    with_roles(&w, &format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\n"));
    w.awsmfa().args(["--profile", "admin", "login", "--code", &w.code(0)]).assert().success();
    // The role session lasts 1 h: asking for 2 h left makes it too old, not the 12 h MFA session.
    w.awsmfa().args(["--profile", "admin", "env", "--min-ttl", "2h"]).assert().success();
    assert_eq!(common::assume_role_calls(&role), 2);
    assert_eq!(w.sts_calls(), 1, "no new code");
}

#[test]
fn role_chaining_is_capped_at_one_hour_and_said_so() {
    let w = World::new();
    let (first, first_name) = common::role(&[&w.user.arn], &["--max-session", "43200"]);
    let (second, second_name) = common::role(&[&first], &["--no-mfa", "--max-session", "43200"]);
    with_roles(
        &w,
        &format!(
            "[profile first]\nrole_arn = {first}\nsource_profile = dev\n\n[profile second]\nrole_arn = {second}\nsource_profile = first\nduration_seconds = 7200\n"
        ),
    );
    w.awsmfa()
        .args(["--profile", "second", "login", "--code", &w.code(0)])
        .assert()
        .success()
        .stderr(predicate::str::contains("role chaining").and(predicate::str::contains("asking for 1h")));
    let arn = caller_arn(&w, "second", &[]);
    assert!(arn.contains(&format!("assumed-role/{second_name}/")), "{arn}");
    assert!(!arn.contains(&first_name));
    let v: serde_json::Value =
        serde_json::from_slice(&w.awsmfa().args(["--profile", "second", "status", "--json"]).output().unwrap().stdout)
            .unwrap();
    assert!(v["session"]["seconds_left"].as_i64().unwrap() <= 3600);
}

#[test]
fn direct_assumes_the_role_with_the_code_for_up_to_its_maximum() {
    let w = World::new();
    let (role, _) = common::role(&[&w.user.arn], &["--max-session", "14400"]);
    with_roles(&w, &format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\n"));
    w.awsmfa()
        .args(["--profile", "admin", "login", "--direct", "--duration", "4h", "--code", &w.code(0)])
        .assert()
        .success();
    assert_eq!(w.sts_calls(), 0, "no GetSessionToken on the direct path");
    assert_eq!(common::assume_role_calls(&role), 1);
    // awsmfa_direct = true in the profile is the lasting way to say --direct.
    w.config(&format!(
        "[profile dev]\nregion = us-east-1\nmfa_serial = {}\n\n[profile admin]\nrole_arn = {role}\nsource_profile = dev\nawsmfa_direct = true\n",
        w.user.serial
    ));
    let v: serde_json::Value =
        serde_json::from_slice(&w.awsmfa().args(["--profile", "admin", "status", "--json"]).output().unwrap().stdout)
            .unwrap();
    assert_eq!(v["direct"], true);
    let left = v["session"]["seconds_left"].as_i64().unwrap();
    assert!((14000..=14400).contains(&left), "4 h session, got {left}");
}

#[test]
fn a_duration_over_the_roles_maximum_names_the_maximum() {
    let w = World::new();
    let (role, _) = common::role(&[&w.user.arn], &["--max-session", "3600"]);
    with_roles(&w, &format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\nduration_seconds = 7200\n"));
    w.awsmfa().args(["--profile", "admin", "login", "--code", &w.code(0)]).assert().code(3).stderr(
        predicate::str::contains("maximum session is 1h 00m").and(predicate::str::contains("duration_seconds")),
    );
}

#[test]
fn a_trust_policy_that_rejects_the_caller_names_the_role() {
    let w = World::new();
    let other = common::fixture(&[]);
    let (role, _) = common::role(&[&other.arn], &[]);
    with_roles(&w, &format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\n"));
    w.awsmfa().args(["--profile", "admin", "login", "--code", &w.code(0)]).assert().code(5).stderr(
        predicate::str::contains(format!("cannot assume role {role}")).and(predicate::str::contains(&w.user.arn)),
    );
}

#[test]
fn an_ad_hoc_role_on_the_current_profile() {
    let w = World::new();
    let (role, name) = common::role(&[&w.user.arn], &[]);
    with_roles(&w, "");
    w.awsmfa().args(["--profile", "dev", "login", "--code", &w.code(0)]).assert().success();
    let arn = caller_arn(&w, "dev", &["--role-arn", &role]);
    assert!(arn.contains(&format!("assumed-role/{name}/")), "{arn}");
    let env = w.awsmfa().args(["--profile", "dev", "env", "--role-arn", &role]).output().unwrap();
    assert!(env.status.success());
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn a_source_profile_cycle_is_refused() {
    let w = World::new();
    with_roles(
        &w,
        "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n",
    );
    w.awsmfa()
        .args(["--profile", "a", "login", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("source_profile cycle: a -> b -> a"));
}

#[test]
fn verify_and_launch_work_with_a_role_profile() {
    let w = World::new();
    let (role, _) = common::role(&[&w.user.arn], &[]);
    with_roles(&w, &format!("[profile admin]\nrole_arn = {role}\nsource_profile = dev\n"));
    w.awsmfa()
        .args(["--profile", "admin", "verify", "--image-id", "ami-12c6146b", "--code", &w.code(0)])
        .assert()
        .success()
        .stdout(predicate::str::contains("allowed with MFA: ok"));
    w.awsmfa().args(["--profile", "admin", "launch", "--image-id", "ami-12c6146b", "--json"]).assert().success();
}
