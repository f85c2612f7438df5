"""Figures of a grid view at a chosen size: PNG (QImage), SVG (QSvgGenerator), PDF (QPdfWriter).

The figure is painted here with a plain QPainter from the drawing's geometry (`Drawing`) and
a variant's masks (`DrawState`), not grabbed from the window: its size is the one asked
for, not the window's pixels, and every marker is its own vector shape (pyqtgraph's SVG
exporter embeds its whole symbol sheet as an image, which other viewers garble). Buses are
painted as ellipses and nothing else is, so an SVG's `<ellipse>` count is its bus count.

The page: each panel's title and verdict line on top, its grid fitted (aspect kept,
centred) in the space left, and one legend across the bottom that covers every panel. The
page is `width` wide and as high as the grid needs, or exactly `width` x `height`, or of a
given aspect (a slide: 16:9, 4:3). Bus labels are placed clear of every marker
(`canvas/labels.py`) and painted last, on a halo, so nothing hides them.

The colours and marker shapes are the grid view's (`canvas/glyphs.py`, `theme.palette`),
so a figure and the window mean the same thing by a colour. `n1studio render` and the
window's File → Export figure both call `write_figure`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui
from PySide6.QtSvg import QSvgGenerator

from n1studio.app.canvas.glyphs import MARKERS, glyph_paths
from n1studio.app.canvas.labels import boxes_around, place_labels
from n1studio.app.canvas.page import (
    DEFAULT_WIDTH,
    Panel,
    RenderError,
    Sizes,
    fitted_font,
    font_px,
    header_height,
    legend_entries,
    legend_layout,
    mapper,
    page_size,
    paint_legend,
    parse_aspect,
    path_at,
    symbol_path,
)
from n1studio.grid.cases import case_label
from n1studio.present.drawing import (
    LINE,
    UNIT_TABLES,
    Drawing,
    DrawState,
    build_drawing,
    state_for,
)
from n1studio.present.theme import Palette, palette

log = logging.getLogger(__name__)

FORMATS = ("png", "svg", "pdf")
LABEL_PX = 16  # bus label font size in pixels at scale 1 (at least 14 px tall, issue 20)
MAX_LABELLED = 150  # more buses than this: no labels (they would be a smear)


@dataclass
class PanelGeometry:
    """Where one panel's things landed on the page (pixels; boxes are x0, y0, x1, y1)."""

    area: QtCore.QRectF  # the grid's rectangle
    title_rect: QtCore.QRectF
    title_px: float  # the title's font size after fitting it to the width
    labels: np.ndarray  # (n, 4) bus label boxes, in bus order ((0, 4) when not labelled)
    label_px: float
    markers: np.ndarray  # (m, 4) marker boxes
    points: np.ndarray  # (n, 2) bus centres
    units: np.ndarray  # (u, 2) glyph centres


@dataclass
class Figure:
    """Where things landed on the page (pixels), for tests and callers that annotate."""

    width: int
    height: int
    scale: float
    panels: list[Panel]
    geometry: list[PanelGeometry] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)  # the legend's texts, in order
    legend_rect: QtCore.QRectF = field(default_factory=QtCore.QRectF)
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


def _marker_list(d: Drawing, st: DrawState, to_page, sz: Sizes):
    """[(x, y, size, symbol)] of the violation markers on the page."""
    out = []
    for name, kind in st.markers:
        xy = d.position(name)
        if xy is None or kind not in MARKERS:
            continue
        x, y = to_page(xy)[0]
        out.append((x, y, sz.marker(name, kind), MARKERS[kind][0]))
    return out


def _marker_boxes(marks, scale: float) -> np.ndarray:
    """(m, 4) boxes of the markers on the page, their pen included."""
    pen = 2.2 * scale
    return (np.array([(x - s / 2 - pen, y - s / 2 - pen, x + s / 2 + pen, y + s / 2 + pen)
                      for x, y, s, _ in marks]) if marks else np.zeros((0, 4)))


def _label_boxes(d: Drawing, st: DrawState, bxy: np.ndarray, uxy: np.ndarray, marks,
                 sz: Sizes, font: QtGui.QFont, bounds: QtCore.QRectF):
    """Bus label boxes clear of the markers (see canvas/labels.py), and which need leaders."""
    fm = QtGui.QFontMetricsF(font)
    texts = d.bus_labels
    pad = 0.25 * fm.height()
    sizes = np.array([(fm.horizontalAdvance(t) + 2 * pad, fm.height()) for t in texts])
    pen = 2.2 * sz.scale
    mboxes = _marker_boxes(marks, sz.scale)
    # the clear radius of a bus: its dot and the biggest marker drawn on it
    clear = np.full(len(bxy), 0.5 * sz.bus * 1.45)
    for x, y, s, _ in marks:
        near = np.hypot(bxy[:, 0] - x, bxy[:, 1] - y) < 1.0
        clear[near] = np.maximum(clear[near], s / 2 + pen)
    others = np.concatenate([boxes_around(bxy, sz.bus * 1.45),
                             boxes_around(uxy, sz.unit * 1.3)]) if len(uxy) else \
        boxes_around(bxy, sz.bus * 1.45)
    placed = place_labels(bxy, sizes, clear, mboxes, others,
                          bounds=(bounds.left(), bounds.top(), bounds.right(), bounds.bottom()))
    return placed, mboxes


# ---- painting --------------------------------------------------------------------------------

def paint_panel(p: QtGui.QPainter, panel: Panel, rect: QtCore.QRectF, pal: Palette,
                scale: float) -> tuple:
    """Paint one panel (title, verdict line, grid) into `rect`; returns (data->page map,
    its geometry)."""
    d, st = panel.drawing, panel.state
    top = header_height(scale)
    text_w = rect.width() - 24 * scale
    title_font = fitted_font(panel.title, 20 * scale, text_w, bold=True)
    title_rect = QtCore.QRectF(rect.left() + 12 * scale, rect.top() + 8 * scale, text_w,
                               30 * scale)
    flags = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
    p.setPen(QtGui.QColor(pal.text))
    p.setFont(title_font)
    p.drawText(title_rect, flags, QtGui.QFontMetricsF(title_font).elidedText(
        panel.title, QtCore.Qt.TextElideMode.ElideRight, text_w))
    if panel.summary:
        bad = panel.summary.startswith("infeasible")
        p.setPen(QtGui.QColor(pal.violation if bad else pal.gen))
        f = fitted_font(panel.summary, 15 * scale, text_w)
        p.setFont(f)
        p.drawText(QtCore.QRectF(rect.left() + 12 * scale, rect.top() + 38 * scale, text_w,
                                 24 * scale), flags,
                   QtGui.QFontMetricsF(f).elidedText(panel.summary,
                                                     QtCore.Qt.TextElideMode.ElideRight, text_w))
    area = QtCore.QRectF(rect.left() + 12 * scale, rect.top() + top,
                         rect.width() - 24 * scale, rect.height() - top)
    sz = Sizes(scale, len(d.bus_names))
    to_page = mapper(d, area, sz.margin)
    n = len(d.bus_names)
    bxy = to_page(d.bus_xy)
    uxy = to_page(d.unit_xy) if len(d.unit_names) else np.zeros((0, 2))

    # edges by class, bottom to top (the view's classes and pens)
    a, b = bxy[d.edge_a], bxy[d.edge_b]
    cut = st.bus_cut[d.edge_a] | st.bus_cut[d.edge_b]
    lw = sz.line
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
    if len(d.unit_names):
        p.setPen(QtGui.QPen(QtGui.QColor(pal.muted), max(1.0, 0.8 * scale)))
        p.drawLines([QtCore.QLineF(*bxy[d.unit_bus[k]], *uxy[k]) for k in range(len(uxy))])
        paths = {k: symbol_path(v) for k, v in glyph_paths().items()}
        colours = [pal.ext_grid, pal.gen, pal.sgen, pal.load]
        for k, t in enumerate(d.unit_table):
            on, viol = bool(st.unit_on[k]), bool(st.unit_viol[k])
            fill = pal.violation if viol else colours[t] if on else pal.background
            edge = pal.off if not on else pal.background
            p.setPen(QtGui.QPen(QtGui.QColor(edge), 1.2 * scale if on else 1.5 * scale))
            p.setBrush(QtGui.QColor(fill))
            size = sz.unit * (1.3 if viol else 1.0)
            p.drawPath(path_at(paths[UNIT_TABLES[t]], *uxy[k], size))

    # buses: one ellipse each (the only ellipses on the page)
    for k in range(n):
        if st.bus_viol[k]:
            fill, edge, size = pal.violation, pal.bus_edge, sz.bus * 1.45
        elif not st.bus_on[k]:
            fill, edge, size = pal.background, pal.off, sz.bus
        elif st.bus_cut[k]:
            fill, edge, size = pal.cut, pal.cut, sz.bus
        else:
            fill, edge, size = pal.bus, pal.bus_edge, sz.bus
        p.setPen(QtGui.QPen(QtGui.QColor(edge), 1.0 * scale))
        p.setBrush(QtGui.QColor(fill))
        p.drawEllipse(QtCore.QPointF(*bxy[k]), size / 2, size / 2)

    # violation markers: hollow shapes per constraint kind, drawn as paths
    marks = _marker_list(d, st, to_page, sz)
    p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
    p.setPen(QtGui.QPen(QtGui.QColor(pal.violation), 2.2 * scale))
    for x, y, s, sym in marks:
        p.drawPath(path_at(symbol_path(sym), x, y, s))

    # bus labels last, clear of the markers and on a halo: nothing is drawn over them
    label_px = LABEL_PX * scale
    labels = np.zeros((0, 4))
    mboxes = _marker_boxes(marks, scale)
    if n <= MAX_LABELLED:
        font = font_px(label_px)
        placed, mboxes = _label_boxes(d, st, bxy, uxy, marks, sz, font, rect.adjusted(
            4 * scale, top, -4 * scale, -4 * scale))
        labels = placed.boxes
        p.setPen(QtGui.QPen(QtGui.QColor(pal.muted), max(1.0, 0.9 * scale)))
        for x0, y0, x1, y1 in placed.leader_segments(bxy):
            p.drawLine(QtCore.QLineF(x0, y0, x1, y1))
        halo = QtGui.QColor(pal.background)
        halo.setAlpha(225)
        p.setFont(font)
        for (x0, y0, x1, y1), text in zip(labels, d.bus_labels, strict=True):
            r = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
            p.setPen(QtCore.Qt.PenStyle.NoPen)
            p.setBrush(halo)
            p.drawRoundedRect(r, 3 * scale, 3 * scale)
            p.setPen(QtGui.QColor(pal.text))
            p.drawText(r, QtCore.Qt.AlignmentFlag.AlignCenter, text)
    geo = PanelGeometry(area=area, title_rect=title_rect, title_px=title_font.pixelSize(),
                        labels=labels, label_px=label_px, markers=mboxes, points=bxy,
                        units=uxy)
    return to_page, geo


def paint_figure(p: QtGui.QPainter, panels: list[Panel], width: int, height: int,
                 scale: float, theme: str = "light") -> Figure:
    pal = palette(theme)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
    p.fillRect(QtCore.QRectF(0, 0, width, height), QtGui.QColor(pal.background))
    fig = Figure(width, height, scale, panels)
    entries = legend_entries(panels)
    layout, legend_h, row_h = legend_layout(entries, width - 24 * scale, scale)
    legend_rect = QtCore.QRectF(12 * scale, height - legend_h - 10 * scale,
                                width - 24 * scale, legend_h)
    body_h = legend_rect.top() - 4 * scale
    if body_h < header_height(scale) + 60 * scale:
        raise RenderError(f"a page {height} pixels high leaves no room for the grid: give a "
                          "larger --height (or a smaller --scale)")
    pw = width / len(panels)
    for k, panel in enumerate(panels):
        if k:
            p.setPen(QtGui.QPen(QtGui.QColor(pal.off), 1.0 * scale))
            p.drawLine(QtCore.QLineF(k * pw, 0, k * pw, body_h))
        to_page, geo = paint_panel(p, panel, QtCore.QRectF(k * pw, 0, pw, body_h), pal, scale)
        fig._maps.append(to_page)
        fig.geometry.append(geo)
    p.setPen(QtGui.QPen(QtGui.QColor(pal.off), 1.0 * scale))
    p.drawLine(QtCore.QLineF(12 * scale, legend_rect.top() - 2 * scale,
                             width - 12 * scale, legend_rect.top() - 2 * scale))
    paint_legend(p, layout, legend_rect, row_h, pal, scale)
    fig.legend = [t for _, t in entries]
    fig.legend_rect = legend_rect
    return fig


def write_figure(path: str | Path, panels: list[Panel], width: int | None = DEFAULT_WIDTH,
                 scale: float = 1.0, theme: str = "light", fmt: str | None = None,
                 height: int | None = None, aspect: float | str | None = None) -> Figure:
    """Paint `panels` side by side into a PNG, SVG or PDF file (format from the suffix), on
    a page `width` wide (`height` high, or of `aspect` width / height, or as high as the
    grid needs)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RenderError(f"cannot write {path.name}: give a .png, .svg or .pdf file")
    if not panels:
        raise RenderError("nothing to render")
    if not path.parent.is_dir():
        raise RenderError(f"no such folder: {path.parent}")
    w, h = page_size(panels, width, float(scale), height, parse_aspect(aspect))
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
    drawing = build_drawing(net)
    viol = (verdict or {}).get("violations") if verdict else None
    state = state_for(drawing, net, variant.out_of_service, variant.islands.cut_buses, viol)
    title = f"{name or case_label(net)} — {variant.label}"
    return Panel(drawing, state, title, verdict_summary(verdict))
