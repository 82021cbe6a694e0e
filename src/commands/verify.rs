//! `awsmfa verify`: the manual recipe's pre-test and post-test, by EC2 dry run: long-term
//! keys must be denied, the MFA session allowed; optionally a real launch (and terminate).

use super::{ec2_for, print, request, settings};
use crate::aws::{self, ClientSpec, Retries, Signer};
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::clock;
use crate::ec2::{self, ProbeResult};
use crate::enforce;
use crate::error::{Error, Kind, Result};
use crate::output::policy;
use crate::output::report::VerifyReport;
use crate::session;
use crate::ui;

/// `verify`'s report and whether to print it as JSON.
struct Report {
    data: VerifyReport,
    json: bool,
}

impl Report {
    fn step(&mut self, step: &'static str, expected: &str, got: impl Into<String>, ok: bool, verdict: &str) {
        self.data.step(step, expected, got, ok, verdict);
    }

    /// Prints the report, then passes `result` through: the table is shown on failure too.
    fn finish(self, result: Result<i32>) -> Result<i32> {
        print(self.data.render(self.json).as_bytes())?;
        result
    }
}

pub fn run(global: &GlobalArgs, args: VerifyArgs) -> Result<i32> {
    let timeout = super::wait_timeout(&args.wait)?;
    let settings = settings(global, &args.session)?;
    let spec = super::launch_spec(&settings, &args.instance, 1, vec![("Name".into(), "awsmfa-verify".into())])?;
    let mut report = Report { data: VerifyReport::default(), json: args.json };

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
        match enforce::pre_test(&settings, &spec)? {
            ProbeResult::Denied { .. } => report.step(
                "pre-test",
                "UnauthorizedOperation",
                "UnauthorizedOperation",
                true,
                "denied without MFA: ok",
            ),
            ProbeResult::Allowed => {
                report.step("pre-test", "UnauthorizedOperation", "DryRunOperation", false, "MFA is NOT enforced");
                report.data.mfa_enforced = Some(false);
                let doc = policy::document(policy::PolicyScope::All);
                if !args.json {
                    ui::note(&format!(
                        "the policy that would enforce MFA (`awsmfa policy`):\n{}",
                        serde_json::to_string_pretty(&doc).expect("json")
                    ));
                }
                report.data.suggested_policy = Some(doc);
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
    let got = match session::get_session(&settings, &request(&args.session, false)?) {
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
    match enforce::post_test(&settings, &got.session, &spec)? {
        ProbeResult::Allowed => {
            report.step("post-test", "DryRunOperation", "DryRunOperation", true, "allowed with MFA: ok");
        }
        ProbeResult::Denied { message, encoded } => {
            report.step("post-test", "DryRunOperation", "UnauthorizedOperation", false, "denied even with MFA");
            report.data.mfa_enforced = None;
            return report.finish(Err(denied_with_mfa(&settings, &got.session, &message, encoded.as_deref())));
        }
        ProbeResult::Failed(err) => {
            report.step("post-test", "DryRunOperation", short(&err.message), false, "error (not a verdict on MFA)");
            return report.finish(Err(err));
        }
    }
    // Without keys to deny, the policy is not proven: only that the session may launch.
    report.data.mfa_enforced = if settings.login_session.is_some() { None } else { Some(true) };

    // 4. The real launch, as the how-to does.
    if args.launch {
        let ec2 = ec2_for(&settings, &got.session)?;
        let result = aws::block_on(async {
            let mut ctrl_c = ec2::CtrlC::watch()?;
            let launched = ec2.launch(&spec).await?;
            let ids: Vec<String> = launched.iter().map(|i| i.id.clone()).collect();
            let running = ec2.wait_with_spinner(&ids, "running", timeout, &mut ctrl_c).await?;
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
        report.data.instances = running;
        if args.terminate {
            let done = aws::block_on(async {
                let mut ctrl_c = ec2::CtrlC::watch()?;
                ec2.terminate(&ids).await?;
                ec2.wait_with_spinner(&ids, "terminated", timeout, &mut ctrl_c).await
            })?;
            match done {
                Ok(Some(gone)) => {
                    report.step("terminate", "terminated", format!("{} terminated", ids.join(", ")), true, "ok");
                    report.data.instances = gone;
                }
                Ok(None) => return report.finish(Err(Error::new(Kind::Interrupted, "interrupted"))),
                Err(err) => {
                    report.step("terminate", "terminated", short(&err.message), false, "error");
                    return report.finish(Err(err));
                }
            }
        }
    }
    report.finish(Ok(0))
}

/// The post-test failed: say why, decoded when the session may decode it.
fn denied_with_mfa(
    settings: &crate::profile::Settings,
    session: &crate::session::Session,
    message: &str,
    encoded: Option<&str>,
) -> Error {
    let err = Error::denied("denied even with MFA: a policy denies ec2:RunInstances to the MFA session");
    let Some(encoded) = encoded else { return err.hint(format!("AWS said: {message}")) };
    let Ok(spec) = ClientSpec::new(settings, "sts", Signer::Session(session), Retries::Standard) else { return err };
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
