//! The proof that an account enforces MFA, made as the manual recipe makes it: an EC2 dry
//! run signed with the long-term keys must be denied (the pre-test), and the same dry run
//! signed with the MFA session allowed (the post-test).
//!
//! Owns which credentials sign each test and the client it goes through; nothing here
//! prints or decides an exit code.

use crate::aws::{ClientSpec, Retries, Signer};
use crate::ec2::{Ec2, LaunchSpec, ProbeResult};
use crate::error::Result;
use crate::profile::Settings;
use crate::session::Session;

/// EC2 signed with `session` (the post-test, and every launch).
pub fn ec2_with_session(settings: &Settings, session: &Session) -> Result<Ec2> {
    let spec = ClientSpec::new(&settings.client, "ec2", Signer::Session(session), Retries::Standard)?;
    Ok(Ec2::new(&spec, &crate::aws::region(&settings.client), settings.poll_interval))
}

/// EC2 signed with the long-term keys alone, no MFA (the pre-test).
pub fn ec2_without_mfa(settings: &Settings) -> Result<Ec2> {
    let spec = ClientSpec::new(&settings.client, "ec2", Signer::LongTerm(settings.keys()?), Retries::Standard)?;
    Ok(Ec2::new(&spec, &crate::aws::region(&settings.client), settings.poll_interval))
}

/// The pre-test: may the long-term keys launch `launch`? Denied is the passing answer.
pub fn pre_test(settings: &Settings, launch: &LaunchSpec) -> Result<ProbeResult> {
    let ec2 = ec2_without_mfa(settings)?;
    crate::aws::block_on(ec2.probe(launch))
}

/// The post-test: may `session` launch `launch`? Allowed is the passing answer.
pub fn post_test(settings: &Settings, session: &Session, launch: &LaunchSpec) -> Result<ProbeResult> {
    let ec2 = ec2_with_session(settings, session)?;
    crate::aws::block_on(ec2.probe(launch))
}
