//! `awsmfa credential-process`: the session as credential_process JSON (Version 1).

use super::{print, request, settings};
use crate::cli::{CredentialProcessArgs, GlobalArgs};
use crate::error::Result;
use crate::output;
use crate::session;

pub fn run(global: &GlobalArgs, args: CredentialProcessArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    let got = session::get_session(&settings.session(), &request(&args.session, false)?)?;
    print(output::credential_process_json(&got.session).as_bytes())
}
