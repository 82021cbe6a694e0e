//! What `status` finds, from files alone (no AWS call: safe in a shell prompt): the cached
//! session of a profile (or its console sign-in session's file), and, with roles, the MFA
//! session behind them.

use std::path::PathBuf;

use time::OffsetDateTime;

use crate::clock;
use crate::error::Result;
use crate::login::{self, cache};

use super::Plan;
use super::cache::Rejected;

/// The cached session of a profile, as `status` finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Valid {
        until: OffsetDateTime,
    },
    Expired {
        at: OffsetDateTime,
    },
    /// A cache file that cannot be used (it is replaced at the next login).
    Unusable,
    None,
}

/// The state of a profile's session, and where it is kept.
pub struct Found {
    pub state: SessionState,
    /// The file that holds the session, when there is one to name.
    pub cache_path: Option<PathBuf>,
    /// The serial the cached MFA session was made with.
    pub cached_serial: Option<String>,
    pub console: Option<Console>,
}

impl Found {
    /// With roles: until when the MFA session (or the console sign-in's) behind them lasts
    /// (a cache read only when the report is shown: `status --check` needs none).
    pub fn mfa_until(&self, plan: &Plan, now: OffsetDateTime) -> Option<OffsetDateTime> {
        // With roles, the MFA session behind them says whether the next role needs a new code.
        let behind = match (plan.keys(), plan.roles.is_empty() || plan.direct) {
            (Ok(keys), false) => {
                let (cache, key) = super::mfa_cache_key(plan, keys);
                cache.load(&key).ok().map(|c| c.session.expiration).filter(|t| *t > now)
            }
            _ => None,
        };
        behind.or(self.console.as_ref().and_then(|c| c.valid_until).filter(|_| !plan.roles.is_empty()))
    }
}

/// The session of the settings' profile as its files say; `keys` the profile's long-term
/// keys, or why there are none. A cache that must not be trusted (another user's file) is
/// an error, not a state.
pub fn find(plan: &Plan, now: OffsetDateTime) -> Result<Found> {
    let keys = &plan.keys();
    let console = match plan.login_session {
        Some(arn) => Some(console_state(plan, arn)?),
        None => None,
    };
    let (cache_path, loaded) = match (&console, keys) {
        (Some(c), _) if plan.roles.is_empty() => (Some(c.file.clone()), None),
        (Some(_), _) => {
            let (cache, key) = super::console_role_cache(plan, plan.login_session.expect("a console session"));
            (Some(cache.path(&key)), Some(cache.load(&key)))
        }
        (None, Ok(keys)) => {
            let (cache, key) = super::cache_for(plan, keys);
            (Some(cache.path(&key)), Some(cache.load(&key)))
        }
        (None, Err(_)) => (None, None),
    };
    let (state, cached_serial) = match loaded {
        None if console.as_ref().is_some_and(|_| plan.roles.is_empty()) => {
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
    Ok(Found { state, cache_path, cached_serial, console })
}

/// A console sign-in session as its file says: no AWS call, as for every status.
pub struct Console {
    pub arn: String,
    /// Its file: the AWS CLI's, or (kept in the keystore) awsmfa's cache of its credentials.
    pub file: PathBuf,
    /// The keystore that keeps it, for people ("the file keystore ..."); None: the file.
    pub kept_in: Option<String>,
    pub state: SessionState,
    pub valid_until: Option<OffsetDateTime>,
    pub renewable_until: Option<OffsetDateTime>,
}

fn console_state(plan: &Plan, arn: &str) -> Result<Console> {
    if let Some(kept) = &plan.login.kept {
        return Ok(kept_state(plan, kept, arn));
    }
    let dir = login::cache_dir(&plan.login)?;
    let now = clock::now();
    let (state, valid_until, renewable_until) = match cache::load(&dir, arn)? {
        cache::Loaded::Missing => (SessionState::None, None, None),
        cache::Loaded::Unusable(_) => (SessionState::Unusable, None, None),
        cache::Loaded::Token(token) => {
            let renewable = login::renewable_until(&token);
            match token.expires() {
                Some(until) if until > now => (SessionState::Valid { until }, Some(until), renewable),
                Some(at) => (SessionState::Expired { at }, None, renewable),
                // An end awsmfa cannot read: the next use renews the credentials.
                None => (SessionState::None, None, renewable),
            }
        }
    };
    Ok(Console {
        arn: arn.to_string(),
        file: cache::path(&dir, arn),
        kept_in: None,
        state,
        valid_until,
        renewable_until,
    })
}

/// A session kept in the keystore, as awsmfa's cache of its credentials says: the keystore
/// itself is not opened (no passphrase, no keychain prompt in a shell prompt).
fn kept_state(plan: &Plan, kept: &login::kept::Kept, arn: &str) -> Console {
    let (cache, key) = super::kept_cache(plan, arn);
    let now = clock::now();
    let (state, valid_until) = match cache.load(&key) {
        Ok(c) if c.session.seconds_left(now) > 0 => {
            (SessionState::Valid { until: c.session.expiration }, Some(c.session.expiration))
        }
        Ok(c) => (SessionState::Expired { at: c.session.expiration }, None),
        Err(Rejected::Missing) => (SessionState::None, None),
        Err(_) => (SessionState::Unusable, None),
    };
    Console {
        arn: arn.to_string(),
        file: cache.path(&key),
        kept_in: Some(kept.keystore().describe()),
        state,
        valid_until,
        renewable_until: None,
    }
}
