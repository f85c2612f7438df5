"""The N-vs-N-1 report in Qt: `ReportView` (the plot and the table of a report document) and
`svg_to_png`, which rasterises the report's SVG plot offscreen for the command line."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore, QtGui, QtSvg, QtSvgWidgets, QtWidgets

from n1studio.curate.report import report_svg, table_rows
from n1studio.errors import N1Error


def _gui_app() -> QtGui.QGuiApplication:
    app = QtGui.QGuiApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QtGui.QGuiApplication([])
    return app


def svg_to_png(svg: str, path: str | Path, scale: float = 2.0) -> Path:
    """Render SVG text to a PNG file (white background), at `scale` times its size."""
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
        lay = QtWidgets.QVBoxLayout(self)
        self.title = QtWidgets.QLabel("No report yet: evaluate a model on a dataset first.")
        self.title.setWordWrap(True)
        self.plot = QtSvgWidgets.QSvgWidget()
        self.plot.setMinimumHeight(260)
        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["metric", "N", "N-1"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 2)
        lay.addWidget(self.table, 3)
        self.report: dict | None = None

    def set_report(self, report: dict) -> None:
        """Show a report: the plot, then per model and control one block of rows with a
        column per family (the numbers of `report_text`, 95 % intervals in brackets)."""
        self.report = report
        fams = report.get("families") or ["N", "N-1"]
        small = " (small sample: read the intervals)" if report.get("small_sample") else ""
        self.title.setText(f"By family — {report.get('dataset') or 'all runs'}: "
                           f"{report['runs']} runs, {len(report['models'])} model(s) and "
                           f"control(s){small}")
        self.plot.load(QtCore.QByteArray(report_svg(report).encode("utf-8")))
        self.table.setColumnCount(1 + len(fams))
        self.table.setHorizontalHeaderLabels(["metric", *fams])
        rows: list[tuple[str, list[str]]] = []
        for m in report["models"]:
            tag = "control" if m.get("control") else m["sha256"][:10]
            rows.append((f"{m['model']} ({tag})", [""] * len(fams)))
            rows += table_rows(report, m)
        self.table.setRowCount(len(rows))
        bold = self.font()
        bold.setBold(True)
        for r, (label, cells) in enumerate(rows):
            item = QtWidgets.QTableWidgetItem(label)
            item.setToolTip(label)  # a long model name is never cut off unseen
            if not any(cells):
                item.setFont(bold)
            self.table.setItem(r, 0, item)
            for c, v in enumerate(cells):
                self.table.setItem(r, c + 1, QtWidgets.QTableWidgetItem(v))
        self.table.resizeColumnToContents(0)


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"
