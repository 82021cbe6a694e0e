"""STS AssumeRole behaves like AWS where MFA matters: trust policy, MFA context, durations,
role chaining, and role sessions that sign, expire and are denied like other sessions."""
import json
import re
from datetime import datetime, timezone

import pytest

from conftest import client_for, hook, mfa_session, raw_call, refusal
import fixture
import policies

ACCOUNT = "123456789012"
BAD_SERIAL = ("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your "
              "MFA serial number is valid and associated with this user.")
BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
NEED_BOTH = ("MultiFactorAuthentication failed, must provide both MFA serial number and one time "
             "pass code.")
ROLE_MAX = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
CHAINING = ("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
            "role chaining.")


def not_authorized(caller_arn, role_arn):
    return (403, "AccessDenied", f"User: {caller_arn} is not authorized to perform: "
                                 f"sts:AssumeRole on resource: {role_arn}")


@pytest.fixture
def make_role(endpoint):
    def make(trust, **kwargs):
        return fixture.create_role(endpoint, trust, **kwargs)
    return make


def assume(endpoint, creds, role, name="s1", **kwargs):
    return client_for(endpoint, "sts", creds).assume_role(
        RoleArn=role["role_arn"], RoleSessionName=name, **kwargs)


# ---------------------------------------------------------------- the MFA-requiring trust policy

def test_an_mfa_session_may_assume_a_role_that_requires_mfa(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    before = datetime.now(timezone.utc).replace(microsecond=0)
    answer = assume(endpoint, mfa_session(endpoint, user), role, name="alice@work")
    creds, assumed = answer["Credentials"], answer["AssumedRoleUser"]
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    assert 3600 <= (creds["Expiration"] - before).total_seconds() <= 3605
    assert creds["Expiration"].microsecond == 0
    assert assumed["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['role_name']}/alice@work"
    assert re.fullmatch(r"AROA[A-Z0-9]+:alice@work", assumed["AssumedRoleId"])


def test_the_raw_answer_is_shaped_like_aws(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    creds = mfa_session(endpoint, user)
    answer = raw_call(endpoint, "sts", {
        "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role["role_arn"],
        "RoleSessionName": "raw", "DurationSeconds": "900"},
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert answer.status == 200
    assert answer.body.startswith(
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    assert re.search(
        r"<AssumeRoleResult>\s*<AssumedRoleUser>\s*<AssumedRoleId>AROA[A-Z0-9]+:raw</AssumedRoleId>"
        r"\s*<Arn>arn:aws:sts::123456789012:assumed-role/" + role["role_name"] + r"/raw</Arn>\s*"
        r"</AssumedRoleUser>\s*<Credentials>\s*<AccessKeyId>ASIA[A-Z0-9]{16}</AccessKeyId>\s*"
        r"<SecretAccessKey>.{40}</SecretAccessKey>\s*<SessionToken>.+</SessionToken>\s*"
        r"<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</Expiration>\s*</Credentials>\s*"
        r"</AssumeRoleResult>\s*<ResponseMetadata>\s*<RequestId>[-0-9a-f]+</RequestId>",
        answer.body)


def test_long_term_keys_without_mfa_are_refused_by_the_trust_policy(endpoint, make_user,
                                                                     make_role):
    user = make_user(policy="none")
    role = make_role(user["user_arn"])
    assert refusal(lambda: assume(endpoint, user, role)) == \
        not_authorized(user["user_arn"], role["role_arn"])


def test_long_term_keys_are_first_refused_by_the_users_own_deny_unless_mfa(endpoint, user,
                                                                           make_role):
    role = make_role(user["user_arn"], mfa_required=False)
    status, code, message = refusal(lambda: assume(endpoint, user, role))
    assert (status, code) == (403, "AccessDenied")
    assert message == (f"User: {user['user_arn']} is not authorized to perform: sts:AssumeRole "
                       f"on resource: {role['role_arn']} with an explicit deny in an "
                       f"identity-based policy")


def test_a_session_without_mfa_is_refused(endpoint, make_user, make_role):
    user = make_user(policy="none")
    role = make_role(user["user_arn"])
    creds = client_for(endpoint, "sts", user).get_session_token()["Credentials"]
    assert refusal(lambda: assume(endpoint, creds, role)) == \
        not_authorized(user["user_arn"], role["role_arn"])


def test_a_user_the_role_does_not_trust_is_refused(endpoint, user, make_user, make_role):
    role = make_role(make_user(policy="none")["user_arn"])
    assert refusal(lambda: assume(endpoint, mfa_session(endpoint, user), role)) == \
        not_authorized(user["user_arn"], role["role_arn"])


def test_an_unknown_role_is_refused(endpoint, user):
    role = {"role_arn": f"arn:aws:iam::{ACCOUNT}:role/no-such-role"}
    assert refusal(lambda: assume(endpoint, mfa_session(endpoint, user), role)) == \
        not_authorized(user["user_arn"], role["role_arn"])


def test_the_administrator_needs_no_trust(admin, make_user, make_role):
    role = make_role(make_user(policy="none")["user_arn"])
    arn = admin("sts").assume_role(RoleArn=role["role_arn"], RoleSessionName="admin")[
        "AssumedRoleUser"]["Arn"]
    assert arn.endswith(f":assumed-role/{role['role_name']}/admin")


# ---------------------------------------------------------------- direct MFA on AssumeRole

def test_direct_mfa_on_long_term_keys_works_once_per_code(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    code = fixture.totp(user["seed"])
    creds = assume(endpoint, user, role, SerialNumber=user["serial"], TokenCode=code)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert refusal(lambda: assume(endpoint, user, role, SerialNumber=user["serial"],
                                  TokenCode=code)) == (403, "AccessDenied", BAD_CODE)


def test_a_code_used_by_get_session_token_is_refused_by_assume_role(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    code = fixture.totp(user["seed"])
    client_for(endpoint, "sts", user).get_session_token(SerialNumber=user["serial"], TokenCode=code)
    assert refusal(lambda: assume(endpoint, user, role, SerialNumber=user["serial"],
                                  TokenCode=code))[2] == BAD_CODE


def test_a_code_used_by_assume_role_is_refused_by_get_session_token(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    code = fixture.totp(user["seed"])
    assume(endpoint, user, role, SerialNumber=user["serial"], TokenCode=code)
    sts = client_for(endpoint, "sts", user)
    assert refusal(lambda: sts.get_session_token(SerialNumber=user["serial"], TokenCode=code))[2] \
        == BAD_CODE


def test_direct_mfa_errors_are_worded_like_get_session_token(endpoint, user, make_user,
                                                             make_role):
    role = make_role(user["user_arn"])
    other = make_user()
    assert refusal(lambda: assume(endpoint, user, role, SerialNumber=other["serial"],
                                  TokenCode=fixture.totp(other["seed"]))) == \
        (403, "AccessDenied", BAD_SERIAL)
    assert refusal(lambda: assume(endpoint, user, role, SerialNumber=user["serial"])) == \
        (403, "AccessDenied", NEED_BOTH)
    assert refusal(lambda: assume(endpoint, user, role, TokenCode="123456")) == \
        (403, "AccessDenied", NEED_BOTH)


# ---------------------------------------------------------------- durations and role chaining

def test_duration_above_the_roles_maximum_is_refused(endpoint, user, make_role):
    role = make_role(user["user_arn"])  # MaxSessionDuration 3600
    creds = mfa_session(endpoint, user)
    assert refusal(lambda: assume(endpoint, creds, role, DurationSeconds=3601)) == \
        (400, "ValidationError", ROLE_MAX)
    long_role = make_role(user["user_arn"], max_session=7200)
    expiry = assume(endpoint, creds, long_role, DurationSeconds=7200)["Credentials"]["Expiration"]
    assert 7190 <= (expiry - datetime.now(timezone.utc)).total_seconds() <= 7201


def test_duration_below_900_is_a_validation_error(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    creds = mfa_session(endpoint, user)
    answer = raw_call(endpoint, "sts", {
        "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role["role_arn"],
        "RoleSessionName": "short", "DurationSeconds": "899"},
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert (answer.status, answer.code) == (400, "ValidationError")
    assert ("1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy "
            "constraint: Member must have value greater than or equal to 900") in answer.body


def test_role_session_name_is_required(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    creds = mfa_session(endpoint, user)
    answer = raw_call(endpoint, "sts", {
        "Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role["role_arn"]},
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert (answer.status, answer.code) == (400, "ValidationError")
    assert ("1 validation error detected: Value null at 'roleSessionName' failed to satisfy "
            "constraint: Member must not be null") in answer.body


def test_role_chaining_is_limited_to_one_hour(endpoint, user, make_role):
    role_a = make_role(user["user_arn"])
    role_b = make_role(role_a["role_arn"], max_session=7200)
    a_creds = assume(endpoint, mfa_session(endpoint, user), role_a, name="aa")["Credentials"]
    assert refusal(lambda: assume(endpoint, a_creds, role_b, DurationSeconds=3601)) == \
        (400, "ValidationError", CHAINING)
    answer = assume(endpoint, a_creds, role_b, name="bb", DurationSeconds=3600)
    assert answer["AssumedRoleUser"]["Arn"] == \
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_b['role_name']}/bb"
    assert client_for(endpoint, "sts", answer["Credentials"]).get_caller_identity()["Arn"] == \
        answer["AssumedRoleUser"]["Arn"]


def test_a_role_session_carries_the_mfa_context_it_was_assumed_with(endpoint, make_user,
                                                                    make_role):
    user = make_user(policy="none")
    open_role = make_role(user["user_arn"], mfa_required=False)
    mfa_role = make_role(open_role["role_arn"])  # trusts the first role, with MFA
    without = assume(endpoint, user, open_role, name="plain")["Credentials"]
    assert refusal(lambda: assume(endpoint, without, mfa_role)) == not_authorized(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{open_role['role_name']}/plain",
        mfa_role["role_arn"])
    with_mfa = assume(endpoint, mfa_session(endpoint, user), open_role)["Credentials"]
    assert assume(endpoint, with_mfa, mfa_role)["Credentials"]["AccessKeyId"].startswith("ASIA")


# ---------------------------------------------------------------- ExternalId and trust forms

def test_external_id_condition(endpoint, make_user, make_role):
    user = make_user(policy="none")
    role = make_role(user["user_arn"], mfa_required=False, external_id="ext-42")
    denied = not_authorized(user["user_arn"], role["role_arn"])
    assert refusal(lambda: assume(endpoint, user, role)) == denied
    assert refusal(lambda: assume(endpoint, user, role, ExternalId="ext-43")) == denied
    assert assume(endpoint, user, role, ExternalId="ext-42")["Credentials"]["AccessKeyId"]


def test_a_deny_in_the_trust_policy_wins(endpoint, make_user, admin):
    user = make_user(policy="none")
    name = f"role-deny-{user['user_name']}"
    arn = admin("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:*"},
            {"Effect": "Deny", "Principal": {"AWS": user["user_arn"]}, "Action": "sts:Assume*"},
        ]}))["Role"]["Arn"]
    role = {"role_arn": arn}
    assert refusal(lambda: assume(endpoint, user, role)) == not_authorized(user["user_arn"], arn)
    other = make_user(policy="none")  # the account-wide Allow still holds for others
    assert assume(endpoint, other, role)["AssumedRoleUser"]["Arn"].endswith(f"/{name}/s1")


IDENTITIES = {f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:root"}


@pytest.mark.parametrize("principal,allowed", [
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, True),
    ({"AWS": [f"arn:aws:iam::{ACCOUNT}:user/eve", f"arn:aws:iam::{ACCOUNT}:user/bob"]}, True),
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:user/eve"}, False),
    ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, True),
    ({"AWS": ACCOUNT}, True),
    ({"AWS": "210987654321"}, False),
    ({"AWS": "*"}, True),
    ("*", True),
    ({"Service": "ec2.amazonaws.com"}, False),
])
def test_trust_principals(principal, allowed):
    doc = {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
    assert policies.trust_allows(doc, "sts:AssumeRole", IDENTITIES, {}) is allowed


@pytest.mark.parametrize("condition,context,allowed", [
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {}, False),
    ({"Bool": {"aws:MultiFactorAuthPresent": "true"}},
     {"aws:multifactorauthpresent": "true"}, True),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, {}, True),
    ({"Null": {"aws:MultiFactorAuthPresent": "false"}}, {}, False),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
     {"aws:multifactorauthage": "100"}, True),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
     {"aws:multifactorauthage": "4000"}, False),
    ({"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "60"}}, {}, True),
    ({"StringEquals": {"sts:ExternalId": "x1"}}, {"sts:externalid": "x1"}, True),
    ({"StringEquals": {"sts:ExternalId": "x1"}}, {}, False),
    ({"StringLike": {"sts:ExternalId": "x*"}}, {"sts:externalid": "xyz"}, True),
    ({"StringLike": {"sts:ExternalId": "x?"}}, {"sts:externalid": "xyz"}, False),
    ({"StringNotEquals": {"sts:ExternalId": "x1"}}, {}, True),
])
def test_trust_conditions(condition, context, allowed):
    doc = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                          "Action": "sts:*", "Condition": condition}]}
    assert policies.trust_allows(json.dumps(doc), "sts:AssumeRole", IDENTITIES, context) is allowed


# ---------------------------------------------------------------- role sessions at work

def test_role_session_credentials_work_and_answer_the_assumed_role(endpoint, user, make_role,
                                                                   image_id):
    role = make_role(user["user_arn"])
    answer = assume(endpoint, mfa_session(endpoint, user), role, name="ops")
    creds = answer["Credentials"]
    identity = client_for(endpoint, "sts", creds).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['role_name']}/ops"
    assert identity["UserId"] == answer["AssumedRoleUser"]["AssumedRoleId"]
    assert identity["Account"] == ACCOUNT
    ec2 = client_for(endpoint, "ec2", creds)
    launched = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                 InstanceType="t2.micro")["Instances"][0]
    assert ec2.describe_instances(InstanceIds=[launched["InstanceId"]])["Reservations"]


def test_the_roles_policies_deny_and_name_the_assumed_role(endpoint, user, make_role, image_id):
    role = make_role(user["user_arn"], policy="deny-ec2-always")
    creds = assume(endpoint, mfa_session(endpoint, user), role, name="ops")["Credentials"]
    ec2 = client_for(endpoint, "ec2", creds)
    status, code, message = refusal(lambda: ec2.run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t2.micro", DryRun=True))
    assert (status, code) == (403, "UnauthorizedOperation")
    assert message.startswith(
        f"You are not authorized to perform this operation. User: arn:aws:sts::{ACCOUNT}:"
        f"assumed-role/{role['role_name']}/ops is not authorized to perform: ec2:RunInstances")
    ec2.describe_instances()  # the user's deny-unless-MFA policy does not apply to the role


def test_role_policies_see_the_sessions_mfa_context(endpoint, make_user, make_role, admin):
    user = make_user(policy="none")
    role = make_role(user["user_arn"], mfa_required=False)
    admin("iam").put_role_policy(RoleName=role["role_name"], PolicyName="deny-unless-mfa",
                                 PolicyDocument=json.dumps(fixture.DENY_UNLESS_MFA))
    plain = client_for(endpoint, "ec2", assume(endpoint, user, role)["Credentials"])
    assert refusal(plain.describe_instances)[1] == "UnauthorizedOperation"
    direct = assume(endpoint, user, role, SerialNumber=user["serial"],
                    TokenCode=fixture.totp(user["seed"]))["Credentials"]
    client_for(endpoint, "ec2", direct).describe_instances()


def test_role_sessions_expire_and_cannot_get_session_tokens(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    creds = assume(endpoint, mfa_session(endpoint, user), role)["Credentials"]
    sts = client_for(endpoint, "sts", creds)
    assert refusal(sts.get_session_token) == (
        403, "AccessDenied", "Cannot call GetSessionToken with session credentials")
    assert refusal(client_for(endpoint, "iam", creds).get_user) == (
        400, "ValidationError", "Must specify userName when calling with non-User credentials")
    assert hook(endpoint, f"/_awsmfa/expire?access_key_id={creds['AccessKeyId']}", "POST")[0] == 200
    assert refusal(sts.get_caller_identity) == (
        403, "ExpiredToken", "The security token included in the request is expired")


def test_stats_count_assume_role_calls(endpoint, user, make_role):
    role = make_role(user["user_arn"])
    creds = mfa_session(endpoint, user)
    assume(endpoint, creds, role)
    assume(endpoint, creds, role, name="s2")
    refusal(lambda: assume(endpoint, user, role))
    status, stats = hook(endpoint, "/_awsmfa/stats")
    assert status == 200
    assert stats["assume_role"][role["role_arn"]] == 2
    assert stats["assume_role_attempts"][role["role_arn"]] == 3
    assert user["access_key_id"] in stats["get_session_token"]


def test_the_fixture_cli_creates_a_role(endpoint, user):
    import subprocess
    import sys
    out = subprocess.run(
        [sys.executable, fixture.__file__, "--endpoint", endpoint, "role", "--trust",
         user["user_arn"], "--max-session", "7200", "--external-id", "abc"],
        capture_output=True, text=True, check=True).stdout
    role = json.loads(out)
    assert set(role) == {"role_arn", "role_name", "max_session"}
    assert role["max_session"] == 7200 and role["role_name"].startswith("role-")
    trust = fixture.client("iam", endpoint).get_role(RoleName=role["role_name"])["Role"]
    assert trust["MaxSessionDuration"] == 7200
    doc = trust["AssumeRolePolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert doc["Statement"][0]["Condition"] == {
        "Bool": {"aws:MultiFactorAuthPresent": "true"}, "StringEquals": {"sts:ExternalId": "abc"}}
    assert assume(endpoint, mfa_session(endpoint, user), role, ExternalId="abc")["Credentials"]
