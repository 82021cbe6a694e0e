//! `awsmfa env`: the session as shell variables (logging in first if needed).

use super::{print, request, settings};
use crate::cli::{EnvArgs, GlobalArgs};
use crate::output;
use crate::session;

pub fn run(global: &GlobalArgs, args: EnvArgs) -> Result<i32, crate::error::Error> {
    let settings = settings(global, &args.session)?;
    let got = session::get_session(&settings.session(), &request(&args.session, false)?)?;
    print(output::render(args.format, &got.session, settings.client.region.as_deref())?.as_bytes())
}
