//! Console sign-in sessions (`login --console`, `login_session`), as people use them: a
//! person signs in at the emulator's AWS Sign-In page (its form filled by a real HTTP
//! client acting as the browser, tests/support/browser.py; tests/emulator/test_signin.py
//! drives the same page in headless Chromium), and the AWS CLI, boto3 and the SDKs use the
//! session awsmfa keeps.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use predicates::prelude::*;

use crate::common::{self, PATIENCE, Said, World, says};

pub(crate) const PASSWORD: &str = "correct-horse-9";

/// A user with a console password (and an MFA device, unless `--no-mfa` is in `extra`).
pub(crate) fn world(extra: &[&str]) -> World {
    let mut args = vec!["--password", PASSWORD];
    args.extend_from_slice(extra);
    World::with_fixture(&args)
}

/// `world`, with the profile most tests sign in to: `[profile dev]` and its region.
pub(crate) fn dev_world(extra: &[&str]) -> World {
    let w = world(extra);
    w.config("[profile dev]\nregion = us-east-1\n");
    w
}

/// The environment of a person who signs in at the browser awsmfa opens.
pub(crate) fn browser_env(w: &World, cmd: &mut assert_cmd::Command, with_mfa: bool) {
    cmd.env("BROWSER", format!("{} {}", common::python(), common::repo().join("tests/support/browser.py").display()))
        .env("SIGNIN_USER", &w.user.name)
        .env("SIGNIN_PASSWORD", PASSWORD)
        .env("SIGNIN_LOG", w.path("browser.log"));
    if with_mfa {
        cmd.env("SIGNIN_SEED", &w.user.seed);
    }
}

/// `awsmfa login --console --profile dev` with a person at the browser.
fn sign_in(w: &World, with_mfa: bool) -> assert_cmd::assert::Assert {
    let mut cmd = w.awsmfa();
    browser_env(w, &mut cmd, with_mfa);
    cmd.args(["login", "--console", "--profile", "dev"]).assert()
}

fn session_file(w: &World) -> PathBuf {
    let dir = w.path(".aws/login/cache");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")).count(), 1, "{files:?}");
    files.into_iter().find(|p| p.extension().is_some_and(|e| e == "json")).unwrap()
}

pub(crate) fn token_calls(arn: &str, grant: &str) -> u64 {
    common::hook("GET", "/_awsmfa/stats")["signin_token"][arn][grant].as_u64().unwrap_or(0)
}

pub(crate) fn caller_arn(out: &[u8]) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(out).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(out)));
    v["Arn"].as_str().unwrap().to_string()
}

#[test]
fn a_console_sign_in_gives_a_profile_with_no_keys_that_every_tool_uses() {
    let w = dev_world(&[]);
    sign_in(&w, true).success().stderr(
        predicate::str::contains(format!("signed in as {}", w.user.arn)).and(predicate::str::contains("renewed until")),
    );
    // The AWS CLI's own file and profile line.
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    assert_eq!(config, format!("[profile dev]\nregion = us-east-1\nlogin_session = {}\n", w.user.arn));
    let file = session_file(&w);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"]);
    assert!(v["dpopKey"].as_str().unwrap().starts_with("-----BEGIN EC PRIVATE KEY-----"));
    assert_eq!(v["accessToken"]["accountId"], w.user.account_id.as_str());
    assert!(!w.path(".aws/credentials").exists(), "no long-term key was written anywhere");
    // The hand-offs: env, credential-process (for any tool: the AWS CLI here), status.
    let env = w.awsmfa().args(["env", "--profile", "dev", "--format", "dotenv"]).assert().success();
    let vars = common::parse_vars(&String::from_utf8_lossy(&env.get_output().stdout));
    assert!(vars["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    std::fs::write(
        w.path(".aws/config"),
        format!(
            "{config}\n[profile tf]\ncredential_process = {} credential-process --profile dev\nregion = us-east-1\n",
            bin.display()
        ),
    )
    .unwrap();
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--profile", "tf", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(caller_arn(&out.stdout), w.user.arn, "the AWS CLI v1 signs as the signed-in user");
    w.awsmfa().args(["status", "--profile", "dev"]).assert().success().stdout(
        predicate::str::contains(format!("console session {}", w.user.arn))
            .and(predicate::str::contains("renewable:    until")),
    );
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 1);
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0, "a valid session is used as it is");
}

#[test]
fn a_person_signs_in_in_a_real_browser_and_comes_back_to_awsmfa() {
    let w = dev_world(&[]);
    let mut cmd = w.awsmfa();
    browser_env(&w, &mut cmd, true);
    // Debian's chromium, headless, through its chromedriver (scripts/ensure-tools installs both).
    cmd.env("SIGNIN_BROWSER", "chromium");
    cmd.args(["login", "--console", "--profile", "dev"]).assert().success();
    // awsmfa is done once the code is in; the browser then shows awsmfa's page (awsmfa waits
    // for it to be sent) and the person's script says what it saw.
    let log = w.path("browser.log");
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    common::wait_until(Said(|| format!("the browser to show a page: {}", read_log())), PATIENCE, || {
        says(&log, "chromium shows")
    });
    let log = read_log();
    assert!(log.contains("chromium shows: Signed in. You can close this window"), "{log}");
    assert_eq!(credential_vars(&w, "dev")["AWS_ACCESS_KEY_ID"][..4], *"ASIA");
}

#[test]
fn an_mfa_sign_in_passes_verify_and_one_without_mfa_is_denied_ec2() {
    let w = dev_world(&["--policy", "deny-ec2-unless-mfa"]);
    sign_in(&w, true).success();
    w.awsmfa()
        .args(["verify", "--profile", "dev", "--image-id", "ami-12c6146b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("skipped").and(predicate::str::contains("allowed with MFA")));
    let w = dev_world(&["--no-mfa", "--policy", "deny-ec2-unless-mfa"]);
    sign_in(&w, false).success();
    w.awsmfa().args(["verify", "--profile", "dev", "--image-id", "ami-12c6146b"]).assert().code(5);
}

/// `n` `awsmfa credential-process --profile PROFILE` run at once (with `env` added): the
/// access key id each was handed, once all have succeeded.
pub(crate) fn parallel_callers(w: &World, n: usize, profile: &str, env: &[(&str, &str)]) -> Vec<String> {
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let children: Vec<_> = (0..n)
        .map(|_| {
            w.command(bin.to_str().unwrap())
                .envs(env.iter().copied())
                .args(["credential-process", "--profile", profile])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            v["AccessKeyId"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn credentials_near_their_end_are_renewed_once_for_any_number_of_callers() {
    let w = dev_world(&[]);
    // Credentials of 6 minutes: within awsmfa's 5-minute margin after one minute. The hook
    // makes the next ones last 2 minutes, inside the margin at once.
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, true).success();
    let first = std::fs::read_to_string(session_file(&w)).unwrap();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let keys = parallel_callers(&w, 6, "dev", &[]);
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "one renewal for six callers");
    assert!(keys.windows(2).all(|k| k[0] == k[1]), "all six got the renewed credentials: {keys:?}");
    let renewed = std::fs::read_to_string(session_file(&w)).unwrap();
    assert_ne!(renewed, first);
    let v: serde_json::Value = serde_json::from_str(&renewed).unwrap();
    let old: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_ne!(v["refreshToken"], old["refreshToken"], "the new refresh token is kept");
    assert_eq!(v["dpopKey"], old["dpopKey"], "the session's key stays");
    assert_eq!(v["idToken"], old["idToken"]);
}

#[test]
fn a_session_past_its_twelve_hours_says_to_sign_in_again() {
    let w = dev_world(&[]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=60&refresh=0", w.user.name));
    sign_in(&w, true).success();
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(5).stderr(
        predicate::str::contains("has ended").and(predicate::str::contains("awsmfa login --console --profile dev")),
    );
}

#[test]
fn a_role_assumed_with_a_console_session_needs_no_keys_and_no_code() {
    let w = world(&[]);
    let (role_arn, _) = common::role(&[&w.user.arn], &["--no-mfa"]);
    w.config(&format!(
        "[profile dev]\nregion = us-east-1\n\n[profile ops]\nrole_arn = {role_arn}\nsource_profile = dev\nregion = us-east-1\n"
    ));
    sign_in(&w, true).success();
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--output", "json"])
        .envs(credential_vars(&w, "ops"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(caller_arn(&out.stdout).contains(":assumed-role/"), "the role's session");
    assert_eq!(common::assume_role_calls(&role_arn), 1);
}

/// `awsmfa env --profile NAME` as variables.
fn credential_vars(w: &World, profile: &str) -> std::collections::BTreeMap<String, String> {
    let out = w.awsmfa().args(["env", "--profile", profile, "--format", "dotenv"]).assert().success();
    common::parse_vars(&String::from_utf8_lossy(&out.get_output().stdout))
}

#[test]
fn a_remote_sign_in_takes_the_code_the_browser_shows_typed_at_the_terminal() {
    let w = world(&[]);
    w.config("[profile dev]\noutput = json\n");
    let tee = w.path("terminal.log");
    let code = w.path("code");
    let mut run = w
        .command(common::python())
        .arg(common::repo().join("tests/support/pty_answer.py"))
        .args(["Enter the authorization code displayed in your browser: ", &format!("@wait:{}", code.display()), "--"])
        .arg(assert_cmd::cargo::cargo_bin("awsmfa"))
        .args(["login", "--console", "--remote", "--profile", "dev"])
        .env("AWSMFA_PTY_TEE", &tee)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The person opens the printed URL on "another device" and copies the code it shows.
    let url = wait_for_url(&tee, &mut run);
    let status = Command::new(common::python())
        .arg(common::repo().join("tests/support/browser.py"))
        .arg(&url)
        .env("SIGNIN_USER", &w.user.name)
        .env("SIGNIN_PASSWORD", PASSWORD)
        .env("SIGNIN_SEED", &w.user.seed)
        .env("SIGNIN_CODE_OUT", &code)
        .status()
        .unwrap();
    assert!(status.success());
    let out = run.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains(&format!("signed in as {}", w.user.arn)), "{screen}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    assert_eq!(v["clientId"], "arn:aws:signin:::devtools/cross-device");
    assert_eq!(
        std::fs::read_to_string(w.path(".aws/config")).unwrap(),
        format!("[profile dev]\noutput = json\nlogin_session = {}\nregion = us-east-1\n", w.user.arn),
        "a profile with no region gets one (the session needs it), and keeps every other line"
    );
}

/// The authorize URL a sign-in (awsmfa's or the AWS CLI's) prints to `tee`, once it has.
pub(crate) fn wait_for_url(tee: &Path, child: &mut std::process::Child) -> String {
    let said = || std::fs::read_to_string(tee).unwrap_or_default();
    common::wait_for(Said(|| format!("the sign-in's URL: {}", said())), PATIENCE, || {
        let text = said();
        if let Some(at) = text.find("/v1/authorize?") {
            let start = text[..at].rfind("http").unwrap();
            let end = text[at..].find(|c: char| c.is_whitespace()).map(|e| at + e).unwrap_or(text.len());
            return Some(text[start..end].to_string());
        }
        assert!(child.try_wait().unwrap().is_none(), "the sign-in ended before printing its URL: {text}");
        None
    })
}

#[test]
fn a_profile_with_keys_is_not_taken_over_and_logout_deletes_the_session() {
    let w = world(&[]);
    w.credentials("");
    w.config("[default]\nregion = us-east-1\n\n[profile dev]\nregion = us-east-1\n");
    let mut cmd = w.awsmfa();
    browser_env(&w, &mut cmd, true);
    cmd.args(["login", "--console"]).assert().code(3).stderr(predicate::str::contains("long-term keys"));
    sign_in(&w, true).success();
    let file = session_file(&w);
    w.awsmfa().args(["logout", "--profile", "dev"]).assert().success().stderr(predicate::str::contains("signed out"));
    assert!(!file.exists(), "the session's refresh token is gone with its file");
    w.awsmfa()
        .args(["env", "--profile", "dev"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("awsmfa login --console --profile dev"));
    w.awsmfa().args(["status", "--profile", "dev"]).assert().success().stdout(
        predicate::str::contains("session:      none (sign in: `awsmfa login --console --profile dev`)")
            .and(predicate::str::contains("renews it").not()),
    );
}

/// GetCallerIdentity of the AWS CLI v1 (botocore's own `login_session` reader, with awscrt)
/// under `profile`; the ARN.
fn aws_cli_v1_caller(w: &World, profile: &str) -> String {
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["sts", "get-caller-identity", "--profile", profile, "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    caller_arn(&out.stdout)
}

/// The JavaScript SDK v3's default chain (fromIni: @aws-sdk/credential-provider-login) on
/// `profile`: GetCallerIdentity's answer, `{"arn": ...}`.
fn js_sdk_caller(w: &World, profile: &str) -> serde_json::Value {
    let out = w
        .command("node")
        .arg(common::repo().join("tests/support/sts.js"))
        .arg("--default-chain")
        .env("AWS_PROFILE", profile)
        .env("NODE_PATH", common::node_modules())
        .env("NODE_NO_WARNINGS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_sdks_that_read_login_sessions_share_awsmfas_and_awsmfa_reads_what_they_renewed() {
    // The JavaScript SDK v3's default chain (fromIni: @aws-sdk/credential-provider-login) and
    // botocore (the AWS CLI v1 here) read the session awsmfa wrote, as it is.
    let w = dev_world(&[]);
    sign_in(&w, true).success();
    let v = js_sdk_caller(&w, "dev");
    assert_eq!(v["arn"], w.user.arn.as_str(), "the JavaScript SDK signs as the signed-in user");
    assert_eq!(aws_cli_v1_caller(&w, "dev"), w.user.arn);
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0);

    // Credentials near their end: botocore renews them and rewrites the file its way; awsmfa
    // then uses botocore's credentials and refresh token, with no renewal of its own.
    let w = dev_world(&[]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, true).success();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let before = std::fs::read_to_string(session_file(&w)).unwrap();
    assert_eq!(aws_cli_v1_caller(&w, "dev"), w.user.arn);
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "botocore renewed the session");
    let renewed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    let old: serde_json::Value = serde_json::from_str(&before).unwrap();
    assert_ne!(renewed["refreshToken"], old["refreshToken"]);
    let vars = credential_vars(&w, "dev");
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], renewed["accessToken"]["accessKeyId"].as_str().unwrap());
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "awsmfa used botocore's renewal");
    // And the next renewal, awsmfa's, takes botocore's refresh token.
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    let mut text = std::fs::read_to_string(session_file(&w)).unwrap();
    let expires = renewed["accessToken"]["expiresAt"].as_str().unwrap();
    text = text.replace(expires, "2000-01-01T00:00:00Z");
    std::fs::write(session_file(&w), text).unwrap();
    credential_vars(&w, "dev");
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 2, "awsmfa renewed with botocore's token");
}

/// The lock that serialises the renewals of the session in `file`.
fn renewal_lock(file: &Path) -> PathBuf {
    file.with_file_name(format!(".{}.awsmfa-lock", file.file_name().unwrap().to_string_lossy()))
}

#[test]
fn logout_during_a_renewal_leaves_no_session_behind() {
    // A renewal in flight (another awsmfa holding the lock, its new refresh token on its way
    // to the file) must not bring the session back after `logout` said it was signed out.
    let w = dev_world(&[]);
    sign_in(&w, true).success();
    let file = session_file(&w);
    let renewed = std::fs::read_to_string(&file).unwrap();
    let mut holder = common::hold_lock(&w, &renewal_lock(&file));
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let err = w.path("logout.err");
    let said = || std::fs::read_to_string(&err).unwrap();
    let mut logout = w
        .command(bin.to_str().unwrap())
        .args(["logout", "--profile", "dev"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    // logout says when it waits for the lock: the renewal is then in flight for it.
    common::wait_until("logout to wait for the renewal's lock", PATIENCE, || {
        assert!(logout.try_wait().unwrap().is_none(), "logout did not wait for the renewal: {}", said());
        says(&err, "waiting for a renewal of the console sign-in session to finish")
    });
    // The renewal ends: it writes the session it renewed, then lets go of the lock.
    std::fs::write(&file, &renewed).unwrap();
    holder.release();
    let status = logout.wait().unwrap();
    assert!(status.success(), "{}", said());
    assert!(!file.exists(), "logout said signed out, yet the session's file (its refresh token) is back");
}

#[test]
fn a_new_sign_in_is_not_overwritten_by_a_renewal_of_the_old_session_in_flight() {
    // No MFA device: the same device code is not taken twice in one window.
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let file = session_file(&w);
    let old = std::fs::read_to_string(&file).unwrap();
    // Another awsmfa renews the old session (the lock held) while the person signs in again.
    let mut holder = common::hold_lock(&w, &renewal_lock(&file));
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let mut cmd = w.command(bin.to_str().unwrap());
    cmd.env("BROWSER", format!("{} {}", common::python(), common::repo().join("tests/support/browser.py").display()))
        .env("SIGNIN_USER", &w.user.name)
        .env("SIGNIN_PASSWORD", PASSWORD)
        .args(["login", "--console", "--profile", "dev"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(w.path("login.err")).unwrap());
    let mut login = cmd.spawn().unwrap();
    let err = w.path("login.err");
    let said = || std::fs::read_to_string(&err).unwrap();
    common::wait_until(Said(|| format!("the second sign-in to exchange its code: {}", said())), PATIENCE, || {
        assert!(login.try_wait().unwrap().is_none(), "{}", said());
        token_calls(&w.user.arn, "authorization_code") >= 2
    });
    // The sign-in says when it waits for the lock to write its session.
    common::wait_until("the sign-in to wait for the renewal's lock", PATIENCE, || {
        assert!(login.try_wait().unwrap().is_none(), "the sign-in did not wait for the renewal: {}", said());
        says(&err, "waiting for a renewal of the previous session to finish")
    });
    // The renewal of the old session ends: it writes what it renewed, and lets go.
    std::fs::write(&file, &old).unwrap();
    holder.release();
    let status = login.wait().unwrap();
    assert!(status.success(), "{}", std::fs::read_to_string(w.path("login.err")).unwrap());
    let now: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let old: serde_json::Value = serde_json::from_str(&old).unwrap();
    assert_ne!(now["refreshToken"], old["refreshToken"], "the sign-in just made is the session kept");
    assert_ne!(now["dpopKey"], old["dpopKey"]);
}

#[test]
fn a_cache_directory_others_can_write_to_is_refused_before_the_browser_opens() {
    let w = dev_world(&[]);
    let dir = w.path(".aws/login/cache");
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    sign_in(&w, true).code(3).stderr(predicate::str::contains("others can write to it"));
    assert!(!w.path("browser.log").exists(), "the person was sent to sign in for nothing");
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 0);
}

#[test]
fn a_code_that_expired_before_its_exchange_says_the_command_for_this_profile() {
    let w = dev_world(&[]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&code=0", w.user.name));
    // As pasted, the hint must sign in this profile again, not the default one.
    sign_in(&w, true).code(5).stderr(
        predicate::str::contains("the sign-in's code expired")
            .and(predicate::str::contains("`awsmfa login --console --profile dev`")),
    );
    assert!(
        !w.path(".aws/login/cache")
            .read_dir()
            .unwrap()
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "json"))
    );
}

#[test]
fn a_session_file_caught_mid_write_by_a_tool_that_writes_in_place_is_read_once_whole() {
    // The JavaScript SDK renews a session by writing its file in place (writeFile: truncated,
    // then written): a reader at that moment sees half a file, which is no reason to fail.
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let file = session_file(&w);
    let half = w.path("half-written");
    // The writer writes the rest once a reader has read the half (inotify's IN_CLOSE_NOWRITE
    // on the file), not after a guessed time: awsmfa is sure to find the file half written.
    let script = "import ctypes, os, select, sys\n\
        data = open(sys.argv[1]).read()\n\
        libc = ctypes.CDLL(None, use_errno=True)\n\
        watch = libc.inotify_init()\n\
        f = open(sys.argv[1], 'w')\n\
        f.write(data[:len(data) // 2]); f.flush()\n\
        assert libc.inotify_add_watch(watch, sys.argv[1].encode(), 0x10) >= 0\n\
        open(sys.argv[2], 'w').close()\n\
        read = select.select([watch], [], [], 60)[0]\n\
        f.write(data[len(data) // 2:]); f.close()\n\
        sys.exit(0 if read else 3)\n";
    let mut writer = w.command(common::python()).args(["-c", script]).arg(&file).arg(&half).spawn().unwrap();
    common::wait_until("the session file to be half written", PATIENCE, || half.exists());
    let out = w.awsmfa().args(["env", "--profile", "dev", "--format", "dotenv"]).output().unwrap();
    assert!(writer.wait().unwrap().success(), "awsmfa never read the half-written file");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("AWS_ACCESS_KEY_ID=ASIA"));
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0, "the session was valid all along");
}

#[test]
fn a_session_file_that_is_not_one_is_said_to_be_unusable_not_missing() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    std::fs::write(session_file(&w), "{\"accessToken\": ").unwrap();
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(3).stderr(
        predicate::str::contains("not a console sign-in session")
            .and(predicate::str::contains("on this machine").not())
            .and(predicate::str::contains("awsmfa login --console --profile dev")),
    );
}

#[test]
fn a_session_whose_time_is_written_another_way_is_renewed_not_refused() {
    // botocore (dateutil) and the JavaScript SDK (Date) read times the RFC 3339 parser does
    // not: a file with one is still a session, renewable, and is renewed rather than lost.
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let file = session_file(&w);
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    v["accessToken"]["expiresAt"] = "2030-01-01 00:00:00".into();
    std::fs::write(&file, v.to_string()).unwrap();
    w.awsmfa()
        .args(["status", "--profile", "dev"])
        .assert()
        .success()
        .stdout(predicate::str::contains("unusable").not());
    assert_eq!(credential_vars(&w, "dev")["AWS_ACCESS_KEY_ID"][..4], *"ASIA");
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "renewed, as its end could not be read");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(v["accessToken"]["expiresAt"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn logout_of_a_session_other_profiles_use_says_they_are_signed_out_too() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    w.config(&format!(
        "{config}\n[profile ci]\nlogin_session = {}\nregion = us-east-1\n\n[profile other]\nregion = us-east-1\n",
        w.user.arn
    ));
    w.awsmfa().args(["logout", "--profile", "dev"]).assert().success().stderr(
        predicate::str::contains("signed out of")
            .and(predicate::str::contains("'ci'"))
            .and(predicate::str::contains("'other'").not()),
    );
}

#[test]
fn a_renewal_that_cannot_write_the_session_refuses_before_spending_its_refresh_token() {
    // Each refresh token is good once: a renewal made but not written loses the session.
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, false).success();
    let dir = w.path(".aws/login/cache");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775)).unwrap();
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(3).stderr(predicate::str::contains("others can write"));
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 0, "no refresh token was spent on a file it cannot write");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(credential_vars(&w, "dev")["AWS_ACCESS_KEY_ID"][..4], *"ASIA");
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1);
}

/// AWS Sign-In behind a proxy that, when awsmfa's refresh arrives, first lets `other` (a
/// command line: another tool sharing the session) renew it, then forwards awsmfa's.
const RACING_PROXY: &str = r#"
import http.server, json, os, subprocess, sys, urllib.request
upstream, other, ready = sys.argv[1], sys.argv[2:], os.environ["PROXY_READY"]
raced = []
class Proxy(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"refresh_token" in body and not raced:
            raced.append(subprocess.run(other, capture_output=True).returncode)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
        req = urllib.request.Request(upstream + self.path, data=body, headers=headers, method="POST")
        try:
            answer = urllib.request.urlopen(req)
        except urllib.error.HTTPError as e:
            answer = e
        data = answer.read()
        self.send_response(answer.status if hasattr(answer, "status") else answer.code)
        for k, v in answer.headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Proxy)
open(ready + ".tmp", "w").write("http://127.0.0.1:%d" % server.server_port)
os.rename(ready + ".tmp", ready)
server.serve_forever()
"#;

#[test]
fn a_renewal_refused_because_another_tool_just_renewed_uses_that_tools_renewal() {
    // botocore and the JavaScript SDK take no lock: one may spend the refresh token (good
    // once) just before awsmfa does. AWS then refuses awsmfa's; the session is not over.
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, false).success();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let ready = w.path("proxy-url");
    let proxy = w
        .command(common::python())
        .args(["-c", RACING_PROXY, common::endpoint(), &common::venv_bin("aws")])
        .args(["sts", "get-caller-identity", "--profile", "dev", "--output", "json"])
        .env("PROXY_READY", &ready)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _proxy = common::Killed(proxy);
    common::wait_until("the proxy to listen", PATIENCE, || ready.exists());
    let url = std::fs::read_to_string(&ready).unwrap();
    let out = w
        .awsmfa()
        .args(["env", "--profile", "dev", "--format", "dotenv"])
        .env("AWS_ENDPOINT_URL_SIGNIN", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "botocore's renewal, awsmfa's refused");
    let vars = common::parse_vars(&String::from_utf8_lossy(&out.stdout));
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], file["accessToken"]["accessKeyId"].as_str().unwrap());
}

#[test]
fn status_of_a_session_past_its_renewals_says_to_sign_in_again_not_that_it_renews() {
    use base64::Engine;
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let file = session_file(&w);
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    // Signed in 13 hours ago, its last credentials long gone.
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<String> = v["idToken"].as_str().unwrap().split('.').map(str::to_string).collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    claims["iat"] = (now - 13 * 3600).into();
    v["idToken"] = format!("{}.{}.{}", parts[0], b64.encode(claims.to_string()), parts[2]).into();
    v["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&file, v.to_string()).unwrap();
    w.awsmfa().args(["status", "--profile", "dev"]).assert().success().stdout(
        predicate::str::contains("no longer")
            .and(predicate::str::contains("renews it when it is used").not())
            .and(predicate::str::contains("sign in again")),
    );
}

#[test]
fn a_directory_in_place_of_the_sessions_file_is_refused_before_the_browser_opens() {
    let w = world(&[]);
    w.config(&format!("[profile dev]\nregion = us-east-1\nlogin_session = {}\n", w.user.arn));
    let dir = w.path(".aws/login/cache");
    std::fs::create_dir_all(&dir).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    use sha2::Digest;
    let name: String = sha2::Sha256::digest(w.user.arn.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir(dir.join(format!("{name}.json"))).unwrap();
    sign_in(&w, true).code(3).stderr(predicate::str::contains("a directory"));
    assert!(!w.path("browser.log").exists(), "the person was sent to sign in for a session that cannot be kept");
    assert_eq!(token_calls(&w.user.arn, "authorization_code"), 0);
}

#[test]
fn a_session_whose_key_is_not_one_says_which_file_and_to_sign_in_again() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let file = session_file(&w);
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    v["dpopKey"] = "-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n".into();
    v["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&file, v.to_string()).unwrap();
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(3).stderr(
        predicate::str::contains("dpopKey")
            .and(predicate::str::contains(file.display().to_string()))
            .and(predicate::str::contains("hint: sign in again"))
            .and(predicate::str::contains("awsmfa login --console --profile dev")),
    );
    // doctor says so too, not that the next use renews it.
    w.awsmfa()
        .args(["doctor", "--profile", "dev"])
        .assert()
        .code(8)
        .stdout(predicate::str::contains("dpopKey").and(predicate::str::contains("next use renews").not()));
}

#[test]
fn a_renewal_a_policy_denies_says_so_in_one_sentence_and_what_to_change() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=60", w.user.name));
    sign_in(&w, false).success();
    let put = w
        .command(&common::venv_bin("aws"))
        .args(["iam", "put-user-policy", "--user-name", &w.user.name, "--policy-name", "no-signin"])
        .args([
            "--policy-document",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"signin:*","Resource":"*"}]}"#,
        ])
        .env("AWS_ACCESS_KEY_ID", &w.user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &w.user.secret_access_key)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(put.status.success(), "{}", String::from_utf8_lossy(&put.stderr));
    w.awsmfa().args(["env", "--profile", "dev"]).assert().code(5).stderr(
        predicate::str::contains(format!("this identity ({}) may not use console sign-in sessions", w.user.arn))
            .and(predicate::str::contains("allowed of").not())
            .and(predicate::str::contains("denies signin:*")),
    );
}

#[test]
fn a_sign_in_nobody_finishes_ends_at_its_timeout_for_either_flow() {
    let w = dev_world(&[]);
    // Same device, no browser opened, nobody comes back: exit 7, the wait named.
    w.awsmfa_without_terminal()
        .args(["login", "--console", "--no-browser", "--timeout", "2s", "--profile", "dev"])
        .assert()
        .code(7)
        .stderr(
            predicate::str::contains("no answer from the browser within 2s").and(predicate::str::contains("--timeout")),
        );
    // Cross device, no terminal, and a standard input left open with nothing written (a
    // pipe of a job that never answers): it ends too, instead of waiting forever.
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let mut child = w
        .command("setsid")
        .arg("--wait")
        .arg(&bin)
        .args(["login", "--console", "--remote", "--timeout", "2s", "--profile", "dev"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _open_stdin = child.stdin.take();
    let mut stderr = child.stderr.take().unwrap();
    let mut child = common::Killed(child);
    let status = common::wait_for("--remote with an open, silent stdin to end at its --timeout", PATIENCE, || {
        child.0.try_wait().unwrap()
    });
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
    assert_eq!(status.code(), Some(7), "{err}");
    assert!(err.contains("no code pasted within 2s"), "{err}");
    assert!(!w.path(".aws/login/cache").read_dir().is_ok_and(|mut d| d.next().is_some()), "no session was made");
    w.awsmfa()
        .args(["login", "--console", "--timeout", "2h", "--profile", "dev"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--timeout"));
}

#[test]
fn a_session_file_others_can_read_is_refused_in_one_plain_sentence() {
    let w = dev_world(&["--no-mfa", "--policy", "none"]);
    sign_in(&w, false).success();
    let file = session_file(&w);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = w.awsmfa().args(["env", "--profile", "dev"]).assert().code(3);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let error_line = err.lines().find(|l| l.starts_with("error:")).unwrap_or_else(|| panic!("{err}"));
    assert_eq!(error_line.matches(&file.display().to_string()).count(), 1, "{err}");
    assert_eq!(error_line.matches("console sign-in session").count(), 1, "{err}");
    assert!(err.contains("awsmfa login --console --profile dev"), "{err}");
}

#[test]
fn the_javascript_sdk_renews_a_session_awsmfa_made_with_its_key_and_awsmfa_uses_that_renewal() {
    // Credentials of 2 minutes: inside the JavaScript SDK's 5-minute margin. It renews them
    // with the DPoP key awsmfa generated (the emulator checks each proof against the session's
    // key) and writes the file its way; awsmfa then hands out the SDK's credentials.
    let w = dev_world(&[]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, true).success();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let before: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    let v = js_sdk_caller(&w, "dev");
    assert_eq!(v["arn"], w.user.arn.as_str());
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "the JavaScript SDK renewed the session");
    let renewed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    assert_ne!(renewed["refreshToken"], before["refreshToken"]);
    assert_eq!(renewed["dpopKey"], before["dpopKey"], "with awsmfa's key");
    let vars = credential_vars(&w, "dev");
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], renewed["accessToken"]["accessKeyId"].as_str().unwrap());
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "awsmfa used the SDK's renewal");
}

#[test]
fn aws_config_reads_and_renews_a_session_awsmfa_made_and_awsmfa_uses_that_renewal() {
    // The AWS SDK for Rust's default chain (aws-config with credentials-login, as any Rust
    // program builds it: examples/sdk_caller.rs) on a `login_session` profile awsmfa signed in.
    // Credentials of 2 minutes are inside its 5-minute margin: it renews them with awsmfa's key.
    let w = dev_world(&[]);
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=120", w.user.name));
    sign_in(&w, true).success();
    common::hook("POST", &format!("/_awsmfa/signin-lifetimes?user={}&access=900", w.user.name));
    let before: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    let out = w.command(crate::server::rust_sdk_caller().to_str().unwrap()).env("AWS_PROFILE", "dev").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["arn"], w.user.arn.as_str(), "aws-config signs as the signed-in user");
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "aws-config renewed the session");
    let renewed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(session_file(&w)).unwrap()).unwrap();
    assert_ne!(renewed["refreshToken"], before["refreshToken"]);
    assert_eq!(renewed["dpopKey"], before["dpopKey"], "with awsmfa's key");
    let vars = credential_vars(&w, "dev");
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], renewed["accessToken"]["accessKeyId"].as_str().unwrap());
    assert_eq!(token_calls(&w.user.arn, "refresh_token"), 1, "awsmfa used aws-config's renewal");
}
