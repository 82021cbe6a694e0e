//! `awsmfa exec -- CMD`: run CMD with the session's variables, replacing this process so
//! CMD's exit code and signals are its own; with `--server`, a local credential endpoint
//! instead of keys (`child`).

use super::{request, settings};
use crate::child;
use crate::cli::{ExecArgs, GlobalArgs};
use crate::error::{Error, Result};
use crate::session;

pub fn run(global: &GlobalArgs, args: ExecArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    if let Some(outer) = &settings.inside_exec
        && !args.force
    {
        return Err(Error::config(format!("already inside `awsmfa exec` (profile '{outer}'): refusing to nest"))
            .hint("exit that shell first, or pass --force to run anyway"));
    }
    let request = request(&args.session, false)?;
    let got = session::get_session(&settings.session(), &request)?;
    if args.server {
        return child::with_server(settings, request, &args.command);
    }
    Err(child::exec(&settings, &got.session, &args.command))
}
