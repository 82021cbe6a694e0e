//! `awsmfa logout`: delete cached sessions, and on request the profile that
//! `login --write-profile` wrote.

use crate::cli::{GlobalArgs, LogoutArgs};
use crate::error::Result;
use crate::files::{self, ini};
use crate::session::cache::SessionCache;
use crate::session::sts;
use crate::ui;

pub fn run(global: &GlobalArgs, args: LogoutArgs) -> Result<i32> {
    let settings = super::profile_settings(global)?;
    if args.all {
        let n = SessionCache::new(&settings.cache_dir).remove_all()?;
        ui::note(&format!("deleted {n} cached session(s) from {}", settings.cache_dir.display()));
    } else {
        let keys = settings.keys()?;
        let (cache, key) = sts::cache_for(&settings, keys);
        if cache.remove(&key)? {
            ui::note(&format!("deleted the cached session of profile '{}'", settings.profile));
        } else {
            ui::note(&format!("no cached session for profile '{}'", settings.profile));
        }
    }
    if let Some(name) = &args.write_profile {
        super::check_profile_name(name)?;
        let changed =
            files::edit_ini(&settings.credentials_path, &settings.cache_dir, |old| ini::remove_section(old, name))?;
        if changed {
            ui::note(&format!("removed [{name}] from {}", settings.credentials_path.display()));
        } else {
            ui::note(&format!("no [{name}] in {}", settings.credentials_path.display()));
        }
    }
    Ok(0)
}
