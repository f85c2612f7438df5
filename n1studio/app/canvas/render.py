"""Figures of a grid view at a chosen size: PNG (QImage), SVG (QSvgGenerator), PDF (QPdfWriter).

The figure is painted here with a plain QPainter from the drawing's geometry (`Drawing`) and
a variant's masks (`DrawState`), not grabbed from the window: its size is the one asked
for, not the window's pixels, and every marker is its own vector shape (pyqtgraph's SVG
exporter embeds its whole symbol sheet as an image, which other viewers garble). Buses are
painted as ellipses and nothing else is, so an SVG's `<ellipse>` count is its bus count.

The colours and marker shapes are the grid view's (`glyphs.MARKERS`, `theme.palette`),
so a figure and the window mean the same thing by a colour. `n1studio render` and the
window's File → Export both call `write_figure`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui

from n1studio.app.canvas.glyphs import MARKERS, glyph_paths
from n1studio.errors import N1Error
from n1studio.grid.elements import parse_element
from n1studio.present.drawing import LINE, UNIT_TABLES, Drawing, DrawState
from n1studio.present.theme import Palette, palette

log = logging.getLogger(__name__)

FORMATS = ("png", "svg", "pdf")
DEFAULT_WIDTH = 1600


class RenderError(N1Error):
    """A figure that cannot be written (unknown format, bad size, unwritable path)."""


@dataclass
class Panel:
    """One drawing to paint: the grid, a variant's masks, its title and verdict line."""

    drawing: Drawing
    state: DrawState
    title: str
    summary: str = ""


@dataclass
class Figure:
    """Where things landed on the page (pixels), for tests and callers that annotate."""

    width: int
    height: int
    scale: float
    panels: list[Panel]
    _maps: list = field(default_factory=list, repr=False)

    def point(self, name: str, panel: int = 0) -> tuple[float, float] | None:
        """The page position of an element of panel `panel`, or None."""
        p = self.panels[panel]
        xy = p.drawing.position(name)
        if xy is None:
            return None
        return self._maps[panel](np.asarray(xy, dtype=float).reshape(1, 2))[0].tolist()


def verdict_summary(verdict: dict | None) -> str:
    """One line: feasible, violations, overall satisfaction, recall verdict."""
    if not verdict:
        return ""
    viol = verdict.get("violations") or []
    parts = ["feasible" if verdict.get("feasible") else "infeasible",
             f"{len(viol)} violation{'s' if len(viol) != 1 else ''}"]
    ov = verdict.get("overall_satisfaction")
    if isinstance(ov, (int, float)):
        parts.append(f"{ov:.1%} of constraints satisfied")
    recall = verdict.get("recall")
    rv = recall.get("verdict") if isinstance(recall, dict) else None
    if rv:
        parts.append(f"recall: {rv}")
    elif verdict.get("recalled_n_answer"):
        parts.append("recall: recalled")
    d = verdict.get("distance_to_feasible")
    if isinstance(d, (int, float)):
        parts.append(f"distance to feasible {d:.3g}")
    return " · ".join(parts)


# ---- geometry --------------------------------------------------------------------------------

def _aspect(drawing: Drawing) -> float:
    """Height / width of the drawing's bounds (padded like the view's Fit)."""
    x0, y0, x1, y1 = drawing.bounds()
    pad = 0.6 * drawing.layout.unit
    return max(y1 - y0 + 2 * pad, 1e-9) / max(x1 - x0 + 2 * pad, 1e-9)


def _header(scale: float) -> tuple[float, float]:
    """Pixels above (title) and below (summary, legend) each panel's drawing."""
    return 64 * scale, 44 * scale


def page_size(panels: list[Panel], width: int, scale: float) -> tuple[int, int]:
    """The page of `panels` side by side at `width` pixels; its height follows the grid."""
    if width < 100 or width > 20000:
        raise RenderError(f"--width {width} is outside 100..20000 pixels")
    if not (0.1 <= scale <= 10):
        raise RenderError(f"--scale {scale:g} is outside 0.1..10")
    pw = width / len(panels)
    top, bottom = _header(scale)
    h = max(_aspect(p.drawing) for p in panels) * (pw - 24 * scale)
    return int(width), round(top + bottom + min(max(h, 0.3 * pw), 3 * pw))


def _mapper(drawing: Drawing, rect: QtCore.QRectF):
    """Data coordinates -> page pixels (aspect kept, y up), centred in `rect`."""
    x0, y0, x1, y1 = drawing.bounds()
    pad = 0.6 * drawing.layout.unit
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    k = min(rect.width() / max(x1 - x0, 1e-9), rect.height() / max(y1 - y0, 1e-9))
    cx = rect.left() + (rect.width() - k * (x1 - x0)) / 2
    cy = rect.top() + (rect.height() - k * (y1 - y0)) / 2

    def to_page(xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy, dtype=float)
        out[:, 0] = cx + (xy[:, 0] - x0) * k
        out[:, 1] = cy + (y1 - xy[:, 1]) * k
        return out

    to_page.k = k
    return to_page


# ---- painting --------------------------------------------------------------------------------

def _symbol(name) -> QtGui.QPainterPath:
    """A unit-size marker path (pyqtgraph's shapes, so they match the window's)."""
    from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols

    if isinstance(name, QtGui.QPainterPath):
        return name
    return Symbols[name]


def _unit_paths() -> dict[str, QtGui.QPainterPath]:
    return {k: _symbol(v) for k, v in glyph_paths().items()}


def _path_at(path: QtGui.QPainterPath, x: float, y: float, size: float) -> QtGui.QPainterPath:
    t = QtGui.QTransform()
    t.translate(x, y)
    t.scale(size, size)
    return t.map(path)


def _font(px: float, bold: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPixelSize(max(1, round(px)))
    f.setBold(bold)
    return f


def paint_panel(p: QtGui.QPainter, panel: Panel, rect: QtCore.QRectF, pal: Palette,
                scale: float):
    """Paint one panel (title, grid, verdict line) into `rect`; returns its data->page map."""
    d, st = panel.drawing, panel.state
    top, bottom = _header(scale)
    p.setPen(QtGui.QColor(pal.text))
    p.setFont(_font(20 * scale, bold=True))
    p.drawText(QtCore.QRectF(rect.left() + 12 * scale, rect.top() + 8 * scale,
                             rect.width() - 24 * scale, 28 * scale),
               QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter,
               panel.title)
    if panel.summary:
        bad = panel.summary.startswith("infeasible")
        p.setPen(QtGui.QColor(pal.violation if bad else pal.gen))
        p.setFont(_font(15 * scale))
        p.drawText(QtCore.QRectF(rect.left() + 12 * scale, rect.top() + 36 * scale,
                                 rect.width() - 24 * scale, 22 * scale),
                   QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter,
                   panel.summary)
    area = QtCore.QRectF(rect.left() + 12 * scale, rect.top() + top,
                         rect.width() - 24 * scale, rect.height() - top - bottom)
    to_page = _mapper(d, area)
    n = len(d.bus_names)
    bus_px = (4.0 if n > 5000 else 6.0 if n > 1000 else 9.0 if n > 150 else 13.0) * scale
    lw = (1.0 if n > 2000 else 2.0) * scale
    bxy = to_page(d.bus_xy)

    # edges by class, bottom to top (the view's classes and pens)
    a, b = bxy[d.edge_a], bxy[d.edge_b]
    cut = st.bus_cut[d.edge_a] | st.bus_cut[d.edge_b]
    classes = [
        (~st.edge_viol & st.edge_on & ~cut & (d.edge_kind == LINE), pal.line, lw,
         QtCore.Qt.PenStyle.SolidLine),
        (~st.edge_viol & st.edge_on & ~cut & (d.edge_kind != LINE), pal.trafo, lw * 1.6,
         QtCore.Qt.PenStyle.SolidLine),
        (~st.edge_viol & st.edge_on & cut, pal.cut, lw, QtCore.Qt.PenStyle.DotLine),
        (~st.edge_viol & ~st.edge_on, pal.off, lw * 1.2, QtCore.Qt.PenStyle.DashLine),
        (st.edge_viol, pal.violation, lw * 2.2, QtCore.Qt.PenStyle.SolidLine),
    ]
    for mask, colour, width, style in classes:
        if not mask.any():
            continue
        pen = QtGui.QPen(QtGui.QColor(colour), width, style)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawLines([QtCore.QLineF(*a[k], *b[k]) for k in np.flatnonzero(mask)])

    # unit glyphs and their stubs
    unit_px = max(bus_px * 1.5, 10 * scale)
    if len(d.unit_names):
        uxy = to_page(d.unit_xy)
        p.setPen(QtGui.QPen(QtGui.QColor(pal.muted), max(1.0, 0.8 * scale)))
        p.drawLines([QtCore.QLineF(*bxy[d.unit_bus[k]], *uxy[k]) for k in range(len(uxy))])
        paths = _unit_paths()
        colours = [pal.ext_grid, pal.gen, pal.sgen, pal.load]
        for k, t in enumerate(d.unit_table):
            on, viol = bool(st.unit_on[k]), bool(st.unit_viol[k])
            fill = pal.violation if viol else colours[t] if on else pal.background
            edge = pal.off if not on else pal.background
            p.setPen(QtGui.QPen(QtGui.QColor(edge), 1.2 * scale if on else 1.5 * scale))
            p.setBrush(QtGui.QColor(fill))
            size = unit_px * (1.3 if viol else 1.0)
            p.drawPath(_path_at(paths[UNIT_TABLES[t]], *uxy[k], size))

    # buses: one ellipse each (the only ellipses on the page)
    for k in range(n):
        if st.bus_viol[k]:
            fill, edge, size = pal.violation, pal.bus_edge, bus_px * 1.45
        elif not st.bus_on[k]:
            fill, edge, size = pal.background, pal.off, bus_px
        elif st.bus_cut[k]:
            fill, edge, size = pal.cut, pal.cut, bus_px
        else:
            fill, edge, size = pal.bus, pal.bus_edge, bus_px
        p.setPen(QtGui.QPen(QtGui.QColor(edge), 1.0 * scale))
        p.setBrush(QtGui.QColor(fill))
        p.drawEllipse(QtCore.QPointF(*bxy[k]), size / 2, size / 2)

    # bus labels where they can be read
    if n <= 150:
        p.setPen(QtGui.QColor(pal.muted))
        p.setFont(_font(11 * scale))
        off = 0.6 * bus_px
        for (x, y), label in zip(bxy, d.bus_labels):
            p.drawText(QtCore.QPointF(x + off, y - off), label)

    # violation markers: hollow shapes per constraint kind, drawn as paths
    p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    p.setPen(QtGui.QPen(QtGui.QColor(pal.violation), 2.2 * scale))
    for name, kind in st.markers:
        xy = d.position(name)
        if xy is None or kind not in MARKERS:
            continue
        sym, f, _ = MARKERS[kind]
        base = unit_px if parse_element(name).table in UNIT_TABLES else bus_px
        x, y = to_page(np.asarray(xy, dtype=float).reshape(1, 2))[0]
        p.drawPath(_path_at(_symbol(sym), x, y, max(base * f, 16 * scale)))

    # legend of the marker kinds shown
    kinds = [k for k in dict.fromkeys(k for _, k in st.markers) if k in MARKERS]
    if kinds:
        p.setFont(_font(12 * scale))
        x = rect.left() + 16 * scale
        y = rect.bottom() - bottom / 2
        for k in kinds:
            sym, _, text = MARKERS[k]
            p.setPen(QtGui.QPen(QtGui.QColor(pal.violation), 2.0 * scale))
            p.drawPath(_path_at(_symbol(sym), x + 7 * scale, y, 14 * scale))
            p.setPen(QtGui.QColor(pal.text))
            p.drawText(QtCore.QPointF(x + 20 * scale, y + 5 * scale), text)
            x += (34 + 7 * len(text)) * scale
    return to_page


def paint_figure(p: QtGui.QPainter, panels: list[Panel], width: int, height: int,
                 scale: float, theme: str = "light") -> Figure:
    pal = palette(theme)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
    p.fillRect(QtCore.QRectF(0, 0, width, height), QtGui.QColor(pal.background))
    fig = Figure(width, height, scale, panels)
    pw = width / len(panels)
    for k, panel in enumerate(panels):
        if k:
            p.setPen(QtGui.QPen(QtGui.QColor(pal.off), 1.0 * scale))
            p.drawLine(QtCore.QLineF(k * pw, 0, k * pw, height))
        fig._maps.append(paint_panel(p, panel, QtCore.QRectF(k * pw, 0, pw, height), pal,
                                     scale))
    return fig


def write_figure(path: str | Path, panels: list[Panel], width: int = DEFAULT_WIDTH,
                 scale: float = 1.0, theme: str = "light", fmt: str | None = None) -> Figure:
    """Paint `panels` side by side into a PNG, SVG or PDF file (format from the suffix)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RenderError(f"cannot write {path.name}: give a .png, .svg or .pdf file")
    if not panels:
        raise RenderError("nothing to render")
    if not path.parent.is_dir():
        raise RenderError(f"no such folder: {path.parent}")
    w, h = page_size(panels, int(width), float(scale))
    p = QtGui.QPainter()
    if fmt == "png":
        img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_ARGB32)
        p.begin(img)
        try:
            fig = paint_figure(p, panels, w, h, scale, theme)
        finally:
            p.end()
        if not img.save(str(path), "PNG"):
            raise RenderError(f"could not write {path}")
        return fig
    if fmt == "svg":
        from PySide6.QtSvg import QSvgGenerator

        dev = QSvgGenerator()
        dev.setFileName(str(path))
        dev.setSize(QtCore.QSize(w, h))
        dev.setViewBox(QtCore.QRect(0, 0, w, h))
        dev.setTitle(panels[0].title)
        dev.setDescription("N-1 Studio grid figure")
    else:
        dev = QtGui.QPdfWriter(str(path))
        dev.setTitle(panels[0].title)
        dev.setCreator("N-1 Studio")
        dev.setResolution(96)
        dev.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
        dev.setPageSize(QtGui.QPageSize(QtCore.QSizeF(w * 72 / 96, h * 72 / 96),
                                        QtGui.QPageSize.Unit.Point, "figure"))
    if not p.begin(dev):
        raise RenderError(f"could not write {path}")
    try:
        if fmt == "pdf":  # the page's own pixels: fit the figure to it
            vp = p.viewport()
            p.setWindow(0, 0, w, h)
            k = min(vp.width() / w, vp.height() / h)
            p.setViewport(0, 0, int(w * k), int(h * k))
        fig = paint_figure(p, panels, w, h, scale, theme)
    finally:
        p.end()
    if not path.is_file():
        raise RenderError(f"could not write {path}")
    return fig


def variant_panel(net, variant, verdict: dict | None = None, name: str = "") -> Panel:
    """A panel of `variant` of `net` (drawn with the verdict's violations when given)."""
    from n1studio.grid.cases import case_label
    from n1studio.present.drawing import build_drawing, state_for

    drawing = build_drawing(net)
    viol = (verdict or {}).get("violations") if verdict else None
    state = state_for(drawing, net, variant.outages, variant.islands.cut_buses, viol)
    title = f"{name or case_label(net)} — {variant.label}"
    return Panel(drawing, state, title, verdict_summary(verdict))
