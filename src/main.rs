//! The `awsmfa` binary: parse, run, turn the error into an exit code.

use clap::Parser;

fn main() {
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
    std::process::exit(code);
}
