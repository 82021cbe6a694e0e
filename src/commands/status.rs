//! `awsmfa status`: profile, MFA device, source key (last 4 characters), session state and
//! cache path. Reads files only: no AWS call, so it is safe in a shell prompt.

use super::print;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::clock;
use crate::error::{Error, Kind, Result};
use crate::output::report::{ConsoleStatus, SessionState, StatusReport};
use crate::session::{self, key_tail};

pub fn run(global: &GlobalArgs, args: StatusArgs) -> Result<i32> {
    let min_ttl = match args.min_ttl {
        Some(secs) => crate::profile::check_duration("--min-ttl", secs, clock::MIN_TTL, "10m")?,
        None => 0,
    };
    let settings = super::profile_settings(global)?;
    let keys = settings.keys();
    let now = clock::now();
    let found = session::status::find(&settings.session(), now)?;
    let state = found.state;
    if args.check {
        let min = min_ttl as i64;
        return match state {
            SessionState::Valid { until } if (until - now).whole_seconds() > min => Ok(0),
            _ => Err(Error::new(Kind::NoSession, "no valid session")),
        };
    }
    let mfa_until = found.mfa_until(&settings.session(), now);
    let serial = match (&settings.serial, found.cached_serial) {
        (Some(s), _) => Some((s.value.clone(), s.origin.clone())),
        (None, Some(found)) => Some((found, "found with ListMFADevices".to_string())),
        (None, None) => None,
    };
    let report = StatusReport {
        now,
        profile: settings.profile.clone(),
        source_key: keys.map(|k| (key_tail(&k.access_key_id), k.origin.to_string())).map_err(|e| e.message),
        serial,
        region: settings.client.region.clone(),
        roles: settings.roles.iter().map(|h| h.role_arn.clone()).collect(),
        direct: settings.direct,
        mfa_until,
        session: state,
        cache_path: found.cache_path,
        console: found.console.map(|c| ConsoleStatus {
            signed_in: !matches!(c.state, SessionState::None),
            arn: c.arn,
            renewable_until: c.renewable_until,
            sign_in_command: format!(
                "awsmfa login --console{} --profile {}",
                if c.kept_in.is_some() { " --keystore" } else { "" },
                settings.base_profile
            ),
            kept_in: c.kept_in,
        }),
    };
    print(report.render(args.json).as_bytes())
}
