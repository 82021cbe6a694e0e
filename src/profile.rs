//! Settings, resolved once per run: flags > environment > `~/.aws/config` and
//! `~/.aws/credentials` > defaults, following the AWS CLI's names and files.
//! Reads files, never the network; every value remembers where it came from, so errors can
//! say "serial arn:... (from mfa_serial in profile work)".

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files::ini::Ini;
use crate::session::{LongTermKeys, Secret};

/// A value and the place it came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: String,
}

impl<T> Sourced<T> {
    fn new(value: T, origin: impl Into<String>) -> Self {
        Sourced { value, origin: origin.into() }
    }
}

/// What the user asked for on the command line; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub serial: Option<String>,
    pub duration: Option<u64>,
}

/// Reads one environment variable, treating empty as unset (as the AWS CLI does).
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[derive(Debug)]
pub struct Settings {
    /// The profile name ("default" when none is named).
    pub profile: String,
    /// Whether a profile was named (by --profile or AWS_PROFILE).
    pub profile_named: bool,
    pub config_path: PathBuf,
    pub credentials_path: PathBuf,
    pub cache_dir: PathBuf,
    pub region: Option<String>,
    pub serial: Option<Sourced<String>>,
    pub mfa_process: Option<Sourced<String>>,
    pub duration: Option<Sourced<u64>>,
    keys: Option<std::result::Result<LongTermKeys, KeyProblem>>,
    config: Ini,
    credentials: Ini,
}

#[derive(Debug, Clone)]
enum KeyProblem {
    SessionKeys(String),
    Incomplete(String),
}

pub fn home_dir() -> Result<PathBuf> {
    env_var("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| Error::config("HOME is not set").hint("set HOME to your home directory"))
}

fn read_ini(path: &Path) -> Result<Ini> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ini::default()),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    Ini::parse(&text).map_err(|e| {
        Error::config(format!("{}:{}: {}", path.display(), e.line, e.message))
            .hint(format!("fix line {} of {}", e.line, path.display()))
    })
}

/// The section of the config file that holds profile `name`.
pub fn config_section(name: &str) -> String {
    if name == "default" { "default".into() } else { format!("profile {name}") }
}

impl Settings {
    pub fn resolve(overrides: &Overrides) -> Result<Settings> {
        let home = home_dir()?;
        let aws_dir = home.join(".aws");
        let config_path = env_var("AWS_CONFIG_FILE").map(PathBuf::from).unwrap_or_else(|| aws_dir.join("config"));
        let credentials_path = env_var("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| aws_dir.join("credentials"));
        let cache_dir = env_var("AWSMFA_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| aws_dir.join("awsmfa"));
        let (profile, profile_named) = match (&overrides.profile, env_var("AWS_PROFILE")) {
            (Some(p), _) => (p.clone(), true),
            (None, Some(p)) => (p, true),
            (None, None) => ("default".to_string(), false),
        };
        let config = read_ini(&config_path)?;
        let credentials = read_ini(&credentials_path)?;
        let mut settings = Settings {
            profile,
            profile_named,
            config_path,
            credentials_path,
            cache_dir,
            region: None,
            serial: None,
            mfa_process: None,
            duration: None,
            keys: None,
            config,
            credentials,
        };
        settings.region = overrides
            .region
            .clone()
            .or_else(|| env_var("AWS_REGION"))
            .or_else(|| env_var("AWS_DEFAULT_REGION"))
            .or_else(|| settings.profile_value("region").map(|s| s.value));
        settings.serial = match &overrides.serial {
            Some(s) => Some(Sourced::new(s.clone(), "--serial")),
            None => env_var("AWS_MFA_SERIAL_NUMBER")
                .map(|s| Sourced::new(s, "AWS_MFA_SERIAL_NUMBER"))
                .or_else(|| settings.profile_value("mfa_serial"))
                .or_else(|| settings.profile_value("aws_mfa_device")),
        };
        settings.mfa_process = settings.profile_value("mfa_process");
        settings.duration = match overrides.duration {
            Some(d) => Some(Sourced::new(d, "--duration")),
            None => match settings.profile_value("duration_seconds") {
                Some(v) => Some(Sourced::new(
                    crate::clock::parse_duration(&v.value).map_err(|e| {
                        Error::config(format!("duration_seconds ({}): {e}", v.origin))
                    })?,
                    v.origin,
                )),
                None => None,
            },
        };
        settings.keys = Some(settings.find_keys());
        Ok(settings)
    }

    /// The credentials-file section holding the long-term keys: `NAME-long-term` when it
    /// exists (the aws-mfa convention), else `NAME` itself.
    pub fn long_term_section(&self) -> String {
        let long = format!("{}-long-term", self.profile);
        if self.credentials.section(&long).is_some() { long } else { self.profile.clone() }
    }

    /// A setting of the profile: the config file first, then the credentials file's
    /// long-term section, then its plain section.
    pub fn profile_value(&self, key: &str) -> Option<Sourced<String>> {
        let section = config_section(&self.profile);
        if let Some(v) = self.config.get(&section, key) {
            return Some(Sourced::new(v.to_string(), format!("{key} in [{section}] of {}", self.config_path.display())));
        }
        let long = format!("{}-long-term", self.profile);
        for section in [long.as_str(), self.profile.as_str()] {
            if let Some(v) = self.credentials.get(section, key) {
                return Some(Sourced::new(
                    v.to_string(),
                    format!("{key} in [{section}] of {}", self.credentials_path.display()),
                ));
            }
        }
        None
    }

    fn find_keys(&self) -> std::result::Result<LongTermKeys, KeyProblem> {
        if !self.profile_named {
            if let (Some(id), Some(secret)) = (env_var("AWS_ACCESS_KEY_ID"), env_var("AWS_SECRET_ACCESS_KEY")) {
                if env_var("AWS_SESSION_TOKEN").is_some() || env_var("AWS_SECURITY_TOKEN").is_some() {
                    return Err(KeyProblem::SessionKeys("AWS_ACCESS_KEY_ID (AWS_SESSION_TOKEN is set)".into()));
                }
                return Ok(LongTermKeys {
                    access_key_id: id,
                    secret_access_key: Secret::new(secret),
                    origin: "AWS_ACCESS_KEY_ID".into(),
                });
            }
        }
        let long = format!("{}-long-term", self.profile);
        let config_name = config_section(&self.profile);
        let places = [
            (&self.credentials, long.as_str(), &self.credentials_path),
            (&self.credentials, self.profile.as_str(), &self.credentials_path),
            (&self.config, config_name.as_str(), &self.config_path),
        ];
        for (ini, section, path) in places {
            let id = ini.get(section, "aws_access_key_id");
            let secret = ini.get(section, "aws_secret_access_key");
            let origin = format!("[{section}] of {}", path.display());
            match (id, secret) {
                (Some(id), Some(secret)) => {
                    if ini.get(section, "aws_session_token").is_some() {
                        return Err(KeyProblem::SessionKeys(origin));
                    }
                    return Ok(LongTermKeys {
                        access_key_id: id.to_string(),
                        secret_access_key: Secret::new(secret),
                        origin,
                    });
                }
                (Some(_), None) | (None, Some(_)) => return Err(KeyProblem::Incomplete(origin)),
                (None, None) => {}
            }
        }
        Err(KeyProblem::Incomplete(String::new()))
    }

    /// The long-term keys to call STS with, or an error that says how to provide them.
    pub fn keys(&self) -> Result<&LongTermKeys> {
        match self.keys.as_ref().expect("resolved") {
            Ok(keys) => Ok(keys),
            Err(KeyProblem::SessionKeys(origin)) => Err(Error::config(format!(
                "the keys in {origin} are temporary session keys; awsmfa needs an IAM user's long-term keys"
            ))
            .hint(if origin.starts_with("AWS_ACCESS_KEY_ID") {
                "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN, or name a profile with --profile".to_string()
            } else {
                format!("put the long-term keys in [{}-long-term] of {}", self.profile, self.credentials_path.display())
            })),
            Err(KeyProblem::Incomplete(origin)) if !origin.is_empty() => Err(Error::config(format!(
                "{origin} has only one of aws_access_key_id and aws_secret_access_key"
            ))
            .hint("add the missing one, or run `aws configure` for this profile")),
            Err(KeyProblem::Incomplete(_)) => Err(Error::config(format!(
                "no long-term keys for profile '{}'",
                self.profile
            ))
            .hint(format!(
                "put aws_access_key_id and aws_secret_access_key in [{}] or [{}-long-term] of {}, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                self.profile,
                self.profile,
                self.credentials_path.display()
            ))),
        }
    }

    /// The endpoint for `service` ("sts", "iam", "ec2") as the AWS CLI finds it:
    /// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then the profile's endpoint_url.
    pub fn endpoint(&self, service: &str) -> Option<String> {
        let ignore = env_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .map(|v| v.eq_ignore_ascii_case("true"))
            .unwrap_or(false)
            || self
                .profile_value("ignore_configured_endpoint_urls")
                .map(|v| v.value.eq_ignore_ascii_case("true"))
                .unwrap_or(false);
        if ignore {
            return None;
        }
        env_var(&format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase()))
            .or_else(|| env_var("AWS_ENDPOINT_URL"))
            .or_else(|| self.profile_value("endpoint_url").map(|v| v.value))
    }

    /// Whether the credentials file has a section `name`.
    pub fn has_credentials_section(&self, name: &str) -> bool {
        self.credentials.section(name).is_some()
    }
}
