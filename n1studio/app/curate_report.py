"""The N-vs-N-1 report in Qt: `ReportView` (the plot and the table of a report document) and
`svg_to_png`, which rasterises the report's SVG plot offscreen for the command line."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets


def _gui_app() -> QtGui.QGuiApplication:
    app = QtGui.QGuiApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QtGui.QGuiApplication([])
    return app


def svg_to_png(svg: str, path: str | Path, scale: float = 2.0) -> Path:
    """Render SVG text to a PNG file (white background), at `scale` times its size."""
    from PySide6 import QtSvg

    from n1studio.errors import N1Error

    _gui_app()
    renderer = QtSvg.QSvgRenderer(QtCore.QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise N1Error("the report plot is not valid SVG")
    size = renderer.defaultSize()
    img = QtGui.QImage(int(size.width() * scale), int(size.height() * scale),
                       QtGui.QImage.Format.Format_ARGB32)
    img.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(img)
    renderer.render(painter)
    painter.end()
    p = Path(path)
    if not img.save(str(p), "PNG"):
        raise N1Error(f"cannot write {p}")
    return p


class ReportView(QtWidgets.QWidget):
    """A report document (`n1studio.report/1`): its plot on top, the numbers per model below."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        from PySide6 import QtSvgWidgets

        lay = QtWidgets.QVBoxLayout(self)
        self.title = QtWidgets.QLabel("No report yet: evaluate a model on a dataset first.")
        self.title.setWordWrap(True)
        self.plot = QtSvgWidgets.QSvgWidget()
        self.plot.setMinimumHeight(260)
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["metric", "N", "N-1", "drop"])
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 2)
        lay.addWidget(self.table, 3)
        self.report: dict | None = None

    def set_report(self, report: dict) -> None:
        from n1studio.curate.report import report_svg

        self.report = report
        self.title.setText(f"N vs N-1 — {report.get('dataset') or 'all runs'}: "
                           f"{report['runs']} runs, {len(report['models'])} model(s)")
        self.plot.load(QtCore.QByteArray(report_svg(report).encode("utf-8")))
        rows = []
        for m in report["models"]:
            rows.append((f"{m['model']} ({m['sha256'][:10]})", "", "", ""))
            n, n1 = m["splits"]["N"], m["splits"]["N-1"]
            rows.append(("runs", str(n["runs"]), str(n1["runs"]), ""))
            for k in report["constraint_kinds"]:
                rows.append((k, _pct(n["satisfaction"][k]), _pct(n1["satisfaction"][k]),
                             _pct(m["drop"][k])))
            rows.append(("overall", _pct(n["overall_satisfaction"]),
                         _pct(n1["overall_satisfaction"]), _pct(m["drop"]["overall_satisfaction"])))
            rows.append(("feasible", _pct(n["feasible_rate"]), _pct(n1["feasible_rate"]),
                         _pct(m["drop"]["feasible_rate"])))
            rows.append(("median |cost gap|", _pct(n["cost_gap_median"]),
                         _pct(n1["cost_gap_median"]), ""))
            rows.append(("recalled N answer", "", _pct(n1["recalled_n_rate"]), ""))
        self.table.setRowCount(len(rows))
        for r, vals in enumerate(rows):
            for c, v in enumerate(vals):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(v))


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"
