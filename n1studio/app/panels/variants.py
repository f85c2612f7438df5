"""The variants panel: the N case and its variants, kept in step with the session's events;
selecting one asks for it to be drawn."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.present.session import Session


class VariantsPanel(QtWidgets.QWidget):
    """The N case and its variants; selecting one draws it. Two can be compared side by side."""

    activated = QtCore.Signal(int)
    compareRequested = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setObjectName("variantsTree")
        self.tree.setHeaderLabels(["Variant", "Status"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Interactive)
        self.tree.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.tree.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.currentItemChanged.connect(self._changed)
        self.note = QtWidgets.QLabel("Click an element, then Delete (or right-click → Take out "
                                     "of service) to make an N-1 variant.")
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.tree)
        lay.addWidget(self.note)
        self._updating = False
        self.session: Session | None = None

    def set_session(self, session: Session) -> None:
        """Follow `session`: every change it reports (added, removed, changed, activated)
        redraws the list."""
        if self.session is not None:
            self.session.events.disconnect(self._on_event)
        self.session = session
        session.events.connect(self._on_event)
        self.show_session(session)

    def _on_event(self, _info) -> None:
        self.show_session(self.session)

    def show_session(self, session: Session) -> None:
        self._updating = True
        try:
            self.tree.clear()
            for k, e in enumerate(session.entries):
                it = QtWidgets.QTreeWidgetItem([e.label, e.summary()])
                it.setData(0, QtCore.Qt.ItemDataRole.UserRole, k)
                it.setToolTip(0, e.label)
                it.setToolTip(1, e.summary())
                if e.shown.verdict is not None:
                    bad = bool(e.shown.verdict.get("violations"))
                    it.setForeground(1, QtGui.QBrush(QtGui.QColor("#e0245e" if bad else "#1e8e5a")))
                if k == session.active:
                    f = it.font(0)
                    f.setBold(True)
                    it.setFont(0, f)
                self.tree.addTopLevelItem(it)
                if k == session.active:
                    self.tree.setCurrentItem(it)
            self.tree.resizeColumnToContents(0)
            # a long (perturbed) label elides, its tooltip whole: the Status column stays
            # in sight; both columns widen by dragging the header
            cap = max(120, int(0.6 * self.tree.viewport().width()))
            if self.tree.columnWidth(0) > cap:
                self.tree.setColumnWidth(0, cap)
        finally:
            self._updating = False

    def _changed(self, cur, _prev) -> None:
        if self._updating or cur is None:
            return
        self.activated.emit(int(cur.data(0, QtCore.Qt.ItemDataRole.UserRole)))

    def _menu(self, pos) -> None:
        it = self.tree.itemAt(pos)
        if it is None:
            return
        k = int(it.data(0, QtCore.Qt.ItemDataRole.UserRole))
        m = QtWidgets.QMenu(self)
        m.addAction("Show", lambda: self.activated.emit(k))
        m.addAction("Compare side by side", lambda: self.compareRequested.emit(k))
        m.popup(self.tree.viewport().mapToGlobal(pos))
