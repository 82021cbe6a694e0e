//! Roles with MFA: one code serves many roles. The MFA session of the long-term keys
//! (GetSessionToken, cached) assumes the first role; each further role is assumed with the
//! credentials of the one before (role chaining, which AWS caps at one hour). With
//! `--direct` the first role is assumed with the MFA code on the long-term keys instead.

use time::OffsetDateTime;

use super::sts::{self, Obtained, Request};
use super::{LongTermKeys, Secret, Session};
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::clock;
use crate::error::{Error, Result};
use crate::mfa::MfaCode;
use crate::profile::{RoleHop, Settings};
use crate::ui;

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

/// Assumes every role of the settings' chain; the first with the MFA session (or directly
/// with a code), the rest each with the one before.
pub fn assume_chain(settings: &Settings, keys: &LongTermKeys, request: &Request) -> Result<Obtained> {
    for hop in &settings.roles {
        check_arn(hop)?;
    }
    let durations: Vec<u64> =
        settings.roles.iter().enumerate().map(|(i, h)| hop_duration(h, i)).collect::<Result<_>>()?;
    let (mut current, serial) = if settings.direct {
        let serial = sts::serial(settings, keys)?;
        let code = sts::next_code(settings, request, &serial)?;
        let first = &settings.roles[0];
        let session = assume(settings, Signer::LongTerm(keys), first, durations[0], Some((&serial, &code))).map_err(
            |e| match e {
                AssumeFailure::Mfa(f, endpoint) => {
                    sts::explain(f, settings, keys, &serial, &endpoint, "sts:AssumeRole")
                }
                AssumeFailure::Other(e) => e,
            },
        )?;
        (session, serial)
    } else {
        // The MFA session is reused while valid; only the roles are (re)assumed.
        let base_request = Request { force: false, ..request.clone() };
        let base = sts::mfa_session(settings, keys, &base_request)?;
        let first = assume(settings, Signer::Session(&base.session), &settings.roles[0], durations[0], None)
            .map_err(AssumeFailure::into_error)?;
        (first, base.serial)
    };
    for (index, hop) in settings.roles.iter().enumerate().skip(1) {
        current = assume(settings, Signer::Session(&current), hop, durations[index], None)
            .map_err(AssumeFailure::into_error)?;
    }
    Ok(Obtained { session: current, serial, fresh: true })
}

enum AssumeFailure {
    /// An MFA rejection of a direct AssumeRole: explained like GetSessionToken's.
    Mfa(Failure, String),
    Other(Error),
}

impl AssumeFailure {
    fn into_error(self) -> Error {
        match self {
            AssumeFailure::Mfa(f, endpoint) => f.into_error("sts:AssumeRole", &endpoint),
            AssumeFailure::Other(e) => e,
        }
    }
}

fn assume(
    settings: &Settings,
    signer: Signer<'_>,
    hop: &RoleHop,
    duration: u64,
    mfa: Option<(&str, &MfaCode)>,
) -> std::result::Result<Session, AssumeFailure> {
    let retries = if mfa.is_some() { Retries::Never } else { Retries::Standard };
    let spec = ClientSpec::new(settings, "sts", signer, retries).map_err(AssumeFailure::Other)?;
    let endpoint = spec.describe_endpoint("sts");
    let session_name = hop.session_name.clone().unwrap_or_else(|| format!("awsmfa-{}", clock::now().unix_timestamp()));
    ui::trace(&format!("sts:AssumeRole {} for {}s at {endpoint}", hop.role_arn, duration));
    let client = spec.sts();
    let answer = aws::block_on(async {
        let mut call = client
            .assume_role()
            .role_arn(&hop.role_arn)
            .role_session_name(&session_name)
            .duration_seconds(duration as i32)
            .set_external_id(hop.external_id.clone());
        if let Some((serial, code)) = mfa {
            call = call.serial_number(serial).token_code(code.as_str());
        }
        call.send().await
    })
    .map_err(AssumeFailure::Other)?;
    let output = match answer {
        Ok(output) => output,
        Err(e) => {
            return Err(match aws::classify(e) {
                Failure::Service { code, message } if message.contains("MultiFactorAuthentication") => {
                    AssumeFailure::Mfa(Failure::Service { code, message }, endpoint)
                }
                failure => AssumeFailure::Other(explain(
                    failure,
                    &spec.with_service(settings, "iam"),
                    hop,
                    duration,
                    &endpoint,
                )),
            });
        }
    };
    let creds = output
        .credentials()
        .ok_or_else(|| AssumeFailure::Other(Error::unexpected("sts:AssumeRole answered without credentials")))?;
    let expiration = OffsetDateTime::from_unix_timestamp(creds.expiration().secs())
        .map_err(|_| AssumeFailure::Other(Error::unexpected("sts:AssumeRole answered with an impossible expiry")))?;
    Ok(Session {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: Secret::new(creds.secret_access_key()),
        session_token: Secret::new(creds.session_token()),
        expiration,
    })
}

/// AssumeRole's failures: the trust policy, the duration limits, and the rest.
fn explain(failure: Failure, iam: &ClientSpec, hop: &RoleHop, duration: u64, endpoint: &str) -> Error {
    match &failure {
        Failure::Service { code, message } if code == "AccessDenied" => Error::denied(format!(
            "cannot assume role {} (profile {}): {message}",
            hop.role_arn, hop.profile
        ))
        .hint("the role's trust policy must allow this principal (and may require MFA: use the MFA session, not --direct without a code)"),
        Failure::Service { code, message } if code == "ValidationError" && message.contains("MaxSessionDuration") => {
            let max = role_max_session(iam, &hop.role_arn);
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
        _ => failure.into_error("sts:AssumeRole", endpoint),
    }
}

/// The role's MaxSessionDuration, if these credentials may read it.
fn role_max_session(spec: &ClientSpec, role_arn: &str) -> Option<u64> {
    let name = role_arn.rsplit('/').next()?;
    let client = spec.iam();
    let out = aws::block_on(async { client.get_role().role_name(name).send().await }).ok()?.ok()?;
    out.role().and_then(|r| r.max_session_duration()).map(|d| d as u64)
}
