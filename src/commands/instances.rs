//! `awsmfa instances`: the instances awsmfa launched (tag created-by=awsmfa), or all.

use super::{ec2_for, print, request, settings, table};
use crate::aws;
use crate::cli::{GlobalArgs, InstancesArgs};
use crate::error::Result;
use crate::session::sts;

pub fn run(global: &GlobalArgs, args: InstancesArgs) -> Result<i32> {
    let settings = settings(global, &args.session)?;
    let got = sts::get_session(&settings, &request(&args.session, false))?;
    let ec2 = ec2_for(&settings, &got.session);
    let found = aws::block_on(ec2.describe(&[], !args.all))??;
    if args.json {
        return print(format!("{}\n", serde_json::to_string_pretty(&found).expect("json")).as_bytes());
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|i| {
            vec![
                i.id.clone(),
                i.state.clone(),
                i.instance_type.clone(),
                i.launch_time.clone().unwrap_or_else(|| "-".into()),
                i.name.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print(table(&["ID", "STATE", "TYPE", "LAUNCHED", "NAME"], &rows).as_bytes())
}
