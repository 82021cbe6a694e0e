//! Messages for people, on stderr: notes, warnings, `--verbose` traces and the error
//! report. Machine output (stdout) never goes through here. Colour only on a terminal and
//! never with NO_COLOR. Nothing printed here may contain a secret.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

fn colour() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn paint(code: &str, text: &str) -> String {
    if colour() { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

/// Something the user should know ("using MFA device ...").
pub fn note(message: &str) {
    eprintln!("{message}");
}

/// Something went wrong but awsmfa carries on.
pub fn warn(message: &str) {
    eprintln!("{} {message}", paint("1;33", "warning:"));
}

/// A step of the work, shown with --verbose.
pub fn trace(message: &str) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!("{} {message}", paint("2", "awsmfa:"));
    }
}

/// The final report of a failed run: one line, and a hint line when there is one.
pub fn report(err: &Error) {
    eprintln!("{} {}", paint("1;31", "error:"), err.message);
    if let Some(hint) = &err.hint {
        eprintln!("{} {hint}", paint("1;36", "hint:"));
    }
}

/// A one-line spinner on stderr, shown only when stderr is a terminal.
pub struct Spinner {
    on: bool,
    frame: usize,
    started: std::time::Instant,
}

impl Spinner {
    pub fn new() -> Self {
        Spinner { on: std::io::stderr().is_terminal(), frame: 0, started: std::time::Instant::now() }
    }

    pub fn tick(&mut self, message: &str) {
        if !self.on {
            return;
        }
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        self.frame = (self.frame + 1) % FRAMES.len();
        eprint!("\r\x1b[K{} {message} ({}s)", FRAMES[self.frame], self.started.elapsed().as_secs());
    }

    pub fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}

impl Default for Spinner {
    fn default() -> Self {
        Self::new()
    }
}
