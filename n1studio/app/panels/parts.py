"""Small Qt parts the window and its panels share: an action with its icon and tip, a dock,
a scroll area that fits a 768-pixel-high screen."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.resources import resource


def icon(name: str) -> QtGui.QIcon:
    path = resource("icons", f"{name}.svg")
    return QtGui.QIcon(str(path)) if path.is_file() else QtGui.QIcon()


def make_action(parent: QtCore.QObject, text: str, slot, shortcut=None, icon_name: str = "",
                tip: str = "", checkable: bool = False) -> QtGui.QAction:
    """An action: icon from resources/icons, tooltip = status tip."""
    a = QtGui.QAction(icon(icon_name) if icon_name else QtGui.QIcon(), text, parent)
    if shortcut is not None:
        a.setShortcut(QtGui.QKeySequence(shortcut))
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    a.setCheckable(checkable)
    a.triggered.connect(slot)
    return a


def make_dock(title: str, w: QtWidgets.QWidget,
              parent: QtWidgets.QWidget | None = None) -> QtWidgets.QDockWidget:
    """A movable, floatable, closable dock holding `w` (named dock<Title>, which the saved
    window state refers to)."""
    d = QtWidgets.QDockWidget(title, parent)
    d.setObjectName(f"dock{title}")
    d.setWidget(w)
    f = QtWidgets.QDockWidget.DockWidgetFeature
    d.setFeatures(f.DockWidgetMovable | f.DockWidgetFloatable | f.DockWidgetClosable)
    return d


def scroll_area(w: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """`w` in a vertical scroll area, so the window fits a 768-pixel-high screen."""
    area = QtWidgets.QScrollArea()
    area.setWidget(w)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area._fit = _FitWidth(area)  # kept with the area
    w.installEventFilter(area._fit)
    area._fit.fit()
    return area


class _FitWidth(QtCore.QObject):
    """Keeps a scroll area as wide as its panel needs, the vertical scroll bar counted (else
    the panel's right edge, buttons and spin-box arrows, is clipped whenever the bar shows).
    Again whenever the panel's layout changes: the theme's style sheet, applied when the
    window is first shown, widens it."""

    def __init__(self, area: QtWidgets.QScrollArea):
        super().__init__(area)
        self.area = area

    def fit(self) -> None:
        bar = self.area.verticalScrollBar().sizeHint().width()
        need = max(360, self.area.widget().minimumSizeHint().width() + bar + 2)
        if self.area.minimumWidth() != need:
            self.area.setMinimumWidth(need)

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:
        if ev.type() in (QtCore.QEvent.Type.LayoutRequest, QtCore.QEvent.Type.StyleChange,
                         QtCore.QEvent.Type.Polish):
            self.fit()
        return False
