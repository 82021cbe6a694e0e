//! `awsmfa status`: profile, MFA device, source key (last 4 characters), session state and
//! cache path. Reads files only: no AWS call, so it is safe in a shell prompt.

use serde_json::json;

use super::print;
use crate::cli::{GlobalArgs, StatusArgs};
use crate::clock;
use crate::error::{Error, Kind, Result};
use crate::session::cache::Rejected;
use crate::session::{self, key_tail};

pub fn run(global: &GlobalArgs, args: StatusArgs) -> Result<i32> {
    let settings = super::profile_settings(global)?;
    let keys = settings.keys();
    let now = clock::now();
    let (cache_path, loaded) = match keys {
        Ok(keys) => {
            let (cache, key) = session::cache_for(&settings, keys);
            (Some(cache.path(&key)), Some(cache.load(&key)))
        }
        Err(_) => (None, None),
    };
    // A cache that must not be trusted (another user's file) is an error, not a state.
    let loaded = match loaded {
        Some(Err(Rejected::Refused(err))) => return Err(err),
        other => other,
    };
    let (state, expiration, left, cached_serial) = match &loaded {
        Some(Ok(c)) => {
            let left = c.session.seconds_left(now);
            (if left > 0 { "valid" } else { "expired" }, Some(c.session.expiration), left, Some(c.serial.clone()))
        }
        Some(Err(Rejected::Unsafe(_))) => ("unusable", None, 0, None),
        _ => ("none", None, 0, None),
    };
    if args.check {
        let min = args.min_ttl.unwrap_or(0) as i64;
        return if state == "valid" && left > min {
            Ok(0)
        } else {
            Err(Error::new(Kind::NoSession, "no valid session"))
        };
    }
    // With roles, the MFA session behind them says whether the next role needs a new code.
    let mfa_until = match (&keys, settings.roles.is_empty() || settings.direct) {
        (Ok(keys), false) => {
            let (cache, key) = session::mfa_cache_key(&settings, keys);
            cache.load(&key).ok().map(|c| c.session.expiration).filter(|t| *t > now)
        }
        _ => None,
    };
    let serial = settings.serial.as_ref().map(|s| s.value.clone()).or(cached_serial);
    let serial_origin = settings
        .serial
        .as_ref()
        .map(|s| s.origin.clone())
        .unwrap_or_else(|| if serial.is_some() { "found with ListMFADevices".into() } else { String::new() });
    if args.json {
        let value = json!({
            "profile": settings.profile,
            "source_key": keys.as_ref().ok().map(|k| key_tail(&k.access_key_id)),
            "source_key_origin": keys.as_ref().ok().map(|k| k.origin.to_string()),
            "mfa_serial": serial,
            "mfa_serial_origin": if serial_origin.is_empty() { None } else { Some(serial_origin.clone()) },
            "region": settings.region,
            "roles": settings.roles.iter().map(|h| h.role_arn.clone()).collect::<Vec<_>>(),
            "mfa_session_expiration": mfa_until.map(clock::iso_utc),
            "direct": settings.direct,
            "session": {
                "state": state,
                "expiration": expiration.map(clock::iso_utc),
                "seconds_left": if state == "valid" { Some(left) } else { None },
            },
            "cache_path": cache_path.as_ref().map(|p| p.display().to_string()),
        });
        return print(format!("{}\n", serde_json::to_string_pretty(&value).expect("json")).as_bytes());
    }
    let mut lines = vec![format!("profile:      {}", settings.profile)];
    lines.push(match &keys {
        Ok(k) => format!("source key:   {} ({})", key_tail(&k.access_key_id), k.origin),
        Err(e) => format!("source key:   none ({})", e.message),
    });
    lines.push(match &serial {
        Some(s) => format!("MFA device:   {s} ({serial_origin})"),
        None => "MFA device:   not configured (found with ListMFADevices at login)".into(),
    });
    if !settings.roles.is_empty() {
        let chain: Vec<&str> = settings.roles.iter().map(|h| h.role_arn.as_str()).collect();
        let how = if settings.direct { "assumed directly with the MFA code" } else { "assumed with the MFA session" };
        lines.push(format!("role:         {} ({how})", chain.join(" > ")));
        if !settings.direct {
            lines.push(match mfa_until {
                Some(t) => format!(
                    "MFA session:  valid until {} ({} left): roles renew without a code",
                    clock::human_utc(t),
                    clock::human_duration((t - now).whole_seconds())
                ),
                None => "MFA session:  none (the next role session asks for a code)".into(),
            });
        }
    }
    lines.push(match (state, expiration) {
        ("valid", Some(t)) => {
            format!("session:      valid until {} ({} left)", clock::human_utc(t), clock::human_duration(left))
        }
        ("expired", Some(t)) => format!("session:      expired at {} (run `awsmfa login`)", clock::human_utc(t)),
        ("unusable", _) => "session:      cache file unusable (the next login replaces it)".into(),
        _ => "session:      none (run `awsmfa login`)".into(),
    });
    if let Some(p) = cache_path {
        lines.push(format!("cache:        {}", p.display()));
    }
    print(format!("{}\n", lines.join("\n")).as_bytes())
}
