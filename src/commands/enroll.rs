//! `awsmfa enroll`: from no MFA device to an enabled one, with `mfa_serial` in the profile.

use std::fs::File;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::print;
use crate::aws::{ClientSpec, Retries, Signer};
use crate::cli::{EnrollArgs, GlobalArgs};
use crate::credentials::Secret;
use crate::error::{Error, Kind, Result};
use crate::files::{self, atomic, ini};
use crate::mfa::enroll::{self, CodeProblem, Guard, Iam, Leftover};
use crate::mfa::{MfaCode, totp};
use crate::profile::config_section;
use crate::ui;

/// Tries at the terminal before a bad code is an error.
const ATTEMPTS: usize = 3;

pub fn run(global: &GlobalArgs, args: EnrollArgs) -> Result<i32> {
    // The new device's seed will be in memory: whoever reads it makes the codes.
    crate::platform::make_undumpable();
    let settings = super::profile_settings(global)?;
    let keys = settings.keys()?;
    let spec = ClientSpec::new(&settings.client, "iam", Signer::LongTerm(keys), Retries::Standard)?;
    let iam = Iam::new(&spec);
    let shows = std::io::stdout().is_terminal() || args.show_secret;
    if args.serial.is_none() && !shows && args.seed_out.is_none() {
        return Err(Error::new(Kind::Usage, "the new device's seed would be shown nowhere: stdout is not a terminal")
            .hint("run in a terminal, or pass --show-secret (prints it) or --seed-out FILE (for automation)"));
    }
    // Claimed now, before IAM makes a device: a file made at that path meanwhile would
    // otherwise be overwritten with the seed.
    let mut seed_out = args.seed_out.as_deref().map(atomic::NewFile::create).transpose()?;
    let caller = iam.caller(&settings.client)?;
    let user = match (&args.user, &caller.user) {
        (Some(user), _) => user.clone(),
        (None, Some(user)) => user.clone(),
        (None, None) => {
            return Err(Error::config(format!(
                "the keys of profile '{}' are not an IAM user's ({})",
                settings.profile, caller.arn
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
    let place: Place = for_caller.then(|| (settings.config_path.clone(), settings.profile.clone()));
    let mut input = Input::choose()?;
    match &args.serial {
        Some(serial) => {
            let (first, second) = hardware_codes(&mut input, serial)?;
            iam.enable(&user, serial, &first, &second)?;
            enabled(&place, &user, serial)
        }
        None => {
            let name = args.device_name.clone().unwrap_or_else(|| user.clone());
            let guard = Guard::arm();
            let device = iam.create(&name)?;
            let serial = device.serial.clone();
            // Set when EnableMFADevice is sent: from then on IAM may have enabled the device
            // whatever this run hears (a Ctrl-C, a timeout), so the cleanup asks IAM first.
            let enable_sent = Arc::new(AtomicBool::new(false));
            let cleanup = {
                let (spec, user, serial, sent, place) =
                    (spec.clone(), user.clone(), serial.clone(), enable_sent.clone(), place.clone());
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
            let uri = enroll::otpauth_uri(&user, &caller.account, &device.seed);
            if shows {
                show(&uri, &device.seed, &serial)?;
            }
            if let Some(file) = seed_out.take() {
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
    }?;
    Ok(0)
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

/// The QR code and the seed, on stdout (the person asked for them: a terminal, or --show-secret).
fn show(uri: &str, seed: &Secret, serial: &str) -> Result<i32> {
    let qr = crate::output::qr::terminal(uri).unwrap_or_default();
    let grouped: Vec<String> =
        seed.expose().as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    print(
        format!(
            "Scan this QR code with your authenticator app (device {serial}):\n\n{qr}\n\nOr type this key into it (time-based, 6 digits, 30 s):\n  {}\n\n",
            grouped.join(" ")
        )
        .as_bytes(),
    )
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
        match enroll::check_first(seed, &code, unix_now()) {
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
        let problem = match enroll::check_pair(seed, &first, &second, unix_now()) {
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
