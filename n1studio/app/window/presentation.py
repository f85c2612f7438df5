"""Presentation mode (F5): a projector layout of the main window.

The drawing fills the window: every dock, the toolbar and the status bar are hidden, the
banner over the view (case, variant, verdict) becomes a compact wrapped overlay, fonts,
markers and bus labels grow. Leaving restores the window exactly as it was (its
`saveState()`: docks, their sizes and the toolbar).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class Presentation:
    """Enter and leave the projector layout of a `MainWindow`."""

    def __init__(self, window: QtWidgets.QMainWindow):
        self.window = window
        self.saved_state: QtCore.QByteArray | None = None
        self.saved_status = True
        self.hidden: list[QtWidgets.QWidget] = []

    @property
    def active(self) -> bool:
        return self.saved_state is not None

    def enter(self) -> None:
        w = self.window
        if self.active:
            return
        self.saved_state = w.saveState()
        self.saved_status = w.statusBar().isVisible()
        # F5 and Esc still work with the toolbar hidden (actions of the window itself)
        for a in (w.act_present,):
            if a not in w.actions():
                w.addAction(a)
        self.hidden = [d for d in w.findChildren(QtWidgets.QDockWidget)
                       if d.isVisible() and d.parent() is w]
        self.hidden += [t for t in w.findChildren(QtWidgets.QToolBar) if t.isVisible()]
        for x in self.hidden:
            x.hide()
        w.statusBar().hide()

    def leave(self) -> None:
        w = self.window
        if not self.active:
            return
        for x in self.hidden:
            x.show()
        w.statusBar().setVisible(self.saved_status)
        # lay the window out with its bars back before the docks take their saved sizes,
        # or the sizes are shared out over the taller presentation area
        w.layout().activate()
        QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.LayoutRequest)
        state = self.saved_state
        w.restoreState(state)
        w.layout().activate()
        # once the normal fonts are polished in (the presentation fonts' minimum sizes may
        # have clamped the first restore), the saved sizes once more
        QtCore.QTimer.singleShot(0, lambda: self.saved_state is None and w.restoreState(state))
        self.saved_state = None
        self.hidden = []
