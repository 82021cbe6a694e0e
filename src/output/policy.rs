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

/// A line diff of two texts (`-` old, `+` new, two spaces for both), by longest common
/// subsequence: policy documents are a few dozen lines, so the quadratic table is nothing.
pub fn diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_diff_marks_removed_and_added_lines() {
        assert_eq!(diff("a\nb\nc\n", "a\nB\nc\nd\n"), "  a\n- b\n+ B\n  c\n+ d\n");
        assert_eq!(diff("x\n", "x\n"), "  x\n");
    }

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
