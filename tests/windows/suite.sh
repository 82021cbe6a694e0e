#!/usr/bin/env bash
# The Windows end-to-end suite: awsmfa.exe (x86_64-pc-windows-gnu) run under Wine against the
# local emulator, in a throwaway Wine prefix whose user profile is the HOME awsmfa finds
# (HOME unset: USERPROFILE, as on Windows). Closes with "N passed, N failed in Ts".
#
#   tests/windows/suite.sh AWSMFA_EXE ENDPOINT
#
# What Wine cannot show, and how it is covered instead: NTFS ACLs are not enforced (Wine maps
# files to Unix ones), so the private-file guarantees rest on the user profile's ACL (see
# src/platform/windows.rs) and are not tested here; Credential Manager is Wine's stub, so the
# keychain backend is covered on Linux (Secret Service) and the file keystore runs here.
set -uo pipefail
exe="$1" endpoint="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$("$root/scripts/venv")"
SECONDS=0
work="$(mktemp -d)"
trap 'wineserver -k 2>/dev/null; rm -rf "$work"' EXIT

export WINEPREFIX="$work/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
mkdir -p "$work/bin"
cp "$exe" "$work/bin/awsmfa.exe"
# Test harness only: Wine 8 lacks ProcessPrng, which Rust's standard library imports.
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bin/bcryptprimitives.dll" \
    "$root/tests/windows/bcryptprimitives.c" "$root/tests/windows/bcryptprimitives.def" -ladvapi32
wineboot -i >/dev/null 2>&1
wineserver -w
profile="$WINEPREFIX/drive_c/users/$(id -un)"
mkdir -p "$profile/.aws"

user="$("$venv/bin/python" "$root/tests/emulator/fixture.py" --endpoint "$endpoint")"
field() { jq -r ".$1" <<<"$user"; }
stats() { curl -s "$endpoint/_awsmfa/stats" | jq ".get_session_token[\"$(field access_key_id)\"] // 0"; }
# A credentials file as Windows tools write it: CRLF.
printf '# keys\r\n[default]\r\naws_access_key_id = %s\r\naws_secret_access_key = %s\r\n' \
    "$(field access_key_id)" "$(field secret_access_key)" >"$profile/.aws/credentials"
printf '[default]\r\nregion = us-east-1\r\nmfa_serial = %s\r\n' "$(field serial)" >"$profile/.aws/config"
original="$(cat "$profile/.aws/credentials")"

# awsmfa.exe with HOME unset (the profile is found through USERPROFILE), the emulator, and
# the device's seed where a code is needed.
awsmfa() {
    env -u HOME AWS_ENDPOINT_URL="$endpoint" AWSMFA_TOTP_SECRET="$(field seed)" \
        wine "$work/bin/awsmfa.exe" "$@" 2>"$work/stderr"
}

passed=0 failed=0
check() {
    local name="$1"
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok     $name"
    else
        failed=$((failed + 1))
        echo "FAILED $name" >&2
        sed 's/^/       stderr: /' "$work/stderr" >&2 2>/dev/null || true
    fi
}

t_version() { awsmfa --version | tr -d '\r' | grep -qx "awsmfa $(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)"; }
t_login() { awsmfa login >/dev/null && [ "$(stats)" = 1 ]; }
t_cache_in_profile() { ls "$profile/.aws/awsmfa/"session-*.json >/dev/null 2>&1; }
t_env_default_powershell() { awsmfa env | tr -d '\r' | grep -q '^\$Env:AWS_ACCESS_KEY_ID="ASIA'; }
t_env_cmd() { awsmfa env --format windows-cmd | tr -d '\r' | grep -q '^set AWS_SESSION_TOKEN=.'; }
t_credential_process() { awsmfa credential-process | tr -d '\r' | jq -e '.Version == 1 and (.AccessKeyId | startswith("ASIA"))' >/dev/null; }
t_status() { awsmfa status | tr -d '\r' | grep -q '^session: *valid until'; }
t_exec_exit_code() {
    awsmfa exec -- cmd /c exit 3 >/dev/null
    [ $? = 3 ]
}
t_exec_env() { awsmfa exec -- cmd /c echo %AWS_SESSION_TOKEN% | tr -d '\r' | grep -q '^[A-Za-z0-9+/=]\{20,\}'; }
t_write_profile_crlf() {
    awsmfa login --write-profile mfa >/dev/null || return 1
    local now
    now="$(cat "$profile/.aws/credentials")"
    [[ "$now" == "$original"* ]] && ! grep -q $'[^\r]$' <(sed -n '1,$p' "$profile/.aws/credentials" | grep -v '^$') &&
        grep -q $'^\\[mfa\\]\r$' "$profile/.aws/credentials"
}
t_parallel_one_sts_call() {
    awsmfa logout --all >/dev/null || return 1
    local before pids=() i
    before="$(stats)"
    for i in 1 2 3 4 5 6; do
        awsmfa credential-process >"$work/par.$i" 2>/dev/null &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || return 1; done
    [ "$(($(stats) - before))" = 1 ] && jq -e '.Version == 1' "$work/par.1" >/dev/null
}
t_file_keystore() {
    env -u HOME AWS_ENDPOINT_URL="$endpoint" AWSMFA_KEYSTORE_PASSPHRASE=wine-pass \
        wine "$work/bin/awsmfa.exe" keys import --keystore file 2>"$work/stderr" || return 1
    ! grep -q aws_secret_access_key <(sed -n '/^\[default\]/,/^\[/p' "$profile/.aws/credentials") &&
        [ -s "$profile/.aws/awsmfa-keys.age" ] &&
        env -u HOME AWS_ENDPOINT_URL="$endpoint" AWSMFA_KEYSTORE_PASSPHRASE=wine-pass AWSMFA_TOTP_SECRET="$(field seed)" \
            wine "$work/bin/awsmfa.exe" login --force >/dev/null 2>"$work/stderr"
}

check "--version" t_version
check "login with a seed (one GetSessionToken)" t_login
check "the cache is under the user profile (USERPROFILE)" t_cache_in_profile
check "env prints PowerShell by default" t_env_default_powershell
check "env --format windows-cmd" t_env_cmd
check "credential-process prints the SDKs' JSON" t_credential_process
check "status" t_status
check "exec passes the command's exit code through" t_exec_exit_code
check "exec gives the command the session" t_exec_env
check "login --write-profile keeps a CRLF file byte for byte" t_write_profile_crlf
check "6 parallel credential-process, empty cache: one STS call" t_parallel_one_sts_call
check "keys import into the file keystore, then a login from it" t_file_keystore

echo "windows (Wine): $passed passed, $failed failed in ${SECONDS}s"
[ "$failed" = 0 ]
