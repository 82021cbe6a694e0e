//! `awsmfa verify`: the manual recipe's pre-test and post-test, by EC2 dry run (long-term
//! keys denied, the MFA session allowed), then optionally a real launch and its terminate.
//! Every step goes into the report, also the one that failed: the caller prints the report,
//! then returns the outcome. The session is asked for only after the pre-test.

use std::time::Duration;

use crate::aws::{self, ClientSpec, Retries, Signer};
use crate::clock;
use crate::ec2::{self, LaunchSpec, ProbeResult};
use crate::error::{Error, Kind, Result};
use crate::output::policy;
use crate::output::report::VerifyReport;
use crate::profile::Settings;
use crate::session;
use crate::ui;

pub use super::apply::Ask;

/// What `verify` does past the proof, and how it reports.
pub struct Plan {
    /// The report goes out as JSON: the suggested policy is not also noted on stderr.
    pub json: bool,
    pub launch: bool,
    pub terminate: bool,
    /// How long each instance wait may last.
    pub timeout: Duration,
}

/// The steps taken.
struct Report(VerifyReport);

impl Report {
    fn step(&mut self, step: &'static str, expected: &str, got: impl Into<String>, ok: bool, verdict: &str) {
        self.0.step(step, expected, got, ok, verdict);
    }

    /// The report, and `result` with it: the table is shown on failure too.
    fn finish(self, result: Result<()>) -> Result<(VerifyReport, Result<()>)> {
        Ok((self.0, result))
    }
}

/// The proof of `spec` (and its launch, as `plan` says); an error before any step that the
/// report could show is the outer one.
pub fn verify(settings: &Settings, spec: &LaunchSpec, plan: &Plan, request: Ask) -> Result<(VerifyReport, Result<()>)> {
    let mut report = Report(VerifyReport::default());

    // 1. Pre-test: the long-term keys must not be able to launch. A console sign-in session
    //    has none: there is nothing to deny, and its session is what the post-test tries.
    if settings.login_session.is_some() {
        report.step(
            "pre-test",
            "UnauthorizedOperation",
            "no long-term keys",
            true,
            "skipped: a console sign-in keeps no keys to deny",
        );
    } else {
        match super::pre_test(settings, spec)? {
            ProbeResult::Denied { .. } => report.step(
                "pre-test",
                "UnauthorizedOperation",
                "UnauthorizedOperation",
                true,
                "denied without MFA: ok",
            ),
            ProbeResult::Allowed => {
                report.step("pre-test", "UnauthorizedOperation", "DryRunOperation", false, "MFA is NOT enforced");
                report.0.mfa_enforced = Some(false);
                let doc = policy::document(policy::PolicyScope::All);
                if !plan.json {
                    ui::note(&format!(
                        "the policy that would enforce MFA (`awsmfa policy`):\n{}",
                        serde_json::to_string_pretty(&doc).expect("json")
                    ));
                }
                report.0.suggested_policy = Some(doc);
                let err = Error::new(Kind::NotEnforced, "MFA is NOT enforced: long-term keys can launch instances").hint(
                    "attach the policy: awsmfa policy > mfa.json && aws iam put-user-policy --user-name USER --policy-name require-mfa --policy-document file://mfa.json",
                );
                return report.finish(Err(err));
            }
            ProbeResult::Failed(err) => {
                report.step(
                    "pre-test",
                    "UnauthorizedOperation",
                    short(&err.message),
                    false,
                    "error (not a verdict on MFA)",
                );
                return report.finish(Err(err));
            }
        }
    }

    // 2. The MFA session.
    let got = match session::get_session(&settings.session(), &request()?) {
        Ok(got) => got,
        Err(err) => {
            report.step("session", "MFA session", short(&err.message), false, "error");
            return report.finish(Err(err));
        }
    };
    let left = clock::human_duration(got.session.seconds_left(clock::now()));
    let how = if got.fresh { "new" } else { "cached" };
    report.step("session", "MFA session", format!("{how}, {left} left"), true, "ok");

    // 3. Post-test: the same dry run with the session must be allowed.
    match super::post_test(settings, &got.session, spec)? {
        ProbeResult::Allowed => {
            report.step("post-test", "DryRunOperation", "DryRunOperation", true, "allowed with MFA: ok");
        }
        ProbeResult::Denied { message, encoded } => {
            report.step("post-test", "DryRunOperation", "UnauthorizedOperation", false, "denied even with MFA");
            report.0.mfa_enforced = None;
            return report.finish(Err(denied_with_mfa(settings, &got.session, &message, encoded.as_deref())));
        }
        ProbeResult::Failed(err) => {
            report.step("post-test", "DryRunOperation", short(&err.message), false, "error (not a verdict on MFA)");
            return report.finish(Err(err));
        }
    }
    // Without keys to deny, the policy is not proven: only that the session may launch.
    report.0.mfa_enforced = if settings.login_session.is_some() { None } else { Some(true) };

    // 4. The real launch, as the how-to does.
    if plan.launch {
        let ec2 = super::ec2_with_session(settings, &got.session)?;
        let result = aws::block_on(async {
            let mut ctrl_c = ec2::CtrlC::watch()?;
            let launched = ec2.launch(spec).await?;
            let ids: Vec<String> = launched.iter().map(|i| i.id.clone()).collect();
            let running = ec2.wait_with_spinner(&ids, "running", plan.timeout, &mut ctrl_c).await?;
            Ok::<_, Error>((ids, running))
        })?;
        let (ids, running) = match result {
            Ok(r) => r,
            Err(err) => {
                report.step("launch", "running", short(&err.message), false, "error");
                return report.finish(Err(err));
            }
        };
        let Some(running) = running else { return report.finish(Err(Error::new(Kind::Interrupted, "interrupted"))) };
        report.step("launch", "running", format!("{} running", ids.join(", ")), true, "ok");
        report.0.instances = running;
        if plan.terminate {
            let done = aws::block_on(async {
                let mut ctrl_c = ec2::CtrlC::watch()?;
                ec2.terminate(&ids).await?;
                ec2.wait_with_spinner(&ids, "terminated", plan.timeout, &mut ctrl_c).await
            })?;
            match done {
                Ok(Some(gone)) => {
                    report.step("terminate", "terminated", format!("{} terminated", ids.join(", ")), true, "ok");
                    report.0.instances = gone;
                }
                Ok(None) => return report.finish(Err(Error::new(Kind::Interrupted, "interrupted"))),
                Err(err) => {
                    report.step("terminate", "terminated", short(&err.message), false, "error");
                    return report.finish(Err(err));
                }
            }
        }
    }
    report.finish(Ok(()))
}

/// The post-test failed: say why, decoded when the session may decode it.
fn denied_with_mfa(
    settings: &Settings,
    session: &crate::session::Session,
    message: &str,
    encoded: Option<&str>,
) -> Error {
    let err = Error::denied("denied even with MFA: a policy denies ec2:RunInstances to the MFA session");
    let Some(encoded) = encoded else { return err.hint(format!("AWS said: {message}")) };
    let Ok(spec) = ClientSpec::new(&settings.client, "sts", Signer::Session(session), Retries::Standard) else {
        return err;
    };
    match aws::block_on(aws::sts::decode_authorization_message(&spec, encoded)) {
        Ok(Ok(decoded)) => {
            let compact = serde_json::from_str::<serde_json::Value>(&decoded)
                .map(|v| v.to_string())
                .unwrap_or(decoded);
            err.hint(format!("decoded authorization message: {compact}"))
        }
        _ => err.hint("ask for sts:DecodeAuthorizationMessage to see which policy denied it, then run `aws sts decode-authorization-message`"),
    }
}

/// The first line of a message, shortened for a table cell.
fn short(message: &str) -> String {
    let first = message.lines().next().unwrap_or("");
    if first.chars().count() > 60 {
        format!("{}…", first.chars().take(59).collect::<String>())
    } else {
        first.to_string()
    }
}
