//! `awsmfa doctor`: the checks of `crate::doctor`, as a table or JSON.

use super::print;
use crate::cli::{DoctorArgs, GlobalArgs};
use crate::doctor::{self, Status};
use crate::error::{Error, Kind, Result};
use crate::profile::Environment;

pub fn run(global: &GlobalArgs, args: DoctorArgs) -> Result<i32> {
    let settings = super::profile_settings(global);
    // An environment awsmfa refuses fails the settings too: doctor's first check says why.
    let env = Environment::from_process().unwrap_or_default();
    let checks = doctor::run(&env, settings, args.image_id.as_deref());
    if args.json {
        let mut text = serde_json::to_string_pretty(&checks).expect("json");
        text.push('\n');
        print(text.as_bytes())?;
    } else {
        let mut text = String::new();
        for c in &checks {
            text.push_str(&format!("{:<4}  {:<18} {}\n", c.status.label(), c.check, c.detail));
            if let Some(fix) = &c.fix {
                text.push_str(&format!("{:<24} fix: {fix}\n", ""));
            }
        }
        print(text.as_bytes())?;
    }
    if checks.iter().any(|c| c.status == Status::Fail) {
        return Err(Error::new(Kind::ChecksFailed, "a check failed"));
    }
    Ok(0)
}
