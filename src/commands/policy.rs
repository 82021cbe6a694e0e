//! `awsmfa policy`: the IAM policy that enforces MFA, printed for `aws iam put-user-policy`,
//! or (`--apply`) attached by awsmfa itself, guarded against locking the caller out, and
//! proven with verify's two dry runs.

use std::time::{Duration, Instant};

use super::{print, request, settings};
use crate::aws::iam::PolicyHolder;
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::cli::{GlobalArgs, PolicyArgs};
use crate::ec2::{LaunchSpec, ProbeResult};
use crate::error::{Error, Kind, Result};
use crate::mfa::enroll::Iam;
use crate::output::policy::{diff, document};
use crate::profile::Settings;
use crate::session;
use crate::ui;

/// How long a new policy may take to reach EC2 (IAM is eventually consistent).
const PROPAGATION: Duration = Duration::from_secs(60);

pub fn run(global: &GlobalArgs, args: PolicyArgs) -> Result<i32> {
    let doc = document(args.scope);
    let text = serde_json::to_string_pretty(&doc).expect("json");
    if !args.apply {
        return print(format!("{text}\n").as_bytes());
    }
    check_iam_name("--name", "a policy name", &args.name, 128)?;
    if let Some(user) = &args.user {
        check_iam_name("--user", "a user name", user, 64)?;
    }
    if let Some(group) = &args.group {
        check_iam_name("--group", "a group name", group, 128)?;
    }
    let target = match (&args.user, &args.group) {
        (Some(user), None) => Target::User(user.clone()),
        (None, Some(group)) => Target::Group(group.clone()),
        _ => {
            return Err(Error::new(Kind::Usage, "--apply needs --user NAME or --group NAME")
                .hint("e.g. awsmfa policy --apply --user alice --dry-run"));
        }
    };
    let settings = settings(global, &args.session)?;
    let keys = settings.keys()?;
    let spec = ClientSpec::new(&settings.client, "iam", Signer::LongTerm(keys), Retries::Standard)?;
    let iam = Iam::new(&spec);
    let caller = iam.caller(&settings.client)?;
    let me = caller.user.clone().unwrap_or_default();
    let signed = Signed { settings: &settings, args: &args, spec: std::cell::RefCell::new(spec.clone()) };
    // IAM names are case-insensitive: `--user ALICE` is alice, and so are her groups.
    let affects_me = match &target {
        Target::User(user) => user.eq_ignore_ascii_case(&me),
        Target::Group(group) => signed
            .call("iam:ListGroupsForUser", |spec| groups_of(spec, &me))?
            .iter()
            .any(|g| g.eq_ignore_ascii_case(group)),
    };
    // Lock-out guard: the policy denies all but MFA self-service to keys without MFA.
    if affects_me && iam.devices(&me)?.is_empty() {
        return Err(Error::config(format!(
            "refusing to apply the policy to {target}: it covers you ({me}), and you have no MFA device, so every call of yours but enrolling one would be denied"
        ))
        .hint("`awsmfa enroll` your device first, then apply the policy"));
    }
    let existing = signed.call(target.get_call(), |spec| current_policy(spec, &target, &args.name))?;
    let same = existing.as_ref().is_some_and(|old| *old == doc);
    if let Some(old) = existing.as_ref().filter(|_| !same) {
        let old_text = serde_json::to_string_pretty(old).expect("json");
        let shown = format!(
            "{target} already has a policy named {} with other content:\n{}",
            args.name,
            diff(&old_text, &text)
        );
        if !args.replace {
            ui::note(&shown);
            return Err(Error::config(format!("the policy {} of {target} differs from awsmfa's", args.name))
                .hint("pass --replace to replace it, or --name to attach awsmfa's beside it"));
        }
        ui::note(&shown);
    }
    let call = target.put_call();
    if args.dry_run {
        let plan = if same {
            format!("{target} already has this policy as {}: no call would be made\n", args.name)
        } else {
            format!("{call} {} PolicyName={} PolicyDocument=\n{text}\n", target.parameter(), args.name)
        };
        return print(plan.as_bytes());
    }
    if same {
        ui::note(&format!("{target} already has this policy as {}", args.name));
    } else {
        signed.call(call, |spec| put_policy(spec, &target, &args.name, &text))?;
        ui::note(&format!("attached {} to {target}", args.name));
    }
    match (&args.image_id, affects_me) {
        (Some(image), true) => prove(&settings, &args, image),
        (Some(_), false) => {
            ui::note(&format!("to prove it, run `awsmfa verify` with the keys of {target}"));
            Ok(0)
        }
        (None, _) => {
            ui::note("to prove it: `awsmfa verify --image-id AMI` (or pass --image-id here)");
            Ok(0)
        }
    }
}

/// A name as IAM takes it (`[\w+=,.@-]+`, `max` characters at most): a newline or a quote
/// in one would otherwise split or forge the lines of our own messages before IAM refused it.
fn check_iam_name(flag: &str, what: &str, name: &str, max: usize) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if !name.is_empty() && name.len() <= max && name.chars().all(allowed) {
        return Ok(());
    }
    Err(Error::config(format!("{flag} {name:?} is not {what} IAM accepts"))
        .hint(format!("use 1 to {max} of the characters [A-Za-z0-9+=,.@_-]")))
}

/// IAM calls signed with the long-term keys, switching once to an MFA session when they are
/// denied: the caller may be under an MFA policy already.
struct Signed<'a> {
    settings: &'a Settings,
    args: &'a PolicyArgs,
    spec: std::cell::RefCell<ClientSpec>,
}

impl Signed<'_> {
    fn call<T>(&self, action: &str, f: impl Fn(&ClientSpec) -> Result<std::result::Result<T, Failure>>) -> Result<T> {
        let first = f(&self.spec.borrow())?;
        let failure = match first {
            Ok(v) => return Ok(v),
            Err(Failure::Service { code, .. }) if code == "AccessDenied" && !self.upgraded() => {
                ui::note(&format!("{action} is denied without MFA; going on with an MFA session"));
                let got = session::get_session(&self.settings.session(), &request(&self.args.session, false)?)?;
                *self.spec.borrow_mut() =
                    ClientSpec::new(&self.settings.client, "iam", Signer::Session(&got.session), Retries::Standard)?;
                match f(&self.spec.borrow())? {
                    Ok(v) => return Ok(v),
                    Err(failure) => failure,
                }
            }
            Err(failure) => failure,
        };
        Err(failure.into_error(action, &self.spec.borrow().describe_endpoint("iam")))
    }

    fn upgraded(&self) -> bool {
        self.spec.borrow().is_session()
    }
}

enum Target {
    User(String),
    Group(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::User(u) => write!(f, "IAM user {u}"),
            Target::Group(g) => write!(f, "IAM group {g}"),
        }
    }
}

impl Target {
    fn put_call(&self) -> &'static str {
        match self {
            Target::User(_) => "iam:PutUserPolicy",
            Target::Group(_) => "iam:PutGroupPolicy",
        }
    }
    fn get_call(&self) -> &'static str {
        match self {
            Target::User(_) => "iam:GetUserPolicy",
            Target::Group(_) => "iam:GetGroupPolicy",
        }
    }
    fn parameter(&self) -> String {
        match self {
            Target::User(u) => format!("UserName={u}"),
            Target::Group(g) => format!("GroupName={g}"),
        }
    }
}

fn groups_of(spec: &ClientSpec, user: &str) -> Result<std::result::Result<Vec<String>, Failure>> {
    if user.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    aws::iam::list_groups_for_user(spec, user)
}

impl Target {
    fn holder(&self) -> PolicyHolder<'_> {
        match self {
            Target::User(user) => PolicyHolder::User(user),
            Target::Group(group) => PolicyHolder::Group(group),
        }
    }
}

/// The inline policy `name` of the target, parsed; None when there is none.
fn current_policy(
    spec: &ClientSpec,
    target: &Target,
    name: &str,
) -> Result<std::result::Result<Option<serde_json::Value>, Failure>> {
    let document = match aws::iam::get_inline_policy(spec, &target.holder(), name)? {
        Ok(d) => d,
        Err(Failure::Service { code, .. }) if code == "NoSuchEntity" => return Ok(Ok(None)),
        Err(f) => return Ok(Err(f)),
    };
    // IAM returns policy documents URL-encoded (RFC 3986).
    let decoded = percent_encoding::percent_decode_str(&document).decode_utf8_lossy().into_owned();
    Ok(Ok(Some(serde_json::from_str(&decoded).unwrap_or(serde_json::Value::String(decoded)))))
}

fn put_policy(spec: &ClientSpec, target: &Target, name: &str, text: &str) -> Result<std::result::Result<(), Failure>> {
    aws::iam::put_inline_policy(spec, &target.holder(), name, text)
}

/// verify's pre-test (long-term keys denied; retried while the policy propagates) and
/// post-test (the MFA session allowed), by EC2 dry run.
fn prove(settings: &Settings, args: &PolicyArgs, image: &str) -> Result<i32> {
    let launch = LaunchSpec::probe_of(image);
    let started = Instant::now();
    loop {
        match crate::enforce::pre_test(settings, &launch)? {
            ProbeResult::Denied { .. } => break,
            ProbeResult::Allowed if started.elapsed() < PROPAGATION => std::thread::sleep(Duration::from_secs(2)),
            ProbeResult::Allowed => {
                return Err(Error::new(Kind::NotEnforced, format!(
                    "MFA is NOT enforced: long-term keys can still launch {}s after the policy was attached",
                    PROPAGATION.as_secs()
                ))
                .hint("check for an Allow with higher precedence (an SCP or a permissions boundary) and run `awsmfa verify` again"));
            }
            ProbeResult::Failed(err) => return Err(err),
        }
    }
    ui::note("pre-test: long-term keys may not launch (dry run denied): ok");
    let got = session::get_session(&settings.session(), &request(&args.session, false)?)?;
    match crate::enforce::post_test(settings, &got.session, &launch)? {
        ProbeResult::Allowed => {
            ui::note("post-test: the MFA session may launch (dry run allowed): ok; MFA is enforced and working");
            Ok(0)
        }
        ProbeResult::Denied { message, .. } => {
            Err(Error::denied(format!("post-test: denied even with MFA: {message}"))
                .hint("the account denies this launch for other reasons too: check the user's other policies"))
        }
        ProbeResult::Failed(err) => Err(err),
    }
}
