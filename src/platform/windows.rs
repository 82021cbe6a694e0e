//! Windows: no uid and no mode bits (awsmfa's files live under the user profile, whose ACL
//! gives the user alone access: awsmfa relies on it and sets no ACL of its own), the console
//! (`CONIN$`, `CONOUT$`), no exec (spawn, wait, exit with the child's code), console control
//! events instead of signals.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};

use super::Stop;

/// Whether files have owners and permission bits that awsmfa checks.
pub const HAS_OWNERS: bool = false;

/// ERROR_CANT_RESOLVE_FILENAME: what a refused symlink reports here.
const LINK_REFUSED: i32 = 1921;
/// ERROR_BAD_EXE_FORMAT.
const BAD_EXE_FORMAT: i32 = 193;

pub fn euid() -> u32 {
    0
}

pub fn owner(_meta: &Metadata) -> Option<u32> {
    None
}

pub fn mode(_meta: &Metadata) -> Option<u32> {
    None
}

/// Opens for reading; unless `follow`, a symlink (or junction) is refused.
pub fn open_read(path: &Path, follow: bool) -> io::Result<File> {
    if !follow && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::from_raw_os_error(LINK_REFUSED));
    }
    OpenOptions::new().read(true).open(path)
}

pub fn is_link_refused(err: &io::Error) -> bool {
    err.raw_os_error() == Some(LINK_REFUSED)
}

/// `NUL` is not a file in the file system: never seen through metadata.
pub fn is_null_device(_meta: &Metadata) -> bool {
    false
}

/// A new file, created exclusively: an existing file or link of that name is an error.
pub fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

pub fn open_lock(path: &Path) -> io::Result<File> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::from_raw_os_error(LINK_REFUSED));
    }
    OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)
}

pub fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

pub fn keep_owner(_file: &File, _old: &Metadata) -> io::Result<()> {
    Ok(())
}

pub fn create_dir(dir: &Path, _mode: u32) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// The console, for reading (`CONIN$`) and writing (`CONOUT$`).
pub fn terminal() -> Option<(File, File)> {
    let input = OpenOptions::new().read(true).write(true).open("CONIN$").ok()?;
    let output = terminal_output()?;
    Some((input, output))
}

pub fn terminal_output() -> Option<File> {
    OpenOptions::new().write(true).open("CONOUT$").ok()
}

/// The system's shell and its "run this line" flag, for `mfa_process`.
pub const SHELL: [&str; 2] = ["cmd", "/C"];

/// Unix keeps secrets out of core files here; Windows writes no core file of its own
/// (Windows Error Reporting's local dumps are off unless an administrator turns them on).
pub fn forbid_core_files() {}

/// A no-op: Windows has no dumpable flag (another process of the user needs
/// PROCESS_VM_READ, which the user's own processes have).
pub fn make_undumpable() {}

/// A no-op: awsmfa changes no limit a child could inherit.
pub fn for_child(_command: &mut Command) {}

/// No exec on Windows: run the command, wait, and end awsmfa with its exit code. Ctrl-C
/// reaches both (one console): awsmfa ignores it and lets the command decide.
pub fn exec(command: &mut Command) -> io::Error {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let _ignore = runtime.as_ref().ok().and_then(|rt| {
        let _entered = rt.enter();
        tokio::signal::windows::ctrl_c().ok()
    });
    match command.status() {
        Ok(status) => std::process::exit(exit_code(status)),
        Err(err) => err,
    }
}

pub fn is_not_a_program(err: &io::Error) -> bool {
    err.raw_os_error() == Some(BAD_EXE_FORMAT)
}

pub fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

pub struct StopSignals {
    int: tokio::signal::windows::CtrlC,
    brk: tokio::signal::windows::CtrlBreak,
    close: tokio::signal::windows::CtrlClose,
}

impl StopSignals {
    pub fn watch() -> io::Result<StopSignals> {
        use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
        Ok(StopSignals { int: ctrl_c()?, brk: ctrl_break()?, close: ctrl_close()? })
    }

    pub async fn next(&mut self) -> Stop {
        tokio::select! {
            _ = self.int.recv() => Stop::Interrupt,
            _ = self.brk.recv() => Stop::Terminate(21),
            _ = self.close.recv() => Stop::Terminate(2),
        }
    }

    pub async fn interrupt(&mut self) {
        self.int.recv().await;
    }
}

/// The console delivers Ctrl-C and Ctrl-Break to every process attached to it: nothing to
/// pass on.
pub fn forward(_pid: u32, _stop: Stop) {}

/// Starts `command` (Windows has no process groups to kill as one: see `kill_group`).
pub fn spawn_group(command: &mut Command) -> io::Result<Child> {
    command.spawn()
}

/// Kills the child itself; what it started lives on (that would take a job object).
pub fn kill_group(child: &mut Child) {
    let _ = child.kill();
}
