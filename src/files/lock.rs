//! Advisory file locks (flock) with a bounded wait, so that N processes that need the same
//! session make one STS call between them, and two writers of one file never interleave.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long any lock is waited for: AWSMFA_LOCK_TIMEOUT once the settings are resolved
/// (`set_wait`), the same for every lock awsmfa takes.
static WAIT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// The default when nothing set it (awsmfa's own default of AWSMFA_LOCK_TIMEOUT).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(300);

/// Sets the wait of every lock of this run (the first setting wins).
pub fn set_wait(wait: Duration) {
    let _ = WAIT.set(wait);
}

/// The wait of every lock of this run.
pub fn wait() -> Duration {
    WAIT.get().copied().unwrap_or(DEFAULT_WAIT)
}

/// Held while alive; the lock is released when the file is closed (on drop, or at exit).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// Takes the exclusive lock on `path` (created 0600 if missing, never through a symlink),
/// waiting at most `timeout`. `on_wait` is called once if the lock is not free at first, to
/// tell the user why we pause.
pub fn acquire(path: &Path, timeout: Duration, on_wait: impl FnOnce()) -> Result<FileLock> {
    let file = crate::platform::open_lock(path).map_err(|e| Error::io("open lock file", path, e))?;
    if !file.metadata().map_err(|e| Error::io("open lock file", path, e))?.is_file() {
        return Err(Error::config(format!("{} is not a regular file", path.display()))
            .hint("delete it: awsmfa recreates its lock files"));
    }
    let started = Instant::now();
    let mut on_wait = Some(on_wait);
    // Short polls first, so a waiter sees a quick holder's result at once; longer ones
    // later, so a holder waiting on a person's code costs the waiters nothing.
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FileLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if let Some(f) = on_wait.take() {
                    f();
                }
                if started.elapsed() >= timeout {
                    return Err(timed_out(path, timeout));
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(16));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
    }
}

fn timed_out(path: &Path, timeout: Duration) -> Error {
    Error::unexpected(format!(
        "gave up after {}s waiting for another awsmfa to finish (lock {})",
        timeout.as_secs(),
        path.display()
    ))
    .hint("if no other awsmfa is running, retry; raise the wait with AWSMFA_LOCK_TIMEOUT=SECONDS")
}

/// The lock file beside `target` that serialises one kind of work on it (`purpose`), apart
/// from the lock of its writers: `.credentials.awsmfa-rotate-work.lock`.
pub fn beside_for(target: &Path, purpose: &str) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.awsmfa-{purpose}.lock"))
}

/// The lock file that guards `target` (e.g. `~/.aws/credentials`, links already followed):
/// beside it, so every writer of that file takes the same lock whatever its cache directory.
pub fn beside(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    target.with_file_name(format!(".{name}.awsmfa-lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_then_gives_up_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let _held = acquire(&path, Duration::from_secs(1), || {}).unwrap();
        let mut told = false;
        let err = acquire(&path, Duration::from_millis(100), || told = true).unwrap_err();
        assert!(told, "the user is told why we wait");
        assert!(err.message.contains("gave up"), "{}", err.message);
    }

    #[test]
    fn the_lock_is_free_again_after_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        drop(acquire(&path, Duration::from_secs(1), || {}).unwrap());
        acquire(&path, Duration::from_millis(10), || panic!("should not wait")).unwrap();
    }
}
