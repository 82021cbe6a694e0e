//! awsmfa attacked, as an attacker or a careless user would: one test per way the tool
//! could lose a key, write where it must not, run what it must not, trust what it did not
//! write, crash, hang, or answer with the wrong exit code. Each names the attack.

use crate::common;

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::World;
use predicates::prelude::*;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A key id in AWS's shape that is nobody's (the underscores keep it from looking real).
const OTHER_KEY_ID: &str = "AKIA_OTHER_PROFILE_01";

/// The cache files a login leaves, by prefix (`session-`, `used-codes-`).
fn cache_file(w: &World, prefix: &str) -> PathBuf {
    w.cache_files(prefix).into_iter().next().unwrap_or_else(|| panic!("no {prefix} file"))
}

// ---- data loss ---------------------------------------------------------------------------

#[test]
fn write_profile_onto_another_profiles_long_term_keys_is_refused_before_a_code_is_spent() {
    let w = World::new();
    w.config(&format!("[default]\nmfa_serial = {}\n", w.user.serial));
    let path =
        w.credentials(&format!("\n[prod]\naws_access_key_id = {OTHER_KEY_ID}\naws_secret_access_key = prodsecret\n"));
    let before = read(&path);
    w.awsmfa()
        .args(["login", "--code", &w.code(0), "--write-profile", "prod"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("it holds the long-term keys in [prod]"));
    assert_eq!(read(&path), before, "not a byte changed");
    assert_eq!(w.sts_calls(), 0, "checked before the code was sent");
}

#[test]
fn logout_never_deletes_long_term_keys() {
    let w = World::new();
    w.standard_profile();
    let path = w.path(".aws/credentials");
    let before = read(&path);
    w.awsmfa().args(["logout", "--write-profile", "default"]).assert().code(3);
    assert_eq!(read(&path), before);
}

#[test]
fn write_profile_onto_keys_kept_in_the_config_file_is_refused() {
    let w = World::new();
    w.standard_profile();
    let config = w.config(&format!(
        "[default]\nmfa_serial = {}\n\n[profile cfg]\naws_access_key_id = {OTHER_KEY_ID}\naws_secret_access_key = s\n",
        w.user.serial
    ));
    let before = read(&w.path(".aws/credentials"));
    w.awsmfa()
        .args(["login", "--code", &w.code(0), "--write-profile", "cfg"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!("[profile cfg] of {}", config.display())));
    assert_eq!(read(&w.path(".aws/credentials")), before, "the profile is not locked out");
}

#[test]
fn write_profile_keeps_the_other_settings_of_the_section() {
    let w = World::new();
    w.standard_profile();
    let path = w.credentials(
        "\n[sess]\nregion = eu-west-1\naws_access_key_id = ASIA_OLD_SESSION_01\naws_secret_access_key = old\naws_session_token = old\noutput = json\n",
    );
    w.awsmfa().args(["login", "--code", &w.code(0), "--write-profile", "sess"]).assert().success();
    let text = read(&path);
    let section = &text[text.find("[sess]").unwrap()..];
    assert!(section.contains("region = eu-west-1\n") && section.contains("output = json\n"), "{section}");
    assert!(!section.contains("= old"), "{section}");
    // And logout takes the session keys away again, leaving the settings.
    w.awsmfa().args(["logout", "--write-profile", "sess"]).assert().success();
    let text = read(&path);
    let section = &text[text.find("[sess]").unwrap()..];
    assert_eq!(section, "[sess]\nregion = eu-west-1\noutput = json\n");
}

#[test]
fn writers_with_different_cache_directories_lose_no_profile() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    // Ten writers, each with its own cache directory (a copy holding the same session).
    let dirs: Vec<PathBuf> = (0..10)
        .map(|i| {
            let dir = w.path(&format!("cache{i}"));
            let status = std::process::Command::new("cp").arg("-a").arg(w.path(".aws/awsmfa")).arg(&dir).status();
            assert!(status.unwrap().success());
            dir
        })
        .collect();
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let children: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            w.command(bin.to_str().unwrap())
                .args(["login", "--write-profile", &format!("copy{i}")])
                .env("AWSMFA_CACHE_DIR", dir)
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let text = read(&w.path(".aws/credentials"));
    for i in 0..10 {
        assert!(text.contains(&format!("[copy{i}]")), "copy{i} lost:\n{text}");
    }
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn a_rewritten_credentials_file_keeps_its_owner_and_group() {
    if !is_root() {
        eprintln!("skipped: needs root to give the file to another user");
        return;
    }
    let w = World::new();
    w.standard_profile();
    let path = w.path(".aws/credentials");
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    w.awsmfa().args(["login", "--code", &w.code(0), "--write-profile", "mfa"]).assert().success();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    assert!(read(&path).contains("[mfa]"));
}

#[test]
fn stale_temp_files_of_killed_writers_neither_block_the_next_write_nor_stay() {
    let w = World::new();
    w.standard_profile();
    // Leftovers as a killed writer of any likely pid would have left them (the old names
    // were pid-based), world-readable with a secret inside, and an hour old.
    let last_pid: u32 = read(Path::new("/proc/sys/kernel/ns_last_pid")).trim().parse().unwrap_or(1);
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    let stale: Vec<PathBuf> = (1..=1)
        .chain(last_pid..last_pid + 400)
        .map(|pid| {
            let path = w.path(&format!(".aws/.credentials.awsmfa-{pid}.tmp"));
            std::fs::write(&path, "aws_secret_access_key = leaked").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
            path
        })
        .collect();
    w.awsmfa().args(["login", "--code", &w.code(0), "--write-profile", "mfa"]).assert().success();
    assert!(read(&w.path(".aws/credentials")).contains("[mfa]"));
    assert!(stale.iter().all(|p| !p.exists()), "stale temp files are removed");
}

#[test]
fn kill_9_at_any_moment_leaves_every_file_whole() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let path = w.path(".aws/credentials");
    let before = read(&path);
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    for i in 0..40u64 {
        let mut child = w
            .command(bin.to_str().unwrap())
            .args(["login", "--write-profile", "mfa"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The point is the moment, not a sign: each kill lands 250 µs later than the last.
        std::thread::sleep(Duration::from_micros(i * 250));
        let _ = child.kill(); // SIGKILL, at a different moment each time
        let _ = child.wait();
        let now = read(&path);
        assert!(now.starts_with(&before), "the long-term keys are intact after kill {i}:\n{now}");
        let rest = &now[before.len()..];
        let keys = ["aws_access_key_id = ", "aws_secret_access_key = ", "aws_session_token = "];
        assert!(
            rest.is_empty() || keys.iter().all(|k| rest.matches(k).count() == 1),
            "[mfa] is either absent or whole after kill {i}:\n{rest}"
        );
        w.awsmfa().args(["status", "--check"]).assert().success();
    }
    // Whatever a killed writer left behind is private.
    for entry in std::fs::read_dir(w.path(".aws")).unwrap().flatten() {
        if entry.file_name().to_string_lossy().ends_with(".tmp") {
            assert_eq!(mode(&entry.path()), 0o600, "{:?}", entry.path());
        }
    }
    w.awsmfa().args(["login", "--write-profile", "mfa"]).assert().success();
    assert_eq!(w.sts_calls(), 1, "the cached session served every run");
}

#[test]
fn a_login_killed_while_holding_the_lock_does_not_block_the_next() {
    let w = World::new();
    w.credentials("");
    // A code source that never answers: it waits for its parent (awsmfa) to be gone.
    let slow_code = format!(
        "echo run >> {}; while kill -0 $PPID 2>/dev/null; do sleep 0.05; done; exit 1",
        w.path("code-runs").display()
    );
    w.config(&format!("[default]\nmfa_serial = {}\nmfa_process = {slow_code}\n", w.user.serial));
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let mut child = w.command(bin.to_str().unwrap()).arg("login").stderr(Stdio::null()).spawn().unwrap();
    // Wait until it runs the code command: it holds the session lock then.
    common::wait_until("the login to ask for a code", common::PATIENCE, || w.path("code-runs").exists());
    child.kill().unwrap();
    child.wait().unwrap();
    w.awsmfa()
        .args(["login", "--code", &w.code(1)])
        .env("AWSMFA_LOCK_TIMEOUT", "10")
        .timeout(Duration::from_secs(30))
        .assert()
        .success();
}

// ---- secrets and integrity ---------------------------------------------------------------

#[test]
fn symlinks_planted_in_the_cache_are_never_written_through() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let session = cache_file(&w, "session-");
    let used = cache_file(&w, "used-codes-");
    let victims: Vec<PathBuf> = [&session, &used]
        .iter()
        .enumerate()
        .map(|(i, planted)| {
            let victim = w.path(&format!("victim{i}"));
            std::fs::write(&victim, "precious").unwrap();
            std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::remove_file(planted).unwrap();
            symlink(&victim, planted).unwrap();
            victim
        })
        .collect();
    w.awsmfa().args(["login", "--force", "--code", &w.code(1)]).assert().success();
    for victim in &victims {
        assert_eq!(read(victim), "precious");
        assert_eq!(mode(victim), 0o644, "never chmod-ed");
    }
    assert!(std::fs::symlink_metadata(&session).unwrap().is_file(), "the link was replaced by our file");
    // A planted lock file is refused, not followed (and no code is spent on the way).
    let lock = session.with_extension("lock");
    std::fs::remove_file(&lock).ok();
    symlink(&victims[0], &lock).unwrap();
    let calls = w.sts_calls();
    w.awsmfa().args(["login", "--force", "--code", &w.code(-1)]).assert().code(3);
    assert_eq!(read(&victims[0]), "precious");
    assert_eq!(w.sts_calls(), calls);
}

#[test]
fn another_users_cache_file_is_refused_and_its_keys_never_printed() {
    if !is_root() {
        eprintln!("skipped: needs root to make a file of another user");
        return;
    }
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let session = cache_file(&w, "session-");
    std::os::unix::fs::chown(&session, Some(65534), None).unwrap();
    let out = w.awsmfa().arg("env").output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty(), "no keys printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("belongs to uid 65534"));
}

#[test]
fn save_json_never_follows_another_users_link_in_a_shared_directory_nor_writes_their_file() {
    if !is_root() {
        eprintln!("skipped: needs root to make files of another user");
        return;
    }
    let w = World::new();
    w.standard_profile();
    let shared = w.path("tmp");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    // Another user (nobody) plants a link to a file they can read, where the recipe's file goes.
    let theirs = shared.join("collected");
    std::fs::write(&theirs, "").unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let link = shared.join("aws-sts-get-session-token.json");
    symlink(&theirs, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).unwrap();
    let planted = shared.join("planted.json");
    std::fs::write(&planted, "").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
    for (path, says) in [(&link, "it is a symlink"), (&planted, "belongs to uid 65534")] {
        w.awsmfa()
            .args(["login", "--code", &w.code(0), "--save-json", path.to_str().unwrap()])
            .assert()
            .code(3)
            .stderr(predicate::str::contains(says));
    }
    assert_eq!(w.sts_calls(), 0, "refused before the code was spent");
    assert_eq!(read(&theirs), "", "nothing reached the other user's file");
    assert_eq!(read(&planted), "");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    // A file of ours that others could read is replaced by a private one.
    let ours = shared.join("ours.json");
    std::fs::write(&ours, "old").unwrap();
    std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o644)).unwrap();
    w.awsmfa().args(["login", "--code", &w.code(0), "--save-json", ours.to_str().unwrap()]).assert().success();
    assert_eq!(mode(&ours), 0o600);
    assert!(read(&ours).contains("SessionToken"));
}

#[test]
fn a_file_keystore_that_cannot_be_used_gets_a_hint_that_applies_and_never_one_that_deletes_it() {
    let w = World::new();
    w.config(&format!(
        "[default]\nmfa_serial = {}\nawsmfa_keystore = file\nawsmfa_key_id = {}\n",
        w.user.serial, w.user.access_key_id
    ));
    let keystore = w.path(".aws/awsmfa-keys.age");
    let elsewhere = w.path("my keys.age");
    std::fs::write(&elsewhere, "age-encryption.org/v1\n").unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    symlink(&elsewhere, &keystore).unwrap();
    let login = || {
        let out =
            w.awsmfa().args(["login", "--code", "123456"]).env("AWSMFA_KEYSTORE_PASSPHRASE", "pass").output().unwrap();
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = login();
    assert!(said.contains("it is a symlink"), "{said}");
    assert!(!said.contains("chmod"), "chmod would change the link's target, not the link: {said}");
    assert!(said.contains(&format!("mv '{}' {}", elsewhere.display(), keystore.display())), "{said}");
    if is_root() {
        std::fs::remove_file(&keystore).unwrap();
        std::fs::copy(&elsewhere, &keystore).unwrap();
        std::os::unix::fs::chown(&keystore, Some(65534), None).unwrap();
        let said = login();
        assert!(said.contains("belongs to uid 65534"), "{said}");
        assert!(!said.contains("rm "), "the keystore may be the only copy of the keys: {said}");
        assert!(said.contains("do not delete it"), "{said}");
    }
    assert_eq!(w.sts_calls(), 0);
}

#[test]
fn a_policy_name_iam_would_refuse_is_refused_before_any_call() {
    let w = World::new();
    w.standard_profile();
    for (flag, value) in [
        ("--name", "awsmfa\nerror: forged line"),
        ("--name", ""),
        ("--name", &"p".repeat(129)),
        ("--name", "no spaces"),
        ("--user", "alice\nbob"),
        ("--group", "a/b"),
    ] {
        let target = if flag == "--group" { ["--group", "devs"] } else { ["--user", "alice"] };
        let mut cmd = w.awsmfa();
        cmd.args(["policy", "--apply", "--dry-run"]);
        if flag != target[0] {
            cmd.args(target);
        }
        let out = cmd.args([flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{flag} {value:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 2, "one error line and one hint: {stderr}");
        assert!(stderr.contains("[A-Za-z0-9+=,.@_-]"), "{stderr}");
    }
}

#[test]
fn a_cache_directory_others_can_write_to_is_refused_and_never_chmod_ed() {
    let w = World::new();
    w.standard_profile();
    let shared = w.path("shared-tmp");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env("AWSMFA_CACHE_DIR", &shared)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("others can write to it"));
    assert_eq!(mode(&shared), 0o1777);
    assert_eq!(w.sts_calls(), 0, "refused before any code was sent");
}

#[test]
fn a_device_as_credentials_file_is_never_replaced_by_a_regular_file() {
    if !is_root() {
        eprintln!("skipped: needs root to make a device node");
        return;
    }
    let w = World::new();
    let device = w.path("null");
    let c = std::ffi::CString::new(device.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) }, 0);
    w.config(&format!(
        "[default]\nmfa_serial = {}\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        w.user.serial, w.user.access_key_id, w.user.secret_access_key
    ));
    w.awsmfa()
        .args(["login", "--code", &w.code(0), "--write-profile", "mfa"])
        .env("AWS_SHARED_CREDENTIALS_FILE", &device)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a regular file"));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&device).unwrap().file_type().is_char_device());
    assert_eq!(w.sts_calls(), 0);
}

#[test]
fn env_output_runs_nothing_under_eval_whatever_the_region_says() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let marker = w.path("pwned");
    for region in [format!("eu-west-1; touch {}", marker.display()), format!("$(touch {})", marker.display())] {
        for (var, config) in [("AWS_REGION", None), ("", Some(&region))] {
            if let Some(region) = config {
                w.config(&format!("[default]\nregion = {region}\nmfa_serial = {}\n", w.user.serial));
            }
            for format in ["env", "env-no-export", "fish", "powershell", "windows-cmd", "dotenv"] {
                let mut cmd = w.awsmfa();
                cmd.args(["env", "--format", format]);
                if !var.is_empty() {
                    cmd.env(var, &region);
                }
                let out = cmd.output().unwrap();
                assert_eq!(out.status.code(), Some(3), "{format}: {}", String::from_utf8_lossy(&out.stderr));
                let script = String::from_utf8_lossy(&out.stdout).into_owned();
                let _ = w.command("sh").args(["-c", "eval \"$1\"; true", "sh", &script]).status();
                assert!(!marker.exists(), "{format} ran code from the region");
            }
        }
    }
}

#[test]
fn a_running_awsmfa_writes_no_core_file_and_its_children_keep_the_users_limit() {
    let mut hard = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut hard) }, 0);
    if hard.rlim_max == 0 && !is_root() {
        eprintln!("skipped: core files are off for this user already (hard limit 0)");
        return;
    }
    let w = World::new();
    w.credentials("");
    // The code source runs while awsmfa waits for it (keys loaded, about to sign): it looks
    // at awsmfa's limits ($PPID) and its own.
    let mfa_process = format!(
        "grep '^Max core' /proc/$PPID/limits > {parent}; grep '^Max core' /proc/self/limits > {child}; {python} {fixture} totp {seed}",
        parent = w.path("parent").display(),
        child = w.path("child").display(),
        python = common::python(),
        fixture = common::repo().join("tests/emulator/fixture.py").display(),
        seed = w.user.seed,
    );
    w.config(&format!("[default]\nmfa_serial = {}\nmfa_process = {mfa_process}\n", w.user.serial));
    let mut cmd = w.command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap());
    cmd.arg("login").stdin(Stdio::null());
    // The user's own limit: core files of any size (awsmfa must lower it for itself alone).
    let user_limit = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_CORE, &user_limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let soft = |file: &str| read(&w.path(file)).split_whitespace().nth(4).unwrap_or_default().to_string();
    assert_eq!(soft("parent"), "0", "awsmfa's own core limit: {}", read(&w.path("parent")));
    assert_eq!(soft("child"), "unlimited", "the code source's: {}", read(&w.path("child")));
}

#[test]
fn exec_hands_no_mfa_factor_to_the_child() {
    let w = World::new();
    w.standard_profile();
    let out = w
        .awsmfa()
        .args(["exec", "--", "env"])
        .env("AWSMFA_TOTP_SECRET", &w.user.seed)
        .env("AWS_MFA_SERIAL_NUMBER", &w.user.serial)
        .env("AWSMFA_KEYSTORE_PASSPHRASE", "the keystore passphrase")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(env.contains("AWS_SESSION_TOKEN="), "the child got the session");
    for name in ["AWSMFA_TOTP_SECRET", "AWS_MFA_TOKEN_CODE", "AWS_MFA_SERIAL_NUMBER", "AWSMFA_KEYSTORE_PASSPHRASE"] {
        assert!(!env.contains(&format!("{name}=")), "{name} reached the child");
    }
    assert!(!env.contains(&w.user.seed));
}

#[test]
fn a_code_can_come_from_stdin_and_help_warns_about_ps() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", "-"]).write_stdin(format!("{}\n", w.code(0))).assert().success();
    assert_eq!(w.sts_calls(), 1);
    w.awsmfa().args(["login", "--force", "--code", "-"]).write_stdin("").assert().code(3);
    w.awsmfa().args(["login", "--help"]).assert().success().stdout(predicate::str::contains("`ps`"));
}

/// `doctor --json`: the exit code and the `credential_process` check (status, detail).
fn doctor_credential_process(w: &World) -> (i32, String, String) {
    let out = w.awsmfa().args(["doctor", "--json"]).output().unwrap();
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = checks.as_array().unwrap().iter().find(|c| c["check"] == "credential_process").unwrap();
    let field = |name: &str| check[name].as_str().unwrap_or_default().to_string();
    (out.status.code().unwrap(), field("status"), field("detail"))
}

/// An executable script named `awsmfa` in ~/bin of the world, and a profile per `profiles`
/// whose credential_process runs it.
fn fake_awsmfa(w: &World, script: &str, profiles: usize) -> PathBuf {
    let fake = w.path("bin/awsmfa");
    std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
    std::fs::write(&fake, format!("#!/bin/sh\n{script}")).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut config = format!("[default]\nregion = us-east-1\nmfa_serial = {}\n", w.user.serial);
    for n in 0..profiles {
        config.push_str(&format!("[profile p{n}]\ncredential_process = {} credential-process\n", fake.display()));
    }
    w.config(&config);
    fake
}

#[test]
fn doctor_never_runs_a_credential_process_named_in_a_file_others_control() {
    let w = World::new();
    w.credentials("");
    let marker = w.path("ran");
    fake_awsmfa(&w, &format!("touch {}\necho awsmfa 0.0.1\n", marker.display()), 1);
    let config = w.path(".aws/config");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, status, detail) = doctor_credential_process(&w);
    assert_eq!((code, status.as_str()), (8, "fail"), "{detail}");
    assert!(detail.contains("can be written by others") && detail.contains("none was run"), "{detail}");
    assert!(!marker.exists(), "the program was run");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&config, Some(65534), None).unwrap();
        let (code, status, detail) = doctor_credential_process(&w);
        assert_eq!((code, status.as_str()), (8, "fail"), "{detail}");
        assert!(detail.contains("belongs to uid 65534"), "{detail}");
        assert!(!marker.exists(), "the program was run");
        std::os::unix::fs::chown(&config, Some(0), None).unwrap();
    }
    // The same file, ours and private: now the program is asked (and found to be another version).
    let (_, status, detail) = doctor_credential_process(&w);
    assert_eq!(status, "fail");
    assert!(detail.contains("version 0.0.1"), "{detail}");
    assert!(marker.exists());
}

#[test]
fn a_file_keystore_in_a_directory_others_can_write_to_is_refused_and_never_chmod_ed() {
    let w = World::new();
    let credentials = w.credentials("");
    w.config(&format!("[default]\nregion = us-east-1\nmfa_serial = {}\n", w.user.serial));
    let pass = "a keystore passphrase";
    // Keys moved into a keystore of our own first, for the login case.
    let private = w.path("private/keys.age");
    w.awsmfa()
        .args(["keys", "import", "default", "--keystore", "file"])
        .env("AWSMFA_KEYSTORE_FILE", &private)
        .env("AWSMFA_KEYSTORE_PASSPHRASE", pass)
        .assert()
        .success();
    let config = read(&w.path(".aws/config"));
    // Both refused, as the cache directory is: open to all, and sticky like /tmp.
    for shared_mode in [0o777, 0o1777] {
        let shared = w.path(&format!("shared-{shared_mode:o}"));
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(shared_mode)).unwrap();
        let run = |args: &[&str], file: &str| {
            let mut cmd = w.awsmfa();
            cmd.args(args)
                .env("AWSMFA_KEYSTORE", "file")
                .env("AWSMFA_KEYSTORE_FILE", shared.join(file))
                .env("AWSMFA_KEYSTORE_PASSPHRASE", pass);
            cmd
        };
        let says = "refusing to use the file keystore in";
        let keys = format!("{}\n{}\n", w.user.access_key_id, w.user.secret_access_key);
        run(&["keys", "add", "new-profile"], "new.age")
            .write_stdin(keys)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(says).and(predicate::str::contains("others can write to it")));
        // The key lines of a profile still in plain text stay where they are.
        std::fs::write(
            &credentials,
            format!(
                "[plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                w.user.access_key_id, w.user.secret_access_key
            ),
        )
        .unwrap();
        let before = read(&credentials);
        run(&["keys", "import", "plain"], "new.age").assert().code(3).stderr(predicate::str::contains(says));
        assert_eq!(read(&credentials), before);
        assert_eq!(std::fs::read_dir(&shared).unwrap().count(), 0, "nothing written in {}", shared.display());
        // Our own keystore file, copied there: not used for a login either.
        let copy = shared.join("keys.age");
        std::fs::copy(&private, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
        run(&["login", "--code", &w.code(0)], "keys.age").assert().code(3).stderr(predicate::str::contains(says));
        assert_eq!(w.sts_calls(), 0, "refused before a code was sent");
        let out = run(&["doctor", "--json"], "keys.age").output().unwrap();
        assert_eq!(out.status.code(), Some(8));
        let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let keystore = checks.as_array().unwrap().iter().find(|c| c["check"] == "keystore").expect("a keystore check");
        assert_eq!(keystore["status"], "fail", "{checks:#}");
        assert!(keystore["detail"].as_str().unwrap().contains("others can write to it"), "{checks:#}");
        assert_eq!(mode(&shared), shared_mode, "never chmod-ed");
        assert_eq!(read(&w.path(".aws/config")), config, "the profile is untouched");
    }
}

// ---- crashes and hangs -------------------------------------------------------------------

#[test]
fn doctor_asks_a_hanging_credential_process_once_and_leaves_nothing_of_it_running() {
    let w = World::new();
    w.credentials("");
    // A program that never answers and starts another that would outlive it.
    let sleeper = w.path("bin/sleep-forever");
    std::fs::create_dir_all(sleeper.parent().unwrap()).unwrap();
    std::fs::copy("/bin/sleep", &sleeper).unwrap();
    let runs = w.path("runs");
    fake_awsmfa(&w, &format!("echo run >> {}\n{s} 1000 &\n{s} 1000\n", runs.display(), s = sleeper.display()), 6);
    let (code, status, detail) = doctor_credential_process(&w);
    let left: Vec<String> = {
        let out = std::process::Command::new("pgrep").args(["-f", sleeper.to_str().unwrap()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect()
    };
    for pid in &left {
        let _ = std::process::Command::new("kill").args(["-9", pid]).status();
    }
    assert_eq!((code, status.as_str()), (8, "fail"), "{detail}");
    assert!(detail.contains("does not answer --version"), "{detail}");
    assert_eq!(read(&runs).lines().count(), 1, "one program, asked once for its six profiles");
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn a_non_ascii_access_key_id_is_refused_before_a_code_is_claimed() {
    let w = World::new();
    w.config(&format!("[default]\nmfa_serial = {}\n", w.user.serial));
    std::fs::write(
        w.path(".aws/credentials"),
        "[default]\naws_access_key_id = ÄKIAÖÖÖÖÖÖÖÖÖÖÖÖÖÖ\naws_secret_access_key = x\n",
    )
    .unwrap();
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is not one AWS makes").and(predicate::str::contains("panicked").not()));
    assert!(w.cache_files("used-codes-").is_empty(), "no code was claimed");
    w.awsmfa().arg("status").assert().stderr(predicate::str::contains("panicked").not());
}

#[test]
fn a_broken_stderr_pipe_does_not_stop_the_login() {
    let w = World::new();
    w.standard_profile();
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
    let status = w
        .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .args(["login", "--code", &w.code(0)])
        .stderr(Stdio::from(write_end))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(w.cache_files("session-").len(), 1, "the session was still cached");
}

#[test]
fn a_fifo_or_an_endless_device_as_config_is_refused_without_hanging() {
    let w = World::new();
    w.standard_profile();
    let fifo = w.path("config-fifo");
    mkfifo(&fifo);
    for (var, path) in [("AWS_CONFIG_FILE", fifo.as_path()), ("AWS_SHARED_CREDENTIALS_FILE", Path::new("/dev/zero"))] {
        w.awsmfa()
            .arg("status")
            .env(var, path)
            .timeout(Duration::from_secs(20))
            .assert()
            .code(3)
            .stderr(predicate::str::contains("not a regular file"));
    }
    // The CA bundle too: a FIFO there is refused before any code is spent.
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env("AWS_CA_BUNDLE", &fifo)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("CA bundle"));
    assert_eq!(w.sts_calls(), 0);
}

#[test]
fn a_fifo_or_a_directory_in_place_of_the_session_cache_is_found_before_a_code_is_spent() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let session = cache_file(&w, "session-");
    std::fs::remove_file(&session).unwrap();
    mkfifo(&session);
    let code = w.code(1);
    for force in [false, true, false] {
        let mut cmd = w.awsmfa();
        cmd.args(["login", "--code", &code]);
        if force {
            cmd.arg("--force");
        }
        cmd.timeout(Duration::from_secs(20))
            .assert()
            .code(3)
            .stderr(predicate::str::contains("not a regular file").and(predicate::str::contains("mv ")));
        if force {
            std::fs::remove_file(&session).unwrap();
            std::fs::create_dir(&session).unwrap();
        }
    }
    assert!(std::fs::metadata(&session).unwrap().is_dir(), "the user's directory is left alone");
    assert_eq!(w.sts_calls(), 1, "no code was sent after the first login");
    std::fs::remove_dir(&session).unwrap();
    w.awsmfa().args(["login", "--code", &code]).assert().success();
}

#[test]
fn a_huge_cache_file_is_not_read_whole() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let session = cache_file(&w, "session-");
    std::fs::File::options().write(true).open(&session).unwrap().set_len(2 << 30).unwrap();
    // Reaped with wait4 below, for its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = w
        .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .args(["login", "--code", &w.code(1)])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) }, child.id() as i32);
    assert_eq!(libc::WEXITSTATUS(status), 0);
    assert!(usage.ru_maxrss < 100 * 1024, "peak memory {} KiB: the file was read whole", usage.ru_maxrss);
    assert!(std::fs::metadata(&session).unwrap().len() < 4096, "replaced by a fresh record");
}

/// Runs `awsmfa args` in `w` to its end; its exit code and peak memory (KiB), from wait4.
fn exit_and_peak_memory(w: &World, args: &[&str]) -> (i32, i64) {
    // Reaped with wait4 below, for its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = w
        .command(assert_cmd::cargo::cargo_bin("awsmfa").to_str().unwrap())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) }, child.id() as i32);
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

#[test]
fn a_huge_credentials_file_is_refused_unread_and_the_largest_accepted_costs_bounded_memory() {
    let w = World::new();
    w.standard_profile();
    // Tiny sections are what the SDK's parser pays the most memory for, per byte.
    let sections = |bytes: usize| {
        let mut text = read(&w.path(".aws/credentials"));
        let mut i = 0;
        while text.len() < bytes - 16 {
            text.push_str(&format!("[s{i}]\n"));
            i += 1;
        }
        std::fs::write(w.path(".aws/credentials"), text).unwrap();
    };
    sections(9 << 20);
    w.awsmfa().arg("status").assert().code(3).stderr(
        predicate::str::contains("is larger than 1 MiB").and(predicate::str::contains("AWS_SHARED_CREDENTIALS_FILE")),
    );
    for args in [&["status"][..], &["keys", "import", "default", "--keystore", "file"]] {
        let (code, peak) = exit_and_peak_memory(&w, args);
        assert_eq!(code, 3, "{args:?}");
        assert!(peak < 64 * 1024, "{args:?}: peak memory {peak} KiB for a file it refuses");
    }
    w.standard_profile();
    sections(1 << 20);
    let (code, peak) = exit_and_peak_memory(&w, &["status"]);
    assert_eq!(code, 0);
    assert!(peak < 256 * 1024, "peak memory {peak} KiB for the largest file awsmfa reads");
    assert_eq!(w.sts_calls(), 0);
}

/// A TCP endpoint that accepts connections and never answers.
fn silent_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

#[test]
fn a_silent_endpoint_costs_seconds_and_names_the_limit() {
    let w = World::new();
    w.credentials("");
    // No mfa_serial: the device is looked up first (the call that used to retry for a minute).
    w.config("[default]\nregion = us-east-1\ncli_read_timeout = 1\ncli_connect_timeout = 1\n");
    let silent = silent_endpoint();
    let started = Instant::now();
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env("AWS_ENDPOINT_URL", &silent)
        .timeout(Duration::from_secs(50))
        .assert()
        .code(6)
        .stderr(predicate::str::contains(&silent).and(predicate::str::contains("cli_read_timeout 1s")));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

// ---- exit codes and messages -------------------------------------------------------------

#[test]
fn bad_files_are_configuration_errors_not_crashes() {
    let w = World::new();
    w.standard_profile();
    let bad_utf8 = w.path("bad-utf8");
    std::fs::write(&bad_utf8, b"[default]\nregion = \xff\xfe\n").unwrap();
    let loop_a = w.path("loop-a");
    symlink(w.path("loop-b"), &loop_a).unwrap();
    symlink(&loop_a, w.path("loop-b")).unwrap();
    for (path, says) in [(bad_utf8, "UTF-8"), (w.path(".aws"), "directory"), (loop_a, "symlinks")] {
        w.awsmfa()
            .args(["login", "--code", "123456"])
            .env("AWS_CONFIG_FILE", &path)
            .assert()
            .code(3)
            .stderr(predicate::str::contains(says).and(predicate::str::contains("os error").not()));
    }
    std::fs::write(w.path(".aws/awsmfa"), "a file where the cache directory goes").unwrap();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().code(3);
    assert_eq!(w.sts_calls(), 0);
}

#[test]
fn bad_input_is_refused_before_a_code_is_claimed() {
    let w = World::new();
    w.standard_profile();
    let code = w.code(0);
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["--save-json".into(), w.path(".aws").display().to_string()], vec![]),
        (vec!["--region".into(), "bad region!".into()], vec![]),
        (vec![], vec![("AWS_ENDPOINT_URL", "not a url")]),
        (vec![], vec![("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:99999")]),
        (vec![], vec![("AWSMFA_LOCK_TIMEOUT", "soon")]),
        (vec![], vec![("AWSMFA_MIN_TTL", "later")]),
    ];
    for (args, env) in cases {
        let mut cmd = w.awsmfa();
        cmd.args(["login", "--code", &code]).args(&args).envs(env.iter().copied());
        cmd.assert().code(3);
    }
    assert_eq!(w.sts_calls(), 0);
    assert!(w.cache_files("used-codes-").is_empty(), "the code was never claimed");
    // And the code still works afterwards.
    w.awsmfa().args(["login", "--code", &code]).assert().success();
}

#[test]
fn a_malformed_code_flag_is_an_error_even_with_a_valid_session() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    w.awsmfa().args(["login", "--code", "12"]).assert().code(3).stderr(predicate::str::contains("not 6 digits"));
}

/// Rewrites the expiry of the cached session (an expired one, for the tests of margins).
fn expire_cached_session(w: &World) {
    let path = cache_file(w, "session-");
    let mut record: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    record["expiration"] = "2020-01-01T00:00:00+00:00".into();
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();
}

#[test]
fn a_min_ttl_too_large_for_the_clock_never_hands_out_an_expired_session() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0), "--duration", "15m"]).assert().success();
    expire_cached_session(&w);
    let huge = "9223372036854775808";
    for (args, env) in [(vec!["--min-ttl", huge], None), (vec![], Some(("AWSMFA_MIN_TTL", huge)))] {
        let mut cmd = w.awsmfa();
        cmd.arg("env").args(&args).envs(env);
        cmd.assert()
            .code(3)
            .stdout("")
            .stderr(predicate::str::contains("out of range").and(predicate::str::contains("from 0s to 36h")));
    }
    let mut status = w.awsmfa();
    status.args(["status", "--check", "--min-ttl", "99999999999999999999h"]);
    status.assert().code(3).stderr(predicate::str::contains("from 0s to 36h"));
    // Every other duration a user types is range-checked too, before a code is spent.
    let code = w.code(1);
    for args in [
        vec!["launch", "--image-id", "ami-12345678", "--timeout", huge],
        vec!["terminate", "i-0123456789abcdef0", "--yes", "--timeout", huge],
        vec!["verify", "--image-id", "ami-12345678", "--timeout", "0"],
        vec!["keys", "rotate", "--wait", huge],
    ] {
        w.awsmfa()
            .args(&args)
            .args(["--code", &code])
            .assert()
            .code(3)
            .stderr(predicate::str::contains("out of range"));
    }
    assert_eq!(w.sts_calls(), 1, "only the first login reached STS");
}

#[test]
fn variables_that_are_not_utf8_are_refused_not_taken_for_unset() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let w = World::new();
    w.standard_profile();
    let code = w.code(0);
    let secret = b"not-utf8-\xff-secret-value";
    let home = [w.home.path().as_os_str().as_bytes(), b"/\xff"].concat();
    for (name, value) in [
        ("AWS_PROFILE", &b"work\xff"[..]),
        ("AWS_CONFIG_FILE", &b"/tmp/config\xff"[..]),
        ("HOME", &home[..]),
        ("AWSMFA_CACHE_DIR", &b"/tmp/cache\xff"[..]),
        ("AWS_SECRET_ACCESS_KEY", &secret[..]),
    ] {
        let out = w.awsmfa().args(["login", "--code", &code]).env(name, OsStr::from_bytes(value)).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name} is not valid UTF-8")), "{name}: {stderr}");
        assert!(!stderr.contains("secret-value"), "the secret is never shown: {stderr}");
    }
    w.awsmfa().args(["keys", "list"]).env("AWS_PROFILE", OsStr::from_bytes(b"w\xff")).assert().code(3);
    assert_eq!(w.sts_calls(), 0, "no code was spent on the wrong profile");
}

#[test]
fn exec_of_something_that_cannot_run_is_126_like_a_shell() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let not_executable = w.path("script.sh");
    std::fs::write(&not_executable, "echo hi\n").unwrap();
    for target in [w.path(".aws"), not_executable] {
        w.awsmfa()
            .args(["exec", "--"])
            .arg(&target)
            .assert()
            .code(126)
            .stderr(predicate::str::contains("cannot run").and(predicate::str::contains("os error").not()));
    }
}

#[test]
fn home_is_not_needed_when_every_path_is_named() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa()
        .args(["login", "--code", &w.code(0)])
        .env_remove("HOME")
        .env("AWS_CONFIG_FILE", w.path(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", w.path(".aws/credentials"))
        .env("AWSMFA_CACHE_DIR", w.path("cache"))
        .assert()
        .success();
    w.awsmfa().arg("status").env_remove("HOME").assert().code(3).stderr(predicate::str::contains("AWS_CONFIG_FILE"));
}

#[test]
fn tilde_in_file_variables_means_home() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa()
        .args(["login", "--code", &w.code(0), "--write-profile", "mfa"])
        .env("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        .env("AWS_CONFIG_FILE", "~/.aws/config")
        .assert()
        .success();
    assert!(read(&w.path(".aws/credentials")).contains("[mfa]"));
    assert!(!w.path("~").exists(), "no directory literally named ~");
}

#[test]
fn a_cache_warning_is_said_once() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    std::fs::write(cache_file(&w, "session-"), "{").unwrap();
    let out = w.awsmfa().args(["login", "--code", &w.code(1)]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).matches("warning:").count(), 1);
}

/// Runs awsmfa on a pseudo-terminal, typing `answers` at `prompt`; returns (screen, code).
fn on_terminal(w: &World, prompt: &str, answers: &[&str], args: &[&str], env: &[(&str, &str)]) -> (String, i32) {
    let out = w
        .command(common::python())
        .arg(common::repo().join("tests/support/pty_answer.py"))
        .arg(prompt)
        .args(answers)
        .arg("--")
        .arg(assert_cmd::cargo::cargo_bin("awsmfa"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.code().unwrap_or(-1))
}

#[test]
fn term_dumb_gets_no_colour_even_on_a_terminal() {
    let w = World::new();
    let (screen, code) = on_terminal(&w, "never shown", &[], &["login", "--code", "12"], &[("TERM", "xterm")]);
    assert_eq!(code, 3, "{screen}");
    assert!(screen.contains('\x1b'), "colour on a capable terminal: {screen:?}");
    let (screen, _) = on_terminal(&w, "never shown", &[], &["login", "--code", "12"], &[("TERM", "dumb")]);
    assert!(!screen.contains('\x1b'), "{screen:?}");
}

#[test]
fn a_code_spent_by_another_tool_is_followed_by_the_next_one() {
    let w = World::new();
    w.standard_profile();
    // The AWS CLI uses the device's current code first.
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["sts", "get-session-token", "--serial-number", &w.user.serial, "--token-code", &w.code(0)])
        .env("AWS_ACCESS_KEY_ID", &w.user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &w.user.secret_access_key)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    w.awsmfa().arg("login").env("AWSMFA_TOTP_SECRET", &w.user.seed).timeout(Duration::from_secs(90)).assert().success();
    assert_eq!(w.sts_calls(), 2, "the CLI's and awsmfa's");
}

#[test]
fn mfa_process_can_ask_the_person_at_the_terminal() {
    let w = World::new();
    w.credentials("");
    w.config(&format!(
        "[default]\nmfa_serial = {}\nmfa_process = printf 'touch the key, then type its code: ' >&2; read code; echo $code\n",
        w.user.serial
    ));
    let (screen, code) = on_terminal(&w, "type its code: ", &[&w.code(0)], &["login"], &[]);
    assert_eq!(code, 0, "{screen}");
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn mfa_process_from_a_file_others_can_write_is_not_run() {
    let w = World::new();
    w.credentials("");
    let marker = w.path("ran");
    let config =
        w.config(&format!("[default]\nmfa_serial = {}\nmfa_process = touch {}\n", w.user.serial, marker.display()));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
    w.awsmfa().arg("login").assert().code(3).stderr(predicate::str::contains("can be written by others"));
    assert!(!marker.exists());
}
