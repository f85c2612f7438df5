"""`n1studio demo --out DIR` end to end with the real default model and no screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _pixels(path: Path) -> np.ndarray:
    from PySide6 import QtGui

    img = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
    assert not img.isNull()
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    # copy: the buffer belongs to the QImage, which goes away with this function
    return arr.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4].copy()


def test_demo_writes_a_drawing_and_a_valid_verdict(tmp_path, qapp):
    out = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}  # no screen at all
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "demo", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=1500, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    png, vfile, afile = out / "grid.png", out / "verdict.json", out / "answer.json"
    assert str(png.resolve()) in proc.stdout  # it says where the picture is
    # a clean terminal: Qt's offscreen-platform notices go to the debug log
    assert "does not support" not in proc.stderr + proc.stdout
    assert "reading the prompt (" in proc.stdout and "… 1 tokens" not in proc.stdout

    arr = _pixels(png)
    assert arr.shape[0] >= 600 and arr.std() > 10
    assert len(np.unique(arr.reshape(-1, 4)[:, :3], axis=0)) > 20

    verdict = json.loads(vfile.read_text())
    assert verdict["schema"] == "n1studio.verdict/1"
    assert set(verdict["satisfaction"]) >= {"power_balance", "voltage", "gen_p", "gen_q",
                                            "thermal", "angle"}
    assert verdict["feasible"] == (not verdict["violations"])
    # the reference optimum of PGLib case14 with line 6 out is known to the verdict
    assert verdict["reference_objective"] > 2178.08  # the N optimum; an outage costs more
    run = json.loads(afile.read_text())
    assert run["case"] == "pglib_opf_case14_ieee" and run["outages"] == ["line:6"]
    assert run["answer"]["schema"] == "n1studio.answer/1"

    # the violations are drawn: the picture holds the violation colour when there are any
    from n1studio.app.theme import LIGHT
    from n1studio.grid.cases import load_case

    net = load_case("pglib_opf_case14_ieee")
    names = {f"{t}:{i}" for t in ("bus", "line", "trafo", "gen", "sgen", "ext_grid", "load")
             for i in net[t].index}
    assert {v["element"] for v in verdict["violations"]} <= names
    if verdict["violations"]:
        r, g, b = (int(LIGHT.violation[k:k + 2], 16) for k in (1, 3, 5))
        bgra = arr.reshape(arr.shape[0], -1, 4)
        hit = (np.abs(bgra[..., 2].astype(int) - r) < 8) & (np.abs(bgra[..., 1].astype(int) - g) < 8) \
            & (np.abs(bgra[..., 0].astype(int) - b) < 8)
        assert hit.sum() > 200


def test_gui_without_display_runs_the_demo_instead(tmp_path):
    """`n1studio` (what `make run` starts) on a machine with no display says so and runs the
    demo; checked here only up to the point where it starts, with a bad model file so that
    it stops at once with one clear line."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    bad = tmp_path / "not-a-model.gguf"
    bad.write_text("hello")
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "gui", "--model", str(bad)],
                          capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
                          check=False)
    assert "no display" in proc.stderr
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "GGUF" in proc.stderr or "gguf" in proc.stderr
