//! `awsmfa verify`: the manual recipe's pre-test and post-test, by EC2 dry run: long-term
//! keys must be denied, the MFA session allowed; optionally a real launch (and terminate).
//! The steps are `enforce::verify`'s; the report is printed here, failed or not.

use super::{print, request, settings};
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::enforce::verify::{self, Plan};
use crate::error::Result;

pub fn run(global: &GlobalArgs, args: VerifyArgs) -> Result<i32> {
    let timeout = super::wait_timeout(&args.wait)?;
    let settings = settings(global, &args.session)?;
    let spec = super::launch_spec(&settings, &args.instance, 1, vec![("Name".into(), "awsmfa-verify".into())])?;
    let plan = Plan { json: args.json, launch: args.launch, terminate: args.terminate, timeout };
    let (report, result) = verify::verify(&settings, &spec, &plan, &|| request(&args.session, false))?;
    print(report.render(args.json).as_bytes())?;
    result.map(|()| 0)
}
