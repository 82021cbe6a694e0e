//! Unix: modes, owners, `O_NOFOLLOW`/`O_NONBLOCK`, /dev/tty, execve, POSIX signals.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus};

use super::Stop;

/// Whether files have owners and permission bits that awsmfa checks.
pub const HAS_OWNERS: bool = true;

pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The owner of a file (None where files have no uid).
pub fn owner(meta: &Metadata) -> Option<u32> {
    Some(meta.uid())
}

/// The permission bits of a file (None where there are none).
pub fn mode(meta: &Metadata) -> Option<u32> {
    Some(meta.mode() & 0o7777)
}

/// Opens for reading without blocking on a FIFO, without passing the fd to children, and
/// (unless `follow`) never through a symlink.
pub fn open_read(path: &Path, follow: bool) -> io::Result<File> {
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | nofollow).open(path)
}

/// Whether an open failed because the path is a symlink we refused to follow (or a loop).
pub fn is_link_refused(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ELOOP)
}

/// `/dev/null` (the usual "no such file" idiom).
pub fn is_null_device(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && fs::metadata("/dev/null").is_ok_and(|n| n.rdev() == meta.rdev())
}

/// A new file, created exclusively (never through a link), mode exactly 0600 from its first
/// byte whatever the umask.
pub fn create_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// A lock file: created 0600 if missing, never through a symlink, never blocking.
pub fn open_lock(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Gives an open file `mode` (a no-op where there are no modes).
pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(fs::Permissions::from_mode(mode))
}

/// Gives `file` the owner and group of `old` if they differ; Err if that is not allowed.
pub fn keep_owner(file: &File, old: &Metadata) -> io::Result<()> {
    let now = file.metadata()?;
    if now.uid() == old.uid() && now.gid() == old.gid() {
        return Ok(());
    }
    use std::os::fd::AsRawFd;
    // SAFETY: fchown on a file descriptor we own; no memory is shared.
    if unsafe { libc::fchown(file.as_raw_fd(), old.uid(), old.gid()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Creates `dir` and its parents with `mode`.
pub fn create_dir(dir: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(mode).create(dir)
}

/// The controlling terminal, for reading and writing.
pub fn terminal() -> Option<(File, File)> {
    let tty = OpenOptions::new().read(true).write(true).open("/dev/tty").ok()?;
    let output = tty.try_clone().ok()?;
    Some((tty, output))
}

/// The controlling terminal, for writing only.
pub fn terminal_output() -> Option<File> {
    OpenOptions::new().write(true).open("/dev/tty").ok()
}

/// The core-file size limit the process started with: its children get it back.
static CORE_LIMIT: std::sync::OnceLock<libc::rlimit> = std::sync::OnceLock::new();

/// Keeps this process's memory (long-term keys, a session, the keystore passphrase, a TOTP
/// seed) out of core files: the soft RLIMIT_CORE goes to 0 for the whole run, first thing
/// in `main`, since a crash can come at any point (the hard limit stays, so a child can have
/// its own back: `for_child`). systemd-coredump and apport honour the limit too. Unlike
/// `make_undumpable` it costs nothing: debuggers, `strace` and /proc work as before.
pub fn forbid_core_files() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid resource and a pointer to a local struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } == 0 {
        let _ = CORE_LIMIT.set(limit);
        let none = libc::rlimit { rlim_cur: 0, rlim_max: limit.rlim_max };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) };
    }
}

/// On Linux, makes the process non-dumpable (PR_SET_DUMPABLE 0): no core even where a core
/// handler ignores RLIMIT_CORE, and no ptrace attach, /proc/PID/mem, environ or fd of it
/// for the user's other processes. Called only when a keystore is opened (the moment a
/// decrypted secret and the passphrase come into memory), not at start: it also stops an
/// unprivileged `strace` from reading the process's memory, and `scripts/bench-keys`
/// checks with strace that the cached path (which opens no keystore) opens no keystore
/// file. `execve` makes a child dumpable again. Elsewhere a no-op.
pub fn make_undumpable() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes no pointers and only changes this process.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Gives a command awsmfa starts (the user's, under `exec`; `mfa_process`) the core limit
/// the user had, not awsmfa's 0.
pub fn for_child(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let Some(limit) = CORE_LIMIT.get().copied() else { return };
    // SAFETY: the closure runs between fork and exec and calls only setrlimit, which is
    // async-signal-safe, on a copied struct.
    unsafe {
        command.pre_exec(move || {
            libc::setrlimit(libc::RLIMIT_CORE, &limit);
            Ok(())
        });
    }
}

/// The system's shell and its "run this line" flag, for `mfa_process`.
pub const SHELL: [&str; 2] = ["sh", "-c"];

/// Replaces this process with `command` (execve: its exit code and signals are the
/// command's). Returns only if that failed.
pub fn exec(command: &mut Command) -> io::Error {
    use std::os::unix::process::CommandExt;
    for_child(command);
    command.exec()
}

/// Whether a start failed because the file is not a program (ENOEXEC).
pub fn is_not_a_program(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ENOEXEC)
}

/// A child's exit code as a shell reports it (128 + the signal that killed it).
pub fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// The signals that ask awsmfa to stop, as a tokio stream. Must be made inside a runtime.
pub struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl StopSignals {
    pub fn watch() -> io::Result<StopSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) -> Stop {
        tokio::select! {
            _ = self.int.recv() => Stop::Interrupt,
            _ = self.term.recv() => Stop::Terminate(libc::SIGTERM),
            _ = self.hup.recv() => Stop::Terminate(libc::SIGHUP),
        }
    }

    /// The next Ctrl-C alone.
    pub async fn interrupt(&mut self) {
        self.int.recv().await;
    }
}

/// Passes a stop signal on to a child process.
pub fn forward(pid: u32, stop: Stop) {
    let sig = match stop {
        Stop::Interrupt => libc::SIGINT,
        Stop::Terminate(sig) => sig,
    };
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

/// Starts `command` in a process group of its own (setpgid), so that `kill_group` ends it
/// and everything it started, and a Ctrl-C at the terminal is not its to see.
pub fn spawn_group(command: &mut Command) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    command.process_group(0).spawn()
}

/// Kills (SIGKILL) the process group of a child started by `spawn_group`: the child and
/// whatever it left running. Call it before the child is reaped, while its pid still names
/// the group.
pub fn kill_group(child: &mut Child) {
    // SAFETY: kill(2) of the group our own unreaped child leads; a valid signal number.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    let _ = child.kill();
}
