//! A command run with the session (`awsmfa exec -- CMD`): its environment cleared of every
//! other identity's credentials, then given the session's keys (`exec`: this process is
//! replaced, so CMD's exit code and signals are its own) or a local credential endpoint
//! (`with_server`: awsmfa serves it until CMD ends, and exits with CMD's code).

use std::ffi::OsString;
use std::process::Command;
use std::sync::Arc;

use crate::aws;
use crate::error::{Error, Result, io_reason};
use crate::output;
use crate::profile::Settings;
use crate::server::{self, Endpoint};
use crate::session::{self, Request, Session};

/// Variables that would make the child use other credentials than the session's, or that
/// hand it another identity's means to get some. Every SDK's default chain reads the
/// environment first, so under plain `exec` the session's keys win anyway; the rest goes
/// all the same, because those are someone else's credentials (another endpoint's token, a
/// web identity, a legacy key file) that this child did not ask for, and a tool inside it
/// that sets a profile (the JavaScript SDK then skips the environment) would fall through
/// to them. Under `exec --server` the child has no keys, and each of these would come
/// before the container endpoint in some SDK's chain (botocore's `create_credential_resolver`,
/// `@aws-sdk/credential-provider-node`'s `defaultProvider`, aws-config's
/// `DefaultCredentialsChain`, aws-sdk-go-v2's `EnvConfig`). The EC2 metadata variables
/// (`AWS_EC2_METADATA_*`) stay: every chain asks the instance metadata only after the
/// container endpoint, which is always set there. SSO and console-login sessions are chosen
/// by the AWS files alone (their `AWS_SSO_*`-style variables only say where caches are),
/// and `exec --server` points those files to /dev/null.
const CLEARED: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    // What the environment's keys belong to: wrong for the session's.
    "AWS_ACCOUNT_ID",
    "AWS_CREDENTIAL_SCOPE",
    // The Go SDK's (and the Java SDK v1's) other names for the keys.
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    // A web identity: AssumeRoleWithWebIdentity comes before the container endpoint.
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    // Another container endpoint: a relative URI wins over the full one, and a token file
    // over the token, in every SDK; `exec --server` sets the full URI and token itself.
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    // botocore's legacy key file (OriginalEC2Provider), read before the container endpoint.
    "AWS_CREDENTIAL_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    // MFA factors: the child asked for a session, not for the means to make new ones.
    "AWSMFA_TOTP_SECRET",
    "AWS_MFA_TOKEN_CODE",
    "AWS_MFA_SERIAL_NUMBER",
    // The keystore's passphrase opens every long-term key in it.
    "AWSMFA_KEYSTORE_PASSPHRASE",
];

/// Replaces this process with `argv` run with `session`'s variables; returns only when it
/// could not be started, with why.
pub fn exec(settings: &Settings, session: &Session, argv: &[OsString]) -> Error {
    let (program, mut command) = cleared_command(argv);
    for (name, value) in output::variables(session, settings.client.region.as_deref()) {
        command.env(name, value);
    }
    for (name, value) in settings.endpoint_variables() {
        command.env(name, value);
    }
    command.env("AWSMFA_PROFILE", &settings.profile);
    let err = crate::platform::exec(&mut command);
    cannot_run(program, err)
}

/// `argv` as a command (its program first), every variable of `CLEARED` taken out.
fn cleared_command(argv: &[OsString]) -> (&OsString, Command) {
    let (program, rest) = argv.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(rest);
    for name in CLEARED {
        command.env_remove(name);
    }
    (program, command)
}

/// Why `program` could not be started, with the shell's exit codes (126, 127).
fn cannot_run(program: &std::ffi::OsStr, err: std::io::Error) -> Error {
    let shown = program.to_string_lossy();
    match err.kind() {
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
        _ if crate::platform::is_not_a_program(&err) => {
            Error::new(crate::error::Kind::CannotRun, format!("cannot run {shown}: it is not a program"))
                .hint("start a script with a #! line, or run it through its interpreter")
        }
        _ => Error::unexpected(format!("cannot run {shown}: {}", io_reason(&err))),
    }
}

/// `exec --server`: the command gets a local credential endpoint instead of keys, and
/// awsmfa stays to serve it until the command ends, then exits with the command's code.
pub fn with_server(settings: Settings, request: Request, argv: &[OsString]) -> Result<i32> {
    let margin = std::time::Duration::from_secs(session::min_ttl(&settings.session(), &request));
    let region = settings.client.region.clone();
    let profile = settings.profile.clone();
    let endpoint_variables = settings.endpoint_variables();
    let source = server::session_source(Arc::new(settings), request);
    let (ready, endpoint) = std::sync::mpsc::channel::<Result<Endpoint>>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (child_pid, forward_to) = tokio::sync::oneshot::channel::<u32>();
    let server_thread = std::thread::spawn(move || {
        let _ = aws::block_on(async move {
            let server::Started { listener, endpoint, .. } = match server::start(([127, 0, 0, 1], 0).into()).await {
                Ok(started) => started,
                Err(e) => return ready.send(Err(e)).ok(),
            };
            // Caught before the command starts: a SIGTERM at any moment reaches it.
            let signals = match Signals::watch() {
                Ok(signals) => signals,
                Err(e) => return ready.send(Err(e)).ok(),
            };
            let token = endpoint.token.clone();
            ready.send(Ok(endpoint)).ok()?;
            tokio::select! {
                _ = server::serve(listener, token, source, margin, async { let _ = stopped.await; }) => {}
                _ = signals.forward(forward_to) => {}
            }
            Some(())
        });
    });
    let endpoint = endpoint.recv().map_err(|_| Error::unexpected("the credential server did not start"))??;
    let (program, mut command) = cleared_command(argv);
    for (name, value) in endpoint.variables() {
        command.env(name, value);
    }
    // The SDKs look in the AWS files before they ask a container endpoint: a [default]
    // with long-term keys would win. The command gets no files, so its credentials come
    // from the endpoint alone (and its region from AWS_REGION).
    command.env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null").env("AWS_CONFIG_FILE", "/dev/null");
    for (name, value) in endpoint_variables {
        command.env(name, value);
    }
    if let Some(region) = &region {
        command.env("AWS_REGION", region).env("AWS_DEFAULT_REGION", region);
    }
    command.env("AWSMFA_PROFILE", &profile);
    crate::platform::for_child(&mut command);
    let mut child = command.spawn().map_err(|e| cannot_run(program, e))?;
    let _ = child_pid.send(child.id());
    let status = child.wait().map_err(|e| Error::unexpected(format!("lost the command: {e}")).because(e))?;
    let _ = stop.send(());
    let _ = server_thread.join();
    Ok(crate::platform::exit_code(status))
}

/// SIGTERM and SIGHUP, passed on to the command. Ctrl-C at the terminal reaches the command
/// by itself (same process group), so SIGINT is caught here only to keep awsmfa serving
/// while the command decides what Ctrl-C means to it.
struct Signals(crate::platform::StopSignals);

impl Signals {
    fn watch() -> Result<Signals> {
        crate::platform::StopSignals::watch()
            .map(Signals)
            .map_err(|e| Error::unexpected(format!("cannot watch signals: {e}")).because(e))
    }

    async fn forward(mut self, child: tokio::sync::oneshot::Receiver<u32>) {
        let Ok(pid) = child.await else { return std::future::pending().await };
        loop {
            match self.0.next().await {
                crate::platform::Stop::Interrupt => continue,
                stop => crate::platform::forward(pid, stop),
            }
        }
    }
}
