//! `awsmfa enroll`: from no MFA device to an enabled one, with `mfa_serial` in the profile.

use std::io::IsTerminal;

use super::print;
use crate::aws::{ClientSpec, Retries, Signer};
use crate::cli::{EnrollArgs, GlobalArgs};
use crate::error::{Error, Kind, Result};
use crate::files::atomic;
use crate::mfa::enroll::{self, Plan};
use crate::output::qr;

pub fn run(global: &GlobalArgs, args: EnrollArgs) -> Result<i32> {
    // The new device's seed will be in memory: whoever reads it makes the codes.
    crate::platform::make_undumpable();
    let settings = super::profile_settings(global)?;
    let keys = settings.keys()?;
    let spec = ClientSpec::new(&settings.client, "iam", Signer::LongTerm(keys), Retries::Standard)?;
    let shows = std::io::stdout().is_terminal() || args.show_secret;
    if args.serial.is_none() && !shows && args.seed_out.is_none() {
        return Err(Error::new(Kind::Usage, "the new device's seed would be shown nowhere: stdout is not a terminal")
            .hint("run in a terminal, or pass --show-secret (prints it) or --seed-out FILE (for automation)"));
    }
    // Claimed now, before IAM makes a device: a file made at that path meanwhile would
    // otherwise be overwritten with the seed.
    let seed_out = args.seed_out.as_deref().map(atomic::NewFile::create).transpose()?;
    let plan = Plan {
        profile: settings.profile.clone(),
        config_path: settings.config_path.clone(),
        user: args.user,
        serial: args.serial,
        device_name: args.device_name,
        seed_out,
    };
    // The QR code and the seed, on stdout (the person asked for them: a terminal, or --show-secret).
    let show = |uri: &str, seed: &_, serial: &str| print(qr::enrolment(uri, seed, serial).as_bytes()).map(|_| ());
    enroll::enroll(&settings.client, &spec, plan, shows.then_some(&show))?;
    Ok(0)
}
