"""TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps) from a Base32 seed.

Shared by the emulator (which checks codes) and the test fixture (which computes them),
so both sides agree by construction; the RFC test vector in test_totp.py keeps them honest.
"""
import base64
import hashlib
import hmac
import struct
import time

STEP_SECONDS = 30
DIGITS = 6


def current_step(t=None):
    """The 30-second step number of Unix time t (default: now)."""
    return int((time.time() if t is None else t) // STEP_SECONDS)


def code_at_step(seed_b32, step):
    """The 6-digit code of the Base32 seed at a given step (RFC 4226 dynamic truncation)."""
    key = base64.b32decode(seed_b32.upper() + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def totp(seed_b32, t=None, step_offset=0):
    """The code of the seed at time t (default now), step_offset steps later (or earlier)."""
    return code_at_step(seed_b32, current_step(t) + step_offset)
