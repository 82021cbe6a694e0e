//! `policy --apply`: the policy that enforces MFA attached by awsmfa itself to an IAM user or
//! group, guarded against locking the caller out (it covers them and they have no device),
//! compared with what is there (`--replace` to change it), and proven with verify's two dry
//! runs. IAM calls go with the long-term keys, and with an MFA session once they are denied.
//! Says what it does on stderr; what `--dry-run` would send is returned for stdout.

use std::time::{Duration, Instant};

use crate::aws::iam::PolicyHolder;
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::ec2::{LaunchSpec, ProbeResult};
use crate::error::{Error, Kind, Result};
use crate::mfa::enroll::Iam;
use crate::output::policy::diff;
use crate::profile::Settings;
use crate::session::{self, Request};
use crate::ui;

/// How long a new policy may take to reach EC2 (IAM is eventually consistent).
const PROPAGATION: Duration = Duration::from_secs(60);

/// The session flags' request, made only when an MFA session is needed (`--code -` reads
/// the standard input then, and only then).
pub type Ask<'a> = &'a dyn Fn() -> Result<Request>;

/// What `--apply` attaches, where, and how.
pub struct Plan {
    pub target: Target,
    pub name: String,
    pub replace: bool,
    pub dry_run: bool,
    /// The AMI of the proof's dry runs (none: no proof).
    pub image_id: Option<String>,
}

/// The target of `--user` or `--group` (exactly one), every name (`name` the policy's)
/// checked as IAM takes it.
pub fn target(name: &str, user: Option<&str>, group: Option<&str>) -> Result<Target> {
    check_iam_name("--name", "a policy name", name, 128)?;
    if let Some(user) = user {
        check_iam_name("--user", "a user name", user, 64)?;
    }
    if let Some(group) = group {
        check_iam_name("--group", "a group name", group, 128)?;
    }
    match (user, group) {
        (Some(user), None) => Ok(Target::User(user.to_string())),
        (None, Some(group)) => Ok(Target::Group(group.to_string())),
        _ => Err(Error::new(Kind::Usage, "--apply needs --user NAME or --group NAME")
            .hint("e.g. awsmfa policy --apply --user alice --dry-run")),
    }
}

/// Attaches `doc` (`text` as sent) as `plan` says; the dry run's plan, when `plan.dry_run`.
pub fn apply(
    settings: &Settings,
    plan: &Plan,
    doc: &serde_json::Value,
    text: &str,
    request: Ask,
) -> Result<Option<String>> {
    let target = &plan.target;
    let keys = settings.keys()?;
    let spec = ClientSpec::new(&settings.client, "iam", Signer::LongTerm(keys), Retries::Standard)?;
    let iam = Iam::new(&spec);
    let caller = iam.caller(&settings.client)?;
    let me = caller.user.clone().unwrap_or_default();
    let signed = Signed { settings, request, spec: std::cell::RefCell::new(spec.clone()) };
    // IAM names are case-insensitive: `--user ALICE` is alice, and so are her groups.
    let affects_me = match target {
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
    let existing = signed.call(target.get_call(), |spec| current_policy(spec, target, &plan.name))?;
    let same = existing.as_ref().is_some_and(|old| old == doc);
    if let Some(old) = existing.as_ref().filter(|_| !same) {
        let old_text = serde_json::to_string_pretty(old).expect("json");
        let shown =
            format!("{target} already has a policy named {} with other content:\n{}", plan.name, diff(&old_text, text));
        if !plan.replace {
            ui::note(&shown);
            return Err(Error::config(format!("the policy {} of {target} differs from awsmfa's", plan.name))
                .hint("pass --replace to replace it, or --name to attach awsmfa's beside it"));
        }
        ui::note(&shown);
    }
    let call = target.put_call();
    if plan.dry_run {
        let shown_plan = if same {
            format!("{target} already has this policy as {}: no call would be made\n", plan.name)
        } else {
            format!("{call} {} PolicyName={} PolicyDocument=\n{text}\n", target.parameter(), plan.name)
        };
        return Ok(Some(shown_plan));
    }
    if same {
        ui::note(&format!("{target} already has this policy as {}", plan.name));
    } else {
        signed.call(call, |spec| put_policy(spec, target, &plan.name, text))?;
        ui::note(&format!("attached {} to {target}", plan.name));
    }
    match (&plan.image_id, affects_me) {
        (Some(image), true) => prove(settings, request, image).map(|()| None),
        (Some(_), false) => {
            ui::note(&format!("to prove it, run `awsmfa verify` with the keys of {target}"));
            Ok(None)
        }
        (None, _) => {
            ui::note("to prove it: `awsmfa verify --image-id AMI` (or pass --image-id here)");
            Ok(None)
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
    request: Ask<'a>,
    spec: std::cell::RefCell<ClientSpec>,
}

impl Signed<'_> {
    fn call<T>(&self, action: &str, f: impl Fn(&ClientSpec) -> Result<std::result::Result<T, Failure>>) -> Result<T> {
        let first = f(&self.spec.borrow())?;
        let failure = match first {
            Ok(v) => return Ok(v),
            Err(Failure::Service { code, .. }) if code == "AccessDenied" && !self.upgraded() => {
                ui::note(&format!("{action} is denied without MFA; going on with an MFA session"));
                let got = session::get_session(&self.settings.session(), &(self.request)()?)?;
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

pub enum Target {
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
fn prove(settings: &Settings, request: Ask, image: &str) -> Result<()> {
    let launch = LaunchSpec::probe_of(image);
    let started = Instant::now();
    loop {
        match super::pre_test(settings, &launch)? {
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
    let got = session::get_session(&settings.session(), &request()?)?;
    match super::post_test(settings, &got.session, &launch)? {
        ProbeResult::Allowed => {
            ui::note("post-test: the MFA session may launch (dry run allowed): ok; MFA is enforced and working");
            Ok(())
        }
        ProbeResult::Denied { message, .. } => {
            Err(Error::denied(format!("post-test: denied even with MFA: {message}"))
                .hint("the account denies this launch for other reasons too: check the user's other policies"))
        }
        ProbeResult::Failed(err) => Err(err),
    }
}
