"""AWS Sign-In in the emulator (signin.py): the sign-in page in a real headless Chromium, the
token endpoint's PKCE and DPoP checks, refreshes, AWS's refusals, and what
aws:MultiFactorAuthPresent is for a console session."""
import base64
import hashlib
import json
import os
import secrets
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import fixture
from conftest import client_for, hook, refusal

SAME = "arn:aws:signin:::devtools/same-device"
CROSS = "arn:aws:signin:::devtools/cross-device"
PASSWORD = "correct-horse-9"


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class Key:
    """A DPoP key and its proofs, made as RFC 9449 says (independently of awsmfa's)."""
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())

    def proof(self, url, iat=None, jti=None, htm="POST", key=None):
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
               "y": b64url(numbers.y.to_bytes(32, "big"))}
        header = b64url(json.dumps({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).encode())
        claims = b64url(json.dumps({"htm": htm, "htu": url, "iat": int(iat or time.time()),
                                    "jti": jti or str(uuid.uuid4())}).encode())
        der = (key or self.key).sign(f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{header}.{claims}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


class Pkce:
    def __init__(self):
        self.verifier = secrets.token_urlsafe(48)
        self.challenge = b64url(hashlib.sha256(self.verifier.encode()).digest())
        self.state = str(uuid.uuid4())


def authorize_url(endpoint, pkce, redirect_uri, client=SAME):
    return endpoint + "/v1/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": client, "state": pkce.state,
        "code_challenge_method": "SHA-256", "scope": "openid", "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge})


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_form(url, fields):
    """The sign-in form posted as a browser posts it; (status, Location or body)."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode()),
                         timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location") or e.read().decode()


def sign_in_by_form(endpoint, user, pkce, redirect_uri, client=SAME, code=None, password=PASSWORD):
    """The authorization code of a sign-in at the form (no browser): (status, code or page)."""
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
        authorize_url(endpoint, pkce, redirect_uri, client)).query))
    params.update(username=user["user_name"], password=password, account=user["account_id"],
                  action="signin")
    if user["seed"]:
        # Each sign-in spends its code: the next one takes the next window's (AWS accepts
        # a code of the window before or after).
        offsets = user.setdefault("_offsets", iter([0, 1, -1]))
        params["mfa_code"] = code or fixture.totp(user["seed"], step_offset=next(offsets))
    status, answer = post_form(endpoint + "/v1/authorize", params)
    if status != 302:
        return status, answer
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer).query))
    assert query["state"] == pkce.state
    return status, query["code"]


def token(endpoint, body, key, proof=None):
    """signin:CreateOAuth2Token as the SDKs send it; (status, JSON, error type header)."""
    url = endpoint + "/v1/token"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "DPoP": proof if proof is not None else key.proof(url)})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers.get("x-amzn-ErrorType")


def exchange(endpoint, pkce, code, key, redirect_uri="http://127.0.0.1:9/oauth/callback", client=SAME):
    return token(endpoint, {"clientId": client, "grantType": "authorization_code", "code": code,
                            "codeVerifier": pkce.verifier, "redirectUri": redirect_uri}, key)


@pytest.fixture
def signin_user(make_user):
    return make_user(password=PASSWORD)


REDIRECT = "http://127.0.0.1:9/oauth/callback"


def signed_in(endpoint, user, key=None):
    key = key or Key()
    pkce = Pkce()
    status, code = sign_in_by_form(endpoint, user, pkce, REDIRECT)
    assert status == 302, code
    status, out, _ = exchange(endpoint, pkce, code, key)
    assert status == 200, out
    return key, out


def test_a_sign_in_gives_the_users_session_credentials_with_mfa(endpoint, signin_user):
    _, out = signed_in(endpoint, signin_user)
    assert out["tokenType"] == "aws_sigv4" and out["expiresIn"] == 900
    claims = json.loads(base64.urlsafe_b64decode(out["idToken"].split(".")[1] + "=="))
    assert claims["sub"] == signin_user["user_arn"]
    assert abs(claims["iat"] - time.time()) < 60
    creds = {"AccessKeyId": out["accessToken"]["accessKeyId"],
             "SecretAccessKey": out["accessToken"]["secretAccessKey"],
             "SessionToken": out["accessToken"]["sessionToken"]}
    sts = client_for(endpoint, "sts", creds)
    assert sts.get_caller_identity()["Arn"] == signin_user["user_arn"]
    # deny-unless-mfa: IAM's ListAccessKeys is allowed only with MFA, so this session has it.
    client_for(endpoint, "iam", creds).list_access_keys()


@pytest.mark.parametrize("mfa", [True, False])
def test_mfa_present_is_whether_the_sign_in_took_a_code(endpoint, make_user, image_id, mfa):
    user = make_user(password=PASSWORD, mfa=mfa, policy="deny-ec2-unless-mfa")
    _, out = signed_in(endpoint, user)
    creds = {"AccessKeyId": out["accessToken"]["accessKeyId"],
             "SecretAccessKey": out["accessToken"]["secretAccessKey"],
             "SessionToken": out["accessToken"]["sessionToken"]}
    ec2 = client_for(endpoint, "ec2", creds)
    status, code, _ = refusal(lambda: ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                                                        InstanceType="t2.micro", DryRun=True))
    assert code == ("DryRunOperation" if mfa else "UnauthorizedOperation")


def test_the_mfa_policy_of_the_how_to_denies_sign_in_sessions_without_mfa(endpoint, make_user):
    """AWS's BlockMostAccessUnlessSignedInWithMFA does not except signin:*: a user under it
    who signs in without MFA gets no session at all."""
    user = make_user(password=PASSWORD, mfa=False)
    pkce = Pkce()
    _, code = sign_in_by_form(endpoint, user, pkce, REDIRECT)
    status, out, _ = exchange(endpoint, pkce, code, Key())
    assert (status, out["error"]) == (400, "INSUFFICIENT_PERMISSIONS")


def test_the_form_refuses_a_wrong_password_a_missing_or_reused_code(endpoint, signin_user):
    status, page = sign_in_by_form(endpoint, signin_user, Pkce(), REDIRECT, password="wrong")
    assert status == 401 and "authentication information is incorrect" in page
    code = fixture.totp(signin_user["seed"])
    assert sign_in_by_form(endpoint, signin_user, Pkce(), REDIRECT, code=code)[0] == 302
    status, page = sign_in_by_form(endpoint, signin_user, Pkce(), REDIRECT, code=code)
    assert status == 401 and "MFA code is not valid" in page
    status, page = sign_in_by_form(endpoint, signin_user, Pkce(), "http://evil.example/cb")
    assert status == 400 and "redirect_uri" in page


def test_the_code_is_bound_to_its_verifier_and_works_once(endpoint, signin_user):
    pkce = Pkce()
    _, code = sign_in_by_form(endpoint, signin_user, pkce, REDIRECT)
    other = Pkce()
    status, out, kind = token(endpoint, {"clientId": SAME, "grantType": "authorization_code",
                                         "code": code, "codeVerifier": other.verifier,
                                         "redirectUri": REDIRECT}, Key())
    assert (status, kind, out["error"]) == (400, "ValidationException", "INVALID_REQUEST")
    assert exchange(endpoint, pkce, code, Key())[0] == 200
    status, out, kind = exchange(endpoint, pkce, code, Key())
    assert (status, kind, out["error"]) == (400, "AccessDeniedException", "AUTHCODE_EXPIRED")


def test_an_expired_code_is_refused(endpoint, signin_user):
    hook(endpoint, f"/_awsmfa/signin-lifetimes?user={signin_user['user_name']}&code=0", "POST")
    pkce = Pkce()
    _, code = sign_in_by_form(endpoint, signin_user, pkce, REDIRECT)
    status, out, _ = exchange(endpoint, pkce, code, Key())
    assert (status, out["error"]) == (400, "AUTHCODE_EXPIRED")


@pytest.mark.parametrize("forge", ["none", "other-key", "htm", "htu", "old-iat", "not-jwt"])
def test_a_token_request_needs_a_true_dpop_proof(endpoint, signin_user, forge):
    pkce, key = Pkce(), Key()
    _, code = sign_in_by_form(endpoint, signin_user, pkce, REDIRECT)
    url = endpoint + "/v1/token"
    proof = {"none": "", "other-key": key.proof(url, key=Key().key), "htm": key.proof(url, htm="GET"),
             "htu": key.proof(url + "x"), "old-iat": key.proof(url, iat=time.time() - 3600),
             "not-jwt": "abc.def"}[forge]
    status, out, kind = token(endpoint, {"clientId": SAME, "grantType": "authorization_code",
                                         "code": code, "codeVerifier": pkce.verifier,
                                         "redirectUri": REDIRECT}, key, proof=proof)
    assert (status, kind) == (400, "ValidationException"), out
    assert exchange(endpoint, pkce, code, key)[0] == 200, "a refused proof does not spend the code"


def test_a_proof_is_good_once(endpoint, signin_user):
    key, out = signed_in(endpoint, signin_user)
    url = endpoint + "/v1/token"
    proof = key.proof(url)
    body = {"clientId": SAME, "grantType": "refresh_token", "refreshToken": out["refreshToken"]}
    assert token(endpoint, body, key, proof=proof)[0] == 200
    status, out, _ = token(endpoint, body, key, proof=proof)
    assert status == 400 and "jti" in out["message"]


def test_refreshes_rotate_the_token_keep_the_key_and_end_after_the_session(endpoint, signin_user):
    key, first = signed_in(endpoint, signin_user)
    body = {"clientId": SAME, "grantType": "refresh_token", "refreshToken": first["refreshToken"]}
    status, second, _ = token(endpoint, body, key)
    assert status == 200 and second["refreshToken"] != first["refreshToken"]
    assert "idToken" not in second
    assert second["accessToken"]["accessKeyId"] != first["accessToken"]["accessKeyId"]
    status, out, _ = token(endpoint, body, key)
    assert (status, out["error"]) == (400, "TOKEN_EXPIRED"), "a refresh token works once"
    status, out, kind = token(endpoint, {**body, "refreshToken": second["refreshToken"]}, Key())
    assert (status, kind) == (400, "ValidationException"), "only the session's key refreshes it"
    stats = hook(endpoint, "/_awsmfa/stats")[1]["signin_token"][signin_user["user_arn"]]
    assert stats == {"authorization_code": 1, "refresh_token": 1}
    hook(endpoint, f"/_awsmfa/signin-lifetimes?user={signin_user['user_name']}&refresh=0", "POST")
    key, third = signed_in(endpoint, signin_user)
    status, out, _ = token(endpoint, {**body, "refreshToken": third["refreshToken"]}, key)
    assert (status, out["error"]) == (400, "TOKEN_EXPIRED")


def test_a_password_change_ends_the_session(endpoint, signin_user):
    key, out = signed_in(endpoint, signin_user)
    fixture.main(["password", "--endpoint", endpoint, signin_user["user_name"], "new-horse-10"])
    status, out, _ = token(endpoint, {"clientId": SAME, "grantType": "refresh_token",
                                      "refreshToken": out["refreshToken"]}, key)
    assert (status, out["error"]) == (400, "USER_CREDENTIALS_CHANGED")


def test_a_policy_denying_sign_in_sessions_is_insufficient_permissions(endpoint, signin_user, admin):
    admin("iam").put_user_policy(UserName=signin_user["user_name"], PolicyName="no-login",
                                 PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                     {"Effect": "Deny", "Action": "signin:*", "Resource": "*"}]}))
    pkce = Pkce()
    _, code = sign_in_by_form(endpoint, signin_user, pkce, REDIRECT)
    status, out, kind = exchange(endpoint, pkce, code, Key())
    assert (status, kind, out["error"]) == (400, "AccessDeniedException", "INSUFFICIENT_PERMISSIONS")


def test_the_cross_device_page_shows_the_code_to_paste(endpoint, signin_user):
    pkce = Pkce()
    confirmation = endpoint + "/v1/sessions/confirmation"
    status, code = sign_in_by_form(endpoint, signin_user, pkce, confirmation, client=CROSS)
    assert status == 302
    page = urllib.request.urlopen(f"{confirmation}?code={code}&state={pkce.state}", timeout=10).read().decode()
    shown = page.split('id="verification-code">')[1].split("<")[0]
    assert base64.b64decode(shown).decode() == f"state={pkce.state}&code={code}"
    assert exchange(endpoint, pkce, code, Key(), confirmation, CROSS)[0] == 200


# ------------------------------------------------------------ in a real browser

class Callback(BaseHTTPRequestHandler):
    """The loopback callback a CLI listens on: records what the browser brings."""
    got = []

    def do_GET(self):
        Callback.got.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<p id='done'>Signed in. You can close this window.</p>")

    def log_message(self, *args):
        pass


def wait_for(browser, element_id, seconds=30):
    """The element of the page a click leads to, once it is there (a loaded machine may
    still show the page before)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(browser, seconds).until(
        expected_conditions.presence_of_element_located((By.ID, element_id)))


def callback_path():
    """What the browser brought to the callback (it asks for a favicon too)."""
    paths = [p for p in Callback.got if p.startswith("/oauth/callback")]
    assert len(paths) == 1, Callback.got
    return paths[0]


@pytest.fixture
def chromium():
    """Debian's chromium, headless, through its chromedriver (scripts/ensure-tools installs both)."""
    chrome, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chrome or not driver:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are needed (scripts/ensure-tools installs them)")
        pytest.skip("chromium and chromedriver are not installed (scripts/ensure-tools)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--proxy-server=direct://", "--proxy-bypass-list=*"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


def test_a_person_signs_in_at_the_page_in_chromium(endpoint, signin_user, chromium):
    from selenium.webdriver.common.by import By
    server = HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    redirect = f"http://127.0.0.1:{server.server_port}/oauth/callback"
    pkce = Pkce()
    Callback.got = []
    try:
        chromium.get(authorize_url(endpoint, pkce, redirect))
        assert chromium.title.startswith("Sign in")
        chromium.find_element(By.ID, "username").send_keys(signin_user["user_name"])
        chromium.find_element(By.ID, "password").send_keys("wrong")
        chromium.find_element(By.ID, "signin").click()
        assert "incorrect" in wait_for(chromium, "error").text
        assert chromium.find_element(By.ID, "username").get_attribute("value") == signin_user["user_name"]
        chromium.find_element(By.ID, "password").send_keys(PASSWORD)
        chromium.find_element(By.ID, "mfa_code").send_keys(fixture.totp(signin_user["seed"]))
        chromium.find_element(By.ID, "signin").click()
        assert "Signed in" in wait_for(chromium, "done").text
    finally:
        server.shutdown()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback_path()).query))
    assert query["state"] == pkce.state
    assert exchange(endpoint, pkce, query["code"], Key(), redirect)[0] == 200


def test_cancel_in_chromium_sends_access_denied(endpoint, signin_user, chromium):
    from selenium.webdriver.common.by import By
    server = HTTPServer(("127.0.0.1", 0), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pkce = Pkce()
    Callback.got = []
    try:
        chromium.get(authorize_url(endpoint, pkce, f"http://127.0.0.1:{server.server_port}/oauth/callback"))
        chromium.find_element(By.ID, "cancel").click()
        wait_for(chromium, "done")
    finally:
        server.shutdown()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback_path()).query))
    assert query == {"error": "access_denied", "state": pkce.state}
