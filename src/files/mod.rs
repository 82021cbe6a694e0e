//! Files awsmfa reads and writes. This module is the one owner of every read of a
//! secret-holding file (`read`: regular, ours, private, bounded), every write of a user or
//! cache file (`atomic`: temp 0600 O_EXCL O_NOFOLLOW, fsync, owner and mode kept, rename),
//! the locks that serialise writers (`lock`, beside the file they guard), and the
//! format-preserving edits of the AWS INI files (`ini`). Nothing else opens those files.

pub mod atomic;
pub mod ini;
pub mod lock;
pub mod read;

use std::path::Path;

use crate::error::Result;

/// Refuses a section of `path` that sets a long-term key twice: the AWS tools use the last
/// line, and an edit that moves or replaces "the" key cannot tell which pair is meant (one
/// would be lost without ever having been stored).
pub fn check_one_key_pair(path: &Path, text: &str, section: &str) -> Result<()> {
    for key in ["aws_access_key_id", "aws_secret_access_key"] {
        let lines = ini::key_lines(text, section, key);
        if lines > 1 {
            return Err(crate::error::Error::config(format!(
                "[{section}] of {} sets {key} {lines} times: awsmfa cannot tell which key is meant",
                path.display()
            ))
            .hint(format!("keep one key pair in [{section}] (the AWS tools use the last one), move any other into a profile of its own, then run again")));
        }
    }
    Ok(())
}

/// Rewrites the user's INI file at `path` with `edit` (old text → new text, or None for
/// "no change", or an error that leaves the file alone), under the lock beside the file, so
/// that no two writers lose each other's update, whatever their cache directories. A
/// symlinked file is updated where it lives; the file keeps its mode and owner; a new file
/// is created 0600. Returns whether it changed.
pub fn edit_ini(path: &Path, edit: impl FnOnce(&str) -> Result<Option<String>>) -> Result<bool> {
    let target = atomic::target_of(path, atomic::Links::Follow);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        atomic::ensure_dir(dir, 0o700)?;
    }
    let _lock = lock::acquire(&lock::beside(&target), lock::wait(), || {})?;
    let old = read::user_file(path, read::AWS_FILE_LIMIT)?.map(|f| f.text).unwrap_or_default();
    let Some(new) = edit(&old)? else { return Ok(false) };
    atomic::write(path, new.as_bytes(), 0o600, atomic::Links::Follow)?;
    Ok(true)
}
