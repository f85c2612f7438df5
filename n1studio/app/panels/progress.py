"""A job's progress in the status bar: what runs, how far it is, and Cancel.

One widget for every concern (the reference AC OPF, a dataset build, an evaluation): it
follows a `JobSlot`, shows itself when the slot starts a job and hides when the slot has
none; Cancel stops the slot's job cooperatively (a stopped job is "stopped", not an error).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtWidgets

from n1studio.app.runtime.slot import JobSlot
from n1studio.app.runtime.workers import Job
from n1studio.jobs import Progress


class JobProgress(QtWidgets.QWidget):
    """Label, progress bar and Cancel of the job running in `slot`."""

    def __init__(self, slot: JobSlot, name: str, tip: str = "", width: int = 180,
                 text: Callable[[Job], str] | None = None):
        super().__init__()
        self.slot = slot
        self.text = text or (lambda job: job.objectName())
        self.setObjectName(f"{name}Bar")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QtWidgets.QLabel("")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setObjectName(f"{name}Progress")
        self.bar.setMaximumWidth(width)
        self.cancel = QtWidgets.QPushButton("Cancel")
        self.cancel.setObjectName(f"{name}Cancel")
        if tip:
            self.cancel.setToolTip(tip)
        self.cancel.clicked.connect(slot.stop)
        for x in (self.label, self.bar, self.cancel):
            lay.addWidget(x)
        self.hide()
        slot.started.connect(self._started)
        slot.ended.connect(self._ended)

    def _started(self, job: Job) -> None:
        self.label.setText(self.text(job))
        self.bar.setRange(0, 0)  # busy until the job says how far it is
        self.bar.setFormat("%p%")
        job.progress.connect(self._progress)
        self.show()

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, int(p.total))
            self.bar.setValue(int(p.done))
            self.bar.setFormat(f"%v/%m {p.text}" if p.text else "%v/%m")

    def _ended(self, _job: Job) -> None:
        if not self.slot.busy:
            self.hide()
