"""Test fixture of the local AWS emulator: an IAM user set up for MFA, through the real APIs.

As a module: create_user(endpoint, ...) -> dict, create_role(endpoint, trust, ...) -> dict,
and totp(seed_b32, t=None, step_offset=0).
As a CLI:
  python fixture.py --endpoint URL [--user NAME] [--no-mfa] [--password PASSWORD]
                    [--policy deny-unless-mfa|deny-ec2-unless-mfa|deny-ec2-always|none]
      creates the user, an access key, a virtual MFA device named after the user (enabled with
      two consecutive codes of its seed), a console password (a login profile, for AWS
      Sign-In) with --password, and the inline policy; prints one JSON object with keys
      endpoint, region, account_id, user_name, user_arn, access_key_id, secret_access_key,
      serial, seed (serial and seed are null with --no-mfa).
  python fixture.py password --endpoint URL USER PASSWORD   changes the user's console password.
  python fixture.py --endpoint URL role --trust ARN [--trust ARN ...] [--name NAME]
                    [--mfa-required | --no-mfa] [--max-session SECONDS] [--external-id ID]
                    [--policy deny-ec2-always|none]
      creates a role (role-<hex> by default) whose trust policy allows sts:AssumeRole to the
      given principals (user or role ARNs, an account's root, or *), on condition
      {"Bool": {"aws:MultiFactorAuthPresent": "true"}} unless --no-mfa, and
      {"StringEquals": {"sts:ExternalId": ID}} with --external-id; MaxSessionDuration SECONDS
      (default 3600); the inline role policy (default none). Prints one JSON object with keys
      role_arn, role_name, max_session.
  python fixture.py totp SEED [--offset K]     prints the current code (K steps later).
  python fixture.py access-keys --endpoint URL USER [--create]
      prints the user's access key ids as a JSON list; with --create, first makes another key
      and prints {"access_key_id", "secret_access_key"} of it instead.
  python fixture.py virtual-devices --endpoint URL     the serials of every virtual MFA device (JSON).
  python fixture.py user-policies --endpoint URL USER  {name: document} of the user's inline policies.
  python fixture.py group --endpoint URL NAME --member USER   creates a group with that member.
  python fixture.py whoami --endpoint URL      signs sts:GetCallerIdentity with the keys in
      AWSMFA_TEST_KEY_ID / AWSMFA_TEST_SECRET; prints the ARN, or exits 1 when AWS refuses them.
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
# Only EC2 launches need MFA (the how-to's own policy, narrowed): what a console sign-in
# without MFA can still do, and what it cannot.
DENY_EC2_UNLESS_MFA = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "RunInstancesOnlyWithMFA", "Effect": "Deny",
                   "Action": "ec2:RunInstances", "Resource": "*",
                   "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}],
}
DENY_EC2_ALWAYS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "NeverRunInstances", "Effect": "Deny",
                   "Action": "ec2:RunInstances", "Resource": "*"}],
}
POLICIES = {"deny-unless-mfa": DENY_UNLESS_MFA, "deny-ec2-unless-mfa": DENY_EC2_UNLESS_MFA,
            "deny-ec2-always": DENY_EC2_ALWAYS, "none": None}


def client(service, endpoint, key_id=ADMIN_KEY_ID, secret=ADMIN_SECRET, token=None):
    import boto3
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        aws_session_token=token)


def create_user(endpoint, user_name=None, policy="deny-unless-mfa", mfa=True, password=None):
    """Create an IAM user ready for the MFA story; returns the fixture dict (see module doc)."""
    iam = client("iam", endpoint)
    user_name = user_name or f"alice-{secrets.token_hex(4)}"
    user = iam.create_user(UserName=user_name)["User"]
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    if password is not None:
        iam.create_login_profile(UserName=user_name, Password=password)
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


def trust_policy(principals, mfa_required=True, external_id=None):
    """A trust policy allowing sts:AssumeRole to the principals (ARNs), maybe on conditions."""
    principals = list(principals)
    statement = {"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"AWS": principals[0] if len(principals) == 1 else principals}}
    condition = {}
    if mfa_required:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    if external_id is not None:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def create_role(endpoint, trust, role_name=None, mfa_required=True, max_session=3600,
                external_id=None, policy="none"):
    """Create a role assumable by the trusted principal ARNs (a str or a list); returns
    {"role_arn", "role_name", "max_session"}."""
    iam = client("iam", endpoint)
    trust = [trust] if isinstance(trust, str) else list(trust)
    role_name = role_name or f"role-{secrets.token_hex(4)}"
    role = iam.create_role(
        RoleName=role_name, MaxSessionDuration=max_session,
        AssumeRolePolicyDocument=json.dumps(trust_policy(trust, mfa_required, external_id)))["Role"]
    if POLICIES[policy] is not None:
        iam.put_role_policy(RoleName=role_name, PolicyName=policy,
                            PolicyDocument=json.dumps(POLICIES[policy]))
    return {"role_arn": role["Arn"], "role_name": role_name, "max_session": max_session}


def split_role_command(argv):
    """(argv before `role`, argv after it) if argv holds the `role` subcommand, else None."""
    i = 0
    while i < len(argv):
        if argv[i] in ("--endpoint", "--user", "--policy"):
            i += 2
            continue
        if argv[i] == "role":
            return argv[:i], argv[i + 1:]
        i += 1
    return None


def role_main(before, after):
    parser = argparse.ArgumentParser(prog="fixture.py [--endpoint URL] role",
                                     description="Create a role in the emulator.")
    parser.add_argument("--endpoint", required="--endpoint" not in before and not any(
        a.startswith("--endpoint=") for a in before))
    parser.add_argument("--trust", action="append", required=True, metavar="ARN")
    parser.add_argument("--name")
    mfa = parser.add_mutually_exclusive_group()
    mfa.add_argument("--mfa-required", dest="mfa_required", action="store_true", default=True)
    mfa.add_argument("--no-mfa", dest="mfa_required", action="store_false")
    parser.add_argument("--max-session", type=int, default=3600, metavar="SECONDS")
    parser.add_argument("--external-id")
    parser.add_argument("--policy", choices=["deny-ec2-always", "none"], default="none")
    args = parser.parse_args(before + after)
    print(json.dumps(create_role(args.endpoint, args.trust, args.name, args.mfa_required,
                                 args.max_session, args.external_id, args.policy)))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "totp":
        parser = argparse.ArgumentParser(prog="fixture.py totp")
        parser.add_argument("seed")
        parser.add_argument("--offset", type=int, default=0)
        args = parser.parse_args(argv[1:])
        print(totp(args.seed, time.time(), args.offset))
        return 0
    if argv and argv[0] == "password":
        parser = argparse.ArgumentParser(prog="fixture.py password")
        parser.add_argument("--endpoint", required=True)
        parser.add_argument("user")
        parser.add_argument("password")
        args = parser.parse_args(argv[1:])
        client("iam", args.endpoint).update_login_profile(UserName=args.user, Password=args.password)
        return 0
    if argv and argv[0] in ("virtual-devices", "user-policies", "group"):
        parser = argparse.ArgumentParser(prog=f"fixture.py {argv[0]}")
        parser.add_argument("--endpoint", required=True)
        if argv[0] != "virtual-devices":
            parser.add_argument("name")
        if argv[0] == "group":
            parser.add_argument("--member", required=True)
        args = parser.parse_args(argv[1:])
        iam = client("iam", args.endpoint)
        if argv[0] == "virtual-devices":
            pages = iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Any")
            print(json.dumps([d["SerialNumber"] for page in pages for d in page["VirtualMFADevices"]]))
        elif argv[0] == "user-policies":
            names = iam.list_user_policies(UserName=args.name)["PolicyNames"]
            print(json.dumps({n: iam.get_user_policy(UserName=args.name, PolicyName=n)["PolicyDocument"]
                              for n in names}))
        else:
            iam.create_group(GroupName=args.name)
            iam.add_user_to_group(GroupName=args.name, UserName=args.member)
            print(json.dumps({"group": args.name}))
        return 0
    if argv and argv[0] in ("access-keys", "whoami"):
        parser = argparse.ArgumentParser(prog=f"fixture.py {argv[0]}")
        parser.add_argument("--endpoint", required=True)
        if argv[0] == "access-keys":
            parser.add_argument("user")
            parser.add_argument("--create", action="store_true")
        args = parser.parse_args(argv[1:])
        if argv[0] == "whoami":
            sts = client("sts", args.endpoint, os.environ["AWSMFA_TEST_KEY_ID"],
                         os.environ["AWSMFA_TEST_SECRET"])
            try:
                print(sts.get_caller_identity()["Arn"])
            except Exception as exc:  # refused: say which error, never the keys
                print(type(exc).__name__, file=sys.stderr)
                return 1
            return 0
        iam = client("iam", args.endpoint)
        if args.create:
            key = iam.create_access_key(UserName=args.user)["AccessKey"]
            print(json.dumps({"access_key_id": key["AccessKeyId"],
                              "secret_access_key": key["SecretAccessKey"]}))
        else:
            keys = iam.list_access_keys(UserName=args.user)["AccessKeyMetadata"]
            print(json.dumps([k["AccessKeyId"] for k in keys]))
        return 0
    role_command = split_role_command(argv)
    if role_command is not None:
        return role_main(*role_command)
    parser = argparse.ArgumentParser(description="Create an MFA-ready IAM user in the emulator.")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--user")
    parser.add_argument("--policy", choices=sorted(POLICIES), default="deny-unless-mfa")
    parser.add_argument("--no-mfa", action="store_true")
    parser.add_argument("--password", help="a console password (login profile) for AWS Sign-In")
    args = parser.parse_args(argv)
    print(json.dumps(create_user(args.endpoint, args.user, args.policy, not args.no_mfa,
                                 args.password)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
