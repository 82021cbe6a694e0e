//! Messages for people, on stderr: notes, warnings, `--verbose` traces and the error
//! report. Machine output (stdout) never goes through here. Colour only on a terminal, never
//! with NO_COLOR or TERM=dumb. Nothing printed here may contain a secret. A closed or broken
//! stderr never stops awsmfa: messages are best effort, the work still completes.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

pub mod term;

static VERBOSE: AtomicBool = AtomicBool::new(false);
/// What the terminal allows, as `profile` read it (NO_COLOR, TERM): nothing until told.
static NO_COLOUR: AtomicBool = AtomicBool::new(true);
static DUMB: AtomicBool = AtomicBool::new(true);

/// What the user's terminal settings allow: colour (no NO_COLOR, TERM not dumb), and
/// redrawing a line (TERM not dumb). Read by `profile` (the one reader of the environment)
/// and set once by `main`, before anything is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    pub no_colour: bool,
    pub dumb: bool,
}

pub fn set_terminal(terminal: Terminal) {
    NO_COLOUR.store(terminal.no_colour, Ordering::Relaxed);
    DUMB.store(terminal.dumb, Ordering::Relaxed);
}

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `--verbose` is on: lets a hot path skip building a trace nobody will see.
pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

fn colour() -> bool {
    !NO_COLOUR.load(Ordering::Relaxed) && !DUMB.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// Writes `text` to stderr in one write, ignoring failure (a closed pipe, a full disk).
fn emit(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

fn paint(code: &str, text: &str) -> String {
    if colour() { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
}

/// Something the user should know ("using MFA device ...").
pub fn note(message: &str) {
    emit(&format!("{message}\n"));
}

/// Something went wrong but awsmfa carries on.
pub fn warn(message: &str) {
    emit(&format!("{} {message}\n", paint("1;33", "warning:")));
}

/// A step of the work, shown with --verbose.
pub fn trace(message: &str) {
    if VERBOSE.load(Ordering::Relaxed) {
        emit(&format!("{} {message}\n", paint("2", "awsmfa:")));
    }
}

/// The final report of a failed run: the error's line, each cause a line (as cargo and uv
/// print them: the why is often in the cause), and a hint line when there is one.
pub fn report(err: &Error) {
    let mut text = format!("{} {}\n", paint("1;31", "error:"), err.message);
    for cause in err.causes() {
        text.push_str(&format!("  {} {cause}\n", paint("2", "caused by:")));
    }
    if let Some(hint) = &err.hint {
        text.push_str(&format!("{} {hint}\n", paint("1;36", "hint:")));
    }
    emit(&text);
}

/// A question on stderr, without a newline (the answer is typed after it).
pub fn ask(question: &str) {
    emit(question);
}

/// A one-line spinner on stderr, shown only when stderr is a terminal.
pub struct Spinner {
    on: bool,
    frame: usize,
    started: std::time::Instant,
}

impl Spinner {
    pub fn new() -> Self {
        let dumb = DUMB.load(Ordering::Relaxed);
        Spinner { on: std::io::stderr().is_terminal() && !dumb, frame: 0, started: std::time::Instant::now() }
    }

    pub fn tick(&mut self, message: &str) {
        if !self.on {
            return;
        }
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        self.frame = (self.frame + 1) % FRAMES.len();
        emit(&format!("\r\x1b[K{} {message} ({}s)", FRAMES[self.frame], self.started.elapsed().as_secs()));
    }

    pub fn clear(&self) {
        if self.on {
            emit("\r\x1b[K");
        }
    }
}

impl Default for Spinner {
    fn default() -> Self {
        Self::new()
    }
}
