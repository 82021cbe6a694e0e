//! EC2, as awsmfa uses it: the RunInstances dry-run probe that proves whether MFA is
//! enforced, launching (tagged `created-by=awsmfa`), watching, listing and terminating
//! instances. Polls DescribeInstances itself: the SDK's waiters poll every 15 s at best.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::ec2::{self as api, RunInstances};
use crate::aws::{self, ClientSpec, Failure};
use crate::error::{Error, Result};

pub const CREATED_BY_KEY: &str = "created-by";
pub const CREATED_BY_VALUE: &str = "awsmfa";

/// What to launch.
#[derive(Debug, Clone, Default)]
pub struct LaunchSpec {
    pub image_id: String,
    pub key_name: Option<String>,
    pub instance_type: String,
    pub count: i32,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
}

impl LaunchSpec {
    /// One t2.micro of `image_id`, tagged created-by=awsmfa: what a policy check dry-runs.
    pub fn probe_of(image_id: &str) -> LaunchSpec {
        LaunchSpec {
            image_id: image_id.to_string(),
            instance_type: "t2.micro".into(),
            count: 1,
            tags: vec![(CREATED_BY_KEY.into(), CREATED_BY_VALUE.into())],
            ..Default::default()
        }
    }

    /// What to launch, tagged `created-by=awsmfa` first, then `tags`. Checked before any
    /// login: a missing image is said with every way to give it.
    pub fn tagged(
        image_id: Option<String>,
        key_name: Option<String>,
        instance_type: String,
        count: i32,
        mut tags: Vec<(String, String)>,
    ) -> Result<LaunchSpec> {
        let Some(image_id) = image_id else {
            return Err(Error::new(crate::error::Kind::Usage, "no image to launch")
                .hint("pass --image-id AMI, or set AWS_IMAGE_ID (the manual recipe's variable)"));
        };
        tags.insert(0, (CREATED_BY_KEY.to_string(), CREATED_BY_VALUE.to_string()));
        Ok(LaunchSpec { image_id, key_name, instance_type, count, tags, ..Default::default() })
    }
}

/// The answer to "could these credentials launch this?", asked with DryRun.
#[derive(Debug)]
pub enum ProbeResult {
    /// `DryRunOperation`: the request would have succeeded.
    Allowed,
    /// `UnauthorizedOperation`: a policy said no. `encoded` is AWS's encoded explanation.
    Denied { message: String, encoded: Option<String> },
    /// Anything else: a bad AMI, a missing key pair, no network. Not a verdict on MFA.
    Failed(Error),
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstanceInfo {
    pub id: String,
    pub state: String,
    #[serde(rename = "type")]
    pub instance_type: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub launch_time: Option<String>,
    pub name: Option<String>,
    pub tags: std::collections::BTreeMap<String, String>,
}

fn instance_info(i: api::Instance) -> InstanceInfo {
    let tags: std::collections::BTreeMap<String, String> = i.tags.into_iter().collect();
    InstanceInfo {
        id: i.id,
        state: i.state,
        instance_type: i.instance_type,
        private_ip: i.private_ip,
        public_ip: i.public_ip,
        // EC2 writes `2026-12-02T10:00:00.000Z`; awsmfa prints times as the AWS CLI does.
        launch_time: i.launch_time.as_deref().and_then(crate::clock::parse_rfc3339).map(crate::clock::iso_utc),
        name: tags.get("Name").cloned(),
        tags,
    }
}

/// EC2 calls with one client.
/// Ctrl-C, caught from the moment `watch` is called: a command that launches and then waits
/// watches before it launches, so a Ctrl-C at any point still ends with the ids printed.
pub struct CtrlC(crate::platform::StopSignals);

impl CtrlC {
    /// Must run inside the async runtime (`aws::block_on`).
    pub fn watch() -> Result<CtrlC> {
        crate::platform::StopSignals::watch()
            .map(CtrlC)
            .map_err(|e| Error::unexpected(format!("cannot watch for Ctrl-C: {e}")).because(e))
    }
}

pub struct Ec2 {
    client: api::Client,
    endpoint: String,
    region: String,
    /// How often DescribeInstances is polled while waiting.
    pub poll_interval: std::time::Duration,
}

impl Ec2 {
    pub fn new(spec: &ClientSpec, region: &str, poll_interval: std::time::Duration) -> Self {
        Ec2 {
            client: api::Client::new(spec),
            endpoint: spec.describe_endpoint("ec2"),
            region: region.to_string(),
            poll_interval,
        }
    }

    fn run_request(launch: &LaunchSpec, dry_run: bool) -> RunInstances {
        RunInstances {
            image_id: launch.image_id.clone(),
            instance_type: launch.instance_type.clone(),
            count: launch.count,
            key_name: launch.key_name.clone(),
            subnet_id: launch.subnet_id.clone(),
            security_group_ids: launch.security_group_ids.clone(),
            tags: launch.tags.clone(),
            dry_run,
        }
    }

    /// RunInstances with DryRun: may these credentials launch `launch`?
    pub async fn probe(&self, launch: &LaunchSpec) -> ProbeResult {
        match self.client.run_instances(&Self::run_request(launch, true)).await {
            Ok(_) => ProbeResult::Allowed, // no real AWS answers a dry run with success
            Err(e) => match aws::classify(e) {
                Failure::Service { code, .. } if code == "DryRunOperation" => ProbeResult::Allowed,
                Failure::Service { code, message } if code == "UnauthorizedOperation" => {
                    let encoded =
                        message.split("Encoded authorization failure message: ").nth(1).map(|s| s.trim().to_string());
                    ProbeResult::Denied { message, encoded }
                }
                other => ProbeResult::Failed(self.explain(other, "ec2:RunInstances", launch).await),
            },
        }
    }

    /// RunInstances for real; returns the new instances.
    pub async fn launch(&self, launch: &LaunchSpec) -> Result<Vec<InstanceInfo>> {
        match self.client.run_instances(&Self::run_request(launch, false)).await {
            Ok(instances) => Ok(instances.into_iter().map(instance_info).collect()),
            Err(e) => Err(self.explain(aws::classify(e), "ec2:RunInstances", launch).await),
        }
    }

    /// The instances `ids`, or (when `ids` is empty) all, or only awsmfa's.
    pub async fn describe(&self, ids: &[String], only_ours: bool) -> Result<Vec<InstanceInfo>> {
        let filters =
            if only_ours { vec![(format!("tag:{CREATED_BY_KEY}"), CREATED_BY_VALUE.to_string())] } else { Vec::new() };
        let found = self
            .client
            .describe_instances(ids, &filters)
            .await
            .map_err(|e| aws::classify(e).into_error("ec2:DescribeInstances", &self.endpoint))?;
        Ok(found.into_iter().map(instance_info).collect())
    }

    pub async fn terminate(&self, ids: &[String]) -> Result<()> {
        self.client
            .terminate_instances(ids)
            .await
            .map_err(|e| aws::classify(e).into_error("ec2:TerminateInstances", &self.endpoint))?;
        Ok(())
    }

    /// Waits for `state` with a spinner on stderr; None when the user pressed Ctrl-C (the
    /// instances are left as they are, and their ids printed).
    pub async fn wait_with_spinner(
        &self,
        ids: &[String],
        state: &str,
        timeout: Duration,
        ctrl_c: &mut CtrlC,
    ) -> Result<Option<Vec<InstanceInfo>>> {
        let mut spinner = crate::ui::Spinner::new();
        let shown = ids.join(", ");
        let result = self
            .wait_for(ids, state, timeout, self.poll_interval, ctrl_c, |now| {
                let states: Vec<&str> = now.iter().map(|i| i.state.as_str()).collect();
                spinner.tick(&format!("waiting for {shown} to be {state}: {}", states.join(", ")));
            })
            .await;
        spinner.clear();
        if let Ok(None) = result {
            crate::ui::note(&format!("stopped waiting; {shown} left as they are"));
        }
        result
    }

    /// Polls until every instance in `ids` is in `state`, calling `progress` after each poll.
    /// Stops early (Ok(false)) on Ctrl-C; fails after `timeout`.
    pub async fn wait_for(
        &self,
        ids: &[String],
        state: &str,
        timeout: Duration,
        poll: Duration,
        ctrl_c: &mut CtrlC,
        mut progress: impl FnMut(&[InstanceInfo]),
    ) -> Result<Option<Vec<InstanceInfo>>> {
        let started = Instant::now();
        loop {
            let now = self.describe(ids, false).await?;
            progress(&now);
            if !now.is_empty() && now.iter().all(|i| i.state == state) {
                return Ok(Some(now));
            }
            if let Some(bad) =
                now.iter().find(|i| state == "running" && (i.state == "terminated" || i.state == "shutting-down"))
            {
                return Err(Error::wait_ended(format!("instance {} is {} instead of running", bad.id, bad.state))
                    .hint("check the instance's state reason in the EC2 console"));
            }
            if started.elapsed() >= timeout {
                let ids = ids.join(", ");
                return Err(Error::wait_ended(format!(
                    "gave up after {}s waiting for {ids} to be {state}",
                    timeout.as_secs()
                ))
                .hint("the instances were left as they are; raise --timeout or check them with `awsmfa instances`"));
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = ctrl_c.0.interrupt() => return Ok(None),
            }
        }
    }

    /// The key pairs of this region, for the hint of a missing one.
    async fn key_pair_names(&self) -> Vec<String> {
        self.client.describe_key_pairs().await.unwrap_or_default()
    }

    /// An EC2 failure with AWS's code and message kept, and a hint that helps.
    async fn explain(&self, failure: Failure, action: &str, launch: &LaunchSpec) -> Error {
        let Failure::Service { code, message } = &failure else {
            return failure.into_error(action, &self.endpoint);
        };
        let region = &self.region;
        match code.as_str() {
            "InvalidAMIID.NotFound" | "InvalidAMIID.Malformed" => {
                Error::config(format!("{action} failed: {code}: {message}")).hint(format!(
                    "AMIs are regional: {} may exist in another region than {region} (set --region)",
                    launch.image_id
                ))
            }
            "InvalidKeyPair.NotFound" => {
                let names = self.key_pair_names().await;
                let list = if names.is_empty() { "none".to_string() } else { names.join(", ") };
                Error::config(format!("{action} failed: {code}: {message}"))
                    .hint(format!("key pairs in {region}: {list}"))
            }
            "InvalidParameterValue" | "InvalidInstanceType" | "Unsupported" => {
                Error::config(format!("{action} failed: {code}: {message}"))
            }
            _ => failure.into_error(action, &self.endpoint),
        }
    }
}
