"""AWS Signature Version 4 verification of one HTTP request (header-signed requests only).

Owns: parsing the Authorization header and recomputing the signature the way AWS does
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html): canonical
URI normalized and encoded twice (non-S3 services), canonical query decoded, re-encoded
and sorted, exactly the SignedHeaders (lowercased, values trimmed, inner whitespace
collapsed), the payload hash (x-amz-content-sha256 if sent, else sha256 of the body).
"""
import hashlib
import hmac
import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"


class MalformedAuthorization(ValueError):
    pass


@dataclass
class Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: list
    signature: str


def parse_authorization(header):
    """Parse 'AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex'."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise MalformedAuthorization(f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in fields:
            raise MalformedAuthorization(
                f"Authorization header requires '{required}' parameter. Authorization={header}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise MalformedAuthorization(
            f"Credential should be scoped to a valid region, not '{fields['Credential']}'. ")
    return Authorization(scope[0], scope[1], scope[2], scope[3],
                         fields["SignedHeaders"].lower().split(";"), fields["Signature"])


def _normalize_path(raw_path):
    if not raw_path:
        return "/"
    normalized = posixpath.normpath(raw_path)
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    if raw_path.endswith("/") and normalized != "/":
        normalized += "/"
    return normalized


def canonical_query(raw_query):
    pairs = []
    for item in raw_query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(method, raw_path, raw_query, headers, signed_headers, payload_hash):
    """headers: {lowercase name: value}. Returns the canonical request string."""
    lines = [method.upper(), quote(_normalize_path(raw_path), safe="/~"), canonical_query(raw_query)]
    for name in signed_headers:
        lines.append(f"{name}:{' '.join(headers.get(name, '').split())}")
    lines += ["", ";".join(signed_headers), payload_hash]
    return "\n".join(lines)


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    key = _hmac(("AWS4" + secret).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def expected_signature(auth, secret, method, raw_path, raw_query, headers, body):
    """The hex signature AWS would compute for this request with this secret."""
    body_hash = hashlib.sha256(body).hexdigest()
    claimed = headers.get("x-amz-content-sha256")
    payload_hash = claimed if claimed in (body_hash, "UNSIGNED-PAYLOAD") else body_hash
    creq = canonical_request(method, raw_path, raw_query, headers, auth.signed_headers, payload_hash)
    timestamp = headers.get("x-amz-date") or headers.get("date", "")
    scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, timestamp, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    key = signing_key(secret, auth.date, auth.region, auth.service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_matches(auth, secret, method, raw_path, raw_query, headers, body):
    expected = expected_signature(auth, secret, method, raw_path, raw_query, headers, body)
    return hmac.compare_digest(expected, auth.signature.lower())
