//! Console sign-in sessions kept in the keystore (`login --console --keystore`): the refresh
//! token and the DPoP key in the encrypted file or the OS keychain (a real Secret Service),
//! never in plain text on disk; every tool reaches the session through awsmfa's
//! `credential_process`, which the sign-in writes into the profile.

use std::process::Stdio;

use predicates::prelude::*;

use crate::common::{self, World};
use crate::console::{browser_env, caller_arn, dev_world, parallel_callers, token_calls};
use crate::keys::{files_holding, secret_service};

const PASS: &str = "kept-session-passphrase";

/// `awsmfa` with the file keystore's passphrase.
fn awsmfa(w: &World) -> assert_cmd::Command {
    let mut cmd = w.awsmfa();
    cmd.env("AWSMFA_KEYSTORE_PASSPHRASE", PASS);
    cmd
}

/// `awsmfa login --console --keystore KEYSTORE --profile dev` with a person at the browser
/// (who types the device's code `with_mfa`).
fn sign_in(w: &World, keystore: &str, with_mfa: bool, extra_env: &[(&str, &str)]) -> assert_cmd::assert::Assert {
    let mut cmd = awsmfa(w);
    browser_env(w, &mut cmd, with_mfa);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.args(["login", "--console", "--keystore", keystore, "--profile", "dev"]).assert()
}

/// Nothing under HOME holds a session's secrets in the clear (the AWS CLI's file would).
fn assert_no_plain_session(w: &World) {
    for needle in ["BEGIN EC PRIVATE KEY", "refreshToken", "dpopKey"] {
        assert_eq!(files_holding(w.home.path(), needle), Vec::<std::path::PathBuf>::new(), "{needle} on disk");
    }
}

#[test]
fn a_session_kept_in_the_file_keystore_leaves_no_refresh_token_on_disk_and_every_tool_gets_it() {
    let w = dev_world(&[]);
    sign_in(&w, "file", true, &[]).success().stderr(
        predicate::str::contains(format!("signed in as {}", w.user.arn))
            .and(predicate::str::contains("the file keystore"))
            .and(predicate::str::contains("credential_process")),
    );
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    assert_eq!(
        config,
        format!(
            "[profile dev]\nregion = us-east-1\nawsmfa_login_session = {}\nawsmfa_login_keystore = file\ncredential_process = {} credential-process --profile dev\n",
            w.user.arn,
            bin.canonicalize().unwrap().display()
        )
    );
    assert!(!w.path(".aws/login/cache").exists(), "no AWS CLI session file");
    assert_no_plain_session(&w);
    use std::os::unix::fs::PermissionsExt;
    let store = w.path(".aws/awsmfa-keys.age");
    assert_eq!(std::fs::metadata(&store).unwrap().permissions().mode() & 0o777, 0o600);
    // The AWS CLI (v1: it knows nothing of login sessions) signs as the user through the
    // profile's credential_process, with no passphrase: the sign-in's credentials are cached.
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--profile", "dev", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(caller_arn(&out.stdout), w.user.arn);
    w.awsmfa().args(["status", "--profile", "dev"]).assert().success().stdout(
        predicate::str::contains(format!("console session {}", w.user.arn))
            .and(predicate::str::contains("kept:         in the file keystore")),
    );
    // doctor reads the session where it is kept (the keystore), and renews nothing.
    awsmfa(&w).args(["doctor", "--profile", "dev"]).assert().stdout(
        predicate::str::contains(format!("{} in the file keystore", w.user.arn))
            .and(predicate::str::contains("renewable until")),
    );
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 1);
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0, "valid credentials are used as they are");
}

#[test]
fn kept_credentials_near_their_end_are_renewed_once_and_the_new_refresh_token_is_kept() {
    let w = dev_world(&[]);
    // Credentials of 2 minutes: inside awsmfa's 5-minute margin at once.
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, "file", true, &[]).success();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let keys = parallel_callers(&w, 5, "dev", &[("AWSMFA_KEYSTORE_PASSPHRASE", PASS)]);
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "one renewal for five callers");
    assert!(keys.windows(2).all(|k| k[0] == k[1]), "all five got the renewed credentials: {keys:?}");
    // The renewal's refresh token was kept: a second renewal works (the first token is
    // spent; AWS refuses it).
    awsmfa(&w).args(["login", "--profile", "dev", "--force"]).assert().success();
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 2);
    assert_no_plain_session(&w);
    // Cached now: no passphrase is needed.
    let out = w.awsmfa().args(["credential-process", "--profile", "dev"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_renewal_without_the_passphrase_says_how_to_give_it_and_spends_nothing() {
    let w = dev_world(&[]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, "file", true, &[]).success();
    w.awsmfa_without_terminal()
        .args(["credential-process", "--profile", "dev"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("AWSMFA_KEYSTORE_PASSPHRASE"));
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0);
}

#[test]
fn roles_start_from_a_kept_session_and_logout_removes_it() {
    let w = dev_world(&[]);
    sign_in(&w, "file", true, &[]).success();
    let (role_arn, _) = common::role(&[&w.user.arn], &["--no-mfa"]);
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    w.config(&format!("{config}[profile admin]\nrole_arn = {role_arn}\nsource_profile = dev\n"));
    let out = awsmfa(&w).args(["credential-process", "--profile", "admin"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(common::assume_role_calls(&role_arn), 1);
    // A second profile naming the same kept session is signed out with it, and said so.
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    let lines: String = config
        .split("[profile admin]")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("awsmfa_login_") || l.starts_with("credential_process"))
        .map(|l| format!("{}\n", l.replace("--profile dev", "--profile twin")))
        .collect();
    w.config(&format!("{config}[profile twin]\n{lines}"));
    awsmfa(&w)
        .args(["logout", "--profile", "dev"])
        .assert()
        .success()
        .stderr(predicate::str::contains("profile(s) 'twin' used the same session: signed out too"));
    awsmfa(&w).args(["credential-process", "--profile", "dev"]).assert().code(3).stderr(
        predicate::str::contains("keeps no console sign-in session")
            .and(predicate::str::contains("awsmfa login --console --keystore --profile dev")),
    );
    assert_no_plain_session(&w);
}

#[test]
fn the_os_keychain_keeps_a_session_through_a_real_secret_service() {
    let w = dev_world(&[]);
    let bus = secret_service();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, "keychain", true, &[("DBUS_SESSION_BUS_ADDRESS", bus)])
        .success()
        .stderr(predicate::str::contains("Secret Service"));
    assert!(std::fs::read_to_string(w.path(".aws/config")).unwrap().contains("awsmfa_login_keystore = keychain"));
    assert_no_plain_session(&w);
    assert!(!w.path(".aws/awsmfa-keys.age").exists());
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let out = w
        .awsmfa()
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args(["credential-process", "--profile", "dev"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "renewed from the keychain's session");
    w.awsmfa().env("DBUS_SESSION_BUS_ADDRESS", bus).args(["logout", "--profile", "dev"]).assert().success();
    w.awsmfa()
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args(["login", "--profile", "dev", "--force"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("keeps no console sign-in session"));
}

#[test]
fn a_profile_says_plainly_when_its_kept_session_lines_do_not_fit_together() {
    let w = dev_world(&[]);
    let arn = w.user.arn.clone();
    w.config(&format!("[profile dev]\nawsmfa_login_session = {arn}\n"));
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(3).stderr(
        predicate::str::contains("not awsmfa_login_keystore").and(predicate::str::contains("--keystore --profile dev")),
    );
    w.config(&format!("[profile dev]\nawsmfa_login_session = {arn}\nawsmfa_login_keystore = vault\n"));
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(3).stderr(predicate::str::contains("is not a keystore"));
    w.config(&format!(
        "[profile dev]\nlogin_session = {arn}\nawsmfa_login_session = {arn}\nawsmfa_login_keystore = file\n"
    ));
    w.awsmfa()
        .args(["env", "--profile", "dev"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("two console sign-in sessions"));
}

#[test]
fn a_sign_in_does_not_switch_where_a_profile_keeps_its_session_behind_the_users_back() {
    // Four sign-ins: a user without a device (a code is good once per 30 s), and so without
    // the policy that refuses sessions without MFA.
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    // Kept in the keystore: a plain sign-in is refused while the keystore keeps the session
    // (switching would leave its refresh token behind).
    sign_in(&w, "file", false, &[]).success();
    let before = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    let plain = || {
        let mut cmd = awsmfa(&w);
        browser_env(&w, &mut cmd, false);
        cmd.args(["login", "--console", "--profile", "dev"]).assert()
    };
    plain().code(3).stderr(
        predicate::str::contains("keeps its console sign-in session in the file keystore")
            .and(predicate::str::contains("awsmfa logout --profile dev")),
    );
    assert_eq!(std::fs::read_to_string(w.path(".aws/config")).unwrap(), before);
    // Signing in again the same way replaces the session (its credential_process is ours).
    sign_in(&w, "file", false, &[]).success();
    assert_eq!(std::fs::read_to_string(w.path(".aws/config")).unwrap(), before);
    // Signed out, the profile may go back to the AWS CLI's file: awsmfa's lines go.
    awsmfa(&w).args(["logout", "--profile", "dev"]).assert().success();
    plain().success();
    assert_eq!(
        std::fs::read_to_string(w.path(".aws/config")).unwrap(),
        format!("[profile dev]\nregion = us-east-1\nlogin_session = {}\n", w.user.arn)
    );
    // And the other way: the file's session is there, so --keystore is refused until logout.
    sign_in(&w, "file", false, &[]).code(3).stderr(predicate::str::contains("in the AWS CLI's file"));
    awsmfa(&w).args(["logout", "--profile", "dev"]).assert().success();
    sign_in(&w, "file", false, &[]).success();
    assert_eq!(std::fs::read_to_string(w.path(".aws/config")).unwrap(), before);
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 4);
}

#[test]
fn a_sign_in_never_replaces_a_credential_process_that_is_not_awsmfas() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    let arn = w.user.arn.clone();
    // Kept-session lines beside another tool's credential_process (put there by hand).
    let config = format!(
        "[profile dev]\nregion = us-east-1\nawsmfa_login_session = {arn}\nawsmfa_login_keystore = file\ncredential_process = /opt/vault/bin/vault-creds --role dev\n"
    );
    w.config(&config);
    for keystore in [Some("file"), None] {
        let mut cmd = awsmfa(&w);
        browser_env(&w, &mut cmd, false);
        cmd.args(["login", "--console", "--profile", "dev"]);
        if let Some(k) = keystore {
            cmd.args(["--keystore", k]);
        }
        cmd.assert().code(3).stderr(predicate::str::contains("credential_process is set"));
        assert_eq!(std::fs::read_to_string(w.path(".aws/config")).unwrap(), config, "{keystore:?}");
    }
    assert!(!w.path("browser.log").exists(), "the person was sent to sign in for nothing");
}

#[test]
fn a_keystore_that_cannot_keep_the_session_is_said_before_the_browser_opens() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    let attempt = |pass: Option<&str>| {
        let mut cmd = w.awsmfa_without_terminal();
        browser_env(&w, &mut cmd, false);
        if let Some(p) = pass {
            cmd.env("AWSMFA_KEYSTORE_PASSPHRASE", p);
        }
        cmd.args(["login", "--console", "--keystore", "file", "--profile", "dev"]).assert()
    };
    // No terminal and no passphrase: for a new file, and for one already there.
    attempt(None).code(3).stderr(predicate::str::contains("AWSMFA_KEYSTORE_PASSPHRASE"));
    assert!(!w.path("browser.log").exists(), "the person was sent to sign in for a session that cannot be kept");
    attempt(Some(PASS)).success();
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 1);
    std::fs::remove_file(w.path("browser.log")).unwrap();
    attempt(None).code(3).stderr(predicate::str::contains("AWSMFA_KEYSTORE_PASSPHRASE"));
    attempt(Some("not the passphrase")).code(3).stderr(predicate::str::contains("does not open the file keystore"));
    assert!(!w.path("browser.log").exists(), "the person was sent to sign in for a session that cannot be kept");
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 1, "no sign-in was spent");
}

#[test]
fn a_first_sign_in_and_a_logout_take_their_lock_with_no_cache_directory_there() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    assert!(!w.path(".aws/awsmfa").exists());
    sign_in(&w, "file", false, &[]).success().stderr(predicate::str::contains("without its lock").not());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(w.path(".aws/awsmfa")).unwrap().permissions().mode() & 0o777, 0o700);
    // awsmfa's cache directory gone (cleaned by hand): logout still signs out.
    std::fs::remove_dir_all(w.path(".aws/awsmfa")).unwrap();
    awsmfa(&w)
        .args(["logout", "--profile", "dev"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("signed out of {}", w.user.arn)));
    awsmfa(&w).args(["credential-process", "--profile", "dev"]).assert().code(3);
}

#[test]
fn the_way_back_from_an_ended_kept_session_is_the_command_its_hints_name() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    // A session AWS renews for no time at all: as if its 12 hours were over.
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120&refresh=0", w.user.name));
    sign_in(&w, "file", false, &[]).success();
    let before = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    // AWS refuses the renewal. The hint names a sign-in that keeps the session where it is
    // (a plain one is refused while the keystore keeps it).
    awsmfa(&w)
        .args(["credential-process", "--profile", "dev"])
        .assert()
        .code(predicate::ne(0))
        .stderr(predicate::str::contains("awsmfa login --console --keystore --profile dev"));
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&refresh=43200&access=900", w.user.name));
    // `--keystore` as the hints write it, on a desktop (a session bus: the default for new
    // entries is the keychain): the profile's keystore, not a second place.
    let mut cmd = awsmfa(&w);
    browser_env(&w, &mut cmd, false);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/awsmfa-test-bus")
        .args(["login", "--console", "--keystore", "--profile", "dev"])
        .assert()
        .success()
        .stderr(predicate::str::contains("the file keystore"));
    assert_eq!(std::fs::read_to_string(w.path(".aws/config")).unwrap(), before);
    let out = w.awsmfa().args(["credential-process", "--profile", "dev"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_cached_path_of_a_kept_session_never_opens_the_keystore() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, "file", false, &[]).success();
    let (role_arn, _) = common::role(&[&w.user.arn], &["--no-mfa"]);
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    w.config(&format!("{config}[profile admin]\nrole_arn = {role_arn}\nsource_profile = dev\n"));
    // The role is assumed with the sign-in's cached credentials: no passphrase either.
    let out = w.awsmfa().args(["credential-process", "--profile", "admin"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // No passphrase, a wrong one, or no keystore at all, and no keychain to talk to.
    std::fs::remove_file(w.path(".aws/awsmfa-keys.age")).unwrap();
    for pass in [None, Some("wrong")] {
        for profile in ["dev", "admin"] {
            for command in [&["credential-process"][..], &["env"], &["status", "--json"]] {
                let mut cmd = w.awsmfa();
                if let Some(p) = pass {
                    cmd.env("AWSMFA_KEYSTORE_PASSPHRASE", p);
                }
                cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/awsmfa-test-bus");
                let out = cmd.args(command).args(["--profile", profile]).output().unwrap();
                assert!(out.status.success(), "{command:?} {profile}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
    }
    let out = w.awsmfa().args(["status", "--json", "--profile", "dev"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["login_session"], w.user.arn.as_str());
    assert_eq!(v["session"]["state"], "valid");
    assert!(v["login_session_kept_in"].as_str().unwrap().starts_with("the file keystore"), "{v}");
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0);
}

#[test]
fn a_renewal_whose_reader_has_gone_keeps_the_new_refresh_token() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, "file", false, &[]).success();
    // The reader closes its end before awsmfa writes (a tool that gave up waiting).
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let script = format!("'{}' credential-process --profile dev | true", bin.display());
    let status = w
        .command("sh")
        .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
        .args(["-c", &script])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1);
    // Renewed again with the refresh token that renewal kept (the first is spent).
    awsmfa(&w).args(["login", "--profile", "dev", "--force"]).assert().success();
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 2);
}

#[test]
fn signing_a_profile_in_as_another_identity_leaves_no_earlier_session_in_the_keystore() {
    let w = dev_world(&[]);
    sign_in(&w, "file", true, &[]).success();
    // Another IAM user signs in to the same profile.
    let other = common::fixture(&["--password", crate::console::PASSWORD]);
    let mut cmd = awsmfa(&w);
    browser_env(&w, &mut cmd, true);
    cmd.env("SIGNIN_USER", &other.name).env("SIGNIN_SEED", &other.seed);
    cmd.args(["login", "--console", "--keystore", "file", "--profile", "dev"]).assert().success().stderr(
        predicate::str::contains(format!("profile 'dev' used {} before", w.user.arn)).and(predicate::str::contains(
            format!("deleted the earlier session {} from the file keystore", w.user.arn),
        )),
    );
    // The earlier identity is gone from the keystore: a profile naming it finds nothing.
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    assert!(config.contains(&format!("awsmfa_login_session = {}", other.arn)), "{config}");
    w.config(&format!("{config}[profile old]\nawsmfa_login_session = {}\nawsmfa_login_keystore = file\n", w.user.arn));
    awsmfa(&w)
        .args(["credential-process", "--profile", "old"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("keeps no console sign-in session"));
    let out = awsmfa(&w).args(["credential-process", "--profile", "dev"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
