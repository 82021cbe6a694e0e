//! The credential types every layer passes around: `Secret`, long-term keys and where they
//! came from, and a `Session` (temporary credentials). Near the bottom: it imports only `error`.
//! Secrets live in `Secret`, whose Debug output is redacted, so a stray `{:?}` or a panic
//! message can never print them.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::error::Result;

use time::OffsetDateTime;

/// A secret string: a secret access key, a session token or a TOTP seed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value itself: only for output the user asked for and for signing requests.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

/// Where long-term keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
    Environment,
    /// A profile of one of the AWS files: the file, and the section as written there.
    File { path: PathBuf, section: String },
    /// awsmfa's keystore ("keychain" or "file"), under the profile's name.
    Keystore { backend: &'static str, profile: String },
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Environment => f.write_str("AWS_ACCESS_KEY_ID"),
            KeyOrigin::File { path, section } => write!(f, "{section} of {}", path.display()),
            KeyOrigin::Keystore { backend, profile } => write!(f, "the {backend} keystore's entry for '{profile}'"),
        }
    }
}

/// Loads a secret kept elsewhere (the keystore), on first use.
pub type SecretLoader = Arc<dyn Fn() -> Result<Secret> + Send + Sync>;

/// Long-term IAM user keys, and where they came from (for messages). The key id is known
/// at once; a secret in the keystore is loaded only when a request is signed with it, so a
/// cached session is served without a keychain prompt, a D-Bus call or a passphrase.
#[derive(Clone)]
pub struct LongTermKeys {
    pub access_key_id: String,
    pub origin: KeyOrigin,
    secret: Arc<OnceLock<Secret>>,
    loader: Option<SecretLoader>,
}

impl LongTermKeys {
    /// Keys whose secret is at hand (a file, the environment).
    pub fn new(access_key_id: impl Into<String>, secret: Secret, origin: KeyOrigin) -> Self {
        LongTermKeys {
            access_key_id: access_key_id.into(),
            origin,
            secret: Arc::new(OnceLock::from(secret)),
            loader: None,
        }
    }

    /// Keys whose secret `loader` fetches when it is first needed.
    pub fn deferred(access_key_id: impl Into<String>, origin: KeyOrigin, loader: SecretLoader) -> Self {
        LongTermKeys {
            access_key_id: access_key_id.into(),
            origin,
            secret: Arc::new(OnceLock::new()),
            loader: Some(loader),
        }
    }

    /// The secret access key, loaded now if it was deferred (once per run).
    pub fn secret(&self) -> Result<&Secret> {
        if let Some(secret) = self.secret.get() {
            return Ok(secret);
        }
        let loader = self.loader.as_ref().expect("a LongTermKeys without secret has a loader");
        let loaded = loader()?;
        Ok(self.secret.get_or_init(|| loaded))
    }

    /// Whether the secret has been loaded (tests check the cached path never loads it).
    pub fn secret_loaded(&self) -> bool {
        self.secret.get().is_some()
    }
}

impl fmt::Debug for LongTermKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LongTermKeys")
            .field("access_key_id", &self.access_key_id)
            .field("origin", &self.origin)
            .field("secret", &"redacted")
            .finish()
    }
}

/// Temporary credentials from STS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: OffsetDateTime,
}

impl Session {
    /// Seconds left before expiry at `now` (negative once expired).
    pub fn seconds_left(&self, now: OffsetDateTime) -> i64 {
        (self.expiration - now).whole_seconds()
    }
}

/// "AKIA…WXYZ" → "…WXYZ": enough to tell keys apart, never enough to use one.
pub fn key_tail(access_key_id: &str) -> String {
    let chars: Vec<char> = access_key_id.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Session {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("very-secret"),
            session_token: Secret::new("token-secret"),
            expiration: time::macros::datetime!(2030-01-01 0:00 UTC),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("very-secret") && !shown.contains("token-secret"), "{shown}");
        assert!(shown.contains("ASIAEXAMPLE"));
    }

    #[test]
    fn key_tails_show_four_characters() {
        assert_eq!(key_tail("AKIAIOSFODNN7EXAMPLE"), "…MPLE");
        assert_eq!(key_tail("AB"), "…AB");
        assert_eq!(key_tail("ÄKIAÖÖÖÖ"), "…ÖÖÖÖ", "never a byte index inside a character");
    }
}
