#!/usr/bin/env bash
# Starts N copies of a command at once and waits for all of them; fails unless every copy
# exited 0 and printed credential_process JSON. Usage: parallel.sh N OUT_DIR CMD [ARGS...]
# Each copy's stdout goes to OUT_DIR/I.out; it is checked after the wait with bash builtins
# only (no grep), so the check adds no process to the timing.
set -uo pipefail
n=$1 out=$2
shift 2
pids=()
for ((i = 0; i < n; i++)); do
  "$@" > "$out/$i.out" 2> "$out/$i.err" &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "copy $i failed: $(cat "$out/$i.err")" >&2; failed=1; }
done
for ((i = 0; i < n; i++)); do
  text=""
  IFS= read -r -d '' text < "$out/$i.out"
  [[ $text == *'"AccessKeyId"'* ]] || { echo "copy $i printed no credentials" >&2; failed=1; }
done
exit $failed
