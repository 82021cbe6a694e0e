//! Atomic, private writes: a temp file in the target's directory with an unpredictable name
//! (O_EXCL, O_NOFOLLOW, 0600 from its first byte), fsynced, given the target's owner and
//! mode, renamed over the target, and the directory fsynced. A reader sees the old file or
//! the new one, never half of either; a crash leaves at most a private temp file, which a
//! later write removes.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::platform;

/// What to do when the path to write is a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// A user's file (`~/.aws/credentials`): a symlink is followed, so the file is updated
    /// where it really lives, and the link stays a link.
    Follow,
    /// One of awsmfa's own files (cache, used codes): never followed; a link planted in
    /// its place is replaced by the new file, and its target is never touched.
    Replace,
}

/// A temp file older than this is a leftover of a killed writer (a write takes milliseconds).
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Creates `dir` (and parents) with `mode` if missing. An existing directory is left as it
/// is: awsmfa never changes the mode of a directory it did not create.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::config(format!("{} is not a directory", dir.display()))
            .hint("move that file away, or point awsmfa at another directory")),
        Err(_) => platform::create_dir(dir, mode).map_err(|e| Error::io("create directory", dir, e)),
    }
}

/// Where a write of `path` really lands: the path itself, or with `Links::Follow` the file
/// its symlinks lead to (a dangling link: the place it points at).
pub fn target_of(path: &Path, links: Links) -> PathBuf {
    if links == Links::Replace {
        return path.to_path_buf();
    }
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    // A dangling link (or a chain of them): follow by hand, a bounded number of times.
    let mut current = path.to_path_buf();
    for _ in 0..32 {
        match fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(parent) if next.is_relative() => parent.join(next),
                    _ => next,
                }
            }
            Err(_) => break,
        }
    }
    current
}

/// Refuses to replace anything but a regular file: a device (`/dev/null`), a FIFO or a
/// directory in the target's place is the user's, not ours to turn into a file.
fn check_replaceable(target: &Path, shown: &Path, links: Links) -> Result<Option<fs::Metadata>> {
    let meta = match fs::symlink_metadata(target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("inspect", shown, e)),
    };
    let kind = meta.file_type();
    if kind.is_file() || (kind.is_symlink() && links == Links::Replace) {
        return Ok(Some(meta).filter(|m| m.is_file()));
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symlink that leads nowhere usable"
    } else {
        "a device, FIFO or socket"
    };
    let word = crate::error::shell_word(shown);
    Err(Error::config(format!("refusing to write {}: it is {what}, not a regular file", shown.display())).hint(
        format!("move it out of the way (`mv {word} {word}.moved`), or point awsmfa at another path (for the AWS files: AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)"),
    ))
}

/// Checks, before any work that cannot be undone (an MFA code spent), that `path` can be
/// written: nothing but a regular file (or nothing) in its place, in an existing directory
/// unless `create_dir`.
pub fn check_writable(path: &Path, links: Links, create_dir: bool) -> Result<()> {
    let target = target_of(path, links);
    check_replaceable(&target, path, links)?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Err(_) if create_dir => Ok(()),
        _ => Err(Error::config(format!("cannot write {}: {} is not a directory", path.display(), dir.display()))
            .hint("create the directory first, or choose another path")),
    }
}

/// A file the user names for secrets (`--backup`, `--seed-out`), claimed before any work
/// that cannot be undone: created at once, exclusively (O_EXCL, never through a link), 0600
/// and empty. A file made at that path by anyone after this check cannot exist, so none is
/// ever overwritten; the secret goes into this very file later. Removed again, if still
/// empty, when dropped unfinished.
pub struct NewFile {
    file: File,
    path: PathBuf,
    finished: bool,
}

impl NewFile {
    pub fn create(path: &Path) -> Result<NewFile> {
        match platform::create_private(path) {
            Ok(file) => Ok(NewFile { file, path: path.to_path_buf(), finished: false }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists || platform::is_link_refused(&e) => {
                Err(Error::config(format!("{} already exists", path.display()))
                    .hint("name a file that does not exist yet (awsmfa never overwrites one with secrets)"))
            }
            Err(e) => Err(Error::io("create", path, e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` and syncs them: the file is the user's from now on.
    pub fn finish(mut self, bytes: &[u8]) -> Result<()> {
        self.file.write_all(bytes).map_err(|e| Error::io("write", &self.path, e))?;
        self.file.sync_all().map_err(|e| Error::io("sync", &self.path, e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        let ours_and_empty = self.file.metadata().is_ok_and(|m| m.len() == 0)
            && fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_file() && m.len() == 0);
        if !self.finished && ours_and_empty {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Checks that `path` may become a private file of awsmfa's at the user's request
/// (`login --save-json`): nothing there yet, or a regular file of ours. A symlink is refused,
/// never followed (in a shared directory such as /tmp it may be another user's trap, leading
/// to a file they can read), and so is a file of another user. The write that follows uses
/// `Links::Replace`, so a link planted after this check is replaced, never followed.
pub fn check_own(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("inspect", path, e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Error::config(format!(
                "refusing to write {}: it is a symlink, and awsmfa never writes secrets through a link",
                path.display()
            ))
            .hint("name the file itself, or a path where nothing exists yet"));
        }
        Ok(meta) => {
            if let Some(uid) = platform::owner(&meta).filter(|uid| meta.is_file() && *uid != platform::euid()) {
                return Err(Error::config(format!(
                    "refusing to write {}: it belongs to uid {uid}, not to you (uid {})",
                    path.display(),
                    platform::euid()
                ))
                .hint("choose a path of your own (a file another user made may be theirs to read)"));
            }
        }
    }
    check_writable(path, Links::Replace, false)
}

/// Writes `bytes` to `path` atomically. A new file, or one of ours (`Links::Replace`), gets
/// `mode`; an existing user's file keeps its mode, owner and group.
pub fn write(path: &Path, bytes: &[u8], mode: u32, links: Links) -> Result<()> {
    let target = target_of(path, links);
    // A user's file keeps its owner and mode; one of ours is always made anew, private.
    let existing = check_replaceable(&target, path, links)?.filter(|_| links == Links::Follow);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (mut file, temp) = create_temp(&dir, &name)?;
    let result = (|| {
        if let Some(meta) = &existing {
            keep_owner(&file, meta, path)?;
        }
        file.write_all(bytes).map_err(|e| Error::io("write", &temp, e))?;
        file.sync_all().map_err(|e| Error::io("sync", &temp, e))?;
        fs::rename(&temp, &target).map_err(|e| Error::io("replace", path, e))?;
        // Widened to the old file's mode only now, under its final name: a writer killed at
        // any moment leaves its temp file 0600 (at worst the user's file stays 0600 too).
        let final_mode = existing.as_ref().and_then(platform::mode).unwrap_or(mode);
        if final_mode != 0o600 {
            platform::set_mode(&file, final_mode).map_err(|e| Error::io("set permissions on", path, e))?;
        }
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    remove_stale_temps(&dir, &name);
    result
}

/// The temp file beside `name`: `.NAME.awsmfa-RANDOM.tmp`, created exclusively (never
/// through a link), readable by us alone from its first byte whatever the umask says.
fn create_temp(dir: &Path, name: &str) -> Result<(File, PathBuf)> {
    for _ in 0..8 {
        let temp = dir.join(format!(".{name}.awsmfa-{}.tmp", random_hex()));
        match platform::create_private(&temp) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io("create a file in", dir, e)),
        }
    }
    Err(Error::unexpected(format!("cannot create a temp file in {}", dir.display())))
}

/// A user's file rewritten by root (or by a member of its group) stays the user's.
fn keep_owner(file: &File, old: &fs::Metadata, shown: &Path) -> Result<()> {
    platform::keep_owner(file, old).map_err(|err| {
        Error::config(format!(
            "cannot keep the owner (uid {}) of {}: {}",
            platform::owner(old).unwrap_or(0),
            shown.display(),
            crate::error::io_reason(&err)
        ))
        .hint("run awsmfa as the file's owner")
    })
}

/// Removes temp files of `name` that a killed writer left behind.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}.awsmfa-");
    let Ok(entries) = fs::read_dir(dir) else { return };
    let me = platform::euid();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !(file_name.starts_with(&prefix) && file_name.ends_with(".tmp")) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().ok().and_then(|t| SystemTime::now().duration_since(t).ok()).unwrap_or_default();
        if meta.is_file() && platform::owner(&meta).is_none_or(|uid| uid == me) && old > STALE_AFTER {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// 16 hex digits from the OS's random source: a temp name nobody can predict.
fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    if !platform::random_bytes(&mut bytes) {
        // No getrandom (very old kernels): the clock and pid still make a collision unlikely,
        // and O_EXCL makes one harmless.
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
        bytes = ((nanos as u64) ^ ((std::process::id() as u64) << 32)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The permission bits of an existing file, if it exists.
pub fn mode_of(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().as_ref().and_then(platform::mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn writes_are_private_and_replace_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        write(&path, b"one", 0o600, Links::Replace).unwrap();
        write(&path, b"two", 0o600, Links::Replace).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(mode_of(&path), Some(0o600));
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file is left behind");
    }

    #[test]
    fn a_symlinked_user_file_is_updated_where_it_lives() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        let link = dir.path().join("link");
        fs::write(&real, "old").unwrap();
        symlink(&real, &link).unwrap();
        write(&link, b"new", 0o600, Links::Follow).unwrap();
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    #[test]
    fn a_link_planted_in_place_of_our_file_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        let ours = dir.path().join("session.json");
        fs::write(&victim, "precious").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        symlink(&victim, &ours).unwrap();
        write(&ours, b"session", 0o600, Links::Replace).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(mode_of(&victim), Some(0o644), "the link's target is never chmod-ed");
        assert!(fs::symlink_metadata(&ours).unwrap().is_file());
    }

    #[test]
    fn a_file_of_ours_to_be_may_be_new_or_ours_never_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        check_own(&path).unwrap();
        fs::write(&path, "old").unwrap();
        check_own(&path).unwrap();
        let link = dir.path().join("link.json");
        symlink(&path, &link).unwrap();
        let err = check_own(&link).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.contains("symlink"), "{}", err.message);
        let err = check_own(dir.path()).unwrap_err();
        assert!(err.message.contains("not a regular file"), "{}", err.message);
    }

    #[test]
    fn the_mode_of_an_existing_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        fs::write(&path, "x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, b"y", 0o600, Links::Follow).unwrap();
        assert_eq!(mode_of(&path), Some(0o640));
    }

    #[test]
    fn devices_fifos_and_directories_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for path in [Path::new("/dev/null"), fifo.as_path(), dir.path()] {
            let err = write(path, b"x", 0o600, Links::Follow).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{}", err.message);
            assert!(err.message.contains("not a regular file"), "{}", err.message);
        }
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    }

    #[test]
    fn stale_temp_files_of_a_killed_writer_are_removed_and_do_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        let stale = dir.path().join(format!(".credentials.awsmfa-{}.tmp", std::process::id()));
        fs::write(&stale, "secret").unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        File::options().write(true).open(&stale).unwrap().set_modified(old).unwrap();
        let fresh = dir.path().join(".credentials.awsmfa-0123456789abcdef.tmp");
        fs::write(&fresh, "in flight").unwrap();
        write(&path, b"new", 0o600, Links::Follow).unwrap();
        assert!(!stale.exists(), "a leftover older than a minute is removed");
        assert!(fresh.exists(), "a temp file of a writer at work is left alone");
    }
}
