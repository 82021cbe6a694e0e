//! Handing the session over: to a shell (`env`), to a child (`exec`), to every AWS SDK
//! (`credential-process`), to a credentials profile; and `status`, `logout`, concurrency.
//! The AWS CLI and the emulator judge whether the handed-over credentials really work.

use crate::common;

use std::process::Stdio;

use common::World;
use predicates::prelude::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_recipe_done_by_awsmfa_launches_an_instance_with_the_aws_cli() {
    let w = World::new();
    w.standard_profile();
    let awsmfa = assert_cmd::cargo::cargo_bin("awsmfa");
    let script = format!(
        r#"set -euo pipefail
        aws() {{ "{aws}" "$@"; }}
        if aws ec2 run-instances --image-id ami-12c6146b --count 1 --instance-type t2.micro 2>pre.err; then
            echo "pre-test launched without MFA"; exit 1
        fi
        grep -q UnauthorizedOperation pre.err
        "{awsmfa}" login --code {code}
        eval "$("{awsmfa}" env)"
        echo "AWS token expires: $AWS_CREDENTIAL_EXPIRATION"
        id=$(aws ec2 run-instances --image-id ami-12c6146b --count 1 --instance-type t2.micro --query 'Instances[0].InstanceId' --output text)
        aws ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].State.Name' --output text
        "#,
        aws = common::venv_bin("aws"),
        awsmfa = awsmfa.display(),
        code = w.code(0)
    );
    let out = w
        .command("bash")
        .args(["-c", &script])
        .env("AWS_ACCESS_KEY_ID", &w.user.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &w.user.secret_access_key)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("AWS token expires: "), "{text}");
    assert!(text.trim_end().ends_with("running"), "{text}");
}

#[test]
fn env_prints_every_format_and_the_values_match_the_session() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let out = w.awsmfa().args(["env", "--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = v["Credentials"]["AccessKeyId"].as_str().unwrap().to_string();
    let expected = [
        ("env", format!("export AWS_ACCESS_KEY_ID={key}\n")),
        ("env-no-export", format!("AWS_ACCESS_KEY_ID={key}\n")),
        ("fish", format!("set -gx AWS_ACCESS_KEY_ID \"{key}\"\n")),
        ("powershell", format!("$Env:AWS_ACCESS_KEY_ID=\"{key}\"\n")),
        ("windows-cmd", format!("set AWS_ACCESS_KEY_ID={key}\n")),
        ("dotenv", format!("AWS_ACCESS_KEY_ID={key}\n")),
    ];
    for (format, first_line) in expected {
        let out = w.awsmfa().args(["env", "--format", format]).output().unwrap();
        let text = stdout(&out);
        assert!(text.starts_with(&first_line), "{format}: {text}");
        assert!(text.contains("AWS_REGION"), "{format} names the known region");
    }
    assert_eq!(w.sts_calls(), 1, "every format came from the cache");
}

#[test]
fn env_matches_aws_configure_export_credentials_byte_for_byte() {
    // The AWS CLI on PyPI (v1) has no `configure export-credentials`; these are the line
    // templates of AWS CLI v2's exportcreds.py, with its isoformat() expiry (+00:00).
    let templates = [
        ("env", "export {name}={value}"),
        ("env-no-export", "{name}={value}"),
        ("powershell", "$Env:{name}=\"{value}\""),
        ("windows-cmd", "set {name}={value}"),
        ("fish", "set -gx {name} \"{value}\""),
    ];
    let w = World::new();
    w.credentials("");
    // No region anywhere: awsmfa then prints exactly the AWS CLI's four lines.
    w.config(&format!("[default]\nmfa_serial = {}\n", w.user.serial));
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let json = w.awsmfa().args(["credential-process"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let values = [
        ("AWS_ACCESS_KEY_ID", v["AccessKeyId"].as_str().unwrap()),
        ("AWS_SECRET_ACCESS_KEY", v["SecretAccessKey"].as_str().unwrap()),
        ("AWS_SESSION_TOKEN", v["SessionToken"].as_str().unwrap()),
        ("AWS_CREDENTIAL_EXPIRATION", v["Expiration"].as_str().unwrap()),
    ];
    for (format, template) in templates {
        let expected: String = values
            .iter()
            .map(|(name, value)| format!("{}\n", template.replace("{name}", name).replace("{value}", value)))
            .collect();
        let ours = w.awsmfa().args(["env", "--format", format]).output().unwrap();
        assert_eq!(stdout(&ours), expected, "format {format}");
    }
    // credential_process JSON as `export-credentials --format process` prints it (indent 2).
    let expected = format!(
        "{{\n  \"Version\": 1,\n  \"AccessKeyId\": \"{}\",\n  \"SecretAccessKey\": \"{}\",\n  \"SessionToken\": \"{}\",\n  \"Expiration\": \"{}\"\n}}\n",
        values[0].1, values[1].1, values[2].1, values[3].1
    );
    assert_eq!(stdout(&json), expected);
    assert!(values[3].1.ends_with("+00:00"), "isoformat() of a UTC time");
}

#[test]
fn exec_runs_the_command_with_the_session_and_returns_its_exit_code() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let out = w
        .awsmfa()
        .args(["exec", "--", "sh", "-c", "env | grep -E '^(AWS|AWSMFA)_' | sort; exit 7"])
        .env("AWS_PROFILE", "default")
        .env("AWS_DEFAULT_PROFILE", "default")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "the child's exit code");
    let vars = common::parse_vars(&stdout(&out));
    assert!(vars["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
    assert!(vars.contains_key("AWS_SESSION_TOKEN") && vars.contains_key("AWS_CREDENTIAL_EXPIRATION"));
    assert_eq!(vars["AWSMFA_PROFILE"], "default");
    assert!(!vars.contains_key("AWS_PROFILE") && !vars.contains_key("AWS_DEFAULT_PROFILE"));
}

#[test]
fn exec_gives_the_aws_cli_an_mfa_session() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let out = w
        .awsmfa()
        .args(["exec", "--", &common::venv_bin("aws"), "ec2", "run-instances", "--dry-run"])
        .args(["--image-id", "ami-12c6146b", "--instance-type", "t2.micro"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("DryRunOperation"), "{out:?}");
}

#[test]
fn exec_refuses_to_nest_unless_forced() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    w.awsmfa()
        .args(["exec", "--", "true"])
        .env("AWSMFA_PROFILE", "default")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("refusing to nest"));
    w.awsmfa().args(["exec", "--force", "--", "true"]).env("AWSMFA_PROFILE", "default").assert().success();
    w.awsmfa().args(["exec", "--", "no-such-command-here"]).assert().code(127);
}

#[test]
fn credential_process_gives_the_aws_cli_mfa_credentials() {
    let w = World::new();
    w.keys_in("work-long-term");
    let awsmfa = assert_cmd::cargo::cargo_bin("awsmfa");
    w.config(&format!(
        "[profile work-long-term]\nmfa_serial = {serial}\n\n[profile work]\nregion = us-east-1\ncredential_process = {bin} credential-process --profile work-long-term\n",
        serial = w.user.serial,
        bin = awsmfa.display()
    ));
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["ec2", "run-instances", "--dry-run", "--image-id", "ami-12c6146b", "--instance-type", "t2.micro"])
        .args(["--profile", "work"])
        .env("AWS_MFA_TOKEN_CODE", w.code(0))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("DryRunOperation"), "{out:?}");
    let cp = w.awsmfa().args(["credential-process", "--profile", "work-long-term"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&cp.stdout).unwrap();
    assert_eq!(v["Version"], 1);
    assert!(v["Expiration"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(w.sts_calls(), 1, "the second call was served from the cache");
}

/// README's "Everyday use" layout, as written there: one code serves `login`, `env`, `exec`
/// and `credential_process` (and `status` sees the same session from either profile).
#[test]
fn the_readme_layout_serves_all_four_hand_offs_with_one_code() {
    let w = World::new();
    w.keys_in("work-long-term");
    w.config(&format!(
        "[profile work-long-term]\nmfa_serial = {serial}\nregion = us-east-1\n\n[profile work]\nregion = us-east-1\ncredential_process = awsmfa credential-process --profile work-long-term\n",
        serial = w.user.serial
    ));
    // `awsmfa` on PATH, as after installing it.
    let bin_dir = assert_cmd::cargo::cargo_bin("awsmfa").parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let aws = common::venv_bin("aws");
    let dry_run = format!("{aws} ec2 run-instances --dry-run --image-id ami-12c6146b --instance-type t2.micro");
    w.awsmfa().args(["--profile", "work", "login", "--code", &w.code(0)]).assert().success();
    let script = format!("eval \"$(awsmfa --profile work env)\" && {dry_run}");
    let steps: Vec<(&str, Vec<String>)> = vec![
        ("env", vec!["sh".into(), "-c".into(), script]),
        (
            "exec",
            vec![
                "awsmfa".into(),
                "--profile".into(),
                "work".into(),
                "exec".into(),
                "--".into(),
                "sh".into(),
                "-c".into(),
                dry_run.clone(),
            ],
        ),
        ("credential_process", vec!["sh".into(), "-c".into(), format!("{dry_run} --profile work")]),
    ];
    for (step, argv) in steps {
        let out = w.command(&argv[0]).args(&argv[1..]).env("PATH", &path).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("DryRunOperation"), "{step}: {out:?}");
    }
    for profile in ["work", "work-long-term"] {
        w.awsmfa().args(["--profile", profile, "status", "--check"]).assert().success();
    }
    assert_eq!(w.sts_calls(), 1, "one code for all four hand-offs");
}

#[test]
fn many_processes_at_once_make_one_sts_call_and_run_the_code_source_once() {
    let w = World::new();
    w.credentials("");
    let (script, counter) = w.counting_code_command("0.5");
    w.config(&format!("[default]\nmfa_serial = {}\nmfa_process = {script}\n", w.user.serial));
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let children: Vec<_> = (0..16)
        .map(|_| {
            w.command(bin.to_str().unwrap())
                .arg("credential-process")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut keys = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        keys.insert(v["AccessKeyId"].as_str().unwrap().to_string());
    }
    assert_eq!(keys.len(), 1, "all 16 got the same session");
    assert_eq!(w.sts_calls(), 1, "exactly one STS call");
    assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 1, "one code asked for");
}

#[test]
fn write_profile_rewrites_only_its_section_byte_for_byte() {
    let w = World::new();
    w.config(&format!("[default]\nmfa_serial = {}\n", w.user.serial));
    let before = format!(
        "# AWS credentials of the team\n\n[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n\n; staging keys\n[staging]\naws_access_key_id=AKIASTAGING\naws_secret_access_key=xyz\n\n[mfa]\naws_access_key_id = OLD\naws_secret_access_key = OLD\naws_session_token = OLD\n\n# prod is read-only\n[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = abc\nregion=eu-west-1\n\n[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = def\n",
        id = w.user.access_key_id,
        secret = w.user.secret_access_key
    );
    let path = w.path(".aws/credentials");
    std::fs::write(&path, &before).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    w.awsmfa().args(["login", "--code", &w.code(0), "--write-profile", "mfa"]).assert().success();
    let after = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = before.split_once("[mfa]\n").unwrap();
    let tail = &rest[rest.find("\n# prod").unwrap()..];
    assert!(after.starts_with(&format!("{head}[mfa]\n# written by awsmfa; expires ")), "{after}");
    assert!(after.ends_with(tail), "{after}");
    assert!(after.contains("aws_session_token = "));
    assert!(!after.contains("= OLD"));
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions()) & 0o777,
        0o640
    );
    // The written profile works with the AWS CLI.
    let out = w
        .command(&common::venv_bin("aws"))
        .args(["ec2", "run-instances", "--dry-run", "--image-id", "ami-12c6146b", "--instance-type", "t2.micro"])
        .args(["--profile", "mfa", "--region", "us-east-1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("DryRunOperation"), "{out:?}");
    // logout --write-profile removes exactly that section again.
    w.awsmfa().args(["logout", "--write-profile", "mfa"]).assert().success();
    let removed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(removed, format!("{head}{}", &tail[1..]));
}

#[test]
fn write_profile_keeps_crlf_files_crlf() {
    let w = World::new();
    w.config(&format!("[default]\nmfa_serial = {}\n", w.user.serial));
    let path = w.path(".aws/credentials");
    std::fs::write(
        &path,
        format!(
            "[default]\r\naws_access_key_id = {}\r\naws_secret_access_key = {}\r\n",
            w.user.access_key_id, w.user.secret_access_key
        ),
    )
    .unwrap();
    w.awsmfa().args(["login", "--code", &w.code(0), "--write-profile", "mfa"]).assert().success();
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after.matches('\n').count(), after.matches("\r\n").count(), "{after:?}");
}

#[test]
fn write_profile_never_overwrites_the_long_term_keys() {
    let w = World::new();
    let path = w.credentials("");
    let before = std::fs::read_to_string(&path).unwrap();
    w.awsmfa()
        .args(["login", "--serial", &w.user.serial, "--code", &w.code(0), "--write-profile", "default"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("it holds the long-term keys in [default]"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[test]
fn concurrent_profile_writers_lose_no_update() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let children: Vec<_> = (0..8)
        .map(|i| {
            w.command(bin.to_str().unwrap())
                .args(["login", "--write-profile", &format!("copy{i}")])
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(w.path(".aws/credentials")).unwrap();
    for i in 0..8 {
        assert!(text.contains(&format!("[copy{i}]")), "copy{i} lost:\n{text}");
    }
}

#[test]
fn status_reports_without_secrets_and_check_tells_scripts() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["status", "--check"]).assert().code(1).stdout("").stderr("");
    w.awsmfa().arg("status").assert().success().stdout(predicate::str::contains("session:      none"));
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    w.awsmfa().args(["status", "--check"]).assert().success();
    let out = w.awsmfa().args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["profile"], "default");
    assert_eq!(v["mfa_serial"], w.user.serial.as_str());
    assert_eq!(v["session"]["state"], "valid");
    let tail = &w.user.access_key_id[w.user.access_key_id.len() - 4..];
    assert_eq!(v["source_key"], format!("…{tail}"));
    assert!(!stdout(&out).contains(&w.user.access_key_id), "only the last 4 characters");
    let text = w.awsmfa().arg("status").output().unwrap();
    assert!(stdout(&text).contains("valid until"));
}

#[test]
fn an_expired_session_is_replaced_at_the_next_use() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    // A min TTL above the session's length makes the cached session too old to use.
    w.awsmfa()
        .args(["env", "--min-ttl", "13h", "--code", &w.code(1)])
        .assert()
        .success()
        .stdout(predicate::str::contains("AWS_SESSION_TOKEN"));
    assert_eq!(w.sts_calls(), 2);
}

#[test]
fn logout_deletes_the_cached_session() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    w.awsmfa().arg("logout").assert().success().stderr(predicate::str::contains("deleted"));
    assert!(w.cache_files("session-").is_empty());
    w.awsmfa().args(["status", "--check"]).assert().code(1);
    w.awsmfa().args(["login", "--code", &w.code(1)]).assert().success();
    w.awsmfa().args(["logout", "--all"]).assert().success().stderr(predicate::str::contains("deleted 1"));
}

#[test]
fn a_waiter_gives_up_with_a_clear_error_when_the_lock_is_held_too_long() {
    let w = World::new();
    w.standard_profile();
    let status = w.awsmfa().args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let lock = v["cache_path"].as_str().unwrap().replace(".json", ".lock");
    std::fs::create_dir_all(std::path::Path::new(&lock).parent().unwrap()).unwrap();
    // Another "awsmfa" holds the lock (as while a person types a code) for longer than we wait.
    let mut holder = common::hold_lock(&w, std::path::Path::new(&lock));
    w.awsmfa()
        .args(["credential-process", "--code", &w.code(0)])
        .env("AWSMFA_LOCK_TIMEOUT", "1")
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("gave up after 1s waiting for another awsmfa")
                .and(predicate::str::contains("AWSMFA_LOCK_TIMEOUT")),
        );
    holder.release();
    assert_eq!(common::sts_attempts(&w.user.access_key_id), 0);
}
