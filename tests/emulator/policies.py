"""Identity-policy evaluation of the emulator: which explicit Deny statements match a call.

Owns: Action / NotAction matching (wildcards `*` and `?`, case-insensitive) and the
Condition operators the MFA story needs: Bool, BoolIfExists, Null, and Numeric* (+IfExists).
Simplifications (see README): Resource / NotResource are treated as matching; a statement
with an unknown condition operator does not apply (logged on stderr); there is no implicit
deny: a call without a matching Deny is allowed (no Allow is required).
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


def _as_list(value):
    return value if isinstance(value, list) else [value]


def action_matches(pattern, action):
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, re.IGNORECASE) is not None


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


def matching_denies(documents, action, context):
    """documents: [(policy_name, policy_json_or_dict)]. Returns [(policy_name, statement)]
    of the Deny statements that match action and whose Condition holds in context."""
    matched = []
    for name, document in documents:
        if isinstance(document, str):
            document = json.loads(document)
        for statement in _as_list(document.get("Statement", [])):
            if str(statement.get("Effect", "")).lower() != "deny":
                continue
            if not _statement_actions_match(statement, action):
                continue
            try:
                holds = conditions_hold(statement.get("Condition"), context)
            except UnknownOperator as exc:
                print(f"emulator: policy {name}: unknown condition operator {exc}; "
                      "statement ignored", file=sys.stderr)
                continue
            if holds:
                matched.append((name, statement))
    return matched
