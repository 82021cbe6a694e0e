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
    /// An ad-hoc role to assume on top of the profile (`--role-arn`).
    pub role_arn: Option<String>,
    /// Assume the role directly with the MFA code on the long-term keys (`--direct`).
    pub direct: bool,
}

/// One AssumeRole on the way from the long-term keys to the credentials asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHop {
    pub role_arn: String,
    /// The profile that names this role ("--role-arn" for an ad-hoc one).
    pub profile: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    pub duration: Option<Sourced<u64>>,
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
    /// The profile whose keys sign the first call: `profile` itself, or the end of its
    /// `source_profile` chain when it is a role profile.
    pub base_profile: String,
    /// Roles to assume, first to last; empty for a plain MFA session.
    pub roles: Vec<RoleHop>,
    /// Assume the first role with the MFA code on the long-term keys (no GetSessionToken).
    pub direct: bool,
    /// Profiles searched for a setting, in order: the named one, its sources, the base.
    lookup: Vec<String>,
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
        Error::config(format!("{}:{}: {}", path.display(), e.line, e.message)).hint(format!(
            "fix line {} of {}",
            e.line,
            path.display()
        ))
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
        let credentials_path =
            env_var("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from).unwrap_or_else(|| aws_dir.join("credentials"));
        let cache_dir = env_var("AWSMFA_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| aws_dir.join("awsmfa"));
        let named_by_env = env_var("AWS_PROFILE").or_else(|| env_var("AWS_DEFAULT_PROFILE"));
        let (profile, profile_named) = match (&overrides.profile, named_by_env) {
            (Some(p), _) => (p.clone(), true),
            (None, Some(p)) => (p, true),
            (None, None) => ("default".to_string(), false),
        };
        let config = read_ini(&config_path)?;
        let credentials = read_ini(&credentials_path)?;
        let mut settings = Settings {
            base_profile: profile.clone(),
            roles: Vec::new(),
            direct: overrides.direct,
            lookup: vec![profile.clone()],
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
        settings.resolve_roles(overrides)?;
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
        // --duration is for the credentials asked for: the MFA session, or the last role.
        settings.duration = match overrides.duration {
            Some(d) if settings.roles.is_empty() => Some(Sourced::new(d, "--duration")),
            _ => settings.duration_in(&settings.base_profile.clone())?,
        };
        if let (Some(d), Some(last)) = (overrides.duration, settings.roles.last_mut()) {
            last.duration = Some(Sourced::new(d, "--duration"));
        }
        settings.keys = Some(settings.find_keys());
        Ok(settings)
    }

    /// Follows `role_arn` + `source_profile` from the named profile down to the profile with
    /// the long-term keys, as the AWS CLI does; a cycle is a configuration error.
    fn resolve_roles(&mut self, overrides: &Overrides) -> Result<()> {
        let mut hops = Vec::new();
        let mut current = self.profile.clone();
        let mut seen = vec![current.clone()];
        while let Some(role_arn) = self.value_in(&current, "role_arn") {
            hops.push(RoleHop {
                role_arn: role_arn.value,
                profile: current.clone(),
                external_id: self.value_in(&current, "external_id").map(|v| v.value),
                session_name: self.value_in(&current, "role_session_name").map(|v| v.value),
                duration: self.duration_in(&current)?,
            });
            let Some(source) = self.value_in(&current, "source_profile") else {
                let hint = if self.value_in(&current, "credential_source").is_some() {
                    "credential_source is not supported: name the profile with the long-term keys in source_profile"
                } else {
                    "add source_profile = NAME (the profile with the long-term keys)"
                };
                return Err(Error::config(format!("profile '{current}' has role_arn but no source_profile")).hint(hint));
            };
            if seen.contains(&source.value) {
                seen.push(source.value);
                return Err(Error::config(format!("source_profile cycle: {}", seen.join(" -> "))).hint(format!(
                    "make the chain end at a profile with long-term keys (see {})",
                    self.config_path.display()
                )));
            }
            seen.push(source.value.clone());
            current = source.value;
        }
        hops.reverse();
        if let Some(role_arn) = &overrides.role_arn {
            hops.push(RoleHop {
                role_arn: role_arn.clone(),
                profile: "--role-arn".into(),
                external_id: None,
                session_name: None,
                duration: None,
            });
        }
        self.direct = self.direct
            || self
                .value_in(&self.profile, "awsmfa_direct")
                .map(|v| v.value.eq_ignore_ascii_case("true"))
                .unwrap_or(false);
        if self.direct && hops.is_empty() {
            return Err(Error::config("--direct needs a role: a profile with role_arn, or --role-arn"));
        }
        self.base_profile = current;
        self.lookup = seen;
        self.roles = hops;
        Ok(())
    }

    fn duration_in(&self, profile: &str) -> Result<Option<Sourced<u64>>> {
        match self.value_in(profile, "duration_seconds") {
            Some(v) => Ok(Some(Sourced::new(
                crate::clock::parse_duration(&v.value)
                    .map_err(|e| Error::config(format!("duration_seconds ({}): {e}", v.origin)))?,
                v.origin,
            ))),
            None => Ok(None),
        }
    }

    /// The credentials-file section holding the long-term keys: `NAME-long-term` when it
    /// exists (the aws-mfa convention), else `NAME` itself.
    pub fn long_term_section(&self) -> String {
        let long = format!("{}-long-term", self.base_profile);
        if self.credentials.section(&long).is_some() { long } else { self.base_profile.clone() }
    }

    /// A setting: from the named profile, else the profiles its role chain goes through.
    pub fn profile_value(&self, key: &str) -> Option<Sourced<String>> {
        self.lookup.iter().find_map(|p| self.value_in(p, key))
    }

    /// A setting of one profile: the config file first, then the credentials file's
    /// long-term section, then its plain section.
    fn value_in(&self, profile: &str, key: &str) -> Option<Sourced<String>> {
        let section = config_section(profile);
        if let Some(v) = self.config.get(&section, key) {
            return Some(Sourced::new(
                v.to_string(),
                format!("{key} in [{section}] of {}", self.config_path.display()),
            ));
        }
        let long = format!("{profile}-long-term");
        for section in [long.as_str(), profile] {
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
        if !self.profile_named
            && self.base_profile == self.profile
            && let (Some(id), Some(secret)) = (env_var("AWS_ACCESS_KEY_ID"), env_var("AWS_SECRET_ACCESS_KEY"))
        {
            if env_var("AWS_SESSION_TOKEN").is_some() || env_var("AWS_SECURITY_TOKEN").is_some() {
                return Err(KeyProblem::SessionKeys("AWS_ACCESS_KEY_ID (AWS_SESSION_TOKEN is set)".into()));
            }
            return Ok(LongTermKeys {
                access_key_id: id,
                secret_access_key: Secret::new(secret),
                origin: "AWS_ACCESS_KEY_ID".into(),
            });
        }
        let long = format!("{}-long-term", self.base_profile);
        let config_name = config_section(&self.base_profile);
        let places = [
            (&self.credentials, long.as_str(), &self.credentials_path),
            (&self.credentials, self.base_profile.as_str(), &self.credentials_path),
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
                "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN, or name a profile with --profile"
                    .to_string()
            } else {
                format!(
                    "put the long-term keys in [{}-long-term] of {}",
                    self.base_profile,
                    self.credentials_path.display()
                )
            })),
            Err(KeyProblem::Incomplete(origin)) if !origin.is_empty() => {
                Err(Error::config(format!("{origin} has only one of aws_access_key_id and aws_secret_access_key"))
                    .hint("add the missing one, or run `aws configure` for this profile"))
            }
            Err(KeyProblem::Incomplete(_)) if self.profile_named && !self.profile_exists(&self.base_profile) => {
                let known = self.profile_names();
                Err(Error::config(format!(
                    "profile '{}' is in neither {} nor {}",
                    self.base_profile,
                    self.config_path.display(),
                    self.credentials_path.display()
                ))
                .hint(if known.is_empty() {
                    "run `aws configure --profile NAME` to create one".to_string()
                } else {
                    format!("known profiles: {}", known.join(", "))
                }))
            }
            Err(KeyProblem::Incomplete(_)) => {
                let env = if self.profile_named { "" } else { ", or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" };
                Err(Error::config(format!("no long-term keys for profile '{}'", self.base_profile)).hint(format!(
                    "put aws_access_key_id and aws_secret_access_key in [{0}] or [{0}-long-term] of {1}{env}",
                    self.base_profile,
                    self.credentials_path.display()
                )))
            }
        }
    }

    fn profile_exists(&self, name: &str) -> bool {
        self.config.section(&config_section(name)).is_some()
            || self.credentials.section(name).is_some()
            || self.credentials.section(&format!("{name}-long-term")).is_some()
    }

    /// Every profile named in the two files, for hints.
    fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .config
            .section_names()
            .filter_map(|s| if s == "default" { Some(s) } else { s.strip_prefix("profile ") })
            .chain(self.credentials.section_names())
            .map(|s| s.trim().to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The endpoint for `service` ("sts", "iam", "ec2") as the AWS CLI finds it:
    /// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then the profile's endpoint_url.
    pub fn endpoint(&self, service: &str) -> Option<String> {
        let ignore =
            env_var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false)
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

    /// The CA bundle to trust for HTTPS, as the AWS CLI finds it: AWS_CA_BUNDLE, then the
    /// profile's `ca_bundle`.
    pub fn ca_bundle(&self) -> Option<Sourced<String>> {
        env_var("AWS_CA_BUNDLE").map(|v| Sourced::new(v, "AWS_CA_BUNDLE")).or_else(|| self.profile_value("ca_bundle"))
    }
}
