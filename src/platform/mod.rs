//! Every difference between the operating systems, and nothing else: the rest of awsmfa has
//! no `cfg` and no `libc`. The bottom layer: it uses nothing of ours and speaks `std::io`.
//!
//! | concern | Unix | Windows |
//! |---|---|---|
//! | private files | mode 0600/0700, owner = us, `O_NOFOLLOW`, `O_EXCL` | files under the user profile, whose ACL gives the user alone access (documented reliance: no ACL of our own); `create_new` |
//! | ownership checks | uid and mode bits | none (no uid; the profile's ACL) |
//! | reading without hanging | `O_NONBLOCK` (a FIFO) | no FIFOs in the file system |
//! | atomic replace | rename(2) | `MoveFileExW(REPLACE_EXISTING)`, std's rename |
//! | exec | execve(2): the command replaces awsmfa | spawn, wait, exit with its code (Ctrl-C reaches both: one console) |
//! | the terminal | `/dev/tty` | `CONIN$` / `CONOUT$` |
//! | stop signals | SIGINT, SIGTERM, SIGHUP | Ctrl-C, Ctrl-Break, console close |
//! | a program run with a time limit (`doctor`) | its own process group, killed whole | the program alone is killed |
//! | home | `HOME` | `HOME`, `USERPROFILE`, `HOMEDRIVE`+`HOMEPATH` (the SDKs' order) |
//! | default `env` format | POSIX shell | PowerShell |
//! | core dumps | off (RLIMIT_CORE 0; Linux: not dumpable once a keystore is opened), children get theirs back | none written |

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

/// Which stop signal came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C.
    Interrupt,
    /// SIGTERM, SIGHUP (Ctrl-Break, the console closing on Windows): to pass on to a child.
    Terminate(i32),
}

/// A command line run by the system's shell (`sh -c`, `cmd /C`), as `mfa_process` is.
pub fn shell(line: &str) -> std::process::Command {
    let mut command = std::process::Command::new(SHELL[0]);
    command.arg(SHELL[1]).arg(line);
    for_child(&mut command);
    command
}

/// Opens `url` in a browser: `browser` (the BROWSER variable: a command, `%s` standing for
/// the URL, else the URL appended), else the system's opener (xdg-open, open, the Windows
/// URL handler), without the variables named in `secrets`. Started and left to run; false
/// when it could not be started.
pub fn open_url(url: &str, browser: Option<&str>, secrets: &[&str]) -> bool {
    let mut command = match browser.map(str::split_whitespace) {
        Some(mut words) => match words.next() {
            Some(program) => {
                let mut command = std::process::Command::new(program);
                let mut placed = false;
                for word in words {
                    placed |= word.contains("%s");
                    command.arg(word.replace("%s", url));
                }
                if !placed {
                    command.arg(url);
                }
                command
            }
            None => return false,
        },
        None => {
            let (program, args) = OPENER;
            let mut command = std::process::Command::new(program);
            command.args(args).arg(url);
            command
        }
    };
    for_child(&mut command);
    for name in secrets {
        command.env_remove(name);
    }
    command.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    match command.spawn() {
        // Reaped on a thread of its own: the opener may outlive the sign-in.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
            true
        }
        Err(_) => false,
    }
}

/// The system's way to open a URL.
const OPENER: (&str, &[&str]) = if cfg!(windows) {
    ("rundll32", &["url.dll,FileProtocolHandler"])
} else if cfg!(target_os = "macos") {
    ("open", &[])
} else {
    ("xdg-open", &[])
};

/// Random bytes from the OS (getrandom(2), BCryptGenRandom); false if it failed.
pub fn random_bytes(buf: &mut [u8]) -> bool {
    getrandom::fill(buf).is_ok()
}

/// The home directory as the AWS SDKs find it, from the environment's `get`.
pub fn home_from(get: impl Fn(&str) -> Option<String>) -> Option<std::path::PathBuf> {
    if let Some(home) = get("HOME") {
        return Some(home.into());
    }
    if !cfg!(windows) {
        return None;
    }
    if let Some(profile) = get("USERPROFILE") {
        return Some(profile.into());
    }
    match (get("HOMEDRIVE"), get("HOMEPATH")) {
        (Some(drive), Some(path)) => Some(format!("{drive}{path}").into()),
        _ => None,
    }
}

/// The shell syntax `env` and `serve` print unless told: PowerShell on Windows.
pub const DEFAULT_FORMAT: &str = if cfg!(windows) { "powershell" } else { "env" };

/// Where the terminal is, for messages.
pub const TERMINAL: &str = if cfg!(windows) { "the console (CONIN$)" } else { "/dev/tty" };
