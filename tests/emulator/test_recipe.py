"""The manual recipe of docs/how-to-recipe.md, run as written with the real AWS CLI and jq, works against
the emulator; and the CLI's get-session-token refuses a wrong or a reused code."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fixture
from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is needed by the recipe")
AWS = str(Path(sys.executable).parent / "aws")


def cli_env(endpoint, user, home):
    """A clean environment: fresh HOME, the user's long-term keys, the emulator endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), PATH=f"{Path(AWS).parent}:{env.get('PATH', '')}",
               AWS_ENDPOINT_URL=endpoint, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(home / ".aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
               AWS_ACCESS_KEY_ID=user["access_key_id"],
               AWS_SECRET_ACCESS_KEY=user["secret_access_key"])
    return env


def test_the_manual_recipe_runs_as_written(endpoint, user, admin, tmp_path):
    ec2 = admin("ec2")
    keypair = f"key-{user['user_name']}"
    ec2.create_key_pair(KeyName=keypair)
    env = cli_env(endpoint, user, tmp_path)
    env.update(AWS_IMAGE_ID=ec2.describe_images()["Images"][0]["ImageId"],
               SENZING_AWS_KEYPAIR=keypair, AWS_MFA_SERIAL_NUMBER=user["serial"],
               AWS_MFA_TOKEN_CODE=fixture.totp(user["seed"]))
    run = subprocess.run([str(ROOT / "tests" / "recipe" / "manual-recipe.sh")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "UnauthorizedOperation" in run.stdout
    assert "AWS token expires: " in run.stdout and ": running" in run.stdout
    assert (tmp_path / "aws-sts-get-session-token.json").exists()
    assert run.stdout.rstrip().endswith("RECIPE OK")


def get_session_token(endpoint, user, home, code):
    return subprocess.run([AWS, "sts", "get-session-token", "--serial-number", user["serial"],
                           "--token-code", code], env=cli_env(endpoint, user, home),
                          capture_output=True, text=True, timeout=60)


def test_the_cli_is_refused_a_wrong_code(endpoint, user, tmp_path):
    valid = {fixture.totp(user["seed"], step_offset=k) for k in (-2, -1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    run = get_session_token(endpoint, user, tmp_path, wrong)
    assert run.returncode != 0
    assert "AccessDenied" in run.stderr and "invalid MFA one time pass code" in run.stderr


def test_the_cli_is_refused_a_reused_code(endpoint, user, tmp_path):
    code = fixture.totp(user["seed"])
    assert get_session_token(endpoint, user, tmp_path, code).returncode == 0
    run = get_session_token(endpoint, user, tmp_path, code)
    assert run.returncode != 0
    assert "AccessDenied" in run.stderr and "invalid MFA one time pass code" in run.stderr
