"""Policy evaluation of the emulator: which explicit Deny statements of identity policies
match a call, and whether a role's trust policy lets a principal assume it.

Owns: Action / NotAction matching (wildcards `*` and `?`, case-insensitive), Principal /
NotPrincipal matching of trust policies ({"AWS": ARN or account id or "*"}, or "*"), and the
Condition operators the MFA and AssumeRole stories need: Bool, Null, Numeric*, and String*
(StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase,
StringLike, StringNotLike), each with IfExists.
Simplifications (see README): Resource / NotResource are treated as matching; a statement
with an unknown condition operator does not apply (logged on stderr); identity policies have
no implicit deny: a call without a matching Deny is allowed (no Allow is required). Trust
policies do need a matching Allow (and no matching Deny).
"""
import json
import re
import sys

NUMERIC = {
    "numericequals": lambda a, b: a == b,
    "numericnotequals": lambda a, b: a != b,
    "numericlessthan": lambda a, b: a < b,
    "numericlessthanequals": lambda a, b: a <= b,
    "numericgreaterthan": lambda a, b: a > b,
    "numericgreaterthanequals": lambda a, b: a >= b,
}


STRING = {
    "stringequals": lambda a, vs: a in vs,
    "stringnotequals": lambda a, vs: a not in vs,
    "stringequalsignorecase": lambda a, vs: a.lower() in {v.lower() for v in vs},
    "stringnotequalsignorecase": lambda a, vs: a.lower() not in {v.lower() for v in vs},
    "stringlike": lambda a, vs: any(_wildcard(v, a) for v in vs),
    "stringnotlike": lambda a, vs: not any(_wildcard(v, a) for v in vs),
}
# AWS: "If the policy condition requires that the key is not matched, such as StringNotLike,
# and the right key is not present, the condition is true."
NEGATED_STRING = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike"}


def _wildcard(pattern, value, flags=0):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _as_list(value):
    return value if isinstance(value, list) else [value]


def action_matches(pattern, action):
    return _wildcard(pattern, action, re.IGNORECASE)


def _statement_actions_match(statement, action):
    if "Action" in statement:
        return any(action_matches(p, action) for p in _as_list(statement["Action"]))
    if "NotAction" in statement:
        return not any(action_matches(p, action) for p in _as_list(statement["NotAction"]))
    return False


class UnknownOperator(Exception):
    pass


def _operator_holds(operator, key, expected_values, context):
    """context: {lowercase condition key: string value}; a missing key is absent."""
    op = operator.lower()
    if_exists = op.endswith("ifexists")
    if if_exists:
        op = op[: -len("ifexists")]
    present = key.lower() in context
    actual = context.get(key.lower())
    expected_values = [str(v) for v in _as_list(expected_values)]
    if op == "null" and not if_exists:
        return any((v.lower() == "true") != present for v in expected_values)
    if op == "bool":
        if not present:
            return if_exists
        return any(actual.lower() == v.lower() for v in expected_values)
    if op in STRING:
        if not present:
            return if_exists or op in NEGATED_STRING
        return STRING[op](actual, expected_values)
    if op in NUMERIC:
        if not present:
            return if_exists
        try:
            return any(NUMERIC[op](float(actual), float(v)) for v in expected_values)
        except ValueError:
            return False
    raise UnknownOperator(operator)


def conditions_hold(condition_block, context):
    for operator, keys in (condition_block or {}).items():
        for key, values in keys.items():
            if not _operator_holds(operator, key, values, context):
                return False
    return True


def _documents_statements(documents):
    for name, document in documents:
        if isinstance(document, str):
            document = json.loads(document)
        for statement in _as_list(document.get("Statement", [])):
            yield name, statement


def principal_matches(principal, identities):
    """principal: a statement's Principal ("*" or {"AWS": ARN | account id | "*" | [...]});
    identities: the caller's principal ARNs (its account's root ARN included)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS", [])):
        value = str(value)
        if value == "*" or value in identities:
            return True
        if re.fullmatch(r"\d{12}", value) and f"arn:aws:iam::{value}:root" in identities:
            return True
    return False


def _statement_applies(name, statement, effect, action, context, identities=None):
    """Does this statement of the given effect match the action, the principal (when
    identities is given: trust policies) and its Condition in context?"""
    if str(statement.get("Effect", "")).lower() != effect:
        return False
    if not _statement_actions_match(statement, action):
        return False
    if identities is not None:
        if "Principal" in statement:
            if not principal_matches(statement["Principal"], identities):
                return False
        elif "NotPrincipal" in statement:
            if principal_matches(statement["NotPrincipal"], identities):
                return False
        else:
            return False
    try:
        return conditions_hold(statement.get("Condition"), context)
    except UnknownOperator as exc:
        print(f"emulator: policy {name}: unknown condition operator {exc}; "
              "statement ignored", file=sys.stderr)
        return False


def matching_denies(documents, action, context):
    """documents: [(policy_name, policy_json_or_dict)]. Returns [(policy_name, statement)]
    of the Deny statements that match action and whose Condition holds in context."""
    return [(name, statement) for name, statement in _documents_statements(documents)
            if _statement_applies(name, statement, "deny", action, context)]


def trust_allows(document, action, identities, context):
    """A role's trust policy (JSON or dict): True when an Allow statement matches the action,
    one of the caller's identities and its Condition, and no Deny statement does."""
    statements = list(_documents_statements([("trust policy", document)]))
    if any(_statement_applies(n, s, "deny", action, context, identities) for n, s in statements):
        return False
    return any(_statement_applies(n, s, "allow", action, context, identities)
               for n, s in statements)
