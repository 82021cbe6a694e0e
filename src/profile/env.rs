//! The process environment, the one place awsmfa reads variables from: read once per run,
//! every variable awsmfa reads listed with whether it holds a secret (never shown, never
//! handed to a program that did not ask), so that a test can resolve any setting from a
//! table of variables.

use super::Sourced;
use crate::error::{Error, Result};

/// The process environment, read once per run (`Environment::from_process`, in
/// `Settings::load`) and passed down: nothing else in awsmfa reads a variable, so a test can
/// resolve any setting from a table of variables and files.
#[derive(Debug, Clone, Default)]
pub struct Environment(std::collections::BTreeMap<String, String>);

/// Every variable awsmfa reads, and whether its value is a secret (never shown, not even
/// in an error). `Environment::get` asks for no other (checked in debug builds).
const VARIABLES: &[(&str, bool)] = &[
    ("HOME", false),
    ("USERPROFILE", false),
    ("HOMEDRIVE", false),
    ("HOMEPATH", false),
    ("AWS_CONFIG_FILE", false),
    ("AWS_SHARED_CREDENTIALS_FILE", false),
    ("AWS_PROFILE", false),
    ("AWS_DEFAULT_PROFILE", false),
    ("AWS_REGION", false),
    ("AWS_DEFAULT_REGION", false),
    ("AWS_ENDPOINT_URL", false),
    ("AWS_ENDPOINT_URL_STS", false),
    ("AWS_ENDPOINT_URL_IAM", false),
    ("AWS_ENDPOINT_URL_EC2", false),
    ("AWS_ENDPOINT_URL_SIGNIN", false),
    ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", false),
    ("AWS_CA_BUNDLE", false),
    ("AWS_MFA_SERIAL_NUMBER", false),
    ("AWS_ACCESS_KEY_ID", false),
    ("AWS_ACCESS_KEY", false),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", false),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false),
    ("AWS_SECRET_ACCESS_KEY", true),
    ("AWS_SESSION_TOKEN", true),
    ("AWS_SECURITY_TOKEN", true),
    ("AWS_MFA_TOKEN_CODE", true),
    ("SENZING_AWS_KEYPAIR", false),
    ("AWSMFA_PROFILE", false),
    ("AWSMFA_CACHE_DIR", false),
    ("AWS_LOGIN_CACHE_DIRECTORY", false),
    ("AWSMFA_MIN_TTL", false),
    ("AWSMFA_LOCK_TIMEOUT", false),
    ("AWSMFA_POLL_SECONDS", false),
    ("AWSMFA_TOTP_SECRET", true),
    ("AWSMFA_KEYSTORE", false),
    ("AWSMFA_KEYSTORE_FILE", false),
    ("AWSMFA_KEYSTORE_PASSPHRASE", true),
    ("DBUS_SESSION_BUS_ADDRESS", false),
    ("BROWSER", false),
    ("NO_COLOR", false),
    ("TERM", false),
    (crate::clock::TEST_CLOCK_VARIABLE, false),
];

/// Every variable awsmfa reads (the man page's ENVIRONMENT names them).
pub fn variable_names() -> impl Iterator<Item = &'static str> {
    VARIABLES.iter().map(|(name, _)| *name)
}

/// The variables awsmfa reads that hold secrets: never handed to a program that did not ask.
pub fn secret_variables() -> Vec<&'static str> {
    VARIABLES.iter().filter(|(_, secret)| *secret).map(|(name, _)| *name).collect()
}

/// What NO_COLOR and TERM allow the messages on stderr (colour, a spinner), for `main` to
/// give `ui` before anything is printed. Read on its own, before `Environment::from_process`:
/// it holds whatever the bytes (a non-UTF-8 TERM is not dumb, it is no reason to stop), and
/// the error that a bad variable gives is printed already with these settings.
pub fn terminal() -> crate::ui::Terminal {
    crate::ui::Terminal {
        no_colour: std::env::var_os("NO_COLOR").is_some(),
        dumb: std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
    }
}

/// The directories of PATH, where a program named without a directory is found (as the
/// shell finds it); read as bytes, since a directory's name need not be UTF-8.
pub fn search_path() -> Vec<std::path::PathBuf> {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default()
}

/// The profile a command names before its settings are loaded: `named` (its argument or
/// --profile), else the environment's (`Environment::profile`), else `default`.
pub fn profile_name(named: Option<&str>) -> Result<String> {
    let env = Environment::from_process()?;
    Ok(named.or(env.profile()).unwrap_or("default").to_string())
}

impl Environment {
    /// This process's variables. One that awsmfa reads but that is not UTF-8 is an error:
    /// taken as unset, it would silently mean another profile, file or home.
    pub fn from_process() -> Result<Self> {
        Self::from_os(std::env::vars_os())
    }

    pub(super) fn from_os(vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>) -> Result<Self> {
        let mut map = std::collections::BTreeMap::new();
        for (name, value) in vars {
            let Ok(name) = name.into_string() else { continue };
            match value.into_string() {
                Ok(value) => {
                    map.insert(name, value);
                }
                Err(value) => {
                    let Some(&(_, secret)) = VARIABLES.iter().find(|(known, _)| *known == name) else { continue };
                    let shown = if secret { String::new() } else { format!(" ({:?})", value.to_string_lossy()) };
                    return Err(Error::config(format!("{name} is not valid UTF-8{shown}"))
                        .hint(format!("set {name} to UTF-8 text (awsmfa reads it as the AWS CLI does), or unset it")));
                }
            }
        }
        Ok(Environment(map))
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Environment(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    /// The profile named by the environment, as the AWS CLI reads it: AWS_PROFILE, else
    /// AWS_DEFAULT_PROFILE.
    pub fn profile(&self) -> Option<&str> {
        self.get("AWS_PROFILE").or(self.get("AWS_DEFAULT_PROFILE"))
    }

    /// A variable's value; empty counts as unset, as in the AWS CLI.
    pub fn get(&self, name: &str) -> Option<&str> {
        debug_assert!(VARIABLES.iter().any(|(known, _)| *known == name), "{name} is missing from VARIABLES");
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub(super) fn sourced(&self, name: &str) -> Option<Sourced<String>> {
        self.get(name).map(|v| Sourced::new(v.to_string(), name))
    }
}
