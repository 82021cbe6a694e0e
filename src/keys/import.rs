//! `awsmfa keys import`: the keys of a profile, out of the AWS files and into the keystore.
//! Order: proven, stored (and read back), the profile pointed at the keystore, and only
//! then the two lines removed; a rerun after a crash at any point finishes the move.

use std::path::{Path, PathBuf};

use super::{backend, check_credential_process, prove, write_profile};
use crate::config::{AwsFiles, FileKind};
use crate::credentials::{KeyOrigin, LongTermKeys, Secret, key_tail};
use crate::error::{Error, Result};
use crate::files::{self, atomic, ini};
use crate::keystore::{Backend, Keystore, StoredKey};
use crate::profile::Settings;
use crate::ui;

/// What `import` moved: which key, whose, from where, into where.
pub struct Imported {
    pub key_id: String,
    pub arn: String,
    /// The section it was in, as written in that file (`work`, `profile work`), and the file.
    pub section: String,
    pub path: PathBuf,
    /// The profile it now belongs to: `name`, or `name-long-term` where it was found.
    pub profile: String,
    pub place: String,
}

/// Moves the plaintext keys of `name` (or `name-long-term`) into the keystore; `backup`
/// first gets a copy of the file they were in.
pub fn import(settings: &Settings, name: &str, choice: Option<Backend>, backup: Option<&Path>) -> Result<Imported> {
    let Some(found) = plaintext_keys(settings, name) else {
        return Err(match settings.own_value(name, "awsmfa_keystore") {
            Some(b) => Error::config(format!("the keys of profile '{name}' are already in the {b} keystore"))
                .hint("`awsmfa keys list` shows them"),
            None => Error::config(format!(
                "profile '{name}' has no long-term keys in {} or {}",
                settings.credentials_path.display(),
                settings.config_path.display()
            ))
            .hint(format!("`awsmfa keys add {name}` stores keys you type in")),
        });
    };
    let name = found.profile.clone();
    check_credential_process(settings, &name)?;
    // Ambiguous input is refused before anything happens: a pair that would be removed
    // without having been stored, or one left behind that the SDKs would then read.
    let text = crate::files::read::user_file(&found.path, crate::files::read::AWS_FILE_LIMIT)?
        .map(|f| f.text)
        .unwrap_or_default();
    files::check_one_key_pair(&found.path, &text, &found.section_in(&text))?;
    let other = match found.kind {
        FileKind::Credentials => FileKind::Config,
        FileKind::Config => FileKind::Credentials,
    };
    if let Some(id) = settings.files().get_in(other, &name, "aws_access_key_id") {
        return Err(Error::config(format!(
            "profile '{name}' has keys in two places: {} in [{}] of {} and {} in {}",
            key_tail(&found.id),
            found.section,
            found.path.display(),
            key_tail(id),
            settings.files().origin(other, &name)
        ))
        .hint("keep the pair the profile should use and delete the other, then run again"));
    }
    // Claimed now, before the network: a file made at that path meanwhile would otherwise
    // be overwritten with the keys.
    let backup = backup.map(atomic::NewFile::create).transpose()?;
    let chosen = match settings.own_value(&name, "awsmfa_keystore").and_then(|b| Backend::parse(&b)) {
        Some(already) => already, // an interrupted import: finish it where it began
        None => backend(choice, settings),
    };
    let store = Keystore::new(chosen, &settings.keystore);
    store.check()?;
    let keys = LongTermKeys::new(found.id.clone(), found.secret.clone(), found.origin.clone());
    let arn = prove(settings, &keys)?;
    match store.get(&name)? {
        Some(k) if k.access_key_id == found.id => {}
        Some(k) => {
            return Err(Error::config(format!(
                "{} already holds another key ({}) for '{name}'",
                store.describe(),
                key_tail(&k.access_key_id)
            ))
            .hint(format!("remove it first (`awsmfa keys remove {name}`), or import under another profile name")));
        }
        None => store.put(&name, &StoredKey::new(&found.id, &found.secret, crate::clock::now()))?,
    }
    if let Some(backup) = backup {
        let text = crate::files::read::user_file(&found.path, crate::files::read::AWS_FILE_LIMIT)?
            .map(|f| f.text)
            .unwrap_or_default();
        let path = backup.path().to_path_buf();
        backup.finish(text.as_bytes())?;
        ui::warn(&format!("{} holds your keys in plain text: delete it once you no longer need it", path.display()));
    }
    write_profile(settings, &name, chosen, &found.id)?;
    files::edit_ini(&found.path, |old| found.take_out(old, &name))?;
    Ok(Imported {
        key_id: found.id,
        arn,
        section: found.section,
        path: found.path,
        profile: name,
        place: store.describe(),
    })
}

/// Plaintext long-term keys of `name` (or `name-long-term`, where awsmfa reads them).
struct Plaintext {
    profile: String,
    kind: FileKind,
    path: PathBuf,
    /// The section as written in that file: `work`, or `profile work` in the config file.
    section: String,
    id: String,
    secret: Secret,
    origin: KeyOrigin,
}

fn plaintext_keys(settings: &Settings, name: &str) -> Option<Plaintext> {
    let files = settings.files();
    for profile in [format!("{name}-long-term"), name.to_string()] {
        for kind in [FileKind::Credentials, FileKind::Config] {
            let get = |key| files.get_in(kind, &profile, key);
            if let (Some(id), Some(secret), None) =
                (get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token"))
            {
                let origin = files.origin(kind, &profile);
                let section = origin.section().trim_start_matches('[').trim_end_matches(']').to_string();
                return Some(Plaintext {
                    profile: profile.clone(),
                    kind,
                    path: origin.path.clone(),
                    section: section.clone(),
                    id: id.to_string(),
                    secret: Secret::new(secret),
                    origin: KeyOrigin::File { path: origin.path, section: format!("[{section}]") },
                });
            }
        }
    }
    None
}

impl Plaintext {
    /// The section of the file's `text` that the SDKs read these keys from.
    fn section_in(&self, text: &str) -> String {
        match self.kind {
            FileKind::Config => ini::config_section(text, &self.profile),
            FileKind::Credentials => self.profile.clone(),
        }
    }

    /// The file's `old` text without the two key lines, once the key is in the keystore
    /// (`name` says how to run again): from the section the SDKs read now, and only if they
    /// still hold the key that was stored; None when they are gone already (a rerun).
    fn take_out(&self, old: &str, name: &str) -> Result<Option<String>> {
        let section = self.section_in(old);
        files::check_one_key_pair(&self.path, old, &section)?;
        let id_in = |text: &str| AwsFiles::value_in_text(self.kind, text, &self.profile, "aws_access_key_id");
        match id_in(old)? {
            None => return Ok(None), // moved already (a rerun)
            Some(id) if id == self.id => {}
            Some(id) => {
                return Err(Error::config(format!(
                    "[{section}] of {} changed meanwhile: it now holds key {}, not {}",
                    self.path.display(),
                    key_tail(&id),
                    key_tail(&self.id)
                ))
                .hint(format!(
                    "key {} is in the keystore; run `awsmfa keys import {name}` again once the file is as you want it",
                    key_tail(&self.id)
                )));
            }
        }
        let text = ini::unset_keys(old, &section, &["aws_access_key_id", "aws_secret_access_key"]);
        if id_in(&text)?.is_some() {
            return Err(Error::unexpected(format!(
                "could not take the key lines out of [{section}] of {}",
                self.path.display()
            ))
            .hint("the key is in the keystore now: remove its two lines from that file by hand"));
        }
        Ok(Some(text))
    }
}
