#!/usr/bin/env bash
# The manual recipe of docs/how-to-recipe.md ("How to set AWS multi-factor authentication (MFA)
# credentials"), run exactly as written, with the AWS CLI and jq, plus checks of its outcome.
# Expects in the environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (long-term keys),
# AWS_DEFAULT_REGION, AWS_IMAGE_ID, SENZING_AWS_KEYPAIR, AWS_MFA_SERIAL_NUMBER,
# AWS_MFA_TOKEN_CODE, and (against the emulator) AWS_ENDPOINT_URL. Writes
# ~/aws-sts-get-session-token.json, so run it with a throwaway HOME.
set -uo pipefail

step() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*"; exit 1; }

step "Pre-test: launching EC2 without MFA must fail"
echo "AWS_IMAGE_ID=${AWS_IMAGE_ID}  SENZING_AWS_KEYPAIR=${SENZING_AWS_KEYPAIR}"
pretest_output=$(aws ec2 run-instances \
  --image-id ${AWS_IMAGE_ID} \
  --count 1 \
  --instance-type t2.micro \
  --key-name ${SENZING_AWS_KEYPAIR} 2>&1)
pretest_status=$?
echo "${pretest_output}"
[[ ${pretest_status} -ne 0 ]] || fail "run-instances succeeded without MFA"
[[ "${pretest_output}" == *UnauthorizedOperation* ]] || fail "expected UnauthorizedOperation"
echo "OK: refused without MFA (UnauthorizedOperation)"

step "Obtain AWS session credentials"
echo "AWS_MFA_SERIAL_NUMBER=${AWS_MFA_SERIAL_NUMBER}  AWS_MFA_TOKEN_CODE=${AWS_MFA_TOKEN_CODE}"
aws sts get-session-token \
  --serial-number ${AWS_MFA_SERIAL_NUMBER} \
  --token-code ${AWS_MFA_TOKEN_CODE} \
  > ~/aws-sts-get-session-token.json \
  || fail "get-session-token"
echo "Wrote ~/aws-sts-get-session-token.json"

step "Parse values out of the session information into environment variables"
export AWS_ACCESS_KEY_ID=$(jq --raw-output ".Credentials.AccessKeyId" ~/aws-sts-get-session-token.json)
export AWS_SECRET_ACCESS_KEY=$(jq --raw-output ".Credentials.SecretAccessKey" ~/aws-sts-get-session-token.json)
export AWS_SESSION_TOKEN=$(jq --raw-output ".Credentials.SessionToken" ~/aws-sts-get-session-token.json)
echo "AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}"
[[ "${AWS_ACCESS_KEY_ID}" == ASIA* ]] || fail "expected a session key (ASIA...)"

step "View expiration time of AWS session"
echo "AWS token expires: $(jq --raw-output ".Credentials.Expiration" ~/aws-sts-get-session-token.json)"

step "View AWS session token"
echo ${AWS_SESSION_TOKEN}

step "Launch EC2 (now with MFA session credentials)"
launch_output=$(aws ec2 run-instances \
  --image-id ${AWS_IMAGE_ID} \
  --count 1 \
  --instance-type t2.micro \
  --key-name ${SENZING_AWS_KEYPAIR}) || fail "run-instances with MFA session"
instance_id=$(jq --raw-output ".Instances[0].InstanceId" <<<"${launch_output}")
echo "Launched ${instance_id}"

step "Verify EC2 is running"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  state=$(aws ec2 describe-instances --instance-ids "${instance_id}" \
    --query "Reservations[0].Instances[0].State.Name" --output text) || fail "describe-instances"
  echo "${instance_id}: ${state}"
  [[ "${state}" == running ]] && { printf '\nRECIPE OK\n'; exit 0; }
  sleep 1
done
fail "instance ${instance_id} did not reach running"
