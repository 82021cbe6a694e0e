//! A console sign-in session kept in the keystore (`login --console --keystore`) instead of
//! the AWS CLI's plain JSON file: the same record (credentials, refresh token, DPoP key),
//! as one keystore entry, so that no refresh token lies on disk in the clear. Other tools
//! then reach the session through awsmfa (`credential_process` in the profile); awsmfa
//! keeps the 15-minute credentials in its own session cache, so the cached path opens no
//! keystore.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::cache::LoginToken;
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::files::lock::{self, FileLock};
use crate::files::{atomic, read};
use crate::keystore::{Backend, Keystore, Options, StoredKey};

/// Where a kept session is: which keystore, and how to reach it.
#[derive(Debug, Clone, Copy)]
pub struct Kept<'a> {
    pub backend: Backend,
    pub options: &'a Options,
    /// awsmfa's own cache directory, where the lock of a kept session's renewals is.
    pub lock_dir: &'a Path,
}

impl<'a> Kept<'a> {
    pub fn keystore(&self) -> Keystore<'a> {
        Keystore::new(self.backend, self.options)
    }

    /// The lock that serialises sign-ins and renewals of session `arn`.
    fn lock_path(&self, arn: &str) -> PathBuf {
        self.lock_dir.join(format!("login-{}.lock", super::cache::digest(arn)))
    }

    /// Takes that lock (`on_wait` says why we pause), in awsmfa's cache directory, made
    /// (0700) if it is not there yet: a first sign-in or a logout finds none.
    pub fn lock(&self, arn: &str, on_wait: impl FnOnce()) -> Result<FileLock> {
        read::check_private_dir(self.lock_dir)?;
        atomic::ensure_dir(self.lock_dir, 0o700)?;
        read::check_private_dir(self.lock_dir)?;
        lock::acquire(&self.lock_path(arn), lock::wait(), on_wait)
    }
}

/// The keystore entry of session `arn`. An entry is a name, an id and a secret: for a key,
/// its key id and secret key; for a session, its ARN and the AWS CLI's JSON record of it.
pub fn entry(arn: &str) -> String {
    format!("login-session:{arn}")
}

/// The session `arn` as the keystore keeps it; None when it keeps none.
pub fn load(keystore: &Keystore, arn: &str) -> Result<Option<LoginToken>> {
    let Some(stored) = keystore.get(&entry(arn))? else { return Ok(None) };
    // Never says what the bytes were: they hold the refresh token.
    let unreadable = || {
        Error::config(format!("{} holds an entry for {arn} that is not a console sign-in session", keystore.describe()))
            .hint("sign in again (`awsmfa login --console --keystore --profile NAME`): it replaces the entry")
    };
    if stored.access_key_id != arn {
        return Err(unreadable());
    }
    serde_json::from_str(stored.secret().expose()).map(Some).map_err(|_| unreadable())
}

/// Keeps `token` as session `arn`'s entry (replacing the one there).
pub fn store(keystore: &Keystore, arn: &str, token: &LoginToken) -> Result<()> {
    let record = Secret::new(serde_json::to_string(token).expect("a token serialises"));
    keystore.put(&entry(arn), &StoredKey::new(arn, &record, OffsetDateTime::now_utc()))
}

/// Removes session `arn`'s entry; false when there was none.
pub fn remove(keystore: &Keystore, arn: &str) -> Result<bool> {
    keystore.delete(&entry(arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> Options {
        Options {
            file: Some(dir.join("keys.age")),
            passphrase: Some(Secret::new("a test passphrase")),
            lock_timeout: std::time::Duration::from_secs(5),
        }
    }

    #[test]
    fn an_entry_that_is_not_the_session_asked_for_is_an_error_that_shows_nothing_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let options = options(dir.path());
        let keystore = Keystore::new(Backend::File, &options);
        let arn = "arn:aws:iam::123456789012:user/alice";
        assert!(load(&keystore, arn).unwrap().is_none());
        // Another session's record under this name, and a record that is no session.
        let other = StoredKey::new("arn:aws:iam::123456789012:user/bob", &Secret::new("{}"), OffsetDateTime::now_utc());
        keystore.put(&entry(arn), &other).unwrap();
        let err = load(&keystore, arn).err().unwrap();
        assert!(err.message.contains("not a console sign-in session"), "{}", err.message);
        let secret = "SECRET-REFRESH-TOKEN";
        keystore.put(&entry(arn), &StoredKey::new(arn, &Secret::new(secret), OffsetDateTime::now_utc())).unwrap();
        let err = load(&keystore, arn).err().unwrap();
        assert!(!err.message.contains(secret) && !err.hint.unwrap_or_default().contains(secret));
        assert!(remove(&keystore, arn).unwrap());
        assert!(!remove(&keystore, arn).unwrap());
    }
}
