//! `ConsoleSession`: the credentials of a console sign-in session (`login_session` in the
//! profile), from the AWS CLI's cache file while they last, renewed through AWS Sign-In
//! when they near their end. The file is the cache: a valid session is read from it with no
//! runtime, no TLS and no keystore; N processes that find it near its end renew it once
//! between them (the lock beside the file), and a renewal made by the AWS CLI or an SDK is
//! used as it is.

use super::Plan;
use super::provider::Provider;
use super::{Obtained, Request};
use crate::clock;
use crate::error::{Error, Kind, Result};
use crate::files::lock;
use crate::login::{self, cache};
use crate::ui;

pub struct ConsoleSession<'a> {
    pub plan: &'a Plan<'a>,
    /// The session's ARN (`login_session`).
    pub arn: &'a str,
}

impl Provider for ConsoleSession<'_> {
    fn provide(&self, request: &Request) -> Result<Obtained> {
        let dir = login::cache_dir(&self.plan.login)?;
        let ttl = super::min_ttl(self.plan, request) as i64;
        // Why the file is there but no session (None: it is missing): said if it stays so.
        let mut unusable: Option<String> = None;
        let mut usable = |loaded: cache::Loaded| -> Result<Option<Box<cache::LoginToken>>> {
            match loaded {
                cache::Loaded::Token(token) => Ok(Some(token)),
                cache::Loaded::Missing => Ok(None),
                cache::Loaded::Unusable(why) => {
                    unusable = Some(why);
                    Ok(None)
                }
            }
        };
        let fresh_enough =
            |token: &cache::LoginToken| token.session().map(|s| s.seconds_left(clock::now()) > ttl).unwrap_or(false);
        if !request.force
            && let Some(token) = usable(cache::load(&dir, self.arn)?)?
            && fresh_enough(&token)
        {
            ui::trace("using the console sign-in session's credentials");
            return self.obtained(&token, false);
        }
        let _lock = lock::acquire(&cache::lock_path(&dir, self.arn), lock::wait(), || {
            ui::trace("another awsmfa is renewing the console sign-in session; waiting for it");
        })?;
        // Renewed meanwhile (by another awsmfa, the AWS CLI or an SDK): use that.
        let Some(token) = usable(cache::load(&dir, self.arn)?)? else {
            let hint =
                format!("sign in: `awsmfa login --console --profile {}` (or `aws login`)", self.plan.base_profile);
            return Err(match unusable {
                // Said as the file's flaw, not as "no session": the file is there.
                Some(why) => Error::config(format!("cannot use the console sign-in session {}: {}", self.arn, {
                    // The reader's words ("ignoring the console sign-in session PATH: …
                    // (it will be replaced)") less what this line already says.
                    let why = why.strip_prefix("ignoring ").unwrap_or(&why);
                    let why = why.strip_prefix("the console sign-in session ").unwrap_or(why);
                    why.strip_suffix(" (it will be replaced)").unwrap_or(why).to_string()
                }))
                .hint(format!("{hint}; the sign-in replaces the file")),
                None => Error::config(format!("no console sign-in session {} on this machine", self.arn)).hint(hint),
            });
        };
        if fresh_enough(&token) && !request.force {
            return self.obtained(&token, false);
        }
        match login::refresh(&self.plan.login, self.arn, &token) {
            Ok(renewed) => self.obtained(&renewed, true),
            // Refused: the AWS CLI, botocore and the JavaScript SDK take no lock, and one of
            // them may have renewed with this very refresh token (good once) a moment ago.
            // Its renewal is then in the file, or about to be.
            Err(err) if err.kind == Kind::Denied => match self.renewed_by_another(&dir, &token, ttl) {
                Some(theirs) => self.obtained(&theirs, true),
                None => Err(err),
            },
            Err(err) => Err(err),
        }
    }
}

impl ConsoleSession<'_> {
    /// The session as another tool renewed it since `ours` was read (waited for a moment:
    /// it writes once AWS has answered it), if it did.
    fn renewed_by_another(
        &self,
        dir: &std::path::Path,
        ours: &cache::LoginToken,
        ttl: i64,
    ) -> Option<Box<cache::LoginToken>> {
        for _ in 0..20 {
            if let Ok(cache::Loaded::Token(theirs)) = cache::load(dir, self.arn)
                && theirs.refresh_token != ours.refresh_token
            {
                ui::trace("another tool renewed the console sign-in session meanwhile; using its renewal");
                return theirs.session().is_ok_and(|s| s.seconds_left(clock::now()) > ttl.min(60)).then_some(theirs);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    fn obtained(&self, token: &cache::LoginToken, fresh: bool) -> Result<Obtained> {
        obtained(self.arn, token, fresh)
    }
}

/// `KeptSession`: a console sign-in session kept in the keystore (`awsmfa_login_keystore`).
/// Its credentials are handed out from awsmfa's session cache (the `Cached` around it), so
/// the keystore is opened only to renew them: read the record, renew it through AWS Sign-In
/// when it nears its end, and keep the renewal (with the new refresh token) in its place.
pub struct KeptSession<'a> {
    pub plan: &'a Plan<'a>,
    pub arn: &'a str,
    pub kept: login::kept::Kept<'a>,
}

impl Provider for KeptSession<'_> {
    fn provide(&self, request: &Request) -> Result<Obtained> {
        let keystore = self.kept.keystore();
        // The cache's lock is held; this one also keeps a sign-in from being overwritten
        // by the renewal of the session it replaces.
        let _lock = self.kept.lock(self.arn, || {
            ui::trace("a sign-in of this session is being kept; waiting for it");
        })?;
        let token = login::kept::load(&keystore, self.arn)?.ok_or_else(|| {
            Error::config(format!("{} keeps no console sign-in session {}", keystore.describe(), self.arn))
                .hint(format!("sign in: `awsmfa login --console --keystore --profile {}`", self.plan.base_profile))
        })?;
        let ttl = super::min_ttl(self.plan, request) as i64;
        if !request.force && token.session().is_ok_and(|s| s.seconds_left(clock::now()) > ttl) {
            return obtained(self.arn, &token, false);
        }
        // Before the refresh: its token is good once, and a renewal the keystore cannot keep
        // would lose the session.
        keystore.check()?;
        let renewed = login::renew(&self.plan.login, self.arn, &token, &keystore.describe())?;
        if let Err(err) = login::kept::store(&keystore, self.arn, &renewed) {
            // The old refresh token is spent: these credentials are all there is. Handed out
            // (they last 15 minutes) with the truth about what comes after.
            ui::warn(&format!(
                "{} (the renewed session could not be kept: its credentials last until {}, then sign in again with `awsmfa login --console --keystore --profile {}`)",
                err.message,
                renewed.expires().map(clock::human_utc).unwrap_or_else(|| "soon".into()),
                self.plan.base_profile
            ));
        }
        obtained(self.arn, &renewed, true)
    }
}

fn obtained(arn: &str, token: &cache::LoginToken, fresh: bool) -> Result<Obtained> {
    Ok(Obtained { session: token.session()?, serial: arn.to_string(), fresh })
}
