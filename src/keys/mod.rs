//! Long-term keys: where they live (`KeyHome`), into the keystore (`add`, `import`), back
//! out of it (`restore`), and rotated under MFA (`rotate`). A profile in the keystore keeps
//! in the config file `awsmfa_keystore`, `awsmfa_key_id` and a `credential_process` line
//! naming awsmfa.

mod add;
mod import;
mod restore;
mod rotate;

use crate::profile::write::credential_process_line;
use std::path::PathBuf;

pub use add::{Added, add};
pub use import::{Imported, import};
pub use restore::remove;
pub use rotate::{Rotated, rotate};

use crate::aws::{self, ClientSpec, Retries, Signer};
use crate::credentials::{KeyOrigin, LongTermKeys, Secret, key_tail};
use crate::error::{Error, Result};
use crate::files::{self, atomic, ini, read};
use crate::keystore::{self, Backend, Keystore, StoredKey};
use crate::output::report::KeyRow;
use crate::profile::Settings;

/// Where a profile's keys live, and what can be done there: read the key, hold a new one
/// beside it, write the new one in its place, remove what was held.
pub enum KeyHome {
    /// The keystore: the entry named after the profile, in this backend.
    Keystore(Backend),
    /// A section of an AWS file. `config`: the file is the config file (where
    /// `[profile default]` may be the section the SDKs read for `default`).
    File { path: PathBuf, section: String, config: bool },
}

impl KeyHome {
    /// Where the keys the plan resolved came from.
    pub fn of(settings: &Settings, keys: &LongTermKeys) -> Result<KeyHome> {
        match &keys.origin {
            KeyOrigin::Keystore { backend, .. } => {
                Ok(KeyHome::Keystore(Backend::parse(backend).expect("a resolved keystore origin names a backend")))
            }
            // The origin names the section as written, `[work]` or `[profile work]`.
            KeyOrigin::File { path, section } => {
                let section = section.trim_start_matches('[').trim_end_matches(']').to_string();
                Ok(KeyHome::File { config: *path == settings.config_path, path: path.clone(), section })
            }
            KeyOrigin::Environment => Err(Error::config(format!(
                "profile '{}' gets its keys from AWS_ACCESS_KEY_ID: awsmfa can rotate only keys it can store back",
                settings.profile
            ))
            .hint("put the keys in a profile (`awsmfa keys add NAME`), then `awsmfa keys rotate NAME`")),
        }
    }

    fn store<'a>(backend: &Backend, settings: &'a Settings) -> Keystore<'a> {
        Keystore::new(*backend, &settings.keystore)
    }

    /// The section of the file's `text` that holds the keys, as the SDKs read it.
    fn section_in(&self, text: &str, profile: &str) -> String {
        match self {
            KeyHome::File { config: true, .. } => ini::config_section(text, profile),
            KeyHome::File { section, .. } => section.clone(),
            KeyHome::Keystore(_) => String::new(),
        }
    }

    /// The file that names the profile's key: the one holding the keys, or for keys in a
    /// keystore the config file (`awsmfa_key_id`); links followed, as writers follow them.
    pub fn key_file(&self, settings: &Settings) -> PathBuf {
        match self {
            KeyHome::File { path, .. } => atomic::target_of(path, atomic::Links::Follow),
            KeyHome::Keystore(_) => atomic::target_of(&settings.config_path, atomic::Links::Follow),
        }
    }

    /// Refuses a section with two key pairs: which one would be replaced is not clear.
    pub fn check_one_pair(&self, profile: &str) -> Result<()> {
        if let KeyHome::File { path, .. } = self {
            let text = read::user_file(path, read::AWS_FILE_LIMIT)?.map(|f| f.text).unwrap_or_default();
            files::check_one_key_pair(path, &text, &self.section_in(&text, profile))?;
        }
        Ok(())
    }

    /// The key id kept there now (`in_profile`: the one the profile resolves to).
    pub fn key_id(&self, settings: &Settings, profile: &str, in_profile: &str) -> Result<Option<String>> {
        match self {
            KeyHome::Keystore(backend) => Ok(Self::store(backend, settings).get(profile)?.map(|k| k.access_key_id)),
            KeyHome::File { .. } => Ok(Some(in_profile.to_string())),
        }
    }

    /// Keeps a new key beside the profile's until it replaces it: in the keystore entry
    /// `PROFILE#rotating`, or, for keys in a file, in the secret returned (for the journal,
    /// plain text like them, and as private).
    pub fn hold_new(&self, settings: &Settings, profile: &str, id: &str, secret: &Secret) -> Result<Option<String>> {
        match self {
            KeyHome::Keystore(backend) => Self::store(backend, settings)
                .put(&keystore::pending_entry(profile), &StoredKey::new(id, secret, crate::clock::now()))
                .map(|_| None),
            KeyHome::File { .. } => Ok(Some(secret.expose().to_string())),
        }
    }

    /// The secret of the new key `id` held by `hold_new` (`held`: what it returned), or None
    /// when it is lost. A swap may have moved it into the profile's entry already.
    pub fn held_new(&self, settings: &Settings, profile: &str, id: &str, held: Option<&str>) -> Result<Option<Secret>> {
        match self {
            KeyHome::Keystore(backend) => {
                let store = Self::store(backend, settings);
                let held = store.get(&keystore::pending_entry(profile))?.or(store.get(profile)?);
                Ok(held.filter(|k| k.access_key_id == id).map(|k| k.secret()))
            }
            KeyHome::File { .. } => Ok(Some(Secret::new(held.unwrap_or_default()))),
        }
    }

    /// Writes key `id` where the profile's key is, in its place.
    pub fn write(&self, settings: &Settings, profile: &str, id: &str, secret: &Secret) -> Result<()> {
        match self {
            KeyHome::Keystore(backend) => {
                Self::store(backend, settings).put(profile, &StoredKey::new(id, secret, crate::clock::now()))?;
                set_key_id(settings, profile, id)
            }
            KeyHome::File { path, .. } => {
                files::edit_ini(path, |old| {
                    let section = self.section_in(old, profile);
                    files::check_one_key_pair(path, old, &section)?;
                    Ok(Some(ini::replace_keys(
                        old,
                        &section,
                        &[("aws_access_key_id", Some(id)), ("aws_secret_access_key", Some(secret.expose()))],
                    )))
                })?;
                Ok(())
            }
        }
    }

    /// Removes what `hold_new` kept, once the new key is in the profile's place.
    pub fn remove_held(&self, settings: &Settings, profile: &str) -> Result<()> {
        if let KeyHome::Keystore(backend) = self {
            Self::store(backend, settings).delete(&keystore::pending_entry(profile))?;
        }
        Ok(())
    }

    /// Where the keys are, for people: the keystore, or `[section] of FILE`.
    pub fn describe(&self, settings: &Settings) -> String {
        match self {
            KeyHome::Keystore(backend) => Self::store(backend, settings).describe(),
            KeyHome::File { path, section, .. } => format!("[{section}] of {}", path.display()),
        }
    }
}

/// Writes `awsmfa_key_id` of `profile` in the config file.
fn set_key_id(settings: &Settings, profile: &str, key_id: &str) -> Result<()> {
    files::edit_ini(&settings.config_path, |old| {
        Ok(Some(ini::replace_keys(old, &ini::config_section(old, profile), &[("awsmfa_key_id", Some(key_id))])))
    })?;
    Ok(())
}

/// The backend of a new keystore entry: the one chosen on the command line, else the default.
fn backend(choice: Option<Backend>, settings: &Settings) -> Backend {
    choice.unwrap_or(settings.keystore_default.value)
}

fn is_ours(line: &str) -> bool {
    line.contains("awsmfa") && line.contains("credential-process")
}

/// A profile whose `credential_process` is another tool's is not taken over.
fn check_credential_process(settings: &Settings, name: &str) -> Result<()> {
    // The line awsmfa will write must be makeable (a name of one word) before keys are stored.
    credential_process_line(name)?;
    match settings.own_value(name, "credential_process") {
        Some(line) if !is_ours(&line) => {
            Err(Error::config(format!("profile '{name}' already has credential_process = {line}"))
                .hint("use another profile name, or remove that line first"))
        }
        _ => Ok(()),
    }
}

/// Points the profile at the keystore: where the keys are, which key, and how the other AWS
/// tools reach it.
fn write_profile(settings: &Settings, name: &str, backend: Backend, key_id: &str) -> Result<()> {
    let line = credential_process_line(name)?;
    files::edit_ini(&settings.config_path, |old| {
        Ok(Some(ini::replace_keys(
            old,
            &ini::config_section(old, name),
            &[
                ("awsmfa_keystore", Some(backend.name())),
                ("awsmfa_key_id", Some(key_id)),
                ("credential_process", Some(&line)),
            ],
        )))
    })?;
    Ok(())
}

/// Proves keys with sts:GetCallerIdentity (allowed to every key, MFA or not); their ARN.
fn prove(settings: &Settings, keys: &LongTermKeys) -> Result<String> {
    let spec = ClientSpec::new(&settings.client, "sts", Signer::LongTerm(keys), Retries::Standard)?;
    let identity = aws::sts::caller_identity(&spec)?.map_err(|f| {
        f.into_error("sts:GetCallerIdentity", &spec.describe_endpoint("sts"))
            .hint("check the key id and the secret: nothing was stored")
    })?;
    Ok(identity.arn)
}

/// `awsmfa keys list`: every profile of the config file kept in the keystore, and whether
/// its entry holds the key it names.
pub fn list(settings: &Settings) -> Vec<KeyRow> {
    let now = crate::clock::now();
    let mut rows = Vec::new();
    for name in settings.files().profile_names() {
        let Some(kind) = settings.own_value(&name, "awsmfa_keystore") else { continue };
        let id = settings.own_value(&name, "awsmfa_key_id").unwrap_or_default();
        let (state, age_days) = match Backend::parse(&kind) {
            None => ("unknown keystore".to_string(), None),
            Some(b) => match Keystore::new(b, &settings.keystore).get(&name) {
                Ok(Some(k)) if k.access_key_id == id => ("ok".to_string(), Some((now - k.added()).whole_days())),
                Ok(Some(k)) => (format!("holds {} (rotation unfinished?)", key_tail(&k.access_key_id)), None),
                Ok(None) => ("missing".to_string(), None),
                Err(e) => (format!("unreadable: {}", e.message), None),
            },
        };
        rows.push(KeyRow { profile: name, key_id_tail: key_tail(&id), keystore: kind, age_days, state });
    }
    rows
}
