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
pub mod write;

pub use crate::credentials::{KeyOrigin, LongTermKeys, Secret, Session, key_tail};

use cache::{CacheKey, RoleChain, SessionCache};
use provider::{Cached, Provider};
use role::{AssumeRole, DirectRole};
use sts::SessionToken;

use crate::error::Result;
use crate::profile::Settings;

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
pub fn min_ttl(settings: &Settings, request: &Request) -> u64 {
    request.min_ttl.or(settings.min_ttl).unwrap_or(provider::DEFAULT_MIN_TTL)
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
pub fn get_session(settings: &Settings, request: &Request) -> Result<Obtained> {
    providers(settings)?.provide(request)
}

/// The providers the plan asks for, checked (durations, role ARNs) before anything runs:
///   no roles:  Cached(SessionToken)
///   roles:     Cached(AssumeRole(… AssumeRole(Cached(SessionToken))))
///   --direct:  Cached(AssumeRole(… DirectRole))
pub fn providers(settings: &Settings) -> Result<Box<dyn Provider + '_>> {
    if let Some(arn) = &settings.login_session {
        return console_providers(settings, &arn.value);
    }
    let keys = settings.keys()?;
    let (cache, mfa_key) = mfa_cache_key(settings, keys);
    let hops = role::checked_hops(settings)?;
    let Some(((first, first_duration), rest)) = hops.split_first() else {
        let token = SessionToken { settings, keys, duration: sts::duration(settings)? };
        return Ok(Box::new(Cached { settings, cache, key: mfa_key, inner: Box::new(token) }));
    };
    let mut chain: Box<dyn Provider + '_> = if settings.direct {
        Box::new(DirectRole { settings, keys, hop: first, duration: *first_duration })
    } else {
        let token = SessionToken { settings, keys, duration: sts::duration(settings)? };
        let mfa_session = Cached { settings, cache: cache.clone(), key: mfa_key, inner: Box::new(token) };
        Box::new(AssumeRole { settings, inner: Box::new(mfa_session), hop: first, duration: *first_duration })
    };
    for (hop, duration) in rest {
        chain = Box::new(AssumeRole { settings, inner: chain, hop, duration: *duration });
    }
    let (_, key) = cache_for(settings, keys);
    Ok(Box::new(Cached { settings, cache, key, inner: chain }))
}

/// For a console sign-in session as the base: the session itself (its file is its cache);
/// with roles, `Cached(AssumeRole(… ConsoleSession))`, keyed by the session and the chain.
fn console_providers<'a>(settings: &'a Settings, arn: &'a str) -> Result<Box<dyn Provider + 'a>> {
    if settings.direct {
        return Err(crate::error::Error::config(
            "--direct assumes a role with an MFA code: a console sign-in session has none",
        )
        .hint("leave out --direct: the role is assumed with the signed-in session"));
    }
    let hops = role::checked_hops(settings)?;
    let mut chain: Box<dyn Provider + 'a> = Box::new(console::ConsoleSession { settings, arn });
    if hops.is_empty() {
        return Ok(chain);
    }
    for (hop, duration) in &hops {
        chain = Box::new(AssumeRole { settings, inner: chain, hop, duration: *duration });
    }
    let (cache, key) = console_role_cache(settings, arn);
    Ok(Box::new(Cached { settings, cache, key, inner: chain }))
}

/// Where the role sessions assumed with console sign-in session `arn` are cached.
pub fn console_role_cache(settings: &Settings, arn: &str) -> (SessionCache, CacheKey) {
    let key = CacheKey {
        source_access_key_id: format!("login:{arn}"),
        serial: None,
        roles: RoleChain { direct: false, arns: settings.roles.iter().map(|h| h.role_arn.clone()).collect() },
    };
    (SessionCache::new(&settings.cache_dir), key)
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
/// last role of the chain (keyed by the whole chain, and by how its first role is assumed).
pub fn cache_for(settings: &Settings, keys: &LongTermKeys) -> (SessionCache, CacheKey) {
    let (cache, mut key) = mfa_cache_key(settings, keys);
    key.roles =
        RoleChain { direct: settings.direct, arns: settings.roles.iter().map(|h| h.role_arn.clone()).collect() };
    (cache, key)
}
