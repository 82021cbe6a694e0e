//! `awsmfa login` against the emulator: one STS call, a private cache, reuse until expiry,
//! and every way a login can go wrong, each with its exit code and a message that helps.

use crate::common;

use std::os::unix::fs::PermissionsExt;

use common::World;
use predicates::prelude::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn login_calls_sts_once_and_caches_the_session_privately() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .assert()
        .success()
        .stderr(predicate::str::contains("logged in with MFA device").and(predicate::str::contains(&w.user.serial)));
    assert_eq!(w.sts_calls(), 1);
    let cache = w.cache_files("session-");
    assert_eq!(cache.len(), 1, "one cached session");
    assert_eq!(mode(&cache[0]), 0o600);
    assert_eq!(mode(&w.path(".aws/awsmfa")), 0o700);

    // A valid session is reused: no code needed, no call made.
    w.awsmfa()
        .arg("login")
        .assert()
        .success()
        .stderr(predicate::str::contains("already logged in").and(predicate::str::contains("--force")));
    assert_eq!(w.sts_calls(), 1, "the cached session served the second login");

    // --force renews (with the next code: AWS takes each code once).
    w.awsmfa().args(["login", "--force", "--code", &w.code(1)]).assert().success();
    assert_eq!(w.sts_calls(), 2);
}

#[test]
fn the_manual_recipe_variables_are_understood() {
    let w = World::new();
    w.credentials("");
    w.awsmfa()
        .args(["login"])
        .env("AWS_MFA_SERIAL_NUMBER", &w.user.serial)
        .env("AWS_MFA_TOKEN_CODE", w.code(0))
        .assert()
        .success();
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn env_keys_are_used_when_no_profile_is_named() {
    let w = World::new();
    w.awsmfa()
        .args(["login", "--serial", &w.user.serial, "--code", &w.code(0)])
        .env("AWS_ACCESS_KEY_ID", &w.user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &w.user.secret_access_key)
        .assert()
        .success();
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn the_long_term_profile_convention_of_aws_mfa_is_honoured() {
    let w = World::new();
    std::fs::write(
        w.path(".aws/credentials"),
        format!(
            "[work-long-term]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_mfa_device = {}\n",
            w.user.access_key_id, w.user.secret_access_key, w.user.serial
        ),
    )
    .unwrap();
    w.awsmfa().args(["--profile", "work", "login", "--code", &w.code(0), "--write-profile", "work"]).assert().success();
    let text = std::fs::read_to_string(w.path(".aws/credentials")).unwrap();
    assert!(text.starts_with("[work-long-term]\n"), "long-term keys stay first:\n{text}");
    assert!(text.contains("\n[work]\n# written by awsmfa; expires "), "{text}");
    assert!(text.contains("aws_session_token = "));
}

#[test]
fn one_mfa_device_is_found_without_configuration() {
    let w = World::new();
    w.credentials("");
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("using MFA device {}", w.user.serial)));
}

#[test]
fn a_user_without_mfa_device_is_told_how_to_add_one() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    w.credentials("");
    w.awsmfa()
        .args(["login", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no MFA device").and(predicate::str::contains("hint:")));
}

#[test]
fn a_wrong_code_is_rejected_with_exit_4() {
    let w = World::new();
    w.standard_profile();
    let wrong = if w.code(0) == "000000" { "111111" } else { "000000" };
    w.awsmfa()
        .args(["login", "--code", wrong])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("AWS rejected the MFA code"));
    assert!(w.cache_files("session-").is_empty(), "nothing cached after a failure");
}

#[test]
fn the_same_wrong_code_typed_twice_is_wrong_twice_not_already_used() {
    let w = World::new();
    w.standard_profile();
    // A code the device shows in none of the windows AWS accepts now.
    let live: Vec<String> = (-1..=1).map(|o| common::totp(&w.user.seed, o)).collect();
    let wrong = ["000000", "111111", "222222", "333333"].into_iter().find(|c| !live.iter().any(|l| l == c)).unwrap();
    let attempts = common::sts_attempts(&w.user.access_key_id);
    for round in 1..=2 {
        let out = w.awsmfa().args(["login", "--code", wrong]).assert().code(4);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains("AWS rejected the MFA code: it is wrong"), "round {round}: {stderr}");
        assert!(!stderr.contains("already used"), "round {round}: a refused code was never spent: {stderr}");
    }
    assert_eq!(common::sts_attempts(&w.user.access_key_id), attempts + 2, "both tries reached AWS");
    // A code AWS accepted is still refused locally, and not sent again.
    let good = w.code(0);
    w.awsmfa().args(["login", "--code", &good]).assert().success();
    w.awsmfa().arg("logout").assert().success();
    w.awsmfa()
        .args(["login", "--code", &good])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("this code was already used"));
    assert_eq!(common::sts_attempts(&w.user.access_key_id), attempts + 3);
}

#[test]
fn a_wrong_serial_is_named_with_where_it_came_from() {
    let w = World::new();
    w.credentials("");
    let bad = format!("arn:aws:iam::{}:mfa/nobody", w.user.account_id);
    w.awsmfa()
        .args(["login", "--serial", &bad, "--code", &w.code(0)])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(&bad).and(predicate::str::contains("from --serial")));
}

#[test]
fn a_reused_code_is_refused_locally_and_never_sent_twice() {
    let w = World::new();
    w.standard_profile();
    let code = w.code(0);
    w.awsmfa().args(["login", "--code", &code]).assert().success();
    w.awsmfa().args(["logout"]).assert().success();
    let attempts = common::sts_attempts(&w.user.access_key_id);
    w.awsmfa()
        .args(["login", "--code", &code])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("this code was already used; wait for the next one (in "));
    assert_eq!(common::sts_attempts(&w.user.access_key_id), attempts, "the spent code was not sent");
}

#[test]
fn durations_outside_sts_limits_are_refused_before_any_call() {
    let w = World::new();
    w.standard_profile();
    for bad in ["10m", "37h"] {
        w.awsmfa()
            .args(["login", "--duration", bad, "--code", &w.code(0)])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("outside what STS allows"));
    }
    assert_eq!(common::sts_attempts(&w.user.access_key_id), 0);
}

#[test]
fn the_session_lasts_as_long_as_asked() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--duration", "1h", "--code", &w.code(0)]).assert().success();
    let out = w.awsmfa().args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let left = v["session"]["seconds_left"].as_i64().unwrap();
    assert!((3500..=3600).contains(&left), "about an hour left, got {left}");
}

#[test]
fn an_unreachable_endpoint_is_exit_6_and_named() {
    let w = World::new();
    w.standard_profile();
    let dead = "http://127.0.0.1:9"; // discard port: nothing listens
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env("AWS_ENDPOINT_URL", dead)
        .assert()
        .code(6)
        .stderr(predicate::str::contains(dead));
}

#[test]
fn verbose_shows_the_chain_of_causes() {
    let w = World::new();
    w.standard_profile();
    let dead = "http://127.0.0.1:9";
    w.awsmfa()
        .args(["-v", "login", "--code", &w.code(0)])
        .env("AWS_ENDPOINT_URL", dead)
        .assert()
        .code(6)
        .stderr(predicate::str::contains("caused by:").and(predicate::str::contains(dead)));
}

#[test]
fn the_cause_of_an_error_is_shown_without_asking() {
    let w = World::new();
    w.standard_profile();
    let dead = "http://127.0.0.1:9";
    let out = w.awsmfa().args(["login", "--code", &w.code(0)]).env("AWS_ENDPOINT_URL", dead).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let cause = stderr.lines().find(|l| l.trim_start().starts_with("caused by:")).unwrap_or_else(|| panic!("{stderr}"));
    assert!(stderr.find("error:").unwrap() < stderr.find(cause).unwrap(), "the cause follows the error line: {stderr}");
}

#[test]
fn a_malformed_config_names_the_file_and_line() {
    let w = World::new();
    w.credentials("");
    let config = w.config("[default]\nregion = us-east-1\nthis line is broken\n");
    w.awsmfa()
        .args(["login", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!("{}:3", config.display())));
}

#[test]
fn missing_keys_say_where_to_put_them() {
    let w = World::new();
    w.awsmfa()
        .args(["login", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no long-term keys").and(predicate::str::contains("hint:")));
}

#[test]
fn session_keys_are_never_used_as_long_term_keys() {
    let w = World::new();
    w.awsmfa()
        .args(["login", "--code", "123456"])
        .env("AWS_ACCESS_KEY_ID", "ASIA-TEST-SESSION")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_SESSION_TOKEN", "y")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("temporary session keys"));
    std::fs::write(
        w.path(".aws/credentials"),
        "[default]\naws_access_key_id = ASIAX\naws_secret_access_key = x\naws_session_token = y\n",
    )
    .unwrap();
    w.awsmfa()
        .args(["login", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("temporary session keys"));
}

#[test]
fn without_a_terminal_or_code_source_the_four_ways_are_named() {
    let w = World::new();
    w.standard_profile();
    // assert_cmd runs without a controlling terminal when setsid is used; use `setsid`.
    let out = w
        .command("setsid")
        .args([assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap(), "login"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    for way in ["--code", "AWS_MFA_TOKEN_CODE", "mfa_process", "AWSMFA_TOTP_SECRET"] {
        assert!(err.contains(way), "{way} missing from: {err}");
    }
}

#[test]
fn a_typed_code_is_asked_on_the_terminal_and_malformed_ones_are_asked_again() {
    let w = World::new();
    w.standard_profile();
    let out = w
        .command(common::python())
        .arg(common::repo().join("tests/support/pty_answer.py"))
        .args([&format!("MFA code for {}: ", w.user.serial), "12ab", &w.code(0), "--"])
        .arg(assert_cmd::cargo::cargo_bin("awsmfa"))
        .arg("login")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert!(screen.contains(&format!("MFA code for {}:", w.user.serial)), "{screen}");
    assert!(screen.contains("a code is 6 digits"), "malformed entry re-asked: {screen}");
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn a_totp_secret_logs_in_unattended_and_waits_out_a_spent_code() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().arg("login").env("AWSMFA_TOTP_SECRET", &w.user.seed).assert().success();
    assert_eq!(w.sts_calls(), 1);
    // The current code is spent: a second login must wait for the next one, not send it again.
    w.awsmfa().arg("logout").assert().success();
    w.awsmfa().args(["login", "--force"]).env("AWSMFA_TOTP_SECRET", &w.user.seed).assert().success();
    assert_eq!(w.sts_calls(), 2);
    // The emulator takes no code twice: two attempts, both accepted, means the second code
    // was not the first, so it came from a later 30 s window (awsmfa's clock, which skipped
    // the wait: AWSMFA_TEST_CLOCK).
    assert_eq!(common::sts_attempts(&w.user.access_key_id), 2, "no rejected attempt with the spent code");
}

#[test]
fn mfa_process_supplies_the_code() {
    let w = World::new();
    w.credentials("");
    let (script, counter) = w.counting_code_command("0");
    w.config(&format!("[default]\nmfa_serial = {}\nmfa_process = {script}\n", w.user.serial));
    w.awsmfa().arg("login").assert().success();
    assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 1);
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn save_json_writes_the_recipe_file_privately() {
    let w = World::new();
    w.standard_profile();
    let path = w.path("aws-sts-get-session-token.json");
    w.awsmfa().args(["login", "--code", &w.code(0), "--save-json", path.to_str().unwrap()]).assert().success();
    assert_eq!(mode(&path), 0o600);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(v["Credentials"]["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(v["Credentials"]["Expiration"].as_str().unwrap().ends_with("+00:00"));
}

#[test]
fn a_corrupt_or_exposed_cache_file_is_warned_about_and_replaced() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let file = w.cache_files("session-").remove(0);
    std::fs::write(&file, "{\"version\": 1, \"acc").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    w.awsmfa()
        .args(["login", "--code", &w.code(1)])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: ignoring cache file").and(predicate::str::contains("corrupt")));
    assert_eq!(w.sts_calls(), 2);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    w.awsmfa()
        .args(["login", "--code", &w.code(-1)])
        .assert()
        .success()
        .stderr(predicate::str::contains("readable by group or others"));
    assert_eq!(mode(&file), 0o600, "replaced with a private file");
}

#[test]
fn secrets_never_reach_stderr_even_verbose() {
    let w = World::new();
    w.standard_profile();
    let out = w.awsmfa().args(["-v", "login", "--code", &w.code(0)]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains(&w.user.secret_access_key), "secret key in stderr");
    let env = w.awsmfa().args(["env", "--format", "env-no-export"]).output().unwrap();
    let vars = common::parse_vars(&String::from_utf8_lossy(&env.stdout));
    for secret in [&vars["AWS_SECRET_ACCESS_KEY"], &vars["AWS_SESSION_TOKEN"]] {
        assert!(!err.contains(secret.as_str()));
        let status = w.awsmfa().args(["status", "--json"]).output().unwrap();
        assert!(!String::from_utf8_lossy(&status.stdout).contains(secret.as_str()));
    }
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let w = World::new();
    w.credentials("\n[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = x\n");
    w.awsmfa().args(["--profile", "wrok", "login", "--code", "123456"]).assert().code(3).stderr(
        predicate::str::contains("profile 'wrok' is in neither")
            .and(predicate::str::contains("known profiles: default, work")),
    );
}

#[test]
fn a_spent_code_typed_at_the_prompt_is_refused_and_asked_again() {
    let w = World::new();
    w.standard_profile();
    let spent = w.code(0);
    w.awsmfa().args(["login", "--code", &spent]).assert().success();
    w.awsmfa().arg("logout").assert().success();
    let out = w
        .command(common::python())
        .arg(common::repo().join("tests/support/pty_answer.py"))
        .args([&format!("MFA code for {}: ", w.user.serial), &spent, &w.code(1), "--"])
        .arg(assert_cmd::cargo::cargo_bin("awsmfa"))
        .arg("login")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert!(screen.contains("this code was already used; wait for the next one (in "), "{screen}");
    assert_eq!(w.sts_calls(), 2);
    assert_eq!(common::sts_attempts(&w.user.access_key_id), 2, "the spent code never reached AWS");
}

#[test]
fn a_profile_name_that_would_corrupt_the_credentials_file_is_refused() {
    let w = World::new();
    w.standard_profile();
    let before = std::fs::read_to_string(w.path(".aws/credentials")).unwrap();
    w.awsmfa()
        .args(["login", "--code", "123456", "--write-profile", "evil]\n[default"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is not a usable profile name"));
    assert_eq!(std::fs::read_to_string(w.path(".aws/credentials")).unwrap(), before);
    assert_eq!(common::sts_attempts(&w.user.access_key_id), 0, "refused before any call");
}

#[test]
fn an_https_endpoint_is_trusted_through_aws_ca_bundle_as_in_the_aws_cli() {
    use std::io::BufRead;
    let w = World::new();
    w.standard_profile();
    let upstream = common::endpoint().trim_start_matches("http://").to_string();
    let mut proxy = std::process::Command::new(common::python())
        .arg(common::repo().join("tests/support/tls_proxy.py"))
        .arg(&upstream)
        .arg(w.home.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(proxy.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let https = line.trim().strip_prefix("ready ").expect("proxy ready").to_string();
    let ca = w.path("ca.pem");

    // The system's roots do not know the test CA: the TLS handshake fails, nothing is sent.
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env("AWS_ENDPOINT_URL", &https)
        .assert()
        .code(6)
        .stderr(predicate::str::contains(&https).and(predicate::str::contains("AWS_CA_BUNDLE")));
    // With the CA in AWS_CA_BUNDLE, the same endpoint works end to end.
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env("AWS_ENDPOINT_URL", &https)
        .env("AWS_CA_BUNDLE", &ca)
        .assert()
        .success();
    assert_eq!(w.sts_calls(), 1);
    // A bundle that is not there is a configuration error that names where it came from.
    w.awsmfa()
        .args(["login", "--force", "--code", &w.code(0)])
        .env("AWS_CA_BUNDLE", w.path("nope.pem"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("CA bundle").and(predicate::str::contains("AWS_CA_BUNDLE")));
    drop(proxy.stdin.take());
    let _ = proxy.wait();
}
