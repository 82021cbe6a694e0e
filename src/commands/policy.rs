//! `awsmfa policy`: the IAM policy that enforces MFA, ready for `aws iam put-user-policy`.

use super::print;
use crate::cli::PolicyArgs;
use crate::error::Result;
use crate::output::policy::document;

pub fn run(args: PolicyArgs) -> Result<i32> {
    let text = serde_json::to_string_pretty(&document(args.scope)).expect("json");
    print(format!("{text}\n").as_bytes())
}
