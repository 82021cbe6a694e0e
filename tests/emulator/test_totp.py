"""TOTP codes agree with RFC 6238 (SHA-1 test vectors), in the module and the fixture CLI."""
import subprocess
import sys
from pathlib import Path

import fixture

RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"


def test_codes_match_the_rfc_6238_vectors():
    # The RFC lists 8-digit codes; 6-digit codes are their last six digits.
    assert fixture.totp(RFC_SEED, t=59) == "287082"
    assert fixture.totp(RFC_SEED, t=1111111109) == "081804"
    assert fixture.totp(RFC_SEED, t=1234567890) == "005924"


def test_step_offset_moves_by_thirty_seconds():
    assert fixture.totp(RFC_SEED, t=29, step_offset=1) == fixture.totp(RFC_SEED, t=59)


def test_fixture_cli_prints_the_current_code():
    out = subprocess.run([sys.executable, str(Path(fixture.__file__)), "totp", RFC_SEED,
                          "--offset", "0"], capture_output=True, text=True, check=True).stdout
    assert out.strip() in {fixture.totp(RFC_SEED, step_offset=k) for k in (-1, 0)}
