//! `awsmfa policy`: the IAM policy that enforces MFA, printed for `aws iam put-user-policy`,
//! or (`--apply`) attached by awsmfa itself, guarded against locking the caller out, and
//! proven with verify's two dry runs (`enforce::apply`).

use super::{print, request, settings};
use crate::cli::{GlobalArgs, PolicyArgs};
use crate::enforce::apply::{self, Plan};
use crate::error::Result;
use crate::output::policy::document;

pub fn run(global: &GlobalArgs, args: PolicyArgs) -> Result<i32> {
    let doc = document(args.scope);
    let text = serde_json::to_string_pretty(&doc).expect("json");
    if !args.apply {
        return print(format!("{text}\n").as_bytes());
    }
    let target = apply::target(&args.name, args.user.as_deref(), args.group.as_deref())?;
    let settings = settings(global, &args.session)?;
    let plan = Plan { target, name: args.name, replace: args.replace, dry_run: args.dry_run, image_id: args.image_id };
    match apply::apply(&settings, &plan, &doc, &text, &|| request(&args.session, false))? {
        Some(dry_run) => print(dry_run.as_bytes()),
        None => Ok(0),
    }
}
