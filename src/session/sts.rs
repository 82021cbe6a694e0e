//! Getting a session: the cached one while it lasts, else one GetSessionToken call with a
//! fresh MFA code, under a lock so that concurrent awsmfa processes make one call between
//! them. GetSessionToken is never retried: a retry would send a spent code.

use time::OffsetDateTime;

use super::cache::{CacheKey, Cached, Rejected, RoleChain, SessionCache};
use super::used_codes::UsedCodes;
use super::{LongTermKeys, Secret, Session};
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::clock;
use crate::error::{Error, Result};
use crate::files::lock;
use crate::mfa::{self, MfaCode};
use crate::profile::Settings;
use crate::ui;

pub const MIN_DURATION: u64 = 900;
pub const MAX_DURATION: u64 = 129_600;
pub const DEFAULT_DURATION: u64 = 43_200;
pub const DEFAULT_MIN_TTL: u64 = 300;

/// What the command asked for.
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub code: Option<String>,
    pub force: bool,
    /// Reuse a cached session only while it has more than this many seconds left.
    pub min_ttl: Option<u64>,
}

/// A session ready to use, and how it was had.
#[derive(Debug)]
pub struct Obtained {
    pub session: Session,
    pub serial: String,
    /// True when STS was called now; false when the cache served.
    pub fresh: bool,
}

/// The cache and the key of the MFA session itself (GetSessionToken), roles or not.
pub fn mfa_cache_key(settings: &Settings, keys: &LongTermKeys) -> (SessionCache, CacheKey) {
    let key = CacheKey {
        source_access_key_id: keys.access_key_id.clone(),
        serial: settings.serial.as_ref().map(|s| s.value.clone()),
        roles: RoleChain::default(),
    };
    (SessionCache::new(&settings.cache_dir), key)
}

/// The cache and the key of the credentials the settings ask for: the MFA session, or the
/// last role of the chain (keyed by the whole chain, and by "direct" when assumed so).
pub fn cache_for(settings: &Settings, keys: &LongTermKeys) -> (SessionCache, CacheKey) {
    let (cache, mut key) = mfa_cache_key(settings, keys);
    if !settings.roles.is_empty() {
        key.roles =
            RoleChain { direct: settings.direct, arns: settings.roles.iter().map(|h| h.role_arn.clone()).collect() };
    }
    (cache, key)
}

/// The margin a cached session must have left: `--min-ttl`, AWSMFA_MIN_TTL, else 5 min.
pub fn min_ttl(settings: &Settings, request: &Request) -> u64 {
    request.min_ttl.or(settings.min_ttl).unwrap_or(DEFAULT_MIN_TTL)
}

/// The requested MFA session length, checked against STS's limits before any call.
pub fn duration(settings: &Settings) -> Result<u64> {
    let Some(d) = &settings.duration else { return Ok(DEFAULT_DURATION) };
    if !(MIN_DURATION..=MAX_DURATION).contains(&d.value) {
        return Err(Error::config(format!(
            "session duration {}s (from {}) is outside what STS allows",
            d.value, d.origin
        ))
        .hint("use between 15m and 36h, e.g. --duration 12h"));
    }
    Ok(d.value)
}

/// A cached session with more than `min_ttl` left; a file that is not usable is warned
/// about once per run (`warned`), one that must not be trusted stops the run.
fn usable(
    loaded: std::result::Result<Cached, Rejected>,
    now: OffsetDateTime,
    min_ttl: u64,
    warned: &mut bool,
) -> Result<Option<Cached>> {
    match loaded {
        Ok(cached) if cached.session.seconds_left(now) > min_ttl as i64 => Ok(Some(cached)),
        Ok(_) | Err(Rejected::Missing) => Ok(None),
        Err(Rejected::Unsafe(why)) => {
            if !std::mem::replace(warned, true) {
                ui::warn(&why);
            }
            Ok(None)
        }
        Err(Rejected::Refused(err)) => Err(err),
    }
}

fn found(c: Cached) -> Obtained {
    Obtained { session: c.session, serial: c.serial, fresh: false }
}

/// Runs `make` under the cache lock of `key`, unless the cache (checked before and, when
/// another process held the lock, after waiting) already has what is needed.
fn cached_or_locked(
    settings: &Settings,
    cache: &SessionCache,
    key: &CacheKey,
    request: &Request,
    make: impl FnOnce() -> Result<Obtained>,
) -> Result<Obtained> {
    let ttl = min_ttl(settings, request);
    let mut warned = false;
    if !request.force
        && let Some(c) = usable(cache.load(key), clock::now(), ttl, &mut warned)?
    {
        ui::trace("using the cached session");
        return Ok(found(c));
    }
    cache.ensure_dir()?;
    let mut waited = false;
    let _lock = lock::acquire(&cache.lock_path(key), settings.lock_timeout, || {
        waited = true;
        ui::trace("another awsmfa is logging in; waiting for its session");
    })?;
    // Whoever held the lock may have just stored a fresh session: use it instead of a code.
    if (!request.force || waited)
        && let Some(c) = usable(cache.load(key), clock::now(), ttl, &mut warned)?
    {
        return Ok(found(c));
    }
    let made = make()?;
    cache.store(key, &made.serial, &made.session)?;
    Ok(made)
}

/// Credentials for the settings: the MFA session, or the roles assumed with it.
/// From the cache while they last (unless `force`), else from STS.
pub fn get_session(settings: &Settings, request: &Request) -> Result<Obtained> {
    let keys = settings.keys()?;
    if settings.roles.is_empty() {
        return mfa_session(settings, keys, request);
    }
    let (cache, key) = cache_for(settings, keys);
    cached_or_locked(settings, &cache, &key, request, || super::role::assume_chain(settings, keys, request))
}

/// The MFA session (GetSessionToken) of the settings' long-term keys.
pub fn mfa_session(settings: &Settings, keys: &LongTermKeys, request: &Request) -> Result<Obtained> {
    let duration = duration(settings)?;
    let (cache, key) = mfa_cache_key(settings, keys);
    cached_or_locked(settings, &cache, &key, request, || {
        // The client first: a bad CA bundle or endpoint is found before a code is spent.
        let spec = ClientSpec::new(settings, "sts", Signer::LongTerm(keys), Retries::Never)?;
        let serial = serial(settings, keys)?;
        let mut codes = Codes::new(settings, request, &serial)?;
        let mut code = codes.next(None)?;
        let mut retried = false;
        let session = loop {
            match call_get_session_token(&spec, keys, &serial, &code, duration)? {
                Ok(session) => break session,
                // Another tool (the AWS CLI, a second awsmfa elsewhere) may have spent this
                // code in this window: an unattended source waits for the next one, once.
                Err(failure) if !retried && codes.unattended() && code_refused(&failure) => {
                    retried = true;
                    ui::note(
                        "AWS refused the code (another tool may have used it); trying once more with the next one",
                    );
                    code = codes.next(Some(totp_wait()))?;
                }
                Err(failure) => {
                    let endpoint = spec.describe_endpoint("sts");
                    return Err(explain(failure, settings, keys, &serial, &endpoint, "sts:GetSessionToken"));
                }
            }
        };
        Ok(Obtained { session, serial, fresh: true })
    })
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
pub fn serial(settings: &Settings, keys: &LongTermKeys) -> Result<String> {
    match &settings.serial {
        Some(s) => Ok(s.value.clone()),
        None => mfa::device::discover_serial(settings, keys),
    }
}

/// A code for `serial` that was never sent before, recorded as sent.
pub fn next_code(settings: &Settings, request: &Request, serial: &str) -> Result<MfaCode> {
    Codes::new(settings, request, serial)?.next(None)
}

/// The codes of one device from one source, each claimed before it is sent: a spent code
/// is refused (a code given on the command line) or waited out (a prompt, seed or command).
struct Codes<'a> {
    source: Box<dyn mfa::CodeSource>,
    used: UsedCodes,
    serial: &'a str,
}

impl<'a> Codes<'a> {
    fn new(settings: &Settings, request: &Request, serial: &'a str) -> Result<Self> {
        let source = mfa::choose(settings, request.code.as_deref())?;
        Ok(Codes { source, used: UsedCodes::load(&settings.cache_dir, serial)?, serial })
    }

    fn unattended(&self) -> bool {
        self.source.unattended()
    }

    /// The next unspent code; `refused` when the last one was refused, with the seconds
    /// until the device shows a new one.
    fn next(&mut self, mut refused: Option<u64>) -> Result<MfaCode> {
        loop {
            let code = self.source.code(self.serial, refused)?;
            let now = clock::now().unix_timestamp().max(0) as u64;
            match self.used.claim(code.as_str(), now)? {
                None => return Ok(code),
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
    let client = spec.sts();
    let answer = aws::block_on(async {
        client
            .get_session_token()
            .serial_number(serial)
            .token_code(code.as_str())
            .duration_seconds(duration as i32)
            .send()
            .await
    })?;
    let output = match answer {
        Ok(output) => output,
        Err(e) => return Ok(Err(aws::classify(e))),
    };
    let creds =
        output.credentials().ok_or_else(|| Error::unexpected("sts:GetSessionToken answered without credentials"))?;
    let expiration = OffsetDateTime::from_unix_timestamp(creds.expiration().secs())
        .map_err(|_| Error::unexpected("sts:GetSessionToken answered with an impossible expiry"))?;
    Ok(Ok(Session {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: Secret::new(creds.secret_access_key()),
        session_token: Secret::new(creds.session_token()),
        expiration,
    }))
}

/// GetSessionToken's (and a direct AssumeRole's) MFA failures, in words that say what to do.
pub fn explain(
    failure: Failure,
    settings: &Settings,
    keys: &LongTermKeys,
    serial: &str,
    endpoint: &str,
    action: &str,
) -> Error {
    let serial_origin = settings.serial.as_ref().map(|s| s.origin.clone()).unwrap_or_else(|| "ListMFADevices".into());
    match &failure {
        Failure::Service { code, message }
            if code == "AccessDenied" && message.contains("MultiFactorAuthentication") =>
        {
            if message.contains("serial number is valid") {
                Error::mfa(format!(
                    "AWS rejected MFA device {serial} (from {serial_origin}): it is not an MFA device of this user"
                ))
                .hint("list this user's devices with `aws iam list-mfa-devices` and fix the serial")
            } else if message.contains("one time pass code") && !message.contains("must provide both") {
                Error::mfa("AWS rejected the MFA code: it is wrong, or it was already used")
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
