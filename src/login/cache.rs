//! The AWS CLI's file of a console sign-in session: `<dir>/<sha256 of the session ARN>.json`
//! in `~/.aws/login/cache` (AWS_LOGIN_CACHE_DIRECTORY), holding the session's credentials,
//! its refresh token and its DPoP key. awsmfa reads and writes exactly the AWS CLI's layout
//! (`json.dumps` of botocore's dict: the same keys, order and separators), so the AWS CLI v2,
//! botocore, the JavaScript SDK and aws-config share one session with it. Written as
//! awsmfa's own files are: atomically, 0600 from the first byte, never through a link.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::clock;
use crate::credentials::{Secret, Session};
use crate::error::{Error, Result};
use crate::files::{atomic, read};

/// A cache file is a few KB; anything larger is not one.
const LIMIT: u64 = 64 << 10;

/// The file of session `arn` in `dir`: the lowercase hex SHA-256 of the ARN, as every SDK
/// names it.
pub fn path(dir: &Path, arn: &str) -> PathBuf {
    dir.join(format!("{}.json", digest(arn)))
}

/// The lowercase hex SHA-256 of session `arn`, as every SDK names its file.
pub fn digest(arn: &str) -> String {
    Sha256::digest(arn.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The file's contents, field for field.
#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct LoginToken {
    pub access_token: AccessToken,
    #[serde(default = "sigv4")]
    pub token_type: String,
    pub client_id: String,
    pub refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub dpop_key: String,
    /// Whatever else the AWS CLI or an SDK keeps in the file: written back as it was.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn sigv4() -> String {
    "aws_sigv4".into()
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub account_id: String,
    /// `2025-11-19T12:15:00Z` as the AWS CLI writes it (the SDKs may add fractions).
    pub expires_at: String,
}

impl LoginToken {
    /// When the credentials end (None: the file's time is not one awsmfa reads; taken as
    /// ended, so that the session is renewed).
    pub fn expires(&self) -> Option<OffsetDateTime> {
        clock::parse_rfc3339(&self.access_token.expires_at)
    }

    /// The credentials as a session.
    pub fn session(&self) -> Result<Session> {
        let expiration = self
            .expires()
            .ok_or_else(|| Error::config(format!("expiresAt {:?} is not a time", self.access_token.expires_at)))?;
        Ok(Session {
            access_key_id: self.access_token.access_key_id.clone(),
            secret_access_key: Secret::new(&self.access_token.secret_access_key),
            session_token: Secret::new(&self.access_token.session_token),
            expiration,
        })
    }

    /// What the idToken says (not verified, as no SDK does: it names, it does not prove).
    pub fn identity(&self) -> Option<IdToken> {
        IdToken::parse(self.id_token.as_deref()?)
    }
}

/// The claims of the sign-in's idToken awsmfa uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    /// The login session's ARN (`arn:aws:iam::ACCOUNT:user/NAME`).
    pub subject: String,
    /// When the sign-in happened (Unix seconds): a session refreshes for 12 hours from it.
    pub issued_at: Option<i64>,
}

impl IdToken {
    pub fn parse(jwt: &str) -> Option<IdToken> {
        use base64::Engine;
        let payload = jwt.split('.').nth(1)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        // The subject goes into ~/.aws/config (`login_session = ...`) and names a file: an
        // ARN, one line of printable characters, or no subject at all (a newline in it would
        // add lines of the server's choosing to the config, `credential_process` included).
        let subject = claims["sub"].as_str().filter(|s| {
            s.starts_with("arn:") && s.len() <= 2048 && !s.chars().any(|c| c.is_control() || c.is_whitespace())
        })?;
        Some(IdToken { subject: subject.to_string(), issued_at: claims["iat"].as_i64() })
    }

    /// The account of the session's ARN.
    pub fn account(&self) -> Option<&str> {
        self.subject.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

/// What became of reading a session's file.
pub enum Loaded {
    Missing,
    /// There, but not usable: why (a warning), and signing in again makes a new one.
    Unusable(String),
    Token(Box<LoginToken>),
}

/// How often, and how far apart, a file that is not (yet) a session is read again: the
/// JavaScript SDK writes its renewal in place (truncated, then written), and a reader at that
/// moment sees an empty or half file.
const REREADS: u32 = 20;
const REREAD_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Reads the file of session `arn` in `dir`.
pub fn load(dir: &Path, arn: &str) -> Result<Loaded> {
    let path = path(dir, arn);
    let mut tries = 0;
    loop {
        let bytes = match read::private_file("the console sign-in session", &path, LIMIT)? {
            read::Private::Missing => return Ok(Loaded::Missing),
            read::Private::Unusable(why) => return Ok(Loaded::Unusable(why)),
            read::Private::Bytes(bytes) => bytes,
        };
        match serde_json::from_slice::<LoginToken>(&bytes) {
            // An end written in a way awsmfa cannot read (botocore and the JavaScript SDK read
            // more forms) is still a session: the credentials are renewed, with its token.
            Ok(token) => return Ok(Loaded::Token(Box::new(token))),
            // A file cut short (empty, or the start of a session) may be one being written;
            // whole JSON that is no session, or no JSON at all, will not become one.
            Err(e) if e.is_eof() && tries < REREADS => {
                tries += 1;
                std::thread::sleep(REREAD_PAUSE);
                continue;
            }
            _ => {}
        }
        return Ok(Loaded::Unusable(format!("ignoring {}: it is not a console sign-in session", path.display())));
    }
}

/// Checks that `dir` may hold sessions (a directory of ours that nobody else can write to),
/// and makes it 0700 if missing: before a sign-in, so that no one signs in for nothing.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    read::check_private_dir_for(
        dir,
        "the console sign-in cache ",
        "use a directory of your own (the default is ~/.aws/login/cache; AWS_LOGIN_CACHE_DIRECTORY overrides)",
    )?;
    atomic::ensure_dir(dir, 0o700)
}

/// Writes the file of session `arn` in `dir` (made 0700 if missing).
pub fn store(dir: &Path, arn: &str, token: &LoginToken) -> Result<PathBuf> {
    prepare_dir(dir)?;
    let path = path(dir, arn);
    atomic::write(&path, &python_json(token), 0o600, atomic::Links::Replace)?;
    Ok(path)
}

/// The lock that serialises refreshes of one session, beside its file.
pub fn lock_path(dir: &Path, arn: &str) -> PathBuf {
    crate::files::lock::beside(&path(dir, arn))
}

/// JSON as Python's `json.dumps` writes it (`", "` and `": "`), the bytes the AWS CLI writes.
fn python_json(token: &LoginToken) -> Vec<u8> {
    struct PythonStyle;
    impl serde_json::ser::Formatter for PythonStyle {
        fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
        fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
            if first { Ok(()) } else { w.write_all(b", ") }
        }
        fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonStyle);
    token.serialize(&mut serializer).expect("a token serialises");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_named_by_the_sha256_of_the_session_as_every_sdk_names_it() {
        let dir = Path::new("/c");
        assert_eq!(
            path(dir, "arn:aws:iam::0123456789012:user/Admin"),
            dir.join("36db1d138ff460920374e4c3d8e01f53f9f73537e89c88d639f68393df0e2726.json")
        );
        assert_eq!(
            path(dir, "arn:aws:sts::012345678910:assumed-role/Admin/admin"),
            dir.join("4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json")
        );
    }

    #[test]
    fn the_layout_is_the_aws_clis_byte_for_byte() {
        let token = LoginToken {
            access_token: AccessToken {
                access_key_id: "ASIAX".into(),
                secret_access_key: "s".into(),
                session_token: "t".into(),
                account_id: "012345678901".into(),
                expires_at: "2025-11-19T12:15:00Z".into(),
            },
            token_type: "aws_sigv4".into(),
            client_id: "arn:aws:signin:::devtools/same-device".into(),
            refresh_token: "r".into(),
            id_token: Some("h.p.s".into()),
            dpop_key: "-----BEGIN EC PRIVATE KEY-----\nK\n-----END EC PRIVATE KEY-----\n".into(),
            extra: Default::default(),
        };
        // What Python's json.dumps makes of the same dict (botocore's save_token).
        let python = r#"{"accessToken": {"accessKeyId": "ASIAX", "secretAccessKey": "s", "sessionToken": "t", "accountId": "012345678901", "expiresAt": "2025-11-19T12:15:00Z"}, "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device", "refreshToken": "r", "idToken": "h.p.s", "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nK\n-----END EC PRIVATE KEY-----\n"}"#;
        assert_eq!(String::from_utf8(python_json(&token)).unwrap(), python);
        let back: LoginToken = serde_json::from_str(python).unwrap();
        assert_eq!(back.session().unwrap().expiration.unix_timestamp(), 1_763_554_500);
    }

    #[test]
    fn a_renewal_keeps_what_other_tools_wrote_in_the_file() {
        // The AWS CLI or an SDK may keep more in the file than awsmfa knows of: a rewrite
        // (a renewal) must not drop it, as botocore's `token.update` does not.
        let text = r#"{"accessToken": {"accessKeyId": "ASIAX", "secretAccessKey": "s", "sessionToken": "t", "accountId": "012345678901", "expiresAt": "2025-11-19T12:15:00Z"}, "tokenType": "aws_sigv4", "clientId": "c", "refreshToken": "r", "idToken": "h.p.s", "dpopKey": "k", "region": "eu-west-1", "future": {"a": [1, 2]}}"#;
        let token: LoginToken = serde_json::from_str(text).unwrap();
        let out: serde_json::Value = serde_json::from_slice(&python_json(&token)).unwrap();
        assert_eq!(out, serde_json::from_str::<serde_json::Value>(text).unwrap());
    }

    #[test]
    fn the_id_token_names_the_session_and_when_it_began() {
        use base64::Engine;
        let claims = serde_json::json!({"sub": "arn:aws:iam::012345678901:user/alice", "iat": 1_700_000_000});
        let jwt = format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string()));
        let id = IdToken::parse(&jwt).unwrap();
        assert_eq!(id.subject, "arn:aws:iam::012345678901:user/alice");
        assert_eq!(id.account(), Some("012345678901"));
        assert_eq!(id.issued_at, Some(1_700_000_000));
        assert_eq!(IdToken::parse("garbage"), None);
    }

    #[test]
    fn a_subject_that_is_no_arn_on_one_line_is_no_subject() {
        use base64::Engine;
        let jwt = |sub: &str| {
            let claims = serde_json::json!({"sub": sub, "iat": 1});
            format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string()))
        };
        for bad in [
            "arn:aws:iam::1:user/a\n[profile prod]\ncredential_process = sh -c evil",
            "arn:aws:iam::1:user/a b",
            "",
            "user/a",
        ] {
            assert_eq!(IdToken::parse(&jwt(bad)), None, "{bad:?}");
        }
        assert!(IdToken::parse(&jwt("arn:aws:iam::012345678901:user/alice")).is_some());
    }
}
