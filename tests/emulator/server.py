"""The local AWS emulator: moto, in-process, behind a WSGI layer that behaves like AWS for MFA.

Owns (everything else is moto's):
- authentication: SigV4 verified on every request; the administrator's fixed keys; IAM users'
  long-term keys (read from moto's IAM backend); session keys minted here;
- STS GetSessionToken, AssumeRole (trust policy, MFA, durations, role chaining),
  GetCallerIdentity and DecodeAuthorizationMessage (never forwarded);
- the TOTP check of IAM EnableMFADevice (then forwarded to moto);
- explicit-Deny evaluation of the identity policies of IAM users and of assumed roles
  (aws:MultiFactorAuthPresent / Age);
- AWS Sign-In's console sign-in sessions (signin.py: the sign-in page, signin:CreateOAuth2Token);
- the test hooks under /_awsmfa/ (expire a session, stats).
Usage: server.py [--port N] (0 = any free port); prints "ready http://127.0.0.1:N" on stdout.
"""
import argparse
import base64
import datetime as dt
import io
import json
import logging
import os
import re
import secrets
import signal
import string
import sys
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape

# EC2 as strict as AWS about AMIs and key pairs (moto reads these once, at import; an
# empty value turns a check off).
os.environ.setdefault("MOTO_ENABLE_AMI_VALIDATION", "true")
os.environ.setdefault("MOTO_ENABLE_KEYPAIR_VALIDATION", "true")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policies  # noqa: E402
import signin  # noqa: E402
import sigv4  # noqa: E402
from totp import code_at_step, current_step  # noqa: E402

ACCOUNT_ID = "123456789012"  # moto's default account: every user and key lives there
ADMIN_KEY_ID = os.environ.get("AWSMFA_EMULATOR_ADMIN_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
ADMIN_SECRET = os.environ.get("AWSMFA_EMULATOR_ADMIN_SECRET",
                              "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 129600, 43200
ROLE_MAX_DURATION, ROLE_DEFAULT_DURATION, CHAINING_LIMIT = 43200, 3600, 3600
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
NAMESPACES = {"sts": STS_NS, "iam": "https://iam.amazonaws.com/doc/2010-05-08/"}
SERVICE_BY_VERSION = {"2016-11-15": "ec2", "2011-06-15": "sts", "2010-05-08": "iam"}
# IAM actions whose UserName defaults to the calling user.
CALLER_DEFAULT_USERNAME = {
    "GetUser", "ListMFADevices", "ListAccessKeys", "CreateAccessKey", "UpdateAccessKey",
    "DeleteAccessKey", "ListSigningCertificates", "ListSSHPublicKeys",
    "ListServiceSpecificCredentials",
}

MSG_BAD_SERIAL = ("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify "
                  "your MFA serial number is valid and associated with this user.")
MSG_BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MSG_NEED_BOTH = ("MultiFactorAuthentication failed, must provide both MFA serial number and one "
                 "time pass code.")
MSG_ROLE_MAX = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
MSG_CHAINING = ("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed "
                "by role chaining.")
MSG_BAD_TOKEN = "The security token included in the request is invalid."
MSG_EC2_AUTH = "AWS was not able to validate the provided access credentials"
MSG_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
                 "Check your AWS Secret Access Key and signing method. Consult the service "
                 "documentation for details.")


def log(message):
    print(f"emulator: {message}", file=sys.stderr, flush=True)


class AwsError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Session:
    """Temporary credentials minted by GetSessionToken or AssumeRole."""
    access_key_id: str
    secret: str
    token: str
    parent_key_id: str
    user_name: str | None  # None: the administrator, or a role session
    mfa: bool
    issued: float
    expires: dt.datetime
    mfa_at: float | None = None  # time of the MFA authentication (aws:MultiFactorAuthAge)
    role_arn: str | None = None  # set for role sessions (AssumeRole)
    role_id: str | None = None
    role_name: str | None = None
    session_name: str | None = None

    @property
    def assumed_role_arn(self):
        return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{self.role_name}/{self.session_name}"


@dataclass
class Caller:
    kind: str  # "admin", "user" (long-term key) or "session" (GetSessionToken or role)
    access_key_id: str
    secret: str
    arn: str
    user_id: str
    user_name: str | None = None
    session: Session | None = None


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: dict = field(default_factory=dict)          # ASIA... -> Session
    used_codes: set = field(default_factory=set)          # (serial, step)
    gst_ok: dict = field(default_factory=dict)            # long-term key id -> successes
    gst_attempts: dict = field(default_factory=dict)      # long-term key id -> attempts
    ar_ok: dict = field(default_factory=dict)             # role ARN -> AssumeRole successes
    ar_attempts: dict = field(default_factory=dict)       # role ARN -> AssumeRole attempts
    holds: dict = field(default_factory=dict)             # (user, action) -> [when, seconds, skip]
    holding: list = field(default_factory=list)           # "user:action" held right now
    held: dict = field(default_factory=dict)              # "user:action" -> held calls handled to the end
    releases: dict = field(default_factory=dict)          # "user:action" -> Event that ends its hold
    key_delays: dict = field(default_factory=dict)        # user -> seconds before a new key works
    new_keys: dict = field(default_factory=dict)          # AKIA... -> monotonic time it works from
    clock_offset: float = 0.0                             # seconds the emulator's clock is ahead


STATE = State()
# The hold of the request this thread handles, if it was held (werkzeug: a thread a request).
HELD = threading.local()


def iam_backend():
    from moto.iam.models import iam_backends
    return iam_backends[ACCOUNT_ID]["aws"]


def now_seconds():
    """The emulator's clock: the machine's, shifted by /_awsmfa/clock (for clock-skew tests)."""
    return time.time() + STATE.clock_offset


def utcnow():
    return dt.datetime.fromtimestamp(now_seconds(), dt.timezone.utc).replace(microsecond=0)


def random_upper(n):
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(n))


# ---------------------------------------------------------------- request parsing

class Request:
    def __init__(self, environ):
        self.environ = environ
        length = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        if length.isdigit():
            self.body = stream.read(int(length))
        else:  # chunked uploads are terminated; otherwise no length means no body
            self.body = stream.read() if environ.get("wsgi.input_terminated") else b""
        self.restore_body(self.body)
        self.method = environ.get("REQUEST_METHOD", "GET")
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        self.raw_path = raw_uri.split("?", 1)[0]
        self.path = environ.get("PATH_INFO", "/")
        self.raw_query = environ.get("QUERY_STRING", "")
        self.headers = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                self.headers[key[5:].lower().replace("_", "-")] = value
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                self.headers[key.lower().replace("_", "-")] = environ[key]
        self.query = dict(parse_qsl(self.raw_query, keep_blank_values=True))
        self.form = {}
        if "x-www-form-urlencoded" in self.headers.get("content-type", ""):
            self.form = dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        self.params = {**self.query, **self.form}
        self.action = self.params.get("Action", "")
        self.auth = None
        self.service = SERVICE_BY_VERSION.get(self.params.get("Version", ""), "sts")
        self.region = "us-east-1"
        self.json_protocol = "x-amz-target" in self.headers

    def restore_body(self, body):
        self.environ["wsgi.input"] = io.BytesIO(body)
        self.environ["CONTENT_LENGTH"] = str(len(body))

    def add_param(self, name, value):
        """Add a parameter where Action came from (form body or query), for moto to read."""
        if "Action" in self.form:
            self.body = (self.body.decode() + "&" + urlencode({name: value})).encode()
            self.restore_body(self.body)
        else:
            self.raw_query += "&" + urlencode({name: value})
            self.environ["QUERY_STRING"] = self.raw_query
        self.params[name] = value


# ---------------------------------------------------------------- responses

def request_id():
    return str(uuid.uuid4())


def error_response(req, err):
    rid = request_id()
    if req.json_protocol:
        body = json.dumps({"__type": err.code, "message": err.message})
        ctype = "application/x-amz-json-1.1"
    elif req.service == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
                f"<Code>{err.code}</Code><Message>{escape(err.message)}</Message></Error>"
                f"</Errors><RequestID>{rid}</RequestID></Response>")
        ctype = "text/xml;charset=UTF-8"
    else:
        ns = NAMESPACES.get(req.service, STS_NS)
        body = (f"<ErrorResponse xmlns=\"{ns}\">\n  <Error>\n    <Type>Sender</Type>\n"
                f"    <Code>{err.code}</Code>\n    <Message>{escape(err.message)}</Message>\n"
                f"  </Error>\n  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n")
        ctype = "text/xml"
    return err.status, ctype, body, rid


def sts_response(action, result_xml):
    rid = request_id()
    body = (f"<{action}Response xmlns=\"{STS_NS}\">\n  <{action}Result>\n{result_xml}"
            f"  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{rid}</RequestId>\n"
            f"  </ResponseMetadata>\n</{action}Response>\n")
    return 200, "text/xml", body, rid


# ---------------------------------------------------------------- authentication

def auth_errors(service):
    """(unknown key, bad signature) errors, as the given service words them."""
    if service == "ec2":
        return (AwsError("AuthFailure", MSG_EC2_AUTH, 401),) * 2
    return (AwsError("InvalidClientTokenId", MSG_BAD_TOKEN, 403),
            AwsError("SignatureDoesNotMatch", MSG_SIGNATURE, 403))


def user_caller(access_key_id, secret, user_name, kind, session=None):
    user = iam_backend().users.get(user_name)
    if user is None:
        return None
    return Caller(kind, access_key_id, secret, user.arn, user.id, user_name, session)


def authenticate(req):
    header = req.headers.get("authorization")
    if not header:
        if req.service == "ec2":
            raise AwsError("AuthFailure", MSG_EC2_AUTH, 401)
        raise AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)
    try:
        req.auth = sigv4.parse_authorization(header)
    except sigv4.MalformedAuthorization as exc:
        raise AwsError("IncompleteSignature", str(exc), 400)
    req.service, req.region = req.auth.service.lower(), req.auth.region
    unknown_key, bad_signature = auth_errors(req.service)
    key_id = req.auth.access_key_id
    token = req.headers.get("x-amz-security-token")
    caller = None
    if key_id == ADMIN_KEY_ID:
        caller = Caller("admin", key_id, ADMIN_SECRET, ADMIN_ARN, ACCOUNT_ID)
    elif key_id in STATE.sessions:
        session = STATE.sessions[key_id]
        if token != session.token:
            raise unknown_key
        if session.role_arn is not None:
            caller = Caller("session", key_id, session.secret, session.assumed_role_arn,
                            f"{session.role_id}:{session.session_name}", None, session)
        elif session.user_name is None:
            caller = Caller("session", key_id, session.secret, ADMIN_ARN, ACCOUNT_ID, None, session)
        else:
            caller = user_caller(key_id, session.secret, session.user_name, "session", session)
    else:
        key = iam_backend().access_keys.get(key_id)
        with STATE.lock:
            usable_from = STATE.new_keys.get(key_id)
        if usable_from is not None and time.monotonic() < usable_from:
            key = None  # IAM is eventually consistent: a new key is unknown for a while
        if key is not None and key.status == "Active" and key.user_name:
            caller = user_caller(key_id, key.secret_access_key, key.user_name, "user")
    if caller is None or (caller.kind != "session" and token):
        raise unknown_key
    if not sigv4.signature_matches(req.auth, caller.secret, req.method, req.raw_path,
                                   req.raw_query, req.headers, req.body):
        raise bad_signature
    if caller.session and utcnow() >= caller.session.expires:
        raise AwsError("ExpiredToken", "The security token included in the request is expired", 403)
    return caller


# ---------------------------------------------------------------- identity policies

def _managed_documents(policy_map):
    for policy in policy_map.values():
        for version in policy.versions:
            if version.version_id == policy.default_version_id:
                yield policy.name, version.document


def policy_documents(caller):
    """[(name, document)] of the caller's identity policies: an IAM user's inline, attached
    managed and group policies; a role session's role's inline and attached managed policies.
    None for the administrator and its sessions (never evaluated)."""
    backend = iam_backend()
    if caller.session is not None and caller.session.role_arn is not None:
        role = backend.roles.get(caller.session.role_id)
        if role is None:  # the role was deleted since: nothing left to deny
            return []
        return list(role.policies.items()) + list(_managed_documents(role.managed_policies))
    if caller.kind == "admin" or caller.user_name is None:
        return None
    user = backend.users[caller.user_name]
    docs = list(user.policies.items())
    docs += _managed_documents(user.managed_policies)
    for group in backend.get_groups_for_user(caller.user_name):
        docs += list(group.policies.items())
        docs += _managed_documents(group.managed_policies)
    return docs


def condition_context(caller):
    """The MFA condition keys of a request: absent for long-term keys; "true"/"false" for
    temporary credentials (GetSessionToken and role sessions), with the age when true."""
    context = {}
    if caller.session is not None:
        context["aws:multifactorauthpresent"] = "true" if caller.session.mfa else "false"
        if caller.session.mfa:
            mfa_at = caller.session.mfa_at or caller.session.issued
            context["aws:multifactorauthage"] = str(int(time.time() - mfa_at))
    return context


def resource_for(req, action):
    if req.service == "sts" and action == "AssumeRole":
        return req.params.get("RoleArn") or "*"
    if req.service == "ec2":
        kind = "instance/*" if action == "RunInstances" else "*"
        return f"arn:aws:ec2:{req.region}:{ACCOUNT_ID}:{kind}"
    if req.service == "iam" and req.params.get("UserName"):
        return f"arn:aws:iam::{ACCOUNT_ID}:user/{req.params['UserName']}"
    return "*"


def encode_denial(caller, full_action, resource, matched, context):
    def items(values):
        return {"items": [{"value": v} for v in values]}

    conditions = [{"key": k, "values": items([v])} for k, v in context.items()]
    statements = [{
        "statementId": st.get("Sid", name),
        "effect": "DENY",
        "principals": items([caller.user_id]),
        "principalGroups": {"items": []},
        "actions": items(policies._as_list(st.get("Action", st.get("NotAction", [])))),
        "resources": items(policies._as_list(st.get("Resource", "*"))),
        "conditions": {"items": [
            {"key": key, "values": items([str(v) for v in policies._as_list(vals)])}
            for op in (st.get("Condition") or {}).values() for key, vals in op.items()]},
    } for name, st in matched]
    message = {
        "allowed": False, "explicitDeny": True,
        "matchedStatements": {"items": statements},
        "failures": {"items": []},
        "context": {
            "principal": {"id": caller.user_id,
                          "name": caller.user_name or (caller.session and caller.session.session_name),
                          "arn": caller.arn},
            "action": full_action, "resource": resource,
            "conditions": {"items": conditions},
        },
    }
    packed = zlib.compress(json.dumps(message, separators=(",", ":")).encode())
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_denial(encoded):
    padded = encoded + "=" * (-len(encoded) % 4)
    return zlib.decompress(base64.urlsafe_b64decode(padded)).decode()


def check_policies(req, caller, context=None):
    """Raise the AWS denial if an identity policy of the caller explicitly denies the call.
    context: the request's condition keys (default: the caller's MFA context)."""
    documents = policy_documents(caller)
    if documents is None:
        return
    full_action = f"{req.service}:{req.action}"
    if full_action.lower() == "sts:getcalleridentity":
        return  # AWS: always allowed, even with an explicit deny
    context = condition_context(caller) if context is None else context
    matched = policies.matching_denies(documents, full_action, context)
    if not matched:
        return
    resource = resource_for(req, req.action)
    if req.service == "ec2":
        encoded = encode_denial(caller, full_action, resource, matched, context)
        raise AwsError("UnauthorizedOperation",
                       f"You are not authorized to perform this operation. User: {caller.arn} is "
                       f"not authorized to perform: {full_action} on resource: {resource} with an "
                       f"explicit deny in an identity-based policy. Encoded authorization failure "
                       f"message: {encoded}", 403)
    raise AwsError("AccessDenied",
                   f"User: {caller.arn} is not authorized to perform: {full_action} on resource: "
                   f"{resource} with an explicit deny in an identity-based policy", 403)


# ---------------------------------------------------------------- STS actions handled here

def validation_error(value, member, constraint):
    return AwsError("ValidationError", f"1 validation error detected: Value '{value}' at "
                                       f"'{member}' failed to satisfy constraint: {constraint}", 400)


def check_token_code_format(req):
    code = req.params.get("TokenCode")
    if code is not None and not re.fullmatch(r"\d{6}", code):
        constraint = ("Member must satisfy regular expression pattern: [\\d]*"
                      if not code.isdigit() else
                      "Member must have length less than or equal to 6" if len(code) > 6 else
                      "Member must have length greater than or equal to 6")
        raise validation_error(code, "tokenCode", constraint)


def check_mfa(req, caller):
    """SerialNumber + TokenCode of GetSessionToken / AssumeRole: False when neither is given,
    True when the serial is an MFA device of the calling user and the code a fresh TOTP of it
    (the (serial, step) is then used up, for both actions); else AWS's AccessDenied."""
    serial, code = req.params.get("SerialNumber"), req.params.get("TokenCode")
    if bool(serial) != bool(code):
        raise AwsError("AccessDenied", MSG_NEED_BOTH, 403)
    if not serial:
        return False
    user = iam_backend().users.get(caller.user_name) if caller.user_name else None
    if user is None or serial not in user.mfa_devices:
        raise AwsError("AccessDenied", MSG_BAD_SERIAL, 403)
    if not spend_code(serial, code):
        raise AwsError("AccessDenied", MSG_BAD_CODE, 403)
    return True


def spend_code(serial, code):
    """True when `code` is a TOTP of virtual device `serial` within a step of now, not used
    before (by STS or the sign-in page); it is then used up."""
    device = iam_backend().virtual_mfa_devices.get(serial)
    now = current_step(now_seconds())
    with STATE.lock:
        step = next((s for s in (now - 1, now, now + 1)
                     if device is not None and (serial, s) not in STATE.used_codes
                     and code_at_step(device.base32_string_seed, s) == code), None)
        if step is None:
            return False
        STATE.used_codes.add((serial, step))
    return True


def new_session_keys(token_prefix):
    return ("ASIA" + random_upper(16), base64.b64encode(secrets.token_bytes(30)).decode(),
            token_prefix + base64.b64encode(secrets.token_bytes(240)).decode())


def store_session(session):
    """Record a new session (STATE.lock held); its key id is made unique first."""
    while session.access_key_id in STATE.sessions:
        session.access_key_id = "ASIA" + random_upper(16)
    STATE.sessions[session.access_key_id] = session


def expiration(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def duration_param(req, default, maximum):
    """DurationSeconds, checked against MIN_DURATION..maximum with AWS's ValidationError."""
    raw_duration = req.params.get("DurationSeconds", str(default))
    try:
        duration = int(raw_duration)
    except ValueError:
        raise validation_error(raw_duration, "durationSeconds", "Member must be a number")
    if duration < MIN_DURATION:
        raise validation_error(raw_duration, "durationSeconds",
                               f"Member must have value greater than or equal to {MIN_DURATION}")
    if duration > maximum:
        raise validation_error(raw_duration, "durationSeconds",
                               f"Member must have value less than or equal to {maximum}")
    return duration


def get_session_token(req, caller):
    if caller.kind == "session":
        raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    with STATE.lock:
        STATE.gst_attempts[caller.access_key_id] = STATE.gst_attempts.get(caller.access_key_id, 0) + 1
    duration = duration_param(req, DEFAULT_DURATION, MAX_DURATION)
    check_token_code_format(req)
    mfa = check_mfa(req, caller)
    key_id, secret, token = new_session_keys("FwoGZXIvYXdzE")
    session = Session(
        access_key_id=key_id, secret=secret, token=token,
        parent_key_id=caller.access_key_id, user_name=caller.user_name, mfa=mfa,
        issued=time.time(), expires=utcnow() + dt.timedelta(seconds=duration))
    session.mfa_at = session.issued if mfa else None
    with STATE.lock:
        store_session(session)
        STATE.gst_ok[caller.access_key_id] = STATE.gst_ok.get(caller.access_key_id, 0) + 1
    return sts_response("GetSessionToken", (
        "    <Credentials>\n"
        f"      <SessionToken>{session.token}</SessionToken>\n"
        f"      <SecretAccessKey>{session.secret}</SecretAccessKey>\n"
        f"      <Expiration>{expiration(session.expires)}</Expiration>\n"
        f"      <AccessKeyId>{session.access_key_id}</AccessKeyId>\n"
        "    </Credentials>\n"))


def check_members(req, specs):
    """AWS's input validation: specs [(param, member, required, min_len, max_len, pattern)];
    all failures in one ValidationError, as AWS words them."""
    failures = []
    for param, member, required, min_len, max_len, pattern in specs:
        value = req.params.get(param)
        if value is None:
            if required:
                failures.append(f"Value null at '{member}' failed to satisfy constraint: "
                                f"Member must not be null")
            continue
        for failed, constraint in (
                (len(value) < min_len, f"Member must have length greater than or equal to {min_len}"),
                (len(value) > max_len, f"Member must have length less than or equal to {max_len}"),
                (pattern and not re.fullmatch(pattern, value),
                 f"Member must satisfy regular expression pattern: {pattern}")):
            if failed:
                failures.append(f"Value '{value}' at '{member}' failed to satisfy constraint: "
                                f"{constraint}")
    if failures:
        count = len(failures)
        raise AwsError("ValidationError", f"{count} validation error{'s' if count > 1 else ''} "
                                          f"detected: " + "; ".join(failures), 400)


def trust_identities(caller):
    """The principal ARNs a trust policy may name for this caller: its own ARN, its account's
    root, and for a role session the role's ARN too."""
    identities = {caller.arn, f"arn:aws:iam::{ACCOUNT_ID}:root"}
    if caller.session is not None and caller.session.role_arn is not None:
        identities.add(caller.session.role_arn)
    return identities


def assume_role(req, caller):
    """STS AssumeRole, as AWS does it where MFA matters. Order of the checks: input validation
    (ValidationError), the MFA serial and code if given (AccessDenied), the caller's identity
    policies, the role's existence and trust policy (AccessDenied), then the durations."""
    role_arn = req.params.get("RoleArn")
    if role_arn:
        with STATE.lock:
            STATE.ar_attempts[role_arn] = STATE.ar_attempts.get(role_arn, 0) + 1
    check_members(req, [
        ("RoleArn", "roleArn", True, 20, 2048, None),
        ("RoleSessionName", "roleSessionName", True, 2, 64, r"[\w+=,.@-]*"),
        ("ExternalId", "externalId", False, 2, 1224, r"[\w+=,.@:\/-]*"),
        ("SerialNumber", "serialNumber", False, 9, 256, r"[\w+=/:,.@-]*"),
    ])
    duration = duration_param(req, ROLE_DEFAULT_DURATION, ROLE_MAX_DURATION)
    check_token_code_format(req)

    # The MFA context of this request: the caller's, or "direct" MFA (serial + code here).
    source = caller.session
    if check_mfa(req, caller):
        mfa, mfa_at = True, time.time()
    elif source is not None:
        mfa, mfa_at = source.mfa, (source.mfa_at or source.issued) if source.mfa else None
    else:
        mfa, mfa_at = False, None
    context = {}
    if mfa or source is not None:
        context["aws:multifactorauthpresent"] = "true" if mfa else "false"
    if mfa:
        context["aws:multifactorauthage"] = str(int(time.time() - mfa_at))
    check_policies(req, caller, context)

    denied = AwsError("AccessDenied", f"User: {caller.arn} is not authorized to perform: "
                                      f"sts:AssumeRole on resource: {role_arn}", 403)
    try:
        role = iam_backend().get_role_by_arn(role_arn)
    except Exception:
        raise denied
    if caller.kind != "admin":
        trust_context = dict(context)
        if req.params.get("ExternalId") is not None:
            trust_context["sts:externalid"] = req.params["ExternalId"]
        if not policies.trust_allows(role.assume_role_policy_document, "sts:AssumeRole",
                                     trust_identities(caller), trust_context):
            raise denied
    if source is not None and source.role_arn is not None and duration > CHAINING_LIMIT:
        raise AwsError("ValidationError", MSG_CHAINING, 400)
    if duration > int(role.max_session_duration or ROLE_DEFAULT_DURATION):
        raise AwsError("ValidationError", MSG_ROLE_MAX, 400)

    key_id, secret, token = new_session_keys("IQoJb3JpZ2luX2VjE")
    session_name = req.params["RoleSessionName"]
    session = Session(
        access_key_id=key_id, secret=secret, token=token, parent_key_id=caller.access_key_id,
        user_name=None, mfa=mfa, issued=time.time(),
        expires=utcnow() + dt.timedelta(seconds=duration), mfa_at=mfa_at,
        role_arn=role.arn, role_id=role.id, role_name=role.name, session_name=session_name)
    with STATE.lock:
        store_session(session)
        STATE.ar_ok[role_arn] = STATE.ar_ok.get(role_arn, 0) + 1
    return sts_response("AssumeRole", (
        "    <AssumedRoleUser>\n"
        f"      <AssumedRoleId>{role.id}:{escape(session_name)}</AssumedRoleId>\n"
        f"      <Arn>{escape(session.assumed_role_arn)}</Arn>\n"
        "    </AssumedRoleUser>\n"
        "    <Credentials>\n"
        f"      <AccessKeyId>{session.access_key_id}</AccessKeyId>\n"
        f"      <SecretAccessKey>{session.secret}</SecretAccessKey>\n"
        f"      <SessionToken>{session.token}</SessionToken>\n"
        f"      <Expiration>{expiration(session.expires)}</Expiration>\n"
        "    </Credentials>\n"))


def get_caller_identity(req, caller):
    return sts_response("GetCallerIdentity", (
        f"    <Arn>{caller.arn}</Arn>\n    <UserId>{caller.user_id}</UserId>\n"
        f"    <Account>{ACCOUNT_ID}</Account>\n"))


def decode_authorization_message(req, caller):
    try:
        decoded = decode_denial(req.params.get("EncodedMessage", ""))
    except Exception:
        raise AwsError("InvalidAuthorizationMessageException", "Message is not valid", 400)
    return sts_response("DecodeAuthorizationMessage",
                        f"    <DecodedMessage>{escape(decoded)}</DecodedMessage>\n")


STS_ACTIONS = {
    "GetSessionToken": get_session_token,
    "AssumeRole": assume_role,
    "GetCallerIdentity": get_caller_identity,
    "DecodeAuthorizationMessage": decode_authorization_message,
}


def check_enable_mfa_device(req):
    """EnableMFADevice must carry two consecutive codes of the virtual device's seed."""
    device = iam_backend().virtual_mfa_devices.get(req.params.get("SerialNumber", ""))
    if device is None:
        return  # unknown or hardware serial: moto's answer
    code1, code2 = req.params.get("AuthenticationCode1"), req.params.get("AuthenticationCode2")
    now = current_step(now_seconds())
    seed = device.base32_string_seed
    if not any(code_at_step(seed, s) == code1 and code_at_step(seed, s + 1) == code2
               for s in (now - 2, now - 1, now)):
        raise AwsError("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)


# ---------------------------------------------------------------- EC2 test states

EC2_STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
                   "stopping": 64, "stopped": 80}


def stick_states(body):
    """Rewrites the instanceState of every instance tagged awsmfa-emulator-stuck=STATE."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(body)
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    for instance in root.iter(q("item")):
        state = instance.find(q("instanceState"))
        tags = instance.find(q("tagSet"))
        if state is None or tags is None:
            continue
        for tag in tags.findall(q("item")):
            if tag.findtext(q("key")) == "awsmfa-emulator-stuck":
                wanted = tag.findtext(q("value")) or "pending"
                state.find(q("code")).text = str(EC2_STATE_CODES.get(wanted, 0))
                state.find(q("name")).text = wanted
    if ns:
        ET.register_namespace("", ns)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


# ---------------------------------------------------------------- AWS Sign-In (signin.py)

class SigninGlue:
    """What AWS Sign-In shares with STS here: users, the clock, spent codes, sessions, policies."""
    iam_backend = staticmethod(iam_backend)
    now_seconds = staticmethod(now_seconds)

    @staticmethod
    def accept_code(user_name, code):
        user = iam_backend().users.get(user_name)
        return user is not None and any(spend_code(serial, code) for serial in list(user.mfa_devices))

    @staticmethod
    def mint(user_name, mfa, mfa_at, seconds):
        """Session credentials of a console sign-in: the user's, MFA as the sign-in was."""
        key_id, secret, token = new_session_keys("IQoJb3JpZ2luX2VjE")
        session = Session(access_key_id=key_id, secret=secret, token=token, parent_key_id="signin",
                          user_name=user_name, mfa=mfa, issued=time.time(),
                          expires=utcnow() + dt.timedelta(seconds=seconds),
                          mfa_at=mfa_at if mfa else None)
        with STATE.lock:
            store_session(session)
        return session

    @staticmethod
    def denies(user_name, action, context):
        user = iam_backend().users.get(user_name)
        if user is None:
            return True
        documents = policy_documents(Caller("user", "", "", user.arn, user.id, user_name))
        return bool(policies.matching_denies(documents or [], action, context))


SIGNIN = signin.SignIn(SigninGlue)


# ---------------------------------------------------------------- the middleware

class Emulator:
    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        HELD.label = None
        try:
            return self.handle(environ, start_response)
        finally:
            # A held call is counted once its handling is over (the work done in moto, the
            # answer made): a test that killed its client waits for this, not for a timer.
            if HELD.label is not None:
                with STATE.lock:
                    STATE.held[HELD.label] = STATE.held.get(HELD.label, 0) + 1

    def handle(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)
        req = Request(environ)
        if path.startswith("/_awsmfa/"):
            return self.hook(req, start_response)
        if SIGNIN.handles(path):
            status, headers, body = SIGNIN(req)
            reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
                      405: "Method Not Allowed"}.get(status, "Error")
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            start_response(f"{status} {reason}", headers + [
                ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id())])
            return [body]
        try:
            caller = authenticate(req)
            if not (req.service == "sts" and req.action == "AssumeRole"):
                check_policies(req, caller)  # AssumeRole: after its MFA check, with its context
            hold = take_hold(caller.user_name, req.action)
            if hold and hold[0] == "before":
                self.hold(f"{caller.user_name}:{req.action}", hold[1])
            if req.service == "sts" and req.action in STS_ACTIONS:
                return self.reply(start_response, *STS_ACTIONS[req.action](req, caller))
            if req.service == "iam" and caller.kind != "admin" \
                    and req.action in CALLER_DEFAULT_USERNAME and not req.params.get("UserName"):
                if caller.user_name:
                    req.add_param("UserName", caller.user_name)
                elif caller.session is not None and caller.session.role_arn is not None:
                    raise AwsError("ValidationError", "Must specify userName when calling with "
                                                      "non-User credentials", 400)
            if req.service == "iam" and req.action == "EnableMFADevice":
                check_enable_mfa_device(req)
        except AwsError as err:
            return self.reply(start_response, *error_response(req, err))
        if req.service == "ec2" and req.action == "DescribeInstances":
            return self.describe_instances(environ, start_response)
        if req.service == "iam" and req.action == "CreateVirtualMFADevice":
            status, headers, body = self.call_moto(environ)
            if status.startswith("200"):
                body = with_qr_code(body)
            if hold and hold[0] == "after":
                self.hold(f"{caller.user_name}:{req.action}", hold[1])
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            start_response(status, headers + [("Content-Length", str(len(body)))])
            return [body]
        if req.service == "iam" and req.action == "CreateAccessKey" or (hold and hold[0] == "after"):
            status, headers, body = self.call_moto(environ)
            if req.action == "CreateAccessKey" and status.startswith("200"):
                match = re.search(rb"<AccessKeyId>([A-Z0-9]+)</AccessKeyId>", body)
                if match:
                    user = req.params.get("UserName", "")
                    with STATE.lock:
                        delay = STATE.key_delays.get(user, 0.0)
                        STATE.new_keys[match.group(1).decode()] = time.monotonic() + delay
            if hold and hold[0] == "after":
                self.hold(f"{caller.user_name}:{req.action}", hold[1])
            start_response(status, headers)
            return [body]
        return self.moto_app(environ, start_response)

    @staticmethod
    def hold(label, seconds):
        """Keeps a request waiting (test hook /_awsmfa/hold): a client killed meanwhile
        stops at a known step."""
        released = threading.Event()
        HELD.label = label
        with STATE.lock:
            STATE.holding.append(label)
            STATE.releases[label] = released
        released.wait(seconds)
        with STATE.lock:
            STATE.holding.remove(label)
            if STATE.releases.get(label) is released:
                del STATE.releases[label]

    def call_moto(self, environ):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.moto_app(environ, capture))
        return captured["status"], captured["headers"], body

    def describe_instances(self, environ, start_response):
        """moto's DescribeInstances, except that an instance tagged
        `awsmfa-emulator-stuck=STATE` always reports STATE: moto moves instances to running
        (and terminated) at once, so tests could not otherwise see a wait time out."""
        status, headers, body = self.call_moto(environ)
        if b"awsmfa-emulator-stuck" in body:
            body = stick_states(body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def reply(start_response, status, ctype, body, rid):
        data = body.encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                  404: "Not Found"}.get(status, "Error")
        start_response(f"{status} {reason}", [
            ("Content-Type", ctype), ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", rid)])
        return [data]

    def hook(self, req, start_response):
        def answer(status, obj):
            return self.reply(start_response, status, "application/json", json.dumps(obj), "hook")

        if req.path == "/_awsmfa/stats":
            with STATE.lock:
                return answer(200, {"get_session_token": dict(STATE.gst_ok),
                                    "get_session_token_attempts": dict(STATE.gst_attempts),
                                    "assume_role": dict(STATE.ar_ok),
                                    "assume_role_attempts": dict(STATE.ar_attempts),
                                    "holding": list(STATE.holding),
                                    "held": dict(STATE.held),
                                    "signin_token": SIGNIN.stats()})
        if req.path == "/_awsmfa/signin-lifetimes" and req.method == "POST":
            return answer(*SIGNIN.set_lifetimes(req.params))
        if req.path == "/_awsmfa/hold" and req.method == "POST":
            user, action = req.params.get("user", ""), req.params.get("action", "")
            when = req.params.get("when", "before")
            seconds, skip = float(req.params.get("seconds", "5")), int(req.params.get("skip", "0"))
            if not user or not action or when not in ("before", "after"):
                return answer(400, {"error": "hold needs user=NAME, action=NAME, when=before|after"})
            with STATE.lock:
                STATE.holds[(user, action)] = [when, seconds, skip]
            return answer(200, {"hold": f"{user}:{action}", "when": when, "seconds": seconds, "skip": skip})
        if req.path == "/_awsmfa/release" and req.method == "POST":
            # Ends a hold before its seconds are up: tests hold long, then release at the
            # step they choose, instead of racing a timer.
            label = f"{req.params.get('user', '')}:{req.params.get('action', '')}"
            with STATE.lock:
                released = STATE.releases.get(label)
            if released is None:
                return answer(404, {"error": f"nothing holds {label}"})
            released.set()
            return answer(200, {"released": label})
        if req.path == "/_awsmfa/key-delay" and req.method == "POST":
            user, seconds = req.params.get("user", ""), float(req.params.get("seconds", "0"))
            with STATE.lock:
                STATE.key_delays[user] = seconds
            return answer(200, {"user": user, "key_delay": seconds})
        if req.path == "/_awsmfa/expire" and req.method == "POST":
            key_id = req.params.get("access_key_id", "")
            with STATE.lock:
                session = STATE.sessions.get(key_id)
                if session is None:
                    return answer(404, {"error": f"no session {key_id}"})
                session.expires = utcnow() - dt.timedelta(seconds=1)
            return answer(200, {"expired": key_id})
        if req.path == "/_awsmfa/clock" and req.method == "POST":
            with STATE.lock:
                STATE.clock_offset = float(req.params.get("offset", "0"))
            return answer(200, {"clock_offset": STATE.clock_offset})
        if req.path == "/_awsmfa/health":
            return answer(200, {"ok": True})
        return answer(404, {"error": f"unknown hook {req.path}"})


def with_qr_code(body):
    """CreateVirtualMFADevice's answer with a real QRCodePNG (moto sends random bytes): the
    otpauth URI AWS encodes, `otpauth://totp/Amazon%20Web%20Services:NAME@ACCOUNT?secret=SEED
    &issuer=Amazon%20Web%20Services`, as a PNG (segno)."""
    import segno
    text = body.decode()
    seed_b64 = re.search(r"<Base32StringSeed>([^<]+)</Base32StringSeed>", text)
    serial = re.search(r"<SerialNumber>([^<]+)</SerialNumber>", text)
    if not seed_b64 or not serial:
        return body
    seed = base64.b64decode(seed_b64.group(1)).decode()
    name = serial.group(1).rsplit("/", 1)[-1]
    uri = (f"otpauth://totp/Amazon%20Web%20Services:{name}@{ACCOUNT_ID}?secret={seed}"
           f"&issuer=Amazon%20Web%20Services")
    png = io.BytesIO()
    segno.make(uri, error="m").save(png, kind="png", scale=4)
    encoded = base64.b64encode(png.getvalue()).decode()
    text = re.sub(r"<QRCodePNG>[^<]*</QRCodePNG>", f"<QRCodePNG>{encoded}</QRCodePNG>", text)
    return text.encode()


def take_hold(user, action):
    """The hold set for this user's next call of `action` (after `skip` calls), if any."""
    with STATE.lock:
        hold = STATE.holds.get((user, action))
        if hold is None:
            return None
        if hold[2] > 0:
            hold[2] -= 1
            return None
        del STATE.holds[(user, action)]
        return hold


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    return Emulator(DomainDispatcherApplication(create_backend_app))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    from werkzeug.serving import make_server

    stdout, sys.stdout = sys.stdout, sys.stderr  # only the ready line goes to stdout
    if os.environ.get("AWSMFA_EMULATOR_LOG") != "1":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from werkzeug.serving import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        def date_time_string(self, timestamp=None):
            # Every answer's Date header is the emulator's clock, as AWS's is AWS's: clients
            # read clock skew from it (/_awsmfa/clock shifts it).
            return formatdate(now_seconds(), usegmt=True)

    server = make_server(args.host, args.port, build_app(), threaded=True, request_handler=Handler)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if os.environ.get("AWSMFA_EMULATOR_EXIT_WITH_PARENT") == "1":
        # Started by a test binary: stop when it exits, however it exits.
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            stop(None, None)

        threading.Thread(target=watch, daemon=True).start()
    stdout.write(f"ready http://{args.host}:{server.server_port}\n")
    stdout.flush()
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
