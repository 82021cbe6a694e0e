//! `awsmfa logout`: delete cached sessions, and on request the session keys that
//! `login --write-profile` wrote. Needs no long-term keys: logging out is always possible.

use crate::cli::{GlobalArgs, LogoutArgs};
use crate::error::Result;
use crate::session;
use crate::session::cache::SessionCache;
use crate::ui;

pub fn run(global: &GlobalArgs, args: LogoutArgs) -> Result<i32> {
    let settings = super::profile_settings(global)?;
    if let Some(name) = &args.write_profile {
        crate::profile::write::check_profile(&settings, name, "delete the session keys of")?;
    }
    let cache = SessionCache::new(&settings.cache_dir);
    if args.all {
        let n = cache.remove_all()?;
        ui::note(&format!("deleted {n} cached session(s) from {}", settings.cache_dir.display()));
    } else if let Some(arn) = &settings.login_session {
        // As `aws logout`: the session's file goes; so does the cache of its roles.
        crate::profile::signin::sign_out(&settings, &arn.value)?;
        if !settings.roles.is_empty() {
            let (cache, key) = session::console_role_cache(&settings.session(), &arn.value);
            cache.remove(&key)?;
        }
    } else {
        match settings.keys() {
            Ok(keys) => {
                let (cache, key) = session::cache_for(&settings.session(), keys);
                if cache.remove(&key)? {
                    ui::note(&format!("deleted the cached session of profile '{}'", settings.profile));
                } else {
                    ui::note(&format!("no cached session for profile '{}'", settings.profile));
                }
            }
            // Without keys there is no way to name the session: say how to drop them all.
            Err(_) => ui::note(&format!(
                "profile '{}' has no long-term keys, so no session of its own; `awsmfa logout --all` deletes every cached session",
                settings.profile
            )),
        }
    }
    if let Some(name) = &args.write_profile {
        if crate::profile::write::remove(&settings, name)? {
            ui::note(&format!("removed the session keys of [{name}] from {}", settings.credentials_path.display()));
        } else {
            ui::note(&format!("no [{name}] in {}", settings.credentials_path.display()));
        }
    }
    Ok(0)
}
