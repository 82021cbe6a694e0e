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
        session::write::check_profile(&settings, name, "delete the session keys of")?;
    }
    let cache = SessionCache::new(&settings.cache_dir);
    if args.all {
        let n = cache.remove_all()?;
        ui::note(&format!("deleted {n} cached session(s) from {}", settings.cache_dir.display()));
    } else if let Some(arn) = &settings.login_session {
        // As `aws logout`: the session's file goes (its refresh token with it); the profile
        // keeps login_session, for the next sign-in. AWS offers the devtools clients no way
        // to revoke: credentials already handed out last their 15 minutes.
        let dir = crate::login::cache_dir(&settings)?;
        let file = crate::login::cache::path(&dir, &arn.value);
        // Under the renewals' lock: a renewal in flight would write the session back
        // (with its new refresh token) right after it was deleted.
        let _lock = match std::fs::symlink_metadata(&file) {
            Ok(_) => Some(crate::files::lock::acquire(
                &crate::login::cache::lock_path(&dir, &arn.value),
                crate::files::lock::wait(),
                || ui::note("waiting for a renewal of the console sign-in session to finish"),
            )?),
            Err(_) => None,
        };
        match std::fs::remove_file(&file) {
            Ok(()) => {
                ui::note(&format!("signed out of {} (deleted {})", arn.value, file.display()));
                // One session, one file: every profile that names it is signed out with it.
                let others: Vec<String> = settings
                    .files()
                    .profile_names()
                    .into_iter()
                    .filter(|name| *name != settings.profile)
                    .filter(|name| settings.files().value(name, "login_session").map(str::trim) == Some(&arn.value))
                    .map(|name| format!("'{name}'"))
                    .collect();
                if !others.is_empty() {
                    ui::note(&format!("profile(s) {} used the same session: signed out too", others.join(", ")));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ui::note(&format!("no console sign-in session {} on this machine", arn.value))
            }
            Err(e) => return Err(crate::error::Error::io("delete", &file, e)),
        }
        if !settings.roles.is_empty() {
            let (cache, key) = session::console_role_cache(&settings, &arn.value);
            cache.remove(&key)?;
        }
    } else {
        match settings.keys() {
            Ok(keys) => {
                let (cache, key) = session::cache_for(&settings, keys);
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
        if session::write::remove(&settings, name)? {
            ui::note(&format!("removed the session keys of [{name}] from {}", settings.credentials_path.display()));
        } else {
            ui::note(&format!("no [{name}] in {}", settings.credentials_path.display()));
        }
    }
    Ok(0)
}
