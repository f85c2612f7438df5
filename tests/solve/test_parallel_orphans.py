"""Issue 19: `kill -9` of `dataset build --workers 2` must not leave its worker processes
(about 320 MB each) nor multiprocessing's resource tracker running. A real build, a real
SIGKILL, and the process table read back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), fields[0]


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] not in ("Z", "X")  # a zombie has ended


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _stat(int(d.name))
            if st is not None and st[0] == pid:
                out.append(int(d.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def test_kill_9_of_a_parallel_build_leaves_no_process_behind(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    build = subprocess.Popen(
        [sys.executable, "-m", "n1studio.cli", "dataset", "build", "case30", "--study",
         str(tmp_path / "s.n1study"), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        # wait until both workers have loaded the solver stack (past their imports: busy)
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline:
            kids = _children(build.pid)
            workers = [k for k in kids if "resource_tracker" not in _cmdline(k)]
            if len(workers) == 2 and all(_rss_mb(w) > 150 for w in workers):
                break
            assert build.poll() is None, "the build ended before its workers were seen"
            time.sleep(0.2)
        else:
            pytest.fail(f"two busy workers never appeared (saw {workers})")
        descendants = set(_children(build.pid))
        trackers = [k for k in descendants if "resource_tracker" in _cmdline(k)]
        assert trackers, "the spawn context starts a resource tracker"
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in descendants):
            time.sleep(0.2)
        left = {p: _cmdline(p) for p in descendants if _alive(p)}
        assert not left, f"still running after the parent was killed: {left}"
    finally:  # whatever happened, nothing of this build outlives the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
