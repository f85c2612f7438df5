"""Model → Check an answer…: the verdict of an answer that came from anywhere (another chat
model, a student, a file), drawn on the active variant like a model's answer.

The checked answer lives beside the model's (`present.session.CheckedAnswer`, under its
source: "pasted answer", "file NAME"), never replacing it; the verdict panel shows it right
after the check and its "Showing" choice brings the model's answer back.
The dialog takes the answer's text (typed, pasted from the clipboard, or read from a file);
a `Job` judges it with `pipeline.judge(variant, text, repair=True)` against the variant's
references (solved once per variant, as for Ask), so the verdict panel lists its
violations, the view marks them, the plots show its voltages beside the reference's, and
the distance to feasibility (with the moves) is there to show.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6 import QtGui, QtWidgets

from n1studio import pipeline
from n1studio.app.runtime.workers import Job
from n1studio.check.parse import load_document
from n1studio.curate.study import source_label
from n1studio.jobs import JobState
from n1studio.present.session import CHECKED_PREFIX, CheckedAnswer

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 8 * 1024 * 1024
SOURCE_PREFIX = CHECKED_PREFIX  # the model_file of a checked answer


class CheckDialog(QtWidgets.QDialog):
    """A text box for the answer (n1studio.answer/1 JSON), Paste and From file…"""

    def __init__(self, parent=None, variant_label: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Check an answer")
        self.setObjectName("checkDialog")
        self.source = "pasted"
        head = QtWidgets.QLabel(
            f"An answer (n1studio.answer/1 JSON) for <b>{variant_label or 'the variant'}</b>: "
            "paste it, type it or read it from a file. It is judged like a model's answer.")
        head.setWordWrap(True)
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setObjectName("answerText")
        self.text.setPlaceholderText('{"generators": [...], "buses": [...]}')
        self.text.setMinimumSize(520, 260)
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.text.setFont(font)
        self.paste_button = QtWidgets.QPushButton("Paste")
        self.paste_button.setToolTip("Replace the text with the clipboard's")
        self.paste_button.clicked.connect(self.paste)
        self.file_button = QtWidgets.QPushButton("From file…")
        self.file_button.clicked.connect(self.from_file_dialog)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("hint")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Check")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.paste_button)
        row.addWidget(self.file_button)
        row.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(head)
        lay.addWidget(self.text, 1)
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.text.textChanged.connect(self._edited)

    def _edited(self) -> None:
        self.error.hide()
        if not self.text.hasFocus():
            return
        if self.source != "pasted" and not self.source.startswith("typed"):
            self.source = "typed"

    def paste(self) -> None:
        text = QtWidgets.QApplication.clipboard().text()
        if text.strip():
            self.text.setPlainText(text)
            self.source = "pasted"

    def from_file_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "An answer file", "", "Answers (*.json *.txt);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> bool:
        p = Path(path)
        try:
            if p.stat().st_size > MAX_FILE_BYTES:
                raise OSError(f"{p.name} is larger than {MAX_FILE_BYTES // 2**20} MiB")
            text = p.read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            self.error.setText(f"cannot read {p}: {getattr(exc, 'strerror', None) or exc}")
            self.error.show()
            return False
        self.text.setPlainText(text)
        self.source = p.name
        return True

    def _accept(self) -> None:
        if not self.text.toPlainText().strip():
            self.error.setText("The answer is empty: paste it or read it from a file.")
            self.error.show()
            return
        self.accept()


def judge_text(variant, text: str, state: JobState | None = None):
    """Job: (answer in the grid's names or None, verdict, references) of `text` on
    `variant`, with the distance to feasibility."""
    refs = pipeline.references(variant, state=state)
    if state is not None:
        state.status("checking the answer…", stage="check")
    doc, _issues = load_document(text)
    answer = pipeline.to_canonical(variant, doc) if doc is not None else None
    verdict = pipeline.judge(variant, text, refs=refs, repair=True, state=state)
    return answer, verdict, refs


def check_answer_dialog(window, text: str | None = None, source: str = "pasted") -> Job | None:
    """Ask for an answer (unless `text` is given) and judge it against the active variant
    on a job; its verdict is drawn when it is ready (window.answerReady)."""
    s = window.session
    if s is None:
        return None
    entry = s.current
    if text is None:
        dlg = CheckDialog(window, entry.label)
        window.last_check_dialog = dlg  # for tests and the demo
        clip = QtWidgets.QApplication.clipboard().text()
        if clip.lstrip().startswith("{") or clip.lstrip().startswith("```"):
            dlg.text.setPlainText(clip)
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        text, source = dlg.text.toPlainText(), dlg.source
    if window.answering(entry):
        window.statusBar().showMessage("The model is answering this variant: stop it first",
                                       8000)
        return None
    job = Job(judge_text, entry.variant, text, name="check")
    job.entry = entry
    job.succeeded.connect(lambda res, e=entry: _checked(window, e, text, source, res))
    job.failed.connect(lambda msg, e=entry: _failed(window, e, msg))
    window.check_job = job
    window.progress.show()
    window.statusBar().showMessage(f"Checking the answer ({source}) on {entry.label}…")
    window.check_slot.start(job)
    return job


def _checked(window, entry, text: str, source: str, res) -> None:
    answer, verdict, refs = res
    window.update_busy_bar()
    s = window.session
    # the answer is its own source ("pasted answer", "file NAME"), never the model's: the
    # verdict says so (the banner names it) and a study keeps it as that source
    label = source_label(None if source in ("pasted", "typed") else source)
    checked = CheckedAnswer(label, text, answer, {**verdict, "answer_source": label},
                            {"source": label})
    if s is not None and entry.reference is None and refs.own is not None:
        s.update(entry, reference=refs.own)
    base = s.base_entry if s is not None else None
    if base is not None and base is not entry and base.reference is None and refs.n is not None:
        s.update(base, reference=refs.n)
    n = len(verdict.get("violations") or [])
    window.statusBar().showMessage(
        f"{entry.label}: the checked answer has {n} violation(s)" if n
        else f"{entry.label}: the checked answer is feasible", 10000)
    if s is not None:  # beside the model's answer, shown; the views redraw what shows it
        s.add_checked(entry, checked)
    window.answerReady.emit(entry)


def _failed(window, entry, msg: str) -> None:
    window.update_busy_bar()
    window.statusBar().showMessage(f"Could not check the answer on {entry.label}: {msg}",
                                   15000)
