//! The session cache: one file per (source access key id, role chain) under
//! `~/.aws/awsmfa/` (dir 0700, files 0600, written atomically), and the lock that makes N
//! processes share one STS call. Reading a valid session here is the fast path: two small
//! files and no SDK, no async runtime.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use super::{Secret, Session};
use crate::clock;
use crate::error::{Error, Result};
use crate::files::atomic::{self, Links};
use crate::files::read::{self, Private};

const VERSION: u32 = 2;
/// A session record is a few hundred bytes; anything much larger is not ours.
const RECORD_LIMIT: u64 = 16 << 10;

/// A short, stable, file-name-safe hash of `text`.
pub fn short_hash(text: &str) -> String {
    let digest = Sha1::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The roles a session was assumed through: none for the MFA session itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChain {
    /// The first role assumed with the MFA code itself (`--direct`), not with the session.
    pub direct: bool,
    /// Role ARNs, first to last.
    pub arns: Vec<String>,
}

/// What a cached session is for; it names the file. Sessions are the same when the keys
/// and the roles are: the profile name that led here does not matter, so two profiles over
/// the same keys share one session (and one code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub source_access_key_id: String,
    /// The serial as configured, or None when it is discovered with ListMFADevices. Not
    /// part of the file's name: a session made with another device is simply replaced.
    pub serial: Option<String>,
    pub roles: RoleChain,
}

impl CacheKey {
    fn stem(&self) -> String {
        let roles = serde_json::to_string(&self.roles).expect("role chains always serialize");
        format!("session-{}", short_hash(&format!("{}\n{roles}", self.source_access_key_id)))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    version: u32,
    source_access_key_id: String,
    serial: String,
    #[serde(default)]
    roles: RoleChain,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

/// A session as found in the cache, with the serial it was made with.
#[derive(Debug, Clone)]
pub struct Cached {
    pub session: Session,
    pub serial: String,
}

/// Why a cache file was not used.
#[derive(Debug)]
pub enum Rejected {
    Missing,
    /// Said in one line, and the file gets replaced.
    Unsafe(String),
    /// Not ours to trust or replace (another user's file, a directory others can write to):
    /// the run stops with this error.
    Refused(Error),
}

impl PartialEq for Rejected {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Rejected::Missing, Rejected::Missing) => true,
            (Rejected::Unsafe(a), Rejected::Unsafe(b)) => a == b,
            (Rejected::Refused(a), Rejected::Refused(b)) => a.message == b.message,
            _ => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SessionCache {
    dir: PathBuf,
}

impl SessionCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SessionCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.stem()))
    }

    pub fn lock_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.lock", key.stem()))
    }

    /// Creates the cache directory (0700) if needed; an existing one must be ours and
    /// writable by nobody else (it is never chmod-ed: it may not be ours to change).
    pub fn ensure_dir(&self) -> Result<()> {
        read::check_private_dir(&self.dir)?;
        atomic::ensure_dir(&self.dir, 0o700)?;
        read::check_private_dir(&self.dir)
    }

    /// The cached session for `key`, whatever its expiry; `Err` says why none is usable.
    pub fn load(&self, key: &CacheKey) -> std::result::Result<Cached, Rejected> {
        read::check_private_dir(&self.dir).map_err(Rejected::Refused)?;
        let path = self.path(key);
        let shown = path.display();
        let bytes = match read::private_file("cache file", &path, RECORD_LIMIT).map_err(Rejected::Refused)? {
            Private::Missing => return Err(Rejected::Missing),
            Private::Unusable(why) => return Err(Rejected::Unsafe(why)),
            Private::Bytes(bytes) => bytes,
        };
        let record: Record = serde_json::from_slice(&bytes).map_err(|_| {
            Rejected::Unsafe(format!("ignoring cache file {shown}: it is corrupt or truncated (it will be replaced)"))
        })?;
        // Another version's record, or a session of other keys, roles or device: not this
        // one's, and replaced without a word at the next login.
        if record.version != VERSION
            || record.source_access_key_id != key.source_access_key_id
            || record.roles != key.roles
            || key.serial.as_ref().is_some_and(|s| *s != record.serial)
        {
            return Err(Rejected::Missing);
        }
        let expiration = clock::parse_rfc3339(&record.expiration).ok_or_else(|| {
            Rejected::Unsafe(format!("ignoring cache file {shown}: its expiry is unreadable (it will be replaced)"))
        })?;
        Ok(Cached {
            serial: record.serial,
            session: Session {
                access_key_id: record.access_key_id,
                secret_access_key: Secret::new(record.secret_access_key),
                session_token: Secret::new(record.session_token),
                expiration,
            },
        })
    }

    /// Checks, before a code is spent, that a session for `key` can be stored: nothing but
    /// a regular file (or nothing, or a link of ours to replace) where it goes.
    pub fn check_storable(&self, key: &CacheKey) -> Result<()> {
        self.ensure_dir()?;
        atomic::check_writable(&self.path(key), Links::Replace, false)
    }

    pub fn store(&self, key: &CacheKey, serial: &str, session: &Session) -> Result<()> {
        self.ensure_dir()?;
        let record = Record {
            version: VERSION,
            source_access_key_id: key.source_access_key_id.clone(),
            serial: serial.to_string(),
            roles: key.roles.clone(),
            access_key_id: session.access_key_id.clone(),
            secret_access_key: session.secret_access_key.expose().to_string(),
            session_token: session.session_token.expose().to_string(),
            expiration: clock::iso_utc(session.expiration),
        };
        let json = serde_json::to_vec_pretty(&record).expect("records always serialize");
        atomic::write(&self.path(key), &json, 0o600, Links::Replace)
    }

    /// Deletes the cached session for `key`; true if there was one.
    pub fn remove(&self, key: &CacheKey) -> Result<bool> {
        remove_file(&self.path(key))
    }

    /// Deletes every cached session; returns how many.
    pub fn remove_all(&self) -> Result<usize> {
        read::check_private_dir(&self.dir)?;
        let Ok(entries) = fs::read_dir(&self.dir) else { return Ok(0) };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("session-") && name.ends_with(".json") && remove_file(&entry.path())? {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn remove_file(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("delete", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn key() -> CacheKey {
        CacheKey {
            source_access_key_id: "AKIAEXAMPLE".into(),
            serial: Some("arn:mfa".into()),
            roles: RoleChain::default(),
        }
    }

    fn session() -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("secret"),
            session_token: Secret::new("token"),
            expiration: time::macros::datetime!(2030-01-01 0:00 UTC),
        }
    }

    #[test]
    fn a_stored_session_comes_back_private() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SessionCache::new(dir.path().join("awsmfa"));
        cache.store(&key(), "arn:mfa", &session()).unwrap();
        let cached = cache.load(&key()).unwrap();
        assert_eq!(cached.session, session());
        assert_eq!(atomic::mode_of(&cache.path(&key())), Some(0o600));
        assert_eq!(atomic::mode_of(cache.dir()), Some(0o700));
    }

    #[test]
    fn corrupt_or_exposed_files_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SessionCache::new(dir.path());
        assert_eq!(cache.load(&key()).unwrap_err(), Rejected::Missing);
        cache.store(&key(), "arn:mfa", &session()).unwrap();
        let path = cache.path(&key());
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(matches!(cache.load(&key()), Err(Rejected::Unsafe(m)) if m.contains("corrupt")));
        cache.store(&key(), "arn:mfa", &session()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(cache.load(&key()), Err(Rejected::Unsafe(m)) if m.contains("group or others")));
        fs::write(&path, text.replace("\"version\": 2", "\"version\": 99")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(cache.load(&key()).unwrap_err(), Rejected::Missing, "another version's file is quietly replaced");
    }

    #[test]
    fn a_cache_directory_others_can_write_to_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SessionCache::new(dir.path().join("awsmfa"));
        fs::create_dir(cache.dir()).unwrap();
        fs::set_permissions(cache.dir(), fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(cache.store(&key(), "arn:mfa", &session()).is_err());
        assert!(matches!(cache.load(&key()), Err(Rejected::Refused(e)) if e.exit_code() == 3));
        assert_eq!(atomic::mode_of(cache.dir()), Some(0o1777), "never chmod-ed");
        // Readable but not writable by others (like a 0755 ~/.ssh) is fine: the files are 0600.
        fs::set_permissions(cache.dir(), fs::Permissions::from_mode(0o755)).unwrap();
        cache.store(&key(), "arn:mfa", &session()).unwrap();
        assert_eq!(atomic::mode_of(&cache.path(&key())), Some(0o600));
    }

    #[test]
    fn sessions_are_named_by_keys_and_roles_not_by_profile_or_serial() {
        let a = key();
        let mut b = key();
        b.roles.arns.push("arn:role".into());
        let mut c = b.clone();
        c.roles.direct = true;
        let mut d = key();
        d.serial = None;
        assert_ne!(a.stem(), b.stem());
        assert_ne!(b.stem(), c.stem());
        assert_eq!(a.stem(), d.stem(), "a discovered serial finds the same session");
        let dir = tempfile::tempdir().unwrap();
        let cache = SessionCache::new(dir.path());
        cache.store(&a, "arn:mfa", &session()).unwrap();
        assert!(cache.load(&d).is_ok(), "found without knowing the serial");
        let mut other_device = key();
        other_device.serial = Some("arn:other".into());
        assert_eq!(
            cache.load(&other_device).unwrap_err(),
            Rejected::Missing,
            "another device's session is not this one"
        );
    }
}
