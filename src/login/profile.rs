//! A console sign-in and the profile that uses it: `sign_in_profile` (`login --console`)
//! signs in and points the profile at the session (`login_session`, and a region when it has
//! none); `sign_out` (`logout`) deletes the session's file, as `aws logout` does.

use crate::clock;
use crate::error::{Error, Result};
use crate::files::atomic::{self, Links};
use crate::files::{self, ini, lock};
use crate::profile::Settings;
use crate::ui;

use super::{Flow, cache, cache_dir, sign_in};

/// `login --console`: a console sign-in in the browser, its session written where the AWS CLI
/// keeps it, and `login_session` (with a region, when the profile has none) in the profile.
/// `remote`: the code is pasted from a browser elsewhere; `browser`: one is opened here;
/// `timeout`: seconds (`--timeout`) the person's part may last.
pub fn sign_in_profile(settings: &Settings, remote: bool, browser: bool, timeout: u64) -> Result<()> {
    let profile = &settings.profile;
    if !settings.roles.is_empty() {
        return Err(Error::config(format!(
            "profile '{profile}' assumes a role: a console sign-in is the start of a chain"
        ))
        .hint(format!(
            "sign in with its source profile (`awsmfa login --console --profile {}`); the roles then use it",
            settings.base_profile
        )));
    }
    if let Some(what) = other_credentials(settings, profile) {
        return Err(Error::config(format!("profile '{profile}' already gets credentials another way ({what})"))
            .hint("sign in into a profile of its own: `awsmfa login --console --profile NAME`"));
    }
    // The session the profile names is most likely the one signed in again: a directory or
    // FIFO in place of its file is said now, not once the person has signed in.
    if let Some(arn) = &settings.login_session {
        let file = cache::path(&cache_dir(settings)?, &arn.value);
        atomic::check_writable(&file, Links::Replace, true)?;
    }
    let flow = if remote { Flow::CrossDevice } else { Flow::SameDevice };
    let secrets = crate::profile::secret_variables();
    let open = |url: &str| browser && crate::platform::open_url(url, settings.browser.as_deref(), &secrets);
    let wait = crate::profile::check_duration("--timeout", timeout, crate::clock::SIGN_IN_WAIT, "10m")?;
    let signed = sign_in(settings, &flow, std::time::Duration::from_secs(wait), &open)?;
    let region = settings.own_value(profile, "region").is_none().then(|| crate::aws::region(settings));
    let previous = settings.login_session.as_ref().map(|s| s.value.clone()).filter(|s| *s != signed.arn);
    files::edit_ini(&settings.config_path, |old| {
        let section = ini::config_section(old, profile);
        // A `None` value would delete the key: the region is only ever added, never touched.
        let mut keys = vec![("login_session", Some(signed.arn.as_str()))];
        if let Some(region) = region.as_deref() {
            keys.push(("region", Some(region)));
        }
        Ok(Some(ini::replace_keys(old, &section, &keys)))
    })?;
    if let Some(previous) = previous {
        ui::note(&format!("profile '{profile}' used {previous} before"));
    }
    let renewable =
        signed.renewable_until.map(|t| format!(", renewed until {}", clock::human_utc(t))).unwrap_or_default();
    ui::note(&format!(
        "signed in as {}: credentials until {}{renewable}",
        signed.arn,
        clock::human_utc(signed.expires)
    ));
    ui::note(&format!(
        "profile '{profile}' uses it (login_session in {}); the session is in {}",
        settings.config_path.display(),
        signed.file.display()
    ));
    Ok(())
}

/// Another source of credentials the profile has, which a sign-in would be shadowed by or
/// would shadow (the AWS CLI's `aws login` refuses the same).
fn other_credentials(settings: &Settings, profile: &str) -> Option<String> {
    if let Some(place) = settings.long_term_keys_of(profile) {
        return Some(format!("long-term keys in {place}"));
    }
    ["credential_process", "sso_session", "sso_account_id", "web_identity_token_file", "role_arn"]
        .into_iter()
        .find(|key| settings.own_value(profile, key).is_some())
        .map(|key| format!("{key} is set"))
}

/// Signs out of the console sign-in session `arn`: its file goes (its refresh token with it);
/// the profile keeps login_session, for the next sign-in. AWS offers the devtools clients no
/// way to revoke: credentials already handed out last their 15 minutes.
pub fn sign_out(settings: &Settings, arn: &str) -> Result<()> {
    let dir = cache_dir(settings)?;
    let file = cache::path(&dir, arn);
    // Under the renewals' lock: a renewal in flight would write the session back
    // (with its new refresh token) right after it was deleted.
    let _lock = match std::fs::symlink_metadata(&file) {
        Ok(_) => Some(lock::acquire(&cache::lock_path(&dir, arn), lock::wait(), || {
            ui::note("waiting for a renewal of the console sign-in session to finish")
        })?),
        Err(_) => None,
    };
    match std::fs::remove_file(&file) {
        Ok(()) => {
            ui::note(&format!("signed out of {} (deleted {})", arn, file.display()));
            // One session, one file: every profile that names it is signed out with it.
            let others: Vec<String> = settings
                .files()
                .profile_names()
                .into_iter()
                .filter(|name| *name != settings.profile)
                .filter(|name| settings.files().value(name, "login_session").map(str::trim) == Some(arn))
                .map(|name| format!("'{name}'"))
                .collect();
            if !others.is_empty() {
                ui::note(&format!("profile(s) {} used the same session: signed out too", others.join(", ")));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ui::note(&format!("no console sign-in session {} on this machine", arn))
        }
        Err(e) => return Err(Error::io("delete", &file, e)),
    }
    Ok(())
}
