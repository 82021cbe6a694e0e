"""AWS Sign-In in the emulator: console sign-in sessions (`aws login`, `awsmfa login --console`).

The three steps AWS Sign-In takes, as the AWS CLI v2 and awsmfa see them:
- GET /v1/authorize?response_type=code&client_id=...&state=...&code_challenge_method=SHA-256
  &scope=openid&redirect_uri=...&code_challenge=...: a real HTML sign-in page (account, IAM
  user name, password, and the current code of the user's MFA device when it has one). The
  form posts back to /v1/authorize; a right answer is redirected to redirect_uri with
  `code` and `state` (or `error=access_denied` when cancelled). The code is bound to the
  client id, the redirect URI and the PKCE challenge, and lasts 5 minutes, once.
- GET /v1/sessions/confirmation?code=...&state=...: the cross-device client's page, which shows
  base64("state=...&code=...") for the person to paste at the terminal.
- POST /v1/token (restJson1, signin:CreateOAuth2Token, unsigned): grantType
  authorization_code (code, codeVerifier, redirectUri) or refresh_token (refreshToken), each
  with a DPoP proof (RFC 9449: ES256 signature over its own P-256 key, htm POST, htu this
  URL, iat within 5 minutes, jti once). The answer is session credentials of the user that
  SigV4 accepts (15 minutes), a refresh token good for one refresh (a new one each time, up
  to 12 hours after the sign-in, always for the key of the first proof), and, for a code,
  an idToken naming the session (sub = the user's ARN, iat = the sign-in).

aws:MultiFactorAuthPresent of such a session is "true" when the sign-in took the code of
the user's MFA device (and stays so through refreshes, with aws:MultiFactorAuthAge counted
from the sign-in), "false" when the user has no device. That is what AWS documents for
console sessions, and what lets `awsmfa verify` tell the truth about a login session.

Refusals use AWS Sign-In's error shapes: x-amzn-ErrorType AccessDeniedException or
ValidationException and {"error": CODE, "message": ...}, CODE one of AUTHCODE_EXPIRED
(an expired or reused code), TOKEN_EXPIRED (the 12 hours are over, or the refresh token was
used already), USER_CREDENTIALS_CHANGED (the password changed since the sign-in),
INSUFFICIENT_PERMISSIONS (a policy denies signin:CreateOAuth2Token), INVALID_REQUEST.

Test hooks (server.py): POST /_awsmfa/signin-lifetimes?user=NAME&access=S&refresh=S&code=S
sets the user's next credentials' lifetime, how long after its sign-in a session refreshes,
and how long a code lasts; GET /_awsmfa/stats has signin_token[arn][grantType] (successes).
"""
import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
CLIENTS = (SAME_DEVICE, CROSS_DEVICE)
CONFIRMATION_PATH = "/v1/sessions/confirmation"
ACCESS_LIFETIME, SESSION_LIMIT, CODE_LIFETIME = 900, 12 * 3600, 300
PROOF_WINDOW = 300  # seconds a DPoP proof's iat may be off the emulator's clock
AUTHORIZE_PARAMS = ("response_type", "client_id", "state", "code_challenge_method", "scope",
                    "redirect_uri", "code_challenge")


class SigninError(Exception):
    def __init__(self, shape, code, message, status=400):
        super().__init__(message)
        self.shape, self.code, self.message, self.status = shape, code, message, status


def denied(code, message):
    return SigninError("AccessDeniedException", code, message, 400)


def invalid(message):
    return SigninError("ValidationException", "INVALID_REQUEST", message, 400)


@dataclass
class Grant:
    """An authorization code handed to the browser."""
    client_id: str
    redirect_uri: str
    challenge: str
    user_name: str
    mfa: bool
    signed_in_at: float
    expires_at: float
    used: bool = False


@dataclass
class Login:
    """A console sign-in session: what its current refresh token stands for."""
    client_id: str
    user_name: str
    mfa: bool
    signed_in_at: float
    refresh_until: float
    key_thumbprint: str
    password: str | None


@dataclass
class SigninState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    grants: dict = field(default_factory=dict)      # code -> Grant
    logins: dict = field(default_factory=dict)      # refresh token -> Login (unused ones)
    spent_refresh: set = field(default_factory=set)
    proofs_seen: set = field(default_factory=set)   # DPoP jti values
    lifetimes: dict = field(default_factory=dict)   # user -> {"access", "refresh", "code"}
    stats: dict = field(default_factory=dict)       # user ARN -> grantType -> successes


class SignIn:
    """AWS Sign-In. `emulator` gives what it shares with STS: iam_backend(), now_seconds(),
    accept_code(user_name, code) -> bool (a fresh TOTP of the user's device, then spent),
    mint(user_name, mfa, mfa_at, seconds) -> Session, denies(user_name, action, context) -> bool."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.state = SigninState()

    # ------------------------------------------------------------ routing

    def handles(self, path):
        return path in ("/v1/authorize", "/v1/token", CONFIRMATION_PATH)

    def __call__(self, req):
        """(status, [(header, value)], body bytes) for a request to one of its paths."""
        if req.path == "/v1/token":
            if req.method != "POST":
                return self.page(405, "Method not allowed", "<p>POST only.</p>")
            try:
                return self.token(req)
            except SigninError as err:
                body = json.dumps({"error": err.code, "message": err.message}).encode()
                return err.status, [("Content-Type", "application/json"),
                                    ("x-amzn-ErrorType", err.shape)], body
        if req.path == CONFIRMATION_PATH:
            return self.confirmation(req)
        if req.method == "GET":
            return self.authorize_page(req)
        if req.method == "POST":
            return self.authorize_answer(req)
        return self.page(405, "Method not allowed", "<p>GET or POST only.</p>")

    # ------------------------------------------------------------ the browser's side

    @staticmethod
    def page(status, title, body_html):
        text = ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(title)} | AWS Sign-In (local emulator)</title>"
                "<style>body{font-family:sans-serif;max-width:28em;margin:3em auto}"
                "label{display:block;margin:.8em 0}input{display:block;width:100%}"
                ".error{color:#b00}code{font-size:1.2em;word-break:break-all}</style>"
                f"</head><body><main><h1>{html.escape(title)}</h1>\n{body_html}\n</main></body></html>\n")
        return status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], \
            text.encode()

    def authorize_params(self, params):
        """The authorize request's parameters, checked as AWS Sign-In checks them."""
        p = {k: params.get(k, "") for k in AUTHORIZE_PARAMS}
        if p["response_type"] != "code":
            raise invalid("response_type must be code")
        if p["client_id"] not in CLIENTS:
            raise invalid(f"unknown client_id {p['client_id']!r}")
        if p["code_challenge_method"] != "SHA-256":
            raise invalid("code_challenge_method must be SHA-256")
        if len(p["code_challenge"]) != 43:
            raise invalid("code_challenge must be base64url(SHA-256(code_verifier))")
        if not p["state"]:
            raise invalid("state is required")
        redirect = urlsplit(p["redirect_uri"])
        if p["client_id"] == SAME_DEVICE:
            # A public client on the user's own machine: only a loopback address may receive
            # the code, never another host.
            if redirect.scheme != "http" or redirect.hostname not in ("127.0.0.1", "localhost") \
                    or redirect.port is None:
                raise invalid("redirect_uri must be http://127.0.0.1:PORT/... for this client")
        elif redirect.path != CONFIRMATION_PATH:
            raise invalid(f"redirect_uri must be AWS Sign-In's {CONFIRMATION_PATH} for this client")
        return p

    def authorize_page(self, req, error=None, status=200, filled=None):
        try:
            p = self.authorize_params(req.params)
        except SigninError as err:
            return self.page(400, "This sign-in link is not valid",
                             f"<p class=\"error\" id=\"error\">{html.escape(err.message)}</p>")
        filled = filled or {}
        hidden = "".join(f"<input type=\"hidden\" name=\"{k}\" value=\"{html.escape(v)}\">"
                         for k, v in p.items())
        who = ("the AWS CLI or awsmfa on this computer" if p["client_id"] == SAME_DEVICE
               else "the AWS CLI or awsmfa on another device (you will get a code to paste there)")
        message = f"<p class=\"error\" id=\"error\" role=\"alert\">{html.escape(error)}</p>" if error else ""

        def field_html(label, name, kind="text", extra=""):
            value = html.escape(filled.get(name, ""))
            return (f"<label for=\"{name}\">{label}<input id=\"{name}\" name=\"{name}\" type=\"{kind}\" "
                    f"value=\"{value}\" {extra}></label>")

        body = (f"<p>Sign in to give {who} temporary credentials for local development.</p>{message}"
                "<form method=\"post\" action=\"/v1/authorize\">" + hidden
                + field_html("Account ID", "account", extra="autocomplete=\"off\"")
                + field_html("IAM user name", "username", extra="autocomplete=\"username\"")
                + field_html("Password", "password", "password", "autocomplete=\"current-password\"")
                + field_html("MFA code (if your user has an MFA device)", "mfa_code",
                             extra="inputmode=\"numeric\" autocomplete=\"one-time-code\"")
                + "<button type=\"submit\" id=\"signin\" name=\"action\" value=\"signin\">Sign in</button> "
                  "<button type=\"submit\" id=\"cancel\" name=\"action\" value=\"cancel\">Cancel</button>"
                  "</form>")
        return self.page(status, "Sign in", body)

    def authorize_answer(self, req):
        try:
            p = self.authorize_params(req.params)
        except SigninError as err:
            return self.page(400, "This sign-in link is not valid",
                             f"<p class=\"error\" id=\"error\">{html.escape(err.message)}</p>")
        form = req.params
        if form.get("action") == "cancel":
            return self.redirect(p, {"error": "access_denied", "state": p["state"]})
        filled = {"account": form.get("account", ""), "username": form.get("username", "")}
        backend = self.emulator.iam_backend()
        user = backend.users.get(form.get("username", ""))
        account = form.get("account", "").strip()
        password = getattr(user, "password", None) if user is not None else None
        if user is None or password is None or not secrets.compare_digest(
                password.encode(), form.get("password", "").encode()) \
                or (account and account != user.arn.split(":")[4]):
            return self.authorize_page(req, "Your authentication information is incorrect. "
                                            "Please try again.", 401, filled)
        mfa = bool(user.mfa_devices)
        if mfa:
            code = form.get("mfa_code", "").strip()
            if not code:
                return self.authorize_page(req, "Enter the code your MFA device shows.", 401, filled)
            if not self.emulator.accept_code(user.name, code):
                return self.authorize_page(req, "That MFA code is not valid (or was used already). "
                                                "Enter the next code of your device.", 401, filled)
        now = self.emulator.now_seconds()
        code = secrets.token_urlsafe(32)
        with self.state.lock:
            life = self.state.lifetimes.get(user.name, {}).get("code", CODE_LIFETIME)
            self.state.grants[code] = Grant(p["client_id"], p["redirect_uri"], p["code_challenge"],
                                            user.name, mfa, now, now + life)
        return self.redirect(p, {"code": code, "state": p["state"]})

    @staticmethod
    def redirect(p, query):
        sep = "&" if "?" in p["redirect_uri"] else "?"
        return 302, [("Location", p["redirect_uri"] + sep + urlencode(query)),
                     ("Cache-Control", "no-store"), ("Content-Length", "0")], b""

    def confirmation(self, req):
        code, state = req.query.get("code"), req.query.get("state")
        if req.query.get("error"):
            return self.page(200, "Sign-in cancelled",
                             "<p id=\"cancelled\">The sign-in was cancelled. Nothing was shared.</p>")
        if not code or not state:
            return self.page(400, "Nothing to show", "<p class=\"error\">This page needs a sign-in.</p>")
        pasted = base64.b64encode(f"state={state}&code={code}".encode()).decode()
        return self.page(200, "Your authorization code",
                         "<p>Copy this code and paste it where the AWS CLI or awsmfa asks for it:</p>"
                         f"<p><code id=\"verification-code\">{html.escape(pasted)}</code></p>"
                         "<p>It works once, within 5 minutes.</p>")

    # ------------------------------------------------------------ the token endpoint

    def token(self, req):
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            raise invalid("the request body is not JSON")
        if not isinstance(body, dict):
            raise invalid("the request body is not a JSON object")
        client_id, grant_type = body.get("clientId"), body.get("grantType")
        if client_id not in CLIENTS:
            raise invalid(f"unknown clientId {client_id!r}")
        host = req.headers.get("host", "")
        thumbprint = self.check_proof(req.headers.get("dpop"), f"http://{host}{req.raw_path}")
        if grant_type == "authorization_code":
            return self.exchange(body, client_id, thumbprint)
        if grant_type == "refresh_token":
            return self.refresh(body, client_id, thumbprint)
        raise invalid(f"unsupported grantType {grant_type!r}")

    def check_proof(self, proof, url):
        """The DPoP proof's key thumbprint (RFC 7638), once its signature, claims and
        uniqueness are checked."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        if not proof:
            raise invalid("a DPoP proof (the DPoP header) is required")
        parts = proof.split(".")
        if len(parts) != 3:
            raise invalid("the DPoP proof is not a JWT")
        try:
            header, claims = json.loads(b64url(parts[0])), json.loads(b64url(parts[1]))
            signature = b64url(parts[2])
            jwk = header["jwk"]
            if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256" \
                    or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or len(signature) != 64:
                raise ValueError("not an ES256 DPoP proof")
            x, y = int.from_bytes(b64url(jwk["x"]), "big"), int.from_bytes(b64url(jwk["y"]), "big")
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                       int.from_bytes(signature[32:], "big"))
            key.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise invalid("the DPoP proof's signature does not verify")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise invalid(f"the DPoP proof is malformed: {exc}")
        if claims.get("htm") != "POST":
            raise invalid("the DPoP proof's htm is not POST")
        if claims.get("htu") != url:
            raise invalid(f"the DPoP proof's htu is not {url}")
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(iat - self.emulator.now_seconds()) > PROOF_WINDOW:
            raise invalid("the DPoP proof's iat is too far from now")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise invalid("the DPoP proof has no jti")
        with self.state.lock:
            if jti in self.state.proofs_seen:
                raise invalid("the DPoP proof was used already (its jti is not new)")
            self.state.proofs_seen.add(jti)
        members = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"]},
                             separators=(",", ":"), sort_keys=True)
        return b64url_encode(hashlib.sha256(members.encode()).digest())

    def exchange(self, body, client_id, thumbprint):
        code, verifier = body.get("code") or "", body.get("codeVerifier") or ""
        now = self.emulator.now_seconds()
        with self.state.lock:
            grant = self.state.grants.get(code)
            if grant is None or grant.used or now >= grant.expires_at:
                raise denied("AUTHCODE_EXPIRED", "The authorization code has expired or was used already")
            if grant.client_id != client_id or grant.redirect_uri != body.get("redirectUri"):
                raise invalid("the code was issued to another client or redirect URI")
            challenge = b64url_encode(hashlib.sha256(verifier.encode()).digest())
            if not secrets.compare_digest(challenge, grant.challenge):
                raise invalid("the code verifier does not match the code challenge")
            grant.used = True
        self.check_allowed(grant.user_name, grant.mfa, grant.signed_in_at)
        user = self.emulator.iam_backend().users[grant.user_name]
        with self.state.lock:
            refresh_life = self.state.lifetimes.get(user.name, {}).get("refresh", SESSION_LIMIT)
        login = Login(client_id, user.name, grant.mfa, grant.signed_in_at,
                      grant.signed_in_at + refresh_life, thumbprint, getattr(user, "password", None))
        id_token = self.id_token(user.arn, client_id, grant.signed_in_at)
        return self.answer(login, "authorization_code", id_token)

    def refresh(self, body, client_id, thumbprint):
        token = body.get("refreshToken") or ""
        now = self.emulator.now_seconds()
        with self.state.lock:
            login = self.state.logins.get(token)
            if login is None:
                spent = token in self.state.spent_refresh
                raise denied("TOKEN_EXPIRED", "The refresh token was used already" if spent
                             else "The refresh token is not valid")
            if login.client_id != client_id:
                raise invalid("the refresh token belongs to another client")
            if not secrets.compare_digest(login.key_thumbprint, thumbprint):
                raise invalid("the DPoP proof is not made with the session's key")
            if now >= login.refresh_until:
                del self.state.logins[token]
                raise denied("TOKEN_EXPIRED", "The console sign-in session has expired; sign in again")
            user = self.emulator.iam_backend().users.get(login.user_name)
            if user is None or getattr(user, "password", None) != login.password:
                del self.state.logins[token]
                raise denied("USER_CREDENTIALS_CHANGED", "The user's password changed since the sign-in")
            del self.state.logins[token]
            self.state.spent_refresh.add(token)
        self.check_allowed(login.user_name, login.mfa, login.signed_in_at)
        return self.answer(login, "refresh_token", None)

    def check_allowed(self, user_name, mfa, signed_in_at):
        context = {"aws:multifactorauthpresent": "true" if mfa else "false"}
        if mfa:
            context["aws:multifactorauthage"] = str(int(self.emulator.now_seconds() - signed_in_at))
        if self.emulator.denies(user_name, "signin:CreateOAuth2Token", context):
            raise denied("INSUFFICIENT_PERMISSIONS",
                         "User is not authorized to perform: signin:CreateOAuth2Token")

    def answer(self, login, grant_type, id_token):
        with self.state.lock:
            access = self.state.lifetimes.get(login.user_name, {}).get("access", ACCESS_LIFETIME)
        session = self.emulator.mint(login.user_name, login.mfa, login.signed_in_at, access)
        refresh_token = "aorAAAAAG" + secrets.token_urlsafe(96)
        user = self.emulator.iam_backend().users[login.user_name]
        with self.state.lock:
            self.state.logins[refresh_token] = login
            per_user = self.state.stats.setdefault(user.arn, {})
            per_user[grant_type] = per_user.get(grant_type, 0) + 1
        out = {
            "accessToken": {"accessKeyId": session.access_key_id,
                            "secretAccessKey": session.secret,
                            "sessionToken": session.token},
            "tokenType": "aws_sigv4",
            "expiresIn": access,
            "refreshToken": refresh_token,
        }
        if id_token is not None:
            out["idToken"] = id_token
        return 200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], \
            json.dumps(out).encode()

    def id_token(self, arn, client_id, signed_in_at):
        """A JWT naming the session; signed with a key of the emulator's own (nothing checks
        it but its reader's parse, as with AWS's)."""
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {"iss": "https://signin.aws.amazon.com", "sub": arn, "aud": client_id,
                  "iat": int(signed_in_at), "exp": int(signed_in_at) + SESSION_LIMIT}
        data = ".".join(b64url_encode(json.dumps(part, separators=(",", ":")).encode())
                        for part in (header, claims))
        signature = hmac.new(ID_TOKEN_KEY, data.encode(), hashlib.sha256).digest()
        return f"{data}.{b64url_encode(signature)}"

    # ------------------------------------------------------------ test hooks

    def set_lifetimes(self, params):
        user = params.get("user", "")
        if not user:
            return 400, {"error": "signin-lifetimes needs user=NAME [access=S] [refresh=S] [code=S]"}
        with self.state.lock:
            life = self.state.lifetimes.setdefault(user, {})
            for key in ("access", "refresh", "code"):
                if key in params:
                    life[key] = int(params[key])
            return 200, {"user": user, **life}

    def stats(self):
        with self.state.lock:
            return {arn: dict(grants) for arn, grants in self.state.stats.items()}


ID_TOKEN_KEY = secrets.token_bytes(32)


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
