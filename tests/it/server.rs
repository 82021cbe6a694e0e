//! The local credential endpoint (`exec --server`, `serve`), judged by real clients that
//! refresh on their own (boto3, the AWS CLI) and by hostile ones (no token, a wrong one,
//! other paths and methods, huge headers, garbage, a client that says nothing).

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{PATIENCE, World};

/// `awsmfa serve` in the background; its URL and token.
struct Served {
    child: Child,
    url: String,
    token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(w: &World, extra_env: &[(&str, &str)]) -> Served {
    serve_with(w, extra_env, &[], Stdio::null())
}

fn serve_with(w: &World, extra_env: &[(&str, &str)], flags: &[&str], stderr: Stdio) -> Served {
    serve_under(w, &[], extra_env, flags, &[], stderr)
}

/// `awsmfa FLAGS serve SERVE_ARGS`, started by `wrapper` (e.g. `prlimit --nofile=32 --`)
/// when not empty.
fn serve_under(
    w: &World,
    wrapper: &[&str],
    extra_env: &[(&str, &str)],
    flags: &[&str],
    serve_args: &[&str],
    stderr: Stdio,
) -> Served {
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut command = w.command(program);
            command.args(rest).arg(&bin);
            command
        }
        None => w.command(bin.to_str().unwrap()),
    };
    let mut child = command
        .args(flags)
        .args(["serve", "--format", "env-no-export"])
        .args(serve_args)
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    // Quoted for the shell when it holds [ ] (an IPv6 address).
    let url = line.strip_prefix("AWS_CONTAINER_CREDENTIALS_FULL_URI=").unwrap().trim_matches('\'').to_string();
    let token = lines.next().unwrap().unwrap().strip_prefix("AWS_CONTAINER_AUTHORIZATION_TOKEN=").unwrap().to_string();
    Served { child, url, token }
}

/// One raw HTTP exchange; the status code (0 when the server closed without answering).
fn raw(url: &str, request: &[u8]) -> u16 {
    raw_answer(url, request).0
}

/// One raw HTTP exchange; the status code and the whole answer.
fn raw_answer(url: &str, request: &[u8]) -> (u16, String) {
    let address = url.strip_prefix("http://").unwrap().split('/').next().unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    (text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), text)
}

fn get(url: &str, path: &str, auth: Option<&str>) -> u16 {
    let auth = auth.map(|t| format!("Authorization: {t}\r\n")).unwrap_or_default();
    raw(url, format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n").as_bytes())
}

#[test]
fn the_aws_cli_gets_mfa_credentials_from_exec_server_and_no_keys() {
    let w = World::new();
    w.standard_profile();
    let out = w
        .awsmfa()
        .args(["exec", "--server", "--code", &w.code(0), "--", "sh", "-c"])
        .arg(format!(
            "env | grep -c '^AWS_ACCESS_KEY_ID=' ; {} ec2 run-instances --dry-run --image-id ami-12c6146b --instance-type t2.micro; exit 3",
            common::venv_bin("aws")
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DryRunOperation"), "the CLI signed with the MFA session: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "no static keys in the child");
    assert_eq!(out.status.code(), Some(3), "the command's exit code is awsmfa's");
}

#[test]
fn the_aws_sdk_for_javascript_gets_credentials_from_exec_server() {
    let w = World::new();
    w.standard_profile();
    let out = w
        .awsmfa()
        .args(["exec", "--server", "--code", &w.code(0), "--", "node"])
        .arg(common::repo().join("tests/support/sts.js"))
        .env("NODE_PATH", common::node_modules())
        .env("NODE_NO_WARNINGS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["arn"], w.user.arn.as_str());
    assert_eq!(w.sts_calls(), 1);
}

#[test]
fn exec_server_passes_sigterm_on_and_returns_the_commands_code() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let bin = assert_cmd::cargo::cargo_bin("awsmfa");
    let ready = w.path("ready");
    // Runs until signalled, in short sleeps: sh runs its trap between commands, so at once.
    let script = format!("trap 'exit 42' TERM; touch {}; while :; do sleep 0.1; done", ready.display());
    let mut child = w
        .command(bin.to_str().unwrap())
        .args(["exec", "--server", "--", "sh", "-c", &script])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_until("the command to start", PATIENCE, || ready.exists());
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(42), "the command got SIGTERM and its code came back");
}

#[test]
fn boto3_keeps_working_as_its_role_chain_ends_and_renews_without_a_code() {
    let w = World::new();
    // A chain of two roles: the second is assumed with the first's credentials (role
    // chaining, capped at one hour by AWS), both renewed from the cached MFA session.
    let (first, _) = common::role(&[&w.user.arn], &[]);
    let (role_arn, role_name) = common::role(&[&first], &["--no-mfa"]);
    w.keys_in("dev");
    w.config(&format!(
        "[profile dev]\nregion = us-east-1\nmfa_serial = {}\n\n[profile first]\nrole_arn = {first}\nsource_profile = dev\nduration_seconds = 900\n\n[profile ops]\nrole_arn = {role_arn}\nsource_profile = first\nduration_seconds = 900\n",
        w.user.serial
    ));
    // A margin of 899 s on 900 s sessions: every credential request after the first second
    // gets a new role session, so boto3 (which refreshes credentials this close to their
    // end) renews through the server; the one it used first is then expired by force.
    let script = format!(
        r#"
import boto3, json, subprocess, time, urllib.request
sts = boto3.client("sts", region_name="us-east-1")
first = sts.get_caller_identity()["Arn"]
key = boto3.Session().get_credentials().get_frozen_credentials().access_key
urllib.request.urlopen(urllib.request.Request("{endpoint}/_awsmfa/expire?access_key_id=" + key, method="POST"))
# The point is time: the role session ages past the 899 s margin, so the next asks renew.
time.sleep(1.5)
second = sts.get_caller_identity()["Arn"]
# The AWS CLI, started now, asks the same endpoint and gets the renewed chain too.
cli = subprocess.run(["{aws}", "sts", "get-caller-identity", "--query", "Arn", "--output", "text"],
                     capture_output=True, text=True, check=True).stdout.strip()
print(json.dumps({{"first": first, "second": second, "cli": cli}}))
"#,
        endpoint = common::endpoint(),
        aws = common::venv_bin("aws")
    );
    let out = w
        .awsmfa()
        .args(["--profile", "ops", "exec", "--server", "--min-ttl", "899", "--code", &w.code(0), "--"])
        .arg(common::python())
        .args(["-c", &script])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["second"].as_str().unwrap().contains(&format!("assumed-role/{role_name}/")), "{v}");
    assert!(v["cli"].as_str().unwrap().contains(&format!("assumed-role/{role_name}/")), "{v}");
    assert!(common::assume_role_calls(&role_arn) >= 2, "the chain was renewed");
    assert_eq!(w.sts_calls(), 1, "one MFA session, one code");
}

#[test]
fn bad_requests_get_their_status_and_a_silent_client_holds_nobody_up() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let s = serve(&w, &[]);
    let path = "/credentials";
    assert_eq!(get(&s.url, path, None), 401);
    assert_eq!(get(&s.url, path, Some("wrong")), 403);
    assert_eq!(get(&s.url, "/latest/meta-data/", Some(&s.token)), 404);
    assert_eq!(raw(&s.url, format!("POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", s.token).as_bytes()), 405);
    let huge = format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(1 << 20));
    assert!(matches!(raw(&s.url, huge.as_bytes()), 431 | 0), "a 1 MB header is refused or dropped");
    assert!(matches!(raw(&s.url, b"\x00\xff garbage \r\n\r\n"), 400 | 0));
    // A client that connects and says nothing: the others are served meanwhile, and it is
    // dropped after the header timeout.
    let address = s.url.strip_prefix("http://").unwrap().split('/').next().unwrap().to_string();
    let silent = TcpStream::connect(&address).unwrap();
    let started = Instant::now();
    assert_eq!(get(&s.url, path, Some(&s.token)), 200);
    assert!(started.elapsed() < Duration::from_secs(3), "served while a client says nothing");
    let mut buf = [0u8; 1];
    silent.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut silent = silent;
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)), "the silent client is dropped");
}

#[test]
fn verbose_logs_status_and_latency_never_credentials() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let json = w.awsmfa().args(["env", "--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let log = w.path("serve.log");
    let mut s = serve_with(&w, &[], &["-v"], Stdio::from(std::fs::File::create(&log).unwrap()));
    assert_eq!(get(&s.url, "/credentials", Some(&s.token)), 200);
    assert_eq!(get(&s.url, "/credentials", Some("wrong")), 403);
    let _ = s.child.kill();
    let _ = s.child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("-> 200 in ") && text.contains("-> 403 in "), "{text}");
    for secret in [
        v["Credentials"]["SecretAccessKey"].as_str().unwrap(),
        v["Credentials"]["SessionToken"].as_str().unwrap(),
        &s.token,
    ] {
        assert!(!text.contains(secret), "a secret in the log: {text}");
    }
}

#[test]
fn without_a_code_source_the_sdk_gets_awsmfas_reason() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let s = serve(&w, &[]);
    for file in w.cache_files("session-") {
        std::fs::remove_file(file).unwrap(); // the session is gone; a new one needs a code
    }
    let request =
        format!("GET /credentials HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nConnection: close\r\n\r\n", s.token);
    let (status, answer) = raw_answer(&s.url, request.as_bytes());
    assert_eq!(status, 500);
    assert!(answer.contains("awsmfa: no MFA code") && answer.contains("awsmfa login"), "{answer}");
}

#[test]
fn two_hundred_clients_times_fifty_requests_get_no_error_and_cause_no_sts_call() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let s = serve(&w, &[]);
    let calls = w.sts_calls();
    let threads: Vec<_> = (0..200)
        .map(|_| {
            let (url, token) = (s.url.clone(), s.token.clone());
            std::thread::spawn(move || (0..50).filter(|_| get(&url, "/credentials", Some(&token)) != 200).count())
        })
        .collect();
    let errors: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(errors, 0, "every one of 10,000 requests answered 200");
    assert_eq!(w.sts_calls(), calls, "a warm session: no STS call under load");
}

#[test]
fn concurrent_first_requests_share_one_renewal() {
    let w = World::new();
    let (role_arn, _) = common::role(&[&w.user.arn], &[]);
    w.keys_in("dev");
    w.config(&format!(
        "[profile dev]\nregion = us-east-1\nmfa_serial = {}\n\n[profile ops]\nrole_arn = {role_arn}\nsource_profile = dev\n",
        w.user.serial
    ));
    w.awsmfa().args(["--profile", "dev", "login", "--code", &w.code(0)]).assert().success();
    let s = serve(&w, &[("AWS_PROFILE", "ops")]);
    // The role session `serve` made at its start is gone, so the first request must renew.
    for file in w.cache_files("session-") {
        let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        if !record["roles"]["arns"].as_array().unwrap().is_empty() {
            std::fs::remove_file(&file).unwrap();
        }
    }
    let calls = common::assume_role_calls(&role_arn);
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let (url, token) = (s.url.clone(), s.token.clone());
            std::thread::spawn(move || get(&url, "/credentials", Some(&token)))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    assert_eq!(common::assume_role_calls(&role_arn) - calls, 1, "one renewal for 32 requests");
}

/// The example program `sdk_caller` (the AWS SDK for Rust's default chain), built on first
/// use: `cargo test --test it server::` alone does not build examples.
pub(crate) fn rust_sdk_caller() -> &'static std::path::Path {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        // This test binary is TARGET/debug/deps/server-HASH.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let target_dir = profile_dir.parent().unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args(["build", "--locked", "--example", "sdk_caller", "--manifest-path"])
            .arg(common::repo().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "cannot build examples/sdk_caller.rs: {}", String::from_utf8_lossy(&out.stderr));
        profile_dir.join("examples").join(format!("sdk_caller{}", std::env::consts::EXE_SUFFIX))
    })
}

/// GetCallerIdentity from three SDKs' default credential chains, each run as the command of
/// `awsmfa exec` with `exec_args` and `env` added: the caller ARN each saw (or its error).
fn callers(w: &World, exec_args: &[&str], env: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    callers_without(w, exec_args, env, &[])
}

/// `callers`, with the variables `unset` taken out of the world's environment.
fn callers_without(w: &World, exec_args: &[&str], env: &[(&str, &str)], unset: &[&str]) -> Vec<(&'static str, String)> {
    let boto3 = "import boto3, json; print(json.dumps({'arn': boto3.client('sts').get_caller_identity()['Arn']}))";
    let sts_js = common::repo().join("tests/support/sts.js").display().to_string();
    let programs: [(&str, Vec<String>); 3] = [
        ("boto3", vec![common::python().to_string(), "-c".into(), boto3.into()]),
        ("javascript", vec!["node".into(), sts_js, "--default-chain".into()]),
        ("rust", vec![rust_sdk_caller().display().to_string()]),
    ];
    programs
        .into_iter()
        .map(|(name, program)| {
            let mut awsmfa = w.awsmfa();
            for name in unset {
                awsmfa.env_remove(name);
            }
            let out = awsmfa
                .arg("exec")
                .args(exec_args)
                .arg("--")
                .args(&program)
                .envs(env.iter().copied())
                .env("NODE_PATH", common::node_modules())
                .env("NODE_NO_WARNINGS", "1")
                .output()
                .unwrap();
            let seen = serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .ok()
                .and_then(|v| v["arn"].as_str().map(str::to_string))
                .unwrap_or_else(|| {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    format!("(no ARN) {}", stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(""))
                });
            (name, seen)
        })
        .collect()
}

#[test]
fn credential_variables_of_another_identity_never_reach_the_child_and_every_sdk_uses_awsmfa() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let token_file = w.path("web-identity-token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").unwrap();
    let wrong_token = w.path("container-token");
    std::fs::write(&wrong_token, "not-the-servers-token").unwrap();
    let other = common::fixture(&[]);
    let legacy_keys = w.path("legacy-keys");
    std::fs::write(
        &legacy_keys,
        format!("AWSAccessKeyId={}\nAWSSecretKey={}\n", other.access_key_id, other.secret_access_key),
    )
    .unwrap();
    let web_identity: &[(&str, &str)] = &[
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web-identity"),
        ("AWS_ROLE_SESSION_NAME", "someone-else"),
    ];
    // Every SDK takes a token file over the token, and a relative URI over the full one.
    let other_endpoint: &[(&str, &str)] = &[
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", wrong_token.to_str().unwrap()),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/other"),
    ];
    // botocore reads this file before the container endpoint.
    let legacy_file: &[(&str, &str)] = &[("AWS_CREDENTIAL_FILE", legacy_keys.to_str().unwrap())];
    for (story, env) in
        [("web identity", web_identity), ("another endpoint", other_endpoint), ("legacy file", legacy_file)]
    {
        for (sdk, arn) in callers(&w, &["--server"], env) {
            assert_eq!(arn, w.user.arn, "{sdk} under exec --server with {story} variables");
        }
    }
    // Plain exec: the session's keys win in every chain, and none of the rest is handed on.
    let all: Vec<(&str, &str)> = [web_identity, other_endpoint, legacy_file].concat();
    let secrets = [
        ("AWS_ACCESS_KEY", other.access_key_id.as_str()),
        ("AWS_SECRET_KEY", other.secret_access_key.as_str()),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "another-servers-token"),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/other"),
        ("AWS_ACCOUNT_ID", "999999999999"),
    ];
    for server in [&["--server"][..], &[]] {
        let out = w
            .awsmfa()
            .arg("exec")
            .args(server)
            .args(["--", "env"])
            .envs(all.iter().copied())
            .envs(secrets)
            .output()
            .unwrap();
        let child = common::parse_vars(&String::from_utf8_lossy(&out.stdout));
        for (name, value) in all.iter().chain(secrets.iter()) {
            assert_ne!(
                child.get(*name).map(String::as_str),
                Some(*value),
                "{name} reached the child of exec {server:?}"
            );
        }
    }
    for (sdk, arn) in callers(&w, &[], &all) {
        assert_eq!(arn, w.user.arn, "{sdk} under plain exec");
    }
}

#[test]
fn the_child_reaches_the_profiles_endpoint_and_trusts_its_ca_bundle_as_awsmfa_did() {
    use std::io::BufRead;
    let w = World::new();
    // No AWS_ENDPOINT_URL anywhere: the endpoint and the CA bundle are the profile's alone.
    let upstream = common::endpoint().trim_start_matches("http://").to_string();
    let mut proxy = std::process::Command::new(common::python())
        .arg(common::repo().join("tests/support/tls_proxy.py"))
        .arg(&upstream)
        .arg(w.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(proxy.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let https = line.trim().strip_prefix("ready ").expect("proxy ready").to_string();
    let keys =
        format!("aws_access_key_id = {}\naws_secret_access_key = {}\n", w.user.access_key_id, w.user.secret_access_key);
    std::fs::write(w.path(".aws/credentials"), format!("[plain]\n{keys}[tls]\n{keys}")).unwrap();
    w.config(&format!(
        "[profile plain]\nregion = us-east-1\nmfa_serial = {serial}\nendpoint_url = {}\n\n[profile tls]\nregion = us-east-1\nmfa_serial = {serial}\nendpoint_url = {https}\nca_bundle = {}\n",
        common::endpoint(),
        w.path("ca.pem").display(),
        serial = w.user.serial
    ));
    w.awsmfa()
        .env_remove("AWS_ENDPOINT_URL")
        .args(["--profile", "plain", "login", "--code", &w.code(0)])
        .assert()
        .success();
    // An SDK that missed the endpoint would ask the real AWS: one attempt, and it fails.
    for exec in [&["--server"][..], &[]] {
        let env = [("AWS_PROFILE", "plain"), ("AWS_MAX_ATTEMPTS", "1")];
        for (sdk, arn) in callers_without(&w, exec, &env, &["AWS_ENDPOINT_URL"]) {
            assert_eq!(arn, w.user.arn, "{sdk} reached the profile's endpoint_url under exec {exec:?}");
        }
        // Over HTTPS with the profile's CA: botocore reads AWS_CA_BUNDLE (the JavaScript
        // and Rust SDKs have no such variable).
        let out = w
            .awsmfa()
            .env_remove("AWS_ENDPOINT_URL")
            .args(["--profile", "tls", "exec"])
            .args(exec)
            .args(["--", common::python(), "-c"])
            .arg("import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])")
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            w.user.arn,
            "boto3 trusted the profile's ca_bundle under exec {exec:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop(proxy.stdin.take());
    let _ = proxy.wait();
}

/// An `mfa_process` command that appends a line to the returned counter file, waits until
/// the test makes the returned gate file (polling it), then runs `then`.
fn gated_code_source(w: &World, then: &str) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let (counter, gate) = (w.path("code-runs"), w.path("gate"));
    let command =
        format!("echo run >> {}; while [ ! -e {} ]; do sleep 0.05; done; {then}", counter.display(), gate.display());
    (command, counter, gate)
}

/// How many requests a `serve -v` logging to `log` has taken into a renewal: the one that
/// renews and those that wait for it.
fn inside_renewal(log: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(log).unwrap();
    text.matches("server: renewing the credentials").count()
        + text.matches("server: waiting for the renewal in flight").count()
}

/// The `Threads:` line of /proc/PID/status: how many OS threads the process has now.
fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn requests_waiting_on_a_blocked_renewal_share_it_run_the_code_source_once_and_start_no_threads() {
    let w = World::new();
    w.credentials("");
    // A code source that blocks until the test opens the gate, then fails (a YubiKey
    // nobody touched): the whole renewal is in flight for as long as the test wants.
    let (code_source, counter, gate) = gated_code_source(&w, "exit 1");
    w.config(&format!("[default]\nregion = us-east-1\nmfa_serial = {}\nmfa_process = {code_source}\n", w.user.serial));
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let log = w.path("serve.log");
    let s = serve_with(&w, &[], &["-v"], Stdio::from(std::fs::File::create(&log).unwrap()));
    let pid = s.child.id();
    let idle = threads_of(pid);
    for file in w.cache_files("session-") {
        std::fs::remove_file(file).unwrap(); // every request now needs a new MFA session
    }
    const N: usize = 16;
    let requests: Vec<_> = (0..N)
        .map(|_| {
            let (url, token) = (s.url.clone(), s.token.clone());
            std::thread::spawn(move || {
                let request = format!(
                    "GET /credentials HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
                );
                raw_answer(&url, request.as_bytes())
            })
        })
        .collect();
    // Every request is inside the server: one renews and the others wait (the server says
    // so with -v), or, as before, each holds a thread of its own.
    common::wait_until(format!("the {N} requests to reach the server"), PATIENCE, || {
        inside_renewal(&log) >= N || threads_of(pid) >= idle + N
    });
    let during = threads_of(pid);
    assert!(during <= idle + 2, "{N} waiting requests took {during} threads ({idle} idle)");
    std::fs::write(&gate, "").unwrap();
    for request in requests {
        let (status, answer) = request.join().unwrap();
        assert_eq!(status, 500, "{answer}");
        assert!(answer.contains("awsmfa: mfa_process"), "each gets awsmfa's reason: {answer}");
    }
    let runs = std::fs::read_to_string(&counter).unwrap().lines().count();
    assert_eq!(runs, 1, "the code source ran once for {N} requests");
}

#[test]
fn serve_warns_of_keys_every_sdk_prefers_and_logs_each_failed_renewal_with_its_reason() {
    let w = World::new();
    w.standard_profile(); // long-term keys in [default] of ~/.aws/credentials
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let stderr_of = |env: &[(&str, &str)]| {
        let log = w.path("serve.log");
        let s = serve_with(&w, env, &[], Stdio::from(std::fs::File::create(&log).unwrap()));
        assert_eq!(get(&s.url, "/credentials", Some(&s.token)), 200);
        drop(s);
        std::fs::read_to_string(&log).unwrap()
    };
    let text = stderr_of(&[]);
    let warning = format!(
        "SDKs use aws_access_key_id in [default] of {} before this endpoint",
        w.path(".aws/credentials").display()
    );
    assert_eq!(text.matches(&warning).count(), 1, "{text}");
    let text = stderr_of(&[
        ("AWS_ACCESS_KEY_ID", &w.user.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", &w.user.secret_access_key),
    ]);
    assert!(text.contains("SDKs use AWS_ACCESS_KEY_ID in the environment before this endpoint"), "{text}");

    // Keys where only awsmfa looks ([dev-long-term]): a client of profile dev asks the endpoint.
    w.keys_in("dev-long-term");
    w.config(&format!(
        "[profile dev-long-term]\nregion = us-east-1\nmfa_serial = {}\n\n[profile dev]\nregion = us-east-1\n",
        w.user.serial
    ));
    let log = w.path("serve.log");
    let s = serve_with(&w, &[("AWS_PROFILE", "dev")], &[], Stdio::from(std::fs::File::create(&log).unwrap()));
    for file in w.cache_files("session-") {
        std::fs::remove_file(file).unwrap(); // a new session needs a code, and there is no source
    }
    let request =
        format!("GET /credentials HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nConnection: close\r\n\r\n", s.token);
    assert_eq!(raw(&s.url, request.as_bytes()), 500);
    drop(s);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("before this endpoint"), "{text}");
    assert_eq!(text.matches("server: the credentials could not be renewed: no MFA code").count(), 1, "{text}");
}

/// CPU time the process has used so far, in clock ticks (utime + stime of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn out_of_file_descriptors_the_server_waits_instead_of_spinning_and_serves_again_after() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    const LIMIT: usize = 32;
    let nofile = format!("--nofile={LIMIT}:{LIMIT}");
    let log = w.path("serve.log");
    let s =
        serve_under(&w, &["prlimit", &nofile, "--"], &[], &[], &[], Stdio::from(std::fs::File::create(&log).unwrap()));
    let pid = s.child.id();
    let address = s.url.strip_prefix("http://").unwrap().split('/').next().unwrap().to_string();
    // More clients than descriptors: each asks once and keeps its connection; the kernel
    // queues the rest, which the server cannot accept.
    let request = format!("GET /credentials HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n", s.token);
    let clients: Vec<TcpStream> = (0..LIMIT + 8)
        .map(|_| {
            let mut stream = TcpStream::connect(&address).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            stream
        })
        .collect();
    let open = || std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
    common::wait_until(
        common::Said(|| format!("the server to run out of descriptors ({} open)", open())),
        PATIENCE,
        || open() >= LIMIT,
    );
    // A bound on work, not on time: a second of accept() failing in a loop costs a core.
    // The second is the point: the CPU the server burns while nothing can change.
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(pid) - before;
    assert!(spent <= 10, "out of descriptors, the server burnt {spent} ticks of CPU in a second");
    drop(clients);
    assert_eq!(get(&s.url, "/credentials", Some(&s.token)), 200, "served again once descriptors are free");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("server: cannot accept connections (too many open files"), "{text}");
}

/// A request sent whole, then the client's side of the connection shut: the status it got
/// ("none" when the server closed without answering).
fn half_closing_get(address: &str, token: &str, close: bool) -> String {
    let close = if close { "Connection: close\r\n" } else { "" };
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET /credentials HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n{close}\r\n").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).split_whitespace().nth(1).unwrap_or("none").to_string()
}

#[test]
fn clients_that_half_close_after_their_request_still_get_their_answer() {
    let w = World::new();
    w.credentials("");
    // A code source that waits for the test's gate, then gives the next window's code (the
    // login below spent the current one).
    let next_code = format!(
        "{} {} totp {} --offset 1",
        common::python(),
        common::repo().join("tests/emulator/fixture.py").display(),
        w.user.seed
    );
    let (code_source, _, gate) = gated_code_source(&w, &next_code);
    w.config(&format!("[default]\nregion = us-east-1\nmfa_serial = {}\nmfa_process = {code_source}\n", w.user.serial));
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let log = w.path("serve.log");
    let s = serve_with(&w, &[], &["-v"], Stdio::from(std::fs::File::create(&log).unwrap()));
    let address = s.url.strip_prefix("http://").unwrap().split('/').next().unwrap().to_string();
    // First while a renewal is in flight (the gate shut until every client is inside), then
    // from the credentials it left; half of the clients ask to keep the connection, half to
    // close it.
    for file in w.cache_files("session-") {
        std::fs::remove_file(file).unwrap();
    }
    const N: usize = 30;
    for phase in ["during a renewal", "with fresh credentials"] {
        let clients: Vec<_> = (0..N)
            .map(|i| {
                let (address, token) = (address.clone(), s.token.clone());
                std::thread::spawn(move || half_closing_get(&address, &token, i % 2 == 0))
            })
            .collect();
        if !gate.exists() {
            common::wait_until(format!("the {N} clients to wait for the renewal"), PATIENCE, || {
                inside_renewal(&log) >= N
            });
            std::fs::write(&gate, "").unwrap();
        }
        let statuses: Vec<String> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        assert!(statuses.iter().all(|s| s == "200"), "{phase}: {statuses:?}");
    }
}

#[test]
fn serve_on_every_interface_prints_a_loopback_url_an_sdk_accepts() {
    let w = World::new();
    w.standard_profile();
    w.awsmfa().args(["login", "--code", &w.code(0)]).assert().success();
    let mut binds = vec![("0.0.0.0:0", "http://127.0.0.1:")];
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        binds.push(("[::]:0", "http://[::1]:"));
    }
    for (listen, expected) in binds {
        let log = w.path("serve.log");
        let s = serve_with_listen(&w, listen, &log);
        assert!(s.url.starts_with(expected) && s.url.ends_with("/credentials"), "--listen {listen} printed {}", s.url);
        let out = w
            .command(common::python())
            .args([
                "-c",
                "import boto3; print(boto3.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])",
            ])
            .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &s.url)
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &s.token)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), w.user.arn, "{}", String::from_utf8_lossy(&out.stderr));
        drop(s);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("serving credentials on every interface"), "{text}");
        assert!(text.contains(&format!("serving credentials at {expected}")), "{text}");
    }
}

fn serve_with_listen(w: &World, listen: &str, log: &std::path::Path) -> Served {
    serve_under(w, &[], &[], &[], &["--listen", listen], Stdio::from(std::fs::File::create(log).unwrap()))
}
