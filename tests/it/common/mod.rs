//! Test support: the local AWS emulator (shared by every test of a run), a fixture IAM user
//! with a virtual MFA device, and a fresh HOME per test. Tests never read the real ~/.aws.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator's Python: the project's virtual environment, made on first use.
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new(repo().join("scripts/venv")).output().expect("run scripts/venv");
        assert!(out.status.success(), "scripts/venv failed: {}", String::from_utf8_lossy(&out.stderr));
        let venv = String::from_utf8(out.stdout).unwrap().trim().to_string();
        format!("{venv}/bin/python")
    })
}

/// node_modules with the AWS SDK for JavaScript v3 (pinned), installed with npm on first use
/// into ~/.cache/awsmfa/node (AWSMFA_NODE_PREFIX overrides).
pub fn node_modules() -> &'static str {
    static MODULES: OnceLock<String> = OnceLock::new();
    MODULES.get_or_init(|| {
        let prefix = std::env::var("AWSMFA_NODE_PREFIX")
            .unwrap_or_else(|_| format!("{}/.cache/awsmfa/node", std::env::var("HOME").unwrap()));
        let wanted = ["@aws-sdk/client-sts@3.1177.0", "@aws-sdk/credential-providers@3.1175.0"];
        let stamp = Path::new(&prefix).join(".awsmfa-stamp");
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(&wanted.join(" ")) {
            let out = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix", &prefix])
                .args(wanted)
                .output()
                .expect("run npm (it comes with node)");
            assert!(out.status.success(), "npm install failed: {}", String::from_utf8_lossy(&out.stderr));
            std::fs::write(&stamp, wanted.join(" ")).unwrap();
        }
        format!("{prefix}/node_modules")
    })
}

pub fn venv_bin(name: &str) -> String {
    let python = python();
    format!("{}/{name}", Path::new(python).parent().unwrap().display())
}

static OWN_EMULATOR: Mutex<Option<OwnEmulator>> = Mutex::new(None);

/// The emulator's URL: AWSMFA_TEST_ENDPOINT (scripts/test starts one for the whole run),
/// else one started here for this test binary, which exits when the binary does.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(url) = std::env::var("AWSMFA_TEST_ENDPOINT") {
            return url;
        }
        let own = OwnEmulator::start();
        let url = own.url.clone();
        *OWN_EMULATOR.lock().unwrap() = Some(own);
        url
    })
}

/// An emulator of this test's own (for hooks that change the whole emulator, such as its
/// clock), stopped when dropped.
pub struct OwnEmulator {
    child: Child,
    pub url: String,
}

impl OwnEmulator {
    pub fn start() -> OwnEmulator {
        let mut child = Command::new(repo().join("scripts/emulator"))
            .args(["--port", "0"])
            .env("AWSMFA_EMULATOR_EXIT_WITH_PARENT", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start scripts/emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("ready ").unwrap_or_else(|| panic!("emulator said {line:?}")).to_string();
        OwnEmulator { child, url }
    }

    /// POST or GET a test hook of this emulator.
    pub fn hook(&self, method: &str, path: &str) -> Value {
        hook_at(&self.url, method, path)
    }
}

impl Drop for OwnEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An IAM user made by tests/emulator/fixture.py: long-term keys and an enabled virtual
/// MFA device, with the "deny unless MFA" policy unless asked otherwise.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub serial: String,
    pub seed: String,
    pub account_id: String,
}

pub fn fixture(args: &[&str]) -> User {
    fixture_at(endpoint(), args)
}

/// A fixture user in the emulator at `endpoint`.
pub fn fixture_at(endpoint: &str, args: &[&str]) -> User {
    let out = Command::new(python())
        .arg(repo().join("tests/emulator/fixture.py"))
        .args(["--endpoint", endpoint])
        .args(args)
        .output()
        .expect("run fixture.py");
    assert!(out.status.success(), "fixture.py failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("fixture prints JSON");
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    User {
        name: s("user_name"),
        arn: s("user_arn"),
        access_key_id: s("access_key_id"),
        secret_access_key: s("secret_access_key"),
        serial: s("serial"),
        seed: s("seed"),
        account_id: s("account_id"),
    }
}

/// A role made by fixture.py whose trust policy allows `trusted` (user or role ARNs),
/// requiring MFA unless `--no-mfa` is among `args`. Returns (role ARN, role name).
pub fn role(trusted: &[&str], args: &[&str]) -> (String, String) {
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("tests/emulator/fixture.py")).args(["--endpoint", endpoint(), "role"]);
    for arn in trusted {
        cmd.args(["--trust", arn]);
    }
    let out = cmd.args(args).output().expect("run fixture.py role");
    assert!(out.status.success(), "fixture.py role failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("fixture prints JSON");
    (v["role_arn"].as_str().unwrap().to_string(), v["role_name"].as_str().unwrap().to_string())
}

/// How many AssumeRole calls for this role succeeded.
pub fn assume_role_calls(role_arn: &str) -> u64 {
    hook("GET", "/_awsmfa/stats")["assume_role"][role_arn].as_u64().unwrap_or(0)
}

/// The device's code `offset` steps from now (AWS accepts -1, 0 and +1).
pub fn totp(seed: &str, offset: i64) -> String {
    let key = awsmfa::mfa::totp::decode_base32(seed).expect("seed");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    awsmfa::mfa::totp::code_at_step(&key, (now as i64 / 30 + offset) as u64)
}

/// GET a path of the emulator's test hooks; returns the JSON body.
pub fn hook(method: &str, path: &str) -> Value {
    hook_at(endpoint(), method, path)
}

pub fn hook_at(endpoint: &str, method: &str, path: &str) -> Value {
    let url = endpoint.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(url).unwrap();
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: {url}\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Whether the emulator holds the call of `action` made as `user` right now (/_awsmfa/hold).
pub fn holding(user: &str, action: &str) -> bool {
    let label = format!("{user}:{action}");
    hook("GET", "/_awsmfa/stats")["holding"].as_array().unwrap().iter().any(|h| h == &label)
}

/// How many held calls of `action` made as `user` the emulator handled to the end (the work
/// done after the hold, whether or not the client was still there for the answer).
pub fn held(user: &str, action: &str) -> u64 {
    hook("GET", "/_awsmfa/stats")["held"][format!("{user}:{action}")].as_u64().unwrap_or(0)
}

/// Waits until the emulator holds `action` of `user`, `child` (the caller) still running.
pub fn wait_for_hold(user: &str, action: &str, child: &mut Child) {
    wait_until(format!("the emulator to hold {action} of {user}"), PATIENCE, || {
        assert!(child.try_wait().unwrap().is_none(), "the client ended before {action} was held");
        holding(user, action)
    });
}

/// Ends the emulator's hold of `action` of `user` now (nothing when no hold is left).
pub fn release(user: &str, action: &str) {
    hook("POST", &format!("/_awsmfa/release?user={user}&action={action}"));
}

/// Ends the hold of `action` of `user` (its client killed meanwhile) and waits until the
/// emulator handled the call to the end: what IAM does with a call its client never hears of.
pub fn finish_held(user: &str, action: &str) {
    release(user, action);
    wait_until(format!("the emulator to finish the held {action} of {user}"), PATIENCE, || held(user, action) >= 1);
}

/// How long a test waits for a sign that something happened before it fails: long, as the
/// machine may be loaded (other builds run beside the tests); a wait ends at the sign.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `ready` until it gives a value; fails, naming `what`, after `deadline`. For waits
/// on something a test can observe (a file, a line printed, an emulator counter, a process
/// state), instead of sleeping for a guessed time.
pub fn wait_for<T>(what: impl std::fmt::Display, deadline: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(started.elapsed() < deadline, "waited {}s for {what}", deadline.as_secs());
        std::thread::sleep(Duration::from_millis(20)); // the pace of the polls
    }
}

/// `wait_for` a condition.
pub fn wait_until(what: impl std::fmt::Display, deadline: Duration, mut ready: impl FnMut() -> bool) {
    wait_for(what, deadline, || ready().then_some(()))
}

/// What a wait is for, said only when it fails (a message that reads a log then).
pub struct Said<F: Fn() -> String>(pub F);

impl<F: Fn() -> String> std::fmt::Display for Said<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.0)())
    }
}

/// Whether `file` (a log a process writes) holds `text` yet.
pub fn says(file: &Path, text: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|t| t.contains(text))
}

/// A child process killed when dropped (a helper a test started, whatever way it ends).
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process holding an exclusive flock on a file (as another awsmfa, the AWS CLI or an SDK
/// holding it): taken when `hold_lock` returns, let go by `release` or when dropped.
pub struct LockHolder(Killed);

/// Takes the exclusive lock on `path` in another process (Python's flock: the lock awsmfa
/// takes); returns once it is held. It is held until the holder's standard input closes.
pub fn hold_lock(w: &World, path: &Path) -> LockHolder {
    let script = "import fcntl, sys\n\
        f = open(sys.argv[1], 'a')\n\
        fcntl.flock(f, fcntl.LOCK_EX)\n\
        print('held', flush=True)\n\
        sys.stdin.read()\n";
    let mut child = w
        .command(python())
        .args(["-c", script])
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "held\n", "the lock on {} was never held", path.display());
    LockHolder(Killed(child))
}

impl LockHolder {
    /// Lets go of the lock, and waits until the holder is gone.
    pub fn release(&mut self) {
        drop(self.0.0.stdin.take());
        self.0.0.wait().unwrap();
    }
}

/// How many GetSessionToken calls with these long-term keys succeeded.
pub fn sts_calls(access_key_id: &str) -> u64 {
    hook("GET", "/_awsmfa/stats")["get_session_token"][access_key_id].as_u64().unwrap_or(0)
}

/// How many GetSessionToken calls with these long-term keys reached the emulator.
pub fn sts_attempts(access_key_id: &str) -> u64 {
    hook("GET", "/_awsmfa/stats")["get_session_token_attempts"][access_key_id].as_u64().unwrap_or(0)
}

/// A test's world: a fresh HOME with empty ~/.aws, one fixture user, the emulator.
pub struct World {
    pub home: tempfile::TempDir,
    pub user: User,
    /// Codes this test already handed out: AWS takes each code once.
    spent: std::cell::RefCell<Vec<String>>,
}

impl World {
    pub fn new() -> World {
        Self::with_fixture(&[])
    }

    pub fn with_fixture(args: &[&str]) -> World {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        World { home, user: fixture(args), spent: Default::default() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    /// The environment every command of this world gets: nothing of the real user's.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.home.path().display().to_string()),
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("AWS_ENDPOINT_URL".into(), endpoint().to_string()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            // A wait for the device's next code moves awsmfa's clock instead of taking 30 s
            // (the emulator takes the next window's code): no test waits for a TOTP window.
            (awsmfa::clock::TEST_CLOCK_VARIABLE.into(), "skip-waits".into()),
        ]
    }

    /// `awsmfa` with this world's environment (and nothing else).
    pub fn awsmfa(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("awsmfa").unwrap();
        cmd.env_clear().envs(self.env()).current_dir(self.home.path()).timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// `awsmfa` as a script or a cron job runs it: no controlling terminal (a session of
    /// its own, `setsid --wait`), whatever terminal the test run has.
    pub fn awsmfa_without_terminal(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new("setsid");
        cmd.env_clear()
            .envs(self.env())
            .current_dir(self.home.path())
            .timeout(std::time::Duration::from_secs(60))
            .arg("--wait")
            .arg(assert_cmd::cargo::cargo_bin("awsmfa"));
        cmd
    }

    /// A plain process (bash, the AWS CLI) with this world's environment.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.env()).current_dir(self.home.path());
        cmd
    }

    /// Writes ~/.aws/credentials with the user's keys as [default] plus `extra`.
    pub fn credentials(&self, extra: &str) -> PathBuf {
        let text = format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n{extra}",
            self.user.access_key_id, self.user.secret_access_key
        );
        let path = self.path(".aws/credentials");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Writes ~/.aws/credentials with the user's keys under `[section]` alone.
    pub fn keys_in(&self, section: &str) -> PathBuf {
        let path = self.path(".aws/credentials");
        let text = format!(
            "[{section}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.user.access_key_id, self.user.secret_access_key
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Writes ~/.aws/config.
    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.path(".aws/config");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Long-term keys in [default] and mfa_serial + region in the config: the usual setup.
    pub fn standard_profile(&self) {
        self.credentials("");
        self.config(&format!("[default]\nregion = us-east-1\nmfa_serial = {}\n", self.user.serial));
    }

    /// An `mfa_process` command that prints the device's current code and appends a line to
    /// the returned file each time it runs (after `delay`, e.g. "0.5", to widen races).
    pub fn counting_code_command(&self, delay: &str) -> (String, PathBuf) {
        let counter = self.path("code-runs");
        let command = format!(
            "echo run >> {} && sleep {delay} && {} {} totp {}",
            counter.display(),
            python(),
            repo().join("tests/emulator/fixture.py").display(),
            self.user.seed
        );
        (command, counter)
    }

    /// A code the emulator accepts now and this test has not used yet: the one `offset`
    /// steps from now, or, when a 30 s boundary made that one spent, a neighbour.
    pub fn code(&self, offset: i64) -> String {
        let mut spent = self.spent.borrow_mut();
        let code = [offset, 0, 1, -1]
            .iter()
            .map(|o| totp(&self.user.seed, *o))
            .find(|c| !spent.contains(c))
            .expect("three fresh codes in a row");
        spent.push(code.clone());
        code
    }

    pub fn sts_calls(&self) -> u64 {
        sts_calls(&self.user.access_key_id)
    }

    /// JSON files in the cache directory (~/.aws/awsmfa) whose names start with `prefix`.
    pub fn cache_files(&self, prefix: &str) -> Vec<PathBuf> {
        let dir = self.path(".aws/awsmfa");
        let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .collect();
        files.sort();
        files
    }
}

/// Parses `KEY=value` lines (the env-no-export and dotenv formats).
pub fn parse_vars(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim_start_matches("export ").to_string(), v.to_string()))
        .collect()
}
