//! The keystore: long-term keys kept out of plain text. Two backends, chosen per profile
//! (`awsmfa_keystore = keychain | file` in `~/.aws/config`, written by `awsmfa keys add` and
//! `keys import`):
//! - `keychain`: the OS keychain through the `keyring` crate (Secret Service over D-Bus on
//!   Linux, Keychain on macOS, Credential Manager on Windows), service `awsmfa`, one entry
//!   per profile;
//! - `file`: one age file encrypted to a passphrase (`file`), for machines without a
//!   keychain: servers, CI, WSL.
//!
//! Each entry is the key id, the secret and when it was stored. The key id is also written
//! into the profile (`awsmfa_key_id`), so the cached path never opens the keystore.

mod file;
mod keychain;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::credentials::Secret;
use crate::error::{Error, Result};

/// Where a profile's keys are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Keychain,
    File,
}

impl Backend {
    pub fn parse(value: &str) -> Option<Backend> {
        match value.trim().to_ascii_lowercase().as_str() {
            "keychain" => Some(Backend::Keychain),
            "file" => Some(Backend::File),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Keychain => "keychain",
            Backend::File => "file",
        }
    }

    /// The backend for new entries when neither `--keystore` nor AWSMFA_KEYSTORE says: the
    /// OS keychain where there is one to talk to (macOS, Windows, a Linux desktop session
    /// with a D-Bus session bus), else the encrypted file.
    pub fn default_for(session_bus: bool) -> Backend {
        if cfg!(any(target_os = "macos", target_os = "windows")) || session_bus {
            Backend::Keychain
        } else {
            Backend::File
        }
    }
}

/// How to reach the keystore, from the environment (read once, in `profile`).
#[derive(Debug, Clone)]
pub struct Options {
    /// The encrypted file of the `file` backend (AWSMFA_KEYSTORE_FILE, else
    /// `~/.aws/awsmfa-keys.age`); None when there is no HOME to find it in.
    pub file: Option<PathBuf>,
    /// AWSMFA_KEYSTORE_PASSPHRASE, for automation; else the terminal is asked.
    pub passphrase: Option<Secret>,
    /// How long a writer waits for another (AWSMFA_LOCK_TIMEOUT, as for every lock).
    pub lock_timeout: std::time::Duration,
}

/// One stored key.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub access_key_id: String,
    secret_access_key: String,
    /// When it was stored, in Unix seconds.
    added: i64,
}

impl StoredKey {
    pub fn new(access_key_id: impl Into<String>, secret: &Secret, added: OffsetDateTime) -> Self {
        StoredKey {
            access_key_id: access_key_id.into(),
            secret_access_key: secret.expose().to_string(),
            added: added.unix_timestamp(),
        }
    }

    pub fn added(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.added).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn secret(&self) -> Secret {
        Secret::new(self.secret_access_key.clone())
    }
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey").field("access_key_id", &self.access_key_id).field("added", &self.added).finish()
    }
}

/// The keystore of one backend.
pub struct Keystore<'a> {
    pub backend: Backend,
    options: &'a Options,
}

impl<'a> Keystore<'a> {
    pub fn new(backend: Backend, options: &'a Options) -> Self {
        // Whatever is done with it next brings a secret (and the passphrase) into memory.
        crate::platform::make_undumpable();
        Keystore { backend, options }
    }

    /// Where the entries are, for messages.
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Keychain => keychain::describe(),
            Backend::File => match &self.options.file {
                Some(file) => format!("the file keystore {}", file.display()),
                None => "the file keystore".into(),
            },
        }
    }

    /// Whether the keystore can be used, asked before keys are typed or proven: the file
    /// backend's directory and file must be ours and private (no passphrase needed; see
    /// `file::check`). Returns whether the file exists; the keychain is asked nothing here.
    pub fn check(&self) -> Result<bool> {
        match self.backend {
            Backend::Keychain => Ok(true),
            Backend::File => file::check(self.options),
        }
    }

    /// Whether the keystore can be used now, asked before work it would waste (a sign-in
    /// whose code is spent once): `check`, and the file's passphrase had and proven (asked at
    /// the terminal once; a file still to be made needs one it can get); the keychain is
    /// asked nothing.
    pub fn open(&self) -> Result<()> {
        self.check()?;
        match self.backend {
            Backend::Keychain => Ok(()),
            Backend::File => file::open(self.options),
        }
    }

    /// The entry `name`, if there is one.
    pub fn get(&self, name: &str) -> Result<Option<StoredKey>> {
        match self.backend {
            Backend::Keychain => keychain::get(name),
            Backend::File => file::get(self.options, name),
        }
    }

    /// Stores `key` as entry `name` (replacing one of that name). A keychain's item is read
    /// back: some keychains accept a write they do not keep (a locked collection, a full
    /// quota). The file is written whole, synced and renamed, or not at all.
    pub fn put(&self, name: &str, key: &StoredKey) -> Result<()> {
        if self.backend == Backend::File {
            file::put(self.options, name, Some(key))?;
            return Ok(());
        }
        keychain::put(name, key)?;
        match self.get(name)? {
            Some(back)
                if back.access_key_id == key.access_key_id && back.secret_access_key == key.secret_access_key =>
            {
                Ok(())
            }
            _ => Err(Error::config(format!("{} did not keep the entry for '{name}'", self.describe()))
                .hint("check that the keystore is writable and unlocked, then run the command again")),
        }
    }

    /// Deletes entry `name`; false when there was none.
    pub fn delete(&self, name: &str) -> Result<bool> {
        match self.backend {
            Backend::Keychain => keychain::delete(name),
            Backend::File => file::put(self.options, name, None),
        }
    }
}

/// The entry of a rotation's new key until it replaces the profile's key.
pub fn pending_entry(profile: &str) -> String {
    format!("{profile}#rotating")
}

/// Serialises an entry (the keychain keeps one per item, the file all of them).
fn to_json(key: &StoredKey) -> String {
    serde_json::to_string(key).expect("a StoredKey serialises")
}

/// Never says what the bytes were: they may hold a secret.
fn from_json(text: &str, place: &str) -> Result<StoredKey> {
    serde_json::from_str(text).map_err(|_| {
        Error::config(format!("{place} holds an entry awsmfa cannot read"))
            .hint("remove it (`awsmfa keys remove PROFILE`) and add the keys again (`awsmfa keys add PROFILE`)")
    })
}
