//! Finding the MFA device when none is configured: `iam:ListMFADevices` for the calling
//! user. One device is used (and named); several or none are explained.

use crate::aws::{self, ClientConfig, ClientSpec, Retries, Signer};
use crate::credentials::LongTermKeys;
use crate::error::{Error, Result};

pub fn discover_serial(client: &ClientConfig, keys: &LongTermKeys) -> Result<String> {
    let spec = ClientSpec::new(client, "iam", Signer::LongTerm(keys), Retries::Standard)?;
    let serials = aws::iam::list_mfa_devices(&spec, None)?.map_err(|f| {
        f.into_error("iam:ListMFADevices", &spec.describe_endpoint("iam"))
            .hint("set mfa_serial in the profile, or pass --serial ARN, so awsmfa need not look it up")
    })?;
    match serials.as_slice() {
        [one] => {
            crate::ui::note(&format!("using MFA device {one} (the only one of this user)"));
            Ok(one.clone())
        }
        [] => Err(Error::config("this IAM user has no MFA device").hint(
            "add one in the IAM console (Security credentials > Assign MFA device), then set mfa_serial in the profile",
        )),
        many => Err(Error::config(format!("this IAM user has {} MFA devices: {}", many.len(), many.join(", ")))
            .hint("choose one with --serial ARN or mfa_serial in the profile")),
    }
}
