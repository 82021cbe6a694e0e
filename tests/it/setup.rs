//! From no MFA to proven MFA: `enroll`, `policy --apply` and `doctor`, end to end against
//! the emulator (and, for clock skew, an emulator of the test's own with its clock shifted).

use crate::common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

use common::*;
use predicates::prelude::*;
use serde_json::Value;

const IMAGE: &str = "ami-12c6146b";

fn fixture_json(args: &[&str]) -> Value {
    let out = Command::new(python()).arg(repo().join("tests/emulator/fixture.py")).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn virtual_devices(endpoint: &str) -> Vec<String> {
    serde_json::from_value(fixture_json(&["virtual-devices", "--endpoint", endpoint])).unwrap()
}

fn user_policies(user: &str) -> Value {
    fixture_json(&["user-policies", "--endpoint", endpoint(), user])
}

/// Long-term keys of `user` in [work] of the credentials file, no config.
fn keys_for(w: &World, user: &User) {
    std::fs::write(
        w.path(".aws/credentials"),
        format!(
            "[work]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
}

/// `awsmfa enroll --profile work --seed-out seed` with its standard input a pipe (no terminal).
fn spawn_enroll(w: &World, endpoint: &str, extra: &[&str]) -> Child {
    w.command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .env("AWS_ENDPOINT_URL", endpoint)
        .args(["enroll", "--profile", "work", "--seed-out"])
        .arg(w.path("seed"))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The seed, once enroll has written it.
fn seed_of(w: &World, child: &mut Child) -> String {
    wait_for("enroll to write the seed", PATIENCE, || {
        if let Ok(seed) = std::fs::read_to_string(w.path("seed"))
            && seed.ends_with('\n')
        {
            return Some(seed.trim().to_string());
        }
        assert!(child.try_wait().unwrap().is_none(), "enroll ended before writing the seed");
        None
    })
}

/// Whether `pid` has no `signal` pending any more (or is gone): the kernel handed it over.
fn signal_taken(pid: u32, signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return true };
    let bit = 1u64 << (signal - 1);
    let pending = |field: &str| {
        status.lines().find_map(|l| l.strip_prefix(field)).map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
    };
    [pending("SigPnd:"), pending("ShdPnd:")].iter().all(|p| p.is_none_or(|p| p & bit == 0))
}

/// Types two codes into enroll and waits for it.
fn answer(mut child: Child, first: &str, second: &str) -> std::process::Output {
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{first}\n{second}").unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// Decodes a QR code drawn in half blocks (light modules drawn) with zxing-cpp.
fn decode_terminal_qr(text: &str) -> String {
    let script = r#"
import sys, zxingcpp
from PIL import Image
rows = []
for line in sys.stdin.read().splitlines():
    top = [255 if c in "\u2588\u2580" else 0 for c in line]
    bottom = [255 if c in "\u2588\u2584" else 0 for c in line]
    rows += [top, bottom]
width = max(len(r) for r in rows)
img = Image.new("L", (width * 8, len(rows) * 8), 255)
for y, row in enumerate(rows):
    for x, v in enumerate(row):
        if v == 0:
            img.paste(0, (x * 8, y * 8, x * 8 + 8, y * 8 + 8))
found = zxingcpp.read_barcodes(img)
print(found[0].text if found else "")
"#;
    let mut child =
        Command::new(python()).args(["-c", script]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim().to_string()
}

#[test]
fn enroll_end_to_end_then_login_with_a_code_of_the_new_device() {
    let w = World::with_fixture(&["--no-mfa"]);
    keys_for(&w, &w.user);
    let mut child = spawn_enroll(&w, endpoint(), &["--show-secret"]);
    let seed = seed_of(&w, &mut child);
    let out = answer(child, &totp(&seed, -1), &totp(&seed, 0));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    assert!(stderr.contains(&format!("enabled MFA device {serial}")), "{stderr}");
    assert!(stderr.contains("holds the device's seed"), "the warning about --seed-out: {stderr}");
    assert_eq!(std::fs::metadata(w.path("seed")).unwrap().permissions().mode() & 0o777, 0o600);
    // The QR code on stdout is the one an app needs: the seed, under AWS's label.
    let qr: String = stdout.lines().filter(|l| l.contains('█')).collect::<Vec<_>>().join("\n");
    assert_eq!(
        decode_terminal_qr(&qr),
        format!(
            "otpauth://totp/Amazon%20Web%20Services:{}@{}?secret={seed}&issuer=Amazon%20Web%20Services",
            w.user.name, w.user.account_id
        )
    );
    let grouped: Vec<String> = seed.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    assert!(stdout.contains(&grouped.join(" ")), "the key for manual entry");
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    assert_eq!(config, format!("[profile work]\nmfa_serial = {serial}\n"));
    // The device works: a login with a code from the seed (the next window: both above are spent).
    w.awsmfa().args(["login", "--profile", "work", "--code", &totp(&seed, 1)]).assert().success();
    // A second enroll names the device the user has.
    w.awsmfa()
        .args(["enroll", "--profile", "work", "--show-secret"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!("already has the MFA device {serial}")));
}

#[test]
fn two_codes_of_one_window_are_refused_here_and_the_device_is_deleted() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    let mut child = spawn_enroll(&w, endpoint(), &[]);
    let seed = seed_of(&w, &mut child);
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    assert!(virtual_devices(endpoint()).contains(&serial));
    let out = answer(child, &totp(&seed, 0), &totp(&seed, 0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("same 30-second window") && stderr.contains(" s)"), "{stderr}");
    assert!(stderr.contains(&format!("deleted the unused virtual MFA device {serial}")), "{stderr}");
    assert!(!virtual_devices(endpoint()).contains(&serial), "no orphan device in IAM");
    assert!(!w.path(".aws/config").exists(), "no mfa_serial written");
    // A code of another device: refused before AWS sees it, the device deleted again.
    std::fs::remove_file(w.path("seed")).unwrap();
    let mut child = spawn_enroll(&w, endpoint(), &[]);
    seed_of(&w, &mut child);
    let out = answer(child, "123456", "654321");
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a code of the new device"));
    assert!(!virtual_devices(endpoint()).contains(&serial));
}

#[test]
fn enroll_interrupted_deletes_the_device() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    let mut child = spawn_enroll(&w, endpoint(), &[]);
    seed_of(&w, &mut child);
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    assert!(virtual_devices(endpoint()).contains(&serial));
    let stdin = child.stdin.take(); // open until the end: the interrupt, not an end of input, stops it
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!virtual_devices(endpoint()).contains(&serial), "Ctrl-C leaves no orphan device: {stderr}");
    assert!(stderr.contains("deleted the unused virtual MFA device"), "{stderr}");
}

#[test]
fn a_failed_enable_deletes_the_device_or_names_it_when_the_policy_forbids_that() {
    // AWS (an emulator whose clock is 90 s ahead) refuses codes this machine thinks right.
    let own = OwnEmulator::start();
    own.hook("POST", "/_awsmfa/clock?offset=90");
    for (policy, deleted) in [("none", true), ("deny-unless-mfa", false)] {
        let user = fixture_at(&own.url, &["--no-mfa", "--policy", policy]);
        let w = World::new();
        keys_for(&w, &user);
        let _ = std::fs::remove_file(w.path("seed"));
        let mut child = spawn_enroll(&w, &own.url, &[]);
        let seed = seed_of(&w, &mut child);
        let out = answer(child, &totp(&seed, -1), &totp(&seed, 0));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("AWS refused the two codes") && stderr.contains("awsmfa doctor"), "{stderr}");
        let serial = format!("arn:aws:iam::{}:mfa/{}", user.account_id, user.name);
        assert_eq!(!virtual_devices(&own.url).contains(&serial), deleted, "{policy}: {stderr}");
        if !deleted {
            assert!(
                stderr.contains(&format!("aws iam delete-virtual-mfa-device --serial-number {serial}")),
                "{stderr}"
            );
        }
    }
}

#[test]
fn enroll_shows_the_seed_only_where_asked_and_checks_first() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    w.awsmfa()
        .args(["enroll", "--profile", "work"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("shown nowhere").and(predicate::str::contains("--seed-out")));
    w.awsmfa().args(["enroll", "--profile", "work", "--seed-out", "/nonexistent-dir/seed"]).assert().code(3);
    assert!(!virtual_devices(endpoint()).contains(&serial), "nothing created");
}

#[test]
fn policy_apply_then_verify_passes_and_dry_run_changes_nothing() {
    let w = World::with_fixture(&["--policy", "none"]);
    w.standard_profile();
    w.awsmfa().args(["verify", "--image-id", IMAGE, "--code", &w.code(0)]).assert().code(10);
    let out = w.awsmfa().args(["policy", "--apply", "--user", &w.user.name, "--dry-run"]).assert().success();
    let plan = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        plan.starts_with(&format!("iam:PutUserPolicy UserName={} PolicyName=awsmfa-require-mfa", w.user.name)),
        "{plan}"
    );
    assert!(plan.contains("BoolIfExists"));
    assert_eq!(user_policies(&w.user.name), serde_json::json!({}), "--dry-run changes nothing");
    w.awsmfa()
        .args(["policy", "--apply", "--user", &w.user.name, "--image-id", IMAGE, "--code", &w.code(0)])
        .assert()
        .success()
        .stderr(predicate::str::contains("pre-test").and(predicate::str::contains("MFA is enforced and working")));
    assert!(user_policies(&w.user.name)["awsmfa-require-mfa"].is_object());
    w.awsmfa().args(["verify", "--image-id", IMAGE]).assert().success(); // the session cached above
    // Another document under that name: the difference shown, replaced only when asked.
    w.awsmfa().args(["policy", "--apply", "--user", &w.user.name, "--scope", "ec2"]).assert().code(3).stderr(
        predicate::str::contains("- ").and(predicate::str::contains("+ ")).and(predicate::str::contains("--replace")),
    );
    w.awsmfa().args(["policy", "--apply", "--user", &w.user.name, "--scope", "ec2", "--replace"]).assert().success();
    assert_eq!(
        user_policies(&w.user.name)["awsmfa-require-mfa"]["Statement"][0]["Sid"],
        "DenyEc2LifecycleUnlessSignedInWithMFA"
    );
}

#[test]
fn policy_apply_will_not_lock_out_a_caller_without_mfa() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    w.credentials("");
    let group = format!("devs-{}", w.user.name);
    fixture_json(&["group", "--endpoint", endpoint(), &group, "--member", &w.user.name]);
    for target in [["--user", w.user.name.as_str()], ["--group", group.as_str()]] {
        w.awsmfa()
            .args(["policy", "--apply"])
            .args(target)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("refusing to apply").and(predicate::str::contains("awsmfa enroll")));
    }
    assert_eq!(user_policies(&w.user.name), serde_json::json!({}));
}

#[test]
fn policy_apply_will_not_lock_out_a_caller_named_in_other_letter_case() {
    // IAM user and group names are case-insensitive: ALICE-… is alice-….
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    w.credentials("");
    let group = format!("devs-{}", w.user.name);
    fixture_json(&["group", "--endpoint", endpoint(), &group, "--member", &w.user.name]);
    let (user, group) = (w.user.name.to_uppercase(), group.to_uppercase());
    for target in [["--user", user.as_str()], ["--group", group.as_str()]] {
        w.awsmfa()
            .args(["policy", "--apply", "--dry-run"])
            .args(target)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("refusing to apply").and(predicate::str::contains("it covers you")));
    }
    assert_eq!(user_policies(&w.user.name), serde_json::json!({}));
}

/// `doctor --json` as {check: status}, and the exit code.
fn doctor(w: &World, extra: &[&str], env: &[(&str, &str)]) -> (std::collections::BTreeMap<String, String>, i32, Value) {
    let mut cmd = w.awsmfa();
    cmd.args(["doctor", "--json"]).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    let statuses = json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap().to_string(), c["status"].as_str().unwrap().to_string()))
        .collect();
    (statuses, out.status.code().unwrap(), json)
}

fn status<'a>(s: &'a std::collections::BTreeMap<String, String>, check: &str) -> &'a str {
    s.get(check).map(String::as_str).unwrap_or("absent")
}

#[test]
fn doctor_says_ok_to_a_sound_setup() {
    let w = World::new();
    w.standard_profile();
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let mut config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    config.push_str(&format!("[profile mfa]\ncredential_process = {} credential-process\n", bin.display()));
    w.config(&config);
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let (s, code, json) = doctor(&w, &["--image-id", IMAGE], &[]);
    assert_eq!(code, 0, "{json:#}");
    for check in [
        "files",
        "profile",
        "cache",
        "session",
        "credential_process",
        "keys",
        "endpoints",
        "clock",
        "mfa-device",
        "policy",
    ] {
        assert_eq!(status(&s, check), "ok", "{check}: {json:#}");
    }
    // The table form says the same, one line a check.
    w.awsmfa()
        .args(["doctor", "--image-id", IMAGE])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok    clock").and(predicate::str::contains("ok    policy")));
}

#[test]
fn doctor_fails_each_broken_link_and_says_the_fix() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    w.credentials("");
    w.config("[default]\nregion = us-east-1\n[profile mfa]\ncredential_process = /nonexistent/awsmfa credential-process\n[profile bare]\ncredential_process = awsmfa credential-process\n");
    std::fs::create_dir_all(w.path(".aws/awsmfa")).unwrap();
    std::fs::set_permissions(w.path(".aws/awsmfa"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (s, code, json) = doctor(&w, &["--image-id", IMAGE], &[("PATH", "/usr/bin:/bin")]);
    assert_eq!(code, 8, "{json:#}");
    assert_eq!(status(&s, "cache"), "fail");
    assert_eq!(status(&s, "session"), "fail", "a cache others can write to is not read");
    assert_eq!(status(&s, "credential_process"), "fail");
    assert_eq!(status(&s, "mfa-device"), "fail", "no device");
    assert_eq!(status(&s, "policy"), "fail", "not enforced");
    assert_eq!(status(&s, "keys"), "ok");
    let text = json.to_string();
    assert!(text.contains("/nonexistent/awsmfa") && text.contains("not found on PATH"), "{json:#}");
    assert!(text.contains("awsmfa enroll") && text.contains("awsmfa policy --apply"), "{json:#}");
    // Bad keys; then no answer at all (a port nothing listens on).
    std::fs::set_permissions(w.path(".aws/awsmfa"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(
        w.path(".aws/credentials"),
        format!("[default]\naws_access_key_id = {}\naws_secret_access_key = wrong\n", w.user.access_key_id),
    )
    .unwrap();
    let (s, code, json) = doctor(&w, &[], &[]);
    assert_eq!((status(&s, "keys"), code), ("fail", 8), "{json:#}");
    assert_eq!((status(&s, "cache"), status(&s, "session")), ("ok", "warn"), "none cached: {json:#}");
    let (s, code, json) = doctor(&w, &[], &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9"), ("AWS_MAX_ATTEMPTS", "1")]);
    assert_eq!((status(&s, "endpoints"), code), ("fail", 8), "{json:#}");
    // A file the SDKs cannot read is the first finding.
    w.config("[default\nregion = us-east-1\n");
    let (s, code, json) = doctor(&w, &[], &[]);
    assert_eq!((status(&s, "files"), code), ("fail", 8), "{json:#}");
}

#[test]
fn doctor_measures_the_clock_against_aws() {
    let own = OwnEmulator::start();
    let user = fixture_at(&own.url, &[]);
    let w = World::new();
    std::fs::write(
        w.path(".aws/credentials"),
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    let env = [("AWS_ENDPOINT_URL", own.url.as_str())];
    for (offset, expected, exit) in [(0, "ok", 0), (20, "warn", 0), (45, "fail", 8), (-45, "fail", 8)] {
        own.hook("POST", &format!("/_awsmfa/clock?offset={offset}"));
        let (s, code, json) = doctor(&w, &[], &env);
        assert_eq!((status(&s, "clock"), code), (expected, exit), "offset {offset}: {json:#}");
        if expected != "ok" {
            let clock = json.as_array().unwrap().iter().find(|c| c["check"] == "clock").unwrap();
            let detail = clock["detail"].as_str().unwrap();
            assert!(detail.contains(if offset > 0 { "behind" } else { "ahead" }), "{detail}");
            assert!(clock["fix"].as_str().unwrap().contains("sync the clock"));
        }
    }
}

#[test]
fn a_fresh_user_gets_to_a_proven_policy_with_awsmfa_alone() {
    // Only long-term keys: no device, no policy. Every step after this is an awsmfa command.
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    w.credentials("");
    w.awsmfa().args(["verify", "--image-id", IMAGE]).assert().failure();
    let mut child = w
        .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .args(["enroll", "--seed-out"])
        .arg(w.path("seed"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seed = seed_of(&w, &mut child);
    let out = answer(child, &totp(&seed, -1), &totp(&seed, 0));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.awsmfa()
        .args(["policy", "--apply", "--user", &w.user.name, "--image-id", IMAGE, "--code", &totp(&seed, 1)])
        .assert()
        .success();
    w.awsmfa().args(["verify", "--image-id", IMAGE]).assert().success();
    w.awsmfa().args(["doctor", "--image-id", IMAGE]).assert().success();
}

#[test]
fn an_interrupt_while_the_device_is_being_created_leaves_no_device() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    // IAM creates the device, then its answer is held until the interrupt has come.
    hook("POST", &format!("/_awsmfa/hold?user={}&action=CreateVirtualMFADevice&when=after&seconds=600", w.user.name));
    let mut child = spawn_enroll(&w, endpoint(), &[]);
    wait_for_hold(&w.user.name, "CreateVirtualMFADevice", &mut child);
    let stdin = child.stdin.take();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let pid = child.id();
    wait_until("enroll to take the SIGINT", PATIENCE, || signal_taken(pid, libc::SIGINT));
    release(&w.user.name, "CreateVirtualMFADevice");
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    assert!(!virtual_devices(endpoint()).contains(&serial), "{stderr}");
}

#[test]
fn an_interrupt_after_iam_enabled_the_device_keeps_it_and_writes_mfa_serial() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    // IAM enables the device, then its answer is held back: Ctrl-C comes before it arrives.
    // (Held until the test lets it go, after enroll has ended.)
    hook("POST", &format!("/_awsmfa/hold?user={}&action=EnableMFADevice&when=after&seconds=600", w.user.name));
    let mut child = spawn_enroll(&w, endpoint(), &[]);
    let seed = seed_of(&w, &mut child);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}\n{}", totp(&seed, -1), totp(&seed, 0)).unwrap();
    wait_for_hold(&w.user.name, "EnableMFADevice", &mut child);
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    release(&w.user.name, "EnableMFADevice");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    assert!(stderr.contains(&format!("IAM had already enabled MFA device {serial}")), "{stderr}");
    assert!(virtual_devices(endpoint()).contains(&serial), "the enabled device is kept: {stderr}");
    let config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    assert_eq!(config, format!("[profile work]\nmfa_serial = {serial}\n"));
    // It is the user's enabled device: a login with its next code works.
    w.awsmfa().args(["login", "--profile", "work", "--code", &totp(&seed, 1)]).assert().success();
}

#[test]
fn seed_out_never_overwrites_a_file_and_policy_prints_with_aws_image_id_set() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    std::fs::write(w.path("seed"), "keep\n").unwrap();
    w.awsmfa()
        .args(["enroll", "--profile", "work", "--seed-out"])
        .arg(w.path("seed"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read_to_string(w.path("seed")).unwrap(), "keep\n");
    let serial = format!("arn:aws:iam::{}:mfa/{}", w.user.account_id, w.user.name);
    assert!(!virtual_devices(endpoint()).contains(&serial), "checked before anything is created");
    w.awsmfa()
        .env("AWS_IMAGE_ID", IMAGE)
        .arg("policy")
        .assert()
        .success()
        .stdout(predicate::str::contains("BoolIfExists"));
}

#[test]
fn doctor_asks_other_awsmfa_binaries_their_version_without_our_secrets() {
    let w = World::new();
    w.standard_profile();
    let fake = w.path("bin/awsmfa");
    std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
    let dump = w.path("fake-env");
    std::fs::write(&fake, format!("#!/bin/sh\nenv > {}\necho awsmfa 0.0.1\n", dump.display())).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut config = std::fs::read_to_string(w.path(".aws/config")).unwrap();
    config.push_str(&format!("[profile old]\ncredential_process = {} credential-process\n", fake.display()));
    w.config(&config);
    let (s, code, json) = doctor(
        &w,
        &[],
        &[
            ("AWSMFA_TOTP_SECRET", &w.user.seed),
            ("AWSMFA_KEYSTORE_PASSPHRASE", "pass-phrase"),
            ("AWS_MFA_TOKEN_CODE", "123456"),
        ],
    );
    assert_eq!((status(&s, "credential_process"), code), ("fail", 8), "{json:#}");
    assert!(json.to_string().contains("version 0.0.1"), "{json:#}");
    let env = std::fs::read_to_string(&dump).unwrap();
    for secret in [w.user.seed.as_str(), "pass-phrase", "AWS_MFA_TOKEN_CODE"] {
        assert!(!env.contains(secret), "{secret} reached the other binary");
    }
}

#[test]
fn seed_out_is_claimed_before_the_device_is_made_so_a_file_made_meanwhile_is_never_overwritten() {
    let w = World::with_fixture(&["--no-mfa", "--policy", "none"]);
    keys_for(&w, &w.user);
    hook("POST", &format!("/_awsmfa/hold?user={}&action=CreateVirtualMFADevice&when=before&seconds=120", w.user.name));
    let mut child = spawn_enroll(&w, endpoint(), &[]);
    wait_for_hold(&w.user.name, "CreateVirtualMFADevice", &mut child);
    let meta = std::fs::symlink_metadata(w.path("seed")).expect("the seed file exists before the call");
    assert!(meta.is_file() && meta.len() == 0 && meta.permissions().mode() & 0o777 == 0o600);
    let planted = std::fs::OpenOptions::new().write(true).create_new(true).open(w.path("seed"));
    assert_eq!(planted.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    release(&w.user.name, "CreateVirtualMFADevice");
    let seed = seed_of(&w, &mut child);
    let out = answer(child, &totp(&seed, -1), &totp(&seed, 0));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
