//! Files awsmfa reads and writes: the AWS INI files (format-preserving edits), atomic
//! writes of secret-holding files (0600, temp + fsync + rename), and advisory locks.

pub mod atomic;
pub mod ini;
pub mod lock;

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// Rewrites the INI file at `path` with `edit` (old text → new text, or None for "no
/// change"), under a lock so that two awsmfa processes cannot lose each other's update.
/// The file keeps its permission bits; a new file is created 0600. Returns whether it changed.
pub fn edit_ini(path: &Path, lock_dir: &Path, edit: impl FnOnce(&str) -> Option<String>) -> Result<bool> {
    atomic::ensure_dir(lock_dir, 0o700)?;
    let _lock = lock::acquire(&lock::path_for(lock_dir, path), Duration::from_secs(30), || {})?;
    let old = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let Some(new) = edit(&old) else { return Ok(false) };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        atomic::ensure_dir(dir, 0o700)?;
    }
    let mode = atomic::mode_of(path).unwrap_or(0o600);
    atomic::write(path, new.as_bytes(), mode)?;
    Ok(true)
}
