//! `awsmfa launch`: RunInstances with the MFA session, tagged `created-by=awsmfa`, and with
//! `--wait` a spinner until every instance runs.

use std::time::Duration;

use super::{ID, PRIVATE_IP, PUBLIC_IP, STATE, TYPE, ec2_session, print_instances};
use crate::aws;
use crate::cli::{GlobalArgs, LaunchArgs};
use crate::ec2::{Ec2, InstanceInfo};
use crate::error::Result;
use crate::profile::env_var;
use crate::ui;

/// How often to poll DescribeInstances while waiting (AWSMFA_POLL_SECONDS overrides).
fn poll_interval() -> Duration {
    let ms = env_var("AWSMFA_POLL_SECONDS").and_then(|v| v.parse::<f64>().ok()).map(|s| (s * 1000.0) as u64);
    Duration::from_millis(ms.unwrap_or(2000))
}

/// Waits for `state` with a spinner on stderr; None when the user pressed Ctrl-C (the
/// instances are left as they are, and their ids printed).
pub async fn wait_with_spinner(
    ec2: &Ec2,
    ids: &[String],
    state: &str,
    timeout: Duration,
) -> Result<Option<Vec<InstanceInfo>>> {
    let mut spinner = ui::Spinner::new();
    let shown = ids.join(", ");
    let result = ec2
        .wait_for(ids, state, timeout, poll_interval(), |now| {
            let states: Vec<&str> = now.iter().map(|i| i.state.as_str()).collect();
            spinner.tick(&format!("waiting for {shown} to be {state}: {}", states.join(", ")));
        })
        .await;
    spinner.clear();
    if let Ok(None) = result {
        ui::note(&format!("stopped waiting; {shown} left as they are"));
    }
    result
}

pub fn run(global: &GlobalArgs, args: LaunchArgs) -> Result<i32> {
    let (_, ec2) = ec2_session(global, &args.session)?;
    let mut tags = Vec::new();
    if let Some(name) = &args.name {
        tags.push(("Name".to_string(), name.clone()));
    }
    tags.extend(args.tags.iter().cloned());
    let mut spec = super::verify::launch_spec(&args.instance, args.count, tags);
    spec.subnet_id = args.subnet_id.clone();
    spec.security_group_ids = args.security_group_ids.clone();
    let timeout = Duration::from_secs(args.wait_args.timeout);
    let outcome = aws::block_on(async {
        let launched = ec2.launch(&spec).await?;
        if !args.wait {
            return Ok(Some(launched));
        }
        let ids: Vec<String> = launched.iter().map(|i| i.id.clone()).collect();
        ui::note(&format!("launched {}", ids.join(", ")));
        wait_with_spinner(&ec2, &ids, "running", timeout).await
    })??;
    let Some(instances) = outcome else { return Ok(130) };
    print_instances(&instances, args.json, &[ID, STATE, TYPE, PRIVATE_IP, PUBLIC_IP])
}
