"""Shared pytest fixtures: one emulator for the session, admin/user clients, raw signed calls.

The emulator is AWSMFA_TEST_ENDPOINT if set, else `scripts/emulator --port 0` started here
(and stopped at the end). Each test makes its own IAM user (unique name), so codes and
sessions never leak between tests.
"""
import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.exceptions import ClientError
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ADMIN = (fixture.ADMIN_KEY_ID, fixture.ADMIN_SECRET)


def start_emulator(env=None, timeout=60):
    """Start scripts/emulator --port 0; return (process, endpoint)."""
    proc = subprocess.Popen([str(ROOT / "scripts" / "emulator"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, **(env or {})})
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("ready http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return proc, line.split()[1]


def stop_emulator(proc):
    proc.terminate()
    return proc.wait(timeout=10)


@pytest.fixture(scope="session")
def endpoint():
    if os.environ.get("AWSMFA_TEST_ENDPOINT"):
        yield os.environ["AWSMFA_TEST_ENDPOINT"]
        return
    proc, url = start_emulator()
    yield url
    stop_emulator(proc)


@pytest.fixture
def make_user(endpoint):
    def make(**kwargs):
        return fixture.create_user(endpoint, **kwargs)
    return make


@pytest.fixture
def user(make_user):
    """A fresh IAM user with an enabled virtual MFA device and the deny-unless-MFA policy."""
    return make_user()


@pytest.fixture(scope="session")
def image_id(endpoint):
    """An AMI that exists in the emulator (moto's describe_images is slow: asked once)."""
    return fixture.client("ec2", endpoint).describe_images()["Images"][0]["ImageId"]


@pytest.fixture
def admin(endpoint):
    return lambda service: fixture.client(service, endpoint)


def client_for(endpoint, service, creds):
    """A boto3 client from a fixture dict (long-term keys) or a Credentials dict of STS."""
    if "AccessKeyId" in creds:
        return fixture.client(service, endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                              creds.get("SessionToken"))
    return fixture.client(service, endpoint, creds["access_key_id"], creds["secret_access_key"])


def mfa_session(endpoint, user, step_offset=0, **kwargs):
    """GetSessionToken with the user's current code; returns the Credentials dict."""
    sts = client_for(endpoint, "sts", user)
    return sts.get_session_token(SerialNumber=user["serial"],
                                 TokenCode=fixture.totp(user["seed"], step_offset=step_offset),
                                 **kwargs)["Credentials"]


def refusal(call):
    """Runs a boto3 call that must fail; returns (HTTP status, error code, message)."""
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


class Raw:
    """A raw HTTP answer: status, body text, and the error code if any."""
    def __init__(self, status, body):
        self.status, self.body = status, body

    @property
    def code(self):
        start = self.body.find("<Code>")
        return self.body[start + 6:self.body.find("</Code>")] if start >= 0 else None


def raw_call(endpoint, service, params, key_id=None, secret=None, token=None, sign=True,
             tamper=None):
    """POST a form-encoded query-API call, SigV4-signed by botocore (or unsigned)."""
    from urllib.parse import urlencode
    body = urlencode(params)
    request = AWSRequest(method="POST", url=endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    if sign:
        SigV4Auth(Credentials(key_id, secret, token), service, "us-east-1").add_auth(request)
    if tamper:
        request.data = tamper(body)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=prepared.body.encode()
                                 if isinstance(prepared.body, str) else prepared.body,
                                 headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Raw(resp.status, resp.read().decode())
    except urllib.error.HTTPError as err:
        return Raw(err.code, err.read().decode())


def hook(endpoint, path, method="GET"):
    req = urllib.request.Request(endpoint + path, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_until(what, ready, timeout=60):
    """Polls `ready()` until it is true; fails naming `what` after `timeout` seconds (long:
    the machine may be loaded; a wait for a sign, never for a guessed time)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.01)  # the pace of the polls, not a wait for time to pass


def held(endpoint, label):
    """How many calls held as `label` ("user:Action") the emulator handled to the end."""
    return hook(endpoint, "/_awsmfa/stats")[1]["held"].get(label, 0)
