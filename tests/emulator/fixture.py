"""Test fixture of the local AWS emulator: an IAM user set up for MFA, through the real APIs.

As a module: create_user(endpoint, ...) -> dict, and totp(seed_b32, t=None, step_offset=0).
As a CLI:
  python fixture.py --endpoint URL [--user NAME] [--policy deny-unless-mfa|deny-ec2-always|none] [--no-mfa]
      creates the user, an access key, a virtual MFA device named after the user (enabled with
      two consecutive codes of its seed) and the inline policy; prints one JSON object with keys
      endpoint, region, account_id, user_name, user_arn, access_key_id, secret_access_key,
      serial, seed (serial and seed are null with --no-mfa).
  python fixture.py totp SEED [--offset K]     prints the current code (K steps later).
All calls are signed with the emulator's administrator keys.
"""
import argparse
import json
import os
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from totp import current_step, code_at_step, totp  # noqa: E402,F401  (totp is re-exported)

REGION = "us-east-1"
ADMIN_KEY_ID = os.environ.get("AWSMFA_EMULATOR_ADMIN_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
ADMIN_SECRET = os.environ.get("AWSMFA_EMULATOR_ADMIN_SECRET",
                              "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

# AWS's documented "BlockMostAccessUnlessSignedInWithMFA" statement: everything but managing
# one's own MFA device and getting a session token is denied without MFA.
DENY_UNLESS_MFA = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "BlockMostAccessUnlessSignedInWithMFA",
        "Effect": "Deny",
        "NotAction": [
            "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
            "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice",
            "sts:GetSessionToken",
        ],
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }],
}
DENY_EC2_ALWAYS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "NeverRunInstances", "Effect": "Deny",
                   "Action": "ec2:RunInstances", "Resource": "*"}],
}
POLICIES = {"deny-unless-mfa": DENY_UNLESS_MFA, "deny-ec2-always": DENY_EC2_ALWAYS, "none": None}


def client(service, endpoint, key_id=ADMIN_KEY_ID, secret=ADMIN_SECRET, token=None):
    import boto3
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        aws_session_token=token)


def create_user(endpoint, user_name=None, policy="deny-unless-mfa", mfa=True):
    """Create an IAM user ready for the MFA story; returns the fixture dict (see module doc)."""
    iam = client("iam", endpoint)
    user_name = user_name or f"alice-{secrets.token_hex(4)}"
    user = iam.create_user(UserName=user_name)["User"]
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    serial = seed = None
    if mfa:
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user_name)["VirtualMFADevice"]
        serial, seed = device["SerialNumber"], device["Base32StringSeed"]
        if isinstance(seed, bytes):
            seed = seed.decode()
        step = current_step()
        iam.enable_mfa_device(UserName=user_name, SerialNumber=serial,
                              AuthenticationCode1=code_at_step(seed, step - 1),
                              AuthenticationCode2=code_at_step(seed, step))
    if POLICIES[policy] is not None:
        iam.put_user_policy(UserName=user_name, PolicyName=policy,
                            PolicyDocument=json.dumps(POLICIES[policy]))
    return {
        "endpoint": endpoint, "region": REGION, "account_id": user["Arn"].split(":")[4],
        "user_name": user_name, "user_arn": user["Arn"],
        "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
        "serial": serial, "seed": seed,
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "totp":
        parser = argparse.ArgumentParser(prog="fixture.py totp")
        parser.add_argument("seed")
        parser.add_argument("--offset", type=int, default=0)
        args = parser.parse_args(argv[1:])
        print(totp(args.seed, time.time(), args.offset))
        return 0
    parser = argparse.ArgumentParser(description="Create an MFA-ready IAM user in the emulator.")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--user")
    parser.add_argument("--policy", choices=sorted(POLICIES), default="deny-unless-mfa")
    parser.add_argument("--no-mfa", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(create_user(args.endpoint, args.user, args.policy, not args.no_mfa)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
