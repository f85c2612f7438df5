"""A widget as it is shown, saved as a PNG or an SVG file (the grid view's Export)."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtSvg import QSvgGenerator


def save_png(widget: QtWidgets.QWidget, path: str, width: int = 0, height: int = 0) -> None:
    """What `widget` shows, as a PNG; scaled to fit width x height when both are given."""
    img = widget.grab()
    if width and height:
        img = img.scaled(width, height, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                         QtCore.Qt.TransformationMode.SmoothTransformation)
    if not img.save(str(path), "PNG"):
        raise OSError(f"could not write {path}")


def save_svg(widget: QtWidgets.QWidget, path: str, title: str) -> None:
    """What `widget` shows, as SVG (Qt's SVG generator: pyqtgraph's own SVG exporter cannot
    parse the glyph paths)."""
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(widget.size())
    gen.setViewBox(widget.rect())
    gen.setTitle(title)
    painter = QtGui.QPainter(gen)
    try:
        widget.render(painter, QtCore.QPoint(0, 0))
    finally:
        painter.end()
    if not Path(path).is_file():
        raise OSError(f"could not write {path}")
