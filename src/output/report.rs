//! What awsmfa shows people on stdout: fixed-width tables (instances, `verify`'s steps) and
//! the `status` report, each also as `--json`. Pure: data in, text out.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::clock;
use crate::ec2::InstanceInfo;

/// A fixed-width text table, for people.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells.iter().enumerate().map(|(i, c)| format!("{c:<w$}", w = widths[i])).collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = line(header.iter().map(|s| s.to_string()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// A table column of instances: its header and how to show an instance in it.
pub type Column = (&'static str, fn(&InstanceInfo) -> String);

pub const ID: Column = ("ID", |i| i.id.clone());
pub const STATE: Column = ("STATE", |i| i.state.clone());
pub const TYPE: Column = ("TYPE", |i| i.instance_type.clone());
pub const PRIVATE_IP: Column = ("PRIVATE IP", |i| i.private_ip.clone().unwrap_or_else(|| "-".into()));
pub const PUBLIC_IP: Column = ("PUBLIC IP", |i| i.public_ip.clone().unwrap_or_else(|| "-".into()));
pub const LAUNCHED: Column = ("LAUNCHED", |i| i.launch_time.clone().unwrap_or_else(|| "-".into()));
pub const NAME: Column = ("NAME", |i| i.name.clone().unwrap_or_else(|| "-".into()));

/// Instances as JSON or as a table with `columns`; `none` is said instead of an empty table.
pub fn instances(instances: &[InstanceInfo], json: bool, columns: &[Column], none: &str) -> String {
    if json {
        return format!("{}\n", serde_json::to_string_pretty(instances).expect("instances serialize"));
    }
    if instances.is_empty() {
        return format!("{none}\n");
    }
    let header: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let rows: Vec<Vec<String>> = instances.iter().map(|i| columns.iter().map(|c| (c.1)(i)).collect()).collect();
    table(&header, &rows)
}

/// One profile of `keys list`: the key its config names, in which keystore, how old, and
/// whether the entry holds it.
#[derive(Debug, Serialize)]
pub struct KeyRow {
    pub profile: String,
    pub key_id_tail: String,
    pub keystore: String,
    pub age_days: Option<i64>,
    pub state: String,
}

/// `keys list` as JSON or as a table.
pub fn keys(rows: &[KeyRow], json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::to_string_pretty(rows).expect("json"));
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let age = r.age_days.map(|d| format!("{d} d")).unwrap_or_else(|| "-".into());
            vec![r.profile.clone(), r.key_id_tail.clone(), r.keystore.clone(), age, r.state.clone()]
        })
        .collect();
    table(&["PROFILE", "KEY", "KEYSTORE", "AGE", "STATE"], &cells)
}

/// One step of `verify`: what was expected, what happened, and what that means.
#[derive(Debug, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub expected: String,
    pub got: String,
    pub ok: bool,
    pub verdict: String,
}

/// `verify`'s report.
#[derive(Debug, Default, Serialize)]
pub struct VerifyReport {
    /// true: enforced and working; false: not enforced; null: not decided (an error).
    pub mfa_enforced: Option<bool>,
    pub steps: Vec<Step>,
    pub instances: Vec<InstanceInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_policy: Option<serde_json::Value>,
}

impl VerifyReport {
    pub fn step(&mut self, step: &'static str, expected: &str, got: impl Into<String>, ok: bool, verdict: &str) {
        self.steps.push(Step { step, expected: expected.into(), got: got.into(), ok, verdict: verdict.into() });
    }

    pub fn render(&self, json: bool) -> String {
        if json {
            return format!("{}\n", serde_json::to_string_pretty(self).expect("reports serialize"));
        }
        let rows: Vec<Vec<String>> = self
            .steps
            .iter()
            .map(|s| vec![s.step.to_string(), s.expected.clone(), s.got.clone(), s.verdict.clone()])
            .collect();
        table(&["STEP", "EXPECTED", "GOT", "VERDICT"], &rows)
    }
}

pub use crate::session::status::SessionState;

impl SessionState {
    fn name(&self) -> &'static str {
        match self {
            SessionState::Valid { .. } => "valid",
            SessionState::Expired { .. } => "expired",
            SessionState::Unusable => "unusable",
            SessionState::None => "none",
        }
    }
}

/// Everything `status` shows; no secret is in it (keys by their last 4 characters).
#[derive(Debug, Clone)]
pub struct StatusReport {
    pub now: OffsetDateTime,
    pub profile: String,
    /// The source key's tail and where it came from, or why there is none.
    pub source_key: Result<(String, String), String>,
    /// The MFA device and where it came from.
    pub serial: Option<(String, String)>,
    pub region: Option<String>,
    pub roles: Vec<String>,
    pub direct: bool,
    /// With roles: until when the MFA session behind them lasts.
    pub mfa_until: Option<OffsetDateTime>,
    pub session: SessionState,
    pub cache_path: Option<PathBuf>,
    /// For a console sign-in session: its ARN and until when AWS renews it.
    pub console: Option<ConsoleStatus>,
}

/// A console sign-in session, as `status` shows it.
#[derive(Debug, Clone)]
pub struct ConsoleStatus {
    pub arn: String,
    pub renewable_until: Option<OffsetDateTime>,
    /// Whether the session's file is there (logged out, or never signed in, when not).
    pub signed_in: bool,
    pub sign_in_command: String,
    /// The keystore that keeps it (`login --console --keystore`); None: the AWS CLI's file.
    pub kept_in: Option<String>,
}

impl StatusReport {
    pub fn render(&self, json: bool) -> String {
        if json { self.json() } else { self.text() }
    }

    fn json(&self) -> String {
        let left = match self.session {
            SessionState::Valid { until } => Some((until - self.now).whole_seconds()),
            _ => None,
        };
        let expiration = match self.session {
            SessionState::Valid { until } => Some(clock::iso_utc(until)),
            SessionState::Expired { at } => Some(clock::iso_utc(at)),
            _ => None,
        };
        let value = json!({
            "profile": self.profile,
            "source_key": self.source_key.as_ref().ok().map(|k| k.0.clone()),
            "source_key_origin": self.source_key.as_ref().ok().map(|k| k.1.clone()),
            "mfa_serial": self.serial.as_ref().map(|s| s.0.clone()),
            "mfa_serial_origin": self.serial.as_ref().map(|s| s.1.clone()),
            "region": self.region,
            "roles": self.roles,
            "mfa_session_expiration": self.mfa_until.map(clock::iso_utc),
            "direct": self.direct,
            "session": { "state": self.session.name(), "expiration": expiration, "seconds_left": left },
            "cache_path": self.cache_path.as_ref().map(|p| p.display().to_string()),
            "login_session": self.console.as_ref().map(|c| c.arn.clone()),
            "login_session_renewable_until": self.console.as_ref().and_then(|c| c.renewable_until).map(clock::iso_utc),
            "login_session_kept_in": self.console.as_ref().and_then(|c| c.kept_in.clone()),
        });
        format!("{}\n", serde_json::to_string_pretty(&value).expect("json"))
    }

    fn text(&self) -> String {
        let mut lines = vec![format!("profile:      {}", self.profile)];
        if let Some(console) = &self.console {
            lines.push(format!("sign-in:      console session {} (no long-term keys)", console.arn));
            lines.push(match console.renewable_until {
                Some(t) if t > self.now => format!(
                    "renewable:    until {} ({} left; then sign in again)",
                    clock::human_utc(t),
                    clock::human_duration((t - self.now).whole_seconds())
                ),
                Some(t) => format!("renewable:    no longer, since {} (sign in again)", clock::human_utc(t)),
                None if !console.signed_in => format!("renewable:    not signed in (`{}`)", console.sign_in_command),
                None => "renewable:    for 12 hours after the sign-in".into(),
            });
            if let Some(place) = &console.kept_in {
                lines.push(format!("kept:         in {place} (tools reach it through awsmfa's credential_process)"));
            }
        } else {
            lines.push(match &self.source_key {
                Ok((tail, origin)) => format!("source key:   {tail} ({origin})"),
                Err(why) => format!("source key:   none ({why})"),
            });
            lines.push(match &self.serial {
                Some((serial, origin)) => format!("MFA device:   {serial} ({origin})"),
                None => "MFA device:   not configured (found with ListMFADevices at login)".into(),
            });
        }
        if !self.roles.is_empty() {
            let how = if self.direct { "assumed directly with the MFA code" } else { "assumed with the MFA session" };
            lines.push(format!("role:         {} ({how})", self.roles.join(" > ")));
            if !self.direct {
                lines.push(match self.mfa_until {
                    Some(t) => format!(
                        "MFA session:  valid until {} ({} left): roles renew without a code",
                        clock::human_utc(t),
                        clock::human_duration((t - self.now).whole_seconds())
                    ),
                    None => "MFA session:  none (the next role session asks for a code)".into(),
                });
            }
        }
        let sign_in;
        let ended = self.console.as_ref().and_then(|c| c.renewable_until).is_some_and(|t| t <= self.now);
        let next = if let Some(console) = self.console.as_ref().filter(|c| !c.signed_in) {
            sign_in = format!("sign in: `{}`", console.sign_in_command);
            sign_in.as_str()
        } else if ended {
            // Past the session's renewals: no use renews it (the line above says so too).
            "sign in again"
        } else if self.console.is_some() {
            "awsmfa renews it when it is used"
        } else if self.source_key.is_ok() {
            "run `awsmfa login`"
        } else {
            "add long-term keys first (see above)"
        };
        lines.push(match self.session {
            SessionState::Valid { until } => format!(
                "session:      valid until {} ({} left)",
                clock::human_utc(until),
                clock::human_duration((until - self.now).whole_seconds())
            ),
            SessionState::Expired { at } => format!("session:      expired at {} ({next})", clock::human_utc(at)),
            SessionState::Unusable => "session:      cache file unusable (the next login replaces it)".into(),
            SessionState::None => format!("session:      none ({next})"),
        });
        if let Some(p) = &self.cache_path {
            lines.push(format!("cache:        {}", p.display()));
        }
        format!("{}\n", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(session: SessionState, keys: bool) -> StatusReport {
        StatusReport {
            now: time::macros::datetime!(2026-11-29 12:00 UTC),
            profile: "work".into(),
            source_key: if keys {
                Ok(("…MPLE".into(), "[work] of ~/.aws/credentials".into()))
            } else {
                Err("no keys".into())
            },
            serial: None,
            region: None,
            roles: vec![],
            direct: false,
            mfa_until: None,
            session,
            cache_path: None,
            console: None,
        }
    }

    #[test]
    fn status_says_the_state_and_what_to_do() {
        let valid = report(SessionState::Valid { until: time::macros::datetime!(2026-11-29 13:00 UTC) }, true);
        assert!(
            valid.text().contains("session:      valid until 2026-11-29 13:00:00 UTC (1h 00m left)"),
            "{}",
            valid.text()
        );
        let v: serde_json::Value = serde_json::from_str(&valid.json()).unwrap();
        assert_eq!(v["session"]["state"], "valid");
        assert_eq!(v["session"]["seconds_left"], 3600);
        assert!(report(SessionState::None, true).text().contains("none (run `awsmfa login`)"));
        assert!(
            report(SessionState::None, false).text().contains("none (add long-term keys first"),
            "no advice that cannot work"
        );
    }

    #[test]
    fn an_empty_instance_list_is_said_not_drawn() {
        assert_eq!(instances(&[], false, &[ID, STATE], "no instances here"), "no instances here\n");
        assert_eq!(instances(&[], true, &[ID, STATE], "no instances here"), "[]\n");
    }
}
