//! `awsmfa keys add`: keys typed (or piped) in, proven, stored.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

use super::{backend, check_credential_process, prove, write_profile};
use crate::credentials::{KeyOrigin, LongTermKeys, Secret};
use crate::error::{Error, Result};
use crate::keystore::{Backend, Keystore, StoredKey};
use crate::profile::{Settings, valid_key_id};

/// What `add` stored: which key, whose, and where.
pub struct Added {
    pub key_id: String,
    pub arn: String,
    pub place: String,
}

/// Stores the keys read from the terminal or the standard input for profile `name`, once
/// AWS accepts them, and points the profile at them.
pub fn add(settings: &Settings, name: &str, choice: Option<Backend>) -> Result<Added> {
    if let Some(place) = settings.long_term_keys_of(name) {
        return Err(Error::config(format!("profile '{name}' already has keys, in {place}")).hint(format!(
            "`awsmfa keys import {name}` moves keys from the credentials file; `awsmfa keys remove {name}` frees a keystore entry"
        )));
    }
    check_credential_process(settings, name)?;
    let store = Keystore::new(backend(choice, settings), &settings.keystore);
    store.check()?;
    let (id, secret) = read_keys()?;
    let keys = LongTermKeys::new(
        id.clone(),
        secret.clone(),
        KeyOrigin::Keystore { backend: store.backend.name(), profile: name.to_string() },
    );
    let arn = prove(settings, &keys)?;
    store.put(name, &StoredKey::new(&id, &secret, crate::clock::now()))?;
    write_profile(settings, name, store.backend, &id)?;
    Ok(Added { key_id: id, arn, place: store.describe() })
}

/// The key id and secret: asked on the terminal (the secret without echo), or read from the
/// standard input: two lines, or the IAM console's CSV download.
fn read_keys() -> Result<(String, Secret)> {
    let (id, secret) = if std::io::stdin().is_terminal() {
        let terminal = Path::new(crate::platform::TERMINAL);
        let (input, mut out) = crate::platform::terminal().ok_or_else(|| {
            Error::config(format!("cannot open {}", crate::platform::TERMINAL))
                .hint("pipe the key id and the secret in instead, one a line")
        })?;
        let _ = out.write_all(b"Access key id: ");
        let _ = out.flush();
        let mut id = String::new();
        std::io::BufReader::new(&input).read_line(&mut id).map_err(|e| Error::io("read from", terminal, e))?;
        let secret = crate::ui::term::secret("Secret access key (not shown): ")
            .map_err(|e| Error::io("read from", terminal, e))?;
        (id.trim().to_string(), secret.trim().to_string())
    } else {
        let mut text = String::new();
        std::io::stdin()
            .take(64 << 10)
            .read_to_string(&mut text)
            .map_err(|e| Error::io("read the keys from", Path::new("stdin"), e))?;
        parse_keys(&text).ok_or_else(|| {
            Error::config("the standard input holds no access key id and secret")
                .hint("give two lines, the key id then the secret, or the IAM console's accessKeys.csv")
        })?
    };
    if !valid_key_id(&id) {
        return Err(Error::config("that is not an access key id (16 to 128 letters and digits, e.g. AKIA…)")
            .hint("copy the key id from the IAM console or `aws iam list-access-keys`"));
    }
    if secret.is_empty() || secret.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::config("that is not a secret access key (empty, or with spaces or control characters)")
            .hint("paste the secret exactly as IAM showed it"));
    }
    Ok((id, Secret::new(secret)))
}

/// Two lines (id, secret), or CSV rows `id,secret` (a header row is skipped).
fn parse_keys(text: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    for line in &lines {
        let cells: Vec<&str> = line.split(',').map(|c| c.trim().trim_matches('"')).collect();
        if let [id, secret, ..] = cells.as_slice()
            && valid_key_id(id)
        {
            return Some((id.to_string(), secret.to_string()));
        }
    }
    match lines.as_slice() {
        [id, secret] => Some((id.to_string(), secret.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_keys;

    #[test]
    fn keys_are_read_from_two_lines_or_the_consoles_csv() {
        let pair = Some(("AKIAIOSFODNN7EXAMPLE".to_string(), "se/cr+et".to_string()));
        for (text, expected) in [
            ("AKIAIOSFODNN7EXAMPLE\nse/cr+et\n", pair.clone()),
            ("\n  AKIAIOSFODNN7EXAMPLE  \r\n\nse/cr+et\n", pair.clone()),
            ("Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,se/cr+et\n", pair.clone()),
            ("\"AKIAIOSFODNN7EXAMPLE\",\"se/cr+et\"\n", pair.clone()),
            ("AKIAIOSFODNN7EXAMPLE\n", None),
            ("one\ntwo\nthree\n", None),
            ("", None),
        ] {
            assert_eq!(parse_keys(text), expected, "{text:?}");
        }
    }
}
