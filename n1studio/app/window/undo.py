"""Variant edits as QUndoCommands: taking an element out makes a variant; undo removes it
(keeping its entry, with any answers, so redo brings everything back)."""

from __future__ import annotations

from PySide6 import QtGui

from n1studio.present.session import Session, VariantEntry


class AddVariant(QtGui.QUndoCommand):
    """Add `entry` to the session and make it the active variant."""

    def __init__(self, window, entry: VariantEntry, text: str):
        super().__init__(text)
        self.window = window
        self.entry = entry
        self.previous = window.session.active
        self.session: Session = window.session

    def redo(self) -> None:
        k = self.session.insert(self.entry)
        self.session.active = k
        self.window.session_changed()

    def undo(self) -> None:
        self.session.remove(self.entry)
        self.session.active = min(self.previous, len(self.session.entries) - 1)
        self.window.session_changed()
