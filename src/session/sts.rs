//! The MFA session itself: the `SessionToken` provider (one GetSessionToken with a fresh
//! code), the codes it claims before sending, and the words for AWS's refusals.
//! GetSessionToken is never retried with the same code: a retry would send a spent code.

use super::provider::Provider;
use super::used_codes::UsedCodes;
use super::{LongTermKeys, Obtained, Plan, Request, Session};
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::clock;
use crate::error::{Error, Result};
use crate::mfa::{self, MfaCode};
use crate::ui;

pub const MIN_DURATION: u64 = 900;
pub const MAX_DURATION: u64 = 129_600;
pub const DEFAULT_DURATION: u64 = 43_200;

/// The requested MFA session length, checked against STS's limits before any call.
pub fn duration(plan: &Plan) -> Result<u64> {
    let Some(d) = plan.duration else { return Ok(DEFAULT_DURATION) };
    if !(MIN_DURATION..=MAX_DURATION).contains(&d.value) {
        return Err(Error::config(format!(
            "session duration {}s (from {}) is outside what STS allows",
            d.value, d.origin
        ))
        .hint("use between 15m and 36h, e.g. --duration 12h"));
    }
    Ok(d.value)
}

/// GetSessionToken with a fresh MFA code on the long-term keys: the MFA session.
pub struct SessionToken<'a> {
    pub plan: &'a Plan<'a>,
    pub keys: &'a LongTermKeys,
    /// Checked before any call (`duration`).
    pub duration: u64,
}

impl Provider for SessionToken<'_> {
    fn provide(&self, request: &Request) -> Result<Obtained> {
        let (plan, keys) = (self.plan, self.keys);
        // The client first: a bad CA bundle or endpoint is found before a code is spent.
        let spec = ClientSpec::new(plan.client, "sts", Signer::LongTerm(keys), Retries::Never)?;
        let serial = serial(plan, keys)?;
        let mut codes = Codes::new(plan, request, &serial)?;
        let mut code = codes.next(None)?;
        let mut retried = false;
        let session = loop {
            match call_get_session_token(&spec, keys, &serial, &code, self.duration)? {
                Ok(session) => break session,
                // Another tool (the AWS CLI, a second awsmfa elsewhere) may have spent this
                // code in this window: an unattended source waits for the next one, once.
                Err(failure) if !retried && codes.unattended() && code_refused(&failure) => {
                    codes.settle(&failure)?;
                    retried = true;
                    ui::note(
                        "AWS refused the code (another tool may have used it); trying once more with the next one",
                    );
                    code = codes.next(Some(totp_wait()))?;
                }
                Err(failure) => {
                    codes.settle(&failure)?;
                    let endpoint = spec.describe_endpoint("sts");
                    return Err(explain(failure, plan, keys, &serial, &endpoint, "sts:GetSessionToken"));
                }
            }
        };
        Ok(Obtained { session, serial, fresh: true })
    }
}

/// Seconds until the device shows its next code.
fn totp_wait() -> u64 {
    crate::mfa::totp::seconds_to_next_step(clock::now().unix_timestamp().max(0) as u64)
}

/// AWS's answer to a wrong, expired or already used code.
fn code_refused(failure: &Failure) -> bool {
    matches!(failure, Failure::Service { code, message }
        if code == "AccessDenied" && message.contains("one time pass code") && !message.contains("must provide both"))
}

/// The MFA device: configured, or the user's only one.
pub fn serial(plan: &Plan, keys: &LongTermKeys) -> Result<String> {
    match plan.serial {
        Some(s) => Ok(s.value.clone()),
        None => mfa::device::discover_serial(plan.client, keys),
    }
}

/// The codes of one device from one source, each claimed before it is sent: a spent code
/// is refused (a code given on the command line) or waited out (a prompt, seed or command).
pub struct Codes<'a> {
    source: Box<dyn mfa::CodeSource>,
    used: UsedCodes,
    serial: &'a str,
    /// The last code claimed, and when: taken back if AWS refuses it.
    claimed: Option<(MfaCode, u64)>,
}

impl<'a> Codes<'a> {
    pub fn new(plan: &Plan, request: &Request, serial: &'a str) -> Result<Self> {
        let source = mfa::choose(plan.codes, request.code.as_deref())?;
        Ok(Codes { source, used: UsedCodes::load(plan.cache_dir, serial)?, serial, claimed: None })
    }

    fn unattended(&self) -> bool {
        self.source.unattended()
    }

    /// The next unspent code; `refused` when the last one was refused, with the seconds
    /// until the device shows a new one.
    pub fn next(&mut self, mut refused: Option<u64>) -> Result<MfaCode> {
        loop {
            let code = self.source.code(self.serial, refused)?;
            let now = clock::now().unix_timestamp().max(0) as u64;
            match self.used.claim(code.as_str(), now)? {
                None => {
                    self.claimed = Some((code.clone(), now));
                    return Ok(code);
                }
                Some(wait) if self.source.renews() => refused = Some(wait),
                Some(wait) => {
                    return Err(Error::mfa(format!("this code was already used; wait for the next one (in {wait} s)"))
                        .hint(format!(
                            "AWS accepts each code once; pass the next code from your device ({})",
                            self.source.origin()
                        )));
                }
            }
        }
    }
}

impl Codes<'_> {
    /// After AWS answered the last code with `failure`: a code AWS refused (wrong, expired,
    /// or spent by another tool) was not spent by awsmfa, so its claim is taken back and the
    /// same code typed again is sent again and called wrong again, never "already used".
    /// Any other failure keeps the claim: a code whose answer never came may have been taken.
    pub fn settle(&mut self, failure: &Failure) -> Result<()> {
        if !code_refused(failure) {
            return Ok(());
        }
        match self.claimed.take() {
            Some((code, at)) => self.used.release(code.as_str(), at),
            None => Ok(()),
        }
    }
}

/// One GetSessionToken: the session, or AWS's refusal (for the caller to explain or retry).
fn call_get_session_token(
    spec: &ClientSpec,
    keys: &LongTermKeys,
    serial: &str,
    code: &MfaCode,
    duration: u64,
) -> Result<std::result::Result<Session, Failure>> {
    let endpoint = spec.describe_endpoint("sts");
    ui::trace(&format!("sts:GetSessionToken at {endpoint} with key {}", super::key_tail(&keys.access_key_id)));
    aws::sts::get_session_token(spec, serial, code.as_str(), duration)
}

/// GetSessionToken's (and a direct AssumeRole's) MFA failures, in words that say what to do.
pub fn explain(
    failure: Failure,
    plan: &Plan,
    keys: &LongTermKeys,
    serial: &str,
    endpoint: &str,
    action: &str,
) -> Error {
    let serial_origin = plan.serial.map(|s| s.origin.clone()).unwrap_or_else(|| "ListMFADevices".into());
    match &failure {
        Failure::Service { message, .. } if failure.is_mfa_refusal() => {
            if message.contains("serial number is valid") {
                Error::mfa(format!(
                    "AWS rejected MFA device {serial} (from {serial_origin}): it is not an MFA device of this user"
                ))
                .hint("list this user's devices with `aws iam list-mfa-devices` and fix the serial")
            } else if message.contains("one time pass code") && !message.contains("must provide both") {
                Error::mfa("AWS rejected the MFA code: it is wrong or expired (or another tool used it first)")
                    .hint("wait for the next code and try again; if it keeps failing, check the device's clock")
            } else {
                Error::mfa(format!("AWS rejected the MFA sign-in: {message}"))
            }
        }
        Failure::Service { code, .. } if code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch" => {
            Error::denied(format!(
                "AWS does not accept the access key {} (from {}): {code}",
                super::key_tail(&keys.access_key_id),
                keys.origin
            ))
            .hint("check that the key is active and the secret is right (`aws iam list-access-keys`)")
        }
        _ => failure.into_error(action, endpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(code: &str, message: &str) -> Failure {
        Failure::Service { code: code.into(), message: message.into() }
    }

    #[test]
    fn only_a_refused_code_counts_as_one_to_follow_with_the_next() {
        let spent = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
        assert!(code_refused(&refusal("AccessDenied", spent)));
        assert!(!code_refused(&refusal(
            "AccessDenied",
            "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
        )));
        assert!(!code_refused(&refusal(
            "InvalidClientTokenId",
            "The security token included in the request is invalid."
        )));
        assert!(!code_refused(&Failure::TimedOut));
    }
}
