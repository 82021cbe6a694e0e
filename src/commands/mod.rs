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
use crate::config::{AwsFiles, FileKind, Source};
use crate::ec2::{self, Ec2, InstanceInfo, LaunchSpec};
use crate::error::{Error, Kind, Result};
use crate::files::ini;
use crate::output::report::{self, Column};
use crate::profile::{Overrides, Settings};
use crate::session::Request;
use crate::ui;

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

/// Where a credential server gets its credentials: the plan's providers, asked again on
/// every renewal (never with the code given at the start: it is spent).
fn credential_source(settings: std::sync::Arc<Settings>, request: Request) -> std::sync::Arc<crate::server::Source> {
    let role = settings.roles.last().map(|h| h.role_arn.clone());
    let request = Request { code: None, ..request };
    std::sync::Arc::new(move || {
        let got = crate::session::get_session(&settings.session(), &request)?;
        Ok((got.session, role.clone()))
    })
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
    ec2_for(settings, &got.session)
}

/// Instances as JSON (`--json`) or as a table with `columns`; `none` when there are none.
fn print_instances(instances: &[InstanceInfo], json: bool, columns: &[Column], none: &str) -> Result<i32> {
    print(report::instances(instances, json, columns, none).as_bytes())
}

/// EC2 signed with `session`, in the settings' region.
fn ec2_for(settings: &Settings, session: &crate::session::Session) -> Result<Ec2> {
    crate::enforce::ec2_with_session(settings, session)
}

/// Waits for `state` with a spinner on stderr; None when the user pressed Ctrl-C (the
/// instances are left as they are, and their ids printed).
async fn wait_with_spinner(
    ec2: &Ec2,
    ids: &[String],
    state: &str,
    timeout: Duration,
    ctrl_c: &mut ec2::CtrlC,
) -> Result<Option<Vec<InstanceInfo>>> {
    let mut spinner = ui::Spinner::new();
    let shown = ids.join(", ");
    let result = ec2
        .wait_for(ids, state, timeout, ec2.poll_interval, ctrl_c, |now| {
            let states: Vec<&str> = now.iter().map(|i| i.state.as_str()).collect();
            spinner.tick(&format!("waiting for {shown} to be {state}: {}", states.join(", ")));
        })
        .await;
    spinner.clear();
    if let Ok(None) = result {
        ui::note(&format!("stopped waiting; {shown} left as they are"));
    }
    result
}

/// What to launch, tagged `created-by=awsmfa` first, then `tags`.
/// Checked before any login: a missing image is said with every way to give it.
fn launch_spec(
    settings: &Settings,
    instance: &InstanceArgs,
    count: i32,
    mut tags: Vec<(String, String)>,
) -> Result<LaunchSpec> {
    let Some(image_id) = instance.image_id.clone() else {
        return Err(Error::new(Kind::Usage, "no image to launch")
            .hint("pass --image-id AMI, or set AWS_IMAGE_ID (the manual recipe's variable)"));
    };
    tags.insert(0, (ec2::CREATED_BY_KEY.to_string(), ec2::CREATED_BY_VALUE.to_string()));
    Ok(LaunchSpec {
        image_id,
        key_name: instance.key_name.clone().or_else(|| settings.recipe_key_name.clone()),
        instance_type: instance.instance_type.clone(),
        count,
        tags,
        ..Default::default()
    })
}

/// A name that cannot be written as `[NAME]` is refused before anything is touched.
fn check_profile_name(name: &str) -> Result<()> {
    if ini::valid_section_name(name) {
        return Ok(());
    }
    Err(Error::config(format!("{name:?} is not a usable profile name"))
        .hint("use letters, digits, '-', '_' or '.', e.g. --write-profile mfa"))
}

/// The keys of a session in a credentials profile; every other line of the profile stays.
const SESSION_KEYS: [&str; 4] =
    ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"];

/// A profile awsmfa may write a session into (or delete one from): a usable name, and no
/// long-term keys in it, in either file: those would be lost, or shadowed by session keys.
fn check_session_profile(settings: &Settings, name: &str, action: &str) -> Result<()> {
    check_profile_name(name)?;
    if let Some(place) = settings.long_term_keys_of(name) {
        return Err(Error::config(format!("refusing to {action} [{name}]: it holds the long-term keys in {place}"))
            .hint(format!(
                "choose another profile name (e.g. {name}-mfa), or move those keys to [{name}-long-term] of {}, where awsmfa reads them",
                settings.credentials_path.display()
            )));
    }
    Ok(())
}

/// The long-term-keys guard again, on the credentials text about to be edited.
fn refuse_long_term_section(text: &str, settings: &Settings, name: &str) -> Result<()> {
    let credentials = Source { path: settings.credentials_path.clone(), text: text.to_string() };
    let parsed = AwsFiles::parse(&Source::default(), &credentials)?;
    let get = |key| parsed.get_in(FileKind::Credentials, name, key);
    if get("aws_access_key_id").is_some() && get("aws_session_token").is_none() {
        return Err(Error::config(format!(
            "refusing to change [{name}] of {}: it now holds long-term keys",
            settings.credentials_path.display()
        ))
        .hint("choose another profile name"));
    }
    Ok(())
}
