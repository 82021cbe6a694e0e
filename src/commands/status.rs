//! `awsmfa status`: profile, MFA device, source key (last 4 characters), session state and
//! cache path. Reads files only: no AWS call, so it is safe in a shell prompt.

use super::print;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::clock;
use crate::error::{Error, Kind, Result};
use crate::login::{self, cache};
use crate::output::report::{ConsoleStatus, SessionState, StatusReport};
use crate::session::cache::Rejected;
use crate::session::{self, key_tail};

pub fn run(global: &GlobalArgs, args: StatusArgs) -> Result<i32> {
    let min_ttl = match args.min_ttl {
        Some(secs) => crate::profile::check_duration("--min-ttl", secs, clock::MIN_TTL, "10m")?,
        None => 0,
    };
    let settings = super::profile_settings(global)?;
    let keys = settings.keys();
    let now = clock::now();
    let console = match &settings.login_session {
        Some(arn) => Some(console_state(&settings, &arn.value)?),
        None => None,
    };
    let (cache_path, loaded) = match (&console, &keys) {
        (Some(c), _) if settings.roles.is_empty() => (Some(c.file.clone()), None),
        (Some(_), _) => {
            let (cache, key) = session::console_role_cache(
                &settings.session(),
                &settings.login_session.as_ref().expect("a console session").value,
            );
            (Some(cache.path(&key)), Some(cache.load(&key)))
        }
        (None, Ok(keys)) => {
            let (cache, key) = session::cache_for(&settings.session(), keys);
            (Some(cache.path(&key)), Some(cache.load(&key)))
        }
        (None, Err(_)) => (None, None),
    };
    let (state, cached_serial) = match loaded {
        None if console.as_ref().is_some_and(|_| settings.roles.is_empty()) => {
            (console.as_ref().expect("a console session").state, None)
        }
        Some(Ok(c)) if c.session.seconds_left(now) > 0 => {
            (SessionState::Valid { until: c.session.expiration }, Some(c.serial))
        }
        Some(Ok(c)) => (SessionState::Expired { at: c.session.expiration }, Some(c.serial)),
        Some(Err(Rejected::Unsafe(_))) => (SessionState::Unusable, None),
        // A cache that must not be trusted (another user's file) is an error, not a state.
        Some(Err(Rejected::Refused(err))) => return Err(err),
        Some(Err(Rejected::Missing)) | None => (SessionState::None, None),
    };
    if args.check {
        let min = min_ttl as i64;
        return match state {
            SessionState::Valid { until } if (until - now).whole_seconds() > min => Ok(0),
            _ => Err(Error::new(Kind::NoSession, "no valid session")),
        };
    }
    // With roles, the MFA session behind them says whether the next role needs a new code.
    let mfa_until = match (&keys, settings.roles.is_empty() || settings.direct) {
        (Ok(keys), false) => {
            let (cache, key) = session::mfa_cache_key(&settings.session(), keys);
            cache.load(&key).ok().map(|c| c.session.expiration).filter(|t| *t > now)
        }
        _ => None,
    };
    let serial = match (&settings.serial, cached_serial) {
        (Some(s), _) => Some((s.value.clone(), s.origin.clone())),
        (None, Some(found)) => Some((found, "found with ListMFADevices".to_string())),
        (None, None) => None,
    };
    let report = StatusReport {
        now,
        profile: settings.profile.clone(),
        source_key: keys.map(|k| (key_tail(&k.access_key_id), k.origin.to_string())).map_err(|e| e.message),
        serial,
        region: settings.client.region.clone(),
        roles: settings.roles.iter().map(|h| h.role_arn.clone()).collect(),
        direct: settings.direct,
        mfa_until: mfa_until.or(console.as_ref().and_then(|c| c.valid_until).filter(|_| !settings.roles.is_empty())),
        session: state,
        cache_path,
        console: console.map(|c| ConsoleStatus {
            signed_in: !matches!(c.state, SessionState::None),
            arn: c.arn,
            renewable_until: c.renewable_until,
            sign_in_command: format!("awsmfa login --console --profile {}", settings.base_profile),
        }),
    };
    print(report.render(args.json).as_bytes())
}

/// A console sign-in session as its file says: no AWS call, as for every status.
struct Console {
    arn: String,
    file: std::path::PathBuf,
    state: SessionState,
    valid_until: Option<time::OffsetDateTime>,
    renewable_until: Option<time::OffsetDateTime>,
}

fn console_state(settings: &crate::profile::Settings, arn: &str) -> Result<Console> {
    let dir = login::cache_dir(&settings.login())?;
    let now = clock::now();
    let (state, valid_until, renewable_until) = match cache::load(&dir, arn)? {
        cache::Loaded::Missing => (SessionState::None, None, None),
        cache::Loaded::Unusable(_) => (SessionState::Unusable, None, None),
        cache::Loaded::Token(token) => {
            let renewable = token
                .identity()
                .and_then(|id| id.issued_at)
                .and_then(|iat| time::OffsetDateTime::from_unix_timestamp(iat).ok())
                .map(|t| t + login::SESSION_LIMIT);
            match token.expires() {
                Some(until) if until > now => (SessionState::Valid { until }, Some(until), renewable),
                Some(at) => (SessionState::Expired { at }, None, renewable),
                // An end awsmfa cannot read: the next use renews the credentials.
                None => (SessionState::None, None, renewable),
            }
        }
    };
    Ok(Console { arn: arn.to_string(), file: cache::path(&dir, arn), state, valid_until, renewable_until })
}
