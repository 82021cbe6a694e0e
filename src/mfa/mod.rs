//! Where the 6-digit MFA code comes from. One trait, `CodeSource`, and one small type per
//! source: a code given on the command line or in the environment, a command that prints
//! one (`mfa_process`, e.g. a YubiKey reader), a TOTP seed (`AWSMFA_TOTP_SECRET`), or a
//! prompt on the terminal. Also: finding the MFA device when none is configured.

pub mod device;
pub mod enroll;
pub mod prompt;
pub mod totp;

use std::io::IsTerminal;
use std::process::Stdio;

use crate::config::Sourced;
use crate::credentials::Secret;
use crate::error::{Error, Result};

/// This layer's part of the plan: the code sources configured (besides `--code` and the
/// terminal), resolved by `profile`.
#[derive(Debug, Default)]
pub struct Sources {
    /// A code from AWS_MFA_TOKEN_CODE (the recipe's variable).
    pub env_code: Option<String>,
    /// The profile's `mfa_process`, already allowed to run (the AWS files are the user's).
    pub process: Option<Sourced<String>>,
    /// A TOTP seed from AWSMFA_TOTP_SECRET.
    pub totp_seed: Option<Secret>,
}

/// A well-formed code: six ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaCode(String);

impl MfaCode {
    pub fn parse(text: &str) -> Option<MfaCode> {
        let text = text.trim();
        (text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())).then(|| MfaCode(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub trait CodeSource {
    /// Where codes come from, for messages ("--code", "mfa_process in [profile x]").
    fn origin(&self) -> String;
    /// The next code for device `serial`. `refused` is set when the previous code this
    /// source gave was already spent, with the seconds until the device changes code.
    fn code(&mut self, serial: &str, refused: Option<u64>) -> Result<MfaCode>;
    /// Whether asking again later gives a new code (a prompt, a command, a seed) or the
    /// same one (a code passed on the command line).
    fn renews(&self) -> bool;
    /// Whether new codes come without a person (a seed, a command): then a code AWS
    /// refused can be followed by the next one without asking anyone.
    fn unattended(&self) -> bool {
        false
    }
}

/// Secrets a code command has no use for: it gets neither keys nor other MFA factors.
pub const SECRET_VARIABLES: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_MFA_TOKEN_CODE",
    "AWSMFA_TOTP_SECRET",
    "AWSMFA_KEYSTORE_PASSPHRASE",
];

/// `--code` or `AWS_MFA_TOKEN_CODE`.
pub struct GivenCode {
    code: Sourced<String>,
}

impl CodeSource for GivenCode {
    fn origin(&self) -> String {
        self.code.origin.clone()
    }
    fn code(&mut self, _serial: &str, _refused: Option<u64>) -> Result<MfaCode> {
        MfaCode::parse(&self.code.value).ok_or_else(|| {
            Error::config(format!("the MFA code from {} is not 6 digits", self.code.origin))
                .hint("pass the 6-digit code your MFA device shows now")
        })
    }
    fn renews(&self) -> bool {
        false
    }
}

/// A command that prints a code (the profile's `mfa_process`), run with `sh -c`.
pub struct ProcessCode {
    command: Sourced<String>,
}

impl CodeSource for ProcessCode {
    fn origin(&self) -> String {
        self.command.origin.clone()
    }
    fn code(&mut self, serial: &str, refused: Option<u64>) -> Result<MfaCode> {
        if let Some(wait) = refused {
            prompt::countdown(wait, "the last code was already used; waiting for the next one");
        }
        // A reader that asks for a touch or a PIN must reach the person: it gets the terminal
        // as stdin (and as stderr when ours is hidden, as under credential_process).
        let (tty_in, tty_out) = crate::platform::terminal().unzip();
        let stdin = tty_in.map(Stdio::from).unwrap_or_else(Stdio::null);
        let stderr = match tty_out {
            Some(t) if !std::io::stderr().is_terminal() => Stdio::from(t),
            _ => Stdio::inherit(),
        };
        let mut command = crate::platform::shell(&self.command.value);
        command.env("AWSMFA_SERIAL", serial).stdin(stdin).stderr(stderr);
        for name in SECRET_VARIABLES {
            command.env_remove(name);
        }
        let output = command.output().map_err(|e| {
            Error::config(format!("cannot run mfa_process ({}): {}", self.command.origin, crate::error::io_reason(&e)))
                .hint("mfa_process is run with `sh -c`: check that sh is installed")
        })?;
        if !output.status.success() {
            return Err(Error::config(format!("mfa_process ({}) failed with {}", self.command.origin, output.status))
                .hint("run the command by hand to see why; it must print a 6-digit code"));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        MfaCode::parse(&text).ok_or_else(|| {
            Error::config(format!("mfa_process ({}) did not print a 6-digit code", self.command.origin))
                .hint("the command must print only the code, e.g. `123456`")
        })
    }
    fn renews(&self) -> bool {
        true
    }
    fn unattended(&self) -> bool {
        true
    }
}

/// A base32 TOTP seed (`AWSMFA_TOTP_SECRET`): codes computed here, for automation.
/// Deliberately not `Debug`: the seed must never be printed.
pub struct TotpCode {
    key: Vec<u8>,
}

impl TotpCode {
    pub fn from_base32(seed: &str) -> Result<TotpCode> {
        let key = totp::decode_base32(seed).ok_or_else(|| {
            Error::config("AWSMFA_TOTP_SECRET is not a base32 seed")
                .hint("use the Base32StringSeed (or the secret= part of the QR code) of the virtual MFA device")
        })?;
        Ok(TotpCode { key })
    }
}

impl CodeSource for TotpCode {
    fn origin(&self) -> String {
        "AWSMFA_TOTP_SECRET".into()
    }
    fn code(&mut self, _serial: &str, refused: Option<u64>) -> Result<MfaCode> {
        if let Some(wait) = refused {
            prompt::countdown(wait, "the current code was already used; waiting for the next one");
        }
        let now = crate::clock::now().unix_timestamp().max(0) as u64;
        Ok(MfaCode(totp::code_at_step(&self.key, totp::step_at(now))))
    }
    fn renews(&self) -> bool {
        true
    }
    fn unattended(&self) -> bool {
        true
    }
}

/// Picks the source: `--code`, AWS_MFA_TOKEN_CODE, the profile's `mfa_process`,
/// AWSMFA_TOTP_SECRET, else a prompt on the terminal (or an error naming all four).
pub fn choose(sources: &Sources, flag: Option<&str>) -> Result<Box<dyn CodeSource>> {
    if let Some(code) = flag {
        return Ok(Box::new(GivenCode { code: Sourced { value: code.to_string(), origin: "--code".into() } }));
    }
    if let Some(code) = &sources.env_code {
        return Ok(Box::new(GivenCode { code: Sourced { value: code.clone(), origin: "AWS_MFA_TOKEN_CODE".into() } }));
    }
    if let Some(command) = &sources.process {
        return Ok(Box::new(ProcessCode { command: command.clone() }));
    }
    if let Some(seed) = &sources.totp_seed {
        return Ok(Box::new(TotpCode::from_base32(seed.expose())?));
    }
    match prompt::TtyPrompt::open() {
        Some(p) => Ok(Box::new(p)),
        None => Err(Error::config("no MFA code: no terminal to ask on, and no code source configured").hint(
            "log in once in a terminal (`awsmfa login --profile NAME`: credential_process then reuses that session), or pass --code 123456, set AWS_MFA_TOKEN_CODE, set mfa_process in the profile, or set AWSMFA_TOTP_SECRET",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(MfaCode::parse(" 012345\n").unwrap().as_str(), "012345");
        assert!(MfaCode::parse("12345").is_none());
        assert!(MfaCode::parse("1234567").is_none());
        assert!(MfaCode::parse("12a456").is_none());
    }

    #[test]
    fn a_totp_seed_gives_the_current_code() {
        let mut source = TotpCode::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        let now = crate::clock::now().unix_timestamp() as u64;
        let code = source.code("arn", None).unwrap();
        let expected: Vec<String> =
            [now / 30, now / 30 + 1].iter().map(|s| totp::code_at_step(b"12345678901234567890", *s)).collect();
        assert!(expected.contains(&code.as_str().to_string()));
        assert!(TotpCode::from_base32("!!").is_err());
    }
}
