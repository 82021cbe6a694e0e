//! `awsmfa keys add | import | list | remove | rotate`: long-term keys into the keystore and
//! out of plain text, and rotated under MFA. A profile in the keystore keeps in the config
//! file `awsmfa_keystore`, `awsmfa_key_id` and a `credential_process` line naming awsmfa.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{print, settings};
use crate::aws::{self, ClientSpec, Retries, Signer};
use crate::cli::{GlobalArgs, KeysCommand, KeysProfile, KeystoreChoice, SessionArgs};
use crate::config::{AwsFiles, FileKind};
use crate::credentials::{KeyOrigin, LongTermKeys, Secret, key_tail};
use crate::error::{Error, Kind, Result};
use crate::files::{self, atomic, ini};
use crate::keystore::{self, Backend, Keystore, StoredKey};
use crate::output::report;
use crate::profile::{Overrides, Settings, config_section, valid_key_id};
use crate::rotation;
use crate::ui;
use crate::ui::term;

pub fn run(global: &GlobalArgs, command: KeysCommand) -> Result<i32> {
    match command {
        KeysCommand::Add(args) => add(global, &args.profile, args.keystore),
        KeysCommand::Import(args) => import(global, &args.profile, args.keystore, args.backup.as_deref()),
        KeysCommand::List(args) => list(global, args.json),
        KeysCommand::Remove(args) => remove(global, &args.profile, args.restore, args.yes),
        KeysCommand::Rotate(args) => rotate(global, &args.profile, &args.session, args.wait),
    }
}

/// The profile named on the command line, else the one in use.
fn profile_name(global: &GlobalArgs, profile: &KeysProfile) -> Result<String> {
    let env = crate::profile::Environment::from_process()?;
    let name = profile
        .name
        .clone()
        .or_else(|| global.profile.clone())
        .or_else(|| env.get("AWS_PROFILE").map(str::to_string))
        .or_else(|| env.get("AWS_DEFAULT_PROFILE").map(str::to_string))
        .unwrap_or_else(|| "default".into());
    super::check_profile_name(&name)?;
    Ok(name)
}

fn settings_for(global: &GlobalArgs, name: &str) -> Result<Settings> {
    Settings::load(&Overrides { profile: Some(name.to_string()), region: global.region.clone(), ..Default::default() })
}

fn backend(choice: Option<KeystoreChoice>, settings: &Settings) -> Backend {
    match choice {
        Some(KeystoreChoice::Keychain) => Backend::Keychain,
        Some(KeystoreChoice::File) => Backend::File,
        None => settings.keystore_default.value,
    }
}

/// `awsmfa keys add`: keys typed (or piped) in, proven, stored.
fn add(global: &GlobalArgs, profile: &KeysProfile, choice: Option<KeystoreChoice>) -> Result<i32> {
    let name = profile_name(global, profile)?;
    let settings = settings_for(global, &name)?;
    if let Some(place) = settings.long_term_keys_of(&name) {
        return Err(Error::config(format!("profile '{name}' already has keys, in {place}")).hint(format!(
            "`awsmfa keys import {name}` moves keys from the credentials file; `awsmfa keys remove {name}` frees a keystore entry"
        )));
    }
    check_credential_process(&settings, &name)?;
    let store = Keystore::new(backend(choice, &settings), &settings.keystore);
    store.check()?;
    let (id, secret) = read_keys()?;
    let keys = LongTermKeys::new(
        id.clone(),
        secret.clone(),
        KeyOrigin::Keystore { backend: store.backend.name(), profile: name.clone() },
    );
    let arn = prove(&settings, &keys)?;
    store.put(&name, &StoredKey::new(&id, &secret, crate::clock::now()))?;
    write_profile(&settings, &name, store.backend, &id)?;
    ui::note(&format!("stored key {} of {arn} in {} for profile '{name}'", key_tail(&id), store.describe()));
    ui::note(&format!(
        "[{}] of {} now reaches it through awsmfa",
        config_section(&name),
        settings.config_path.display()
    ));
    Ok(0)
}

/// `awsmfa keys import`: the keys of a profile, out of the AWS files and into the keystore.
/// Order: proven, stored (and read back), the profile pointed at the keystore, and only
/// then the two lines removed; a rerun after a crash at any point finishes the move.
fn import(
    global: &GlobalArgs,
    profile: &KeysProfile,
    choice: Option<KeystoreChoice>,
    backup: Option<&Path>,
) -> Result<i32> {
    let name = profile_name(global, profile)?;
    let settings = settings_for(global, &name)?;
    let Some(found) = plaintext_keys(&settings, &name) else {
        return Err(match settings.own_value(&name, "awsmfa_keystore") {
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
    check_credential_process(&settings, &name)?;
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
        None => backend(choice, &settings),
    };
    let store = Keystore::new(chosen, &settings.keystore);
    store.check()?;
    let keys = LongTermKeys::new(found.id.clone(), found.secret.clone(), found.origin.clone());
    let arn = prove(&settings, &keys)?;
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
    write_profile(&settings, &name, chosen, &found.id)?;
    files::edit_ini(&found.path, |old| {
        // The section the SDKs read now: the one whose lines go, and only if they still hold
        // the key that was stored.
        let section = found.section_in(old);
        files::check_one_key_pair(&found.path, old, &section)?;
        let id_in = |text: &str| AwsFiles::value_in_text(found.kind, text, &found.profile, "aws_access_key_id");
        match id_in(old)? {
            None => return Ok(None), // moved already (a rerun)
            Some(id) if id == found.id => {}
            Some(id) => {
                return Err(Error::config(format!(
                    "[{section}] of {} changed meanwhile: it now holds key {}, not {}",
                    found.path.display(),
                    key_tail(&id),
                    key_tail(&found.id)
                ))
                .hint(format!(
                    "key {} is in the keystore; run `awsmfa keys import {name}` again once the file is as you want it",
                    key_tail(&found.id)
                )));
            }
        }
        let text = ini::unset_keys(old, &section, &["aws_access_key_id", "aws_secret_access_key"]);
        if id_in(&text)?.is_some() {
            return Err(Error::unexpected(format!(
                "could not take the key lines out of [{section}] of {}",
                found.path.display()
            ))
            .hint("the key is in the keystore now: remove its two lines from that file by hand"));
        }
        Ok(Some(text))
    })?;
    ui::note(&format!(
        "moved key {} of {arn} from [{}] of {} into {}",
        key_tail(&found.id),
        found.section,
        found.path.display(),
        store.describe()
    ));
    ui::note(&format!(
        "[{}] of {} now reaches it through awsmfa",
        config_section(&name),
        settings.config_path.display()
    ));
    Ok(0)
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
}

/// The `credential_process` that awsmfa writes: this very binary, by its full path.
fn credential_process_line(name: &str) -> Result<String> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Error::unexpected(format!("cannot tell where awsmfa itself is: {e}")))?;
    let exe = exe.to_string_lossy();
    let exe = if exe.contains(char::is_whitespace) { format!("\"{exe}\"") } else { exe.into_owned() };
    Ok(format!("{exe} credential-process --profile {name}"))
}

fn is_ours(line: &str) -> bool {
    line.contains("awsmfa") && line.contains("credential-process")
}

/// A profile whose `credential_process` is another tool's is not taken over.
fn check_credential_process(settings: &Settings, name: &str) -> Result<()> {
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
        let secret = rpassword::prompt_password("Secret access key (not shown): ")
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

/// `awsmfa keys list`: every profile of the config file kept in the keystore.
fn list(global: &GlobalArgs, json: bool) -> Result<i32> {
    let settings = super::profile_settings(global)?;
    let now = crate::clock::now();
    let mut rows = Vec::new();
    let mut entries = Vec::new();
    for name in settings.files().profile_names() {
        let Some(kind) = settings.own_value(&name, "awsmfa_keystore") else { continue };
        let id = settings.own_value(&name, "awsmfa_key_id").unwrap_or_default();
        let (state, age) = match Backend::parse(&kind) {
            None => ("unknown keystore".to_string(), None),
            Some(b) => match Keystore::new(b, &settings.keystore).get(&name) {
                Ok(Some(k)) if k.access_key_id == id => ("ok".to_string(), Some((now - k.added()).whole_days())),
                Ok(Some(k)) => (format!("holds {} (rotation unfinished?)", key_tail(&k.access_key_id)), None),
                Ok(None) => ("missing".to_string(), None),
                Err(e) => (format!("unreadable: {}", e.message), None),
            },
        };
        rows.push(vec![
            name.clone(),
            key_tail(&id),
            kind.clone(),
            age.map(|d| format!("{d} d")).unwrap_or_else(|| "-".into()),
            state.clone(),
        ]);
        entries.push(serde_json::json!({
            "profile": name, "key_id_tail": key_tail(&id), "keystore": kind, "age_days": age, "state": state,
        }));
    }
    if json {
        let mut text = serde_json::to_string_pretty(&entries).expect("json");
        text.push('\n');
        return print(text.as_bytes());
    }
    if rows.is_empty() {
        ui::note("no profile keeps its keys in the keystore (`awsmfa keys import PROFILE` moves them there)");
        return Ok(0);
    }
    print(report::table(&["PROFILE", "KEY", "KEYSTORE", "AGE", "STATE"], &rows).as_bytes())
}

/// `awsmfa keys remove`: the keystore entry deleted, the profile's keystore lines removed;
/// with --restore the keys go back into the credentials file first.
fn remove(global: &GlobalArgs, profile: &KeysProfile, restore: bool, yes: bool) -> Result<i32> {
    let name = profile_name(global, profile)?;
    let settings = settings_for(global, &name)?;
    let Some(kind) = settings.own_value(&name, "awsmfa_keystore") else {
        return Err(Error::config(format!("profile '{name}' keeps no keys in the keystore"))
            .hint("`awsmfa keys list` shows those that do"));
    };
    let backend = Backend::parse(&kind)
        .ok_or_else(|| Error::config(format!("awsmfa_keystore = {kind:?} of profile '{name}' is not a keystore")))?;
    let store = Keystore::new(backend, &settings.keystore);
    // An entry that cannot be read (damaged) can still be removed; only --restore needs it.
    let stored = match store.get(&name) {
        Ok(stored) => stored.map(Ok),
        Err(e) if restore => return Err(e),
        Err(e) => Some(Err(e)),
    };
    if restore {
        let Some(Ok(key)) = &stored else {
            return Err(Error::config(format!("{} has no entry for '{name}' to restore", store.describe()))
                .hint("run without --restore to remove the profile's keystore lines"));
        };
        let (id, secret) = (key.access_key_id.clone(), key.secret());
        let section = name.clone();
        let path = &settings.credentials_path;
        files::edit_ini(path, |old| {
            // Other keys in that section are someone's only copy: never overwritten.
            files::check_one_key_pair(path, old, &section)?;
            let value = |key| AwsFiles::value_in_text(FileKind::Credentials, old, &section, key);
            match value("aws_access_key_id")? {
                Some(there) if there != id => {
                    return Err(Error::config(format!(
                        "[{section}] of {} already holds other keys ({}): nothing restored, nothing removed",
                        path.display(),
                        key_tail(&there)
                    ))
                    .hint(format!("move those keys to a profile of their own (or `awsmfa keys import {section}` them after this), then run again")));
                }
                _ if value("aws_session_token")?.is_some() => {
                    return Err(Error::config(format!(
                        "[{section}] of {} holds a session (aws_session_token): long-term keys beside it would not work",
                        path.display()
                    ))
                    .hint(format!("`awsmfa logout --write-profile {section}` removes the session, then run again")));
                }
                _ => {}
            }
            Ok(Some(ini::replace_keys(
                old,
                &section,
                &[("aws_access_key_id", Some(&id)), ("aws_secret_access_key", Some(secret.expose()))],
            )))
        })?;
        ui::note(&format!("put key {} back into [{name}] of {}", key_tail(&id), settings.credentials_path.display()));
    } else if stored.is_some() && !yes {
        let question = format!(
            "delete the keys of '{name}' from {}? Nobody can use that key afterwards (it stays in IAM) [y/N] ",
            store.describe()
        );
        if !term::confirm(
            "keys remove",
            &question,
            "pass --yes to delete without asking, or --restore to keep the keys",
        )? {
            return Err(Error::new(Kind::Declined, "nothing deleted"));
        }
    }
    let ours = settings.own_value(&name, "credential_process").is_some_and(|l| is_ours(&l));
    files::edit_ini(&settings.config_path, |old| {
        let mut keys = vec!["awsmfa_keystore", "awsmfa_key_id"];
        if ours {
            keys.push("credential_process");
        }
        Ok(Some(ini::unset_keys(old, &ini::config_section(old, &name), &keys)))
    })?;
    store.delete(&name)?;
    store.delete(&keystore::pending_entry(&name))?;
    ui::note(&format!("removed the keys of '{name}' from {}", store.describe()));
    Ok(0)
}

/// `awsmfa keys rotate`.
fn rotate(global: &GlobalArgs, profile: &KeysProfile, session: &SessionArgs, wait: u64) -> Result<i32> {
    let wait = crate::profile::check_duration("--wait", wait, crate::clock::KEY_WAIT, "2m")?;
    let name = profile_name(global, profile)?;
    let global = GlobalArgs { profile: Some(name), ..global.clone() };
    let settings = settings(&global, session)?;
    let request = super::request(session, false)?;
    let reload = || super::settings(&global, session);
    let done = rotation::rotate(&settings, &reload, &request, Duration::from_secs(wait))?;
    if done.resumed {
        ui::note("finished the interrupted rotation");
    }
    ui::note(&format!(
        "rotated profile '{}': new key {} in {}; old key {} deleted",
        settings.profile,
        key_tail(&done.new_key_id),
        done.place,
        key_tail(&done.old_key_id)
    ));
    Ok(0)
}
