//! `awsmfa login`: get (or reuse) the MFA session; optionally write it to a credentials
//! profile and to the JSON file the manual recipe saved.

use super::{SESSION_KEYS, check_session_profile, refuse_long_term_section, request, settings};
use crate::cli::{GlobalArgs, LoginArgs};
use crate::clock;
use crate::error::Result;
use crate::files::atomic::{self, Links};
use crate::files::{self, ini};
use crate::output;
use crate::profile::Settings;
use crate::session::{self, Session};
use crate::ui;

pub fn run(global: &GlobalArgs, args: LoginArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    // Everything that can be checked is checked before a code is spent.
    if let Some(name) = &args.write_profile {
        check_session_profile(&settings, name, "write the session into")?;
        atomic::check_writable(&settings.credentials_path, Links::Follow, true)?;
    }
    if let Some(path) = &args.save_json {
        atomic::check_own(path)?;
    }
    let got = session::get_session(&settings, &request(&args.session, args.force)?)?;
    let now = clock::now();
    let until = format!(
        "{} ({} left)",
        clock::human_utc(got.session.expiration),
        clock::human_duration(got.session.seconds_left(now))
    );
    if got.fresh {
        ui::note(&format!("logged in with MFA device {}: session valid until {until}", got.serial));
    } else {
        ui::note(&format!("already logged in: session valid until {until} (use --force to renew)"));
    }
    if let Some(name) = &args.write_profile {
        write_profile(&settings, name, &got.session)?;
        ui::note(&format!("wrote profile [{name}] in {}", settings.credentials_path.display()));
    }
    if let Some(path) = &args.save_json {
        // Checked again: the code is spent, but the session must still not reach a file
        // planted meanwhile. Written as awsmfa's own files are: 0600, never through a link.
        atomic::check_own(path)?;
        atomic::write(path, output::sts_json(&got.session).as_bytes(), 0o600, Links::Replace)?;
        ui::note(&format!("wrote {}", path.display()));
    }
    Ok(0)
}

fn write_profile(settings: &Settings, name: &str, session: &Session) -> Result<()> {
    let note = format!("{}; expires {}", ini::NOTE_PREFIX, clock::iso_utc(session.expiration));
    let keys = [
        (SESSION_KEYS[0], Some(session.access_key_id.as_str())),
        (SESSION_KEYS[1], Some(session.secret_access_key.expose())),
        (SESSION_KEYS[2], Some(session.session_token.expose())),
        (SESSION_KEYS[3], None),
    ];
    files::edit_ini(&settings.credentials_path, |old| {
        // Checked again under the lock: another writer may have changed the file since.
        refuse_long_term_section(old, settings, name)?;
        Ok(Some(ini::set_keys(old, name, &keys, Some(&note))))
    })?;
    Ok(())
}
