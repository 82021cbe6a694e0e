//! Reading files that hold secrets or steer what awsmfa does, without trusting them blindly:
//! never hang on a FIFO, never read a device or a 2 GB file whole, and (for awsmfa's own
//! files) never through a symlink or from a file or directory someone else controls, as
//! ssh refuses a private key others could have written.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The most we read of `~/.aws/config` or `~/.aws/credentials`. A real one is a few KB (a
/// generated SSO config of 5,000 profiles, under 1 MiB). The SDK's parser, run on each file
/// and on both merged, costs 30 to 110 bytes of memory per byte (the most for a file of
/// nothing but tiny sections): this bound keeps any file under about 120 MB, where a 9 MB
/// one cost `status` 450 MB and `keys import` 1.4 GB (measured, debug build).
pub const AWS_FILE_LIMIT: u64 = 1 << 20;
/// The most we read of a CA bundle (PEM, parsed once: memory follows its size).
pub const CA_BUNDLE_LIMIT: u64 = 16 << 20;

/// A user's AWS file, read.
#[derive(Debug, Clone, Default)]
pub struct UserFile {
    pub text: String,
    /// Why commands named in it (`mfa_process`, `credential_process`) must not be run: it
    /// belongs to another user (not root), or others can write to it. None: safe to take
    /// commands from.
    pub untrusted: Option<String>,
}

use crate::platform::{self, euid};

/// Opens for reading without blocking on a FIFO and without passing the fd to children.
fn open_nonblocking(path: &Path, follow: bool) -> std::io::Result<File> {
    platform::open_read(path, follow)
}

/// Reads at most `limit` bytes; more is an error of the caller's choosing.
fn read_bounded(file: File, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

fn is_dev_null(meta: &fs::Metadata) -> bool {
    platform::is_null_device(meta)
}

/// Reads a user's file, `~/.aws/config` or `~/.aws/credentials` (`AWS_FILE_LIMIT`) or a CA
/// bundle (links followed, as every AWS tool does). Missing: None. `/dev/null` reads as
/// empty (the usual "no such file" idiom); any other non-regular file, a file over `limit`,
/// or one that is not UTF-8 is a configuration error.
pub fn user_file(path: &Path, limit: u64) -> Result<Option<UserFile>> {
    let file = match open_nonblocking(path, true) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if is_dev_null(&meta) {
        return Ok(Some(UserFile { text: String::new(), untrusted: None }));
    }
    if meta.is_dir() {
        return Err(Error::config(format!("cannot read {}: it is a directory", path.display()))
            .hint("name the file itself (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)"));
    }
    if !meta.is_file() {
        return Err(Error::config(format!("cannot read {}: it is not a regular file", path.display()))
            .hint("AWS files must be regular files; a FIFO or device cannot be read safely"));
    }
    // The size first (a huge file is refused unread), then a bounded read (a file that grows).
    let too_large = || {
        Error::config(format!(
            "{} is larger than {} MiB, more than any AWS file awsmfa reads",
            path.display(),
            limit >> 20
        ))
        .hint("check that it is the right file (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CA_BUNDLE name them)")
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let bytes = read_bounded(file, limit).map_err(|e| Error::io("read", path, e))?.ok_or_else(too_large)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::config(format!("{} is not UTF-8 text", path.display())).hint("save the file as UTF-8 (or plain ASCII)")
    })?;
    Ok(Some(UserFile { text, untrusted: distrust(path, &meta) }))
}

/// The one rule for files awsmfa takes commands from: ours (or root's), and writable by
/// nobody else; else why not.
fn distrust(path: &Path, meta: &fs::Metadata) -> Option<String> {
    if let Some(uid) = platform::owner(meta).filter(|uid| *uid != euid() && *uid != 0) {
        return Some(format!("{} belongs to uid {uid}, not to you (uid {})", path.display(), euid()));
    }
    platform::mode(meta)
        .filter(|mode| mode & 0o022 != 0)
        .map(|mode| format!("{} can be written by others (mode {mode:o})", path.display()))
}

/// What became of reading one of awsmfa's own private files.
#[derive(Debug, PartialEq, Eq)]
pub enum Private {
    Missing,
    /// Not usable, but ours to replace: a link, a FIFO, readable by others, too large.
    Unusable(String),
    Bytes(Vec<u8>),
}

/// Checks that `dir`, which holds awsmfa's private files, is a directory of ours that
/// nobody else can write to. A missing directory is fine (it is created 0700 when needed).
pub fn check_private_dir(dir: &Path) -> Result<()> {
    check_private_dir_for(
        dir,
        "",
        "use a directory of your own that only you can write to (the default is ~/.aws/awsmfa; AWSMFA_CACHE_DIR overrides)",
    )
}

/// `check_private_dir` for what `label` names ("the file keystore in "), whose way out `fix`
/// says. Never chmods the directory: a shared one is not ours to change. A sticky one (/tmp)
/// is refused too, as ssh does: others can still make names in it beside ours.
pub fn check_private_dir_for(dir: &Path, label: &str, fix: &str) -> Result<()> {
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("inspect", dir, e)),
    };
    if !meta.is_dir() {
        return Err(Error::config(format!("{} is not a directory", dir.display())).hint(fix));
    }
    if let Some(uid) = platform::owner(&meta).filter(|uid| *uid != euid()) {
        return Err(Error::config(format!(
            "refusing to use {label}{}: it belongs to uid {uid}, not to you (uid {})",
            dir.display(),
            euid()
        ))
        .hint(fix));
    }
    if let Some(mode) = platform::mode(&meta).filter(|mode| mode & 0o022 != 0) {
        let message = format!("refusing to use {label}{}: others can write to it (mode {mode:o})", dir.display());
        // A sticky directory is shared on purpose (/tmp): closing it is not the way out.
        let hint =
            if mode & 0o1000 != 0 { fix.to_string() } else { format!("run `chmod go-w {}`, or {fix}", dir.display()) };
        return Err(Error::config(message).hint(hint));
    }
    Ok(())
}

/// Why one of awsmfa's own files cannot be used as it is.
#[derive(Debug)]
enum Flaw {
    Link,
    /// "readable" or "writable" by group or others.
    Exposed(&'static str),
    TooLarge(u64),
}

impl Flaw {
    fn what(&self) -> String {
        match self {
            Flaw::Link => "it is a symlink".into(),
            Flaw::Exposed(how) => format!("it is {how} by group or others"),
            Flaw::TooLarge(limit) => format!("it is larger than {limit} bytes"),
        }
    }
}

/// What a file costs if it goes: a session is made again at the next login, while keys (the
/// file keystore, a rotation journal's new secret) may exist nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Session,
    Keys,
}

/// Opens and checks one of awsmfa's own files: Ok(None) when missing, Ok(Some(Err)) when
/// flawed in a way its owner may repair, an error when it is not ours at all.
fn read_private(
    label: &str,
    path: &Path,
    limit: u64,
    holds: Holds,
) -> Result<Option<std::result::Result<Vec<u8>, Flaw>>> {
    let shown = format!("{label} {}", path.display());
    let word = crate::error::shell_word(path);
    let file = match open_nonblocking(path, false) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if platform::is_link_refused(&e) => return Ok(Some(Err(Flaw::Link))),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if let Some(uid) = platform::owner(&meta).filter(|uid| *uid != euid()) {
        let me = euid();
        let error = Error::config(format!("refusing to read {shown}: it belongs to uid {uid}, not to you (uid {me})"));
        return Err(match holds {
            Holds::Session => error.hint(format!(
                "delete it (`rm {word}`): awsmfa only trusts files it wrote itself, and the next login makes it again"
            )),
            Holds::Keys => error.hint(format!(
                "do not delete it: it may hold the only copy of a key; find out how uid {uid} came to own it (`ls -ln {word}`), and if the keys in it are yours, take it back (`sudo chown {me} {word}`)"
            )),
        });
    }
    // A directory, FIFO or device is the user's, not ours to replace (`atomic::write`
    // refuses to), so it stops the run, before any code is spent.
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "a FIFO, socket or device" };
        return Err(Error::config(format!("refusing to use {shown}: it is {what}, not a regular file")).hint(format!(
            "move it out of the way (`mv {word} {word}.moved`): awsmfa keeps a regular file of its own there"
        )));
    }
    if let Some(mode) = platform::mode(&meta).filter(|mode| mode & 0o077 != 0) {
        return Ok(Some(Err(Flaw::Exposed(if mode & 0o044 != 0 { "readable" } else { "writable" }))));
    }
    Ok(Some(read_bounded(file, limit).map_err(|e| Error::io("read", path, e))?.ok_or(Flaw::TooLarge(limit))))
}

/// Reads one of awsmfa's own files that it can make again (a cached session, the record of
/// spent codes), `limit` bytes at most. A flawed one is `Unusable`, to be replaced; one that
/// belongs to someone else is refused with an error: its contents may be theirs to choose.
pub fn private_file(label: &str, path: &Path, limit: u64) -> Result<Private> {
    Ok(match read_private(label, path, limit, Holds::Session)? {
        None => Private::Missing,
        Some(Ok(bytes)) => Private::Bytes(bytes),
        Some(Err(flaw)) => {
            Private::Unusable(format!("ignoring {label} {}: {} (it will be replaced)", path.display(), flaw.what()))
        }
    })
}

/// Reads one of awsmfa's own files that may hold the only copy of a key (the file keystore,
/// a rotation journal), `limit` bytes at most: None when missing. Anything amiss is refused
/// with a hint that repairs the file where it is, never one that deletes it.
pub fn key_file(label: &str, path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    let flaw = match read_private(label, path, limit, Holds::Keys)? {
        None => return Ok(None),
        Some(Ok(bytes)) => return Ok(Some(bytes)),
        Some(Err(flaw)) => flaw,
    };
    let word = crate::error::shell_word(path);
    let hint = match &flaw {
        // chmod would change the link's target, and the target is not where awsmfa looks.
        Flaw::Link => match fs::read_link(path) {
            Ok(target) => {
                let target = crate::error::shell_word(&target);
                format!(
                    "awsmfa never reads keys through a symlink: if {target} is yours, put it in the link's place (`mv {target} {word}`)"
                )
            }
            Err(_) => "awsmfa never reads keys through a symlink: put the file itself in its place".into(),
        },
        Flaw::Exposed(_) => format!("it may hold a secret key: make it yours alone (`chmod 600 {word}`)"),
        Flaw::TooLarge(_) => {
            format!("awsmfa never wrote a file this large: move it aside (`mv {word} {word}.moved`) and look at it")
        }
    };
    Err(Error::config(format!("refusing to use {label} {}: {}", path.display(), flaw.what())).hint(hint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn user_files_missing_or_dev_null_read_as_nothing() {
        assert!(user_file(Path::new("/nonexistent/awsmfa/config"), AWS_FILE_LIMIT).unwrap().is_none());
        assert_eq!(user_file(Path::new("/dev/null"), AWS_FILE_LIMIT).unwrap().unwrap().text, "");
    }

    #[test]
    fn a_fifo_a_device_or_a_directory_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config");
        mkfifo(&fifo);
        for path in [fifo.as_path(), Path::new("/dev/zero"), dir.path()] {
            let err = user_file(path, AWS_FILE_LIMIT).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{}", err.message);
        }
        for path in [fifo.as_path(), dir.path()] {
            let err = private_file("f", path, 10).unwrap_err();
            assert_eq!(err.exit_code(), 3, "{}", err.message);
            assert!(err.message.contains("not a regular file"), "{}", err.message);
        }
    }

    #[test]
    fn non_utf8_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, b"[default]\nregion = \xff\n").unwrap();
        let err = user_file(&path, AWS_FILE_LIMIT).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.contains("UTF-8"), "{}", err.message);
    }

    #[test]
    fn private_files_are_never_read_through_links_or_when_exposed_or_huge() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, "{}").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(private_file("f", &real, 10).unwrap(), Private::Bytes(b"{}".to_vec()));
        let link = dir.path().join("link");
        symlink(&real, &link).unwrap();
        assert!(matches!(private_file("f", &link, 10).unwrap(), Private::Unusable(m) if m.contains("symlink")));
        assert!(matches!(private_file("f", &real, 1).unwrap(), Private::Unusable(m) if m.contains("larger")));
        fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            matches!(private_file("f", &real, 10).unwrap(), Private::Unusable(m) if m.contains("readable by group or others"))
        );
    }

    #[test]
    fn a_flawed_key_file_gets_the_hint_that_repairs_it_and_never_one_that_deletes_it() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("my keys.age");
        fs::write(&real, "age").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(key_file("the file keystore", &real, 10).unwrap(), Some(b"age".to_vec()));
        let link = dir.path().join("journal");
        symlink(&real, &link).unwrap();
        let err = key_file("the rotation journal", &link, 10).unwrap_err();
        let hint = err.hint.unwrap();
        assert!(!hint.contains("chmod"), "chmod would change the target, not the link: {hint}");
        assert!(hint.contains(&format!("mv '{}' {}", real.display(), link.display())), "{hint}");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o644)).unwrap();
        let err = key_file("the file keystore", &real, 10).unwrap_err();
        assert!(err.message.contains("readable by group or others"), "{}", err.message);
        assert!(err.hint.unwrap().contains(&format!("chmod 600 '{}'", real.display())));
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let err = key_file("the file keystore", &real, 1).unwrap_err();
        assert!(!err.hint.unwrap().contains("rm "));
    }

    #[test]
    fn another_users_file_is_never_to_be_deleted_when_it_may_hold_keys() {
        if unsafe { libc::geteuid() } != 0 {
            return; // needs root to make a file of another user
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.age");
        fs::write(&path, "age").unwrap();
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        let hint = key_file("the file keystore", &path, 10).unwrap_err().hint.unwrap();
        assert!(!hint.contains("rm "), "{hint}");
        assert!(
            hint.contains("do not delete it") && hint.contains(&format!("sudo chown 0 {}", path.display())),
            "{hint}"
        );
        // A cache can be made again: delete that one, by its path alone (never `rm the file ...`).
        let hint = private_file("cache file", &path, 10).unwrap_err().hint.unwrap();
        assert!(hint.contains(&format!("(`rm {}`)", path.display())), "{hint}");
    }

    #[test]
    fn a_directory_others_can_write_to_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        check_private_dir(dir.path()).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        let err = check_private_dir(dir.path()).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.contains("others can write"), "{}", err.message);
        check_private_dir(&dir.path().join("missing")).unwrap();
    }
}
