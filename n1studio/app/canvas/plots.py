"""Plots people would rather look at than read: the voltage profile of the answer against
the reference and the limits, and branch loadings against ratings."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from n1studio.grid.model import GridModel
from n1studio.present.results import Profile
from n1studio.present.theme import palette


class PlotsPanel(QtWidgets.QWidget):
    elementActivated = QtCore.Signal(str)

    def __init__(self, parent=None, theme: str = "light"):
        super().__init__(parent)
        self._pal = palette(theme)
        self.volt = pg.PlotWidget()
        self.load = pg.PlotWidget()
        for w, title, ylab in ((self.volt, "Voltage profile", "|V| (pu)"),
                               (self.load, "Branch loading", "loading (% of rating)")):
            w.setMenuEnabled(False)
            w.showGrid(x=False, y=True, alpha=0.25)
            w.setLabel("left", ylab)
            w.setTitle(title)
            w.addLegend(offset=(8, 8))
        self.volt.setLabel("bottom", "bus (model order)")
        self.load.setLabel("bottom", "branch (model order)")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.volt)
        lay.addWidget(self.load)
        self._model: GridModel | None = None
        self.set_theme(theme)

    def set_theme(self, name: str) -> None:
        self._pal = palette(name)
        for w in (self.volt, self.load):
            w.setBackground(self._pal.background)
            for ax in ("left", "bottom"):
                w.getAxis(ax).setTextPen(self._pal.text)
                w.getAxis(ax).setPen(self._pal.muted)
            w.setTitle(w.getPlotItem().titleLabel.text, color=self._pal.text)

    def show_profiles(self, model: GridModel | None, ref: Profile | None,
                      ans: Profile | None) -> None:
        p = self._pal
        for w in (self.volt, self.load):
            w.clear()
            if w.getPlotItem().legend is not None:
                w.getPlotItem().legend.clear()
        if model is None:
            return
        named = np.array([bool(n) for n in model.bus_names]) & model.bus_on
        x = np.arange(model.n_bus)[named]
        self.volt.plot(x, model.vmax[named], pen=pg.mkPen(p.limit, width=1.5,
                                                           style=QtCore.Qt.PenStyle.DashLine),
                       name="limits")
        self.volt.plot(x, model.vmin[named], pen=pg.mkPen(p.limit, width=1.5,
                                                           style=QtCore.Qt.PenStyle.DashLine))
        if ref is not None:
            ok = named & np.isfinite(ref.vm)
            self.volt.plot(np.flatnonzero(ok), ref.vm[ok], pen=pg.mkPen(p.reference, width=2),
                           symbol="o", symbolSize=5, symbolBrush=p.reference,
                           symbolPen=None, name="reference")
        if ans is not None:
            ok = named & np.isfinite(ans.vm)
            out = ok & ((ans.vm > model.vmax + 1e-6) | (ans.vm < model.vmin - 1e-6))
            self.volt.plot(np.flatnonzero(ok), ans.vm[ok], pen=pg.mkPen(p.answer, width=1.5),
                           symbol="o", symbolSize=6, symbolBrush=p.answer, symbolPen=None,
                           name="answer")
            if out.any():
                self.volt.plot(np.flatnonzero(out), ans.vm[out], pen=None, symbol="t1",
                               symbolSize=14, symbolBrush=None,
                               symbolPen=pg.mkPen(p.violation, width=2), name="out of limits")
        # loadings: bars of the reference, answer points, the 100 % line
        nbr = len(model.branch_names)
        xb = np.arange(nbr)
        rated = np.isfinite(model.rate) & model.branch_on
        if ref is not None and rated.any():
            y = np.where(rated, ref.loading, 0) * 100
            self.load.addItem(pg.BarGraphItem(x=xb[rated], height=np.nan_to_num(y[rated]),
                                              width=0.7, brush=p.reference, pen=None))
            self.load.plot([], [], pen=pg.mkPen(p.reference, width=6), name="reference")
        if ans is not None and rated.any():
            y = ans.loading * 100
            ok = rated & np.isfinite(y)
            over = ok & (y > 100)
            self.load.plot(xb[ok], y[ok], pen=None, symbol="o", symbolSize=6,
                           symbolBrush=p.answer, symbolPen=None, name="answer")
            if over.any():
                self.load.plot(xb[over], y[over], pen=None, symbol="star", symbolSize=14,
                               symbolBrush=None, symbolPen=pg.mkPen(p.violation, width=2),
                               name="over rating")
        if nbr:
            self.load.plot([-0.5, nbr - 0.5], [100, 100],
                           pen=pg.mkPen(p.limit, width=1.5, style=QtCore.Qt.PenStyle.DashLine),
                           name="rating")
        if not rated.any():
            self.load.setTitle("Branch loading (this case has no branch ratings)", color=p.text)
        else:
            self.load.setTitle("Branch loading", color=p.text)
        self._model = model
