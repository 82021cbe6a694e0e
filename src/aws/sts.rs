//! STS's calls, typed: GetSessionToken, AssumeRole, GetCallerIdentity (the one way any
//! part of awsmfa asks who it is), DecodeAuthorizationMessage. Each answers `Call`: the
//! value, or AWS's refusal for the caller to explain.

use std::time::Duration;

use time::OffsetDateTime;

use super::{Call, ClientSpec, block_on, classify};
use crate::credentials::{Secret, Session};
use crate::error::{Error, Result};

/// GetSessionToken with the device's serial and a code: the MFA session.
pub fn get_session_token(spec: &ClientSpec, serial: &str, code: &str, duration: u64) -> Result<Call<Session>> {
    let client = spec.sts();
    let answer = block_on(async {
        client.get_session_token().serial_number(serial).token_code(code).duration_seconds(duration as i32).send().await
    })?;
    match answer {
        Ok(output) => Ok(Ok(session_from(output.credentials(), "sts:GetSessionToken")?)),
        Err(e) => Ok(Err(classify(e))),
    }
}

/// What AssumeRole is asked for.
pub struct AssumeRole<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub duration: u64,
    pub external_id: Option<&'a str>,
    /// The device's serial and a code, when the role is assumed with MFA directly.
    pub mfa: Option<(&'a str, &'a str)>,
}

pub fn assume_role(spec: &ClientSpec, ask: &AssumeRole<'_>) -> Result<Call<Session>> {
    let client = spec.sts();
    let answer = block_on(async {
        let mut call = client
            .assume_role()
            .role_arn(ask.role_arn)
            .role_session_name(ask.session_name)
            .duration_seconds(ask.duration as i32)
            .set_external_id(ask.external_id.map(str::to_string));
        if let Some((serial, code)) = ask.mfa {
            call = call.serial_number(serial).token_code(code);
        }
        call.send().await
    })?;
    match answer {
        Ok(output) => Ok(Ok(session_from(output.credentials(), "sts:AssumeRole")?)),
        Err(e) => Ok(Err(classify(e))),
    }
}

/// Temporary credentials as STS returns them, as a `Session`.
fn session_from(creds: Option<&aws_sdk_sts::types::Credentials>, action: &str) -> Result<Session> {
    let creds = creds.ok_or_else(|| Error::unexpected(format!("{action} answered without credentials")))?;
    let expiration = OffsetDateTime::from_unix_timestamp(creds.expiration().secs())
        .map_err(|_| Error::unexpected(format!("{action} answered with an impossible expiry")))?;
    Ok(Session {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: Secret::new(creds.secret_access_key()),
        session_token: Secret::new(creds.session_token()),
        expiration,
    })
}

/// The IAM user's name in an ARN (`arn:aws:iam::1:user/path/alice` → `alice`).
fn user_of(arn: &str) -> Option<String> {
    arn.split_once(":user/").map(|(_, path)| path.rsplit('/').next().unwrap_or(path).to_string())
}

/// sts:DecodeAuthorizationMessage: the readable reason behind an UnauthorizedOperation,
/// or why these credentials may not decode it.
pub async fn decode_authorization_message(spec: &ClientSpec, encoded: &str) -> std::result::Result<String, String> {
    match spec.sts().decode_authorization_message().encoded_message(encoded).send().await {
        Ok(out) => Ok(out.decoded_message().unwrap_or("").to_string()),
        Err(e) => Err(match classify(e) {
            super::Failure::Service { code, message } => format!("{code}: {message}"),
            super::Failure::TimedOut => "timed out".to_string(),
            super::Failure::Unreachable { why, .. } | super::Failure::Other { why, .. } => why,
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_user_name_is_the_last_part_of_a_user_arn() {
        assert_eq!(super::user_of("arn:aws:iam::1:user/team/alice").as_deref(), Some("alice"));
        assert_eq!(super::user_of("arn:aws:iam::1:user/bob").as_deref(), Some("bob"));
        assert_eq!(super::user_of("arn:aws:sts::1:assumed-role/r/s"), None);
        assert_eq!(super::user_of("arn:aws:iam::1:root"), None);
    }
}

/// What sts:GetCallerIdentity says, how far AWS's clock is ahead of ours (from the answer's
/// `Date` header, whole seconds), and how long the call took.
pub struct Identity {
    pub arn: String,
    pub account: String,
    /// The IAM user's name, when the caller is one (None for roles and root).
    pub user: Option<String>,
    pub clock_offset: Option<i64>,
    pub took: Duration,
}

/// sts:GetCallerIdentity (allowed to any valid key, MFA or not), reading the `Date` header.
pub fn caller_identity(spec: &ClientSpec) -> Result<Call<Identity>> {
    let date = DateHeader::default();
    let client = spec.sts();
    let started_at = crate::clock::now();
    let started = std::time::Instant::now();
    let result = block_on(async { client.get_caller_identity().customize().interceptor(date.clone()).send().await })?;
    let took = started.elapsed();
    Ok(match result {
        Ok(out) => {
            let local_mid = started_at + took / 2;
            let clock_offset = date.0.lock().unwrap_or_else(|e| e.into_inner()).as_deref().and_then(|d| {
                aws_smithy_types::DateTime::from_str(d, aws_smithy_types::date_time::Format::HttpDate)
                    .ok()
                    .map(|remote| remote.secs() - local_mid.unix_timestamp())
            });
            let arn = out.arn().unwrap_or_default().to_string();
            Ok(Identity {
                user: user_of(&arn),
                account: out.account().unwrap_or_default().to_string(),
                arn,
                clock_offset,
                took,
            })
        }
        Err(e) => Err(classify(e)),
    })
}

/// Keeps the `Date` header of the response it sees.
#[derive(Debug, Clone, Default)]
struct DateHeader(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl aws_smithy_runtime_api::client::interceptors::Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "awsmfa-date-header"
    }

    fn read_before_deserialization(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        _: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> std::result::Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        if let Some(date) = context.response().headers().get("date") {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(date.to_string());
        }
        Ok(())
    }
}
