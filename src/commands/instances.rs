//! `awsmfa instances`: the instances awsmfa launched (tag created-by=awsmfa), or all.

use super::{ec2_session, print_instances};
use crate::aws;
use crate::aws::region;
use crate::cli::{GlobalArgs, InstancesArgs};
use crate::error::Result;
use crate::output::report::{ID, LAUNCHED, NAME, STATE, TYPE};

pub fn run(global: &GlobalArgs, args: InstancesArgs) -> Result<i32> {
    let (settings, ec2) = ec2_session(global, &args.session)?;
    let found = aws::block_on(ec2.describe(&[], !args.all))??;
    let which = if args.all { "no instances" } else { "no instances launched by awsmfa" };
    let none = format!("{which} in {} (launch one with `awsmfa launch`)", region(&settings.client));
    print_instances(&found, args.json, &[ID, STATE, TYPE, LAUNCHED, NAME], &none)
}
