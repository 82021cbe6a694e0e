//! One file per subcommand; each is a short script over `profile`, `session` and `output`.

mod credential_process;
mod env;
mod exec;
mod login;
mod logout;
mod status;

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, Command, GlobalArgs, SessionArgs};
use crate::error::{Error, Result};
use crate::profile::{Overrides, Settings};
use crate::session::sts::Request;

/// Runs the parsed command; returns the process exit code.
pub fn run(cli: Cli) -> Result<i32> {
    crate::ui::set_verbose(cli.global.verbose);
    let global = &cli.global;
    match cli.command {
        Command::Login(args) => login::run(global, args),
        Command::Env(args) => env::run(global, args),
        Command::Exec(args) => exec::run(global, args),
        Command::CredentialProcess(args) => credential_process::run(global, args),
        Command::Status(args) => status::run(global, args),
        Command::Logout(args) => logout::run(global, args),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "awsmfa", &mut out);
            print(&out)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::unexpected(format!("cannot render the man page: {e}")))?;
            print(&out)
        }
    }
}

/// Settings for this run, from the global flags and the session flags.
fn settings(global: &GlobalArgs, session: &SessionArgs) -> Result<Settings> {
    Settings::resolve(&Overrides {
        profile: global.profile.clone(),
        region: global.region.clone(),
        serial: session.serial.clone(),
        duration: session.duration,
    })
}

fn request(session: &SessionArgs, force: bool) -> Request {
    Request { code: session.code.clone(), force, min_ttl: session.min_ttl }
}

/// Writes machine output to stdout; a closed pipe is not an error worth a message.
fn print(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Error::unexpected(format!("cannot write to stdout: {e}"))),
    }
}
