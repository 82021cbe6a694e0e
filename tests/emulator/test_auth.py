"""Every request is authenticated like AWS does: SigV4 recomputed, AWS's error codes and XML."""
import shutil
import subprocess

import pytest

from conftest import ADMIN, raw_call, start_emulator, stop_emulator
import fixture

STS = {"Action": "GetCallerIdentity", "Version": "2011-06-15"}
EC2 = {"Action": "DescribeInstances", "Version": "2016-11-15"}


def test_the_administrator_may_do_anything(admin):
    iam = admin("iam")
    iam.create_user(UserName="admin-made-user")
    assert iam.get_user(UserName="admin-made-user")["User"]["UserName"] == "admin-made-user"
    assert admin("sts").get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:root"


def test_admin_keys_can_be_overridden_by_environment():
    proc, url = start_emulator({"AWSMFA_EMULATOR_ADMIN_KEY_ID": "AKIA-TEST-OTHER-ADMIN",
                                "AWSMFA_EMULATOR_ADMIN_SECRET": "other-secret"})
    try:
        assert raw_call(url, "sts", STS, "AKIA-TEST-OTHER-ADMIN", "other-secret").status == 200
        assert raw_call(url, "sts", STS, *ADMIN).code == "InvalidClientTokenId"
    finally:
        assert stop_emulator(proc) == 0


def test_an_unknown_key_is_an_invalid_client_token(endpoint):
    answer = raw_call(endpoint, "sts", STS, "AKIA-TEST-NOBODY", "whatever")
    assert answer.status == 403
    assert answer.body.startswith('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    assert "<Type>Sender</Type>" in answer.body and "<RequestId>" in answer.body
    assert answer.code == "InvalidClientTokenId"
    assert "The security token included in the request is invalid." in answer.body


def test_ec2_words_an_unknown_key_as_auth_failure(endpoint):
    answer = raw_call(endpoint, "ec2", EC2, "AKIA-TEST-NOBODY", "whatever")
    assert answer.status == 401
    assert "<Response><Errors><Error><Code>AuthFailure</Code>" in answer.body
    assert "AWS was not able to validate the provided access credentials" in answer.body
    assert "<RequestID>" in answer.body


def test_a_wrong_secret_does_not_match_the_signature(endpoint, user):
    answer = raw_call(endpoint, "sts", STS, user["access_key_id"], "not-the-secret")
    assert (answer.status, answer.code) == (403, "SignatureDoesNotMatch")
    assert ("The request signature we calculated does not match the signature you provided. Check "
            "your AWS Secret Access Key and signing method. Consult the service documentation "
            "for details.") in answer.body


def test_a_body_changed_after_signing_is_refused(endpoint):
    answer = raw_call(endpoint, "sts", STS, *ADMIN,
                      tamper=lambda body: body.replace("GetCallerIdentity", "GetSessionToken"))
    assert answer.code == "SignatureDoesNotMatch"


def test_a_request_without_authorization_is_refused(endpoint):
    answer = raw_call(endpoint, "sts", STS, sign=False)
    assert (answer.status, answer.code) == (403, "MissingAuthenticationToken")
    answer = raw_call(endpoint, "ec2", EC2, sign=False)
    assert (answer.status, answer.code) == (401, "AuthFailure")


def test_a_long_term_key_with_a_security_token_is_refused(endpoint, user):
    answer = raw_call(endpoint, "sts", STS, user["access_key_id"], user["secret_access_key"],
                      token="FwoGZXIvYXdzEbogus")
    assert answer.code == "InvalidClientTokenId"


def test_the_users_long_term_key_is_recognised(endpoint, user):
    sts = fixture.client("sts", endpoint, user["access_key_id"], user["secret_access_key"])
    identity = sts.get_caller_identity()
    assert identity["Arn"] == user["user_arn"] and identity["Account"] == "123456789012"


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_curl_aws_sigv4_signs_acceptably(endpoint, method):
    def curl(secret):
        args = ["curl", "-s", "-m", "20", "--aws-sigv4", "aws:amz:us-east-1:sts",
                "--user", f"{ADMIN[0]}:{secret}"]
        query = "Action=GetCallerIdentity&Version=2011-06-15"
        args += ["-d", query, endpoint + "/"] if method == "POST" else [f"{endpoint}/?{query}"]
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout

    assert "<Arn>arn:aws:iam::123456789012:root</Arn>" in curl(ADMIN[1])
    assert "<Code>SignatureDoesNotMatch</Code>" in curl("wrong-secret")
