"""Access keys as `awsmfa keys rotate` meets them: MFA required by the enforce policy,
AWS's two-key limit, deletion, and the test hooks that model IAM's delays (/_awsmfa/key-delay)
and hold a call so a client can be killed at a known step (/_awsmfa/hold)."""
import threading
import time

from conftest import client_for, held, hook, mfa_session, refusal, wait_until


def test_creating_or_deleting_a_key_needs_mfa_under_the_enforce_policy(endpoint, user):
    iam = client_for(endpoint, "iam", user)
    status, code, message = refusal(lambda: iam.create_access_key())
    assert (status, code) == (403, "AccessDenied")
    assert "iam:CreateAccessKey" in message and "explicit deny" in message
    status, code, _ = refusal(lambda: iam.delete_access_key(AccessKeyId=user["access_key_id"]))
    assert (status, code) == (403, "AccessDenied")
    assert refusal(lambda: iam.list_access_keys())[1] == "AccessDenied"


def test_with_mfa_a_second_key_is_made_a_third_refused_and_a_key_deleted(endpoint, user):
    iam = client_for(endpoint, "iam", mfa_session(endpoint, user))
    new = iam.create_access_key()["AccessKey"]
    assert new["UserName"] == user["user_name"] and new["AccessKeyId"].startswith("AKIA")
    status, code, message = refusal(lambda: iam.create_access_key())
    assert (status, code, message) == (409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
    iam.delete_access_key(AccessKeyId=user["access_key_id"])
    listed = [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]]
    assert listed == [new["AccessKeyId"]]
    sts = client_for(endpoint, "sts", {"access_key_id": new["AccessKeyId"],
                                       "secret_access_key": new["SecretAccessKey"]})
    assert sts.get_caller_identity()["Arn"] == user["user_arn"]
    old = client_for(endpoint, "sts", user)
    assert refusal(lambda: old.get_caller_identity())[1] == "InvalidClientTokenId"


def test_key_delay_makes_new_keys_unknown_for_a_while(endpoint, user):
    assert hook(endpoint, f"/_awsmfa/key-delay?user={user['user_name']}&seconds=2", "POST")[0] == 200
    new = client_for(endpoint, "iam", mfa_session(endpoint, user)).create_access_key()["AccessKey"]
    sts = client_for(endpoint, "sts", {"access_key_id": new["AccessKeyId"],
                                       "secret_access_key": new["SecretAccessKey"]})
    assert refusal(lambda: sts.get_caller_identity())[1] == "InvalidClientTokenId"
    time.sleep(2.2)  # the point: the delay is time, and once it has passed the key works
    assert sts.get_caller_identity()["Arn"] == user["user_arn"]


def test_hold_keeps_the_nth_call_waiting_and_says_so(endpoint, user):
    iam = client_for(endpoint, "iam", mfa_session(endpoint, user))
    label = f"{user['user_name']}:ListAccessKeys"
    # Held long enough that a loaded machine still sees the hold before it ends by itself.
    path = f"/_awsmfa/hold?user={user['user_name']}&action=ListAccessKeys&when=before&skip=1&seconds=5"
    assert hook(endpoint, path, "POST")[0] == 200
    iam.list_access_keys()  # skipped
    assert label not in hook(endpoint, "/_awsmfa/stats")[1]["holding"]
    assert held(endpoint, label) == 0, "a skipped call is not held"
    done = threading.Event()
    threading.Thread(target=lambda: (iam.list_access_keys(), done.set()), daemon=True).start()
    wait_until("the second call to be held", lambda: label in hook(endpoint, "/_awsmfa/stats")[1]["holding"])
    assert done.wait(30)
    assert label not in hook(endpoint, "/_awsmfa/stats")[1]["holding"]
    assert held(endpoint, label) == 1, "the held call was handled to the end"
    assert hook(endpoint, "/_awsmfa/hold?action=X", "POST")[0] == 400


def test_release_ends_a_long_hold_at_once(endpoint, user):
    iam = client_for(endpoint, "iam", mfa_session(endpoint, user))
    label = f"{user['user_name']}:ListAccessKeys"
    path = f"/_awsmfa/hold?user={user['user_name']}&action=ListAccessKeys&when=before&seconds=600"
    assert hook(endpoint, path, "POST")[0] == 200
    done = threading.Event()
    threading.Thread(target=lambda: (iam.list_access_keys(), done.set()), daemon=True).start()
    wait_until("the call to be held", lambda: label in hook(endpoint, "/_awsmfa/stats")[1]["holding"])
    assert not done.is_set()
    assert held(endpoint, label) == 0, "not counted while it is held"
    assert hook(endpoint, f"/_awsmfa/release?user={user['user_name']}&action=ListAccessKeys", "POST")[0] == 200
    assert done.wait(30), "released long before its 600 s"
    wait_until("the released call to be handled to the end", lambda: held(endpoint, label) == 1)
    assert hook(endpoint, f"/_awsmfa/release?user={user['user_name']}&action=ListAccessKeys", "POST")[0] == 404
