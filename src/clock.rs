//! Time, in one place: the clock every part of awsmfa reads (`now`), the way it waits for
//! time to pass (`sleep`), the timestamp formats AWS tools print, and the durations users type
//! ("12h", "90m", "3600"). Pure except for `now()` and `sleep()`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

/// The variable that makes waits move this clock instead of sleeping (tests only).
pub const TEST_CLOCK_VARIABLE: &str = "AWSMFA_TEST_CLOCK";

static SKIPS_WAITS: AtomicBool = AtomicBool::new(false);
/// Seconds that skipped waits have added to the system clock.
static SKIPPED: AtomicU64 = AtomicU64::new(0);

/// From now on, `sleep` moves this clock forward instead of waiting: what aws-config's
/// test `TimeSource` does inside a process, for tests that run the whole binary. A test then
/// sees what a user who waited for the next TOTP window would see (the emulator takes a
/// code of the next window) without waiting 30 s. Only `sleep` is affected: waits for other
/// processes or for AWS (locks, IAM's consistency, the server's back-off) stay real.
pub fn skip_waits() {
    SKIPS_WAITS.store(true, Ordering::Relaxed);
}

/// The current time, in UTC, truncated to whole seconds (AWS expiries are whole seconds).
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc() + Duration::from_secs(SKIPPED.load(Ordering::Relaxed));
    t.replace_nanosecond(0).unwrap_or(t)
}

/// Waits `duration` of this clock's time: for the device's next code.
pub fn sleep(duration: Duration) {
    if SKIPS_WAITS.load(Ordering::Relaxed) {
        SKIPPED.fetch_add(duration.as_secs().max(1), Ordering::Relaxed);
    } else {
        std::thread::sleep(duration);
    }
}

/// `2026-11-29T12:00:00+00:00`: what Python's `isoformat()` prints for a UTC time, and so
/// what `aws configure export-credentials` and `aws sts get-session-token` print.
pub fn iso_utc(t: OffsetDateTime) -> String {
    utc(t, "T", "+00:00")
}

/// `2026-11-29T12:00:00Z`: RFC 3339 with `Z`, which every SDK's date parser accepts.
pub fn iso_utc_z(t: OffsetDateTime) -> String {
    utc(t, "T", "Z")
}

/// `2026-11-29 12:00:00 UTC`: for people.
pub fn human_utc(t: OffsetDateTime) -> String {
    utc(t, " ", " UTC")
}

fn utc(t: OffsetDateTime, between: &str, suffix: &str) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}{between}{:02}:{:02}:{:02}{suffix}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses any RFC 3339 timestamp (`Z` or an offset).
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Parses "3600", "15m", "1h", "12h", "1h30m", "90s" into seconds. A number too large for
/// any clock saturates to `u64::MAX`, which no `Range` holds: the caller's range check then
/// says what is allowed, instead of a wrapped value meaning "anything goes".
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(text.parse::<u64>().unwrap_or(u64::MAX));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(format!("'{text}' is not a duration (use e.g. 3600, 15m, 12h, 1h30m)")),
        };
        if digits.is_empty() {
            return Err(format!("'{text}' is not a duration (use e.g. 3600, 15m, 12h, 1h30m)"));
        }
        let n = digits.parse::<u64>().unwrap_or(u64::MAX);
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("'{text}' is not a duration: a number needs a unit (h, m or s)"));
    }
    Ok(total)
}

/// The durations a user types and the range each must fall in, said once so that the
/// flag and the variable of the same setting agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

/// `--min-ttl`, `AWSMFA_MIN_TTL`: no session lasts longer than 36h (GetSessionToken's
/// maximum), so a larger margin could never be met.
pub const MIN_TTL: Range = Range { min: 0, max: 129_600 };
/// `keys rotate --wait`: IAM takes seconds to accept a new key; an hour is plenty.
pub const KEY_WAIT: Range = Range { min: 0, max: 3_600 };
/// `login --console --timeout`: a person signing in; the code they get lasts 5 minutes, and
/// an hour is more than any sign-in takes.
pub const SIGN_IN_WAIT: Range = Range { min: 1, max: 3_600 };
/// `--timeout` of the instance waits: EC2 takes minutes; a day is the most worth waiting.
pub const INSTANCE_WAIT: Range = Range { min: 1, max: 86_400 };

impl Range {
    pub fn contains(self, secs: u64) -> bool {
        (self.min..=self.max).contains(&secs)
    }

    /// "from 0s to 36h".
    pub fn describe(self) -> String {
        format!("from {} to {}", typed_duration(self.min), typed_duration(self.max))
    }
}

/// A duration as a user would type it: "36h", "15m", "1h30m", "90s" → "1m30s", "0s".
pub fn typed_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3_600, secs % 3_600 / 60, secs % 60);
    let mut text = String::new();
    for (n, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if n > 0 {
            text.push_str(&format!("{n}{unit}"));
        }
    }
    if text.is_empty() { "0s".into() } else { text }
}

/// "11h 58m", "4m 10s", "42s": how long is left, for people.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn iso_matches_python_isoformat_for_utc() {
        assert_eq!(iso_utc(datetime!(2026-11-29 07:05:09 UTC)), "2026-11-29T07:05:09+00:00");
        assert_eq!(iso_utc(datetime!(2026-11-29 08:05:09 +01:00)), "2026-11-29T07:05:09+00:00");
    }

    #[test]
    fn people_read_utc_with_a_space_and_the_zone() {
        assert_eq!(human_utc(datetime!(2026-11-29 07:05:09 UTC)), "2026-11-29 07:05:09 UTC");
    }

    #[test]
    fn rfc3339_round_trips_through_both_spellings() {
        let t = datetime!(2026-11-29 07:05:09 UTC);
        assert_eq!(parse_rfc3339("2026-11-29T07:05:09Z"), Some(t));
        assert_eq!(parse_rfc3339(&iso_utc(t)), Some(t));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn durations_people_type() {
        assert_eq!(parse_duration("3600"), Ok(3600));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("36h"), Ok(129_600));
        assert_eq!(parse_duration("1h30m"), Ok(5_400));
        assert_eq!(parse_duration("1H"), Ok(3_600));
        assert!(parse_duration("12").is_ok());
        assert!(parse_duration("12x").is_err());
        assert!(parse_duration("1h30").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("h").is_err());
    }

    #[test]
    fn a_duration_too_large_for_any_clock_is_outside_every_range() {
        for text in ["9223372036854775808", "99999999999999999999", "99999999999999999999h", "5124095576030432h"] {
            let secs = parse_duration(text).unwrap();
            assert!(secs >= 9_223_372_036_854_775_808, "{text} stays huge, never wraps: {secs}");
            for range in [MIN_TTL, KEY_WAIT, INSTANCE_WAIT, SIGN_IN_WAIT] {
                assert!(!range.contains(secs), "{text}");
            }
        }
    }

    #[test]
    fn ranges_read_as_durations_people_type() {
        assert_eq!(MIN_TTL.describe(), "from 0s to 36h");
        assert_eq!(typed_duration(5_400), "1h30m");
        assert_eq!(typed_duration(90), "1m30s");
        assert_eq!(typed_duration(3_601), "1h1s");
    }

    #[test]
    fn time_left_reads_naturally() {
        assert_eq!(human_duration(43_080), "11h 58m");
        assert_eq!(human_duration(250), "4m 10s");
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(-5), "0s");
        assert_eq!(human_duration(200_000), "2d 7h");
    }
}
