//! The AWS shared config files (`~/.aws/config`, `~/.aws/credentials`), read exactly as the
//! AWS SDKs read them: by aws-config's own parser, the reference implementation of the SDKs'
//! published shared-config test suite (`tests/it/conformance.rs` runs that suite through this
//! module). awsmfa reads the bytes itself (`files::read`: bounded, no FIFOs, UTF-8) and hands
//! them to the parser in memory; our INI editor (`files::ini`) is only for byte-exact writes.
//! Pure: text in, profiles out; no I/O.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, Waker};

use aws_config::profile::ProfileSet;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};

/// A setting's value and the place it came from ("--serial", "AWS_REGION", "mfa_serial in
/// [profile work] of ~/.aws/config"), so that an error can name where to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: String,
}

impl<T> Sourced<T> {
    pub fn new(value: T, origin: impl Into<String>) -> Self {
        Sourced { value, origin: origin.into() }
    }
}

/// A profile's section in the config file, as written between the brackets.
pub fn config_section(profile: &str) -> String {
    if profile == "default" { "default".into() } else { format!("profile {profile}") }
}

/// Which of the two files a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Config,
    Credentials,
}

/// Where a setting was found, for messages: "mfa_serial in [profile work] of ~/.aws/config".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: FileKind,
    pub path: PathBuf,
    pub profile: String,
}

impl Origin {
    /// The section as the user wrote it: `[profile NAME]` (or `[default]`) in the config
    /// file, `[NAME]` in the credentials file.
    pub fn section(&self) -> String {
        match self.file {
            FileKind::Config if self.profile != "default" => format!("[profile {}]", self.profile),
            _ => format!("[{}]", self.profile),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {}", self.section(), self.path.display())
    }
}

/// One AWS file: where it is and what it holds.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

/// Both files, parsed: the merged view every SDK sees (the credentials file wins over the
/// config file for the same key), and each file alone, to say where a value came from.
#[derive(Debug, Clone)]
pub struct AwsFiles {
    merged: ProfileSet,
    config: ProfileSet,
    credentials: ProfileSet,
    config_path: PathBuf,
    credentials_path: PathBuf,
}

impl AwsFiles {
    pub fn parse(config: &Source, credentials: &Source) -> Result<AwsFiles> {
        let config_only = load(&[(EnvConfigFileKind::Config, config)])?;
        let credentials_only = load(&[(EnvConfigFileKind::Credentials, credentials)])?;
        let merged = load(&[(EnvConfigFileKind::Config, config), (EnvConfigFileKind::Credentials, credentials)])?;
        Ok(AwsFiles {
            merged,
            config: config_only,
            credentials: credentials_only,
            config_path: config.path.clone(),
            credentials_path: credentials.path.clone(),
        })
    }

    /// A setting of `profile` exactly as the parser gives it (empty values included).
    pub fn value(&self, profile: &str, key: &str) -> Option<&str> {
        self.merged.get_profile(profile)?.get(key)
    }

    /// A setting of `profile` as the SDKs resolve it, and where it came from; an empty
    /// value counts as unset, as in the AWS CLI.
    pub fn get(&self, profile: &str, key: &str) -> Option<(String, Origin)> {
        let value = self.value(profile, key).filter(|v| !v.is_empty())?;
        let from_credentials = self.credentials.get_profile(profile).and_then(|p| p.get(key)) == Some(value);
        let (file, path) = if from_credentials {
            (FileKind::Credentials, &self.credentials_path)
        } else {
            (FileKind::Config, &self.config_path)
        };
        Some((value.to_string(), Origin { file, path: path.clone(), profile: profile.to_string() }))
    }

    /// A setting of `profile` in one file only.
    pub fn get_in(&self, file: FileKind, profile: &str, key: &str) -> Option<&str> {
        let set = match file {
            FileKind::Config => &self.config,
            FileKind::Credentials => &self.credentials,
        };
        set.get_profile(profile)?.get(key).filter(|v| !v.is_empty())
    }

    /// `key` of `profile` in `text`, read as a file of `kind` by the SDK's parser: what an
    /// edit of that file leaves for every AWS tool to read.
    pub fn value_in_text(kind: FileKind, text: &str, profile: &str, key: &str) -> Result<Option<String>> {
        let source = Source { path: PathBuf::new(), text: text.to_string() };
        let kind = match kind {
            FileKind::Config => EnvConfigFileKind::Config,
            FileKind::Credentials => EnvConfigFileKind::Credentials,
        };
        let set = load(&[(kind, &source)])?;
        Ok(set.get_profile(profile).and_then(|p| p.get(key)).filter(|v| !v.is_empty()).map(str::to_string))
    }

    pub fn origin(&self, file: FileKind, profile: &str) -> Origin {
        let path = match file {
            FileKind::Config => &self.config_path,
            FileKind::Credentials => &self.credentials_path,
        };
        Origin { file, path: path.clone(), profile: profile.to_string() }
    }

    pub fn has_profile(&self, name: &str) -> bool {
        self.merged.get_profile(name).is_some()
    }

    /// Every profile of the two files, sorted, for hints.
    pub fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.merged.profiles().map(str::to_string).collect();
        names.sort();
        names
    }
}

/// Runs aws-config's loader over in-memory files. Its future does no real async work (its
/// file shim reads a map; smithy-rs's own tests poll it once), so one poll finishes it and
/// the fast path needs no runtime.
fn load(files: &[(EnvConfigFileKind, &Source)]) -> Result<ProfileSet> {
    let mut map: HashMap<String, Vec<u8>> = HashMap::new();
    let mut builder =
        EnvConfigFiles::builder().include_default_config_file(false).include_default_credentials_file(false);
    for (i, (kind, source)) in files.iter().enumerate() {
        // Each file under its own name, so parse errors name the real path; an index keeps
        // the two apart when both variables name the same file.
        let key = if source.path.as_os_str().is_empty() {
            format!("<{i}>")
        } else {
            format!("{}\u{0}{i}", source.path.display())
        };
        let shown = display_key(&key);
        map.insert(shown.clone(), source.text.clone().into_bytes());
        builder = builder.with_file(*kind, Path::new(&shown));
    }
    let fs = Fs::from_map(map);
    let env = Env::from_slice(&[]);
    let files = builder.build();
    let mut future = std::pin::pin!(aws_config::profile::load(&fs, &env, &files, None));
    let result = match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => return Err(Error::unexpected("the AWS config parser did not finish in one step")),
    };
    result.map_err(|e| parse_error(&e))
}

/// The name a file goes by inside the parser: its path, unless two files share it.
fn display_key(key: &str) -> String {
    match key.split_once('\u{0}') {
        Some((path, "0")) => path.to_string(),
        Some((path, i)) => format!("{path} (#{i})"),
        None => key.to_string(),
    }
}

/// "error parsing PATH on line N:\n  MESSAGE" → "PATH:N: MESSAGE", with a hint.
fn parse_error(err: &aws_config::profile::ProfileFileLoadError) -> Error {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    let text = text.strip_prefix("error parsing ").unwrap_or(&text).to_string();
    let (place, message) = text.split_once(":\n").unwrap_or((&text, ""));
    let (path, line) = place.rsplit_once(" on line ").unwrap_or((place, ""));
    let path = path.trim_end_matches(" (#1)");
    let message = message.trim();
    if line.is_empty() {
        return Error::config(format!("cannot parse {path}: {message}"));
    }
    let message = message.strip_suffix('.').unwrap_or(message);
    let mut lowered = message.chars();
    let message: String = lowered.next().map(|c| c.to_lowercase().chain(lowered).collect()).unwrap_or_default();
    Error::config(format!("{path}:{line}: {message}")).hint(format!("fix line {line} of {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(config: &str, credentials: &str) -> AwsFiles {
        AwsFiles::parse(
            &Source { path: "/home/u/.aws/config".into(), text: config.into() },
            &Source { path: "/home/u/.aws/credentials".into(), text: credentials.into() },
        )
        .unwrap()
    }

    #[test]
    fn the_credentials_file_wins_and_says_so() {
        let f = files("[profile w]\nregion = eu-west-1\nmfa_serial = arn:a\n", "[w]\nregion = us-east-2\n");
        let (region, origin) = f.get("w", "region").unwrap();
        assert_eq!(region, "us-east-2");
        assert_eq!(origin.to_string(), "[w] of /home/u/.aws/credentials");
        let (_, origin) = f.get("w", "mfa_serial").unwrap();
        assert_eq!(origin.to_string(), "[profile w] of /home/u/.aws/config");
    }

    #[test]
    fn read_like_the_sdks_profile_default_tabs_and_inline_comments() {
        let f = files(
            "[default]\nregion = a\n[profile default]\nregion = b\n[profile\tt]\nmfa_serial = arn:x # my phone\n",
            "",
        );
        assert_eq!(f.get("default", "region").unwrap().0, "b");
        assert_eq!(f.get("t", "mfa_serial").unwrap().0, "arn:x");
    }

    #[test]
    fn a_parse_error_names_the_file_and_line() {
        let err = AwsFiles::parse(
            &Source { path: "/c".into(), text: "[default]\nregion = a\nthis is not ini\n".into() },
            &Source::default(),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.starts_with("/c:3: "), "{}", err.message);
    }

    #[test]
    fn one_file_named_by_both_variables_is_read_as_both() {
        let same = Source {
            path: "/same".into(),
            text: "[default]\nregion = a\n[profile p]\nregion = b\n[p]\nx = 1\n".into(),
        };
        let f = AwsFiles::parse(&same, &same).unwrap();
        assert_eq!(f.get("p", "region").unwrap().0, "b");
        assert_eq!(f.get("p", "x").unwrap().0, "1");
    }
}
