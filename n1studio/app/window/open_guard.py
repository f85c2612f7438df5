"""Opening another grid replaces the session: its variants and answers go with it. Ask first
(nothing is thrown away without a word); a grid with only its N case is replaced at once."""

from __future__ import annotations

from PySide6 import QtWidgets


def what_would_be_lost(session) -> tuple[int, int]:
    """(variants, answers) of the session that opening another grid would discard."""
    if session is None:
        return 0, 0
    variants = len(session.entries) - 1
    answers = sum(1 for e in session.entries if e.verdict is not None or e.raw or e.checked)
    return variants, answers


def confirm_discard(window, spec: str) -> bool:
    """True when the grid `spec` may replace the open one (asks when work would be lost)."""
    variants, answers = what_would_be_lost(window.session)
    if not variants and not answers:
        return True
    box = QtWidgets.QMessageBox(window)
    box.setObjectName("discardBox")
    box.setIcon(QtWidgets.QMessageBox.Icon.Question)
    box.setWindowTitle("Open another grid?")
    box.setText(f"{window.session.name} has {variants} variant(s) and {answers} answer(s).")
    box.setInformativeText(f"Opening {spec} discards them (a study keeps the runs you saved).")
    SB = QtWidgets.QMessageBox.StandardButton
    box.setStandardButtons(SB.Discard | SB.Cancel)
    box.setDefaultButton(SB.Cancel)
    box.button(SB.Discard).setText("Discard and open")
    return box.exec() == SB.Discard
