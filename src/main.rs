//! The `awsmfa` binary: parse, run, turn the error into an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Before anything can hold a secret (or crash): no core file of this process.
    awsmfa::platform::forbid_core_files();
    awsmfa::ui::set_terminal(awsmfa::profile::terminal());
    let cli = awsmfa::cli::Cli::parse();
    let code = match awsmfa::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            if !err.kind.is_silent() {
                awsmfa::ui::report(&err);
            }
            err.exit_code()
        }
    };
    match u8::try_from(code) {
        Ok(code) => ExitCode::from(code),
        // A Windows child's code (exec) can be wider than a byte: passed on whole.
        Err(_) => std::process::exit(code),
    }
}
