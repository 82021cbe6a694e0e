//! `awsmfa login`: get (or reuse) the MFA session; optionally write it to a credentials
//! profile and to the JSON file the manual recipe saved.

use super::{request, settings};
use crate::cli::{GlobalArgs, LoginArgs};
use crate::clock;
use crate::error::{Error, Result};
use crate::files::{self, atomic, ini};
use crate::output;
use crate::session::{Session, sts};
use crate::ui;

pub fn run(global: &GlobalArgs, args: LoginArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    if let Some(name) = &args.write_profile {
        refuse_to_overwrite_long_term_keys(&settings, name)?;
    }
    let got = sts::get_session(&settings, &request(&args.session, args.force))?;
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
        atomic::write(path, output::sts_json(&got.session).as_bytes(), 0o600)?;
        ui::note(&format!("wrote {}", path.display()));
    }
    Ok(0)
}

/// `--write-profile default` with the long-term keys in [default] would destroy them.
fn refuse_to_overwrite_long_term_keys(settings: &crate::profile::Settings, name: &str) -> Result<()> {
    super::check_profile_name(name)?;
    let keys = settings.keys()?;
    let section = settings.long_term_section();
    if name == section && keys.origin.starts_with(&format!("[{section}] of")) {
        return Err(Error::config(format!(
            "--write-profile {name} would overwrite the long-term keys in [{name}] of {}",
            settings.credentials_path.display()
        ))
        .hint(format!(
            "move those keys to [{name}-long-term] (awsmfa reads them there), or write the session to another profile"
        )));
    }
    Ok(())
}

pub fn write_profile(settings: &crate::profile::Settings, name: &str, session: &Session) -> Result<()> {
    let body = vec![
        format!("# written by awsmfa; expires {}", clock::iso_utc(session.expiration)),
        format!("aws_access_key_id = {}", session.access_key_id),
        format!("aws_secret_access_key = {}", session.secret_access_key.expose()),
        format!("aws_session_token = {}", session.session_token.expose()),
    ];
    files::edit_ini(&settings.credentials_path, &settings.cache_dir, |old| {
        Some(ini::replace_section(old, name, &body))
    })?;
    Ok(())
}
