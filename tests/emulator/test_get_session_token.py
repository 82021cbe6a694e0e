"""STS GetSessionToken behaves like AWS: MFA serial and code checked, AWS's exact messages."""
import re
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import client_for, hook, mfa_session, raw_call, refusal
import fixture

BAD_SERIAL = ("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your "
              "MFA serial number is valid and associated with this user.")
BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
NEED_BOTH = ("MultiFactorAuthentication failed, must provide both MFA serial number and one time "
             "pass code.")


def wrong_code(seed):
    valid = {fixture.totp(seed, step_offset=k) for k in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_a_valid_code_gives_fresh_session_credentials(endpoint, user):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    creds = mfa_session(endpoint, user, DurationSeconds=900)
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    expiry = creds["Expiration"]
    assert 900 <= (expiry - before).total_seconds() <= 905 and expiry.microsecond == 0


def test_the_raw_answer_is_shaped_like_aws(endpoint, user):
    answer = raw_call(endpoint, "sts", {
        "Action": "GetSessionToken", "Version": "2011-06-15", "SerialNumber": user["serial"],
        "TokenCode": fixture.totp(user["seed"])}, user["access_key_id"], user["secret_access_key"])
    assert answer.status == 200
    assert answer.body.startswith(
        '<GetSessionTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    assert re.search(r"<GetSessionTokenResult>\s*<Credentials>\s*<SessionToken>.+</SessionToken>\s*"
                     r"<SecretAccessKey>.{40}</SecretAccessKey>\s*"
                     r"<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</Expiration>\s*"
                     r"<AccessKeyId>ASIA[A-Z0-9]{16}</AccessKeyId>", answer.body)
    assert re.search(r"<ResponseMetadata>\s*<RequestId>[-0-9a-f]+</RequestId>", answer.body)


def test_default_duration_is_twelve_hours(endpoint, user):
    creds = mfa_session(endpoint, user)
    remaining = (creds["Expiration"] - datetime.now(timezone.utc)).total_seconds()
    assert 43190 <= remaining <= 43201


def test_each_call_gets_unique_credentials(endpoint, user):
    first = mfa_session(endpoint, user, step_offset=0)
    second = mfa_session(endpoint, user, step_offset=1)
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["SessionToken"] != second["SessionToken"]


def test_a_wrong_code_is_refused(endpoint, user):
    sts = client_for(endpoint, "sts", user)
    wrong = wrong_code(user["seed"])
    assert refusal(lambda: sts.get_session_token(SerialNumber=user["serial"], TokenCode=wrong)) \
        == (403, "AccessDenied", BAD_CODE)


def test_a_code_from_two_steps_ago_is_refused(endpoint, user):
    sts = client_for(endpoint, "sts", user)
    old = fixture.totp(user["seed"], step_offset=-3)
    if old in {fixture.totp(user["seed"], step_offset=k) for k in (-1, 0, 1)}:
        pytest.skip("code collision")
    assert refusal(lambda: sts.get_session_token(SerialNumber=user["serial"], TokenCode=old))[2] \
        == BAD_CODE


def test_a_reused_code_is_refused(endpoint, user):
    sts = client_for(endpoint, "sts", user)
    code = fixture.totp(user["seed"])
    sts.get_session_token(SerialNumber=user["serial"], TokenCode=code)
    assert refusal(lambda: sts.get_session_token(SerialNumber=user["serial"], TokenCode=code)) \
        == (403, "AccessDenied", BAD_CODE)


def test_the_codes_that_enabled_the_device_still_work_once(endpoint, user):
    # The fixture enabled the device with the codes of steps now-1 and now; they are not "used".
    assert mfa_session(endpoint, user, step_offset=0)["AccessKeyId"].startswith("ASIA")


def test_a_serial_of_another_user_is_refused(endpoint, user, make_user):
    other = make_user()
    sts = client_for(endpoint, "sts", user)
    assert refusal(lambda: sts.get_session_token(
        SerialNumber=other["serial"], TokenCode=fixture.totp(other["seed"]))) \
        == (403, "AccessDenied", BAD_SERIAL)


def test_an_unknown_serial_is_refused(endpoint, user):
    sts = client_for(endpoint, "sts", user)
    assert refusal(lambda: sts.get_session_token(
        SerialNumber="arn:aws:iam::123456789012:mfa/nobody", TokenCode="123456"))[2] == BAD_SERIAL


def test_serial_and_code_go_together(endpoint, user):
    sts = client_for(endpoint, "sts", user)
    assert refusal(lambda: sts.get_session_token(SerialNumber=user["serial"])) \
        == (403, "AccessDenied", NEED_BOTH)
    assert refusal(lambda: sts.get_session_token(TokenCode=fixture.totp(user["seed"]))) \
        == (403, "AccessDenied", NEED_BOTH)


@pytest.mark.parametrize("duration,constraint", [
    (800, "Member must have value greater than or equal to 900"),
    (129601, "Member must have value less than or equal to 129600"),
])
def test_duration_outside_limits_is_a_validation_error(endpoint, user, duration, constraint):
    answer = raw_call(endpoint, "sts", {
        "Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": str(duration),
        "SerialNumber": user["serial"], "TokenCode": fixture.totp(user["seed"])},
        user["access_key_id"], user["secret_access_key"])
    assert (answer.status, answer.code) == (400, "ValidationError")
    assert (f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
            f"satisfy constraint: {constraint}") in answer.body


def test_without_mfa_it_succeeds_but_is_not_mfa(endpoint, user):
    creds = client_for(endpoint, "sts", user).get_session_token()["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    ec2 = client_for(endpoint, "ec2", creds)
    assert refusal(lambda: ec2.describe_instances())[1] == "UnauthorizedOperation"


def test_session_credentials_cannot_call_it(endpoint, user):
    sts = client_for(endpoint, "sts", mfa_session(endpoint, user))
    assert refusal(lambda: sts.get_session_token()) == (
        403, "AccessDenied", "Cannot call GetSessionToken with session credentials")


def test_the_administrator_may_get_a_session(admin):
    creds = admin("sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")


def test_caller_identity_of_a_session_is_the_user(endpoint, user):
    identity = client_for(endpoint, "sts", mfa_session(endpoint, user)).get_caller_identity()
    assert identity["Arn"] == user["user_arn"] and identity["Account"] == "123456789012"


def test_enabling_a_device_needs_two_consecutive_codes(endpoint, admin):
    iam = admin("iam")
    iam.create_user(UserName="bob-enable")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob-enable")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode() if isinstance(device["Base32StringSeed"], bytes) \
        else device["Base32StringSeed"]
    now = int(time.time())
    code = lambda k: fixture.totp(seed, now, k)  # noqa: E731
    status, name, message = refusal(lambda: iam.enable_mfa_device(
        UserName="bob-enable", SerialNumber=device["SerialNumber"],
        AuthenticationCode1=code(0), AuthenticationCode2=code(0)))
    assert (status, name, message) == (403, "InvalidAuthenticationCode",
                                       "Authentication code for device is not valid.")
    iam.enable_mfa_device(UserName="bob-enable", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=code(-1), AuthenticationCode2=code(0))
    devices = iam.list_mfa_devices(UserName="bob-enable")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [device["SerialNumber"]]


def test_stats_count_calls_per_long_term_key(endpoint, user):
    sts = client_for(endpoint, "sts", user)
    mfa_session(endpoint, user)
    with pytest.raises(ClientError):
        sts.get_session_token(SerialNumber=user["serial"], TokenCode=wrong_code(user["seed"]))
    status, stats = hook(endpoint, "/_awsmfa/stats")
    assert status == 200
    assert stats["get_session_token"][user["access_key_id"]] == 1
    assert stats["get_session_token_attempts"][user["access_key_id"]] == 2
