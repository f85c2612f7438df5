"""Side-by-side comparison of any two entries of the session (two N-1 variants, the N case
and a variant, ...).

`CompareBar` sits over the two views while comparing: a "Left" and a "Right" list of the
session's entries. The left one is the active entry (choosing it activates it), the right one
is drawn in the second view. The views are linked both ways (pan or zoom one, the other
follows), only the left view shows the legend, which lists both views' markers, and each
view's banner carries its entry's full label. The second view is fitted once it has its
size (a view fitted while hidden shrinks the grid to a dot).
"""

from __future__ import annotations

import html

from PySide6 import QtCore, QtWidgets

from n1studio.present.drawing import state_for


class CompareBar(QtWidgets.QWidget):
    """The two entries being compared, chosen from the session's list."""

    leftChosen = QtCore.Signal(int)
    rightChosen = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("compareBar")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        self.left = QtWidgets.QComboBox()
        self.left.setObjectName("compareLeft")
        self.right = QtWidgets.QComboBox()
        self.right.setObjectName("compareRight")
        for combo in (self.left, self.right):
            combo.setSizeAdjustPolicy(
                QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        lay.addWidget(QtWidgets.QLabel("Left:"))
        lay.addWidget(self.left, 1)
        lay.addSpacing(12)
        lay.addWidget(QtWidgets.QLabel("Right:"))
        lay.addWidget(self.right, 1)
        self._updating = False
        self.left.activated.connect(lambda k: self._emit(self.leftChosen, k))
        self.right.activated.connect(lambda k: self._emit(self.rightChosen, k))

    def _emit(self, signal, k: int) -> None:
        if not self._updating:
            signal.emit(int(k))

    def show_entries(self, labels: list[str], left: int, right: int) -> None:
        self._updating = True
        try:
            for combo, k in ((self.left, left), (self.right, right)):
                combo.clear()
                combo.addItems(labels)
                combo.setCurrentIndex(k)
        finally:
            self._updating = False


def compared_index(session, wanted: int) -> int:
    """The entry drawn on the right: `wanted` if it is another entry than the active one,
    else the one before the active one in the list (the variant the user made or looked at
    before it; the first variant when the N case is active)."""
    k = wanted
    if not (0 <= k < len(session.entries)) or k == session.active:
        k = session.active - 1 if session.active > 0 else (1 if len(session.entries) > 1 else 0)
    return k


def link_views(a, b) -> None:
    """Pan and zoom of either view moves the other (pyqtgraph's link works both ways); `a`
    leads: its Fit (the room its banner and the one legend leave) fits both."""
    b.vb.setXLink(a.vb)
    b.vb.setYLink(a.vb)
    b.leader = a


def unlink_views(a, b) -> None:
    for v in (a, b):
        v.vb.setXLink(None)
        v.vb.setYLink(None)
    b.leader = None
    a.set_legend_also([])


def run_label(entry_label: str, run: dict) -> str:
    """How a stored run (a model's answer to the variant) is listed and titled."""
    return f"{entry_label} · {run.get('model') or 'model'} (run {run['id']})"


def run_banner(session, entry, run: dict, violation_colour: str) -> str:
    """The banner of a stored run drawn beside the active entry."""
    v = run.get("verdict") or {}
    n = len(v.get("violations") or [])
    verdict = (f"<span style='color:{violation_colour}'><b>{n} violation(s)</b></span>" if n
               else "answer feasible")
    model = html.escape(str(run.get("model") or "model"))
    return " · ".join([f"<b>{html.escape(session.name)}</b>",
                       f"<b>{html.escape(entry.label)}</b>", model, verdict])


def run_state(session, entry, run: dict):
    """What the view draws for a stored run of `entry`'s variant: its verdict's violations."""
    known = entry.ready or not session.big
    cut = entry.variant.islands.cut_buses if known else ()
    outs = entry.variant.out_of_service if known else entry.outages  # tripped units too
    return state_for(session.drawing, session.net, outs, cut,
                     (run.get("verdict") or {}).get("violations") or [])
