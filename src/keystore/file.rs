//! The encrypted-file keystore: every entry in one age file (passphrase recipient, scrypt),
//! for machines without a keychain. The passphrase comes from AWSMFA_KEYSTORE_PASSPHRASE or
//! is asked on the terminal (never echoed), once per run.
//!
//! Writers take the lock beside the file, read and decrypt it, change one entry, and
//! replace it atomically (0600 from the first byte, never through a link); readers need no
//! lock. A file that is not ours, not private, a link or damaged is an error, never
//! replaced: it may hold the only copy of a key.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Mutex;

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{Options, StoredKey};
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::files::{atomic, lock, read};

/// Far above any real keystore; a larger file is not ours.
const LIMIT: u64 = 4 << 20;
/// Tries at the terminal before a wrong passphrase is an error.
const ATTEMPTS: usize = 3;
/// Accept files made on machines up to 16x faster than age's target for this one.
const MAX_WORK_FACTOR: u8 = 24;

#[derive(Clone, Default, Serialize, Deserialize)]
struct Contents {
    version: u32,
    entries: BTreeMap<String, StoredKey>,
}

/// The passphrase that opened the file in this run, so that a command touching several
/// entries asks once.
static PASSPHRASE: Mutex<Option<Secret>> = Mutex::new(None);

/// The file as last read or written in this run, and what it decrypted to: scrypt costs
/// about a second by design, and a command touching several entries (a rotation) should
/// pay it once, not at every step. Keyed by the file's exact bytes, so a change by another
/// process is always seen.
#[allow(clippy::type_complexity)]
static OPENED: Mutex<Option<(std::path::PathBuf, Vec<u8>, Contents)>> = Mutex::new(None);

fn remember(path: &std::path::Path, bytes: Vec<u8>, contents: &Contents) {
    *OPENED.lock().unwrap_or_else(|e| e.into_inner()) = Some((path.to_path_buf(), bytes, contents.clone()));
}

fn recall(path: &std::path::Path, bytes: &[u8]) -> Option<Contents> {
    match &*OPENED.lock().unwrap_or_else(|e| e.into_inner()) {
        Some((p, b, c)) if p == path && b == bytes => Some(c.clone()),
        _ => None,
    }
}

/// Whether the file can be used, without its passphrase: its directory is ours and nobody
/// else can write to it (as for the cache directory), and the file, if there is one, is a
/// regular file of ours that only we can read. For `doctor`, and for commands to ask before
/// the keys are typed or proven. Returns whether the file exists.
pub fn check(options: &Options) -> Result<bool> {
    Ok(read_file(options)?.is_some())
}

/// The file opened now (its passphrase asked, or the environment's, and proven), or for a
/// file still to be made, a passphrase that can be had: before work a keystore that
/// cannot be written would waste.
pub fn open(options: &Options) -> Result<()> {
    if load(options)?.is_none() && options.passphrase.is_none() && !terminal() {
        return Err(no_terminal());
    }
    Ok(())
}

pub fn get(options: &Options, name: &str) -> Result<Option<StoredKey>> {
    Ok(load(options)?.and_then(|mut c| c.entries.remove(name)))
}

/// Sets (or with None, deletes) entry `name`; returns whether the file changed.
pub fn put(options: &Options, name: &str, key: Option<&StoredKey>) -> Result<bool> {
    let path = file_of(options)?;
    // Before anything is made in it (the directory, the lock file): a directory others can
    // write to is refused, never chmod-ed.
    check_dir(path)?;
    let target = atomic::target_of(path, atomic::Links::Replace);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        atomic::ensure_dir(dir, 0o700)?;
    }
    let _lock = lock::acquire(&lock::beside(&target), options.lock_timeout, || {})?;
    let existing = load(options)?;
    let new_file = existing.is_none();
    let mut contents = existing.unwrap_or(Contents { version: 1, entries: BTreeMap::new() });
    let changed = match key {
        Some(key) => {
            contents.entries.insert(name.to_string(), key.clone());
            true
        }
        None => contents.entries.remove(name).is_some(),
    };
    if !changed {
        return Ok(false);
    }
    let passphrase = if new_file { new_passphrase(options)? } else { known_passphrase()? };
    let plain = serde_json::to_vec(&contents).expect("the keystore serialises");
    let mut sealed = Vec::with_capacity(plain.len() + 512);
    let encryptor = age::Encryptor::with_user_passphrase(SecretString::from(passphrase.expose().to_string()));
    let sealing =
        encryptor.wrap_output(&mut sealed).and_then(|mut w| w.write_all(&plain).and_then(|_| w.finish().map(|_| ())));
    sealing.map_err(|e| Error::unexpected(format!("cannot encrypt the file keystore: {e}")))?;
    atomic::write(path, &sealed, 0o600, atomic::Links::Replace)?;
    remember(path, sealed, &contents);
    Ok(true)
}

/// The directory of the file must be ours and closed to others, as the cache directory
/// must: whoever can write to it can swap the file for one of theirs, or delete it.
fn check_dir(path: &std::path::Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    read::check_private_dir_for(
        dir,
        "the file keystore in ",
        "keep the file keystore in a directory of your own that only you can write to (the default is ~/.aws/awsmfa-keys.age; AWSMFA_KEYSTORE_FILE overrides)",
    )
}

/// The file's bytes, read as ours (see `check`); None when there is no file yet.
fn read_file(options: &Options) -> Result<Option<Vec<u8>>> {
    let path = file_of(options)?;
    check_dir(path)?;
    read::key_file("the file keystore", path, LIMIT)
}

/// The file's contents; None when there is no file yet.
fn load(options: &Options) -> Result<Option<Contents>> {
    let path = file_of(options)?;
    let Some(bytes) = read_file(options)? else { return Ok(None) };
    if let Some(contents) = recall(path, &bytes) {
        return Ok(Some(contents));
    }
    let damaged = || {
        Error::config(format!("the file keystore {} is damaged (not an age file awsmfa wrote)", path.display()))
            .hint("restore it from a backup; the keys in it cannot be read")
    };
    let mut tries = 0;
    loop {
        tries += 1;
        let passphrase = ask_passphrase(options, tries > 1)?;
        let decryptor = age::Decryptor::new_buffered(&bytes[..]).map_err(|_| damaged())?;
        let mut identity = age::scrypt::Identity::new(SecretString::from(passphrase.expose().to_string()));
        identity.set_max_work_factor(MAX_WORK_FACTOR);
        match decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity)) {
            Ok(mut reader) => {
                let mut plain = Vec::new();
                reader.read_to_end(&mut plain).map_err(|_| damaged())?;
                let contents: Contents = serde_json::from_slice(&plain).map_err(|_| damaged())?;
                *PASSPHRASE.lock().unwrap_or_else(|e| e.into_inner()) = Some(passphrase);
                remember(path, bytes, &contents);
                return Ok(Some(contents));
            }
            Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
                let from_env = options.passphrase.is_some();
                if from_env || tries >= ATTEMPTS || !terminal() {
                    let origin = if from_env { "AWSMFA_KEYSTORE_PASSPHRASE" } else { "the passphrase typed" };
                    return Err(Error::config(format!("{origin} does not open the file keystore {}", path.display()))
                        .hint("use the passphrase the keystore was created with"));
                }
                crate::ui::warn("wrong passphrase; try again");
            }
            Err(age::DecryptError::ExcessiveWork { required, target }) => {
                return Err(Error::config(format!(
                    "the file keystore {} needs scrypt work factor {required}, far above this machine's {target}",
                    path.display()
                ))
                .hint("re-create it on this machine (`awsmfa keys add`) from the keys"));
            }
            Err(_) => return Err(damaged()),
        }
    }
}

fn file_of(options: &Options) -> Result<&std::path::Path> {
    options.file.as_deref().ok_or_else(|| {
        Error::config("the file keystore has no place: HOME is not set").hint("set HOME, or AWSMFA_KEYSTORE_FILE=PATH")
    })
}

fn terminal() -> bool {
    crate::platform::terminal().is_some()
}

/// The passphrase to open the existing file: the environment's, the one that opened it in
/// this run (unless it just failed), else asked.
fn ask_passphrase(options: &Options, again: bool) -> Result<Secret> {
    if let Some(p) = &options.passphrase {
        return Ok(p.clone());
    }
    if !again && let Some(p) = PASSPHRASE.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return Ok(p);
    }
    prompt(&format!("Passphrase of the awsmfa keystore {}: ", file_of(options)?.display()))
}

/// The passphrase that opened the file in this run (put always loads first).
fn known_passphrase() -> Result<Secret> {
    PASSPHRASE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or_else(|| Error::unexpected("the file keystore was read without a passphrase"))
}

/// The passphrase of a new keystore file: the environment's, or typed twice.
fn new_passphrase(options: &Options) -> Result<Secret> {
    let passphrase = match &options.passphrase {
        Some(p) => p.clone(),
        None => {
            crate::ui::note(&format!("creating the file keystore {}", file_of(options)?.display()));
            let first = prompt("New keystore passphrase: ")?;
            let second = prompt("The same passphrase again: ")?;
            if first != second {
                return Err(Error::config("the two passphrases differ; nothing was stored")
                    .hint("run the command again and type the same passphrase twice"));
            }
            first
        }
    };
    if passphrase.expose().is_empty() {
        return Err(Error::config("the keystore passphrase is empty")
            .hint("choose a passphrase; it is the only protection of the keys in the file"));
    }
    *PASSPHRASE.lock().unwrap_or_else(|e| e.into_inner()) = Some(passphrase.clone());
    Ok(passphrase)
}

/// Asks on the terminal without echo; without a terminal, says how to give it instead.
fn prompt(question: &str) -> Result<Secret> {
    if !terminal() {
        return Err(no_terminal());
    }
    match crate::ui::term::secret(question) {
        Ok(p) => Ok(Secret::new(p)),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
            Err(Error::new(crate::error::Kind::Interrupted, "interrupted at the passphrase prompt"))
        }
        Err(_) => Err(no_terminal()),
    }
}

fn no_terminal() -> Error {
    Error::config("the file keystore needs its passphrase, and there is no terminal to ask on")
        .hint("set AWSMFA_KEYSTORE_PASSPHRASE for automation, or run the command in a terminal")
}
