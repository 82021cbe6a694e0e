//! Settings, resolved once per run: flags > environment > `~/.aws/config` and
//! `~/.aws/credentials` > defaults, following the AWS CLI's names and files.
//! Reads files, never the network; every value remembers where it came from, so errors can
//! say "serial arn:... (from mfa_serial in profile work)".

use std::path::{Path, PathBuf};

use crate::config::{AwsFiles, FileKind, Origin, Source};
use crate::credentials::{KeyOrigin, LongTermKeys, Secret};
use crate::error::{Error, Result};
use crate::keystore::{self, Backend};
use crate::{aws, mfa};

mod chain;
mod env;
pub mod signin;
pub mod write;
pub use env::{Environment, profile_name, search_path, secret_variables, terminal, variable_names};

pub use crate::config::Sourced;
pub use crate::session::role::RoleHop;

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
    /// What AWS clients are built from (region, endpoints, CA bundle, timeouts): `aws`'s part.
    pub client: aws::ClientConfig,
    pub serial: Option<Sourced<String>>,
    /// Where MFA codes come from, besides `--code` and the terminal: `mfa`'s part.
    pub codes: mfa::Sources,
    pub duration: Option<Sourced<u64>>,
    /// Reuse a cached session only while it has more than this left (AWSMFA_MIN_TTL).
    pub min_ttl: Option<u64>,
    /// How long to wait for another awsmfa's login (AWSMFA_LOCK_TIMEOUT).
    pub lock_timeout: std::time::Duration,
    /// How often to poll EC2 while waiting (AWSMFA_POLL_SECONDS).
    pub poll_interval: std::time::Duration,
    /// The profile of an `awsmfa exec` this process runs inside (AWSMFA_PROFILE).
    pub inside_exec: Option<String>,
    /// The key pair of the manual recipe's SENZING_AWS_KEYPAIR (AWSMFA_KEY_NAME and
    /// --key-name come first).
    pub recipe_key_name: Option<String>,
    /// Credentials an SDK started with this environment and these files would find before
    /// a container endpoint (`serve` warns: such a client never asks it).
    pub preferred_over_endpoint: Option<PreferredCredentials>,
    endpoints: Endpoints,
    /// The keystore's file and passphrase (AWSMFA_KEYSTORE_FILE, AWSMFA_KEYSTORE_PASSPHRASE).
    pub keystore: keystore::Options,
    /// Where `keys add` / `keys import` put keys: AWSMFA_KEYSTORE, else the default.
    pub keystore_default: Sourced<Backend>,
    keys: std::result::Result<LongTermKeys, KeyProblem>,
    /// The base profile's `login_session`: a console sign-in session instead of keys.
    pub login_session: Option<Sourced<String>>,
    /// Where console sign-in sessions live (AWS_LOGIN_CACHE_DIRECTORY).
    pub login_cache: Option<PathBuf>,
    /// The keystore that keeps the base profile's console sign-in session instead of the
    /// AWS CLI's file (`awsmfa_login_session` + `awsmfa_login_keystore`, written by
    /// `login --console --keystore`); `login_session` then names that session.
    pub login_keystore: Option<Sourced<Backend>>,
    /// The browser a console sign-in opens (BROWSER), else the system's.
    pub browser: Option<String>,
    files: AwsFiles,
    /// Why the AWS files must not be taken commands from (another user's, or others can
    /// write to them); None when they may.
    commands_untrusted: Option<String>,
}

/// Endpoint overrides from the environment, as the AWS CLI reads them.
#[derive(Debug, Clone, Default)]
struct Endpoints {
    ignore: bool,
    per_service: Vec<(String, String)>,
    all: Option<String>,
}

#[derive(Debug, Clone)]
enum KeyProblem {
    /// `awsmfa_keystore` names where the keys are, and this is what is wrong with it.
    Keystore(String, String),
    SessionKeys(KeyOrigin),
    Incomplete(Option<Origin>),
    Malformed(KeyOrigin),
}

pub fn home_dir(env: &Environment) -> Result<PathBuf> {
    crate::platform::home_from(|name| env.get(name).map(str::to_string)).ok_or_else(|| {
        Error::config("HOME is not set")
            .hint("set HOME, or name every file: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and AWSMFA_CACHE_DIR")
    })
}

/// Where awsmfa's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config: PathBuf,
    pub credentials: PathBuf,
    pub cache_dir: PathBuf,
    /// The file keystore (AWSMFA_KEYSTORE_FILE); None without HOME to put it in.
    pub keystore: Option<PathBuf>,
    /// Where console sign-in sessions live (AWS_LOGIN_CACHE_DIRECTORY, as the AWS CLI
    /// has it); None without HOME to put them in.
    pub login_cache: Option<PathBuf>,
}

/// The files' paths from the variables, `~/` expanded as the AWS SDKs do, else under HOME.
/// HOME is needed only when a path uses it.
pub fn locate(env: &Environment) -> Result<Paths> {
    let path = |var: &str, default: &str| -> Result<PathBuf> {
        match env.get(var) {
            Some("~") => home_dir(env),
            Some(v) => match v.strip_prefix("~/") {
                Some(rest) => Ok(home_dir(env)?.join(rest)),
                None => Ok(PathBuf::from(v)),
            },
            None => Ok(home_dir(env)?.join(default)),
        }
    };
    Ok(Paths {
        config: path("AWS_CONFIG_FILE", ".aws/config")?,
        credentials: path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")?,
        cache_dir: path("AWSMFA_CACHE_DIR", ".aws/awsmfa")?,
        keystore: path("AWSMFA_KEYSTORE_FILE", ".aws/awsmfa-keys.age").ok(),
        login_cache: path("AWS_LOGIN_CACHE_DIRECTORY", ".aws/login/cache").ok(),
    })
}

/// The two AWS files as read from disk, and whether they are safe to take commands from.
#[derive(Debug, Clone, Default)]
pub struct LoadedFiles {
    pub config: Source,
    pub credentials: Source,
    /// Why the commands they name must not be run (`files::read::UserFile::untrusted`, of
    /// either file); None when both are safe.
    pub untrusted: Option<String>,
}

impl LoadedFiles {
    /// The one place the AWS files are read (bounded, never a FIFO; a missing file is empty).
    pub fn read(paths: &Paths) -> Result<LoadedFiles> {
        let read = |path: &Path| -> Result<(Source, Option<String>)> {
            let file = crate::files::read::user_file(path, crate::files::read::AWS_FILE_LIMIT)?.unwrap_or_default();
            Ok((Source { path: path.to_path_buf(), text: file.text }, file.untrusted))
        };
        let (config, config_untrusted) = read(&paths.config)?;
        let (credentials, credentials_untrusted) = read(&paths.credentials)?;
        Ok(LoadedFiles { config, credentials, untrusted: config_untrusted.or(credentials_untrusted) })
    }
}

/// The secret of profile `profile` from the keystore; its key id must be the one the
/// profile names (`expected`), else a rotation was interrupted.
fn load_secret(backend: Backend, options: &keystore::Options, profile: &str, expected: &str) -> Result<Secret> {
    let store = keystore::Keystore::new(backend, options);
    match store.get(profile)? {
        Some(key) if key.access_key_id == expected => Ok(key.secret()),
        Some(key) => Err(Error::config(format!(
            "{} holds key {} for '{profile}', but the profile names key {}",
            store.describe(),
            crate::credentials::key_tail(&key.access_key_id),
            crate::credentials::key_tail(expected)
        ))
        .hint(format!("an interrupted `awsmfa keys rotate {profile}` left this: run it again to finish"))),
        None => Err(Error::config(format!("{} has no entry for profile '{profile}'", store.describe())).hint(format!(
            "add the keys again with `awsmfa keys add {profile}` (or remove awsmfa_keystore from the profile)"
        ))),
    }
}

pub use crate::config::config_section;

/// Credentials that every SDK's default chain takes before a container endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferredCredentials {
    /// Where they are: "AWS_ACCESS_KEY_ID in the environment", "aws_access_key_id in [default] of ...".
    pub place: String,
    /// Whether they are in the environment (else in the AWS files).
    pub in_environment: bool,
}

/// What an SDK started with `env` finds before `AWS_CONTAINER_CREDENTIALS_FULL_URI`: keys or
/// a web identity in the environment, then whatever gives credentials in the profile it
/// reads (AWS_PROFILE, else `default`) — keys, a command, a role, an SSO or console login.
fn preferred_over_endpoint(env: &Environment, files: &AwsFiles) -> Option<PreferredCredentials> {
    let in_environment =
        |var: &str| PreferredCredentials { place: format!("{var} in the environment"), in_environment: true };
    for var in
        ["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
    {
        if env.get(var).is_some() {
            return Some(in_environment(var));
        }
    }
    let profile = env.profile().unwrap_or("default");
    let role = files.get(profile, "source_profile").and(files.get(profile, "role_arn"));
    [
        "aws_access_key_id",
        "credential_process",
        "sso_session",
        "sso_start_url",
        "web_identity_token_file",
        "login_session",
    ]
    .iter()
    .find_map(|key| files.get(profile, key).map(|(_, origin)| (*key, origin)))
    .or(role.map(|(_, origin)| ("role_arn", origin)))
    .map(|(key, origin)| PreferredCredentials { place: format!("{key} in {origin}"), in_environment: false })
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

/// A duration the user typed, checked against the range of its setting: `name` is the flag
/// (`--min-ttl`) or the variable (`AWSMFA_MIN_TTL`) it came from, `example` a good value.
pub fn check_duration(name: &str, secs: u64, range: crate::clock::Range, example: &str) -> Result<u64> {
    if range.contains(secs) {
        return Ok(secs);
    }
    let (given, suggested) = if name.starts_with("--") {
        (format!("{name} {secs}s"), format!("{name} {example}"))
    } else {
        (format!("{name}={secs}s"), format!("{name}={example}"))
    };
    Err(Error::config(format!("{given} is out of range: it must be {}", range.describe()))
        .hint(format!("e.g. {suggested}, or leave it out for the default")))
}

fn parse_seconds(v: &Sourced<String>, min: f64, max: f64, example: &str) -> Result<std::time::Duration> {
    match v.value.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && (min..=max).contains(&secs) => Ok(std::time::Duration::from_secs_f64(secs)),
        _ => Err(Error::config(format!("{}={:?} is not a number of seconds from {min} to {max}", v.origin, v.value))
            .hint(format!("e.g. {}={example}, or unset it for the default", v.origin))),
    }
}

impl Settings {
    /// Settings for this run: the environment and the AWS files, read once, then resolved.
    pub fn load(overrides: &Overrides) -> Result<Settings> {
        let env = Environment::from_process()?;
        if env.get(crate::clock::TEST_CLOCK_VARIABLE) == Some("skip-waits") {
            crate::clock::skip_waits();
        }
        let paths = locate(&env)?;
        let files = LoadedFiles::read(&paths)?;
        let settings = Self::resolve(&env, &paths, &files, overrides)?;
        // Every lock of this run waits as long as AWSMFA_LOCK_TIMEOUT says.
        crate::files::lock::set_wait(settings.lock_timeout);
        Ok(settings)
    }

    /// The pure step: environment + files + flags → every setting, with where it came from.
    /// Every value is checked here, before anything is spent.
    pub fn resolve(env: &Environment, paths: &Paths, loaded: &LoadedFiles, overrides: &Overrides) -> Result<Settings> {
        let files = AwsFiles::parse(&loaded.config, &loaded.credentials)?;
        let (profile, profile_named) = match (&overrides.profile, env.profile()) {
            (Some(p), _) => (p.clone(), true),
            (None, Some(p)) => (p.to_string(), true),
            (None, None) => ("default".to_string(), false),
        };
        let mut settings = Settings {
            base_profile: profile.clone(),
            roles: Vec::new(),
            direct: overrides.direct,
            lookup: vec![profile.clone()],
            profile,
            profile_named,
            config_path: paths.config.clone(),
            credentials_path: paths.credentials.clone(),
            cache_dir: paths.cache_dir.clone(),
            client: aws::ClientConfig::default(),
            serial: None,
            codes: mfa::Sources {
                env_code: env.get("AWS_MFA_TOKEN_CODE").map(str::to_string),
                process: None,
                totp_seed: env.get("AWSMFA_TOTP_SECRET").map(Secret::new),
            },
            duration: None,
            min_ttl: None,
            lock_timeout: std::time::Duration::from_secs(DEFAULT_LOCK_TIMEOUT),
            poll_interval: std::time::Duration::from_secs(2),
            inside_exec: env.get("AWSMFA_PROFILE").map(str::to_string),
            recipe_key_name: env.get("SENZING_AWS_KEYPAIR").map(str::to_string),
            preferred_over_endpoint: preferred_over_endpoint(env, &files),
            endpoints: Endpoints::default(),
            keystore: keystore::Options {
                file: paths.keystore.clone(),
                passphrase: env.get("AWSMFA_KEYSTORE_PASSPHRASE").map(Secret::new),
                lock_timeout: std::time::Duration::from_secs(DEFAULT_LOCK_TIMEOUT),
            },
            keystore_default: match env.sourced("AWSMFA_KEYSTORE") {
                Some(v) => Sourced::new(
                    Backend::parse(&v.value).ok_or_else(|| {
                        Error::config(format!("AWSMFA_KEYSTORE={:?} is not a keystore", v.value))
                            .hint("use AWSMFA_KEYSTORE=keychain (the OS keychain) or AWSMFA_KEYSTORE=file (an encrypted file)")
                    })?,
                    "AWSMFA_KEYSTORE",
                ),
                None => Sourced::new(Backend::default_for(env.get("DBUS_SESSION_BUS_ADDRESS").is_some()), "the default"),
            },
            keys: Err(KeyProblem::Incomplete(None)),
            login_session: None,
            login_cache: paths.login_cache.clone(),
            login_keystore: None,
            browser: env.get("BROWSER").map(str::to_string),
            files,
            commands_untrusted: None,
        };
        settings.resolve_roles(overrides)?;
        let region = match &overrides.region {
            Some(r) => Some(Sourced::new(r.clone(), "--region")),
            None => env
                .sourced("AWS_REGION")
                .or_else(|| env.sourced("AWS_DEFAULT_REGION"))
                .or_else(|| settings.profile_value("region")),
        };
        if let Some(r) = &region
            && !valid_region(&r.value)
        {
            return Err(Error::config(format!("{:?} (from {}) is not a region name", r.value, r.origin))
                .hint("a region looks like us-east-1 or eu-west-1"));
        }
        settings.client.region = region.map(|r| r.value);
        settings.endpoints = Endpoints {
            ignore: env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true"))
                || settings
                    .profile_value("ignore_configured_endpoint_urls")
                    .is_some_and(|v| v.value.eq_ignore_ascii_case("true")),
            per_service: SERVICES
                .iter()
                .filter_map(|s| {
                    let var = format!("AWS_ENDPOINT_URL_{}", s.to_ascii_uppercase());
                    env.get(&var).map(|v| (s.to_string(), v.to_string()))
                })
                .collect(),
            all: env.get("AWS_ENDPOINT_URL").map(str::to_string),
        };
        for service in SERVICES {
            settings.check_endpoint(service)?;
        }
        settings.client.endpoints =
            SERVICES.iter().filter_map(|service| Some((*service, settings.endpoint(service)?))).collect();
        settings.client.ca_bundle = env.sourced("AWS_CA_BUNDLE").or_else(|| settings.profile_value("ca_bundle"));
        settings.client.connect_timeout = settings.timeout_setting("cli_connect_timeout")?;
        settings.client.read_timeout = settings.timeout_setting("cli_read_timeout")?;
        settings.serial = match &overrides.serial {
            Some(s) => Some(Sourced::new(s.clone(), "--serial")),
            None => env
                .sourced("AWS_MFA_SERIAL_NUMBER")
                .or_else(|| settings.profile_value("mfa_serial"))
                .or_else(|| settings.profile_value("aws_mfa_device")),
        };
        settings.commands_untrusted = loaded.untrusted.clone();
        if let Some(command) = settings.profile_value("mfa_process") {
            settings.may_run(&format!("mfa_process ({})", command.origin))?;
            settings.codes.process = Some(command);
        }
        // --duration is for the credentials asked for: the MFA session, or the last role.
        settings.duration = match overrides.duration {
            Some(d) if settings.roles.is_empty() => Some(Sourced::new(d, "--duration")),
            _ => settings.duration_in(&settings.base_profile.clone())?,
        };
        if let (Some(d), Some(last)) = (overrides.duration, settings.roles.last_mut()) {
            last.duration = Some(Sourced::new(d, "--duration"));
        }
        if let Some(v) = env.sourced("AWSMFA_MIN_TTL") {
            let secs =
                crate::clock::parse_duration(&v.value).map_err(|e| Error::config(format!("AWSMFA_MIN_TTL: {e}")))?;
            settings.min_ttl = Some(check_duration("AWSMFA_MIN_TTL", secs, crate::clock::MIN_TTL, "10m")?);
        }
        if let Some(v) = env.sourced("AWSMFA_LOCK_TIMEOUT") {
            settings.lock_timeout = parse_seconds(&v, 0.0, 86_400.0, "60")?;
        }
        if let Some(v) = env.sourced("AWSMFA_POLL_SECONDS") {
            settings.poll_interval = parse_seconds(&v, 0.01, 600.0, "2")?;
        }
        settings.keystore.lock_timeout = settings.lock_timeout;
        settings.keys = settings.find_keys(env);
        // A console sign-in session (`aws login`) as the base of the chain, as aws-config takes
        // it: before the profile's static keys.
        settings.login_session = settings.value_in(&settings.base_profile.clone(), "login_session");
        settings.resolve_kept_login()?;
        Ok(settings)
    }

    /// A console sign-in session kept in the keystore: `awsmfa_login_session = ARN` and
    /// `awsmfa_login_keystore = keychain|file` in the base profile, together.
    fn resolve_kept_login(&mut self) -> Result<()> {
        let base = self.base_profile.clone();
        let (arn, backend) =
            match (self.value_in(&base, "awsmfa_login_session"), self.value_in(&base, "awsmfa_login_keystore")) {
                (None, None) => return Ok(()),
                (Some(arn), Some(backend)) => (arn, backend),
                (Some(one), None) | (None, Some(one)) => {
                    let missing = if one.origin.starts_with("awsmfa_login_session") {
                        "awsmfa_login_keystore"
                    } else {
                        "awsmfa_login_session"
                    };
                    return Err(Error::config(format!("{} is set, but not {missing}: they go together", one.origin))
                        .hint(format!(
                            "sign in again to set both: `awsmfa login --console --keystore --profile {base}`"
                        )));
                }
            };
        if let Some(file) = &self.login_session {
            return Err(Error::config(format!(
                "profile '{base}' names two console sign-in sessions: {} and {}",
                file.origin, arn.origin
            ))
            .hint(format!("keep one: sign in again (`awsmfa login --console [--keystore] --profile {base}`) to have the profile name only it")));
        }
        let Some(parsed) = Backend::parse(&backend.value) else {
            return Err(Error::config(format!("{:?} ({}) is not a keystore", backend.value, backend.origin))
                .hint("use keychain (the OS keychain) or file (an encrypted file)"));
        };
        self.login_session = Some(arn);
        self.login_keystore = Some(Sourced::new(parsed, backend.origin));
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

    /// The profile holding the long-term keys: `NAME-long-term` when it exists (the aws-mfa
    /// convention), else `NAME` itself.
    pub fn long_term_section(&self) -> String {
        let long = format!("{}-long-term", self.base_profile);
        if self.files.has_profile(&long) { long } else { self.base_profile.clone() }
    }

    /// A setting: from the named profile, else the profiles its role chain goes through.
    pub fn profile_value(&self, key: &str) -> Option<Sourced<String>> {
        self.lookup.iter().find_map(|p| self.value_in(p, key))
    }

    /// A setting of one profile as the SDKs read it (the credentials file wins over the
    /// config file), else of its `NAME-long-term` profile.
    fn value_in(&self, profile: &str, key: &str) -> Option<Sourced<String>> {
        [profile.to_string(), format!("{profile}-long-term")]
            .iter()
            .find_map(|p| self.files.get(p, key))
            .map(|(value, origin)| Sourced::new(value, format!("{key} in {origin}")))
    }

    fn find_keys(&self, env: &Environment) -> std::result::Result<LongTermKeys, KeyProblem> {
        let well_formed = |id: &str, secret: &str| valid_key_id(id) && !secret.chars().any(char::is_control);
        if !self.profile_named
            && self.base_profile == self.profile
            && let (Some(id), Some(secret)) = (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY"))
        {
            if env.get("AWS_SESSION_TOKEN").is_some() || env.get("AWS_SECURITY_TOKEN").is_some() {
                return Err(KeyProblem::SessionKeys(KeyOrigin::Environment));
            }
            if !well_formed(id, secret) {
                return Err(KeyProblem::Malformed(KeyOrigin::Environment));
            }
            return Ok(LongTermKeys::new(id, Secret::new(secret), KeyOrigin::Environment));
        }
        for section in [format!("{}-long-term", self.base_profile), self.base_profile.clone()] {
            if let Some(keys) = self.keystore_keys(&section) {
                return keys;
            }
            let id = self.files.get(&section, "aws_access_key_id");
            let secret = self.files.get(&section, "aws_secret_access_key");
            match (id, secret) {
                (Some((id, origin)), Some((secret, _))) => {
                    let origin = KeyOrigin::File { section: origin.section(), path: origin.path };
                    if self.files.get(&section, "aws_session_token").is_some() {
                        return Err(KeyProblem::SessionKeys(origin));
                    }
                    if !well_formed(&id, &secret) {
                        return Err(KeyProblem::Malformed(origin));
                    }
                    return Ok(LongTermKeys::new(id, Secret::new(secret), origin));
                }
                (Some((_, origin)), None) | (None, Some((_, origin))) => {
                    return Err(KeyProblem::Incomplete(Some(origin)));
                }
                (None, None) => {}
            }
        }
        Err(KeyProblem::Incomplete(None))
    }

    /// The keys of profile `section` when `awsmfa_keystore` says they are in the keystore:
    /// the key id from `awsmfa_key_id`, the secret loaded only when a request is signed.
    fn keystore_keys(&self, section: &str) -> Option<std::result::Result<LongTermKeys, KeyProblem>> {
        let (backend, origin) = self.files.get(section, "awsmfa_keystore")?;
        let problem = |what: String, fix: String| Some(Err(KeyProblem::Keystore(what, fix)));
        let Some(backend) = Backend::parse(&backend) else {
            return problem(
                format!("awsmfa_keystore = {backend:?} in {origin} is not a keystore"),
                "use awsmfa_keystore = keychain or awsmfa_keystore = file".into(),
            );
        };
        if let Some(place) = self.plaintext_keys_of(section) {
            return problem(
                format!(
                    "profile '{section}' keeps its keys in the {} keystore, yet {place} holds keys too",
                    backend.name()
                ),
                format!(
                    "finish moving them with `awsmfa keys import {section}`: it removes them from {place} once the keystore holds them"
                ),
            );
        }
        let Some((id, id_origin)) = self.files.get(section, "awsmfa_key_id") else {
            return problem(
                format!(
                    "profile '{section}' keeps its keys in the {} keystore ({origin}) but has no awsmfa_key_id",
                    backend.name()
                ),
                format!("add the keys again with `awsmfa keys add {section}`"),
            );
        };
        if !valid_key_id(&id) {
            return problem(
                format!("awsmfa_key_id in {id_origin} is not an access key id"),
                format!("add the keys again with `awsmfa keys add {section}`"),
            );
        }
        let options = self.keystore.clone();
        let (profile, expected) = (section.to_string(), id.clone());
        let loader = move || load_secret(backend, &options, &profile, &expected);
        Some(Ok(LongTermKeys::deferred(
            id,
            KeyOrigin::Keystore { backend: backend.name(), profile: section.to_string() },
            std::sync::Arc::new(loader),
        )))
    }

    /// Where profile `name` keeps plaintext long-term keys, if it does (either file).
    fn plaintext_keys_of(&self, name: &str) -> Option<String> {
        [FileKind::Credentials, FileKind::Config]
            .into_iter()
            .find(|file| {
                self.files.get_in(*file, name, "aws_access_key_id").is_some()
                    && self.files.get_in(*file, name, "aws_session_token").is_none()
            })
            .map(|file| self.files.origin(file, name).to_string())
    }

    /// `session`'s part of the plan: what getting credentials needs, and nothing else.
    pub fn session(&self) -> crate::session::Plan<'_> {
        crate::session::Plan {
            base_profile: &self.base_profile,
            keys: self.keys(),
            login_session: self.login_session.as_ref().map(|s| s.value.as_str()),
            roles: &self.roles,
            direct: self.direct,
            serial: self.serial.as_ref(),
            duration: self.duration.as_ref(),
            cache_dir: &self.cache_dir,
            min_ttl: self.min_ttl,
            lock_timeout: self.lock_timeout,
            client: &self.client,
            codes: &self.codes,
            login: self.login(),
        }
    }

    /// `login`'s part of the plan: where console sign-in sessions live and how AWS Sign-In
    /// is reached.
    pub fn login(&self) -> crate::login::Plan<'_> {
        crate::login::Plan {
            client: &self.client,
            cache: self.login_cache.as_deref(),
            profile: &self.profile,
            base_profile: &self.base_profile,
            kept: self.login_keystore.as_ref().map(|b| crate::login::kept::Kept {
                backend: b.value,
                options: &self.keystore,
                lock_dir: &self.cache_dir,
            }),
        }
    }

    /// The long-term keys to call STS with, or an error that says how to provide them.
    pub fn keys(&self) -> Result<&LongTermKeys> {
        match &self.keys {
            Ok(keys) => Ok(keys),
            Err(KeyProblem::Keystore(what, fix)) => Err(Error::config(what.clone()).hint(fix.clone())),
            Err(KeyProblem::SessionKeys(origin)) => Err(Error::config(format!(
                "the keys in {origin} are temporary session keys; awsmfa needs an IAM user's long-term keys"
            ))
            .hint(match origin {
                KeyOrigin::Environment => {
                    "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN, or name a profile with --profile"
                        .to_string()
                }
                KeyOrigin::File { .. } | KeyOrigin::Keystore { .. } => format!(
                    "put the long-term keys in [{}-long-term] of {}",
                    self.base_profile,
                    self.credentials_path.display()
                ),
            })),
            Err(KeyProblem::Malformed(origin)) => Err(Error::config(format!(
                "the access key id in {origin} is not one AWS makes (16 to 128 letters and digits)"
            ))
            .hint("copy the key id again from the IAM console or `aws iam list-access-keys`")),
            Err(KeyProblem::Incomplete(Some(origin))) => {
                Err(Error::config(format!("{origin} has only one of aws_access_key_id and aws_secret_access_key"))
                    .hint("add the missing one, or run `aws configure` for this profile"))
            }
            Err(KeyProblem::Incomplete(None)) if self.profile_named && !self.profile_exists(&self.base_profile) => {
                let known = self.files.profile_names();
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
            Err(KeyProblem::Incomplete(None)) => {
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
        self.plaintext_keys_of(name).or_else(|| {
            self.files
                .get(name, "awsmfa_keystore")
                .map(|(backend, origin)| format!("the {backend} keystore (awsmfa_keystore in {origin})"))
        })
    }

    /// Whether `what`, a command named in the AWS files (`mfa_process`, `credential_process`),
    /// may be run: only when both files are ours (or root's) and nobody else can write to
    /// them, as ssh takes nothing from a config file others control.
    pub fn may_run(&self, what: &str) -> Result<()> {
        match &self.commands_untrusted {
            None => Ok(()),
            Some(why) => Err(Error::config(format!("refusing to run {what}: {why}"))
                .hint("make your AWS files yours and not writable by group or others (`chown`, `chmod go-w FILE`)")),
        }
    }

    /// A setting of profile `name` itself (not its role chain), as the SDKs read it.
    pub fn own_value(&self, name: &str, key: &str) -> Option<String> {
        self.files.get(name, key).map(|(value, _)| value)
    }

    /// The parsed AWS files, for commands that inspect profiles other than the one in use.
    pub fn files(&self) -> &AwsFiles {
        &self.files
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
        self.files.has_profile(name) || self.files.has_profile(&format!("{name}-long-term"))
    }

    /// The endpoint for `service` ("sts", "iam", "ec2") as the AWS CLI finds it:
    /// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then the profile's endpoint_url.
    fn endpoint(&self, service: &str) -> Option<String> {
        if self.endpoints.ignore {
            return None;
        }
        self.endpoints
            .per_service
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, url)| url.clone())
            .or_else(|| self.endpoints.all.clone())
            .or_else(|| self.profile_value("endpoint_url").map(|v| v.value))
    }

    /// The endpoint and CA bundle awsmfa used, as the variables that give them to a child
    /// process that does not read this profile (`exec` clears AWS_PROFILE, `exec --server`
    /// hides the AWS files): its SDK then talks to the endpoint awsmfa talked to, trusting
    /// what awsmfa trusted. Per-service variables (AWS_ENDPOINT_URL_STS, ...) come before
    /// AWS_ENDPOINT_URL in every SDK and reach the child as they are.
    pub fn endpoint_variables(&self) -> Vec<(&'static str, String)> {
        let mut vars = Vec::new();
        if self.endpoints.ignore {
            vars.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true".to_string()));
        } else if let Some(url) =
            self.endpoints.all.clone().or_else(|| self.profile_value("endpoint_url").map(|v| v.value))
        {
            vars.push(("AWS_ENDPOINT_URL", url));
        }
        if let Some(bundle) = &self.client.ca_bundle {
            vars.push(("AWS_CA_BUNDLE", bundle.value.clone()));
        }
        vars
    }
}

/// The services awsmfa calls.
const SERVICES: [&str; 4] = ["sts", "iam", "ec2", "signin"];

/// How long a process waits for another's login by default (AWSMFA_LOCK_TIMEOUT).
const DEFAULT_LOCK_TIMEOUT: u64 = crate::files::lock::DEFAULT_WAIT.as_secs();

#[cfg(test)]
mod tests {
    //! Resolution as a table, in the style of aws-config's `assume-role-tests.json`: each case
    //! is variables + files + flags, and what the plan must say (or the error it must give).

    use super::*;

    struct Case {
        name: &'static str,
        env: &'static [(&'static str, &'static str)],
        config: &'static str,
        credentials: &'static str,
        overrides: Overrides,
        expect: fn(Result<Settings>),
    }

    const ID: &str = "AKIA_TEST_KEY_000001";

    fn resolve(case: &Case) -> Result<Settings> {
        let mut env = vec![("HOME", "/home/u")];
        env.extend_from_slice(case.env);
        let env = Environment::from_pairs(&env);
        let paths = locate(&env)?;
        let loaded = LoadedFiles {
            config: Source { path: paths.config.clone(), text: case.config.to_string() },
            credentials: Source { path: paths.credentials.clone(), text: case.credentials.to_string() },
            untrusted: None,
        };
        Settings::resolve(&env, &paths, &loaded, &case.overrides)
    }

    fn ok(r: Result<Settings>) -> Settings {
        r.unwrap_or_else(|e| panic!("unexpected error: {} ({:?})", e.message, e.hint))
    }

    fn err(r: Result<Settings>) -> Error {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    fn keys_origin(s: &Settings) -> String {
        s.keys().map(|k| k.origin.to_string()).unwrap_or_else(|e| format!("error: {}", e.message))
    }

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "flags beat variables beat files for the region",
                env: &[("AWS_REGION", "eu-west-1")],
                config: "[default]\nregion = us-east-2\n",
                credentials: "",
                overrides: Overrides { region: Some("ap-south-1".into()), ..Default::default() },
                expect: |r| assert_eq!(ok(r).client.region.as_deref(), Some("ap-south-1")),
            },
            Case {
                name: "AWS_REGION beats AWS_DEFAULT_REGION beats the profile",
                env: &[("AWS_DEFAULT_REGION", "eu-west-2"), ("AWS_REGION", "eu-west-1")],
                config: "[default]\nregion = us-east-2\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).client.region.as_deref(), Some("eu-west-1")),
            },
            Case {
                name: "AWS_PROFILE names the profile, AWS_DEFAULT_PROFILE only without it",
                env: &[("AWS_DEFAULT_PROFILE", "b"), ("AWS_PROFILE", "a")],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let s = ok(r);
                    assert_eq!((s.profile.as_str(), s.profile_named), ("a", true));
                },
            },
            Case {
                name: "the -long-term section holds the keys, and its mfa_serial serves the profile",
                env: &[],
                config: "[profile w-long-term]\nmfa_serial = arn:aws:iam::1:mfa/a\n",
                credentials: "[w-long-term]\naws_access_key_id = AKIA_TEST_KEY_000001\naws_secret_access_key = s\n[w]\nregion = eu-west-1\n",
                overrides: Overrides { profile: Some("w".into()), ..Default::default() },
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.keys().unwrap().access_key_id, ID);
                    assert_eq!(keys_origin(&s), "[w-long-term] of /home/u/.aws/credentials");
                    let serial = s.serial.unwrap();
                    assert_eq!(serial.value, "arn:aws:iam::1:mfa/a");
                    assert_eq!(serial.origin, "mfa_serial in [profile w-long-term] of /home/u/.aws/config");
                    assert_eq!(s.client.region.as_deref(), Some("eu-west-1"));
                },
            },
            Case {
                name: "the credentials file wins over the config file for the same key",
                env: &[],
                config: "[default]\nmfa_serial = arn:from-config\n",
                credentials: "[default]\nmfa_serial = arn:from-credentials\n",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).serial.unwrap().value, "arn:from-credentials"),
            },
            Case {
                name: "keys in the environment are used when no profile is named, and said so",
                env: &[("AWS_ACCESS_KEY_ID", "AKIA_TEST_KEY_000001"), ("AWS_SECRET_ACCESS_KEY", "s")],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).keys().unwrap().origin, KeyOrigin::Environment),
            },
            Case {
                name: "keys in the environment are ignored when a profile is named",
                env: &[
                    ("AWS_ACCESS_KEY_ID", "AKIA_TEST_KEY_000001"),
                    ("AWS_SECRET_ACCESS_KEY", "s"),
                    ("AWS_PROFILE", "p"),
                ],
                config: "",
                credentials: "[p]\naws_access_key_id = AKIA_TEST_KEY_000002\naws_secret_access_key = s\n",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).keys().unwrap().access_key_id, "AKIA_TEST_KEY_000002"),
            },
            Case {
                name: "session keys are refused as long-term keys",
                env: &[
                    ("AWS_ACCESS_KEY_ID", "ASIA_TEST_KEY_000001"),
                    ("AWS_SECRET_ACCESS_KEY", "s"),
                    ("AWS_SESSION_TOKEN", "t"),
                ],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert!(keys_origin(&ok(r)).contains("temporary session keys")),
            },
            Case {
                name: "a role chain is followed to the keys, first role first",
                env: &[],
                config: "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = dev\n[profile dev]\nrole_arn = arn:aws:iam::1:role/dev\nsource_profile = base\nduration_seconds = 2h\n",
                credentials: "[base]\naws_access_key_id = AKIA_TEST_KEY_000001\naws_secret_access_key = s\n",
                overrides: Overrides { profile: Some("admin".into()), ..Default::default() },
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.base_profile, "base");
                    let arns: Vec<&str> = s.roles.iter().map(|h| h.role_arn.as_str()).collect();
                    assert_eq!(arns, ["arn:aws:iam::1:role/dev", "arn:aws:iam::1:role/admin"]);
                    assert_eq!(s.roles[0].duration.as_ref().unwrap().value, 7200);
                },
            },
            Case {
                name: "a source_profile cycle is shown and refused",
                env: &[],
                config: "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
                credentials: "",
                overrides: Overrides { profile: Some("a".into()), ..Default::default() },
                expect: |r| assert!(err(r).message.contains("a -> b -> a")),
            },
            Case {
                name: "--direct without a role is refused",
                env: &[],
                config: "",
                credentials: "",
                overrides: Overrides { direct: true, ..Default::default() },
                expect: |r| assert!(err(r).message.contains("--direct needs a role")),
            },
            Case {
                name: "--duration applies to the last role of a chain",
                env: &[],
                config: "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n",
                credentials: "",
                overrides: Overrides { profile: Some("r".into()), duration: Some(1800), ..Default::default() },
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.roles[0].duration.as_ref().unwrap().value, 1800);
                    assert!(s.duration.is_none(), "the MFA session keeps its own length");
                },
            },
            Case {
                name: "a bad region is refused with where it came from",
                env: &[],
                config: "[default]\nregion = eu-west-1; touch /tmp/x\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let e = err(r);
                    assert_eq!(e.exit_code(), 3);
                    assert!(e.message.contains("region in [default] of /home/u/.aws/config"), "{}", e.message);
                },
            },
            Case {
                name: "endpoints: per-service variable, then AWS_ENDPOINT_URL, then the profile",
                env: &[("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:2")],
                config: "[default]\nendpoint_url = http://127.0.0.1:3\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.client.endpoint("sts").as_deref(), Some("http://127.0.0.1:1"));
                    assert_eq!(s.client.endpoint("ec2").as_deref(), Some("http://127.0.0.1:2"));
                },
            },
            Case {
                name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns every override off",
                env: &[("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:2")],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).client.endpoint("sts"), None),
            },
            Case {
                name: "a child gets the profile's endpoint and CA bundle as variables",
                env: &[("AWS_PROFILE", "work")],
                config: "[profile work]\nendpoint_url = https://10.0.0.1\nca_bundle = /etc/proxy-ca.pem\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let vars = ok(r).endpoint_variables();
                    assert_eq!(
                        vars,
                        [
                            ("AWS_ENDPOINT_URL", "https://10.0.0.1".to_string()),
                            ("AWS_CA_BUNDLE", "/etc/proxy-ca.pem".into())
                        ]
                    );
                },
            },
            Case {
                name: "what an SDK of this shell takes before a container endpoint",
                env: &[("AWS_PROFILE", "ops")],
                config: "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = dev\n[profile sso]\nsso_session = corp\n",
                credentials: "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
                overrides: Overrides::default(),
                expect: |r| {
                    let found = ok(r).preferred_over_endpoint.expect("the role profile gives credentials");
                    assert!(found.place.starts_with("role_arn in [profile ops] of "), "{}", found.place);
                    assert!(!found.in_environment);
                },
            },
            Case {
                name: "a profile without credentials of its own leaves the endpoint to the SDK",
                env: &[("AWS_PROFILE", "dev")],
                config: "[profile dev]\nregion = eu-west-1\n",
                credentials: "[dev-long-term]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).preferred_over_endpoint, None),
            },
            Case {
                name: "a child ignores configured endpoints when the profile said so",
                env: &[("AWS_ENDPOINT_URL", "http://127.0.0.1:2")],
                config: "[default]\nignore_configured_endpoint_urls = true\nendpoint_url = http://127.0.0.1:3\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    assert_eq!(
                        ok(r).endpoint_variables(),
                        [("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true".to_string())]
                    );
                },
            },
            Case {
                name: "timeouts come from cli_connect_timeout / cli_read_timeout, 0 meaning none",
                env: &[],
                config: "[default]\ncli_connect_timeout = 1.5\ncli_read_timeout = 0\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.client.connect_timeout, Some(Some(std::time::Duration::from_millis(1500))));
                    assert_eq!(s.client.read_timeout, Some(None));
                },
            },
            Case {
                name: "awsmfa's own variables are read here and checked",
                env: &[
                    ("AWSMFA_LOCK_TIMEOUT", "7"),
                    ("AWSMFA_POLL_SECONDS", "0.5"),
                    ("AWSMFA_MIN_TTL", "10m"),
                    ("AWS_MFA_TOKEN_CODE", "123456"),
                    ("AWSMFA_PROFILE", "outer"),
                ],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.lock_timeout, std::time::Duration::from_secs(7));
                    assert_eq!(s.poll_interval, std::time::Duration::from_millis(500));
                    assert_eq!(s.min_ttl, Some(600));
                    assert_eq!(s.codes.env_code.as_deref(), Some("123456"));
                    assert_eq!(s.inside_exec.as_deref(), Some("outer"));
                },
            },
            Case {
                name: "a bad AWSMFA_POLL_SECONDS is an error, not a silent default",
                env: &[("AWSMFA_POLL_SECONDS", "fast")],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(err(r).exit_code(), 3),
            },
            Case {
                name: "~ in a file variable is the home directory",
                env: &[("AWS_CONFIG_FILE", "~/cfg"), ("AWSMFA_CACHE_DIR", "~")],
                config: "",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| {
                    let s = ok(r);
                    assert_eq!(s.config_path, PathBuf::from("/home/u/cfg"));
                    assert_eq!(s.cache_dir, PathBuf::from("/home/u"));
                },
            },
            Case {
                name: "an inline comment is not part of mfa_serial",
                env: &[],
                config: "[default]\nmfa_serial = arn:aws:iam::1:mfa/a # my phone\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).serial.unwrap().value, "arn:aws:iam::1:mfa/a"),
            },
            Case {
                name: "[profile default] in the config file wins over [default]",
                env: &[],
                config: "[default]\nregion = us-east-1\n[profile default]\nregion = eu-west-3\n",
                credentials: "",
                overrides: Overrides::default(),
                expect: |r| assert_eq!(ok(r).client.region.as_deref(), Some("eu-west-3")),
            },
        ]
    }

    #[test]
    fn a_variable_awsmfa_reads_that_is_not_utf8_is_an_error_naming_it_never_its_secret() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let bad = |name: &str, value: &[u8]| vec![(OsString::from(name), OsString::from_vec(value.to_vec()))];
        let err = Environment::from_os(bad("AWS_PROFILE", b"work\xff")).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.starts_with("AWS_PROFILE is not valid UTF-8"), "{}", err.message);
        assert!(err.message.contains("work"), "a profile name may be shown: {}", err.message);
        let err = Environment::from_os(bad("AWSMFA_TOTP_SECRET", b"JBSWY3DP\xff")).unwrap_err();
        assert!(!err.message.contains("JBSWY3DP"), "{}", err.message);
        // A variable awsmfa never reads may hold anything (its child gets it unchanged).
        let env = Environment::from_os(bad("LESSOPEN", b"\xff")).unwrap();
        assert_eq!(env.get("HOME"), None);
    }

    #[test]
    fn resolution_follows_the_table() {
        for case in cases() {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.expect)(resolve(&case))));
            assert!(result.is_ok(), "case failed: {}", case.name);
        }
    }

    #[test]
    fn without_home_only_named_paths_work() {
        let env = Environment::from_pairs(&[("AWS_CONFIG_FILE", "/c"), ("AWS_SHARED_CREDENTIALS_FILE", "/k")]);
        assert!(locate(&env).is_err(), "the cache directory still needs HOME");
        let env = Environment::from_pairs(&[
            ("AWS_CONFIG_FILE", "/c"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/k"),
            ("AWSMFA_CACHE_DIR", "/cache"),
        ]);
        assert_eq!(
            locate(&env).unwrap(),
            Paths {
                config: "/c".into(),
                credentials: "/k".into(),
                cache_dir: "/cache".into(),
                keystore: None,
                login_cache: None
            }
        );
    }
}
