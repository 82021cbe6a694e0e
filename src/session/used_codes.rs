//! The record of MFA codes already sent to AWS, per device. A TOTP code is single-use: sent
//! twice, AWS refuses it (and a refused retry looks like a wrong code). So every code is
//! recorded before it is sent, and a code seen again within its lifetime is refused locally.
//! A code AWS refused is taken off the record again (`release`): it was never spent, and
//! the same wrong code typed twice is wrong twice, not "already used".

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cache::short_hash;

use crate::error::Result;
use crate::files::atomic::{self, Links};
use crate::files::lock;
use crate::files::read::{self, Private};
use crate::mfa::totp;

/// A record holds a handful of hashes; anything much larger is not ours.
const RECORD_LIMIT: u64 = 64 << 10;

/// AWS accepts a code one step either side of its own: a code lives at most three steps.
const LIFETIME_SECONDS: u64 = 3 * totp::STEP_SECONDS;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    /// (hash of the code, Unix time it was sent)
    sent: Vec<(String, u64)>,
}

#[derive(Debug)]
pub struct UsedCodes {
    path: PathBuf,
    serial: String,
    record: Record,
}

impl UsedCodes {
    pub fn load(cache_dir: &Path, serial: &str) -> Result<Self> {
        read::check_private_dir(cache_dir)?;
        let path = cache_dir.join(format!("used-codes-{}.json", short_hash(serial)));
        let record = read_record(&path)?.unwrap_or_default();
        Ok(UsedCodes { path, serial: serial.to_string(), record })
    }

    fn code_hash(&self, code: &str) -> String {
        short_hash(&format!("{}\n{}", self.serial, code))
    }

    /// If `code` was already sent and may still be the device's current code, the number of
    /// seconds until the device shows a new one.
    pub fn wait_before_reuse(&self, code: &str, now: u64) -> Option<u64> {
        let hash = self.code_hash(code);
        self.record
            .sent
            .iter()
            .filter(|(h, at)| *h == hash && now < at + LIFETIME_SECONDS)
            .map(|_| totp::seconds_to_next_step(now))
            .next()
    }

    /// Claims `code` for sending at `now`: None when it was free (it is now recorded as
    /// sent), else the seconds until the device shows a new one. Checking and recording
    /// happen under one lock, so two processes can never both claim the same code.
    pub fn claim(&mut self, code: &str, now: u64) -> Result<Option<u64>> {
        if let Some(dir) = self.path.parent() {
            atomic::ensure_dir(dir, 0o700)?;
            read::check_private_dir(dir)?;
        }
        let _lock = lock::acquire(&self.path.with_extension("lock"), lock::wait(), || {})?;
        if let Some(fresh) = read_record(&self.path)? {
            self.record = fresh;
        }
        if let Some(wait) = self.wait_before_reuse(code, now) {
            return Ok(Some(wait));
        }
        self.record(code, now)?;
        Ok(None)
    }

    /// Takes back the claim on `code` made at `at`: AWS refused it, so it was not spent.
    /// Only that one claim goes (another process's claim of the same code stays).
    pub fn release(&mut self, code: &str, at: u64) -> Result<()> {
        let _lock = lock::acquire(&self.path.with_extension("lock"), lock::wait(), || {})?;
        if let Some(fresh) = read_record(&self.path)? {
            self.record = fresh;
        }
        let hash = self.code_hash(code);
        let Some(index) = self.record.sent.iter().position(|(h, t)| *h == hash && *t == at) else {
            return Ok(());
        };
        self.record.sent.remove(index);
        self.write()
    }

    /// Records `code` as sent at `now`; forgets codes too old to matter.
    fn record(&mut self, code: &str, now: u64) -> Result<()> {
        let hash = self.code_hash(code);
        self.record.sent.retain(|(_, at)| now < at + LIFETIME_SECONDS);
        self.record.sent.push((hash, now));
        self.write()
    }

    fn write(&self) -> Result<()> {
        let json = serde_json::to_vec(&self.record).expect("records always serialize");
        atomic::write(&self.path, &json, 0o600, Links::Replace)
    }
}

/// The record on disk: None when missing or unusable (it is rewritten at the next claim);
/// an error when it belongs to someone else.
fn read_record(path: &Path) -> Result<Option<Record>> {
    Ok(match read::private_file("used-codes file", path, RECORD_LIMIT)? {
        Private::Bytes(bytes) => serde_json::from_slice(&bytes).ok(),
        Private::Missing | Private::Unusable(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_code_is_refused_until_it_has_expired() {
        let dir = tempfile::tempdir().unwrap();
        let mut used = UsedCodes::load(dir.path(), "arn:mfa").unwrap();
        assert_eq!(used.claim("123456", 1000).unwrap(), None);
        assert_eq!(
            used.claim("123456", 1001).unwrap(),
            Some(19),
            "claimed once only: 1001 s is 19 s before the next step"
        );
        let reloaded = UsedCodes::load(dir.path(), "arn:mfa").unwrap();
        assert_eq!(reloaded.wait_before_reuse("123456", 1005), Some(15), "1005 s is 15 s before the next step");
        assert_eq!(reloaded.wait_before_reuse("654321", 1005), None);
        assert_eq!(reloaded.wait_before_reuse("123456", 1000 + 90), None);
        let other_device = UsedCodes::load(dir.path(), "arn:other").unwrap();
        assert_eq!(other_device.wait_before_reuse("123456", 1005), None);
    }

    #[test]
    fn a_released_code_is_free_again_and_only_that_claim_goes() {
        let dir = tempfile::tempdir().unwrap();
        let mut used = UsedCodes::load(dir.path(), "arn:mfa").unwrap();
        assert_eq!(used.claim("123456", 1000).unwrap(), None);
        used.release("123456", 1000).unwrap();
        let mut reloaded = UsedCodes::load(dir.path(), "arn:mfa").unwrap();
        assert_eq!(reloaded.wait_before_reuse("123456", 1001), None, "refused by AWS: not spent");
        assert_eq!(reloaded.claim("123456", 1002).unwrap(), None, "claimed again");
        used.release("123456", 1000).unwrap();
        let reloaded = UsedCodes::load(dir.path(), "arn:mfa").unwrap();
        assert_eq!(reloaded.wait_before_reuse("123456", 1003), Some(17), "the later claim stays");
    }

    #[test]
    fn of_many_processes_claiming_one_code_exactly_one_gets_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let winners: usize = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    UsedCodes::load(&path, "arn:mfa").unwrap().claim("123456", 1000).unwrap().is_none()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap() as usize)
            .sum();
        assert_eq!(winners, 1);
    }
}
