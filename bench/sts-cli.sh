#!/usr/bin/env bash
# `aws sts get-session-token` alone, as the recipe calls it, without the jq steps: what the
# AWS CLI itself costs for one GetSessionToken. Usage: sts-cli.sh ENV_FILE (as for
# recipe-credentials.sh, written by `bench.py prepare aws-sts`).
set -euo pipefail
# shellcheck disable=SC1090
source "$1"
exec aws sts get-session-token \
  --serial-number "${AWS_MFA_SERIAL_NUMBER}" \
  --token-code "${AWS_MFA_TOKEN_CODE}" > /dev/null
