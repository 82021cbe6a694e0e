//! `awsmfa login`: get (or reuse) the MFA session; optionally write it to a credentials
//! profile and to the JSON file the manual recipe saved.

use super::{request, settings};
use crate::cli::{GlobalArgs, LoginArgs};
use crate::clock;
use crate::error::Result;
use crate::files::atomic::{self, Links};
use crate::output;
use crate::session;
use crate::ui;

pub fn run(global: &GlobalArgs, args: LoginArgs) -> Result<i32> {
    let mut settings = settings(global, &args.session)?;
    // Everything that can be checked is checked before a code is spent.
    if let Some(name) = &args.write_profile {
        crate::profile::write::check_profile(&settings, name, "write the session into")?;
        atomic::check_writable(&settings.credentials_path, Links::Follow, true)?;
    }
    if let Some(path) = &args.save_json {
        atomic::check_own(path)?;
    }
    if args.console {
        let ask = crate::profile::signin::SignIn {
            remote: args.remote,
            browser: !args.no_browser,
            timeout: args.timeout,
            // `--keystore` alone: where the profile keeps its session already, else the default.
            keystore: args.keystore.map(|choice| {
                let default = settings.login_keystore.as_ref().map_or(settings.keystore_default.value, |b| b.value);
                choice.map_or(default, Into::into)
            }),
        };
        crate::profile::signin::sign_in_profile(&settings, &ask)?;
        if args.write_profile.is_none() && args.save_json.is_none() {
            return Ok(0);
        }
        settings = super::settings(global, &args.session)?;
    }
    let got = session::get_session(&settings.session(), &request(&args.session, args.force)?)?;
    let now = clock::now();
    let until = format!(
        "{} ({} left)",
        clock::human_utc(got.session.expiration),
        clock::human_duration(got.session.seconds_left(now))
    );
    if settings.login_session.is_some() {
        let how = if got.fresh { "renewed" } else { "valid" };
        ui::note(&format!("console sign-in session {}: credentials {how} until {until}", got.serial));
    } else if got.fresh {
        ui::note(&format!("logged in with MFA device {}: session valid until {until}", got.serial));
    } else {
        ui::note(&format!("already logged in: session valid until {until} (use --force to renew)"));
    }
    if let Some(name) = &args.write_profile {
        crate::profile::write::write(&settings, name, &got.session)?;
        ui::note(&format!("wrote profile [{name}] in {}", settings.credentials_path.display()));
    }
    if let Some(path) = &args.save_json {
        // Checked again: the code is spent, but the session must still not reach a file
        // planted meanwhile. Written as awsmfa's own files are: 0600, never through a link.
        atomic::check_own(path)?;
        atomic::write(path, output::sts_json(&got.session).as_bytes(), 0o600, Links::Replace)?;
        ui::note(&format!("wrote {}", path.display()));
    }
    Ok(0)
}
