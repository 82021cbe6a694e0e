//! `awsmfa launch`: RunInstances with the MFA session, tagged `created-by=awsmfa`, and with
//! `--wait` a spinner until every instance runs.

use super::{ec2_signed, print_instances, settings};
use crate::aws;
use crate::cli::{GlobalArgs, LaunchArgs};
use crate::ec2::CtrlC;
use crate::error::{Error, Kind, Result};
use crate::output::report::{ID, PRIVATE_IP, PUBLIC_IP, STATE, TYPE};
use crate::ui;

pub fn run(global: &GlobalArgs, args: LaunchArgs) -> Result<i32> {
    let timeout = super::wait_timeout(&args.wait_args)?;
    let settings = settings(global, &args.session)?;
    let mut tags = Vec::new();
    if let Some(name) = &args.name {
        tags.push(("Name".to_string(), name.clone()));
    }
    tags.extend(args.tags.iter().cloned());
    let mut spec = super::launch_spec(&settings, &args.instance, args.count, tags)?;
    let ec2 = ec2_signed(&settings, &args.session)?;
    spec.subnet_id = args.subnet_id.clone();
    spec.security_group_ids = args.security_group_ids.clone();
    let outcome = aws::block_on(async {
        let mut ctrl_c = CtrlC::watch()?;
        let launched = ec2.launch(&spec).await?;
        if !args.wait {
            return Ok(Some(launched));
        }
        let ids: Vec<String> = launched.iter().map(|i| i.id.clone()).collect();
        ui::note(&format!("launched {}", ids.join(", ")));
        ec2.wait_with_spinner(&ids, "running", timeout, &mut ctrl_c).await
    })??;
    let Some(instances) = outcome else { return Err(Error::new(Kind::Interrupted, "interrupted")) };
    print_instances(&instances, args.json, &[ID, STATE, TYPE, PRIVATE_IP, PUBLIC_IP], "no instance was launched")
}
