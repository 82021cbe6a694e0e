"""Explicit Deny statements of IAM users' policies are enforced, MFA conditions included."""
import json

import pytest

from conftest import client_for, mfa_session, refusal
import policies

RUN = dict(ImageId="ami-03cf127a", MinCount=1, MaxCount=1, InstanceType="t2.micro")


@pytest.mark.parametrize("dry_run", [True, False])
def test_long_term_keys_may_not_run_instances(endpoint, user, image_id, dry_run):
    ec2 = client_for(endpoint, "ec2", user)
    status, code, message = refusal(
        lambda: ec2.run_instances(**dict(RUN, ImageId=image_id), DryRun=dry_run))
    assert (status, code) == (403, "UnauthorizedOperation")
    assert message.startswith(
        f"You are not authorized to perform this operation. User: {user['user_arn']} is not "
        f"authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:"
        f"instance/* with an explicit deny in an identity-based policy. Encoded authorization "
        f"failure message: ")


def test_the_encoded_message_decodes_to_the_denial(endpoint, user, admin, image_id):
    ec2 = client_for(endpoint, "ec2", user)
    message = refusal(lambda: ec2.run_instances(**dict(RUN, ImageId=image_id), DryRun=True))[2]
    encoded = message.rsplit(" ", 1)[1]
    decoded = json.loads(admin("sts").decode_authorization_message(
        EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    assert decoded["context"]["action"] == "ec2:RunInstances"
    assert decoded["context"]["principal"]["arn"] == user["user_arn"]
    statement = decoded["matchedStatements"]["items"][0]
    assert statement["statementId"] == "BlockMostAccessUnlessSignedInWithMFA"
    assert statement["effect"] == "DENY"


def test_a_garbled_message_does_not_decode(admin):
    assert refusal(lambda: admin("sts").decode_authorization_message(
        EncodedMessage="not-a-message"))[1] == "InvalidAuthorizationMessageException"


def test_an_mfa_session_may_run_instances(endpoint, user, image_id):
    ec2 = client_for(endpoint, "ec2", mfa_session(endpoint, user))
    assert refusal(lambda: ec2.run_instances(**dict(RUN, ImageId=image_id), DryRun=True)) == (
        412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
    launched = ec2.run_instances(**dict(RUN, ImageId=image_id))["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[launched["InstanceId"]])
    assert described["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"


def test_a_session_without_mfa_is_denied(endpoint, user, image_id):
    creds = client_for(endpoint, "sts", user).get_session_token()["Credentials"]
    ec2 = client_for(endpoint, "ec2", creds)
    assert refusal(lambda: ec2.run_instances(**dict(RUN, ImageId=image_id), DryRun=True))[1] == \
        "UnauthorizedOperation"


def test_an_unconditional_deny_holds_even_with_mfa(endpoint, make_user, image_id):
    user = make_user(policy="deny-ec2-always")
    ec2 = client_for(endpoint, "ec2", mfa_session(endpoint, user))
    assert refusal(lambda: ec2.run_instances(**dict(RUN, ImageId=image_id), DryRun=True))[1] == \
        "UnauthorizedOperation"
    ec2.describe_instances()  # other actions are not denied


def test_a_denied_query_service_call_is_access_denied(endpoint, user):
    status, code, message = refusal(client_for(endpoint, "iam", user).list_users)
    assert (status, code) == (403, "AccessDenied")
    assert message == (f"User: {user['user_arn']} is not authorized to perform: iam:ListUsers on "
                       f"resource: * with an explicit deny in an identity-based policy")


def test_actions_left_out_by_not_action_stay_allowed(endpoint, user):
    iam = client_for(endpoint, "iam", user)
    assert iam.list_mfa_devices()["MFADevices"][0]["SerialNumber"] == user["serial"]
    assert iam.get_user()["User"]["UserName"] == user["user_name"]


def test_iam_calls_without_user_name_mean_the_caller(endpoint, make_user):
    user = make_user(policy="none")
    keys = client_for(endpoint, "iam", user).list_access_keys()["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [user["access_key_id"]]


def test_group_and_managed_policies_count_too(endpoint, make_user, admin, image_id):
    deny_ec2 = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "ec2:Run*", "Resource": "*"}]})
    deny_iam = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:list?ccessKeys", "Resource": "*"}]})
    iam = admin("iam")
    in_group, with_managed = make_user(policy="none"), make_user(policy="none")
    group = f"g-{in_group['user_name']}"
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="no-ec2", PolicyDocument=deny_ec2)
    iam.add_user_to_group(GroupName=group, UserName=in_group["user_name"])
    arn = iam.create_policy(PolicyName=f"p-{with_managed['user_name']}",
                            PolicyDocument=deny_iam)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=with_managed["user_name"], PolicyArn=arn)
    ec2 = client_for(endpoint, "ec2", in_group)
    assert refusal(lambda: ec2.run_instances(**dict(RUN, ImageId=image_id), DryRun=True))[1] == \
        "UnauthorizedOperation"
    assert refusal(client_for(endpoint, "iam", with_managed).list_access_keys)[1] == "AccessDenied"


def test_get_caller_identity_is_never_denied(endpoint, make_user, admin):
    user = make_user(policy="none")
    admin("iam").put_user_policy(UserName=user["user_name"], PolicyName="deny-all",
                                 PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                     {"Effect": "Deny", "Action": "*", "Resource": "*"}]}))
    assert client_for(endpoint, "sts", user).get_caller_identity()["Arn"] == user["user_arn"]


# The condition operators, evaluated directly.
NO_MFA, MFA_SESSION, PLAIN_SESSION = {}, {"aws:multifactorauthpresent": "true",
                                          "aws:multifactorauthage": "120"}, \
    {"aws:multifactorauthpresent": "false"}


def denied(condition, context, action="ec2:RunInstances", key="Action", pattern="ec2:*"):
    doc = {"Statement": [{"Effect": "Deny", key: pattern, "Resource": "*",
                          "Condition": condition}]}
    return bool(policies.matching_denies([("p", doc)], action, context))


@pytest.mark.parametrize("condition,expected", [
    ({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, (False, False, True)),
    ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, (True, False, True)),
    ({"Null": {"aws:MultiFactorAuthPresent": "true"}}, (True, False, False)),
    ({"NumericGreaterThan": {"aws:MultiFactorAuthAge": "60"}}, (False, True, False)),
    ({"NumericGreaterThanIfExists": {"aws:MultiFactorAuthAge": "3600"}}, (True, False, True)),
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, (False, True, False)),
    ({"StringLikeSomethingUnknown": {"aws:MultiFactorAuthPresent": "false"}}, (False, False, False)),
])
def test_condition_operators(condition, expected):
    assert tuple(denied(condition, c) for c in (NO_MFA, MFA_SESSION, PLAIN_SESSION)) == expected


def test_action_patterns_are_case_insensitive_wildcards():
    assert denied(None, {}, action="ec2:RunInstances", pattern="EC2:run*")
    assert denied(None, {}, action="iam:ListUsers", pattern="iam:List?sers")
    assert not denied(None, {}, action="iam:ListUsers", pattern="ec2:*")
    assert not denied(None, {}, action="sts:GetSessionToken", key="NotAction",
                      pattern=["sts:GetSessionToken"])
