//! The one error type of awsmfa: every failure carries a one-line message, an optional
//! hint that says what to do, and the exit code of the exit-code table of docs/architecture.md (kept here, once).
//! Messages never contain secrets: callers pass key ids, ARNs and paths, never keys.

use std::fmt;

/// The exit-code table. `exec` returns its child's code and does not appear here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: a bug, an I/O failure we did not foresee, or a lock we waited too long for.
    Unexpected,
    /// 2: the command line lacks something (clap reports its own usage errors with 2).
    Usage,
    /// 3: no profile, no keys, no serial, a malformed file, a bad flag value.
    Config,
    /// 4: AWS (or we, before sending) refused the MFA code or serial.
    MfaRejected,
    /// 5: AWS answered, and the answer was "no".
    Denied,
    /// 6: AWS could not be reached or did not answer in time.
    Unreachable,
    /// 7: a wait ended without the awaited state: it timed out, or the instance left the
    /// way to it (terminated while we waited for running).
    WaitEnded,
    /// 8, silently: `doctor` found a failing check (its report says which).
    ChecksFailed,
    /// 10: `verify` found that long-term keys can do what only MFA should allow.
    NotEnforced,
    /// 130, as in shells: the user pressed Ctrl-C (during a wait); said where it happened.
    Interrupted,
    /// 1: the user answered "no" to a confirmation; nothing was done.
    Declined,
    /// 1, silently: `status --check` found no valid session.
    NoSession,
    /// 126, as in shells: `exec` found the command but cannot run it.
    CannotRun,
    /// 127, as in shells: `exec` could not find the command.
    CommandNotFound,
}

impl Kind {
    /// Kinds whose exit code says it all: no `error:` line is printed for them.
    pub fn is_silent(self) -> bool {
        matches!(self, Kind::NoSession | Kind::Interrupted | Kind::Declined | Kind::ChecksFailed)
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Unexpected | Kind::NoSession => 1,
            Kind::Usage => 2,
            Kind::Config => 3,
            Kind::MfaRejected => 4,
            Kind::Denied => 5,
            Kind::Unreachable => 6,
            Kind::WaitEnded => 7,
            Kind::ChecksFailed => 8,
            Kind::NotEnforced => 10,
            Kind::Interrupted => 130,
            Kind::Declined => 1,
            Kind::CannotRun => 126,
            Kind::CommandNotFound => 127,
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    /// What caused it (an I/O error, the SDK's error), shown with `--verbose`.
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), hint: None, source: None }
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn unexpected(message: impl Into<String>) -> Self {
        Self::new(Kind::Unexpected, message)
    }
    pub fn mfa(message: impl Into<String>) -> Self {
        Self::new(Kind::MfaRejected, message)
    }
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(Kind::Denied, message)
    }
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unreachable, message)
    }
    pub fn wait_ended(message: impl Into<String>) -> Self {
        Self::new(Kind::WaitEnded, message)
    }
    /// Adds (or replaces) the line that tells the user what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// The same error again, without its cause: for a problem found once, while the plan
    /// was made, and said wherever it matters (the long-term keys that are missing).
    pub fn again(&self) -> Self {
        Error { kind: self.kind, message: self.message.clone(), hint: self.hint.clone(), source: None }
    }
    /// Keeps `cause` as this error's source, for `--verbose` and for callers that match on it.
    pub fn because(mut self, cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        self.source = Some(cause.into());
        self
    }

    /// The chain of causes, outermost first, each said once, without what the message says
    /// already or the SDK's names of its own layers ("dispatch failure"), which say nothing.
    pub fn causes(&self) -> Vec<String> {
        const LAYERS: [&str; 6] = [
            "dispatch failure",
            "io error",
            "service error",
            "response error",
            "timeout error",
            "construction failure",
        ];
        let mut said: Vec<String> = Vec::new();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            // Said as io_reason says it: without the OS's "(os error 40)" noise.
            let text = without_os_noise(&cause.to_string());
            if !said.contains(&text) && !self.message.contains(&text) && !LAYERS.contains(&text.as_str()) {
                said.push(text);
            }
            next = cause.source();
        }
        said
    }

    /// An I/O failure on a named file, e.g. "cannot read ~/.aws/config: permission denied".
    /// Failures that come from the path the user gave (missing, not allowed, a directory, a
    /// symlink loop, a read-only place) are configuration errors (3); the rest unexpected.
    pub fn io(action: &str, path: &std::path::Path, err: std::io::Error) -> Self {
        use std::io::ErrorKind as E;
        let from_path = matches!(
            err.kind(),
            E::PermissionDenied
                | E::NotFound
                | E::IsADirectory
                | E::NotADirectory
                | E::InvalidInput
                | E::InvalidFilename
                | E::ReadOnlyFilesystem
                | E::AlreadyExists
        ) || crate::platform::is_link_refused(&err);
        let kind = if from_path { Kind::Config } else { Kind::Unexpected };
        let error = Self::new(kind, format!("cannot {action} {}: {}", path.display(), io_reason(&err)));
        let error = match err.kind() {
            E::PermissionDenied => {
                error.hint(format!("check the owner and permissions of {} (`ls -ld` it)", path.display()))
            }
            _ if crate::platform::is_link_refused(&err) => {
                error.hint(format!("{} is a loop of symlinks: point it at a real file", path.display()))
            }
            _ => error,
        };
        error.because(err)
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
}

/// A path as one word to paste into a shell, for hints (`mv 'my file' ...`): as it is when
/// made of characters no shell acts on, else in single quotes (a quote closed, escaped,
/// reopened), so a pasted hint acts on that path and nothing else.
pub fn shell_word(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"_@%+:,./-".contains(&b)) {
        return text;
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The OS's reason without Rust's "(os error 13)" suffix, lower-cased like the rest.
pub(crate) fn io_reason(err: &std::io::Error) -> String {
    without_os_noise(&err.to_string())
}

fn without_os_noise(text: &str) -> String {
    let text = match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_design_table() {
        assert_eq!(Kind::Unexpected.exit_code(), 1);
        assert_eq!(Kind::Config.exit_code(), 3);
        assert_eq!(Kind::MfaRejected.exit_code(), 4);
        assert_eq!(Kind::Denied.exit_code(), 5);
        assert_eq!(Kind::Unreachable.exit_code(), 6);
        assert_eq!(Kind::WaitEnded.exit_code(), 7);
        assert_eq!(Kind::NotEnforced.exit_code(), 10);
        assert_eq!(Kind::CannotRun.exit_code(), 126);
        assert_eq!(Kind::CommandNotFound.exit_code(), 127);
        assert_eq!(Kind::Interrupted.exit_code(), 130);
    }

    #[test]
    fn io_errors_name_the_file_without_os_noise() {
        let err = Error::io("read", std::path::Path::new("/x/config"), std::io::Error::from_raw_os_error(13));
        assert_eq!(err.message, "cannot read /x/config: permission denied");
        assert_eq!(err.kind, Kind::Config);
    }

    #[test]
    fn a_path_in_a_hint_pastes_as_one_word() {
        use std::path::Path;
        assert_eq!(shell_word(Path::new("/home/u/.aws/awsmfa-keys.age")), "/home/u/.aws/awsmfa-keys.age");
        assert_eq!(shell_word(Path::new("/home/u/my keys")), "'/home/u/my keys'");
        assert_eq!(shell_word(Path::new("/tmp/it's;rm -rf ~")), "'/tmp/it'\\''s;rm -rf ~'");
    }

    #[test]
    fn causes_are_kept_for_verbose_output() {
        let inner = std::io::Error::other("the disk said no");
        let err = Error::unexpected("cannot store the session").because(inner);
        assert_eq!(err.causes(), vec!["the disk said no".to_string()]);
        assert!(std::error::Error::source(&err).is_some());
    }
}
