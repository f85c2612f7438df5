"""The page of a figure, without painting the grid: its size (from a width, a height or a
slide's aspect), the pixel sizes of its marks, the data-to-page map that fits a grid into a
rectangle, and the one legend across the bottom that covers every panel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyqtgraph.graphicsItems.ScatterPlotItem import Symbols
from PySide6 import QtCore, QtGui

from n1studio.app.canvas.glyphs import MARKERS, glyph_paths
from n1studio.errors import N1Error
from n1studio.grid.elements import parse_element
from n1studio.present.drawing import LINE, UNIT_TABLES, Drawing, DrawState
from n1studio.present.theme import Palette

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


def symbol_path(name) -> QtGui.QPainterPath:
    """A unit-size marker path (pyqtgraph's shapes, so they match the window's)."""
    if isinstance(name, QtGui.QPainterPath):
        return name
    return Symbols[name]


def path_at(path: QtGui.QPainterPath, x: float, y: float, size: float) -> QtGui.QPainterPath:
    t = QtGui.QTransform()
    t.translate(x, y)
    t.scale(size, size)
    return t.map(path)


def parse_aspect(text: str | float | None) -> float | None:
    """`16:9`, `4:3`, `W:H` or a number -> width / height (None for none)."""
    if text is None or text == "":
        return None
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        t = str(text).strip()
        try:
            if ":" in t:
                w, h = (float(x) for x in t.split(":", 1))
                value = w / h
            else:
                value = float(t)
        except (ValueError, ZeroDivisionError):
            raise RenderError(f"--aspect {text}: give W:H, e.g. 16:9 or 4:3") from None
    if not (0.1 <= value <= 10):  # NaN too
        raise RenderError(f"--aspect {text}: width / height must be within 0.1..10")
    return value


def check_shape(width: int | None, height: int | None, aspect: str | float | None) -> None:
    """A page size the command line asks for, checked before any work (one line each)."""
    for flag, v in (("--width", width), ("--height", height)):
        if v is not None and not (100 <= v <= 20000):
            raise RenderError(f"{flag} {v} is outside 100..20000 pixels")
    parse_aspect(aspect)


# ---- sizes -----------------------------------------------------------------------------------

@dataclass
class Sizes:
    """Pixel sizes of one page's marks (from the scale and the grid's size)."""

    scale: float
    n_bus: int

    @property
    def bus(self) -> float:
        n = self.n_bus
        return (4.0 if n > 5000 else 6.0 if n > 1000 else 9.0 if n > 150 else 13.0) * self.scale

    @property
    def unit(self) -> float:
        return max(self.bus * 1.5, 10 * self.scale)

    @property
    def line(self) -> float:
        return (1.0 if self.n_bus > 2000 else 2.0) * self.scale

    @property
    def margin(self) -> float:
        """Room around the grid for the markers of its outermost buses and their labels."""
        return 30 * self.scale

    def marker(self, name: str, kind: str) -> float:
        _, f, _ = MARKERS[kind]
        base = self.unit if parse_element(name).table in UNIT_TABLES else self.bus
        return max(base * f, 16 * self.scale)


def font_px(px: float, bold: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPixelSize(max(1, round(px)))
    f.setBold(bold)
    return f


def header_height(scale: float) -> float:
    """Pixels above each panel's grid: its title and its verdict line."""
    return 68 * scale


def fitted_font(text: str, px: float, width: float, bold: bool = False) -> QtGui.QFont:
    """A font of `px` pixels, smaller (down to 70 %) where the text is wider than `width`."""
    f = font_px(px, bold)
    w = QtGui.QFontMetricsF(f).horizontalAdvance(text)
    if w > width > 0:
        f = font_px(max(px * 0.7, px * width / w), bold)
    return f


# ---- the legend ------------------------------------------------------------------------------

def legend_entries(panels: list[Panel]) -> list[tuple[str, str]]:
    """(sample, text) of everything drawn on any panel: elements, states, marker kinds."""
    out: list[tuple[str, str]] = [("bus", "bus")]
    kinds = set()
    tables: set[int] = set()
    off = cut = viol = trafo = False
    for p in panels:
        d, st = p.drawing, p.state
        trafo |= bool((d.edge_kind != LINE).any())
        tables |= {int(t) for t in np.unique(d.unit_table)}
        off |= bool((~st.edge_on).any() or (~st.unit_on).any() or (~st.bus_on).any())
        cut |= bool(st.bus_cut.any())
        viol |= bool(st.bus_viol.any() or st.edge_viol.any() or st.unit_viol.any())
        kinds |= {k for _, k in st.markers if k in MARKERS}
    out.append(("line", "line"))
    if trafo:
        out.append(("trafo", "transformer"))
    text = {"ext_grid": "external grid", "gen": "generator", "sgen": "static generator",
            "load": "load"}
    out += [(UNIT_TABLES[t], text[UNIT_TABLES[t]]) for t in sorted(tables)]
    if off:
        out.append(("off", "out of service"))
    if cut:
        out.append(("cut", "cut off (island)"))
    if viol:
        out.append(("violation", "violation"))
    out += [(f"marker:{k}", MARKERS[k][2]) for k in MARKERS if k in kinds]
    return out


def legend_layout(entries, width: float, scale: float):
    """Rows of legend entries wrapped within `width`: [(x, y, sample, text)], height."""
    fm = QtGui.QFontMetricsF(font_px(13 * scale))
    sample, gap, sep = 22 * scale, 6 * scale, 20 * scale
    row_h = max(24 * scale, fm.height() * 1.4)
    x = y = 0.0
    out = []
    for s, t in entries:
        w = sample + gap + fm.horizontalAdvance(t)
        if x > 0 and x + w > width:
            x, y = 0.0, y + row_h
        out.append((x, y, s, t))
        x += w + sep
    return out, (y + row_h if entries else 0.0), row_h


def paint_legend(p: QtGui.QPainter, layout, rect: QtCore.QRectF, row_h: float,
                  pal: Palette, scale: float) -> None:
    p.setFont(font_px(13 * scale))
    paths = {k: symbol_path(v) for k, v in glyph_paths().items()}
    colours = {"ext_grid": pal.ext_grid, "gen": pal.gen, "sgen": pal.sgen, "load": pal.load}
    dot = QtGui.QPainterPath()  # a path, not an ellipse: ellipses are buses only
    dot.addEllipse(QtCore.QRectF(-0.5, -0.5, 1.0, 1.0))
    for x, y, s, t in layout:
        cx, cy = rect.left() + x + 11 * scale, rect.top() + y + row_h / 2
        if s in ("line", "trafo", "off"):
            colour, width, style = {"line": (pal.line, 2.0, QtCore.Qt.PenStyle.SolidLine),
                                    "trafo": (pal.trafo, 3.2, QtCore.Qt.PenStyle.SolidLine),
                                    "off": (pal.off, 2.4, QtCore.Qt.PenStyle.DashLine)}[s]
            p.setPen(QtGui.QPen(QtGui.QColor(colour), width * scale, style))
            p.drawLine(QtCore.QLineF(cx - 10 * scale, cy, cx + 10 * scale, cy))
        elif s.startswith("marker:"):
            sym = MARKERS[s.split(":", 1)[1]][0]
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.setPen(QtGui.QPen(QtGui.QColor(pal.violation), 2.0 * scale))
            p.drawPath(path_at(symbol_path(sym), cx, cy, 16 * scale))
        else:
            fill = {"bus": pal.bus, "cut": pal.cut, "violation": pal.violation}.get(
                s, colours.get(s, pal.bus))
            p.setPen(QtGui.QPen(QtGui.QColor(pal.background), 1.2 * scale))
            p.setBrush(QtGui.QColor(fill))
            p.drawPath(path_at(paths.get(s, dot), cx, cy, 14 * scale))
        p.setPen(QtGui.QColor(pal.text))
        p.drawText(QtCore.QRectF(rect.left() + x + 28 * scale, rect.top() + y,
                                 rect.width(), row_h),
                   QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter, t)


# ---- geometry --------------------------------------------------------------------------------

def _span(drawing: Drawing) -> tuple[float, float]:
    x0, y0, x1, y1 = drawing.bounds()
    return max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)


def page_size(panels: list[Panel], width: int | None = None, scale: float = 1.0,
              height: int | None = None, aspect: float | None = None) -> tuple[int, int]:
    """The page of `panels` side by side: `width` x `height` when both are given; one of them
    and `aspect` (width / height) gives the other; else the missing side follows the grid."""
    if not (0.1 <= scale <= 10):
        raise RenderError(f"--scale {scale:g} is outside 0.1..10")
    if width and height and aspect:
        raise RenderError("give at most two of --width, --height and --aspect")
    for flag, v in (("--width", width), ("--height", height)):
        if v is not None and v != 0 and not (100 <= v <= 20000):
            raise RenderError(f"{flag} {v} is outside 100..20000 pixels")
    n = len(panels)
    sz = Sizes(scale, max(len(p.drawing.bus_names) for p in panels))
    m = sz.margin
    ratio = max(_span(p.drawing)[1] / _span(p.drawing)[0] for p in panels)  # h / w
    if aspect and height and not width:
        width = round(height * aspect)
    if not width and not height:
        width = DEFAULT_WIDTH
    if aspect and width and not height:
        height = round(width / aspect)
    if width and height:
        w, h = int(width), int(height)
    elif width:
        pw = width / n
        legend_h = legend_layout(legend_entries(panels), width - 24 * scale, scale)[1]
        gh = ratio * (pw - 2 * m - 24 * scale) + 2 * m
        gh = min(max(gh, 0.3 * pw), 3 * pw)
        w, h = int(width), round(header_height(scale) + gh + legend_h + 24 * scale)
    else:
        legend_h = 3 * 24 * scale  # about three rows (the width is not known yet)
        gh = height - header_height(scale) - legend_h - 24 * scale
        pw = max((gh - 2 * m) / ratio, 0.0) + 2 * m + 24 * scale
        w, h = round(min(max(n * pw, 0.5 * height), 4 * height)), int(height)
    if not (100 <= w <= 20000 and 100 <= h <= 20000):
        raise RenderError(f"a page of {w}x{h} pixels is outside 100..20000 on a side")
    return w, h


def mapper(drawing: Drawing, rect: QtCore.QRectF, margin: float):
    """Data coordinates -> page pixels (aspect kept, y up), centred in `rect` less `margin`."""
    x0, y0, x1, y1 = drawing.bounds()
    inner = rect.adjusted(margin, margin, -margin, -margin)
    k = min(inner.width() / max(x1 - x0, 1e-9), inner.height() / max(y1 - y0, 1e-9))
    if not k > 0:
        raise RenderError("the page is too small for the grid: give a larger --height or "
                          "--width")
    cx = inner.left() + (inner.width() - k * (x1 - x0)) / 2
    cy = inner.top() + (inner.height() - k * (y1 - y0)) / 2

    def to_page(xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = np.empty_like(xy)
        out[:, 0] = cx + (xy[:, 0] - x0) * k
        out[:, 1] = cy + (y1 - xy[:, 1]) * k
        return out

    to_page.k = k
    return to_page
