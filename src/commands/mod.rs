//! One file per subcommand; each is a short script over `profile`, `session` and `output`.

mod credential_process;
mod doctor;
mod enroll;
mod env;
mod exec;
mod instances;
mod keys;
mod launch;
mod login;
mod logout;
mod man;
mod policy;
mod serve;
mod status;
mod terminate;
mod verify;

use std::io::{BufRead, Write};
use std::time::Duration;

use clap::CommandFactory;

use crate::cli::InstanceArgs;
use crate::cli::{Cli, Command, GlobalArgs, SessionArgs};
use crate::ec2::{Ec2, InstanceInfo, LaunchSpec};
use crate::error::{Error, Result};
use crate::output::report::{self, Column};
use crate::profile::{Overrides, Settings};
use crate::session::Request;

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
        Command::Verify(args) => verify::run(global, args),
        Command::Launch(args) => launch::run(global, args),
        Command::Instances(args) => instances::run(global, args),
        Command::Terminate(args) => terminate::run(global, args),
        Command::Policy(args) => policy::run(global, args),
        Command::Serve(args) => serve::run(global, args),
        Command::Keys { command } => keys::run(global, command),
        Command::Enroll(args) => enroll::run(global, args),
        Command::Doctor(args) => doctor::run(global, args),
        Command::Completions { shell, .. } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "awsmfa", &mut out);
            print(&out)
        }
        Command::Man(args) => man::run(args),
    }
}

/// Settings for this run, from the global flags and the session flags.
fn settings(global: &GlobalArgs, session: &SessionArgs) -> Result<Settings> {
    Settings::load(&Overrides {
        profile: global.profile.clone(),
        region: global.region.clone(),
        serial: session.serial.clone(),
        duration: session.duration,
        role_arn: session.role_arn.clone(),
        direct: session.direct,
    })
}

/// What the session flags ask for, checked before anything else happens: a malformed
/// `--code` is an error even when a cached session would make it unnecessary. `--code -`
/// reads the code from the standard input (kept out of `ps` and shell history).
fn request(session: &SessionArgs, force: bool) -> Result<Request> {
    let code = match session.code.as_deref() {
        None => None,
        Some("-") => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::io("read the MFA code from", std::path::Path::new("stdin"), e))?;
            Some(("standard input (--code -)", line.trim().to_string()))
        }
        Some(code) => Some(("--code", code.to_string())),
    };
    if let Some((origin, code)) = &code
        && crate::mfa::MfaCode::parse(code).is_none()
    {
        return Err(Error::config(format!("the MFA code from {origin} is not 6 digits"))
            .hint("pass the 6-digit code your MFA device shows now"));
    }
    let min_ttl = match session.min_ttl {
        Some(secs) => Some(crate::profile::check_duration("--min-ttl", secs, crate::clock::MIN_TTL, "10m")?),
        None => None,
    };
    Ok(Request { code: code.map(|(_, c)| c), force, min_ttl })
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

/// Settings from the global flags alone, for commands that never log in.
fn profile_settings(global: &GlobalArgs) -> Result<Settings> {
    settings(global, &SessionArgs::default())
}

/// How long an instance wait may last (`--timeout`), checked before anything is launched.
fn wait_timeout(args: &crate::cli::WaitArgs) -> Result<Duration> {
    let secs = crate::profile::check_duration("--timeout", args.timeout, crate::clock::INSTANCE_WAIT, "10m")?;
    Ok(Duration::from_secs(secs))
}

/// Settings, the session (cached or new) and EC2 signed with it: what every EC2 command
/// starts with.
fn ec2_session(global: &GlobalArgs, session: &SessionArgs) -> Result<(Settings, Ec2)> {
    let settings = settings(global, session)?;
    let ec2 = ec2_signed(&settings, session)?;
    Ok((settings, ec2))
}

/// EC2 signed with the settings' session (cached, or logging in now).
fn ec2_signed(settings: &Settings, session: &SessionArgs) -> Result<Ec2> {
    let got = crate::session::get_session(&settings.session(), &request(session, false)?)?;
    crate::enforce::ec2_with_session(settings, &got.session)
}

/// Instances as JSON (`--json`) or as a table with `columns`; `none` when there are none.
fn print_instances(instances: &[InstanceInfo], json: bool, columns: &[Column], none: &str) -> Result<i32> {
    print(report::instances(instances, json, columns, none).as_bytes())
}

/// What to launch: the instance flags, the recipe's key pair when `--key-name` is not given.
fn launch_spec(
    settings: &Settings,
    instance: &InstanceArgs,
    count: i32,
    tags: Vec<(String, String)>,
) -> Result<LaunchSpec> {
    let key_name = instance.key_name.clone().or_else(|| settings.recipe_key_name.clone());
    LaunchSpec::tagged(instance.image_id.clone(), key_name, instance.instance_type.clone(), count, tags)
}

/// A name that cannot be written as `[NAME]` is refused before anything is touched.
fn check_profile_name(name: &str) -> Result<()> {
    crate::profile::write::check_name(name)
}
