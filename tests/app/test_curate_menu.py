"""The student's flow from the Curate menu: build a dataset with families, evaluate two
controls (with progress and Cancel), read the report in the window, export it; the same
dataset and report as the commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PySide6 import QtCore, QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

CASE = "pglib_opf_case5_pjm"
FAMILIES = ["n-1", "load:0.1"]


def _menu_action(window, menu_title: str, text: str):
    for a in window.menuBar().actions():
        if a.menu() is not None and a.text().replace("&", "") == menu_title:
            for b in a.menu().actions():
                if b.text().replace("&", "").rstrip("…") == text:
                    return b
    raise AssertionError(f"no {menu_title} > {text}")


def _fill_and_accept(flow, fill):
    """When the flow's dialog opens, fill it in and press its OK button (as a user would)."""

    def on_open(dlg):
        def go():
            fill(dlg)
            bb = dlg.findChild(QtWidgets.QDialogButtonBox)
            bb.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).click()

        QtCore.QTimer.singleShot(0, go)
        flow.dialogOpened.disconnect(on_open)

    flow.dialogOpened.connect(on_open)


def _cli(*args):
    cmd = [sys.executable, "-c", "import sys; from n1studio.cli import main; sys.exit(main())",
           *args]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_build_eval_report_export_as_the_commands(window, qtbot, open_case, tmp_path):
    open_case(window, CASE)
    study = tmp_path / "window.n1study"
    assert window.curation.open_study(str(study), create=True)
    flow = window.curation.flow

    def fill_dataset(dlg):
        dlg.name.setText("ds")
        dlg.families.setText(", ".join(FAMILIES))
        dlg.sample.setValue(2)
        dlg.seed.setValue(3)

    _fill_and_accept(flow, fill_dataset)
    with qtbot.waitSignal(flow.datasetBuilt, timeout=300_000) as sig:
        _menu_action(window, "Curate", "Build a dataset").trigger()
    built = sig.args[0]
    assert built["name"] == "ds" and built["counts"] == {"N": 1, "N-1": 2, "load:0.1": 2}
    assert not flow.bar.isVisible()

    def fill_eval(dlg):
        dlg.check("control:reference")
        dlg.check("control:recall-n")

    _fill_and_accept(flow, fill_eval)
    progress = []
    with qtbot.waitSignal(flow.evalDone, timeout=300_000) as sig:
        job = _menu_action(window, "Curate", "Evaluate models")
        job.trigger()
        assert flow.bar.isVisible() and flow.bar.cancel.isEnabled()
        flow.slot.job.progress.connect(lambda p: progress.append((p.done, p.total)))
    summary = sig.args[0]
    assert summary["done"] == 10 and not summary["cancelled"]
    assert progress and progress[-1][0] == progress[-1][1] == 10
    # the report in the window: one block per control, a column per family, names whole
    view = window.curation.report
    assert window.curation.dock_report.isVisible()
    rep = view.report
    assert rep["families"] == ["N", "N-1", "load:0.1"]
    t = view.table
    heads = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    assert heads == ["metric", "N", "N-1", "load:0.1"]
    labels = [t.item(r, 0).text() for r in range(t.rowCount())]
    blocks = [x for x in labels if x.startswith("control:")]
    assert [b.split(" (")[0] for b in blocks] == ["control:recall-n", "control:reference"] or \
        [b.split(" (")[0] for b in blocks] == ["control:reference", "control:recall-n"]
    fm = t.fontMetrics()
    for b in blocks:
        assert t.columnWidth(0) >= fm.horizontalAdvance(b)
    by = {m["model"]: m for m in rep["models"]}
    assert by["control:reference"]["families"]["N-1"]["metrics"]["feasible_rate"]["value"] == 1.0
    # export: the files of `n1studio report`
    out = tmp_path / "report-window"
    files = window.curation.export(str(out))
    assert sorted(files) == ["html", "json", "png", "svg"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in files.values())

    # the same through the commands, into another study
    cli_study = tmp_path / "cli.n1study"
    _cli("dataset", "build", CASE, "--study", str(cli_study), "--name", "ds", "--sample", "2",
         "--seed", "3", *[a for f in FAMILIES for a in ("--family", f)])
    _cli("eval", "--study", str(cli_study), "--dataset", "ds", "--model", "control:reference",
         "--model", "control:recall-n")
    _cli("report", "--study", str(cli_study), "--dataset", "ds", "--out",
         str(tmp_path / "report-cli"))
    a = json.loads(files["json"].read_text())
    b = json.loads((tmp_path / "report-cli" / "report.json").read_text())
    assert a["families"] == b["families"] and a["runs"] == b["runs"] == 10

    def numbers(r):
        return {m["model"]: {f: (x["runs"], x["metrics"]["feasible_rate"]["value"],
                                 x["metrics"]["overall_satisfaction"]["value"])
                             for f, x in m["families"].items()} for m in r["models"]}

    assert numbers(a) == numbers(b)


def test_eval_cancel_keeps_the_finished_runs(window, qtbot, open_case, tmp_path):
    open_case(window, CASE)
    assert window.curation.open_study(str(tmp_path / "s.n1study"), create=True)
    flow = window.curation.flow

    def fill_dataset(dlg):
        dlg.name.setText("all")
        dlg.families.setText("n-1")

    _fill_and_accept(flow, fill_dataset)
    with qtbot.waitSignal(flow.datasetBuilt, timeout=300_000):
        _menu_action(window, "Curate", "Build a dataset").trigger()
    _fill_and_accept(flow, lambda dlg: [dlg.check(c) for c in
                                        ("control:reference", "control:recall-n",
                                         "control:zeros")])
    with qtbot.waitSignal(flow.evalDone, timeout=300_000) as sig:
        _menu_action(window, "Curate", "Evaluate models").trigger()
        bar = flow.bar
        # Cancel as soon as the first answer is counted
        flow.slot.job.progress.connect(lambda p: bar.cancel.click() if p.done >= 1 else None)
    summary = sig.args[0]
    assert summary["cancelled"] and 1 <= summary["done"] < summary["total"]
    runs = window.curation.study.runs()
    assert len(runs) == summary["done"]
    assert not bar.isVisible()
