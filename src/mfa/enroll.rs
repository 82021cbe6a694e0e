//! Enrolment: an MFA device for an IAM user, from nothing to enabled. IAM's calls
//! (who is calling, which devices a user has, create / enable / delete a virtual device),
//! the check of two codes against a new device's seed before AWS sees them, and a guard
//! that deletes a created device unless it was enabled, also when the run is interrupted
//! (after asking IAM: an interrupt may come after IAM enabled it, before its answer).
//! `enroll` is the whole of `awsmfa enroll` but the printing: the codes asked (the terminal,
//! else one a line on the standard input), the seed's file, `mfa_serial` in the profile.

use std::fs::File;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::aws::{self, ClientSpec, Failure};
use crate::config::config_section;
use crate::credentials::Secret;
use crate::error::{Error, Kind, Result};
use crate::files::{self, atomic, ini};
use crate::ui;

use super::{MfaCode, totp};

/// The signed-in identity: its ARN, account, and IAM user name (None for roles and root).
pub struct Caller {
    pub arn: String,
    pub account: String,
    pub user: Option<String>,
}

pub use crate::aws::iam::NewDevice;

pub struct Iam<'a> {
    spec: &'a ClientSpec,
    endpoint: String,
}

impl<'a> Iam<'a> {
    pub fn new(spec: &'a ClientSpec) -> Self {
        Iam { spec, endpoint: spec.describe_endpoint("iam") }
    }

    pub fn caller(&self, client: &aws::ClientConfig) -> Result<Caller> {
        let sts = self.spec.with_service(client, "sts");
        let identity = aws::sts::caller_identity(&sts)?
            .map_err(|f| f.into_error("sts:GetCallerIdentity", &sts.describe_endpoint("sts")))?;
        Ok(Caller { account: identity.account, arn: identity.arn, user: identity.user })
    }

    /// The serials of `user`'s MFA devices.
    pub fn devices(&self, user: &str) -> Result<Vec<String>> {
        aws::iam::list_mfa_devices(self.spec, Some(user))?
            .map_err(|f| f.into_error("iam:ListMFADevices", &self.endpoint))
    }

    pub fn create(&self, name: &str) -> Result<NewDevice> {
        aws::iam::create_virtual_mfa_device(self.spec, name)?.map_err(|failure| match failure {
                Failure::Service { code, .. } if code == "EntityAlreadyExists" => Error::config(format!(
                    "a virtual MFA device named '{name}' already exists (left from an earlier try?)"
                ))
                .hint(format!(
                    "choose another name with --device-name {name}-2, or have an administrator delete the unused one (`aws iam delete-virtual-mfa-device --serial-number arn:aws:iam::ACCOUNT:mfa/{name}`)"
                )),
                other => other.into_error("iam:CreateVirtualMFADevice", &self.endpoint),
            })
    }

    pub fn enable(&self, user: &str, serial: &str, first: &str, second: &str) -> Result<()> {
        aws::iam::enable_mfa_device(self.spec, user, serial, first, second)?.map_err(|failure| match failure {
            Failure::Service { code, .. } if code == "InvalidAuthenticationCode" => {
                Error::new(Kind::MfaRejected, "AWS refused the two codes for the new device")
                    .hint("type two codes in a row from the app, the second after it changes; if they keep failing, check this machine's clock (`awsmfa doctor`)")
            }
            other => other.into_error("iam:EnableMFADevice", &self.endpoint),
        })
    }

    /// What becomes of a device a failed or interrupted run leaves behind. Once
    /// EnableMFADevice was sent (`enable_sent`), IAM may have enabled it whatever this run
    /// saw (an interrupt or a timeout before the answer): IAM is asked, and an enabled
    /// device is kept. Otherwise it is deleted.
    pub fn settle(&self, user: &str, serial: &str, enable_sent: bool) -> Leftover {
        let enabled = || self.devices(user).is_ok_and(|devices| devices.iter().any(|d| d == serial));
        if enable_sent && enabled() {
            return Leftover::Enabled;
        }
        match self.delete(serial) {
            Ok(()) => Leftover::Deleted,
            // Enabled between the question and the delete (IAM refuses to delete it then).
            Err(_) if enable_sent && enabled() => Leftover::Enabled,
            Err(err) => Leftover::Left(err),
        }
    }

    pub fn delete(&self, serial: &str) -> Result<()> {
        aws::iam::delete_virtual_mfa_device(self.spec, serial)?
            .map_err(|f| f.into_error("iam:DeleteVirtualMFADevice", &self.endpoint))
    }
}

/// What `Iam::settle` did with a device.
pub enum Leftover {
    /// IAM had enabled it: kept.
    Enabled,
    Deleted,
    /// Neither: it could not be deleted (the error says why).
    Left(Error),
}

/// Deletes the virtual device it guards unless `enabled()` was called: when the run fails,
/// returns early, or is interrupted (SIGINT, SIGTERM, SIGHUP: a watcher thread deletes it
/// and exits 130). No orphan device is left in IAM where the account lets us delete it.
pub struct Guard {
    state: Arc<Mutex<Cleanup>>,
}

enum Cleanup {
    /// Armed before the device is asked for: a signal now waits for its creation's outcome.
    Waiting,
    Pending(Box<dyn FnOnce() + Send>),
    Done,
    /// A signal came: whoever holds the device cleans up, and the process ends with 130.
    Interrupted,
}

impl Guard {
    /// Armed before CreateVirtualMFADevice is sent: from now on SIGINT, SIGTERM and SIGHUP
    /// reach the watcher, never their default action (which could leave a device behind).
    pub fn arm() -> Guard {
        let state = Arc::new(Mutex::new(Cleanup::Waiting));
        let watching = tokio::runtime::Builder::new_current_thread().enable_all().build().ok().and_then(|runtime| {
            let entered = runtime.enter();
            let signals = crate::platform::StopSignals::watch().ok();
            drop(entered);
            signals.map(|signals| (runtime, signals))
        });
        let watched = state.clone();
        if let Some((runtime, mut signals)) = watching {
            std::thread::spawn(move || {
                runtime.block_on(signals.next());
                drop(runtime);
                // The lock is held while cleaning up: the main thread, were it to finish
                // meanwhile, waits in `device`, `enabled` or `drop` instead of ending the process.
                let mut state = watched.lock().unwrap_or_else(|e| e.into_inner());
                match std::mem::replace(&mut *state, Cleanup::Interrupted) {
                    Cleanup::Pending(cleanup) => {
                        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"\n"); // never panics on a closed stderr
                        cleanup();
                        std::process::exit(130);
                    }
                    Cleanup::Done => std::process::exit(130),
                    // The device is being created: the main thread learns of the signal when
                    // the call returns, cleans up and exits.
                    _ => {}
                }
            });
        }
        Guard { state }
    }

    /// The device exists: `cleanup` deletes it (and says so) unless `enabled()` is called.
    pub fn device(&self, cleanup: Box<dyn FnOnce() + Send>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*state, Cleanup::Interrupted) {
            let _ = std::io::Write::write_all(&mut std::io::stderr(), b"\n"); // never panics on a closed stderr
            cleanup();
            std::process::exit(130);
        }
        *state = Cleanup::Pending(cleanup);
    }

    /// The device is in use: nothing to clean up any more. `done` (saying so, writing
    /// `mfa_serial`) runs before a signal that comes meanwhile ends the process.
    pub fn enabled<T>(self, done: impl FnOnce() -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(std::mem::replace(&mut *state, Cleanup::Done), Cleanup::Interrupted) {
            drop(state);
            std::process::exit(130);
        }
        // Held while `done` runs: a signal now waits for it, then finds nothing to clean up.
        let out = done();
        drop(state);
        out
    }

    fn settle(&self, clean: bool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::replace(&mut *state, Cleanup::Done) {
            Cleanup::Pending(cleanup) if clean => cleanup(),
            Cleanup::Interrupted => {
                // Either the watcher cleaned up and is ending the process, or the signal came
                // before any device existed: end it here.
                drop(state);
                std::process::exit(130);
            }
            _ => {}
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.settle(true);
    }
}

/// What is wrong with two codes for a device whose seed is known, checked before AWS sees
/// them (AWS would only say "not valid"): the first must be the code of step s, one of the
/// last three windows, and the second that of s + 1.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeProblem {
    /// Not a code of this device now (a typo, another account in the app, a wrong clock).
    NotThisDevice,
    /// Both from one 30-second window: the second must wait for the app to change.
    SameWindow,
    /// From windows that are not next to each other.
    NotConsecutive,
}

/// The step the code belongs to, among `now - 3 ..= now + 1`.
fn step_of(key: &[u8], code: &str, now: u64) -> Option<u64> {
    (now.saturating_sub(3)..=now + 1).find(|s| totp::code_at_step(key, *s) == code)
}

pub fn check_first(seed: &Secret, code: &str, unix_seconds: u64) -> std::result::Result<(), CodeProblem> {
    let key = totp::decode_base32(seed.expose()).unwrap_or_default();
    step_of(&key, code, totp::step_at(unix_seconds)).map(|_| ()).ok_or(CodeProblem::NotThisDevice)
}

pub fn check_pair(seed: &Secret, first: &str, second: &str, unix_seconds: u64) -> std::result::Result<(), CodeProblem> {
    let key = totp::decode_base32(seed.expose()).unwrap_or_default();
    let now = totp::step_at(unix_seconds);
    let (Some(a), Some(b)) = (step_of(&key, first, now), step_of(&key, second, now)) else {
        return Err(CodeProblem::NotThisDevice);
    };
    match b.checked_sub(a) {
        Some(0) => Err(CodeProblem::SameWindow),
        Some(1) => Ok(()),
        _ => Err(CodeProblem::NotConsecutive),
    }
}

/// The URI authenticator apps read from the QR code, as AWS's own QR codes spell it.
pub fn otpauth_uri(user: &str, account: &str, seed: &Secret) -> String {
    let label: String =
        user.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c.to_string()
                } else {
                    format!("%{:02X}", c as u32)
                }
            })
            .collect();
    format!(
        "otpauth://totp/Amazon%20Web%20Services:{label}@{account}?secret={}&issuer=Amazon%20Web%20Services",
        seed.expose()
    )
}

/// Tries at the terminal before a bad code is an error.
const ATTEMPTS: usize = 3;

/// What `enroll` is asked for: whose device (None: the caller's own), a hardware device's
/// serial (None: a new virtual device, named `device_name` or after the user), and the file
/// claimed for the new seed (`--seed-out`).
pub struct Plan {
    /// The profile whose keys call IAM, and the config file that gets its `mfa_serial`.
    pub profile: String,
    pub config_path: std::path::PathBuf,
    pub user: Option<String>,
    pub serial: Option<String>,
    pub device_name: Option<String>,
    pub seed_out: Option<atomic::NewFile>,
}

/// Shows a new virtual device's otpauth URI and seed (the QR code), given its serial.
pub type Show<'a> = &'a dyn Fn(&str, &Secret, &str) -> Result<()>;

/// `awsmfa enroll`: the user's device from nothing to enabled, `mfa_serial` written into the
/// profile when it is the caller's own. A new virtual device is shown (`show`, when there is
/// somewhere to show it) and its seed written to `plan.seed_out`; two codes are asked (the
/// terminal, else the standard input), checked against the seed, and sent to IAM; a device
/// left unused by a failure or a signal is settled by the guard.
pub fn enroll(client: &aws::ClientConfig, spec: &ClientSpec, mut plan: Plan, show: Option<Show>) -> Result<()> {
    let iam = Iam::new(spec);
    let caller = iam.caller(client)?;
    let user = match (&plan.user, &caller.user) {
        (Some(user), _) => user.clone(),
        (None, Some(user)) => user.clone(),
        (None, None) => {
            return Err(Error::config(format!(
                "the keys of profile '{}' are not an IAM user's ({})",
                plan.profile, caller.arn
            ))
            .hint("MFA devices belong to IAM users: pass --user NAME, or use the keys of the user to enroll"));
        }
    };
    let for_caller = caller.user.as_deref() == Some(user.as_str());
    if let Some(serial) = iam.devices(&user)?.first() {
        return Err(Error::config(format!("IAM user {user} already has the MFA device {serial}")).hint(if for_caller {
            format!("`awsmfa login` uses it (or set mfa_serial = {serial} in the profile); to replace it, deactivate it in the IAM console first")
        } else {
            "deactivate it in the IAM console first to enroll another".to_string()
        }));
    }
    let place: Place = for_caller.then(|| (plan.config_path.clone(), plan.profile.clone()));
    let mut input = Input::choose()?;
    match &plan.serial {
        Some(serial) => {
            let (first, second) = hardware_codes(&mut input, serial)?;
            iam.enable(&user, serial, &first, &second)?;
            enabled(&place, &user, serial)
        }
        None => {
            let name = plan.device_name.clone().unwrap_or_else(|| user.clone());
            let guard = Guard::arm();
            let device = iam.create(&name)?;
            let serial = device.serial.clone();
            // Set when EnableMFADevice is sent: from then on IAM may have enabled the device
            // whatever this run hears (a Ctrl-C, a timeout), so the cleanup asks IAM first.
            let enable_sent = Arc::new(AtomicBool::new(false));
            let cleanup = {
                let (spec, user, serial, sent, place) =
                    ((*spec).clone(), user.clone(), serial.clone(), enable_sent.clone(), place.clone());
                move || match Iam::new(&spec).settle(&user, &serial, sent.load(Ordering::SeqCst)) {
                    Leftover::Enabled => {
                        ui::note(&format!(
                            "IAM had already enabled MFA device {serial} for IAM user {user}: it is kept"
                        ));
                        if let Err(e) = write_serial(&place, &serial) {
                            ui::warn(&format!("could not write mfa_serial = {serial} into the profile: {}", e.message));
                        }
                    }
                    Leftover::Deleted => ui::note(&format!("deleted the unused virtual MFA device {serial}")),
                    Leftover::Left(e) => ui::warn(&format!(
                        "could not delete the unused virtual MFA device {serial} ({}); an administrator can: aws iam delete-virtual-mfa-device --serial-number {serial}",
                        e.message
                    )),
                }
            };
            guard.device(Box::new(cleanup));
            let uri = otpauth_uri(&user, &caller.account, &device.seed);
            if let Some(show) = show {
                show(&uri, &device.seed, &serial)?;
            }
            if let Some(file) = plan.seed_out.take() {
                let path = file.path().to_path_buf();
                file.finish(format!("{}\n", device.seed.expose()).as_bytes())?;
                ui::warn(&format!(
                    "{} holds the device's seed: whoever reads it can make your MFA codes; keep it as safe as your keys, or delete it",
                    path.display()
                ));
            }
            let (first, second) = virtual_codes(&mut input, &device.seed)?;
            enable_sent.store(true, Ordering::SeqCst);
            iam.enable(&user, &serial, &first, &second)?;
            guard.enabled(|| enabled(&place, &user, &serial))
        }
    }
}

/// Where `mfa_serial` goes: the profile of the config file, when the device is the caller's
/// own (None for `--user` someone else).
type Place = Option<(std::path::PathBuf, String)>;

/// Says that the device is enabled and puts it into the profile.
fn enabled(place: &Place, user: &str, serial: &str) -> Result<()> {
    ui::note(&format!("enabled MFA device {serial} for IAM user {user}"));
    write_serial(place, serial)
}

fn write_serial(place: &Place, serial: &str) -> Result<()> {
    let Some((config, profile)) = place else { return Ok(()) };
    let section = config_section(profile);
    files::edit_ini(config, |old| {
        Ok(Some(ini::replace_keys(old, &ini::config_section(old, profile), &[("mfa_serial", Some(serial))])))
    })?;
    ui::note(&format!("wrote mfa_serial into [{section}] of {}; next: awsmfa login", config.display()));
    Ok(())
}

/// Where the codes come from: the terminal, or (when the standard input is not one) one
/// code a line on the standard input, for automation.
enum Input {
    /// The terminal: where to read, where to write.
    Tty(File, File),
    Stdin,
}

impl Input {
    fn choose() -> Result<Input> {
        if !std::io::stdin().is_terminal() {
            return Ok(Input::Stdin);
        }
        crate::platform::terminal().map(|(input, output)| Input::Tty(input, output)).ok_or_else(|| {
            Error::config(format!("cannot open {}", crate::platform::TERMINAL))
                .hint("give the codes on the standard input instead, one a line")
        })
    }

    fn interactive(&self) -> bool {
        matches!(self, Input::Tty(..))
    }

    fn say(&mut self, text: &str) {
        match self {
            Input::Tty(_, out) => {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            Input::Stdin => ui::note(text.trim_end()),
        }
    }

    /// One 6-digit code.
    fn code(&mut self, prompt: &str) -> Result<String> {
        for _ in 0..ATTEMPTS {
            let mut line = String::new();
            let read = match self {
                Input::Tty(input, out) => {
                    let _ = out.write_all(prompt.as_bytes());
                    let _ = out.flush();
                    std::io::BufReader::new(&*input).read_line(&mut line)
                }
                Input::Stdin => std::io::stdin().lock().read_line(&mut line),
            }
            .map_err(|e| Error::io("read a code from", Path::new("the terminal"), e))?;
            if read == 0 {
                return Err(
                    Error::config("no code entered (end of input)").hint("type the 6-digit codes the app shows")
                );
            }
            if let Some(code) = MfaCode::parse(&line) {
                return Ok(code.as_str().to_string());
            }
            if !self.interactive() {
                break;
            }
            self.say("a code is 6 digits, e.g. 123456; try again\n");
        }
        Err(Error::new(Kind::MfaRejected, "that is not a 6-digit code").hint("type the 6 digits the app shows"))
    }
}

fn unix_now() -> u64 {
    crate::clock::now().unix_timestamp().max(0) as u64
}

/// Two codes of the new device, checked against its seed before AWS sees them.
fn virtual_codes(input: &mut Input, seed: &Secret) -> Result<(String, String)> {
    let mut first = None;
    for _ in 0..ATTEMPTS {
        let code = input.code("First code from the app: ")?;
        match check_first(seed, &code, unix_now()) {
            Ok(()) => {
                first = Some(code);
                break;
            }
            Err(_) if input.interactive() => {
                input.say("that is not a code of this new device now: check that the app scanned this QR code\n")
            }
            Err(_) => return Err(not_this_device()),
        }
    }
    let first = first.ok_or_else(not_this_device)?;
    for _ in 0..ATTEMPTS {
        let second = input.code("Next code (wait until the app shows a new one): ")?;
        let problem = match check_pair(seed, &first, &second, unix_now()) {
            Ok(()) => return Ok((first, second)),
            Err(problem) => problem,
        };
        let wait = totp::seconds_to_next_step(unix_now());
        let (message, kind) = match problem {
            CodeProblem::SameWindow => (
                format!("the two codes are from the same 30-second window: AWS needs the next one (in {wait} s)"),
                Kind::MfaRejected,
            ),
            CodeProblem::NotConsecutive => (
                "the two codes are not from windows in a row: type the code that follows the first".into(),
                Kind::MfaRejected,
            ),
            CodeProblem::NotThisDevice => (
                "that is not a code of this new device now: check that the app scanned this QR code".into(),
                Kind::MfaRejected,
            ),
        };
        if !input.interactive() {
            return Err(Error::new(kind, message).hint("give two codes in a row, the second after the app changes"));
        }
        input.say(&format!("{message}\n"));
    }
    Err(Error::new(Kind::MfaRejected, "no two codes in a row after 3 tries").hint("run `awsmfa enroll` again"))
}

fn not_this_device() -> Error {
    Error::new(Kind::MfaRejected, "that is not a code of the new device")
        .hint("scan the QR code again (or type the key), then give the code the app shows")
}

/// Two codes of a hardware device: awsmfa has no seed to check them with, only that they differ.
fn hardware_codes(input: &mut Input, serial: &str) -> Result<(String, String)> {
    let first = input.code(&format!("First code of {serial}: "))?;
    for _ in 0..ATTEMPTS {
        let second = input.code("Next code (wait until the device shows a new one): ")?;
        if second != first {
            return Ok((first, second));
        }
        let message = "the second code is the first one again: AWS needs the next code";
        if !input.interactive() {
            return Err(Error::new(Kind::MfaRejected, message).hint("give two different codes in a row"));
        }
        input.say(&format!("{message}\n"));
    }
    Err(Error::new(Kind::MfaRejected, "no second code after 3 tries").hint("run `awsmfa enroll` again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "JBSWY3DPEHPK3PXP";

    fn code(step: u64) -> String {
        totp::code_at_step(&totp::decode_base32(SEED).unwrap(), step)
    }

    #[test]
    fn two_codes_must_be_of_this_device_and_of_consecutive_windows() {
        let seed = Secret::new(SEED);
        let t = 1_800_000_000u64;
        let now = totp::step_at(t);
        assert_eq!(check_pair(&seed, &code(now - 1), &code(now), t), Ok(()));
        assert_eq!(check_pair(&seed, &code(now), &code(now + 1), t), Ok(()), "the app may run a little ahead");
        assert_eq!(check_pair(&seed, &code(now), &code(now), t), Err(CodeProblem::SameWindow));
        assert_eq!(check_pair(&seed, &code(now - 2), &code(now), t), Err(CodeProblem::NotConsecutive));
        assert_eq!(check_pair(&seed, &code(now), &code(now - 1), t), Err(CodeProblem::NotConsecutive));
        assert_eq!(check_pair(&seed, "000000", &code(now), t), Err(CodeProblem::NotThisDevice));
        assert_eq!(check_pair(&seed, &code(now - 10), &code(now - 9), t), Err(CodeProblem::NotThisDevice));
        assert_eq!(check_first(&seed, &code(now), t), Ok(()));
    }

    #[test]
    fn the_uri_is_the_one_aws_puts_in_its_qr_codes() {
        assert_eq!(
            otpauth_uri("alice@corp", "123456789012", &Secret::new(SEED)),
            "otpauth://totp/Amazon%20Web%20Services:alice%40corp@123456789012?secret=JBSWY3DPEHPK3PXP&issuer=Amazon%20Web%20Services"
        );
    }
}
