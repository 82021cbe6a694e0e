"""Helpers of scripts/bench that are easier in Python than in bash.

  bench.py pool    WORK ENDPOINT COUNT   creates COUNT MFA-ready IAM users (tests/emulator/fixture.py)
                                         into WORK/pool.json, a few at a time
  bench.py prepare WORK CASE             hands the next unused user of the pool to CASE: writes that
                                         tool's AWS files (in WORK/home/CASE) and the user's current
                                         TOTP code (WORK/case/CASE/code), and logs the user's key in
                                         WORK/used/CASE. Run as hyperfine's --prepare: the code is
                                         computed before the timer starts, for every tool alike.
  bench.py check   WORK ENDPOINT SPEC..  checks GET /_awsmfa/stats: SPEC is CASE=N (CASE used N users,
                                         each of which made exactly one successful GetSessionToken
                                         and one attempt) or CASE=N/M (N users, M calls in all)
  bench.py phases  TRACE                 prints where a fresh `awsmfa login` spends its time, from an
                                         `strace -f -ttt` trace of it (markdown)
  bench.py report  WORK OUT              writes bench/results.md from WORK (hyperfine JSON, RSS, facts)

Why one user per fresh run: AWS (and the emulator) accepts each TOTP code once, within +-1
step of 30 s, and hyperfine repeats a command many times a second. With a new user, a new
device and so a new code every run, each fresh run costs the emulator exactly the same.
"""
import json
import os
import statistics
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "emulator"))
from totp import totp  # noqa: E402

REGION = "us-east-1"


# ---------------------------------------------------------------------------------- pool
def pool(work, endpoint, count):
    import fixture  # imports boto3: only here, so `prepare` stays quick

    with ThreadPoolExecutor(max_workers=4) as ex:
        users = list(ex.map(lambda _: fixture.create_user(endpoint), range(int(count))))
    path = Path(work) / "pool.json"
    path.write_text(json.dumps(users))
    (Path(work) / "pool.next").write_text("0")
    print(f"{len(users)} users in {path}", file=sys.stderr)


def take_user(work, case):
    """The next user of the pool, logged as used by `case`."""
    work = Path(work)
    users = json.loads((work / "pool.json").read_text())
    counter = work / "pool.next"
    i = int(counter.read_text())
    if i >= len(users):
        sys.exit(f"bench.py: the pool of {len(users)} users is used up (case {case})")
    counter.write_text(str(i + 1))
    user = users[i]
    used = work / "used"
    used.mkdir(exist_ok=True)
    with open(used / case, "a") as f:
        f.write(f"{user['access_key_id']} {user['serial']}\n")
    return user


# ------------------------------------------------------------------------------- prepare
def write(path, text, mode=0o600):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def awsmfa_files(home, user, extra_config=""):
    """awsmfa's layout (README): mfa_serial in the profile, keys in [NAME-long-term]."""
    write(home / ".aws" / "config",
          f"[default]\nregion = {REGION}\nmfa_serial = {user['serial']}\n{extra_config}")
    write(home / ".aws" / "credentials",
          f"[default-long-term]\naws_access_key_id = {user['access_key_id']}\n"
          f"aws_secret_access_key = {user['secret_access_key']}\n")


def prepare(work, case):
    work = Path(work)
    user = take_user(work, case)
    home = work / "home" / case
    here = work / "case" / case
    here.mkdir(parents=True, exist_ok=True)
    code = totp(user["seed"])
    write(here / "code", code + "\n")
    endpoint = user["endpoint"]

    if case == "floor-curl":
        # curl's own SigV4 (--aws-sigv4), the request AWS documents for GetSessionToken.
        data = urllib.parse.urlencode({
            "Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": "43200",
            "SerialNumber": user["serial"], "TokenCode": code,
        })
        write(here / "curl.cfg", "\n".join([
            f'url = "{endpoint}/"',
            f'aws-sigv4 = "aws:amz:{REGION}:sts"',
            f'user = "{user["access_key_id"]}:{user["secret_access_key"]}"',
            f'data = "{data}"',
            'header = "Content-Type: application/x-www-form-urlencoded; charset=utf-8"',
            f'output = "{here}/answer.xml"',
            "silent", "show-error", "fail", "",
        ]))
    elif case in ("recipe", "aws-sts"):
        write(here / "env", "".join(f"export {k}='{v}'\n" for k, v in [
            ("AWS_ACCESS_KEY_ID", user["access_key_id"]),
            ("AWS_SECRET_ACCESS_KEY", user["secret_access_key"]),
            ("AWS_MFA_SERIAL_NUMBER", user["serial"]),
            ("AWS_MFA_TOKEN_CODE", code),
        ]))
    elif case.startswith("aws-mfa"):
        # aws-mfa's layout: [default-long-term] with aws_mfa_device; it writes [default].
        write(home / ".aws" / "credentials",
              f"[default-long-term]\naws_access_key_id = {user['access_key_id']}\n"
              f"aws_secret_access_key = {user['secret_access_key']}\n"
              f"aws_mfa_device = {user['serial']}\n")
        write(home / ".aws" / "config", f"[default]\nregion = {REGION}\n")
    elif case.startswith("awsume"):
        # awsume's layout: a profile with its keys and mfa_serial; it caches in ~/.awsume/cache.
        write(home / ".aws" / "credentials",
              f"[bench]\naws_access_key_id = {user['access_key_id']}\n"
              f"aws_secret_access_key = {user['secret_access_key']}\n")
        write(home / ".aws" / "config",
              f"[profile bench]\nregion = {REGION}\nmfa_serial = {user['serial']}\n")
    elif case == "parallel32":
        # An empty cache, and a code source that logs each of its runs (by device serial).
        mfa = here / "mfa.sh"
        write(mfa, f'#!/bin/sh\necho "$AWSMFA_SERIAL" >> "{here}/mfa-runs"\ncat "{here}/code"\n', 0o700)
        awsmfa_files(home, user, f"mfa_process = {mfa}\n")
        cache = home / ".aws" / "awsmfa"
        if cache.exists():
            for f in cache.iterdir():
                f.unlink()
        out = here / "out"
        out.mkdir(exist_ok=True)
        for f in out.iterdir():
            f.unlink()
    elif case.startswith("awsmfa"):
        awsmfa_files(home, user)
    else:
        sys.exit(f"bench.py: unknown case {case}")


# --------------------------------------------------------------------------------- check
def fetch_stats(endpoint):
    with urllib.request.urlopen(f"{endpoint}/_awsmfa/stats", timeout=10) as r:
        return json.load(r)


def check(work, endpoint, specs):
    stats = fetch_stats(endpoint)
    ok_calls = stats.get("get_session_token", {})
    attempts = stats.get("get_session_token_attempts", {})
    problems, lines = [], []
    for spec in specs:
        case, want = spec.split("=")
        want_users, _, want_calls = want.partition("/")
        used_file = Path(work) / "used" / case
        keys = [line.split()[0] for line in used_file.read_text().splitlines()] if used_file.exists() else []
        calls = sum(ok_calls.get(k, 0) for k in keys)
        tries = sum(attempts.get(k, 0) for k in keys)
        expect_calls = int(want_calls) if want_calls else int(want_users)
        lines.append(f"{case}: {len(keys)} users, {calls} GetSessionToken ({tries} attempts); "
                     f"expected {want_users} users, {expect_calls} calls")
        if len(keys) != int(want_users) or calls != expect_calls or tries != expect_calls:
            problems.append(lines[-1])
        if not want_calls and any(ok_calls.get(k, 0) != 1 for k in keys):
            problems.append(f"{case}: some user made more or fewer than one call")
    Path(work, "stats-check.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), file=sys.stderr)
    if problems:
        sys.exit("bench.py check FAILED:\n" + "\n".join(problems))


# -------------------------------------------------------------------------------- phases
def phases(trace):
    """Milestones of a fresh login, from `strace -f -ttt -o TRACE awsmfa login ...`."""
    import re
    events = []  # (time, syscall line without pid)
    for line in Path(trace).read_text().splitlines():
        m = re.match(r"^(?:\d+\s+)?(\d+\.\d+)\s+(.*)$", line)
        if m:
            events.append((float(m.group(1)), m.group(2)))
    if not events:
        return ""
    t0 = events[0][0]

    def first(pattern, after=0.0):
        for t, text in events:
            if t >= after and re.search(pattern, text):
                return t
        return None

    def last(pattern):
        found = [t for t, text in events if re.search(pattern, text)]
        return found[-1] if found else None

    sock = first(r"^socket\(AF_INET")
    marks = [
        ("process start (execve)", t0),
        ("dynamic loading done, settings: first read of ~/.aws/config", first(r"openat\(.*\.aws/config")),
        ("the MFA code recorded as used (first fsync)", first(r"^fsync\(")),
        ("TLS roots: first open of /etc/ssl", first(r"openat\(.*/etc/ssl")),
        ("TLS roots: last open of /etc/ssl", last(r"openat\(.*/etc/ssl")),
        ("async runtime started (epoll_create1)", first(r"^epoll_create1")),
        ("TCP connect to the endpoint", first(r"^connect\(")),
        ("request sent", first(r"^(writev|sendto|write)\(\d+, \"?\[?\{?(iov_base=)?\"?POST", sock or 0)),
        ("first byte of the answer read", first(r"^(recvfrom|read)\(\d+, \"HTTP/1", sock or 0)),
        ("session stored (last rename)", last(r"^rename\(")),
        ("exit_group", last(r"^exit_group")),
    ]
    rows = ["| milestone | ms since start | ms since the previous one |", "|---|---:|---:|"]
    prev = t0
    for name, t in marks:
        if t is None:
            rows.append(f"| {name} | — | — |")
            continue
        rows.append(f"| {name} | {(t - t0) * 1000:.2f} | {(t - prev) * 1000:.2f} |")
        prev = t
    return "\n".join(rows)


# -------------------------------------------------------------------------------- report
def ms(seconds):
    v = seconds * 1000
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def load_case(work, case):
    path = Path(work) / "json" / f"{case}.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text())["results"][0]
    rss_file = Path(work) / "rss" / case
    rss = [int(x) for x in rss_file.read_text().split()] if rss_file.exists() else []
    result["rss_kib"] = max(rss) if rss else None
    return result


def report(work, out):
    work = Path(work)
    facts = json.loads((work / "facts.json").read_text())
    cases = [json.loads(line) for line in (work / "cases.jsonl").read_text().splitlines()]
    res = {c["id"]: load_case(work, c["id"]) for c in cases}

    def median(cid):
        r = res.get(cid)
        return r["median"] if r else None

    lines = [
        "# awsmfa benchmark",
        "",
        f"Machine: {facts['nproc']} cores ({facts['cpu']}), {facts['mem']} memory; "
        f"{facts['date']}; {facts['kernel']}.",
        f"awsmfa {facts['awsmfa_version']} at commit `{facts['commit']}`{facts['dirty']}; "
        f"binary {facts['binary_bytes']:,} bytes ({facts['binary_bytes'] / 1048576:.1f} MiB; "
        f"{facts['binary_kind']}).",
        f"Peers: {facts['peers']}; Python {facts['python']} (the real interpreter: "
        f"`{facts['python_real']}`, no pyenv shim); hyperfine {facts['hyperfine']}; "
        f"curl {facts['curl']}.",
        "",
        "Produced by `scripts/bench` in one run against the local emulator (moto + the MFA layer, "
        "on 127.0.0.1, sharing the two cores with the tool under test). Times are wall-clock "
        "per command, in milliseconds. *Fresh* means one real GetSessionToken with a new MFA code "
        "per run (every run, warm-up included, has its own IAM user and virtual MFA device, "
        "prepared outside the timing by hyperfine's `--prepare`, which also computes the code); "
        "*cached* means a valid session already on disk. Peak RSS is the largest `max RSS` that "
        "`/usr/bin/time` reported over a few extra runs of the command (for a script, its "
        "largest process). The ratio compares each row with the awsmfa case named in the "
        "last column (> 1: slower than awsmfa).",
        "",
        "| # | case | median ms | min–max ms | mean ± σ ms | runs (+warm-up) | peak RSS | vs awsmfa |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in cases:
        r = res[c["id"]]
        if r is None:
            lines.append(f"| {c['group']} | {c['title']} | — | — | — | — | — | not run: {c.get('note', '')} |")
            continue
        rss = f"{r['rss_kib'] / 1024:.1f} MiB" if r["rss_kib"] else "—"
        vs = ""
        if c.get("vs") and median(c["vs"]):
            vs = f"{r['median'] / median(c['vs']):.2f}× `{c['vs']}`"
        lines.append(
            f"| {c['group']} | {c['title']} | {ms(r['median'])} | {ms(r['min'])}–{ms(r['max'])} | "
            f"{ms(r['mean'])} ± {ms(r['stddev'] or 0)} | {len(r['times'])} (+{c['warmup']}) | {rss} | {vs} |")
    lines += ["", "Commands (`$W` is the run's temp dir; `$B` the bench venv's bin; hyperfine "
              "`-N` means no shell, else `sh -c` with hyperfine's shell-spawn correction):", ""]
    for c in cases:
        lines.append(f"- `{c['id']}`: `{c['shown']}`{' (-N)' if c['no_shell'] else ' (sh)'}"
                     + (f" — {c['note']}" if c.get("note") else ""))

    # Targets
    t = []
    cp, env, login, curl = (median(x) for x in ("awsmfa-credential-process", "awsmfa-env",
                                                "awsmfa-login", "floor-curl"))
    rss_cp = res["awsmfa-credential-process"]["rss_kib"] if res.get("awsmfa-credential-process") else None
    rss_env = res["awsmfa-env"]["rss_kib"] if res.get("awsmfa-env") else None

    def verdict(ok):
        return "**met**" if ok else "**missed**"

    if cp and env:
        t.append(f"- cached `credential-process` median {ms(cp)} ms, `env` {ms(env)} ms (target ≤ 2 ms): "
                 f"{verdict(cp <= 0.002 and env <= 0.002)}.")
    if rss_cp and rss_env:
        t.append(f"- cached peak RSS: `credential-process` {rss_cp / 1024:.1f} MiB, `env` "
                 f"{rss_env / 1024:.1f} MiB (target ≤ 6 MiB): {verdict(max(rss_cp, rss_env) <= 6 * 1024)}.")
    if login and curl:
        t.append(f"- fresh `login --force` {ms(login)} ms = {login / curl:.2f}× the raw HTTP floor "
                 f"(curl, {ms(curl)} ms; target ≤ 1.5×): {verdict(login <= 1.5 * curl)}.")
    for peer, what in [("recipe", "the manual recipe (credential part)"),
                       ("aws-sts", "`aws sts get-session-token` alone"),
                       ("aws-mfa-fresh", "aws-mfa --force"), ("awsume-fresh", "awsume -r (fresh)")]:
        if median(peer) and login:
            t.append(f"- {what}: {ms(median(peer))} ms, {median(peer) / login:.1f}× awsmfa `login --force`.")
    for peer, what in [("aws-mfa-cached", "aws-mfa with a valid session"),
                       ("awsume-cached", "awsume with a valid cache")]:
        if median(peer) and env:
            t.append(f"- {what}: {ms(median(peer))} ms, {median(peer) / env:.0f}× awsmfa `env` (cached).")
    cli_cp, cli_static = median("cli-credential-process"), median("cli-static")
    if cli_cp and cli_static:
        a, b = res["cli-credential-process"], res["cli-static"]
        overlap = a["min"] <= b["max"] and b["min"] <= a["max"]
        t.append(f"- the AWS CLI with `credential_process = awsmfa credential-process`: {ms(cli_cp)} ms "
                 f"against {ms(cli_static)} ms with static keys (medians; difference {ms(cli_cp - cli_static)} ms, "
                 f"{(cli_cp / cli_static - 1) * 100:+.1f} %)"
                 + (": the ranges overlap, so what awsmfa adds to a CLI call is below the CLI's own run-to-run "
                    "noise; a cached `credential-process` by itself takes the row-4 time above."
                    if overlap else "."))
    par = res.get("parallel32")
    if par:
        t.append(f"- 32 parallel `credential-process` on an empty cache: median {ms(par['median'])} ms wall "
                 f"({par['median'] / login:.2f}× one `login --force`); {facts.get('parallel_calls', '?')}."
                 if login else f"- 32 parallel: median {ms(par['median'])} ms")
    lines += ["", "## Targets and ratios", ""] + t

    d1, d2 = median("awsmfa-login-no-cert-dir"), median("awsmfa-login-one-root")
    if login and d1 and d2 and curl:
        t.append(f"- of the fresh login's {ms(login)} ms, loading the system's CA roots costs about "
                 f"{ms(login - d2)} ms (with one root: {ms(d2)} ms = {d2 / curl:.2f}× the curl floor), of which "
                 f"the second pass over every file of /etc/ssl/certs costs about {ms(login - d1)} ms "
                 f"(bundle file only: {ms(d1)} ms).")
    lines += ["", "## Checks", "",
              "STS calls per case, from the emulator's `GET /_awsmfa/stats` (users logged by "
              "`bench.py prepare`; every fresh run and warm-up must make exactly one successful "
              "GetSessionToken and no failed one; cached runs none):", "", "```",
              (work / "stats-check.txt").read_text().rstrip(), "```", ""]
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    for name in ("strace", "extra"):
        f = work / f"{name}.md"
        if f.exists():
            lines += [f.read_text().rstrip(), ""]
    Path(out).write_text("\n".join(lines) + "\n")


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "pool":
        pool(*args)
    elif cmd == "prepare":
        prepare(*args)
    elif cmd == "check":
        check(args[0], args[1], args[2:])
    elif cmd == "phases":
        print(phases(args[0]))
    elif cmd == "report":
        report(*args)
    elif cmd == "totp":
        print(totp(args[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
