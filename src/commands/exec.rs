//! `awsmfa exec -- CMD`: run CMD with the session's variables, replacing this process so
//! CMD's exit code and signals are its own.

use std::os::unix::process::CommandExt;
use std::process::Command;

use super::{request, settings};
use crate::cli::{ExecArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::output;
use crate::profile::env_var;
use crate::session::sts;

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
];

pub fn run(global: &GlobalArgs, args: ExecArgs) -> Result<i32> {
    if let Some(outer) = env_var("AWSMFA_PROFILE")
        && !args.force
    {
        return Err(Error::config(format!("already inside `awsmfa exec` (profile '{outer}'): refusing to nest"))
            .hint("exit that shell first, or pass --force to run anyway"));
    }
    let settings = settings(global, &args.session)?;
    let got = sts::get_session(&settings, &request(&args.session, false))?;
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
        _ => Error::unexpected(format!("cannot run {shown}: {err}")),
    })
}
