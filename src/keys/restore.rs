//! `awsmfa keys remove`: the keystore entry deleted, the profile's keystore lines removed;
//! with --restore the keys go back into the credentials file first.

use crate::config::{AwsFiles, FileKind};
use crate::credentials::key_tail;
use crate::error::{Error, Kind, Result};
use crate::files::{self, ini};
use crate::keystore::{self, Backend, Keystore, StoredKey};
use crate::profile::Settings;
use crate::ui::{self, term};

/// Takes profile `name` out of the keystore; `restore` puts its keys back into the
/// credentials file first, else a person confirms the deletion unless `yes`. Where they were.
pub fn remove(settings: &Settings, name: &str, restore: bool, yes: bool) -> Result<String> {
    let Some(kind) = settings.own_value(name, "awsmfa_keystore") else {
        return Err(Error::config(format!("profile '{name}' keeps no keys in the keystore"))
            .hint("`awsmfa keys list` shows those that do"));
    };
    let backend = Backend::parse(&kind)
        .ok_or_else(|| Error::config(format!("awsmfa_keystore = {kind:?} of profile '{name}' is not a keystore")))?;
    let store = Keystore::new(backend, &settings.keystore);
    // An entry that cannot be read (damaged) can still be removed; only --restore needs it.
    let stored = match store.get(name) {
        Ok(stored) => stored.map(Ok),
        Err(e) if restore => return Err(e),
        Err(e) => Some(Err(e)),
    };
    if restore {
        let Some(Ok(key)) = &stored else {
            return Err(Error::config(format!("{} has no entry for '{name}' to restore", store.describe()))
                .hint("run without --restore to remove the profile's keystore lines"));
        };
        put_back(settings, name, key)?;
    } else if stored.is_some() && !yes {
        let question = format!(
            "delete the keys of '{name}' from {}? Nobody can use that key afterwards (it stays in IAM) [y/N] ",
            store.describe()
        );
        if !term::confirm(
            "keys remove",
            &question,
            "pass --yes to delete without asking, or --restore to keep the keys",
        )? {
            return Err(Error::new(Kind::Declined, "nothing deleted"));
        }
    }
    let ours = settings.own_value(name, "credential_process").is_some_and(|l| super::is_ours(&l));
    files::edit_ini(&settings.config_path, |old| {
        let mut keys = vec!["awsmfa_keystore", "awsmfa_key_id"];
        if ours {
            keys.push("credential_process");
        }
        Ok(Some(ini::unset_keys(old, &ini::config_section(old, name), &keys)))
    })?;
    store.delete(name)?;
    store.delete(&keystore::pending_entry(name))?;
    Ok(store.describe())
}

/// Writes `key` into `[name]` of the credentials file, where the SDKs read it.
fn put_back(settings: &Settings, name: &str, key: &StoredKey) -> Result<()> {
    let (id, secret) = (key.access_key_id.clone(), key.secret());
    let section = name.to_string();
    let path = &settings.credentials_path;
    files::edit_ini(path, |old| {
        // Other keys in that section are someone's only copy: never overwritten.
        files::check_one_key_pair(path, old, &section)?;
        let value = |key| AwsFiles::value_in_text(FileKind::Credentials, old, &section, key);
        match value("aws_access_key_id")? {
            Some(there) if there != id => {
                return Err(Error::config(format!(
                    "[{section}] of {} already holds other keys ({}): nothing restored, nothing removed",
                    path.display(),
                    key_tail(&there)
                ))
                .hint(format!("move those keys to a profile of their own (or `awsmfa keys import {section}` them after this), then run again")));
            }
            _ if value("aws_session_token")?.is_some() => {
                return Err(Error::config(format!(
                    "[{section}] of {} holds a session (aws_session_token): long-term keys beside it would not work",
                    path.display()
                ))
                .hint(format!("`awsmfa logout --write-profile {section}` removes the session, then run again")));
            }
            _ => {}
        }
        Ok(Some(ini::replace_keys(
            old,
            &section,
            &[("aws_access_key_id", Some(&id)), ("aws_secret_access_key", Some(secret.expose()))],
        )))
    })?;
    ui::note(&format!("put key {} back into [{name}] of {}", key_tail(&id), settings.credentials_path.display()));
    Ok(())
}
