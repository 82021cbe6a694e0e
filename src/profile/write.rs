//! A session in a credentials profile: written by `login --write-profile` (with a note of
//! when it expires), taken out by `logout --write-profile`. Never into a profile that holds
//! long-term keys, in either AWS file: those would be lost, or shadowed by the session's.
//! Edits go through `files::edit_ini` (locked, atomic, 0600, every other line kept).

use super::Settings;
use crate::clock;
use crate::config::{AwsFiles, FileKind, Source};
use crate::credentials::Session;
use crate::error::{Error, Result};
use crate::files::{self, ini};

/// The keys of a session in a credentials profile; every other line of the profile stays.
const SESSION_KEYS: [&str; 4] =
    ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"];

/// A name that cannot be written as `[NAME]` is refused before anything is touched.
pub fn check_name(name: &str) -> Result<()> {
    if ini::valid_section_name(name) {
        return Ok(());
    }
    Err(Error::config(format!("{name:?} is not a usable profile name"))
        .hint("use letters, digits, '-', '_' or '.', e.g. --write-profile mfa"))
}

/// A profile awsmfa may write a session into (or delete one from): a usable name, and no
/// long-term keys in it, in either file: those would be lost, or shadowed by session keys.
pub fn check_profile(settings: &Settings, name: &str, action: &str) -> Result<()> {
    check_name(name)?;
    if let Some(place) = settings.long_term_keys_of(name) {
        return Err(Error::config(format!("refusing to {action} [{name}]: it holds the long-term keys in {place}"))
            .hint(format!(
                "choose another profile name (e.g. {name}-mfa), or move those keys to [{name}-long-term] of {}, where awsmfa reads them",
                settings.credentials_path.display()
            )));
    }
    Ok(())
}

/// `session` into `[name]` of the credentials file.
pub fn write(settings: &Settings, name: &str, session: &Session) -> Result<()> {
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

/// The session keys out of `[name]`; false when there is no such profile.
pub fn remove(settings: &Settings, name: &str) -> Result<bool> {
    files::edit_ini(&settings.credentials_path, |old| {
        refuse_long_term_section(old, settings, name)?;
        Ok(ini::remove_keys(old, name, &SESSION_KEYS))
    })
}

/// The long-term-keys guard again, on the credentials text about to be edited.
fn refuse_long_term_section(text: &str, settings: &Settings, name: &str) -> Result<()> {
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

/// The `credential_process` that awsmfa writes into a profile: this very binary, by its
/// full path (a tool that runs it has no PATH of awsmfa's to go by), for profile `name`.
pub fn credential_process_line(name: &str) -> Result<String> {
    // The SDKs split the line into words (shlex-like, no shell): a name must stay one word.
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@+".contains(c)) {
        return Err(Error::config(format!("profile name {name:?} cannot go into a credential_process line"))
            .hint("use a profile name of letters, digits and - _ . @ +"));
    }
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::unexpected(format!("cannot tell where awsmfa itself is: {e}")))?;
    let exe = exe.to_string_lossy();
    let exe = if exe.contains(char::is_whitespace) { format!("\"{exe}\"") } else { exe.into_owned() };
    Ok(format!("{exe} credential-process --profile {name}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_credential_process_line_names_this_binary_and_one_word_of_a_profile() {
        let line = super::credential_process_line("dev-1.a@b+c_d").unwrap();
        assert!(line.ends_with(" credential-process --profile dev-1.a@b+c_d"), "{line}");
        for bad in ["", "two words", "a;b", "$(x)", "a\"b", "a\nb"] {
            let err = super::credential_process_line(bad).unwrap_err();
            assert!(err.message.contains("cannot go into a credential_process line"), "{bad:?}: {}", err.message);
        }
    }
}
