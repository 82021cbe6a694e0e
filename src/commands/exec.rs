//! `awsmfa exec -- CMD`: run CMD with the session's variables, replacing this process so
//! CMD's exit code and signals are its own.

use std::os::unix::process::CommandExt;
use std::process::Command;

use super::{request, settings};
use crate::cli::{ExecArgs, GlobalArgs};
use crate::error::{Error, Result, io_reason};
use crate::output;
use crate::session;

/// Variables that would make the child use other credentials than the session's.
const CLEARED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    // MFA factors: the child asked for a session, not for the means to make new ones.
    "AWSMFA_TOTP_SECRET",
    "AWS_MFA_TOKEN_CODE",
    "AWS_MFA_SERIAL_NUMBER",
];

pub fn run(global: &GlobalArgs, args: ExecArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    if let Some(outer) = &settings.inside_exec
        && !args.force
    {
        return Err(Error::config(format!("already inside `awsmfa exec` (profile '{outer}'): refusing to nest"))
            .hint("exit that shell first, or pass --force to run anyway"));
    }
    let got = session::get_session(&settings, &request(&args.session, false)?)?;
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(rest);
    for name in CLEARED {
        command.env_remove(name);
    }
    for (name, value) in output::variables(&got.session, settings.region.as_deref()) {
        command.env(name, value);
    }
    command.env("AWSMFA_PROFILE", &settings.profile);
    let err = command.exec();
    let shown = program.to_string_lossy();
    Err(match err.kind() {
        std::io::ErrorKind::NotFound => {
            Error::new(crate::error::Kind::CommandNotFound, format!("command not found: {shown}"))
                .hint("check the name and PATH")
        }
        // As shells do: found but not runnable (a directory, no execute permission, not a
        // program) is 126.
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::IsADirectory => {
            Error::new(crate::error::Kind::CannotRun, format!("cannot run {shown}: {}", io_reason(&err)))
                .hint("it must be an executable file: check `ls -l` and chmod +x")
        }
        _ if err.raw_os_error() == Some(libc::ENOEXEC) => {
            Error::new(crate::error::Kind::CannotRun, format!("cannot run {shown}: it is not a program"))
                .hint("start a script with a #! line, or run it through its interpreter")
        }
        _ => Error::unexpected(format!("cannot run {shown}: {}", io_reason(&err))),
    })
}
