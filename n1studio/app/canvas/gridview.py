"""The grid view: buses, branches, generators and loads drawn with pyqtgraph, at scale.

Drawing follows CONVENTIONS.md: one ScatterPlotItem for all buses (names in `data=`), one
for all generators and loads, one PlotCurveItem(connect='pairs') per edge class, and
pens/brushes built once and indexed with numpy. Variants and verdicts only change masks
(`DrawState`). The symbols are in `glyphs`, the legend in `legend`, picking (a click on
case9241pegase resolves in milliseconds) in `picking`, the bus labels (placed clear of the
markers) in `view_labels`, and where Fit puts the grid in `room`.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.canvas.export import save_png, save_svg
from n1studio.app.canvas.glyphs import (
    E_CUT,
    E_LINE,
    E_OFF,
    E_SEL,
    E_TRAFO,
    E_VIOL,
    MARKERS,
    bus_classes,
    edge_classes,
    marker_points,
)
from n1studio.app.canvas.legend import anchor_legend, build_legend
from n1studio.app.canvas.picking import Picker, find_element
from n1studio.app.canvas.room import (
    fitted_range,
    legend_place,
    overlay_boxes,
    place_banner,
    range_around,
)
from n1studio.app.canvas.styles import view_style
from n1studio.app.canvas.view_labels import BusLabels
from n1studio.grid.elements import parse_element
from n1studio.present.drawing import UNIT_TABLES, Drawing, DrawState, glyph_offset
from n1studio.present.theme import Palette, palette

log = logging.getLogger(__name__)


class GridView(QtWidgets.QWidget):
    """The drawing of one grid variant, with picking, hover, selection and violations."""

    elementClicked = QtCore.Signal(str)  # "" when the click hit nothing
    outageRequested = QtCore.Signal(str)
    inspectRequested = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None, theme: str = "light"):
        super().__init__(parent)
        self.drawing: Drawing | None = None
        self.state: DrawState | None = None
        self.selected: str = ""
        self.scale = 1.0
        self.last_menu: QtWidgets.QMenu | None = None
        self.last_pick_s = 0.0
        self._describe: Callable[[str], str] | None = None
        self._pal: Palette = palette(theme)

        pg.setConfigOptions(antialias=True)
        self.plot = pg.PlotWidget(background=self._pal.background)
        self.plot.setObjectName("gridPlot")
        pi = self.plot.getPlotItem()
        pi.hideAxis("left")
        pi.hideAxis("bottom")
        pi.setMenuEnabled(False)
        pi.hideButtons()
        self.vb = pi.getViewBox()
        self.vb.setAspectLocked(True)
        self.vb.setMenuEnabled(False)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

        self.shade = pg.ScatterPlotItem(pxMode=False)
        self.shade.setZValue(0)
        self.curves = [pg.PlotCurveItem(connect="pairs") for _ in range(6)]
        for z, c in zip((3, 4, 2, 2, 6, 1), self.curves, strict=True):
            c.setZValue(z)
        self.stubs = pg.PlotCurveItem(connect="pairs")
        self.stubs.setZValue(2)
        self.halo = pg.ScatterPlotItem()
        self.halo.setZValue(8)
        self.buses = pg.ScatterPlotItem(hoverable=True, tip=None, hoverSize=-1)
        self.buses.setZValue(10)
        self.units = pg.ScatterPlotItem(hoverable=True, tip=None)
        self.units.setZValue(11)
        self.markers = pg.ScatterPlotItem()
        self.markers.setZValue(20)
        for it in (self.shade, *self.curves, self.stubs, self.halo, self.buses, self.units,
                   self.markers):
            self.plot.addItem(it)

        self.banner = QtWidgets.QLabel(self.plot)
        self.banner.setObjectName("viewBanner")
        self.banner.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.banner.move(12, 10)
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.legend = None
        self.legend_side = "bottom"  # or "right" (a wide view: the grid keeps the height)
        self.show_legend = True
        self.legend_also: list[DrawState] = []  # the compared view's state: one legend
        self.marker_pos = np.zeros((0, 2))  # data positions and pixel sizes of the markers
        self.marker_size = np.zeros(0)
        self.labels = BusLabels(self)
        # fitted: the grid is shown as Fit shows it, so a legend or banner that changes size,
        # or a resize, fits it again; the user's pan or zoom ends that
        self.fitted = False
        self.leader: GridView | None = None  # linked to it (compare): the leader fits both

        self._mouse = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30,
                                     slot=self._on_move)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.vb.sigRangeChanged.connect(self._level_of_detail)
        self.vb.sigRangeChanged.connect(self.labels.schedule)
        self.vb.sigRangeChangedManually.connect(self._user_moved)
        self._build_styles()

    # ---- styles ---------------------------------------------------------------------------
    def _build_styles(self) -> None:
        n = len(self.drawing.bus_names) if self.drawing is not None else 0
        self.look = st = view_style(self._pal, self.scale, n)
        for c, pen in zip(self.curves, st.edge_pens, strict=True):
            c.setPen(pen)
        self.stubs.setPen(st.stub_pen)
        for c in (*self.curves, self.stubs):
            c.opts["antialias"] = st.antialias
        self.plot.setBackground(self._pal.background)

    @property
    def pal(self) -> Palette:
        return self._pal

    @property
    def bus_size(self) -> float:
        """The diameter of a bus marker in pixels (at this grid's size and scale)."""
        return self.look.bus_size

    def set_theme(self, name: str) -> None:
        self._pal = palette(name)
        self._build_styles()
        self._rebuild_legend()
        self.refresh()

    def set_scale(self, scale: float) -> None:
        """Presentation mode: larger markers, thicker lines, bigger labels."""
        self.scale = scale
        self._build_styles()
        self.labels.rebuild()
        self._rebuild_legend()
        self.refresh()

    def set_describer(self, fn: Callable[[str], str]) -> None:
        """`fn(name) -> html` gives a hovered element's data and results for its tooltip."""
        self._describe = fn

    # ---- content --------------------------------------------------------------------------
    def set_drawing(self, drawing: Drawing, state: DrawState) -> None:
        """Show a new grid (geometry is static; `set_state` later updates only masks)."""
        self.drawing = drawing
        self.selected = ""
        self._build_styles()
        d = drawing
        self._picker = Picker(d)
        self._ea, self._eb = self._picker.ea, self._picker.eb
        stub = np.empty((2 * len(d.unit_xy), 2))
        stub[0::2] = d.bus_xy[d.unit_bus]
        stub[1::2] = d.unit_xy
        self.stubs.setData(stub[:, 0], stub[:, 1], connect="pairs")
        self.labels.rebuild()
        self._rebuild_legend()
        self.set_state(state)
        self.fit()

    def legend_kinds(self) -> list[str]:
        """The marker kinds the legend lists: this view's and the compared view's."""
        states = [self.state, *self.legend_also]
        kinds = {k for st in states if st is not None for _, k in st.markers}
        return [k for k in MARKERS if k in kinds]

    def set_state(self, state: DrawState) -> None:
        old = self.legend_kinds()
        self.state = state
        if self.legend_kinds() != old:
            self._rebuild_legend()
        self.refresh()

    def set_legend_also(self, states: list) -> None:
        """Two views side by side, one legend: it lists the other view's markers too."""
        old = self.legend_kinds()
        self.legend_also = [st for st in states if st is not None]
        if self.legend_kinds() != old:
            self._rebuild_legend()

    def refresh(self) -> None:
        d, st = self.drawing, self.state
        if d is None or st is None:
            return
        # edges: one curve per class
        cls = edge_classes(d, st)
        for k in (E_LINE, E_TRAFO, E_OFF, E_CUT, E_VIOL):
            self._set_edges(self.curves[k], cls == k)

        # buses
        bcls = bus_classes(d, st)
        look = self.look
        self.buses.setData(pos=d.bus_xy, brush=look.bus_brushes[bcls], pen=look.bus_pens[bcls],
                           size=look.bus_sizes[bcls], symbol="o", data=d.bus_names,
                           hoverable=True, tip=None, hoverSize=self.bus_size * 1.8)
        # islands: a soft shade under the buses that are cut off
        if st.bus_cut.any():
            c = QtGui.QColor(self._pal.cut)
            c.setAlpha(60)
            self.shade.setData(pos=d.bus_xy[st.bus_cut], size=d.layout.unit * 1.1,
                               brush=pg.mkBrush(c), pen=pg.mkPen(None), symbol="o")
        else:
            self.shade.setData([])
        # units
        if len(d.unit_names):
            ucls = d.unit_table.astype(int).copy()
            ucls[~st.unit_on] = 4
            ucls[st.unit_viol] = 5
            syms = [self.look.symbols[UNIT_TABLES[t]] for t in d.unit_table]
            size = np.where(st.unit_viol, 1.3, 1.0) * self.look.unit_size
            self.units.setData(pos=d.unit_xy, brush=self.look.unit_brushes[ucls],
                               pen=self.look.unit_pens[ucls], size=size, symbol=syms,
                               data=d.unit_names, hoverable=True, tip=None)
        else:
            self.units.setData([])
        # violation markers: a hollow symbol per constraint kind
        pos, sym, size = marker_points(d, st.markers, self.look.unit_size, self.bus_size,
                                       self.scale)
        if len(pos):
            self.markers.setData(pos=pos, symbol=sym, size=size, brush=pg.mkBrush(None),
                                 pen=pg.mkPen(self._pal.violation, width=2.2 * self.scale))
        else:
            self.markers.setData([])
        self.marker_pos, self.marker_size = pos, size
        self._refresh_selection()
        self.labels.place()

    def _refresh_selection(self) -> None:
        """Only the selection marks (a click must not redraw the whole grid)."""
        d = self.drawing
        if d is None:
            return
        kind, rows = d.index.get(self.selected, ("", []))
        sel = np.zeros(len(d.edge_names), dtype=bool)
        if kind == "edge":
            sel[rows] = True
        self._set_edges(self.curves[E_SEL], sel)
        if kind in ("bus", "unit"):
            xy = d.position(self.selected)
            self.halo.setData(pos=[xy], size=self.look.unit_size * 2.2, symbol="o",
                              brush=pg.mkBrush(None),
                              pen=pg.mkPen(self._pal.selection, width=3.5 * self.scale))
        else:
            self.halo.setData([])

    def _set_edges(self, curve: pg.PlotCurveItem, mask: np.ndarray) -> None:
        n = int(mask.sum())
        if n == 0:
            curve.setData(np.zeros(0), np.zeros(0))
            curve.hide()
            return
        xy = np.empty((2 * n, 2))
        xy[0::2] = self._ea[mask]
        xy[1::2] = self._eb[mask]
        curve.setData(xy[:, 0], xy[:, 1], connect="pairs")
        curve.show()

    def _rebuild_legend(self, cols: int | None = None) -> None:
        cols = cols or (self.legend.columnCount if self.legend is not None else 3)
        if self.legend is not None and self.legend.scene() is not None:
            self.legend.scene().removeItem(self.legend)
        self.legend = build_legend(self.vb, self._pal, self.scale, self.look.edge_pens,
                                   self.look.symbols, self.legend_kinds(), self.show_legend,
                                   cols)
        self._fit_legend()
        self._refit()

    def _fit_legend(self) -> None:
        """The legend's side and columns for the view's size (`room.legend_place`)."""
        if self.legend is None:
            return
        side, cols = legend_place(self)
        self.legend_side = side
        if cols != self.legend.columnCount:
            self._rebuild_legend(cols)  # a new legend: see legend.legend_size
            return
        anchor_legend(self.legend, side)

    def overlay_boxes(self) -> list[np.ndarray]:
        """The legend's and the banner's boxes on the scene (labels keep clear of them)."""
        return overlay_boxes(self)

    def _level_of_detail(self, *_args) -> None:
        """Generator and load glyphs only where they can be told apart from their bus: on a
        big grid seen whole they would be a smear (and cost a third of every frame)."""
        d = self.drawing
        if d is None:
            return
        px = max(self.vb.viewPixelSize())
        show = px <= 0 or glyph_offset(d.layout) / px >= 9 * self.scale
        show = show or (self.state is not None and bool(self.state.unit_viol.any())
                        and len(d.unit_names) < 2000)
        if show != self.units.isVisible():
            self.units.setVisible(show)
            self.stubs.setVisible(show)

    @property
    def glyphs_visible(self) -> bool:
        return self.units.isVisible()

    # ---- navigation -----------------------------------------------------------------------
    def _user_moved(self, *_args) -> None:
        self.fitted = False
        if self.leader is not None:
            self.leader.fitted = False

    def _refit(self) -> None:
        """Fit again when the grid is shown fitted (the room for it changed)."""
        if self.fitted and self.leader is None and self.isVisible():
            self.fit()

    def fit(self) -> None:
        """The whole grid in the room the banner and the legend leave, centred there."""
        if self.leader is not None:  # linked: the leading view fits, this one follows
            self.leader.fit()
            return
        if self.drawing is None:
            return
        self._fit_legend()
        rect = fitted_range(self)
        if rect is None:  # no size yet: the grid and a margin
            x0, y0, x1, y1 = self.drawing.bounds()
            pad = 0.6 * self.drawing.layout.unit
            self.vb.setRange(QtCore.QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad,
                                           y1 - y0 + 2 * pad), padding=0.02)
            return
        self.vb.setRange(rect, padding=0)
        self.fitted = True
        self.labels.place()

    def fit_on(self, names: list[str]) -> bool:
        """Centre and fit the view on these elements (an outage and its violations)."""
        rect = range_around(self.drawing, names) if self.drawing is not None else None
        if rect is None:
            return False
        self.vb.setRange(rect, padding=0)
        self._user_moved()
        return True

    def centre_on(self, name: str, zoom: bool = True) -> bool:
        """Centre the view on an element; zoom in on big grids so it can be seen."""
        if self.drawing is None:
            return False
        xy = self.drawing.position(name)
        if xy is None:
            return False
        (x0, x1), (y0, y1) = self.vb.viewRange()
        w, h = x1 - x0, y1 - y0
        if zoom:
            span = 14 * self.drawing.layout.unit
            w, h = min(w, span), min(h, span)
        self.vb.setRange(QtCore.QRectF(xy[0] - w / 2, xy[1] - h / 2, w, h), padding=0)
        self._user_moved()
        return True

    def select(self, name: str, centre: bool = False) -> None:
        self.selected = name if self.drawing is not None and name in self.drawing.index else ""
        self._refresh_selection()
        if centre and self.selected:
            self.centre_on(self.selected)

    def find(self, text: str) -> str:
        """An element name from user text (`picking.find_element`)."""
        return find_element(self.drawing, text) if self.drawing is not None else ""

    # ---- picking --------------------------------------------------------------------------
    def pick_data(self, x: float, y: float, px: float) -> str:
        """The element under data point (x, y); `px` is the data size of one pixel."""
        return self._picker.pick(x, y, px) if self.drawing is not None else ""

    def pick(self, scene_pos: QtCore.QPointF) -> str:
        t0 = time.perf_counter()
        p = self.vb.mapSceneToView(scene_pos)
        px = max(self.vb.viewPixelSize())
        name = self.pick_data(p.x(), p.y(), px)
        self.last_pick_s = time.perf_counter() - t0
        return name

    def screen_point(self, name: str) -> QtCore.QPoint:
        """Where an element is on the plot widget's viewport (for tests and the demo)."""
        xy = self.drawing.position(name)
        sp = self.vb.mapViewToScene(QtCore.QPointF(float(xy[0]), float(xy[1])))
        return self.plot.mapFromScene(sp)

    def _on_click(self, ev) -> None:
        name = self.pick(ev.scenePos())
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self.select(name)
            self.elementClicked.emit(name)
            ev.accept()
        elif ev.button() == QtCore.Qt.MouseButton.RightButton:
            self.select(name)
            self.elementClicked.emit(name)
            if name:
                menu = self.menu_for(name)
                self.last_menu = menu
                menu.popup(ev.screenPos().toPoint())
            ev.accept()

    def menu_for(self, name: str) -> QtWidgets.QMenu:
        """The context menu of an element: take out of service, inspect, centre."""
        menu = QtWidgets.QMenu(self)
        table = parse_element(name).table
        act = menu.addAction(f"Take {name} out of service")
        act.setObjectName("takeOut")
        act.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Delete))
        act.setEnabled(table in ("bus", "line", "trafo", "trafo3w", "impedance", "gen", "sgen",
                                 "ext_grid", "load"))
        act.triggered.connect(lambda: self.outageRequested.emit(name))
        menu.addAction("Inspect", lambda: self.inspectRequested.emit(name))
        menu.addAction("Centre here", lambda: self.centre_on(name, zoom=False))
        return menu

    def _on_move(self, args) -> None:
        pos = args[0]
        if self.drawing is None or not self.plot.sceneBoundingRect().contains(pos):
            return
        name = self.pick(pos)
        tip = ""
        if name:
            tip = self._describe(name) if self._describe else html.escape(name)
        self.vb.setToolTip(tip)

    # ---- export ---------------------------------------------------------------------------
    def set_banner(self, text: str, level: str = "info") -> None:
        """The line over the drawing: what is shown (variant, islands, verdict)."""
        if not text:
            self.banner.hide()
            self._refit()
            return
        self.banner.setProperty("level", level)
        self.banner.setText(text)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        self.banner.show()
        self._place_banner()
        self._refit()

    def _place_banner(self) -> None:
        place_banner(self.banner, self.plot.width())

    def set_legend_visible(self, on: bool) -> None:
        """One legend when two views are side by side: the second view hides its own."""
        self.show_legend = on
        if self.legend is not None:
            self.legend.setVisible(on)
            self._fit_legend()

    def export_png(self, path: str, width: int = 0, height: int = 0) -> None:
        """Save what the view shows (drawing, legend and banner) as a PNG."""
        save_png(self, path, width, height)

    def export_svg(self, path: str) -> None:
        """Save the view as SVG."""
        save_svg(self, path, "N-1 Studio grid view")

    @property
    def highlighted(self) -> set[str]:
        """Element names drawn in the violation colour."""
        return set(self.state.highlighted) if self.state is not None else set()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        super().resizeEvent(ev)
        if self.banner.isVisible():
            self._place_banner()
        self._fit_legend()
        self._refit()
        self.labels.schedule()
