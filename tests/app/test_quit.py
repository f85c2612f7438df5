"""Quitting while the model answers is clean, every time.

A real `n1studio gui` process (offscreen) opens PGLib case14, asks the real default model and
has its window closed while the model reads the prompt or streams its answer; the process
must exit 0 with nothing on stderr that looks like a crash (a worker traceback, or PySide6's
dropped references ending in "Fatal Python error: bool_dealloc"), and leave no worker behind.
The window is driven from inside the process through its public parts (the model panel's
ask signal, its token and status display), the way a user's clicks reach them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.slow  # a GUI process and the real model, a few times

DRIVER = textwrap.dedent("""
    import json, multiprocessing, sys
    from PySide6 import QtCore, QtWidgets
    from n1studio.cli import main

    case, when, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = QtWidgets.QApplication(sys.argv[:1])
    state = {"asked": False, "closed_at": None, "tokens": 0, "prompt": 0, "workers": []}

    def window():
        for w in app.topLevelWidgets():
            if type(w).__name__ == "MainWindow" and w.isVisible():
                return w
        return None

    def close(win, why):
        if state["closed_at"] is None:
            state["closed_at"] = why
            state["workers"] = [p.pid for p in multiprocessing.active_children()]
            QtCore.QTimer.singleShot(0, win.close)

    def tick():
        win = window()
        if win is None or state["asked"] or getattr(win, "session", None) is None:
            return
        mp = win.model_panel
        real_token, real_stats = mp.append_token, mp.set_stats

        def token(text):
            real_token(text)
            state["tokens"] += 1
            if when == "token" and state["tokens"] >= nth:
                close(win, f"token {state['tokens']}")

        def stats(text):
            real_stats(text)
            if text.startswith("reading the prompt"):
                state["prompt"] += 1
                if when == "prompt" and state["prompt"] >= nth:
                    close(win, "reading the prompt: " + text)

        mp.append_token, mp.set_stats = token, stats
        state["asked"] = True
        mp.askRequested.emit()

    timer = QtCore.QTimer()
    timer.timeout.connect(tick)
    timer.start(100)
    QtCore.QTimer.singleShot(600_000, lambda: app.exit(9))  # never hang the test run
    rc = main(["gui", case])
    print("STATE " + json.dumps(state), flush=True)
    sys.exit(rc)
""")

CRASH_SIGNS = ("Traceback", "Fatal Python error", "Exception ignored", "_dealloc",
               "model worker failed", "Segmentation fault", "core dumped")


@pytest.mark.parametrize(("when", "nth"), [("prompt", 1), ("token", 1), ("token", 8)])
def test_quit_during_the_answer_is_clean(when, nth, tmp_path, pglib):
    case = str(pglib("case14_ieee"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # the window's settings stay here
    proc = subprocess.run([sys.executable, "-c", DRIVER, case, when, str(nth)], env=env,
                          capture_output=True, text=True, timeout=700, check=False)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("STATE ")]
    assert lines, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    state = json.loads(lines[-1][6:])
    assert state["closed_at"], state  # it was closed during the answer, as asked
    if when == "token":
        assert state["closed_at"] == f"token {nth}"
    else:
        assert state["closed_at"].startswith("reading the prompt")
        assert state["tokens"] == 0
    assert proc.returncode == 0, proc.stderr[-3000:]
    for sign in CRASH_SIGNS:
        assert sign not in proc.stderr, proc.stderr[-3000:]
    time.sleep(0.5)
    for pid in state["workers"]:  # the model worker went with the window
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), f"worker {pid} still runs"


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
