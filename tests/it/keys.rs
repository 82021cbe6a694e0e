//! `awsmfa keys`: the keystore (a real Secret Service daemon, and the age file), import
//! that keeps every other byte, the cached path that never opens the keystore, and
//! rotation, end to end and killed at each step.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use awsmfa::credentials::Secret;
use awsmfa::keystore::{Backend, Keystore, Options};
use common::*;
use predicates::prelude::*;

const PASS: &str = "correct horse battery staple";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// `awsmfa` in this world, with the file keystore's passphrase.
fn awsmfa(w: &World) -> assert_cmd::Command {
    let mut cmd = w.awsmfa();
    cmd.env("AWSMFA_KEYSTORE_PASSPHRASE", PASS);
    cmd
}

/// The world's keys in `[work]` of the credentials file, around other bytes that must stay.
const BEFORE: &str =
    "# my keys\r\n[other]\r\nregion = eu-west-1\r\n\r\n[work]\r\n; the work account\r\nregion = us-east-1\r\n";
const AFTER: &str = "output = json\r\n\r\n[zeta]\r\nx = 1\r\n";

fn work_credentials(w: &World) -> PathBuf {
    let path = w.path(".aws/credentials");
    let keys = format!(
        "aws_access_key_id = {}\r\naws_secret_access_key = {}\r\n",
        w.user.access_key_id, w.user.secret_access_key
    );
    std::fs::write(&path, format!("{BEFORE}{keys}{AFTER}")).unwrap();
    w.config(&format!("[profile work]\nmfa_serial = {}\n", w.user.serial));
    path
}

/// A world whose [work] keys were imported into the file keystore.
fn imported(w: &World) {
    work_credentials(w);
    awsmfa(w).args(["keys", "import", "work", "--keystore", "file"]).assert().success();
}

/// How the tests reach this world's file keystore.
fn keystore_options(w: &World) -> Options {
    Options {
        file: Some(w.path(".aws/awsmfa-keys.age")),
        passphrase: Some(Secret::new(PASS)),
        lock_timeout: Duration::from_secs(30),
    }
}

/// The key the file keystore holds for `profile`, read with the library (a real decrypt).
fn stored(w: &World, profile: &str) -> Option<(String, String)> {
    let options = keystore_options(w);
    Keystore::new(Backend::File, &options)
        .get(profile)
        .unwrap()
        .map(|k| (k.access_key_id.clone(), k.secret().expose().to_string()))
}

/// Whether AWS (the emulator) accepts these long-term keys.
fn works(id: &str, secret: &str) -> bool {
    Command::new(python())
        .arg(repo().join("tests/emulator/fixture.py"))
        .args(["whoami", "--endpoint", endpoint()])
        .env("AWSMFA_TEST_KEY_ID", id)
        .env("AWSMFA_TEST_SECRET", secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// The user's access key ids in IAM (`create`: first make one more, returned as (id, secret)).
fn iam_keys(user: &str) -> Vec<String> {
    let out = Command::new(python())
        .arg(repo().join("tests/emulator/fixture.py"))
        .args(["access-keys", "--endpoint", endpoint(), user])
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn extra_key(user: &str) -> (String, String) {
    let out = Command::new(python())
        .arg(repo().join("tests/emulator/fixture.py"))
        .args(["access-keys", "--endpoint", endpoint(), user, "--create"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["access_key_id"].as_str().unwrap().into(), v["secret_access_key"].as_str().unwrap().into())
}

/// Every file under `dir` (bytes), for "the secret is nowhere on disk".
pub(crate) fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file()
                && std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn import_moves_the_keys_out_of_plain_text_and_keeps_every_other_byte() {
    let w = World::new();
    let path = work_credentials(&w);
    let backup = w.path("backup-credentials");
    awsmfa(&w)
        .args(["keys", "import", "work", "--keystore", "file", "--backup"])
        .arg(&backup)
        .assert()
        .success()
        .stderr(predicate::str::contains("moved key").and(predicate::str::contains(&w.user.arn)));
    assert_eq!(read(&path), format!("{BEFORE}{AFTER}"), "only the two key lines are gone, CRLF kept");
    let config = read(&w.path(".aws/config"));
    assert!(config.contains("awsmfa_keystore = file\n"), "{config}");
    assert!(config.contains(&format!("awsmfa_key_id = {}\n", w.user.access_key_id)), "{config}");
    assert!(config.contains(" credential-process --profile work\n"), "{config}");
    assert_eq!(stored(&w, "work"), Some((w.user.access_key_id.clone(), w.user.secret_access_key.clone())));
    // The backup, asked for, is private; then the secret is nowhere else on disk.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::remove_file(&backup).unwrap();
    assert_eq!(files_holding(w.home.path(), &w.user.secret_access_key), Vec::<PathBuf>::new());
    // A login works from the keystore, and the AWS CLI's way in (credential_process) too.
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
    let out = awsmfa(&w).args(["credential-process", "--profile", "work"]).assert().success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert!(json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    awsmfa(&w)
        .args(["keys", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("work").and(predicate::str::contains(" ok")));
    // Importing again finds nothing left to move.
    awsmfa(&w)
        .args(["keys", "import", "work"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already in the file keystore"));
}

#[test]
fn an_import_killed_halfway_is_finished_by_running_it_again() {
    let w = World::new();
    let path = work_credentials(&w);
    // Stored and the profile pointed at the keystore, the plaintext lines still there: what
    // a kill between the last two steps leaves.
    let options = keystore_options(&w);
    let key = awsmfa::keystore::StoredKey::new(
        &w.user.access_key_id,
        &Secret::new(w.user.secret_access_key.clone()),
        time::OffsetDateTime::now_utc(),
    );
    Keystore::new(Backend::File, &options).put("work", &key).unwrap();
    w.config(&format!(
        "[profile work]\nmfa_serial = {}\nawsmfa_keystore = file\nawsmfa_key_id = {}\n",
        w.user.serial, w.user.access_key_id
    ));
    awsmfa(&w)
        .args(["login", "--profile", "work", "--code", &w.code(0)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("awsmfa keys import work"));
    awsmfa(&w).args(["keys", "import", "work"]).assert().success();
    assert_eq!(read(&path), format!("{BEFORE}{AFTER}"));
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
}

#[test]
fn the_cached_path_never_opens_the_keystore() {
    let w = World::new();
    imported(&w);
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
    let keystore = w.path(".aws/awsmfa-keys.age");
    let sealed = std::fs::read(&keystore).unwrap();
    // No passphrase, a wrong one, or no keystore at all: the cached session is served.
    std::fs::remove_file(&keystore).unwrap();
    for pass in [None, Some("wrong")] {
        let mut cmd = w.awsmfa();
        if let Some(p) = pass {
            cmd.env("AWSMFA_KEYSTORE_PASSPHRASE", p);
        }
        cmd.args(["credential-process", "--profile", "work"]).assert().success();
        w.awsmfa().args(["env", "--profile", "work"]).assert().success();
    }
    // A new login needs the secret: now the keystore's absence is the error, said clearly.
    w.awsmfa()
        .args(["login", "--profile", "work", "--force", "--code", &w.code(0)])
        .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("has no entry for profile 'work'").and(predicate::str::contains("keys add work")),
        );
    std::fs::write(&keystore, sealed).unwrap();
}

#[test]
fn a_wrong_passphrase_a_damaged_file_or_a_link_is_a_clear_error_and_nothing_is_replaced() {
    let w = World::new();
    imported(&w);
    let keystore = w.path(".aws/awsmfa-keys.age");
    let sealed = std::fs::read(&keystore).unwrap();
    let login = |pass: Option<&str>| {
        let mut cmd = w.awsmfa();
        cmd.args(["login", "--profile", "work", "--force", "--code", "123456"]);
        if let Some(p) = pass {
            cmd.env("AWSMFA_KEYSTORE_PASSPHRASE", p);
        }
        cmd.assert().code(3)
    };
    login(Some("wrong")).stderr(predicate::str::contains("AWSMFA_KEYSTORE_PASSPHRASE does not open the file keystore"));
    login(None).stderr(
        predicate::str::contains("needs its passphrase").and(predicate::str::contains("AWSMFA_KEYSTORE_PASSPHRASE")),
    );
    assert_eq!(std::fs::read(&keystore).unwrap(), sealed, "a failed open changes nothing");
    let mut damaged = sealed.clone();
    let at = damaged.len() - 5;
    damaged[at] ^= 0x55;
    std::fs::write(&keystore, &damaged).unwrap();
    login(Some(PASS)).stderr(predicate::str::contains("is damaged"));
    std::fs::write(&keystore, b"not an age file at all\n").unwrap();
    login(Some(PASS)).stderr(predicate::str::contains("is damaged"));
    // A link (to a copy of the real file) is refused, and adding a key does not write through it.
    let elsewhere = w.path("elsewhere.age");
    std::fs::write(&elsewhere, &sealed).unwrap();
    std::fs::remove_file(&keystore).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &keystore).unwrap();
    login(Some(PASS)).stderr(predicate::str::contains("symlink"));
    assert_eq!(std::fs::read(&elsewhere).unwrap(), sealed);
    // Group-readable: refused, never "fixed" by replacing it.
    std::fs::remove_file(&keystore).unwrap();
    std::fs::write(&keystore, &sealed).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keystore, std::fs::Permissions::from_mode(0o640)).unwrap();
    login(Some(PASS)).stderr(predicate::str::contains("readable by group or others"));
    assert_eq!(std::fs::read(&keystore).unwrap(), sealed);
}

#[test]
fn parallel_adds_to_the_file_keystore_lose_no_entry() {
    let users: Vec<User> = (0..4).map(|_| fixture(&[])).collect();
    let w = World::new();
    w.config("");
    let children: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut child = w
                .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
                .args(["keys", "add", &format!("p{i}"), "--keystore", "file"])
                .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
                .stdin(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            writeln!(stdin, "{}\n{}", u.access_key_id, u.secret_access_key).unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for (i, u) in users.iter().enumerate() {
        assert_eq!(stored(&w, &format!("p{i}")), Some((u.access_key_id.clone(), u.secret_access_key.clone())));
    }
    let config = read(&w.path(".aws/config"));
    assert_eq!(config.matches("awsmfa_keystore = file").count(), 4, "{config}");
}

#[test]
fn add_reads_two_lines_or_the_consoles_csv_and_stores_nothing_unproven() {
    let w = World::new();
    w.config("");
    let csv = format!("Access key ID,Secret access key\n{},{}\n", w.user.access_key_id, w.user.secret_access_key);
    awsmfa(&w).args(["keys", "add", "csv", "--keystore", "file"]).write_stdin(csv).assert().success();
    assert_eq!(stored(&w, "csv").unwrap().0, w.user.access_key_id);
    let keystore = w.path(".aws/awsmfa-keys.age");
    let sealed = std::fs::read(&keystore).unwrap();
    for (input, why) in [
        ("not-a-key\nsecret\n".to_string(), "not an access key id"),
        (format!("{}\n", w.user.access_key_id), "no access key id and secret"),
        (format!("{}\nwith space\n", w.user.access_key_id), "not a secret access key"),
        (format!("{}\nwrongsecret\n", w.user.access_key_id), "nothing was stored"),
    ] {
        awsmfa(&w)
            .args(["keys", "add", "bad", "--keystore", "file"])
            .write_stdin(input)
            .assert()
            .failure()
            .stderr(predicate::str::contains(why));
    }
    assert_eq!(std::fs::read(&keystore).unwrap(), sealed, "nothing stored for the bad ones");
    assert!(!read(&w.path(".aws/config")).contains("[profile bad]"));
    // A profile that has keys in plain text is imported, not added over.
    work_credentials(&w);
    awsmfa(&w)
        .args(["keys", "add", "work"])
        .write_stdin(format!("{}\n{}\n", w.user.access_key_id, w.user.secret_access_key))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("awsmfa keys import work"));
    // A bad AWSMFA_KEYSTORE is said before anything happens.
    w.awsmfa()
        .env("AWSMFA_KEYSTORE", "vault")
        .args(["keys", "list"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("AWSMFA_KEYSTORE"));
}

#[test]
fn remove_restores_the_keys_or_asks_first() {
    let w = World::new();
    imported(&w);
    w.awsmfa_without_terminal()
        .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
        .args(["keys", "remove", "work"])
        .write_stdin("yes\n")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("needs a confirmation").and(predicate::str::contains("--restore")));
    assert!(stored(&w, "work").is_some(), "nothing deleted without an answer");
    awsmfa(&w).args(["keys", "remove", "work", "--restore"]).assert().success();
    let credentials = read(&w.path(".aws/credentials"));
    assert!(credentials.contains(&format!("aws_secret_access_key = {}", w.user.secret_access_key)));
    let keys = format!(
        "aws_access_key_id = {}\r\naws_secret_access_key = {}\r\n",
        w.user.access_key_id, w.user.secret_access_key
    );
    assert_eq!(credentials.replace(&keys, ""), format!("{BEFORE}{AFTER}"), "the keys back, every other byte as it was");
    let config = read(&w.path(".aws/config"));
    assert!(!config.contains("awsmfa_") && !config.contains("credential_process"), "{config}");
    assert_eq!(stored(&w, "work"), None);
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
}

/// A private D-Bus session with gnome-keyring's Secret Service, unlocked with a test
/// password, for this test binary (it ends when the binary does). Its bus address.
pub(crate) fn secret_service() -> &'static str {
    static BUS: OnceLock<String> = OnceLock::new();
    static DAEMON: std::sync::Mutex<Option<std::process::Child>> = std::sync::Mutex::new(None);
    BUS.get_or_init(|| {
        let home = tempfile::tempdir().unwrap().keep();
        let script = "printf %s test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || exit 1
             echo \"$DBUS_SESSION_BUS_ADDRESS\"
             cat >/dev/null";
        // Its standard input is a pipe from this binary: at its end (this binary's exit) the
        // session ends, with no watcher polling for it.
        let mut child = Command::new("dbus-run-session")
            .args(["--", "sh", "-c", script])
            .env("HOME", &home)
            .stdin(Stdio::piped())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-run-session (Debian: dbus-daemon) and gnome-keyring are needed: scripts/ensure-tools installs them");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("unix:"), "gnome-keyring-daemon did not start (got {line:?})");
        // Kept (never waited on, its stdin open): it ends by itself when this test binary exits.
        *DAEMON.lock().unwrap() = Some(child);
        line.trim().to_string()
    })
}

#[test]
fn the_os_keychain_holds_keys_through_a_real_secret_service() {
    let w = World::new();
    let bus = secret_service();
    let path = work_credentials(&w);
    let run = |args: &[&str]| {
        let mut cmd = w.awsmfa();
        cmd.env("DBUS_SESSION_BUS_ADDRESS", bus).args(args);
        cmd
    };
    // With a session bus, the keychain is the default.
    let profile = format!("kc-{}", w.user.name);
    std::fs::write(&path, read(&path).replace("[work]", &format!("[{profile}]"))).unwrap();
    w.config(&format!("[profile {profile}]\nmfa_serial = {}\n", w.user.serial));
    run(&["keys", "import", &profile]).assert().success().stderr(predicate::str::contains("Secret Service"));
    assert_eq!(read(&path), format!("{BEFORE}{AFTER}").replace("[work]", &format!("[{profile}]")));
    assert!(read(&w.path(".aws/config")).contains("awsmfa_keystore = keychain"));
    assert_eq!(files_holding(w.home.path(), &w.user.secret_access_key), Vec::<PathBuf>::new());
    run(&["keys", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&profile).and(predicate::str::contains("keychain")));
    run(&["login", "--profile", &profile, "--code", &w.code(0)]).assert().success();
    // Without the bus the cached session is still served; a new login says what is wrong.
    w.awsmfa().args(["credential-process", "--profile", &profile]).assert().success();
    w.awsmfa()
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args(["login", "--profile", &profile, "--force", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("no keychain service answers")
                .and(predicate::str::contains("AWSMFA_KEYSTORE=file")),
        );
    run(&["keys", "rotate", &profile, "--code", &w.code(0)]).assert().success();
    let ids = iam_keys(&w.user.name);
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], w.user.access_key_id);
    run(&["keys", "remove", &profile, "--yes"]).assert().success();
    run(&["keys", "list"]).assert().success().stdout(predicate::str::contains(&profile).not());
    // Last (the keychain stays locked): a locked keychain is said, not waited on.
    let other = fixture(&[]);
    let second = format!("kc-{}", other.name);
    run(&["keys", "add", &second])
        .write_stdin(format!("{}\n{}\n", other.access_key_id, other.secret_access_key))
        .assert()
        .success();
    let lock = Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .output()
        .unwrap();
    assert!(lock.status.success(), "{}", String::from_utf8_lossy(&lock.stderr));
    run(&["login", "--profile", &second, "--force", "--code", "123456"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("it is locked").and(predicate::str::contains("unlock it")));
}

#[test]
fn rotate_replaces_a_key_in_the_credentials_file_byte_exactly() {
    let w = World::new();
    let path = work_credentials(&w);
    awsmfa(&w).args(["keys", "rotate", "work", "--code", &w.code(0)]).assert().success().stderr(
        predicate::str::contains("rotated profile 'work'")
            .and(predicate::str::contains(format!("old key …{}", &w.user.access_key_id[16..]))),
    );
    let ids = iam_keys(&w.user.name);
    assert_eq!(ids.len(), 1, "{ids:?}");
    let new = &ids[0];
    assert_ne!(new, &w.user.access_key_id);
    let text = read(&path);
    assert!(text.starts_with(BEFORE) && text.ends_with(AFTER), "every other byte kept:\n{text}");
    assert!(text.contains(&format!("aws_access_key_id = {new}\r\n")), "{text}");
    let secret = text.split("aws_secret_access_key = ").nth(1).unwrap().split("\r\n").next().unwrap();
    assert!(works(new, secret));
    assert!(!works(&w.user.access_key_id, &w.user.secret_access_key), "the old key is deleted");
    assert_eq!(w.cache_files("rotate"), Vec::<PathBuf>::new(), "no journal left");
}

#[test]
fn rotate_refuses_a_third_key_and_names_the_two() {
    let w = World::new();
    imported(&w);
    let (other, _) = extra_key(&w.user.name);
    awsmfa(&w)
        .args(["keys", "rotate", "work", "--code", &w.code(0)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already has two access keys").and(predicate::str::contains(&other)));
    assert_eq!(iam_keys(&w.user.name).len(), 2);
    assert_eq!(w.cache_files("rotate"), Vec::<PathBuf>::new(), "nothing begun");
}

#[test]
fn rotate_waits_while_iam_does_not_know_the_new_key_yet() {
    let w = World::new();
    imported(&w);
    // Long enough that even a loaded machine proves the key before IAM knows it (at 3 s, a
    // busy run's first proof came late and found the key known already).
    hook("POST", &format!("/_awsmfa/key-delay?user={}&seconds=10", w.user.name));
    awsmfa(&w)
        .args(["keys", "rotate", "work", "-v", "--code", &w.code(0)])
        .assert()
        .success()
        .stderr(predicate::str::contains("not accepted yet"));
    // A wait too short for IAM: the old key stays, and a rerun finishes.
    hook("POST", &format!("/_awsmfa/key-delay?user={}&seconds=30", w.user.name));
    let before = stored(&w, "work").unwrap();
    awsmfa(&w)
        .args(["keys", "rotate", "work", "--wait", "1s"])
        .assert()
        .code(6)
        .stderr(predicate::str::contains("does not accept the new key").and(predicate::str::contains("again later")));
    assert_eq!(stored(&w, "work").unwrap(), before, "the old key is still the profile's");
    assert!(works(&before.0, &before.1));
    hook("POST", &format!("/_awsmfa/key-delay?user={}&seconds=0", w.user.name));
    // Keys made under the delay keep their own start time: the rerun waits for the one of
    // this run (its --wait), and is run again should it still come too early.
    let started = Instant::now();
    loop {
        let out = awsmfa(&w).args(["keys", "rotate", "work", "--wait", "40s"]).output().unwrap();
        if out.status.success() {
            assert!(String::from_utf8_lossy(&out.stderr).contains("finished the interrupted rotation"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(iam_keys(&w.user.name).len(), 1);
    let (id, secret) = stored(&w, "work").unwrap();
    assert!(works(&id, &secret));
}

/// The steps a rotation can be killed at: an emulator hold on (call, before/after, skip).
const KILL_POINTS: &[(&str, &str, u32)] = &[
    ("ListAccessKeys", "before", 0),    // nothing done yet
    ("CreateAccessKey", "before", 0),   // journal written, no key
    ("CreateAccessKey", "after", 0),    // a key in IAM whose secret nobody has
    ("GetCallerIdentity", "before", 1), // the new key stored beside the old, being proven
    ("DeleteAccessKey", "before", 0),   // swapped, the old key not yet deleted
    ("DeleteAccessKey", "after", 0),    // deleted, the journal not yet removed
];

/// The profile's key as it is kept (keystore, or the credentials file).
fn profile_key(w: &World, in_keystore: bool) -> (String, String) {
    if in_keystore {
        return stored(w, "work").unwrap();
    }
    let text = read(&w.path(".aws/credentials"));
    let value = |k: &str| text.split(&format!("{k} = ")).nth(1).unwrap().split("\r\n").next().unwrap().to_string();
    (value("aws_access_key_id"), value("aws_secret_access_key"))
}

/// Rotation killed (SIGKILL) while the emulator holds the call of kill point `i`: a working
/// key remains where the profile keeps it, IAM holds at most two keys, and a rerun (with
/// no new MFA code) finishes with one. Keys in the credentials file for even points, in the
/// file keystore for odd ones.
fn killed_at(i: usize) {
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let (action, when, skip) = KILL_POINTS[i];
    {
        let w = World::new();
        let in_keystore = i % 2 == 1;
        if in_keystore {
            imported(&w);
        } else {
            work_credentials(&w);
        }
        awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
        // Held until released: the kill comes while it is held, however loaded the machine.
        hook(
            "POST",
            &format!("/_awsmfa/hold?user={}&action={action}&when={when}&skip={skip}&seconds=600", w.user.name),
        );
        let mut child = w
            .command(bin.to_str().unwrap())
            .args(["keys", "rotate", "work"])
            .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_hold(&w.user.name, action, &mut child);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        finish_held(&w.user.name, action); // the held call completes (or not) in IAM
        let ids = iam_keys(&w.user.name);
        assert!(ids.len() <= 2, "at most two keys after a kill at {action} ({when}): {ids:?}");
        let (id, secret) = profile_key(&w, in_keystore);
        assert!(works(&id, &secret), "the profile's key works after a kill at {action} ({when})");
        awsmfa(&w).args(["keys", "rotate", "work"]).assert().success();
        let ids = iam_keys(&w.user.name);
        assert_eq!(ids.len(), 1, "one key after the rerun ({action}, {when}): {ids:?}");
        let (id, secret) = profile_key(&w, in_keystore);
        assert_eq!(ids[0], id);
        assert!(works(&id, &secret));
        assert_ne!(id, w.user.access_key_id, "rotated ({action}, {when})");
        assert_eq!(w.cache_files("rotate"), Vec::<PathBuf>::new());
        if in_keystore {
            let options = keystore_options(&w);
            assert!(Keystore::new(Backend::File, &options).get("work#rotating").unwrap().is_none());
        }
    }
}

#[test]
fn rotate_killed_before_listing_keys() {
    killed_at(0);
}

#[test]
fn rotate_killed_before_creating_the_key() {
    killed_at(1);
}

#[test]
fn rotate_killed_after_creating_the_key_before_storing_it() {
    killed_at(2);
}

#[test]
fn rotate_killed_while_proving_the_new_key() {
    killed_at(3);
}

#[test]
fn rotate_killed_before_deleting_the_old_key() {
    killed_at(4);
}

#[test]
fn rotate_killed_after_deleting_the_old_key() {
    killed_at(5);
}

#[test]
fn rotate_finds_the_keys_in_the_long_term_profile_as_login_does() {
    let w = World::new();
    let path = w.keys_in("work-long-term");
    w.config(&format!("[profile work]\nmfa_serial = {}\n", w.user.serial));
    awsmfa(&w).args(["keys", "import", "work"]).env("AWSMFA_KEYSTORE", "file").assert().success();
    assert_eq!(read(&path), "[work-long-term]\n", "both lines moved out, the rest kept");
    assert!(stored(&w, "work-long-term").is_some());
    awsmfa(&w).args(["keys", "rotate", "work", "--code", &w.code(0)]).assert().success();
    let ids = iam_keys(&w.user.name);
    assert_eq!(ids.len(), 1);
    let (id, secret) = stored(&w, "work-long-term").unwrap();
    assert_eq!(ids[0], id, "the new key is where login reads it");
    assert!(works(&id, &secret));
    assert_eq!(stored(&w, "work"), None, "nothing stored under another name");
    awsmfa(&w).args(["logout", "--all"]).assert().success();
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(1)]).assert().success();
}

#[test]
fn a_rerun_never_deletes_a_key_the_user_made_after_a_failed_create() {
    let w = World::new();
    work_credentials(&w);
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
    // What a run whose CreateAccessKey failed an hour ago leaves; then the user makes a key.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let journal = serde_json::json!({
        "profile": "work", "old_key_id": w.user.access_key_id, "started": now - 3600, "step": "creating",
        "before": [w.user.access_key_id], "attempt": now - 3600, "new_key_id": null, "new_secret": null,
    });
    let path = w.path(".aws/awsmfa/rotate-work.json");
    std::fs::write(&path, journal.to_string()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (mine, _) = extra_key(&w.user.name);
    awsmfa(&w)
        .args(["keys", "rotate", "work"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already has two access keys").and(predicate::str::contains(&mine)));
    assert!(iam_keys(&w.user.name).contains(&mine), "the user's key survives");
}

#[test]
fn a_swap_killed_between_the_keystore_and_the_profile_is_repaired_by_a_rerun() {
    let w = World::new();
    imported(&w);
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
    hook("POST", &format!("/_awsmfa/hold?user={}&action=DeleteAccessKey&when=before&seconds=600", w.user.name));
    let mut child = w
        .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .args(["keys", "rotate", "work"])
        .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_hold(&w.user.name, "DeleteAccessKey", &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    finish_held(&w.user.name, "DeleteAccessKey");
    // As if killed after the keystore took the new key but before the profile named it.
    let config = w.path(".aws/config");
    let new_id = stored(&w, "work").unwrap().0;
    std::fs::write(&config, read(&config).replace(&new_id, &w.user.access_key_id)).unwrap();
    awsmfa(&w)
        .args(["login", "--profile", "work", "--force", "--code", "123456"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("keys rotate work"));
    awsmfa(&w).args(["keys", "rotate", "work"]).assert().success();
    assert!(read(&config).contains(&format!("awsmfa_key_id = {new_id}")));
    assert_eq!(iam_keys(&w.user.name), vec![new_id.clone()]);
}

#[test]
fn backup_never_overwrites_a_file() {
    let w = World::new();
    let path = work_credentials(&w);
    let before = read(&path);
    let backup = w.path("keep");
    std::fs::write(&backup, "keep\n").unwrap();
    awsmfa(&w)
        .args(["keys", "import", "work", "--keystore", "file", "--backup"])
        .arg(&backup)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(read(&backup), "keep\n");
    assert_eq!(read(&path), before, "nothing moved");
    assert_eq!(stored(&w, "work"), None);
}

// ---- attacks on the keys: nothing lost ----------------------------------------------------

#[test]
fn two_rotations_of_one_profile_take_turns_whatever_their_cache_dirs_and_lose_no_key() {
    let w = World::new();
    work_credentials(&w);
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    hook("POST", &format!("/_awsmfa/hold?user={}&action=DeleteAccessKey&when=before&seconds=120", w.user.name));
    let mut first =
        w.command(bin.to_str().unwrap()).args(["keys", "rotate", "work"]).stderr(Stdio::null()).spawn().unwrap();
    wait_for_hold(&w.user.name, "DeleteAccessKey", &mut first);
    // The first has swapped in its new key and is about to delete the old one. A second run
    // with a cache directory of its own must wait for it, then rotate the key it left.
    let other_cache = w.path("other-cache");
    std::fs::create_dir(&other_cache).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&other_cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut second = w
        .command(bin.to_str().unwrap())
        .args(["keys", "rotate", "work", "--code", &w.code(1)])
        .env("AWSMFA_CACHE_DIR", &other_cache)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    let mut lines = BufReader::new(second.stderr.take().unwrap());
    while !said.contains("is running; waiting") {
        let mut line = String::new();
        assert_ne!(lines.read_line(&mut line).unwrap(), 0, "the second rotation did not wait: {said}");
        said.push_str(&line);
    }
    release(&w.user.name, "DeleteAccessKey");
    assert!(first.wait().unwrap().success(), "the first rotation finishes");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).unwrap();
    assert!(second.wait().unwrap().success(), "the second rotation finishes: {said}{rest}");
    let ids = iam_keys(&w.user.name);
    assert_eq!(ids.len(), 1, "no new key thrown away: {ids:?}");
    let (id, secret) = profile_key(&w, false);
    assert_eq!(ids[0], id);
    assert!(works(&id, &secret));
}

#[test]
fn a_journal_that_says_swapped_while_the_profile_still_uses_the_old_key_deletes_nothing() {
    let w = World::new();
    work_credentials(&w);
    awsmfa(&w).args(["login", "--profile", "work", "--code", &w.code(0)]).assert().success();
    let (other, _) = extra_key(&w.user.name);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let journal = serde_json::json!({
        "profile": "work", "old_key_id": w.user.access_key_id, "started": now, "step": "swapped",
        "before": [w.user.access_key_id], "attempt": now, "new_key_id": other, "new_secret": null,
    });
    let path = w.path(".aws/awsmfa/rotate-work.json");
    std::fs::write(&path, journal.to_string()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    awsmfa(&w)
        .args(["keys", "rotate", "work"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("nothing deleted").and(predicate::str::contains("mv ")));
    assert!(works(&w.user.access_key_id, &w.user.secret_access_key), "the profile's key survives");
    assert!(iam_keys(&w.user.name).contains(&w.user.access_key_id));
    assert!(path.exists(), "the journal stays for the user to look at");
}

#[test]
fn restore_never_overwrites_other_keys_in_the_section() {
    let w = World::new();
    imported(&w);
    let path = w.path(".aws/credentials");
    let theirs = read(&path).replace(
        "region = us-east-1\r\n",
        "region = us-east-1\r\naws_access_key_id = AKIA_OTHER_PROFILE_01\r\naws_secret_access_key = only-copy\r\n",
    );
    std::fs::write(&path, &theirs).unwrap();
    awsmfa(&w)
        .args(["keys", "remove", "work", "--restore"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("already holds other keys").and(predicate::str::contains("…E_01")));
    assert_eq!(read(&path), theirs, "not a byte changed");
    assert!(stored(&w, "work").is_some(), "the keystore entry stays");
    assert!(read(&w.path(".aws/config")).contains("awsmfa_keystore"), "the profile still reaches it");
}

#[test]
fn import_of_a_section_with_two_key_pairs_moves_nothing() {
    let w = World::new();
    let path = w.path(".aws/credentials");
    let text = format!(
        "[work]\naws_access_key_id = AKIA_OTHER_PROFILE_01\naws_secret_access_key = never-stored\n\
         aws_access_key_id = {}\naws_secret_access_key = {}\n",
        w.user.access_key_id, w.user.secret_access_key
    );
    std::fs::write(&path, &text).unwrap();
    w.config(&format!("[profile work]\nmfa_serial = {}\n", w.user.serial));
    awsmfa(&w)
        .args(["keys", "import", "work", "--keystore", "file"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("sets aws_access_key_id 2 times"));
    assert_eq!(read(&path), text, "not a byte changed");
    assert_eq!(stored(&w, "work"), None);
}

#[test]
fn import_edits_the_section_the_sdk_read_however_its_header_is_spelled() {
    for (header, profile) in [
        ("[profile  work]", "work"),
        ("[profile\twork]", "work"),
        ("[ profile work ]", "work"),
        ("[profile default]", "default"),
    ] {
        let w = World::new();
        let config = w.config(&format!(
            "[default]\nregion = eu-west-1\n\n{header}\nmfa_serial = {}\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            w.user.serial, w.user.access_key_id, w.user.secret_access_key
        ));
        awsmfa(&w)
            .args(["keys", "import", profile, "--keystore", "file"])
            .assert()
            .success()
            .stderr(predicate::str::contains("moved key"));
        let text = read(&config);
        assert!(!text.contains(&w.user.secret_access_key), "{header}: the secret left the file:\n{text}");
        assert!(text.contains(&format!("{header}\nmfa_serial")), "{header}: the header stays as written:\n{text}");
        assert_eq!(stored(&w, profile).unwrap().0, w.user.access_key_id, "{header}");
        awsmfa(&w).args(["login", "--profile", profile, "--code", &w.code(0)]).assert().success();
    }
}

#[test]
fn backup_is_claimed_before_the_network_so_a_file_made_meanwhile_is_never_overwritten() {
    let w = World::new();
    work_credentials(&w);
    let backup = w.path("backup");
    hook("POST", &format!("/_awsmfa/hold?user={}&action=GetCallerIdentity&when=before&seconds=120", w.user.name));
    let mut child = w
        .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .args(["keys", "import", "work", "--keystore", "file", "--backup"])
        .arg(&backup)
        .env("AWSMFA_KEYSTORE_PASSPHRASE", PASS)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_hold(&w.user.name, "GetCallerIdentity", &mut child);
    let meta = std::fs::symlink_metadata(&backup).expect("the backup exists before the call");
    use std::os::unix::fs::PermissionsExt;
    assert!(meta.is_file() && meta.len() == 0 && meta.permissions().mode() & 0o777 == 0o600);
    let planted = std::fs::OpenOptions::new().write(true).create_new(true).open(&backup);
    assert_eq!(planted.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists, "nobody else can make it now");
    release(&w.user.name, "GetCallerIdentity");
    assert!(child.wait().unwrap().success());
    assert!(read(&backup).contains(&w.user.secret_access_key), "the backup holds the keys");
}

#[test]
fn a_failed_import_takes_back_the_empty_backup_it_claimed() {
    let w = World::new();
    let path = w.path(".aws/credentials");
    std::fs::write(&path, "[work]\naws_access_key_id = AKIA_OTHER_PROFILE_01\naws_secret_access_key = wrong\n")
        .unwrap();
    let backup = w.path("backup");
    awsmfa(&w).args(["keys", "import", "work", "--keystore", "file", "--backup"]).arg(&backup).assert().failure();
    assert!(!backup.exists(), "no empty file left behind");
}
