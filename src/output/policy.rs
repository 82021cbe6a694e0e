//! The IAM policy that enforces MFA, as `awsmfa policy` prints it and `verify` shows it.

/// Which actions the policy denies without MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyScope {
    /// Deny everything except MFA self-service without MFA
    All,
    /// Deny ec2:RunInstances, StopInstances, TerminateInstances without MFA
    Ec2,
}

/// What a user may do without MFA under scope `all`: set up their MFA device and sign in.
const MFA_SELF_SERVICE: &[&str] = &[
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
];

const EC2_LIFECYCLE: &[&str] = &["ec2:RunInstances", "ec2:StopInstances", "ec2:TerminateInstances"];

/// The policy document. `BoolIfExists` (never plain `Bool`): long-term keys carry no
/// `aws:MultiFactorAuthPresent` at all, and `Bool` on a missing key does not match.
pub fn document(scope: PolicyScope) -> serde_json::Value {
    let condition = serde_json::json!({ "BoolIfExists": { "aws:MultiFactorAuthPresent": "false" } });
    let statement = match scope {
        PolicyScope::All => serde_json::json!({
            "Sid": "BlockMostAccessUnlessSignedInWithMFA",
            "Effect": "Deny",
            "NotAction": MFA_SELF_SERVICE,
            "Resource": "*",
            "Condition": condition,
        }),
        PolicyScope::Ec2 => serde_json::json!({
            "Sid": "DenyEc2LifecycleUnlessSignedInWithMFA",
            "Effect": "Deny",
            "Action": EC2_LIFECYCLE,
            "Resource": "*",
            "Condition": condition,
        }),
    };
    serde_json::json!({ "Version": "2012-10-17", "Statement": [statement] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_deny_without_mfa_using_bool_if_exists() {
        for scope in [PolicyScope::All, PolicyScope::Ec2] {
            let doc = document(scope);
            let s = &doc["Statement"][0];
            assert_eq!(s["Effect"], "Deny");
            assert_eq!(s["Condition"]["BoolIfExists"]["aws:MultiFactorAuthPresent"], "false");
            assert!(s["Condition"].get("Bool").is_none());
        }
        let all = document(PolicyScope::All);
        let exempt = all["Statement"][0]["NotAction"].as_array().unwrap();
        assert!(exempt.iter().any(|a| a == "sts:GetSessionToken"), "signing in stays possible");
        assert_eq!(document(PolicyScope::Ec2)["Statement"][0]["Action"][0], "ec2:RunInstances");
    }
}
