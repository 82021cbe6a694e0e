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
    /// The AWS CLI's `cli_connect_timeout` / `cli_read_timeout`, in seconds: None when not
    /// set, Some(None) when set to 0 (no limit).
    pub connect_timeout: Option<Option<std::time::Duration>>,
    pub read_timeout: Option<Option<std::time::Duration>>,
    keys: Option<std::result::Result<LongTermKeys, KeyProblem>>,
    config: Ini,
    credentials: Ini,
    config_trusted: bool,
    credentials_trusted: bool,
}

#[derive(Debug, Clone)]
enum KeyProblem {
    SessionKeys(String),
    Incomplete(String),
    Malformed(String),
}

pub fn home_dir() -> Result<PathBuf> {
    env_var("HOME").map(PathBuf::from).ok_or_else(|| {
        Error::config("HOME is not set")
            .hint("set HOME, or name every file: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and AWSMFA_CACHE_DIR")
    })
}

/// A path from a variable, `~/` expanded as the AWS SDKs do; else `default` under HOME.
/// HOME is needed only when a path uses it.
fn path_setting(var: &str, default: &str) -> Result<PathBuf> {
    match env_var(var) {
        Some(v) if v == "~" => home_dir(),
        Some(v) => match v.strip_prefix("~/") {
            Some(rest) => Ok(home_dir()?.join(rest)),
            None => Ok(PathBuf::from(v)),
        },
        None => Ok(home_dir()?.join(default)),
    }
}

/// An AWS file, parsed; and whether it is safe to take commands (`mfa_process`) from.
fn read_ini(path: &Path) -> Result<(Ini, bool)> {
    let Some(file) = crate::files::read::user_file(path)? else { return Ok((Ini::default(), true)) };
    let ini = Ini::parse(&file.text).map_err(|e| {
        Error::config(format!("{}:{}: {}", path.display(), e.line, e.message)).hint(format!(
            "fix line {} of {}",
            e.line,
            path.display()
        ))
    })?;
    Ok((ini, file.trusted))
}

/// An access key id as AWS makes them: 16 to 128 ASCII letters, digits or underscores.
pub fn valid_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A region name: lower-case letters, digits and dashes (`eu-west-1`), nothing a shell or
/// a URL could read as more.
pub fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An endpoint URL the SDK can use: http(s), a host, no spaces or control characters.
fn valid_endpoint(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(':')
        && url.bytes().all(|b| b.is_ascii_graphic())
        && host.rsplit_once(':').is_none_or(|(h, port)| {
            h.ends_with(']') || (!h.is_empty() && !port.is_empty() && port.parse::<u16>().is_ok())
        })
}

/// The section of the config file that holds profile `name`.
pub fn config_section(name: &str) -> String {
    if name == "default" { "default".into() } else { format!("profile {name}") }
}

impl Settings {
    pub fn resolve(overrides: &Overrides) -> Result<Settings> {
        let config_path = path_setting("AWS_CONFIG_FILE", ".aws/config")?;
        let credentials_path = path_setting("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")?;
        let cache_dir = path_setting("AWSMFA_CACHE_DIR", ".aws/awsmfa")?;
        let named_by_env = env_var("AWS_PROFILE").or_else(|| env_var("AWS_DEFAULT_PROFILE"));
        let (profile, profile_named) = match (&overrides.profile, named_by_env) {
            (Some(p), _) => (p.clone(), true),
            (None, Some(p)) => (p, true),
            (None, None) => ("default".to_string(), false),
        };
        let (config, config_trusted) = read_ini(&config_path)?;
        let (credentials, credentials_trusted) = read_ini(&credentials_path)?;
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
            config_trusted,
            credentials_trusted,
            connect_timeout: None,
            read_timeout: None,
        };
        settings.resolve_roles(overrides)?;
        let region = match &overrides.region {
            Some(r) => Some(Sourced::new(r.clone(), "--region")),
            None => env_var("AWS_REGION")
                .map(|r| Sourced::new(r, "AWS_REGION"))
                .or_else(|| env_var("AWS_DEFAULT_REGION").map(|r| Sourced::new(r, "AWS_DEFAULT_REGION")))
                .or_else(|| settings.profile_value("region")),
        };
        if let Some(r) = &region
            && !valid_region(&r.value)
        {
            return Err(Error::config(format!("{:?} (from {}) is not a region name", r.value, r.origin))
                .hint("a region looks like us-east-1 or eu-west-1"));
        }
        settings.region = region.map(|r| r.value);
        for service in ["sts", "iam", "ec2"] {
            settings.check_endpoint(service)?;
        }
        settings.connect_timeout = settings.timeout_setting("cli_connect_timeout")?;
        settings.read_timeout = settings.timeout_setting("cli_read_timeout")?;
        settings.serial = match &overrides.serial {
            Some(s) => Some(Sourced::new(s.clone(), "--serial")),
            None => env_var("AWS_MFA_SERIAL_NUMBER")
                .map(|s| Sourced::new(s, "AWS_MFA_SERIAL_NUMBER"))
                .or_else(|| settings.profile_value("mfa_serial"))
                .or_else(|| settings.profile_value("aws_mfa_device")),
        };
        settings.mfa_process = settings.profile_value("mfa_process");
        if let Some(command) = &settings.mfa_process
            && !(settings.config_trusted && settings.credentials_trusted)
        {
            return Err(Error::config(format!(
                "refusing to run mfa_process ({}): the file it comes from can be written by others",
                command.origin
            ))
            .hint("make your AWS files yours and not group/world-writable (`chmod go-w FILE`)"));
        }
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
            if !valid_key_id(&id) || secret.chars().any(char::is_control) {
                return Err(KeyProblem::Malformed("AWS_ACCESS_KEY_ID".into()));
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
                    if !valid_key_id(id) || secret.chars().any(char::is_control) {
                        return Err(KeyProblem::Malformed(origin));
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
            Err(KeyProblem::Malformed(origin)) => Err(Error::config(format!(
                "the access key id in {origin} is not one AWS makes (16 to 128 letters and digits)"
            ))
            .hint("copy the key id again from the IAM console or `aws iam list-access-keys`")),
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

    /// Where profile `name` itself keeps long-term keys (a key id without a session token),
    /// in the credentials file or the config file; None when it keeps none.
    pub fn long_term_keys_of(&self, name: &str) -> Option<String> {
        let config_name = config_section(name);
        [(&self.credentials, name, &self.credentials_path), (&self.config, config_name.as_str(), &self.config_path)]
            .into_iter()
            .find(|(ini, section, _)| {
                ini.get(section, "aws_access_key_id").is_some() && ini.get(section, "aws_session_token").is_none()
            })
            .map(|(_, section, path)| format!("[{section}] of {}", path.display()))
    }

    /// A malformed endpoint URL is a configuration error, found before any code is spent.
    fn check_endpoint(&self, service: &str) -> Result<()> {
        match self.endpoint(service) {
            Some(url) if !valid_endpoint(&url) => Err(Error::config(format!(
                "{url:?} is not a usable endpoint URL (for {service}; from AWS_ENDPOINT_URL*, or endpoint_url in the profile)"
            ))
            .hint("an endpoint URL looks like https://sts.eu-west-1.amazonaws.com or http://127.0.0.1:5000")),
            _ => Ok(()),
        }
    }

    /// A timeout in seconds from the profile (`cli_connect_timeout`, `cli_read_timeout`).
    fn timeout_setting(&self, key: &str) -> Result<Option<Option<std::time::Duration>>> {
        let Some(v) = self.profile_value(key) else { return Ok(None) };
        match v.value.parse::<f64>() {
            Ok(0.0) => Ok(Some(None)),
            Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => {
                Ok(Some(Some(std::time::Duration::from_secs_f64(secs))))
            }
            _ => Err(Error::config(format!("{key} = {:?} ({}) is not a number of seconds", v.value, v.origin))
                .hint(format!("use e.g. {key} = 5 (0 waits without limit)"))),
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
