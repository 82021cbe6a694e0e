//! `awsmfa keys rotate`: a new access key under MFA, the old one deleted, and no moment at
//! which the only working key is held only in memory.
//!
//! Each step is recorded in a journal (`rotate-PROFILE.json` in the cache directory, 0600)
//! before the next one starts, so a run killed anywhere is finished by running it again:
//!
//! | journal   | on disk                                   | a rerun                          |
//! |-----------|-------------------------------------------|----------------------------------|
//! | none      | the old key                               | starts                           |
//! | creating  | the old key; IAM may hold a new key whose secret was never stored | deletes that orphan (made within minutes of the recorded attempt), creates again |
//! | created   | the old key, and the new one beside it (keystore entry `PROFILE#rotating`, or the journal itself for keys kept in a file) | proves the new key, swaps |
//! | swapped   | the new key where the old one was          | deletes the old key in IAM, cleans up |
//!
//! The old key is deleted only after the new one is proven (sts:GetCallerIdentity, retried
//! while IAM catches up) and stored where the profile's keys are kept; until then the old
//! key works and is on disk.
//!
//! The rotation is a state machine over the journal's `Step`: `Rotation::begin` (none →
//! creating), `resume` (created → creating, when the new key is gone from IAM), `create`
//! (creating → created), `swap` (created → swapped) and `finish` (swapped → none), each
//! written through `KeyHome`, whatever the home of the keys.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{KeyHome, set_key_id};
use crate::aws::{self, ClientSpec, Failure, Retries, Signer};
use crate::credentials::{LongTermKeys, Secret, key_tail};
use crate::error::{Error, Kind, Result};
use crate::files::{atomic, lock, read};
use crate::keystore::{Backend, Keystore};
use crate::profile::Settings;
use crate::session::{self, Request, Session};
use crate::ui;

/// A key created by an interrupted run is one made at most this long before its journal
/// (clock skew between this machine and AWS).
const SKEW: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Step {
    Creating,
    Created,
    Swapped,
}

#[derive(Serialize, Deserialize)]
struct Journal {
    profile: String,
    old_key_id: String,
    /// Unix seconds when the rotation began.
    started: i64,
    step: Step,
    /// The user's keys when the rotation began: no other key is ever deleted but one made
    /// around `attempt`.
    before: Vec<String>,
    /// Unix seconds just before the last CreateAccessKey was sent.
    #[serde(default)]
    attempt: i64,
    new_key_id: Option<String>,
    /// The new secret, for keys kept in a file (plain text like them, and as private);
    /// keys in the keystore keep it in the keystore.
    new_secret: Option<String>,
}

/// What the rotation did.
pub struct Rotated {
    pub old_key_id: String,
    pub new_key_id: String,
    pub place: String,
    pub resumed: bool,
}

/// Rotates the keys of `settings.profile`. `reload` re-reads the settings after a local
/// repair of an interrupted run changed the profile.
pub fn rotate(
    settings: &Settings,
    reload: &dyn Fn() -> Result<Settings>,
    request: &Request,
    wait: Duration,
) -> Result<Rotated> {
    if !settings.roles.is_empty() {
        return Err(Error::config(format!(
            "profile '{}' assumes a role; its keys are those of '{}'",
            settings.profile, settings.base_profile
        ))
        .hint(format!("rotate the profile that holds the keys: `awsmfa keys rotate {}`", settings.base_profile)));
    }
    // The profile that holds the keys: `NAME-long-term` when there is one, as everywhere.
    let profile = settings.long_term_section();
    let (_lock, reloaded) = take_turn(settings, reload, &profile)?;
    let settings = &reloaded;
    let dir = settings.cache_dir.clone();
    read::check_private_dir(&dir)?;
    atomic::ensure_dir(&dir, 0o700)?;
    let journal_path = dir.join(format!("rotate-{profile}.json"));
    let journal = read_journal(&journal_path)?;
    let resumed = journal.is_some();

    // A swap into the keystore that stopped before the profile named the new key: finish
    // it here, with no network, so the profile's keys resolve again.
    let repaired;
    let settings = match &journal {
        Some(j) if j.step != Step::Creating && repair_key_id(settings, j)? => {
            repaired = reload()?;
            &repaired
        }
        _ => settings,
    };
    let keys = settings.keys()?;
    let home = KeyHome::of(settings, keys)?;
    home.check_one_pair(&profile)?;
    if let Some(j) = &journal {
        j.check_rotates(keys, &profile, &journal_path)?;
        // After a swap the profile names the new key: the MFA session of the old one is the
        // same user's, so it carries over (a killed run's rerun needs no new code).
        if j.new_key_id.as_ref() == Some(&keys.access_key_id) {
            carry_session(settings, keys, &j.old_key_id, &keys.access_key_id);
        }
    }
    let got = session::get_session(&settings.session(), request)?;
    let spec = ClientSpec::new(&settings.client, "iam", Signer::Session(&got.session), Retries::Standard)?;
    let iam = Iam { endpoint: spec.describe_endpoint("iam"), spec };
    let user_arn = caller_arn(settings, Signer::Session(&got.session))?;

    let run = Rotation {
        settings,
        reload,
        profile,
        keys,
        home,
        iam,
        session: &got.session,
        user_arn,
        journal_path,
        wait,
        resumed,
    };
    let mut journal = match journal {
        Some(j) => run.resume(j)?,
        None => run.begin()?,
    };
    loop {
        match journal.step {
            Step::Creating => run.create(&mut journal)?,
            Step::Created => run.swap(&mut journal)?,
            Step::Swapped => return run.finish(journal),
        }
    }
}

/// Two rotations of one profile take turns, whatever their cache directories: the lock
/// sits beside the file that names the profile's key, and the keys are read only once it is
/// held (a run that read them before would rotate a key that is gone, and throw away the
/// other run's new one). The lock, and the settings read under it.
fn take_turn(
    settings: &Settings,
    reload: &dyn Fn() -> Result<Settings>,
    profile: &str,
) -> Result<(lock::FileLock, Settings)> {
    let anchor = KeyHome::of(settings, settings.keys()?)?.key_file(settings);
    let lock_path = lock::beside_for(&anchor, &format!("rotate-{profile}"));
    let lock = lock::acquire(&lock_path, settings.lock_timeout, || {
        ui::note(&format!("another `awsmfa keys rotate {profile}` is running; waiting for it to finish"))
    })?;
    let settings = reload()?;
    if KeyHome::of(&settings, settings.keys()?)?.key_file(&settings) != anchor {
        return Err(Error::config(format!("the keys of profile '{profile}' moved while this rotation waited"))
            .hint(format!("run `awsmfa keys rotate {}` again", settings.profile)));
    }
    Ok((lock, settings))
}

/// One rotation of one profile's keys, once its lock is held, its session open and its
/// journal read.
struct Rotation<'a> {
    settings: &'a Settings,
    reload: &'a dyn Fn() -> Result<Settings>,
    /// The profile that holds the keys (`NAME-long-term` when there is one).
    profile: String,
    keys: &'a LongTermKeys,
    home: KeyHome,
    iam: Iam,
    /// The MFA session the IAM calls are signed with.
    session: &'a Session,
    user_arn: String,
    journal_path: PathBuf,
    wait: Duration,
    resumed: bool,
}

impl Rotation<'_> {
    /// none → creating: the user's keys listed (two already leave no room for a new one).
    fn begin(&self) -> Result<Journal> {
        let listed = self.iam.list()?;
        refuse_two(&listed, &self.keys.access_key_id)?;
        let journal = Journal {
            profile: self.profile.clone(),
            old_key_id: self.keys.access_key_id.clone(),
            started: crate::clock::now().unix_timestamp(),
            step: Step::Creating,
            before: listed.iter().map(|k| k.id.clone()).collect(),
            attempt: 0,
            new_key_id: None,
            new_secret: None,
        };
        self.write(&journal)?;
        Ok(journal)
    }

    /// created → creating, on a rerun: the new key may have been deleted by someone else
    /// meanwhile, then the rotation starts again.
    fn resume(&self, mut journal: Journal) -> Result<Journal> {
        if journal.step != Step::Created {
            return Ok(journal);
        }
        let new_id = journal.new_key_id.clone().unwrap_or_default();
        if !self.iam.list()?.iter().any(|k| k.id == new_id) {
            ui::warn(&format!(
                "the new key {} of the interrupted rotation is gone from IAM; creating another",
                key_tail(&new_id)
            ));
            journal.step = Step::Creating;
            journal.new_key_id = None;
            journal.new_secret = None;
            self.write(&journal)?;
        }
        Ok(journal)
    }

    /// creating → created: the new key made, and held beside the old one before the journal
    /// says so. On a rerun, a key the interrupted run made first goes.
    fn create(&self, journal: &mut Journal) -> Result<()> {
        if self.resumed {
            // A key made by the interrupted CreateAccessKey: created within minutes of it (a
            // key the user made later, by hand, is not ours to delete).
            let ours = |k: &&ListedKey| {
                !journal.before.contains(&k.id) && journal.attempt > 0 && (k.created - journal.attempt).abs() <= SKEW
            };
            for orphan in self.iam.list()?.iter().filter(ours) {
                ui::note(&format!(
                    "deleting key {} that the interrupted rotation created (its secret was never stored)",
                    key_tail(&orphan.id)
                ));
                self.iam.delete(&orphan.id)?;
            }
            refuse_two(&self.iam.list()?, &journal.old_key_id)?;
        }
        journal.attempt = crate::clock::now().unix_timestamp();
        self.write(journal)?;
        ui::trace("iam:CreateAccessKey");
        let (new_id, new_secret) = self.iam.create()?;
        let held = self.home.hold_new(self.settings, &self.profile, &new_id, &new_secret).and_then(|secret| {
            journal.step = Step::Created;
            journal.new_key_id = Some(new_id.clone());
            journal.new_secret = secret;
            self.write(journal)
        });
        if let Err(e) = held {
            // Nothing holds the new secret: the new key is of no use to anyone. The journal
            // stays unless it is gone, so a rerun deletes it then.
            if self.iam.delete(&new_id).is_ok() {
                let _ = std::fs::remove_file(&self.journal_path);
            }
            return Err(e);
        }
        Ok(())
    }

    /// created → swapped: the new key proven, then written where the old one was.
    fn swap(&self, journal: &mut Journal) -> Result<()> {
        let new_id = self.new_id(journal)?;
        let Some(new_secret) =
            self.home.held_new(self.settings, &self.profile, &new_id, journal.new_secret.as_deref())?
        else {
            return Err(Error::config(format!(
                "{} lost the new key {} of this rotation",
                self.home.describe(self.settings),
                key_tail(&new_id)
            ))
            .hint(format!(
                "delete it in IAM (`aws iam delete-access-key --access-key-id {new_id}`), delete {}, and rotate again",
                self.journal_path.display()
            )));
        };
        let new_keys = LongTermKeys::new(new_id.clone(), new_secret.clone(), self.keys.origin.clone());
        prove_new(self.settings, &new_keys, &self.user_arn, self.wait)?;
        ui::trace(&format!("the new key {} works; replacing the old one", key_tail(&new_id)));
        self.home.write(self.settings, &self.profile, &new_id, &new_secret)?;
        journal.step = Step::Swapped;
        journal.new_secret = None;
        self.write(journal)?;
        carry_session(self.settings, self.keys, &journal.old_key_id, &new_id);
        Ok(())
    }

    /// swapped → none: the old key deleted in IAM, what held the new one and the journal
    /// removed.
    fn finish(&self, journal: Journal) -> Result<Rotated> {
        let new_id = self.new_id(&journal)?;
        // The one step that cannot be undone: only once the profile is seen to hold the new
        // key where it keeps its keys (a stale or forged journal may say "swapped" of a key
        // that is still the profile's only one).
        self.check_swapped(&(self.reload)()?, &journal)?;
        ui::trace(&format!("iam:DeleteAccessKey {}", key_tail(&journal.old_key_id)));
        self.iam.delete(&journal.old_key_id)?;
        // Should AWS end the sessions of a deleted key, the carried one must not be served.
        if caller_arn(self.settings, Signer::Session(self.session)).is_err() {
            let mut new_keys = self.keys.clone();
            new_keys.access_key_id = new_id.clone();
            let (cache, key) = session::mfa_cache_key(&self.settings.session(), &new_keys);
            cache.remove(&key)?;
        }
        self.home.remove_held(self.settings, &self.profile)?;
        std::fs::remove_file(&self.journal_path).map_err(|e| Error::io("remove", &self.journal_path, e))?;
        Ok(Rotated {
            old_key_id: journal.old_key_id,
            new_key_id: new_id,
            place: self.home.describe(self.settings),
            resumed: self.resumed,
        })
    }

    fn new_id(&self, journal: &Journal) -> Result<String> {
        journal.new_key_id.clone().ok_or_else(|| Error::unexpected("the rotation journal lost the new key id"))
    }

    fn write(&self, journal: &Journal) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(journal).expect("the journal serialises");
        atomic::write(&self.journal_path, &bytes, 0o600, atomic::Links::Replace)
    }

    /// Whether the profile, as the files say now (`settings`), holds the journal's new key
    /// (and no longer the old one) where it keeps its keys.
    fn check_swapped(&self, settings: &Settings, journal: &Journal) -> Result<()> {
        let (profile, path) = (&self.profile, &self.journal_path);
        let new_id = journal.new_key_id.as_deref().unwrap_or_default();
        let in_profile = settings.keys()?.access_key_id.clone();
        let stored = self.home.key_id(settings, profile, &in_profile)?;
        if in_profile == new_id && stored.as_deref() == Some(new_id) && new_id != journal.old_key_id {
            return Ok(());
        }
        Err(Error::config(format!(
            "{} says key {} was replaced by {}, but profile '{profile}' uses key {}: nothing deleted",
            path.display(),
            key_tail(&journal.old_key_id),
            key_tail(new_id),
            key_tail(&in_profile)
        ))
        .hint(format!(
            "check `aws iam list-access-keys`; if no rotation is under way, move the journal aside (`mv {0} {0}.old`) and run again",
            path.display()
        )))
    }
}

impl Journal {
    /// A journal of another key's rotation is not this profile's to finish.
    fn check_rotates(&self, keys: &LongTermKeys, profile: &str, path: &Path) -> Result<()> {
        if self.old_key_id == keys.access_key_id || Some(&keys.access_key_id) == self.new_key_id.as_ref() {
            return Ok(());
        }
        Err(Error::config(format!(
            "{} records a rotation of key {}, but profile '{profile}' now has key {}",
            path.display(),
            key_tail(&self.old_key_id),
            key_tail(&keys.access_key_id)
        ))
        // It may hold the only copy of a new key's secret: moved aside, never deleted.
        .hint(format!(
            "if that rotation is over, move the journal aside (`mv {0} {0}.old`) and check `aws iam list-access-keys`",
            path.display()
        )))
    }
}

/// Stores the MFA session cached for `old_id` under `new_id` too (nothing if there is none,
/// or the new key has one already). Best effort: without it, the next use asks for a code.
fn carry_session(settings: &Settings, keys: &LongTermKeys, old_id: &str, new_id: &str) {
    let with_id = |id: &str| {
        let mut k = keys.clone();
        k.access_key_id = id.to_string();
        session::mfa_cache_key(&settings.session(), &k)
    };
    let (cache, old_key) = with_id(old_id);
    let (_, new_key) = with_id(new_id);
    if cache.load(&new_key).is_ok() {
        return;
    }
    if let Ok(cached) = cache.load(&old_key)
        && cache.store(&new_key, &cached.serial, &cached.session).is_ok()
    {
        ui::trace(&format!("the MFA session now goes with key {}", key_tail(new_id)));
    }
}

/// After a swap into the keystore, the profile must name the new key; true if it had to be
/// changed now.
fn repair_key_id(settings: &Settings, journal: &Journal) -> Result<bool> {
    let Some(backend) = settings.own_value(&journal.profile, "awsmfa_keystore").and_then(|b| Backend::parse(&b)) else {
        return Ok(false);
    };
    let (Some(new_id), Some(named)) = (&journal.new_key_id, settings.own_value(&journal.profile, "awsmfa_key_id"))
    else {
        return Ok(false);
    };
    let current = Keystore::new(backend, &settings.keystore).get(&journal.profile)?;
    if named != *new_id && current.is_some_and(|k| k.access_key_id == *new_id) {
        set_key_id(settings, &journal.profile, new_id)?;
        return Ok(true);
    }
    Ok(false)
}

fn refuse_two(listed: &[ListedKey], current: &str) -> Result<()> {
    if listed.len() < 2 {
        return Ok(());
    }
    let others: Vec<&str> = listed.iter().map(|k| k.id.as_str()).filter(|id| *id != current).collect();
    Err(Error::config(format!(
        "this IAM user already has two access keys, {} (this profile's) and {}: AWS allows no third",
        key_tail(current),
        others.iter().map(|id| key_tail(id)).collect::<Vec<_>>().join(", ")
    ))
    .hint(format!(
        "delete the key you no longer use first (`aws iam delete-access-key --access-key-id {}`); awsmfa deletes only keys it made",
        others.first().copied().unwrap_or("ID")
    )))
}

fn read_journal(path: &Path) -> Result<Option<Journal>> {
    let Some(bytes) = read::key_file("the rotation journal", path, 64 << 10)? else { return Ok(None) };
    serde_json::from_slice(&bytes).map(Some).map_err(|_| {
        let word = crate::error::shell_word(path);
        Error::config(format!("the rotation journal {} is damaged", path.display())).hint(format!(
            "check `aws iam list-access-keys` and your profile by hand, then move the journal aside, keeping it: it may hold the new key's secret (`mv {word} {word}.damaged`)"
        ))
    })
}

/// The ARN that `signer` signs as.
fn caller_arn(settings: &Settings, signer: Signer<'_>) -> Result<String> {
    let spec = ClientSpec::new(&settings.client, "sts", signer, Retries::Standard)?;
    aws::sts::caller_identity(&spec)?
        .map(|identity| identity.arn)
        .map_err(|f| f.into_error("sts:GetCallerIdentity", &spec.describe_endpoint("sts")))
}

/// Waits (bounded) until AWS accepts the new key: IAM is eventually consistent, and a key
/// a few seconds old may still be unknown to STS.
fn prove_new(settings: &Settings, keys: &LongTermKeys, user_arn: &str, wait: Duration) -> Result<()> {
    let started = Instant::now();
    let mut pause = Duration::from_secs(1);
    loop {
        let spec = ClientSpec::new(&settings.client, "sts", Signer::LongTerm(keys), Retries::Never)?;
        match aws::sts::caller_identity(&spec)? {
            Ok(identity) if identity.arn == user_arn => return Ok(()),
            Ok(identity) => {
                return Err(Error::unexpected(format!(
                    "the new key {} signs as {}, not as {user_arn}",
                    key_tail(&keys.access_key_id),
                    identity.arn
                )));
            }
            Err(failure) => match failure {
                Failure::Service { code, .. } if code == "InvalidClientTokenId" && started.elapsed() < wait => {
                    ui::trace(&format!("the new key is not accepted yet; trying again in {} s", pause.as_secs()));
                    std::thread::sleep(pause.min(wait.saturating_sub(started.elapsed())));
                    pause = (pause * 2).min(Duration::from_secs(8));
                }
                Failure::Service { code, .. } if code == "InvalidClientTokenId" => {
                    return Err(Error::new(
                        Kind::Unreachable,
                        format!(
                            "AWS does not accept the new key {} yet, after {} s",
                            key_tail(&keys.access_key_id),
                            wait.as_secs()
                        ),
                    )
                    .hint(format!(
                        "the old key still works; run `awsmfa keys rotate {}` again later to finish",
                        settings.profile
                    )));
                }
                other => return Err(other.into_error("sts:GetCallerIdentity", &spec.describe_endpoint("sts"))),
            },
        }
    }
}

use aws::iam::AccessKey as ListedKey;

/// The IAM calls of a rotation, signed with its MFA session.
struct Iam {
    spec: ClientSpec,
    endpoint: String,
}

impl Iam {
    fn list(&self) -> Result<Vec<ListedKey>> {
        aws::iam::list_access_keys(&self.spec)?.map_err(|f| f.into_error("iam:ListAccessKeys", &self.endpoint))
    }

    fn create(&self) -> Result<(String, Secret)> {
        aws::iam::create_access_key(&self.spec)?.map_err(|f| f.into_error("iam:CreateAccessKey", &self.endpoint))
    }

    fn delete(&self, id: &str) -> Result<()> {
        match aws::iam::delete_access_key(&self.spec, id)? {
            Ok(()) => Ok(()),
            Err(Failure::Service { code, .. }) if code == "NoSuchEntity" => Ok(()),
            Err(other) => Err(other.into_error("iam:DeleteAccessKey", &self.endpoint)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A journal as every earlier awsmfa wrote it: read, and written again byte for byte, so
    /// a rotation killed by an older build resumes with this one (and the other way round).
    #[test]
    fn the_journal_on_disk_keeps_its_format() {
        let written = r#"{
  "profile": "work",
  "old_key_id": "AKIAIOSFODNN7EXAMPLE",
  "started": 1700000000,
  "step": "created",
  "before": [
    "AKIAIOSFODNN7EXAMPLE"
  ],
  "attempt": 1700000005,
  "new_key_id": "AKIAIOSFODNN7EXAMPLE2",
  "new_secret": "s3cr3t"
}"#;
        let journal: Journal = serde_json::from_str(written).unwrap();
        assert_eq!(journal.step, Step::Created);
        assert_eq!(serde_json::to_string_pretty(&journal).unwrap(), written);
        for (word, step) in [("creating", Step::Creating), ("created", Step::Created), ("swapped", Step::Swapped)] {
            assert_eq!(serde_json::to_string(&step).unwrap(), format!("\"{word}\""));
        }
    }

    /// A journal from before `attempt` was recorded still reads: no orphan is ever ours then.
    #[test]
    fn a_journal_without_an_attempt_reads_as_none_made() {
        let written = r#"{"profile":"work","old_key_id":"AKIAIOSFODNN7EXAMPLE","started":1,"step":"creating",
            "before":[],"new_key_id":null,"new_secret":null}"#;
        let journal: Journal = serde_json::from_str(written).unwrap();
        assert_eq!((journal.step, journal.attempt), (Step::Creating, 0));
    }
}
