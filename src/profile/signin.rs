//! A console sign-in and the profile that uses it: `sign_in_profile` (`login --console`)
//! signs in and points the profile at the session (`login_session`, and a region when it has
//! none; with `--keystore`, `awsmfa_login_session`, `awsmfa_login_keystore` and awsmfa's
//! `credential_process` instead); `sign_out` (`logout`) deletes the session, as `aws logout`
//! does.

use crate::clock;
use crate::error::{Error, Result};
use crate::files::atomic::{self, Links};
use crate::files::{self, ini, lock};
use crate::keystore::Backend;
use crate::login::kept::{self, Kept};
use crate::login::{Flow, cache, cache_dir, sign_in};
use crate::ui;

use super::Settings;

/// What the person asked of the sign-in.
pub struct SignIn {
    /// The code is pasted from a browser elsewhere (`--remote`).
    pub remote: bool,
    /// A browser is opened here (not `--no-browser`).
    pub browser: bool,
    /// Seconds the person's part may last (`--timeout`).
    pub timeout: u64,
    /// Keep the session in this keystore, not the AWS CLI's file (`--keystore`).
    pub keystore: Option<Backend>,
}

/// `login --console`: a console sign-in in the browser, its session kept where the AWS CLI
/// keeps it (or in the keystore), and the profile pointed at it.
pub fn sign_in_profile(settings: &Settings, ask: &SignIn) -> Result<()> {
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
    let kept_here = |backend| Kept { backend, options: &settings.keystore, lock_dir: &settings.cache_dir };
    refuse_a_second_place(settings, ask.keystore, &kept_here)?;
    let mut plan = settings.login();
    plan.kept = ask.keystore.map(kept_here);
    // The session the profile names is most likely the one signed in again: a directory or
    // FIFO in place of its file is said now, not once the person has signed in.
    if let (Some(arn), None) = (&settings.login_session, &plan.kept) {
        let file = cache::path(&cache_dir(&plan)?, &arn.value);
        atomic::check_writable(&file, Links::Replace, true)?;
    }
    let process = match ask.keystore {
        Some(_) => Some(super::write::credential_process_line(profile)?),
        None => None,
    };
    let flow = if ask.remote { Flow::CrossDevice } else { Flow::SameDevice };
    let secrets = crate::profile::secret_variables();
    let open = |url: &str| ask.browser && crate::platform::open_url(url, settings.browser.as_deref(), &secrets);
    let wait = crate::profile::check_duration("--timeout", ask.timeout, crate::clock::SIGN_IN_WAIT, "10m")?;
    let signed = sign_in(&plan, &flow, std::time::Duration::from_secs(wait), &open)?;
    if plan.kept.is_some() {
        // The credentials are handed out from awsmfa's cache: the first use after the sign-in
        // needs no keystore (no passphrase, no keychain prompt).
        let (cache, key) = crate::session::kept_cache(&settings.session(), &signed.arn);
        if let Err(err) = cache.store(&key, &signed.arn, &signed.session) {
            ui::warn(&format!("{} (the first use opens the keystore instead)", err.message));
        }
    }
    let region = settings.own_value(profile, "region").is_none().then(|| crate::aws::region(&settings.client));
    let previous = settings.login_session.as_ref().map(|s| s.value.clone()).filter(|s| *s != signed.arn);
    files::edit_ini(&settings.config_path, |old| {
        let section = ini::config_section(old, profile);
        // A `None` value deletes the key: the other place's lines go, the region is only ever
        // added, never touched.
        let mut keys = match (&process, ask.keystore) {
            (Some(process), Some(backend)) => vec![
                ("awsmfa_login_session", Some(signed.arn.as_str())),
                ("awsmfa_login_keystore", Some(backend.name())),
                ("credential_process", Some(process.as_str())),
                ("login_session", None),
            ],
            _ => vec![
                ("login_session", Some(signed.arn.as_str())),
                ("awsmfa_login_session", None),
                ("awsmfa_login_keystore", None),
            ],
        };
        if ask.keystore.is_none() && settings.login_keystore.is_some() {
            // Ours (other_credentials refused any other): it ran awsmfa for the keystore's session.
            keys.push(("credential_process", None));
        }
        if let Some(region) = region.as_deref() {
            keys.push(("region", Some(region)));
        }
        Ok(Some(ini::replace_keys(old, &section, &keys)))
    })?;
    if let Some(previous) = &previous {
        ui::note(&format!("profile '{profile}' used {previous} before"));
    }
    if let (Some(previous), Some(kept), Some(_)) = (&previous, &plan.kept, &settings.login_keystore) {
        forget_kept(settings, kept, previous);
    }
    let renewable =
        signed.renewable_until.map(|t| format!(", renewed until {}", clock::human_utc(t))).unwrap_or_default();
    ui::note(&format!(
        "signed in as {}: credentials until {}{renewable}",
        signed.arn,
        clock::human_utc(signed.expires)
    ));
    if plan.kept.is_some() {
        ui::note(&format!(
            "the session is kept in {}; profile '{profile}' reaches it through awsmfa (credential_process in {}), for every tool",
            signed.place,
            settings.config_path.display()
        ));
    } else {
        ui::note(&format!(
            "profile '{profile}' uses it (login_session in {}); the session is in {}",
            settings.config_path.display(),
            signed.place
        ));
    }
    Ok(())
}

/// A sign-in that would keep the session in another place than the profile's session is
/// refused while that one is there: switching would leave it behind, its refresh token
/// with it. Signed out first (`logout`), the profile may switch.
fn refuse_a_second_place<'a>(
    settings: &'a Settings,
    asked: Option<Backend>,
    kept_here: &dyn Fn(Backend) -> Kept<'a>,
) -> Result<()> {
    let Some(arn) = &settings.login_session else { return Ok(()) };
    let profile = &settings.profile;
    let logout = format!("sign out of it first (`awsmfa logout --profile {profile}`)");
    match (settings.login_keystore.as_ref().map(|b| b.value), asked) {
        (None, Some(_)) => {
            let file = cache::path(&cache_dir(&settings.login())?, &arn.value);
            if std::fs::symlink_metadata(&file).is_ok() {
                return Err(Error::config(format!(
                    "profile '{profile}' has a console sign-in session in the AWS CLI's file {}",
                    file.display()
                ))
                .hint(format!("{logout}, then sign in with --keystore")));
            }
        }
        (Some(now), asked) if asked != Some(now) => {
            let keystore = kept_here(now).keystore();
            if kept::load(&keystore, &arn.value)?.is_some() {
                return Err(Error::config(format!(
                    "profile '{profile}' keeps its console sign-in session in {}",
                    keystore.describe()
                ))
                .hint(format!("sign in with --keystore {} to renew it, or {logout}", now.name())));
            }
        }
        _ => {}
    }
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
        // The credential_process of a session kept in the keystore is awsmfa's own: the
        // line the sign-in wrote, and no other (a sign-in would replace or delete it).
        .filter(|key| *key != "credential_process" || settings.login_keystore.is_none() || !ours(settings, profile))
        .find(|key| settings.own_value(profile, key).is_some())
        .map(|key| format!("{key} is set"))
}

/// Whether the profile's `credential_process` is the line a sign-in with `--keystore` writes
/// (`…/awsmfa credential-process --profile NAME`, whatever the path of awsmfa was then).
fn ours(settings: &Settings, profile: &str) -> bool {
    let Some(line) = settings.own_value(profile, "credential_process") else { return false };
    let tail = format!(" credential-process --profile {profile}");
    let Some(program) = line.trim().strip_suffix(&tail) else { return false };
    let program = program.trim().trim_matches('"');
    let name = std::path::Path::new(program).file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "awsmfa" || name == "awsmfa.exe"
}

/// Signs out of the console sign-in session `arn`: its file goes (its refresh token with it);
/// the profile keeps login_session, for the next sign-in. AWS offers the devtools clients no
/// way to revoke: credentials already handed out last their 15 minutes.
pub fn sign_out(settings: &Settings, arn: &str) -> Result<()> {
    let plan = settings.login();
    if let Some(kept) = &plan.kept {
        return sign_out_kept(settings, kept, arn);
    }
    let dir = cache_dir(&plan)?;
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
            say_others_signed_out(settings, "login_session", arn);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ui::note(&format!("no console sign-in session {} on this machine", arn))
        }
        Err(e) => return Err(Error::io("delete", &file, e)),
    }
    Ok(())
}

/// Signs out of a session kept in the keystore: its entry goes, and the credentials awsmfa
/// cached of it. The profile keeps its lines, for the next sign-in.
fn sign_out_kept(settings: &Settings, kept: &Kept, arn: &str) -> Result<()> {
    let keystore = kept.keystore();
    // Under the renewals' lock: a renewal in flight would keep the session again.
    let _lock = kept.lock(arn, || ui::note("waiting for a renewal of the console sign-in session to finish"))?;
    let removed = kept::remove(&keystore, arn)?;
    let (cache, key) = crate::session::kept_cache(&settings.session(), arn);
    cache.remove(&key)?;
    if removed {
        ui::note(&format!("signed out of {arn} (deleted it from {})", keystore.describe()));
        say_others_signed_out(settings, "awsmfa_login_session", arn);
    } else {
        ui::note(&format!("{} keeps no console sign-in session {arn}", keystore.describe()));
    }
    Ok(())
}

/// After a sign-in as another identity: the earlier identity's kept session goes with the
/// switch, unless another profile names it, rather than a refresh token left behind in the
/// keystore where nothing points to it. The sign-in is made: a failure here is a warning.
fn forget_kept(settings: &Settings, kept: &Kept, previous: &str) {
    if !others_naming(settings, "awsmfa_login_session", previous).is_empty() {
        return;
    }
    let keystore = kept.keystore();
    match kept::remove(&keystore, previous) {
        Ok(true) => ui::note(&format!("deleted the earlier session {previous} from {}", keystore.describe())),
        Ok(false) => {}
        Err(err) => {
            ui::warn(&format!("the earlier session {previous} stays in {}: {}", keystore.describe(), err.message))
        }
    }
    let (cache, key) = crate::session::kept_cache(&settings.session(), previous);
    let _ = cache.remove(&key);
}

/// The other profiles (quoted) whose `key` names session `arn`.
fn others_naming(settings: &Settings, key: &str, arn: &str) -> Vec<String> {
    settings
        .files()
        .profile_names()
        .into_iter()
        .filter(|name| *name != settings.profile)
        .filter(|name| settings.files().value(name, key).map(str::trim) == Some(arn))
        .map(|name| format!("'{name}'"))
        .collect()
}

/// Names the other profiles whose `key` names session `arn`: one session, one place, so they
/// are signed out with it.
fn say_others_signed_out(settings: &Settings, key: &str, arn: &str) {
    let others = others_naming(settings, key, arn);
    if !others.is_empty() {
        ui::note(&format!("profile(s) {} used the same session: signed out too", others.join(", ")));
    }
}
