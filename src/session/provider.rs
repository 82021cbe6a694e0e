//! One trait for every way of getting credentials, as aws-config and aws-vault do it:
//! `SessionToken` (the MFA session), `AssumeRole` (a role, with the credentials of any inner
//! provider), `DirectRole` (a role with the MFA code itself), and `Cached`, which wraps any
//! of them with the session cache and its lock. `session::get_session` composes them from
//! the plan; later sources (a keystore, a credential server) plug in the same way.

use time::OffsetDateTime;

use super::Plan;
use super::cache::{CacheKey, Cached as CachedRecord, Rejected, SessionCache};
use super::{Obtained, Request};
use crate::clock;
use crate::error::Result;
use crate::files::lock;
use crate::ui;

/// How long before expiry a cached session stops being handed out, unless asked otherwise.
pub const DEFAULT_MIN_TTL: u64 = 300;

pub trait Provider {
    /// Credentials for `request`: from AWS now, or from a cache.
    fn provide(&self, request: &Request) -> Result<Obtained>;
}

/// `inner`'s credentials, kept in the cache under `key` while they last: N processes that
/// find them missing at once make one call of `inner` between them (the others wait on the
/// lock and take what the first stored).
pub struct Cached<'a> {
    pub plan: &'a Plan<'a>,
    pub cache: SessionCache,
    pub key: CacheKey,
    pub inner: Box<dyn Provider + 'a>,
}

impl Provider for Cached<'_> {
    fn provide(&self, request: &Request) -> Result<Obtained> {
        let (cache, key) = (&self.cache, &self.key);
        let ttl = super::min_ttl(self.plan, request);
        let mut warned = false;
        if !request.force
            && let Some(c) = usable(cache.load(key), clock::now(), ttl, &mut warned)?
        {
            ui::trace("using the cached session");
            return Ok(found(c));
        }
        // A directory or FIFO where the session goes is found now, not after STS took a code.
        cache.check_storable(key)?;
        let mut waited = false;
        let _lock = lock::acquire(&cache.lock_path(key), self.plan.lock_timeout, || {
            waited = true;
            ui::trace("another awsmfa is logging in; waiting for its session");
        })?;
        // Whoever held the lock may have just stored a fresh session: use it instead of a code.
        if (!request.force || waited)
            && let Some(c) = usable(cache.load(key), clock::now(), ttl, &mut warned)?
        {
            return Ok(found(c));
        }
        let made = self.inner.provide(request)?;
        cache.store(key, &made.serial, &made.session)?;
        Ok(made)
    }
}

fn found(c: CachedRecord) -> Obtained {
    Obtained { session: c.session, serial: c.serial, fresh: false }
}

/// A cached session with more than `min_ttl` left; a file that is not usable is warned
/// about once per run (`warned`), one that must not be trusted stops the run.
fn usable(
    loaded: std::result::Result<CachedRecord, Rejected>,
    now: OffsetDateTime,
    min_ttl: u64,
    warned: &mut bool,
) -> Result<Option<CachedRecord>> {
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
