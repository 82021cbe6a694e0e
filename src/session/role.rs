//! Roles with MFA: one code serves many roles. The MFA session of the long-term keys
//! (GetSessionToken, cached) assumes the first role; each further role is assumed with the
//! credentials of the one before (role chaining, which AWS caps at one hour). With
//! `--direct` the first role is assumed with the MFA code on the long-term keys instead.

use super::provider::Provider;
use super::sts;
use super::{LongTermKeys, Obtained, Plan, Request, Session};
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::clock;
use crate::config::Sourced;
use crate::error::{Error, Result};
use crate::mfa::MfaCode;
use crate::ui;

/// One AssumeRole on the way from the long-term keys to the credentials asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHop {
    pub role_arn: String,
    /// The profile that names this role ("--role-arn" for an ad-hoc one).
    pub profile: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration: Option<Sourced<u64>>,
}

/// AWS's limit for a role assumed with another role's credentials.
pub const CHAINED_MAX: u64 = 3_600;
/// AssumeRole's default, as the AWS CLI uses it.
pub const DEFAULT_ROLE_DURATION: u64 = 3_600;
/// The longest MaxSessionDuration a role can have.
pub const ROLE_MAX: u64 = 43_200;

/// The duration to ask for hop `index`, capped for role chaining with a note.
fn hop_duration(hop: &RoleHop, index: usize) -> Result<u64> {
    let asked = hop.duration.as_ref().map(|d| d.value).unwrap_or(DEFAULT_ROLE_DURATION);
    if !(sts::MIN_DURATION..=ROLE_MAX).contains(&asked) {
        let origin = hop.duration.as_ref().map(|d| d.origin.as_str()).unwrap_or("the default");
        return Err(Error::config(format!(
            "role session duration {asked}s (from {origin}) is outside what AWS allows"
        ))
        .hint("use between 15m and 12h for a role"));
    }
    if index > 0 && asked > CHAINED_MAX {
        ui::note(&format!(
            "{} is assumed with another role's credentials (role chaining), which AWS limits to 1h: asking for 1h instead of {}",
            hop.role_arn,
            clock::human_duration(asked as i64)
        ));
        return Ok(CHAINED_MAX);
    }
    Ok(asked)
}

fn check_arn(hop: &RoleHop) -> Result<()> {
    if hop.role_arn.starts_with("arn:") && hop.role_arn.contains(":role/") {
        return Ok(());
    }
    Err(Error::config(format!("'{}' (role_arn of {}) is not a role ARN", hop.role_arn, hop.profile))
        .hint("a role ARN looks like arn:aws:iam::123456789012:role/NAME"))
}

/// The chain's roles with the duration to ask for each, every ARN and duration checked
/// before anything is sent.
pub fn checked_hops<'a>(plan: &Plan<'a>) -> Result<Vec<(&'a RoleHop, u64)>> {
    plan.roles
        .iter()
        .enumerate()
        .map(|(i, hop)| {
            check_arn(hop)?;
            Ok((hop, hop_duration(hop, i)?))
        })
        .collect()
}

/// A role assumed with the credentials of `inner` (the MFA session, or the role before).
pub struct AssumeRole<'a> {
    pub plan: &'a Plan<'a>,
    pub inner: Box<dyn Provider + 'a>,
    pub hop: &'a RoleHop,
    pub duration: u64,
}

impl Provider for AssumeRole<'_> {
    fn provide(&self, request: &Request) -> Result<Obtained> {
        let base = self.inner.provide(&request.reusing())?;
        let spec = ClientSpec::new(self.plan.client, "sts", Signer::Session(&base.session), Retries::Standard)?;
        let session = match assume(&spec, self.hop, self.duration, None)? {
            Ok(session) => session,
            Err(failure) => return Err(explain(failure, self.plan, &spec, self.hop, self.duration)),
        };
        Ok(Obtained { session, serial: base.serial, fresh: true })
    }
}

/// The first role assumed with the MFA code on the long-term keys (`--direct`): no MFA
/// session, so up to the role's MaxSessionDuration.
pub struct DirectRole<'a> {
    pub plan: &'a Plan<'a>,
    pub keys: &'a LongTermKeys,
    pub hop: &'a RoleHop,
    pub duration: u64,
}

impl Provider for DirectRole<'_> {
    fn provide(&self, request: &Request) -> Result<Obtained> {
        let (plan, keys) = (self.plan, self.keys);
        // A call that carries a code is never retried.
        let spec = ClientSpec::new(plan.client, "sts", Signer::LongTerm(keys), Retries::Never)?;
        let serial = sts::serial(plan, keys)?;
        let mut codes = sts::Codes::new(plan, request, &serial)?;
        let code = codes.next(None)?;
        match assume(&spec, self.hop, self.duration, Some((&serial, &code)))? {
            Ok(session) => Ok(Obtained { session, serial, fresh: true }),
            Err(failure @ Failure::Service { .. }) if failure.is_mfa_refusal() => {
                codes.settle(&failure)?;
                let endpoint = spec.describe_endpoint("sts");
                Err(sts::explain(failure, plan, keys, &serial, &endpoint, "sts:AssumeRole"))
            }
            Err(failure) => Err(explain(failure, plan, &spec, self.hop, self.duration)),
        }
    }
}

/// One AssumeRole: the session, or AWS's refusal for the caller to explain.
fn assume(
    spec: &ClientSpec,
    hop: &RoleHop,
    duration: u64,
    mfa: Option<(&str, &MfaCode)>,
) -> Result<std::result::Result<Session, Failure>> {
    let session_name = hop.session_name.clone().unwrap_or_else(|| format!("awsmfa-{}", clock::now().unix_timestamp()));
    ui::trace(&format!("sts:AssumeRole {} for {}s at {}", hop.role_arn, duration, spec.describe_endpoint("sts")));
    let ask = aws::sts::AssumeRole {
        role_arn: &hop.role_arn,
        session_name: &session_name,
        duration,
        external_id: hop.external_id.as_deref(),
        mfa: mfa.map(|(serial, code)| (serial, code.as_str())),
    };
    aws::sts::assume_role(spec, &ask)
}

/// AssumeRole's failures: the trust policy, the duration limits, and the rest.
fn explain(failure: Failure, plan: &Plan, sts: &ClientSpec, hop: &RoleHop, duration: u64) -> Error {
    match &failure {
        Failure::Service { code, message } if code == "AccessDenied" => Error::denied(format!(
            "cannot assume role {} (profile {}): {message}",
            hop.role_arn, hop.profile
        ))
        .hint("the role's trust policy must allow this principal (and may require MFA: use the MFA session, not --direct without a code)"),
        Failure::Service { code, message } if code == "ValidationError" && message.contains("MaxSessionDuration") => {
            let max = role_max_session(&sts.with_service(plan.client, "iam"), &hop.role_arn);
            let said = match max {
                Some(max) => format!("the role's maximum session is {}", clock::human_duration(max as i64)),
                None => "AWS did not say the role's maximum (iam:GetRole was not allowed)".to_string(),
            };
            Error::config(format!(
                "{}s is longer than role {} allows: {said}",
                duration, hop.role_arn
            ))
            .hint(format!("ask for less with --duration or duration_seconds in [profile {}]", hop.profile))
        }
        _ => failure.into_error("sts:AssumeRole", &sts.describe_endpoint("sts")),
    }
}

/// The role's MaxSessionDuration, if these credentials may read it.
fn role_max_session(spec: &ClientSpec, role_arn: &str) -> Option<u64> {
    let name = role_arn.rsplit('/').next()?;
    aws::iam::role_max_session(spec, name).ok()?.ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(arn: &str, duration: Option<u64>) -> RoleHop {
        RoleHop {
            role_arn: arn.into(),
            profile: "p".into(),
            external_id: None,
            session_name: None,
            duration: duration.map(|d| Sourced { value: d, origin: "duration_seconds in [profile p]".into() }),
        }
    }

    #[test]
    fn a_chained_role_is_capped_at_an_hour_and_the_first_is_not() {
        let long = hop("arn:aws:iam::1:role/r", Some(4 * 3600));
        assert_eq!(hop_duration(&long, 0).unwrap(), 4 * 3600, "the first role may ask for its maximum");
        assert_eq!(hop_duration(&long, 1).unwrap(), CHAINED_MAX, "role chaining is capped by AWS");
        assert_eq!(hop_duration(&hop("arn:aws:iam::1:role/r", None), 0).unwrap(), DEFAULT_ROLE_DURATION);
    }

    #[test]
    fn durations_outside_aws_limits_and_malformed_arns_are_refused_before_any_call() {
        let short = hop_duration(&hop("arn:aws:iam::1:role/r", Some(60)), 0).unwrap_err();
        assert!(short.message.contains("duration_seconds in [profile p]"), "{}", short.message);
        assert!(hop_duration(&hop("arn:aws:iam::1:role/r", Some(13 * 3600)), 0).is_err());
        assert!(check_arn(&hop("arn:aws:iam::1:user/alice", None)).is_err());
        assert!(check_arn(&hop("arn:aws:iam::123456789012:role/ops", None)).is_ok());
    }
}
