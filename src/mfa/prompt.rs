//! Talking to the person at the terminal through /dev/tty, never stdout or stderr, so the
//! prompt shows even under `eval "$(awsmfa env)"` and under `credential_process` (whose
//! stderr the AWS CLI swallows). Without a terminal, there is no prompt and no countdown.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use super::{CodeSource, MfaCode};
use crate::error::{Error, Result};

/// How many malformed entries we accept before giving up.
const ATTEMPTS: usize = 3;

pub struct TtyPrompt {
    input: File,
    output: File,
}

impl TtyPrompt {
    /// The controlling terminal, if this process has one.
    pub fn open() -> Option<TtyPrompt> {
        let (input, output) = crate::platform::terminal()?;
        Some(TtyPrompt { input, output })
    }
}

impl CodeSource for TtyPrompt {
    fn origin(&self) -> String {
        "the terminal prompt".into()
    }

    fn code(&mut self, serial: &str, refused: Option<u64>) -> Result<MfaCode> {
        let terminal = Path::new(crate::platform::TERMINAL);
        let mut out = &self.output;
        let mut input = BufReader::new(&self.input);
        if let Some(wait) = refused {
            let _ = writeln!(out, "this code was already used; wait for the next one (in {wait} s)");
        }
        for _ in 0..ATTEMPTS {
            // One write: a terminal (or a test typing at it) sees the whole prompt at once.
            let _ = out.write_all(format!("MFA code for {serial}: ").as_bytes());
            let _ = out.flush();
            let mut line = String::new();
            let read = input.read_line(&mut line).map_err(|e| Error::io("read from the terminal", terminal, e))?;
            if read == 0 {
                let _ = writeln!(out);
                return Err(
                    Error::config("no MFA code entered (end of input)").hint("run again and type the 6-digit code")
                );
            }
            if let Some(code) = MfaCode::parse(&line) {
                return Ok(code);
            }
            let _ = writeln!(out, "a code is 6 digits, e.g. 123456; try again");
        }
        Err(Error::config(format!("no valid MFA code after {ATTEMPTS} tries"))
            .hint("type the 6 digits your device shows"))
    }

    fn renews(&self) -> bool {
        true
    }
}

/// Waits `seconds`, showing a countdown on the terminal when there is one.
pub fn countdown(seconds: u64, why: &str) {
    let tty = crate::platform::terminal_output();
    let interactive = std::io::stderr().is_terminal();
    if tty.is_none() && interactive {
        crate::ui::note(&format!("{why} ({seconds} s)"));
    }
    for left in (1..=seconds).rev() {
        if let Some(mut t) = tty.as_ref() {
            let _ = write!(t, "\r{why}: {left:>2} s ");
            let _ = t.flush();
        }
        crate::clock::sleep(Duration::from_secs(1));
    }
    if let Some(mut t) = tty.as_ref() {
        let _ = write!(t, "\r\x1b[K");
        let _ = t.flush();
    }
}
