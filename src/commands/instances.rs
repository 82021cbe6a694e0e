//! `awsmfa instances`: the instances awsmfa launched (tag created-by=awsmfa), or all.

use super::{ID, LAUNCHED, NAME, STATE, TYPE, ec2_session, print_instances};
use crate::aws;
use crate::cli::{GlobalArgs, InstancesArgs};
use crate::error::Result;

pub fn run(global: &GlobalArgs, args: InstancesArgs) -> Result<i32> {
    let (_, ec2) = ec2_session(global, &args.session)?;
    let found = aws::block_on(ec2.describe(&[], !args.all))??;
    print_instances(&found, args.json, &[ID, STATE, TYPE, LAUNCHED, NAME])
}
