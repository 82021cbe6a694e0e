//! The person at the terminal: questions asked on the controlling terminal (never stdout or
//! stderr, so they show under `eval "$(awsmfa ...)"` and under `credential_process`, whose
//! stderr the AWS CLI hides), and, with no terminal at all, one answer a line read from the
//! standard input, for automation (`line`); a yes/no question that only a person at the
//! terminal may answer (`confirm`: a pipe never says yes to a deletion); and a secret read
//! without echo (`secret`: a passphrase, a secret key).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// The longest answer read: a pasted code is a few hundred characters.
const LONGEST: u64 = 16 << 10;

/// Asks `question` and reads one line (without its end).
pub fn line(question: &str) -> Result<String> {
    let mut answer = String::new();
    let read = match crate::platform::terminal() {
        Some((input, output)) => ask(input, output, question, &mut answer)?,
        None => std::io::stdin()
            .lock()
            .take(LONGEST)
            .read_line(&mut answer)
            .map_err(|e| Error::io("read the answer from", Path::new("the standard input"), e))?,
    };
    if read == 0 {
        return Err(Error::config("no answer (end of input)").hint("run the command again at a terminal"));
    }
    Ok(answer.trim_end_matches(['\n', '\r']).to_string())
}

/// `line`, but None when no line came within `wait` (a pipe left open with nothing written
/// must not hold awsmfa forever). The read goes on in a thread of its own, abandoned then.
pub fn line_within(question: &str, wait: std::time::Duration) -> Result<Option<String>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let question = question.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(line(&question));
    });
    match rx.recv_timeout(wait) {
        Ok(answer) => answer.map(Some),
        Err(_) => Ok(None),
    }
}

/// Asks `question` on the controlling terminal and reads the answer without echo (a
/// passphrase, a secret key), with rpassword, the field's crate for it. The caller says
/// what a missing terminal or an interrupt means for it.
pub fn secret(question: &str) -> std::io::Result<String> {
    rpassword::prompt_password(question)
}

/// Asks a yes/no `question` before `what` on the controlling terminal; "y" or "yes" is yes,
/// anything else no. Without a terminal it refuses (a script's standard input must not
/// answer for a person), and says how to go on (`how`).
pub fn confirm(what: &str, question: &str, how: &str) -> Result<bool> {
    let Some((input, output)) = crate::platform::terminal() else {
        return Err(Error::config(format!("{what} needs a confirmation and there is no terminal to ask on"))
            .hint(how.to_string()));
    };
    let mut answer = String::new();
    ask(input, output, question, &mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// Writes `question` on the terminal and reads one line of at most LONGEST bytes into
/// `answer`; the bytes read (0 at the end of input).
fn ask(input: std::fs::File, mut output: std::fs::File, question: &str, answer: &mut String) -> Result<usize> {
    // One write: a terminal (or a test typing at it) sees the whole question at once.
    let _ = output.write_all(question.as_bytes());
    let _ = output.flush();
    BufReader::new(input.take(LONGEST))
        .read_line(answer)
        .map_err(|e| Error::io("read from", Path::new(crate::platform::TERMINAL), e))
}
