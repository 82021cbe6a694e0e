//! `awsmfa login`: get (or reuse) the MFA session; optionally write it to a credentials
//! profile and to the JSON file the manual recipe saved.

use super::{request, settings};
use crate::cli::{GlobalArgs, LoginArgs};
use crate::clock;
use crate::error::{Error, Result};
use crate::files::atomic::{self, Links};
use crate::files::{self, ini};
use crate::login;
use crate::output;
use crate::profile::Settings;
use crate::session;
use crate::ui;

pub fn run(global: &GlobalArgs, args: LoginArgs) -> Result<i32> {
    let mut settings = settings(global, &args.session)?;
    // Everything that can be checked is checked before a code is spent.
    if let Some(name) = &args.write_profile {
        session::write::check_profile(&settings, name, "write the session into")?;
        atomic::check_writable(&settings.credentials_path, Links::Follow, true)?;
    }
    if let Some(path) = &args.save_json {
        atomic::check_own(path)?;
    }
    if args.console {
        console(&settings, &args)?;
        if args.write_profile.is_none() && args.save_json.is_none() {
            return Ok(0);
        }
        settings = super::settings(global, &args.session)?;
    }
    let got = session::get_session(&settings, &request(&args.session, args.force)?)?;
    let now = clock::now();
    let until = format!(
        "{} ({} left)",
        clock::human_utc(got.session.expiration),
        clock::human_duration(got.session.seconds_left(now))
    );
    if settings.login_session.is_some() {
        let how = if got.fresh { "renewed" } else { "valid" };
        ui::note(&format!("console sign-in session {}: credentials {how} until {until}", got.serial));
    } else if got.fresh {
        ui::note(&format!("logged in with MFA device {}: session valid until {until}", got.serial));
    } else {
        ui::note(&format!("already logged in: session valid until {until} (use --force to renew)"));
    }
    if let Some(name) = &args.write_profile {
        session::write::write(&settings, name, &got.session)?;
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

/// `login --console`: a console sign-in in the browser, its session written where the AWS CLI
/// keeps it, and `login_session` (with a region, when the profile has none) in the profile.
fn console(settings: &Settings, args: &LoginArgs) -> Result<()> {
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
        let file = login::cache::path(&login::cache_dir(settings)?, &arn.value);
        atomic::check_writable(&file, Links::Replace, true)?;
    }
    let flow = if args.remote { login::Flow::CrossDevice } else { login::Flow::SameDevice };
    let secrets = crate::profile::secret_variables();
    let open = |url: &str| !args.no_browser && crate::platform::open_url(url, settings.browser.as_deref(), &secrets);
    let wait = crate::profile::check_duration("--timeout", args.timeout, crate::clock::SIGN_IN_WAIT, "10m")?;
    let signed = login::sign_in(settings, &flow, std::time::Duration::from_secs(wait), &open)?;
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
