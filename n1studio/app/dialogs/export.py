"""File → Export figure…: the view as a PNG, SVG or PDF at a chosen width, shape (as high as
the grid needs, a 16:9 or 4:3 slide, or a fixed height) and scale, titled and with the
verdict's summary line (both panes side by side when comparing, under one legend). The
figure is painted by `app/canvas/render.py`, the same code as `n1studio render`."""

from __future__ import annotations

import logging

from PySide6 import QtWidgets

from n1studio.app.canvas.render import (
    DEFAULT_WIDTH,
    FORMATS,
    Panel,
    verdict_summary,
    write_figure,
)
from n1studio.app.window.compare import compared_index
from n1studio.errors import N1Error

log = logging.getLogger(__name__)


class ExportDialog(QtWidgets.QDialog):
    """Width, shape, scale and format of the figure; the file is asked for after OK."""

    SHAPES = (("as high as the grid needs", None), ("16:9 slide", "16:9"),
              ("4:3 slide", "4:3"), ("fixed height", "height"))

    def __init__(self, parent=None, comparing: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Export figure")
        self.setObjectName("exportDialog")
        self.width_box = QtWidgets.QSpinBox()
        self.width_box.setRange(200, 12000)
        self.width_box.setSingleStep(100)
        self.width_box.setValue(DEFAULT_WIDTH * (2 if comparing else 1))
        self.width_box.setSuffix(" px")
        self.scale_box = QtWidgets.QDoubleSpinBox()
        self.scale_box.setRange(0.5, 6.0)
        self.scale_box.setSingleStep(0.25)
        self.scale_box.setValue(1.0)
        self.shape_box = QtWidgets.QComboBox()
        self.shape_box.setObjectName("exportShape")
        for text, _ in self.SHAPES:
            self.shape_box.addItem(text)
        self.height_box = QtWidgets.QSpinBox()
        self.height_box.setObjectName("exportHeight")
        self.height_box.setRange(100, 12000)
        self.height_box.setSingleStep(100)
        self.height_box.setValue(1080)
        self.height_box.setSuffix(" px")
        self.height_box.setEnabled(False)
        self.shape_box.currentIndexChanged.connect(
            lambda k: self.height_box.setEnabled(self.SHAPES[k][1] == "height"))
        self.format_box = QtWidgets.QComboBox()
        self.format_box.addItems([f.upper() for f in FORMATS])
        form = QtWidgets.QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Shape", self.shape_box)
        form.addRow("Height", self.height_box)
        form.addRow("Scale (markers, lines, text)", self.scale_box)
        form.addRow("Format", self.format_box)
        if comparing:
            form.addRow(QtWidgets.QLabel("Both panes side by side, under one legend."))
        bb = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                        | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    @property
    def fmt(self) -> str:
        return self.format_box.currentText().lower()

    @property
    def shape(self) -> tuple[int, str | None]:
        """(height, aspect) of the page: (0, None) when its height follows the grid."""
        key = self.SHAPES[self.shape_box.currentIndex()][1]
        if key == "height":
            return self.height_box.value(), None
        return 0, key


def window_panels(window) -> list[Panel]:
    """What the window shows: the active variant, and the compared one when comparing."""
    s = window.session
    if s is None or window.view.state is None:
        return []
    e = s.current
    panels = [Panel(s.drawing, window.view.state, f"{s.name} — {e.label}",
                    verdict_summary(e.verdict))]
    if window.compare.isVisible() and window.compare.state is not None:
        c = s.entries[compared_index(s, window._compare_index)]  # the right pane's entry
        panels.append(Panel(s.drawing, window.compare.state, f"{s.name} — {c.label}",
                            verdict_summary(c.verdict)))
    return panels


def export_figure(window, path: str = "", width: int = 0, scale: float = 1.0,
                  fmt: str = "", height: int = 0, aspect: str | None = None) -> str:
    """Ask for size, shape, format and file (what is not given), write the figure; returns
    its path ("" when cancelled)."""
    panels = window_panels(window)
    if not panels:
        return ""
    if not (width and fmt):
        dlg = ExportDialog(window, comparing=len(panels) > 1)
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return ""
        width, scale, fmt = dlg.width_box.value(), dlg.scale_box.value(), dlg.fmt
        height, aspect = dlg.shape
    if not path:
        label = window.session.current.label.replace(" ", "_").replace(":", "")
        for ch in "·%±#×":
            label = label.replace(ch, "")
        default = f"{window.session.name}-{label}.{fmt}"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Export figure", default,
                                                        f"{fmt.upper()} (*.{fmt})")
        if not path:
            return ""
    try:
        write_figure(path, panels, width=width, scale=scale, theme=window.theme, fmt=fmt,
                     height=height or None, aspect=aspect)
    except (N1Error, OSError) as exc:
        QtWidgets.QMessageBox.warning(window, "Export failed", str(exc))
        return ""
    window.statusBar().showMessage(f"saved {path}", 8000)
    return path
