//! Getting a `Session`: providers (`provider`: one trait; `sts`: the MFA session; `role`:
//! roles), where sessions are kept (`cache`), the record of MFA codes already spent
//! (`used_codes`), what `status` finds in the caches (`status`), and a session written into
//! a credentials profile (`write`).
//! `get_session` composes the providers the plan asks for. The credential types themselves
//! live in `credentials`, a leaf every layer may use.

pub mod cache;
pub mod console;
pub mod provider;
pub mod role;
pub mod status;
pub mod sts;
pub mod used_codes;

pub use crate::credentials::{KeyOrigin, LongTermKeys, Secret, Session, key_tail};

use cache::{CacheKey, RoleChain, SessionCache};
use provider::{Cached, Provider};
use role::{AssumeRole, DirectRole};
use sts::SessionToken;

use crate::aws::ClientConfig;
use crate::config::Sourced;
use crate::error::Result;
use crate::{login, mfa};

pub use role::RoleHop;

/// This layer's part of the plan: a view of what `profile` resolved, with only what getting
/// a session needs: where the chain starts (long-term keys, or a console sign-in session),
/// the roles on top, the MFA device and its code sources, the cache, and how AWS is reached.
pub struct Plan<'a> {
    /// The profile whose keys (or `login_session`) start the chain: the hints name it.
    pub base_profile: &'a str,
    /// The long-term keys, or why there are none (said only when they are needed).
    pub keys: Result<&'a LongTermKeys>,
    /// A console sign-in session (`login_session`) as the start instead of keys.
    pub login_session: Option<&'a str>,
    /// Roles to assume, first to last; empty for a plain MFA session.
    pub roles: &'a [RoleHop],
    /// Assume the first role with the MFA code on the long-term keys (no GetSessionToken).
    pub direct: bool,
    pub serial: Option<&'a Sourced<String>>,
    pub duration: Option<&'a Sourced<u64>>,
    /// The session cache and the record of spent codes (AWSMFA_CACHE_DIR).
    pub cache_dir: &'a std::path::Path,
    /// Reuse a cached session only while it has more than this left (AWSMFA_MIN_TTL).
    pub min_ttl: Option<u64>,
    /// How long to wait for another awsmfa's login (AWSMFA_LOCK_TIMEOUT).
    pub lock_timeout: std::time::Duration,
    pub client: &'a ClientConfig,
    pub codes: &'a mfa::Sources,
    pub login: login::Plan<'a>,
}

impl<'a> Plan<'a> {
    /// The long-term keys to call STS with, or the error that says how to provide them.
    pub fn keys(&self) -> Result<&'a LongTermKeys> {
        self.keys.as_ref().copied().map_err(crate::error::Error::again)
    }
}

/// What the command asked for.
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub code: Option<String>,
    pub force: bool,
    /// Reuse a cached session only while it has more than this many seconds left.
    pub min_ttl: Option<u64>,
}

impl Request {
    /// The same request for a provider underneath: it may reuse what it has (`--force`
    /// renews the credentials asked for, not the MFA session behind a role).
    fn reusing(&self) -> Request {
        Request { force: false, ..self.clone() }
    }
}

/// The margin a cached session must have left to be handed out: `--min-ttl`,
/// AWSMFA_MIN_TTL, else 5 minutes.
pub fn min_ttl(plan: &Plan, request: &Request) -> u64 {
    request.min_ttl.or(plan.min_ttl).unwrap_or(provider::DEFAULT_MIN_TTL)
}

/// A session ready to use, and how it was had.
#[derive(Debug)]
pub struct Obtained {
    pub session: Session,
    pub serial: String,
    /// True when STS was called now; false when the cache served.
    pub fresh: bool,
}

/// Credentials for the settings: the MFA session, or the roles assumed with it (or, with
/// `--direct`, with the code itself). From the cache while they last (unless `force`).
pub fn get_session(plan: &Plan, request: &Request) -> Result<Obtained> {
    providers(plan)?.provide(request)
}

/// The providers the plan asks for, checked (durations, role ARNs) before anything runs:
///   no roles:  Cached(SessionToken)
///   roles:     Cached(AssumeRole(… AssumeRole(Cached(SessionToken))))
///   --direct:  Cached(AssumeRole(… DirectRole))
pub fn providers<'a>(plan: &'a Plan<'a>) -> Result<Box<dyn Provider + 'a>> {
    if let Some(arn) = plan.login_session {
        return console_providers(plan, arn);
    }
    let keys = plan.keys()?;
    let (cache, mfa_key) = mfa_cache_key(plan, keys);
    let hops = role::checked_hops(plan)?;
    let Some(((first, first_duration), rest)) = hops.split_first() else {
        let token = SessionToken { plan, keys, duration: sts::duration(plan)? };
        return Ok(Box::new(Cached { plan, cache, key: mfa_key, inner: Box::new(token) }));
    };
    let mut chain: Box<dyn Provider + '_> = if plan.direct {
        Box::new(DirectRole { plan, keys, hop: first, duration: *first_duration })
    } else {
        let token = SessionToken { plan, keys, duration: sts::duration(plan)? };
        let mfa_session = Cached { plan, cache: cache.clone(), key: mfa_key, inner: Box::new(token) };
        Box::new(AssumeRole { plan, inner: Box::new(mfa_session), hop: first, duration: *first_duration })
    };
    for (hop, duration) in rest {
        chain = Box::new(AssumeRole { plan, inner: chain, hop, duration: *duration });
    }
    let (_, key) = cache_for(plan, keys);
    Ok(Box::new(Cached { plan, cache, key, inner: chain }))
}

/// For a console sign-in session as the base: the session itself (its file is its cache);
/// with roles, `Cached(AssumeRole(… ConsoleSession))`, keyed by the session and the chain.
fn console_providers<'a>(plan: &'a Plan<'a>, arn: &'a str) -> Result<Box<dyn Provider + 'a>> {
    if plan.direct {
        return Err(crate::error::Error::config(
            "--direct assumes a role with an MFA code: a console sign-in session has none",
        )
        .hint("leave out --direct: the role is assumed with the signed-in session"));
    }
    let hops = role::checked_hops(plan)?;
    let mut chain: Box<dyn Provider + 'a> = match plan.login.kept {
        None => Box::new(console::ConsoleSession { plan, arn }),
        // Kept in the keystore: its credentials are cached by awsmfa, as an MFA session is.
        Some(kept) => {
            let (cache, key) = kept_cache(plan, arn);
            let inner = Box::new(console::KeptSession { plan, arn, kept });
            Box::new(Cached { plan, cache, key, inner })
        }
    };
    if hops.is_empty() {
        return Ok(chain);
    }
    for (hop, duration) in &hops {
        chain = Box::new(AssumeRole { plan, inner: chain, hop, duration: *duration });
    }
    let (cache, key) = console_role_cache(plan, arn);
    Ok(Box::new(Cached { plan, cache, key, inner: chain }))
}

/// Where the credentials of console sign-in session `arn`, kept in the keystore, are cached.
pub fn kept_cache(plan: &Plan, arn: &str) -> (SessionCache, CacheKey) {
    let key = CacheKey { source_access_key_id: format!("login:{arn}"), serial: None, roles: RoleChain::default() };
    (SessionCache::new(plan.cache_dir), key)
}

/// Where the role sessions assumed with console sign-in session `arn` are cached.
pub fn console_role_cache(plan: &Plan, arn: &str) -> (SessionCache, CacheKey) {
    let key = CacheKey {
        source_access_key_id: format!("login:{arn}"),
        serial: None,
        roles: RoleChain { direct: false, arns: plan.roles.iter().map(|h| h.role_arn.clone()).collect() },
    };
    (SessionCache::new(plan.cache_dir), key)
}

/// The cache and the key of the MFA session itself (GetSessionToken), roles or not.
pub fn mfa_cache_key(plan: &Plan, keys: &LongTermKeys) -> (SessionCache, CacheKey) {
    let key = CacheKey {
        source_access_key_id: keys.access_key_id.clone(),
        serial: plan.serial.map(|s| s.value.clone()),
        roles: RoleChain::default(),
    };
    (SessionCache::new(plan.cache_dir), key)
}

/// The cache and the key of the credentials the settings ask for: the MFA session, or the
/// last role of the chain (keyed by the whole chain, and by how its first role is assumed).
pub fn cache_for(plan: &Plan, keys: &LongTermKeys) -> (SessionCache, CacheKey) {
    let (cache, mut key) = mfa_cache_key(plan, keys);
    key.roles = RoleChain { direct: plan.direct, arns: plan.roles.iter().map(|h| h.role_arn.clone()).collect() };
    (cache, key)
}
