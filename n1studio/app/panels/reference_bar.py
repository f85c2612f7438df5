"""The reference solve in the status bar: a progress bar and a Cancel button while the
reference AC OPF of the active variant runs (minutes on case9241pegase), and the banner kept
in step (solving / not solved on its own above 400 buses, with its "Solve reference" link).
"""

from __future__ import annotations

from PySide6 import QtWidgets

from n1studio.jobs import Progress

SOLVE_LINK = "solve-reference"


class ReferenceBar(QtWidgets.QWidget):
    """Progress and Cancel of the window's reference jobs."""

    def __init__(self, window):
        super().__init__()
        self.w = window
        self.setObjectName("referenceBar")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QtWidgets.QLabel("reference")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setObjectName("referenceProgress")
        self.bar.setRange(0, 0)
        self.bar.setMaximumWidth(160)
        self.cancel = QtWidgets.QPushButton("Cancel")
        self.cancel.setObjectName("referenceCancel")
        self.cancel.setToolTip("Stop the reference AC OPF (it can be solved again later)")
        self.cancel.clicked.connect(self.stop)
        for x in (self.label, self.bar, self.cancel):
            lay.addWidget(x)
        self.hide()
        window.statusBar().addPermanentWidget(self)
        window.view.banner.linkActivated.connect(self._link)

    def _link(self, href: str) -> None:
        if href == SOLVE_LINK:
            self.w.solve_active_reference()

    def track(self, job, entry) -> None:
        """Show the job's progress until it ends."""
        self.label.setText(f"reference of {entry.label}")
        self.bar.setRange(0, 0)
        job.progress.connect(self._progress)
        job.finished.connect(self._ended)
        self.show()
        self.refresh_banner()

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, int(p.total))
            self.bar.setValue(int(p.done))

    def _ended(self) -> None:
        if not self.w.ref_jobs:
            self.hide()
        self.refresh_banner()

    def stop(self) -> None:
        """Cancel: every reference job stops (a stopped one is not kept)."""
        for job in list(self.w.ref_jobs.values()):
            job.stop()

    def refresh_banner(self) -> None:
        s = self.w.session
        if s is None:
            return
        e = s.current
        self.w.view.set_banner(self.w.banner_text(e), "warn" if e.ready
                               and e.variant.islands.islanded else "info")
