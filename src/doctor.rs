//! `awsmfa doctor`: every link of the chain from the AWS files to a working MFA session,
//! checked in order, each with its verdict and, when it is not ok, the fix. Reads files and
//! makes read-only AWS calls (GetCallerIdentity, ListMFADevices, an EC2 dry run); it never
//! logs in, launches or writes anything.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::credentials::key_tail;
use crate::ec2::{LaunchSpec, ProbeResult};
use crate::error::Error;
use crate::keystore::{Backend, Keystore};
use crate::profile::{Environment, Settings};
use crate::session::cache::Rejected;

/// Clock offsets against AWS beyond these are a warning, then a failure: a TOTP code is
/// valid for 30 s, and AWS accepts one step either side.
pub const CLOCK_WARN: i64 = 10;
pub const CLOCK_FAIL: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn check(name: &'static str, status: Status, detail: impl Into<String>, fix: Option<String>) -> Check {
    Check { check: name, status, detail: detail.into(), fix }
}

fn from_error(name: &'static str, err: &Error) -> Check {
    check(name, Status::Fail, err.message.clone(), err.hint.clone())
}

/// Runs every check. `settings` is what loading them gave (their error is the first
/// finding); `image_id` enables the policy check.
pub fn run(env: &Environment, settings: crate::error::Result<Settings>, image_id: Option<&str>) -> Vec<Check> {
    let mut out = Vec::new();
    let settings = match settings {
        Ok(s) => s,
        Err(err) => {
            out.push(from_error("files", &err));
            return out;
        }
    };
    out.push(files(env, &settings));
    out.push(profile(env, &settings));
    out.push(cache_dir(&settings));
    out.push(keystore(&settings));
    if let Some(arn) = &settings.login_session {
        out.extend(console_session(&settings, &arn.value));
        return out;
    }
    let keys = match settings.keys() {
        Ok(keys) => keys,
        Err(err) => {
            out.push(from_error("keys", &err));
            out.push(credential_process(&settings));
            return out;
        }
    };
    out.push(session(&settings, keys));
    out.push(credential_process(&settings));
    // The network: one GetCallerIdentity proves the keys and the endpoint and reads AWS's clock.
    let spec = match ClientSpec::new(&settings.client, "sts", Signer::LongTerm(keys), Retries::Standard) {
        Ok(spec) => spec,
        Err(err) => {
            out.push(from_error("keys", &err));
            return out;
        }
    };
    let endpoint = spec.describe_endpoint("sts");
    let identity = match aws::sts::caller_identity(&spec) {
        Ok(Ok(identity)) => identity,
        Ok(Err(failure)) => {
            let reachable = matches!(failure, Failure::Service { .. });
            out.push(from_error("keys", &failure.into_error("sts:GetCallerIdentity", &endpoint)));
            if !reachable {
                out.push(check(
                    "endpoints",
                    Status::Fail,
                    format!("no answer from {endpoint} within {}", aws::limits()),
                    Some("check the network, AWS_ENDPOINT_URL* and endpoint_url, or raise cli_connect_timeout / cli_read_timeout in the profile".into()),
                ));
            }
            return out;
        }
        Err(err) => {
            out.push(from_error("keys", &err));
            return out;
        }
    };
    out.push(check(
        "keys",
        Status::Ok,
        format!("key {} ({}) is accepted: {}", key_tail(&keys.access_key_id), keys.origin, identity.arn),
        None,
    ));
    out.push(check(
        "endpoints",
        Status::Ok,
        format!("{endpoint} answered in {} ms ({})", identity.took.as_millis(), aws::limits()),
        None,
    ));
    out.push(clock(identity.clock_offset));
    out.push(mfa_device(&settings, &spec));
    out.push(policy(&settings, image_id));
    out
}

fn files(env: &Environment, settings: &Settings) -> Check {
    let describe = |path: &Path, var: &str| {
        let from = if env.get(var).is_some() { var.to_string() } else { "the default".into() };
        let state = match std::fs::metadata(path) {
            Ok(_) => "read",
            Err(_) => "missing",
        };
        format!("{} ({from}, {state})", path.display())
    };
    let config = describe(&settings.config_path, "AWS_CONFIG_FILE");
    let credentials = describe(&settings.credentials_path, "AWS_SHARED_CREDENTIALS_FILE");
    let neither = !settings.config_path.exists() && !settings.credentials_path.exists();
    check(
        "files",
        if neither { Status::Warn } else { Status::Ok },
        format!("config {config}; credentials {credentials}"),
        neither.then(|| "run `aws configure` (or `awsmfa keys add PROFILE`) to create them".into()),
    )
}

fn profile(env: &Environment, settings: &Settings) -> Check {
    let from = if !settings.profile_named {
        "the default"
    } else if env.get("AWS_PROFILE").is_some() {
        "AWS_PROFILE or --profile"
    } else {
        "--profile or AWS_DEFAULT_PROFILE"
    };
    let mut detail = format!("'{}' (from {from})", settings.profile);
    if settings.base_profile != settings.profile {
        detail.push_str(&format!(", keys of '{}' through {} role(s)", settings.base_profile, settings.roles.len()));
    }
    if let Some(serial) = &settings.serial {
        detail.push_str(&format!(", mfa_serial {} (from {})", serial.value, serial.origin));
    }
    detail.push_str(&format!(
        ", region {}",
        settings.client.region.clone().unwrap_or_else(|| format!("{} (none set)", aws::FALLBACK_REGION))
    ));
    check("profile", Status::Ok, detail, None)
}

fn cache_dir(settings: &Settings) -> Check {
    let dir = &settings.cache_dir;
    match crate::files::read::check_private_dir(dir) {
        Ok(()) if dir.exists() => check("cache", Status::Ok, format!("{} is yours and private", dir.display()), None),
        Ok(()) => {
            check("cache", Status::Ok, format!("{} will be created (0700) at the first login", dir.display()), None)
        }
        Err(err) => from_error("cache", &err),
    }
}

/// The file keystore, when it is in play: the profile's keys are in it, it exists, or new
/// keys would go there. Its directory and the file must be ours and private; it is not
/// opened (no passphrase is asked).
fn keystore(settings: &Settings) -> Check {
    let store = Keystore::new(Backend::File, &settings.keystore);
    let used = settings.own_value(&settings.base_profile, "awsmfa_keystore").and_then(|b| Backend::parse(&b))
        == Some(Backend::File);
    let exists = settings.keystore.file.as_ref().is_some_and(|f| f.symlink_metadata().is_ok());
    if !(used || exists || settings.keystore_default.value == Backend::File) {
        return check("keystore", Status::Skip, "no file keystore in use (new keys go to the keychain)", None);
    }
    match store.check() {
        Ok(true) => check("keystore", Status::Ok, format!("{} is yours and private", store.describe()), None),
        Ok(false) if used => check(
            "keystore",
            Status::Fail,
            format!(
                "{} does not exist, yet profile '{}' keeps its keys there",
                store.describe(),
                settings.base_profile
            ),
            Some(format!("add the keys again with `awsmfa keys add {}`", settings.base_profile)),
        ),
        Ok(false) => check(
            "keystore",
            Status::Ok,
            format!("{} will be created (0600) by `awsmfa keys add` or `keys import`", store.describe()),
            None,
        ),
        Err(err) => from_error("keystore", &err),
    }
}

fn session(settings: &Settings, keys: &crate::credentials::LongTermKeys) -> Check {
    let (cache, key) = crate::session::cache_for(&settings.session(), keys);
    let now = crate::clock::now();
    match cache.load(&key) {
        Ok(c) if c.session.seconds_left(now) > 0 => check(
            "session",
            Status::Ok,
            format!(
                "valid until {} ({} left)",
                crate::clock::human_utc(c.session.expiration),
                crate::clock::human_duration(c.session.seconds_left(now))
            ),
            None,
        ),
        Ok(c) => check(
            "session",
            Status::Warn,
            format!("expired at {}", crate::clock::human_utc(c.session.expiration)),
            Some("`awsmfa login` gets a new one".into()),
        ),
        Err(Rejected::Missing) => check("session", Status::Warn, "none cached", Some("`awsmfa login` gets one".into())),
        Err(Rejected::Unsafe(why)) => check("session", Status::Warn, why, Some("`awsmfa login` replaces it".into())),
        Err(Rejected::Refused(err)) => from_error("session", &err),
    }
}

/// `credential_process` lines that run awsmfa: the program must exist (on PATH when named
/// bare) and be this version. Asked once per distinct program, never from AWS files others
/// control (the rule of `mfa_process`), and within `PROGRAM_LIMIT`.
fn credential_process(settings: &Settings) -> Check {
    let mut problems = Vec::new();
    // Each program asked once, however many profiles name it: (program, its profiles).
    let mut programs: Vec<(String, Vec<String>)> = Vec::new();
    for name in settings.files().profile_names() {
        let Some(line) = settings.own_value(&name, "credential_process") else { continue };
        let program = first_word(&line);
        if Path::new(&program).file_name().and_then(|f| f.to_str()) != Some("awsmfa") {
            continue;
        }
        match programs.iter_mut().find(|(p, _)| *p == program) {
            Some((_, profiles)) => profiles.push(name),
            None => programs.push((program, vec![name])),
        }
    }
    let seen: usize = programs.iter().map(|(_, profiles)| profiles.len()).sum();
    if seen > 0
        && let Err(err) = settings.may_run("the credential_process programs")
    {
        return check(
            "credential_process",
            Status::Fail,
            format!("{} (of {seen} profile(s)); none was run", err.message),
            err.hint,
        );
    }
    for (program, profiles) in &programs {
        let who = match profiles.as_slice() {
            [one] => format!("profile '{one}' runs"),
            many => format!("profiles '{}' run", many.join("', '")),
        };
        let Some(path) = locate_program(program) else {
            problems.push(format!(
                "{who} {program}, which is not found{}",
                if program.contains('/') { "" } else { " on PATH" }
            ));
            continue;
        };
        match program_version(&path) {
            Some(v) if v == env!("CARGO_PKG_VERSION") => {}
            Some(v) => {
                problems.push(format!("{who} {} version {v}, not this {}", path.display(), env!("CARGO_PKG_VERSION")))
            }
            None => problems.push(format!(
                "{who} {}, which does not answer --version as awsmfa (within {} s)",
                path.display(),
                PROGRAM_LIMIT.as_secs()
            )),
        }
    }
    match (seen, problems.is_empty()) {
        (0, _) => check("credential_process", Status::Skip, "no profile runs awsmfa through credential_process", None),
        (n, true) => check("credential_process", Status::Ok, format!("{n} profile(s) run this awsmfa"), None),
        (_, false) => check(
            "credential_process",
            Status::Fail,
            problems.join("; "),
            Some("point credential_process at this awsmfa (its full path), or install it on PATH".into()),
        ),
    }
}

fn first_word(line: &str) -> String {
    let line = line.trim();
    match line.strip_prefix('"') {
        Some(rest) => rest.split('"').next().unwrap_or("").to_string(),
        None => line.split_whitespace().next().unwrap_or("").to_string(),
    }
}

fn locate_program(program: &str) -> Option<std::path::PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| program.into());
    }
    crate::profile::search_path().into_iter().map(|d| d.join(program)).find(|p| p.is_file())
}

/// How long a `credential_process` program may take to say its version.
const PROGRAM_LIMIT: Duration = Duration::from_secs(5);

/// The version an awsmfa binary reports ("awsmfa 0.1.0"), within `PROGRAM_LIMIT`. It runs
/// in a process group of its own, killed whole afterwards: a program that hangs, or leaves
/// something running that holds its output open, costs the limit once and leaves nothing.
fn program_version(path: &Path) -> Option<String> {
    let mut command = std::process::Command::new(path);
    // It asked for nothing: no key, code, seed or passphrase of ours goes with the question.
    for name in crate::mfa::SECRET_VARIABLES.iter().chain(&["AWS_ACCESS_KEY_ID"]) {
        command.env_remove(name);
    }
    command
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = crate::platform::spawn_group(&mut command).ok()?;
    let mut stdout = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        // At most a line's worth: a version is short, and a flood is not awsmfa.
        let read = std::io::Read::read_to_string(&mut std::io::Read::take(&mut stdout, 4096), &mut text);
        let _ = tx.send(read.ok().map(|_| text));
    });
    // The output ends when every process of the group has closed it (or the limit comes);
    // the group is killed before the child is reaped, while its pid still names the group.
    let text = rx.recv_timeout(PROGRAM_LIMIT).ok().flatten();
    crate::platform::kill_group(&mut child);
    let _ = child.wait();
    text?.trim().strip_prefix("awsmfa ").map(str::to_string)
}

fn clock(offset: Option<i64>) -> Check {
    let Some(offset) = offset else {
        return check("clock", Status::Skip, "AWS's answer had no Date header", None);
    };
    let shown =
        format!("this machine's clock is {} s {} AWS's", offset.abs(), if offset > 0 { "behind" } else { "ahead of" });
    let fix = Some(
        "sync the clock (`timedatectl set-ntp true`, or your OS's time settings): MFA codes depend on it".to_string(),
    );
    match offset.abs() {
        0..=CLOCK_WARN => check("clock", Status::Ok, format!("within {CLOCK_WARN} s of AWS's ({offset:+} s)"), None),
        a if a <= CLOCK_FAIL => check("clock", Status::Warn, shown, fix),
        _ => check("clock", Status::Fail, format!("{shown}: codes typed now will be refused"), fix),
    }
}

fn mfa_device(settings: &Settings, spec: &ClientSpec) -> Check {
    let iam = spec.with_service(&settings.client, "iam");
    let devices = match aws::iam::list_mfa_devices(&iam, None) {
        Ok(Ok(devices)) => devices,
        Ok(Err(failure)) => {
            return from_error("mfa-device", &failure.into_error("iam:ListMFADevices", &iam.describe_endpoint("iam")));
        }
        Err(err) => return from_error("mfa-device", &err),
    };
    match (&settings.serial, devices.as_slice()) {
        (Some(serial), _) if devices.contains(&serial.value) => {
            check("mfa-device", Status::Ok, format!("{} is enabled for this user", serial.value), None)
        }
        (Some(serial), _) => check(
            "mfa-device",
            Status::Fail,
            format!(
                "{} (from {}) is not an enabled device of this user (theirs: {})",
                serial.value,
                serial.origin,
                if devices.is_empty() { "none".into() } else { devices.join(", ") }
            ),
            Some("correct mfa_serial, or `awsmfa enroll` a device".into()),
        ),
        (None, []) => check(
            "mfa-device",
            Status::Fail,
            "this user has no MFA device",
            Some("`awsmfa enroll` creates and enables one".into()),
        ),
        (None, [one]) => {
            check("mfa-device", Status::Ok, format!("{one} (the user's only device; mfa_serial not set)"), None)
        }
        (None, many) => check(
            "mfa-device",
            Status::Warn,
            format!("this user has {} devices: {}", many.len(), many.join(", ")),
            Some("choose one with mfa_serial in the profile".into()),
        ),
    }
}

/// verify's pre-test alone: an EC2 dry run with the long-term keys must be denied.
fn policy(settings: &Settings, image_id: Option<&str>) -> Check {
    let Some(image_id) = image_id else {
        return check(
            "policy",
            Status::Skip,
            "not checked: no image to dry-run a launch with",
            Some("pass --image-id AMI (or set AWS_IMAGE_ID) to check that the account denies EC2 without MFA".into()),
        );
    };
    let launch = LaunchSpec::probe_of(image_id);
    match crate::enforce::pre_test(settings, &launch) {
        Ok(ProbeResult::Denied { .. }) => {
            check("policy", Status::Ok, "long-term keys may not launch EC2 (dry run denied): MFA is enforced", None)
        }
        Ok(ProbeResult::Allowed) => check(
            "policy",
            Status::Fail,
            "long-term keys could launch EC2 (dry run allowed): MFA is NOT enforced",
            Some("`awsmfa policy --apply --user NAME` attaches the policy that enforces it".into()),
        ),
        Ok(ProbeResult::Failed(err)) => {
            check("policy", Status::Warn, format!("no verdict: {}", err.message), err.hint.clone())
        }
        Err(err) => from_error("policy", &err),
    }
}

/// Session `arn` where the profile keeps it (the AWS CLI's file, or the keystore), and that
/// place for messages (when it is not there: where it was looked for, "on this machine").
/// A file that is not a session is an error.
fn kept_or_file(
    plan: &crate::login::Plan,
    arn: &str,
) -> crate::error::Result<(Option<Box<crate::login::cache::LoginToken>>, String)> {
    use crate::login::{self, cache};
    if let Some(kept) = &plan.kept {
        let keystore = kept.keystore();
        return Ok(match login::kept::load(&keystore, arn)? {
            Some(token) => (Some(Box::new(token)), keystore.describe()),
            None => (None, format!("in {}", keystore.describe())),
        });
    }
    let dir = login::cache_dir(plan)?;
    let place = cache::path(&dir, arn).display().to_string();
    match cache::load(&dir, arn)? {
        cache::Loaded::Token(token) => Ok((Some(token), place)),
        cache::Loaded::Missing => Ok((None, "on this machine".into())),
        cache::Loaded::Unusable(why) => Err(crate::error::Error::config(why)),
    }
}

/// A console sign-in session: its file, until when AWS renews it, and (while its
/// credentials last) that AWS takes them. Nothing is renewed here: doctor writes nothing.
fn console_session(settings: &Settings, arn: &str) -> Vec<Check> {
    use crate::login;
    let plan = settings.login();
    let keystore_flag = if plan.kept.is_some() { " --keystore" } else { "" };
    let again = format!("sign in again: `awsmfa login --console{keystore_flag} --profile {}`", settings.base_profile);
    let (token, place) = match kept_or_file(&plan, arn) {
        Ok((Some(token), place)) => (token, place),
        Ok((None, place)) => {
            return vec![check(
                "sign-in",
                Status::Fail,
                format!("no console sign-in session {arn} {place}"),
                Some(again),
            )];
        }
        Err(err) => return vec![check("sign-in", Status::Fail, err.message, err.hint.or(Some(again)))],
    };
    let now = crate::clock::now();
    // Every renewal signs with the session's key: without one, no use renews it.
    if let Err(err) = login::dpop::DpopKey::from_pem(&token.dpop_key) {
        return vec![check("sign-in", Status::Fail, format!("{} in {place}", err.message), Some(again))];
    }
    let renewable = login::renewable_until(&token);
    let mut out = vec![match renewable {
        Some(t) if t <= now => check(
            "sign-in",
            Status::Fail,
            format!("the session {arn} could be renewed until {}: it has ended", crate::clock::human_utc(t)),
            Some(again.clone()),
        ),
        Some(t) => check(
            "sign-in",
            Status::Ok,
            format!("{arn} in {place}, renewable until {}", crate::clock::human_utc(t)),
            None,
        ),
        None => check("sign-in", Status::Ok, format!("{arn} in {place} (signed in by another tool)"), None),
    }];
    let session = match token.session() {
        Ok(s) if s.seconds_left(now) > 0 => s,
        _ => {
            out.push(check(
                "keys",
                Status::Skip,
                "its credentials have expired: the next use renews them (AWS Sign-In, signin:CreateOAuth2Token)",
                Some("a renewal refused with INSUFFICIENT_PERMISSIONS needs the AWS managed policy SignInLocalDevelopmentAccess".into()),
            ));
            return out;
        }
    };
    let spec = match ClientSpec::new(&settings.client, "sts", Signer::Session(&session), Retries::Standard) {
        Ok(spec) => spec,
        Err(err) => {
            out.push(from_error("keys", &err));
            return out;
        }
    };
    match aws::sts::caller_identity(&spec) {
        Ok(Ok(identity)) => {
            out.push(check("keys", Status::Ok, format!("its credentials are accepted: {}", identity.arn), None));
            out.push(clock(identity.clock_offset));
        }
        Ok(Err(failure)) => {
            out.push(from_error("keys", &failure.into_error("sts:GetCallerIdentity", &spec.describe_endpoint("sts"))))
        }
        Err(err) => out.push(from_error("keys", &err)),
    }
    out
}
