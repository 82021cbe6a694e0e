//! `awsmfa terminate`: terminate instances awsmfa launched, after a confirmation on the
//! terminal; others only with --any.

use super::ec2_session;
use crate::aws;
use crate::cli::{GlobalArgs, TerminateArgs};
use crate::ec2::{CREATED_BY_KEY, CREATED_BY_VALUE, CtrlC};
use crate::error::{Error, Kind, Result};
use crate::ui;

pub fn run(global: &GlobalArgs, args: TerminateArgs) -> Result<i32> {
    let timeout = super::wait_timeout(&args.wait_args)?;
    let (_, ec2) = ec2_session(global, &args.session)?;
    let found = aws::block_on(ec2.describe(&args.ids, false))??;
    for id in &args.ids {
        let Some(instance) = found.iter().find(|i| &i.id == id) else {
            return Err(Error::config(format!("no instance {id} in this region"))
                .hint("list them with `awsmfa instances --all`"));
        };
        let ours = instance.tags.get(CREATED_BY_KEY).map(String::as_str) == Some(CREATED_BY_VALUE);
        if !ours && !args.any {
            return Err(Error::config(format!(
                "{id} was not launched by awsmfa (no tag {CREATED_BY_KEY}={CREATED_BY_VALUE})"
            ))
            .hint("pass --any to terminate it anyway"));
        }
    }
    if !args.yes && !confirm(&args.ids)? {
        ui::note("nothing terminated");
        return Err(Error::new(Kind::Declined, "nothing terminated"));
    }
    let outcome = aws::block_on(async {
        let mut ctrl_c = CtrlC::watch()?;
        ec2.terminate(&args.ids).await?;
        ui::note(&format!("terminating {}", args.ids.join(", ")));
        if !args.wait {
            return Ok(Some(Vec::new()));
        }
        ec2.wait_with_spinner(&args.ids, "terminated", timeout, &mut ctrl_c).await
    })??;
    match outcome {
        Some(_) if args.wait => ui::note(&format!("terminated {}", args.ids.join(", "))),
        Some(_) => {}
        None => return Err(Error::new(Kind::Interrupted, "interrupted")),
    }
    Ok(0)
}

/// Asks on the terminal; without one, refuses and says to pass --yes.
fn confirm(ids: &[String]) -> Result<bool> {
    crate::ui::term::confirm(
        "terminate",
        &format!("terminate {}? [y/N] ", ids.join(", ")),
        "pass --yes to terminate without asking",
    )
}
