"""Runs a command on a new pseudo-terminal, as a person at a terminal would, and types
answers when the terminal shows a prompt.

usage: pty_answer.py PROMPT ANSWER [ANSWER...] -- COMMAND [ARGS...]

Each ANSWER is typed (with Enter) the next time PROMPT appears on the terminal: pass the
whole prompt, up to its last character, so that an answer is never typed while the prompt
is still being written (the echo would land inside it). Prints
everything the terminal showed to stdout (so tests can read it) and exits with the
command's exit code. Gives up after 30 s.

An ANSWER `@wait:PATH` types the contents of file PATH, once it exists (another part of
the test writes it: a code a browser showed). With AWSMFA_PTY_TEE=FILE set, everything the
terminal shows is also appended to FILE as it comes (for a test to read a URL from).
"""
import os
import pty
import select
import sys
import time


def main():
    split = sys.argv.index("--")
    prompt, answers = sys.argv[1].encode(), sys.argv[2:split]
    command = sys.argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    seen, typed, deadline = b"", 0, time.time() + 30
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            tee = os.environ.get("AWSMFA_PTY_TEE")
            if tee:
                with open(tee, "ab") as f:
                    f.write(chunk)
        if typed < len(answers) and seen.count(prompt) > typed:
            answer = answers[typed]
            if answer.startswith("@wait:"):
                if not os.path.exists(answer[6:]):
                    continue
                with open(answer[6:]) as f:
                    answer = f.read().strip()
            os.write(fd, answer.encode() + b"\n")
            typed += 1
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
