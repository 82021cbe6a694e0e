"""scripts/emulator prints exactly its ready line, serves, and exits 0 on SIGTERM / SIGINT."""
import signal
import subprocess
import urllib.request

import pytest

from conftest import ROOT


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_ready_line_then_clean_exit(sig):
    proc = subprocess.Popen([str(ROOT / "scripts" / "emulator"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ready http://127.0.0.1:") and line.endswith("\n")
        url = line.split()[1]
        with urllib.request.urlopen(url + "/_awsmfa/health", timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert out == ""  # nothing on stdout after the ready line
