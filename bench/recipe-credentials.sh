#!/usr/bin/env bash
# The credential part of the manual recipe (tests/recipe/manual-recipe.sh, steps "Obtain AWS
# session credentials" .. "View expiration time"), verbatim but for `set -e`, so that a refused
# code fails the benchmark instead of timing an error. Usage: recipe-credentials.sh ENV_FILE,
# where ENV_FILE (written by `bench.py prepare recipe`) exports AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_MFA_SERIAL_NUMBER and AWS_MFA_TOKEN_CODE for this run.
set -euo pipefail
# shellcheck disable=SC1090
source "$1"

aws sts get-session-token \
  --serial-number ${AWS_MFA_SERIAL_NUMBER} \
  --token-code ${AWS_MFA_TOKEN_CODE} \
  > ~/aws-sts-get-session-token.json

export AWS_ACCESS_KEY_ID=$(jq --raw-output ".Credentials.AccessKeyId" ~/aws-sts-get-session-token.json)
export AWS_SECRET_ACCESS_KEY=$(jq --raw-output ".Credentials.SecretAccessKey" ~/aws-sts-get-session-token.json)
export AWS_SESSION_TOKEN=$(jq --raw-output ".Credentials.SessionToken" ~/aws-sts-get-session-token.json)

echo "AWS token expires: $(jq --raw-output ".Credentials.Expiration" ~/aws-sts-get-session-token.json)"
