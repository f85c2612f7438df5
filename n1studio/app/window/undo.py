"""Variant edits as QUndoCommands: taking an element out makes a variant; undo removes it
(keeping its entry, with any answers, so redo brings everything back)."""

from __future__ import annotations

from PySide6 import QtGui

from n1studio.present.session import Session, VariantEntry


class AddVariant(QtGui.QUndoCommand):
    """Add `entry` to the session and make it the active variant (the session says so; the
    window's views follow)."""

    def __init__(self, session: Session, entry: VariantEntry, text: str):
        super().__init__(text)
        self.session = session
        self.entry = entry
        self.previous = session.active

    def redo(self) -> None:
        self.session.active = self.session.insert(self.entry)

    def undo(self) -> None:
        s = self.session
        s.remove(self.entry, activate=self.previous)
        s.active = min(self.previous, len(s.entries) - 1)
