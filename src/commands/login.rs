//! `awsmfa login`: get (or reuse) the MFA session; optionally write it to a credentials
//! profile and to the JSON file the manual recipe saved.

use super::{request, settings};
use crate::cli::{GlobalArgs, LoginArgs};
use crate::clock;
use crate::config::{AwsFiles, FileKind, Source};
use crate::error::{Error, Result};
use crate::files::atomic::{self, Links};
use crate::files::{self, ini};
use crate::output;
use crate::profile::Settings;
use crate::session::{Session, sts};
use crate::ui;

/// The keys of a session in a credentials profile; every other line of the profile stays.
pub const SESSION_KEYS: [&str; 4] =
    ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"];

pub fn run(global: &GlobalArgs, args: LoginArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    // Everything that can be checked is checked before a code is spent.
    if let Some(name) = &args.write_profile {
        check_session_profile(&settings, name, "write the session into")?;
        atomic::check_writable(&settings.credentials_path, Links::Follow, true)?;
    }
    if let Some(path) = &args.save_json {
        atomic::check_writable(path, Links::Follow, false)?;
    }
    let got = sts::get_session(&settings, &request(&args.session, args.force)?)?;
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
        atomic::write(path, output::sts_json(&got.session).as_bytes(), 0o600, Links::Follow)?;
        ui::note(&format!("wrote {}", path.display()));
    }
    Ok(0)
}

/// A profile awsmfa may write a session into (or delete one from): a usable name, and no
/// long-term keys in it, in either file: those would be lost, or shadowed by session keys.
pub fn check_session_profile(settings: &Settings, name: &str, action: &str) -> Result<()> {
    super::check_profile_name(name)?;
    if let Some(place) = settings.long_term_keys_of(name) {
        return Err(Error::config(format!("refusing to {action} [{name}]: it holds the long-term keys in {place}"))
            .hint(format!(
                "choose another profile name (e.g. {name}-mfa), or move those keys to [{name}-long-term] of {}, where awsmfa reads them",
                settings.credentials_path.display()
            )));
    }
    Ok(())
}

pub fn write_profile(settings: &Settings, name: &str, session: &Session) -> Result<()> {
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

/// The long-term-keys guard again, on the credentials text about to be edited.
pub fn refuse_long_term_section(text: &str, settings: &Settings, name: &str) -> Result<()> {
    let credentials = Source { path: settings.credentials_path.clone(), text: text.to_string() };
    let parsed = AwsFiles::parse(&Source::default(), &credentials)?;
    let get = |key| parsed.get_in(FileKind::Credentials, name, key);
    if get("aws_access_key_id").is_some() && get("aws_session_token").is_none() {
        return Err(Error::config(format!(
            "refusing to change [{name}] of {}: it now holds long-term keys",
            settings.credentials_path.display()
        ))
        .hint("choose another profile name"));
    }
    Ok(())
}
