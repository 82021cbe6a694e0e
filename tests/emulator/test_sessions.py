"""Session credentials work until they expire; a wrong or missing session token is refused."""

from conftest import client_for, hook, mfa_session, raw_call, refusal

EXPIRED = "The security token included in the request is expired"


def test_a_session_works_until_it_expires(endpoint, user):
    creds = mfa_session(endpoint, user)
    sts, ec2 = client_for(endpoint, "sts", creds), client_for(endpoint, "ec2", creds)
    assert sts.get_caller_identity()["Arn"] == user["user_arn"]
    ec2.describe_instances()
    status, answer = hook(endpoint, f"/_awsmfa/expire?access_key_id={creds['AccessKeyId']}", "POST")
    assert status == 200
    assert refusal(sts.get_caller_identity) == (403, "ExpiredToken", EXPIRED)
    assert refusal(ec2.describe_instances) == (403, "ExpiredToken", EXPIRED)


def test_expiring_an_unknown_session_is_a_404(endpoint):
    assert hook(endpoint, "/_awsmfa/expire?access_key_id=ASIANOPE", "POST")[0] == 404


def test_a_wrong_session_token_is_refused(endpoint, user):
    creds = dict(mfa_session(endpoint, user), SessionToken="FwoGZXIvYXdzEforged")
    assert refusal(client_for(endpoint, "sts", creds).get_caller_identity)[1] == \
        "InvalidClientTokenId"
    assert refusal(client_for(endpoint, "ec2", creds).describe_instances)[:2] == \
        (401, "AuthFailure")


def test_a_missing_session_token_is_refused(endpoint, user):
    creds = mfa_session(endpoint, user)
    answer = raw_call(endpoint, "sts", {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
                      creds["AccessKeyId"], creds["SecretAccessKey"])
    assert (answer.status, answer.code) == (403, "InvalidClientTokenId")


def test_a_session_secret_must_sign_correctly(endpoint, user):
    creds = dict(mfa_session(endpoint, user), SecretAccessKey="x" * 40)
    assert refusal(client_for(endpoint, "sts", creds).get_caller_identity)[1] == \
        "SignatureDoesNotMatch"
