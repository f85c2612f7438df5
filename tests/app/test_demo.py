"""`n1studio demo --out DIR` end to end with the real default model and no screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def _pixels(path: Path) -> np.ndarray:
    from PySide6 import QtGui

    img = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
    assert not img.isNull()
    arr = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
    # copy: the buffer belongs to the QImage, which goes away with this function
    return arr.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4].copy()


def _is_colour(px: np.ndarray, hex_colour: str, tol: int = 8) -> np.ndarray:
    """Which BGRA pixels are `hex_colour` (#rrggbb), within `tol` per channel."""
    r, g, b = (int(hex_colour[k:k + 2], 16) for k in (1, 3, 5))
    return ((np.abs(px[..., 2].astype(int) - r) < tol) & (np.abs(px[..., 1].astype(int) - g) < tol)
            & (np.abs(px[..., 0].astype(int) - b) < tol))


def _replica_view(qtbot, session, entry):
    """A grid view laid out as the demo lays out its picture (same size, same call order),
    so that its screen points are the demo picture's pixels."""
    from PySide6 import QtWidgets

    from n1studio.app.canvas.gridview import GridView
    from n1studio.app.demo import banner_text

    # the demo's process has no application style sheet; a window opened by an earlier test
    # leaves its theme's (QApplication-wide), which sizes the banner and the legend otherwise
    QtWidgets.QApplication.instance().setStyleSheet("")
    view = GridView()
    qtbot.addWidget(view)
    view.resize(1400, 1000)
    view.show()
    view.set_drawing(session.drawing, session.draw_state(entry))
    # the demo's own banner: its height is part of the room the grid is fitted in
    view.set_banner(banner_text(session, entry), "warn")
    qtbot.wait(10)
    return view


@pytest.mark.slow  # the real default model answers
def test_demo_writes_a_drawing_and_a_valid_verdict(tmp_path, qtbot):
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

    from n1studio.check import check_answer
    from n1studio.grid.cases import load_case
    from n1studio.present.session import Session
    from n1studio.present.theme import LIGHT
    from n1studio.solve.reference import reference

    verdict = json.loads(vfile.read_text())
    run = json.loads(afile.read_text())
    assert verdict["schema"] == "n1studio.verdict/1"
    assert run["case"] == "pglib_opf_case14_ieee" and run["outages"] == ["line:6"]
    assert run["answer"]["schema"] == "n1studio.answer/1"
    # the tiny default model does not solve case14's AC OPF: its answer is infeasible
    assert verdict["feasible"] is False and verdict["violations"]

    # the verdict is the checker's verdict of the written answer against the variant's own
    # reference optimum, which is dearer than the N optimum (2178.08 $/h: PGLib's figure)
    session = Session(load_case(run["case"]), run["case"])
    entry = session.new_entry(tuple(run["outages"]))
    entry.prepare()
    ref, base = reference(entry.variant), reference(session.base_entry.variant)
    assert ref.success and base.success
    assert base.objective == pytest.approx(2178.08, rel=1e-4)
    assert verdict["reference_objective"] == pytest.approx(ref.objective, rel=1e-6)
    assert ref.objective > base.objective
    again = check_answer(entry.variant.model, run["answer"], reference=ref.answer,
                         reference_objective=float(ref.objective), n_reference=base.answer)
    assert [(v["constraint"], v["element"]) for v in again["violations"]] == \
        [(v["constraint"], v["element"]) for v in verdict["violations"]]
    assert again["satisfaction"] == pytest.approx(verdict["satisfaction"])

    # the picture: the buses filled with the violation colour are exactly the violated
    # buses, and every violated element has the violation colour drawn on it
    entry.verdict, entry.reference = verdict, ref
    view = _replica_view(qtbot, session, entry)
    bgra = arr.reshape(arr.shape[0], -1, 4)
    violated = {v["element"] for v in verdict["violations"]}
    assert violated <= set(session.drawing.index)

    def at(name: str, radius: int) -> np.ndarray:
        p = view.screen_point(name)
        return bgra[p.y() - radius:p.y() + radius + 1, p.x() - radius:p.x() + radius + 1]

    red_buses = {n for n in session.drawing.bus_names
                 if _is_colour(at(n, 1), LIGHT.violation).all()}
    assert red_buses == {n for n in violated if n.startswith("bus:")}
    bus_fill = {n for n in session.drawing.bus_names if _is_colour(at(n, 1), LIGHT.bus).all()}
    assert bus_fill | red_buses >= set(session.drawing.bus_names) - {
        f"bus:{b}" for b in session.net.bus.index[~session.net.bus.in_service]}
    for name in violated:
        assert _is_colour(at(name, 6), LIGHT.violation).sum() >= 4, name


def _no_display_env() -> dict:
    return {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def test_gui_without_display_runs_the_demo_instead(tmp_path):
    """`n1studio` (what `make run` starts) on a machine with no display says so and runs the
    whole demo into ./demo-out: here with `control:reference` (the ideal solver: no model
    to load), so its verdict is known, feasible, and the picture shows no violation."""
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "gui", "--model",
                           "control:reference"], capture_output=True, text=True,
                          env=_no_display_env(), timeout=600, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no display" in proc.stderr and "running the headless demo instead" in proc.stderr
    out = tmp_path / "demo-out"
    png = out / "grid.png"
    assert f"The drawing with the violations highlighted: {png.relative_to(tmp_path)}" \
        in proc.stdout.splitlines()
    assert "[3/5] asking control:reference (a control: no model)" in proc.stdout
    run = json.loads((out / "answer.json").read_text())
    verdict = json.loads((out / "verdict.json").read_text())
    assert run["case"] == "pglib_opf_case14_ieee" and run["outages"] == ["line:6"]
    assert run["model_file"] == "control:reference"
    # the ideal solver's answer is the variant's reference optimum: feasible, no gap
    assert verdict["feasible"] is True and verdict["violations"] == []
    assert verdict["cost_gap"] == pytest.approx(0.0, abs=1e-6)
    assert "verdict: feasible, 0 violation(s)" in proc.stdout

    from n1studio.present.theme import LIGHT

    raw = _pixels(png)
    assert raw.shape[0] >= 600 and raw.std() > 10  # a drawing, not a blank page
    px = raw.reshape(raw.shape[0], -1, 4)  # BGRA per pixel
    assert _is_colour(px, LIGHT.bus).sum() > 100  # the buses are drawn
    # and nothing is marked violated: the violation colour is only the legend's key, one
    # swatch (11 pixels at scale 1), not a bus, a line or a marker
    ys, xs = np.nonzero(_is_colour(px, LIGHT.violation))
    assert len(ys) and ys.max() - ys.min() <= 16 and xs.max() - xs.min() <= 16


def test_gui_without_display_and_a_bad_model_file_stops_with_one_line(tmp_path):
    bad = tmp_path / "not-a-model.gguf"
    bad.write_text("hello")
    proc = subprocess.run([sys.executable, "-m", "n1studio.cli", "gui", "--model", str(bad)],
                          capture_output=True, text=True, env=_no_display_env(), timeout=600,
                          cwd=tmp_path, check=False)
    assert "no display" in proc.stderr
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "GGUF" in proc.stderr or "gguf" in proc.stderr
