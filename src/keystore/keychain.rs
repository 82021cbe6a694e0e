//! The OS keychain, through the `keyring` crate: Secret Service (D-Bus) on Linux and the
//! BSDs, Keychain on macOS, Credential Manager on Windows. One item per profile, service
//! `awsmfa`, account = the profile's name, holding the entry as JSON.

use keyring::Entry;

use super::{StoredKey, from_json, to_json};
use crate::error::{Error, Result};

const SERVICE: &str = "awsmfa";

pub fn describe() -> String {
    if cfg!(target_os = "macos") {
        "the macOS Keychain".into()
    } else if cfg!(target_os = "windows") {
        "the Windows Credential Manager".into()
    } else {
        "the Secret Service keychain".into()
    }
}

fn entry(name: &str) -> Result<Entry> {
    Entry::new(SERVICE, name).map_err(|e| failure(e, "open"))
}

pub fn get(name: &str) -> Result<Option<StoredKey>> {
    match entry(name)?.get_password() {
        Ok(text) => Ok(Some(from_json(&text, &format!("{}'s item for '{name}'", describe()))?)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(failure(e, "read")),
    }
}

pub fn put(name: &str, key: &StoredKey) -> Result<()> {
    entry(name)?.set_password(&to_json(key)).map_err(|e| failure(e, "write"))
}

pub fn delete(name: &str) -> Result<bool> {
    match entry(name)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(failure(e, "delete")),
    }
}

/// One line that says what to do. Never the error's own text for an entry's contents
/// (`BadEncoding` carries the bytes it could not read: a secret).
fn failure(err: keyring::Error, action: &str) -> Error {
    let keychain = describe();
    let elsewhere = "or keep the keys in the encrypted file instead: AWSMFA_KEYSTORE=file (or --keystore file)";
    match err {
        keyring::Error::NoStorageAccess(cause) => {
            Error::config(format!("cannot {action} {keychain}: it is locked or refused access"))
                .hint(format!("unlock it (log in to the desktop, or `gnome-keyring-daemon --unlock`), {elsewhere}"))
                .because(cause)
        }
        keyring::Error::NoDefaultStore | keyring::Error::PlatformFailure(_) => {
            let cause = match err {
                keyring::Error::PlatformFailure(cause) => Some(cause),
                _ => None,
            };
            let e = Error::config(format!(
                "cannot {action} {keychain}: no keychain service answers (no D-Bus session bus, or no Secret Service on it)"
            ))
            .hint(format!("run inside a desktop session (or start gnome-keyring-daemon), {elsewhere}"));
            match cause {
                Some(cause) => e.because(cause),
                None => e,
            }
        }
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => {
            Error::config(format!("{keychain} holds an item for awsmfa it cannot read"))
                .hint("remove it with `awsmfa keys remove PROFILE`, then add the keys again")
        }
        other => Error::unexpected(format!("cannot {action} {keychain}: {}", kind_of(&other))),
    }
}

/// The variant's name only: its text may quote what was stored.
fn kind_of(err: &keyring::Error) -> &'static str {
    match err {
        keyring::Error::TooLong(..) => "a value is too long for it",
        keyring::Error::Invalid(..) => "it refused the item's name",
        keyring::Error::Ambiguous(_) => "it holds several items of that name; remove the extra ones",
        keyring::Error::NotSupportedByStore(_) => "it does not support this",
        _ => "it failed",
    }
}
