"""The student's flow from the Curate menu: build a dataset of the open grid (with
families), evaluate models and controls on it, read the report in the window, export it.

Each step calls the same core function as its command (`n1studio dataset build`,
`n1studio eval`, `n1studio report`): `build_dataset`, `run_eval`, `build_report` /
`write_report`, so the window and the command line store and report the same runs. The
slow steps run as Jobs on their own connection to the study, holding its writer lease as
the commands do, with progress and a Cancel button in the status bar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from n1studio.app.runtime.workers import Job
from n1studio.jobs import JobState, Progress

CONTROLS = ("control:reference", "control:recall-n", "control:noise:0.05", "control:zeros")


def dataset_job(study_path: str, net, source: str, name: str, families: list[str],
                sample: int | None, seed: int, state: JobState | None = None) -> dict:
    """Job: `n1studio dataset build` into the study at `study_path`."""
    from n1studio.curate.dataset import build_dataset
    from n1studio.curate.study import Study

    state = state or JobState()

    def progress(done: int, total: int) -> None:
        state.progress(done, total, "references", stage="dataset")

    with Study.open(study_path, create=True) as st, st.writer("dataset build"):
        ds = build_dataset(st, net, source, name or None, families=families or None,
                           sample=sample, seed=seed, progress=progress,
                           cancel=state.cancel.is_set)
        items = st.dataset_items(ds)
        counts: dict[str, int] = {}
        for it in items:
            counts[it["split"]] = counts.get(it["split"], 0) + 1
        return {"dataset_id": ds, "name": st.dataset_name(ds), "counts": counts}


def eval_job(study_path: str, dataset_id: int, models: list[str],
             state: JobState | None = None) -> dict:
    """Job: `n1studio eval` of `models` (GGUF paths or controls) on a dataset."""
    from n1studio.curate.evaluate import run_eval
    from n1studio.curate.study import Study

    with Study.open(study_path) as st, st.writer("eval"):
        return run_eval(st, dataset_id, [m or None for m in models], state=state).to_dict()


class JobBar(QtWidgets.QWidget):
    """What the curation job is doing, how far it is, and Cancel."""

    def __init__(self, window):
        super().__init__()
        self.setObjectName("curateJobBar")
        self.job: Job | None = None
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QtWidgets.QLabel("")
        self.bar = QtWidgets.QProgressBar()
        self.bar.setObjectName("curateProgress")
        self.bar.setMaximumWidth(180)
        self.cancel = QtWidgets.QPushButton("Cancel")
        self.cancel.setObjectName("curateCancel")
        self.cancel.clicked.connect(self.stop)
        for x in (self.label, self.bar, self.cancel):
            lay.addWidget(x)
        self.hide()
        window.statusBar().addPermanentWidget(self)

    def track(self, job: Job, text: str) -> None:
        self.job = job
        self.label.setText(text)
        self.bar.setRange(0, 0)
        job.progress.connect(self._progress)
        job.finished.connect(self._ended)
        self.show()

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, int(p.total))
            self.bar.setValue(int(p.done))
            self.bar.setFormat(f"%v/%m {p.text}" if p.text else "%v/%m")

    def _ended(self) -> None:
        self.job = None
        self.hide()

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()


class DatasetDialog(QtWidgets.QDialog):
    """Name, families, sample and seed of a dataset of the open grid."""

    def __init__(self, parent, grid: str):
        super().__init__(parent)
        self.setWindowTitle("Build a dataset")
        self.setObjectName("datasetDialog")
        form = QtWidgets.QFormLayout(self)
        self.name = QtWidgets.QLineEdit(f"{grid}-n1")
        self.families = QtWidgets.QLineEdit("n-1")
        self.families.setToolTip("Families, comma-separated: n-1, n-2, load:0.1, scale:1.1, "
                                 "cost:0.2, relabel, joined by + (n-1+load:0.1)")
        self.sample = QtWidgets.QSpinBox()
        self.sample.setRange(0, 100000)
        self.sample.setSpecialValueText("every outage")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        form.addRow("Name", self.name)
        form.addRow("Families", self.families)
        form.addRow("Sample per family", self.sample)
        form.addRow("Seed", self.seed)
        bb = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                        | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        bb.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Build")
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def values(self) -> dict:
        fams = [f.strip() for f in self.families.text().split(",") if f.strip()]
        return {"name": self.name.text().strip(), "families": fams,
                "sample": self.sample.value() or None, "seed": self.seed.value()}


class EvalDialog(QtWidgets.QDialog):
    """Which dataset, and which models and controls to ask."""

    def __init__(self, parent, datasets: list[dict], models: list[str]):
        super().__init__(parent)
        self.setWindowTitle("Evaluate models")
        self.setObjectName("evalDialog")
        lay = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        self.dataset = QtWidgets.QComboBox()
        for d in datasets:
            self.dataset.addItem(str(d["name"]), int(d["id"]))
        form.addRow("Dataset", self.dataset)
        lay.addLayout(form)
        lay.addWidget(QtWidgets.QLabel("Models and controls:"))
        self.models = QtWidgets.QListWidget()
        self.models.setObjectName("evalModels")
        for m in [*models, *CONTROLS]:
            it = QtWidgets.QListWidgetItem(m)
            it.setFlags(it.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(QtCore.Qt.CheckState.Unchecked)
            it.setToolTip(m)
            self.models.addItem(it)
        lay.addWidget(self.models)
        bb = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                        | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        bb.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Evaluate")
        bb.accepted.connect(self.accept)
        bb.rejected.connect(self.reject)
        lay.addWidget(bb)

    def check(self, name: str) -> None:
        for i in range(self.models.count()):
            it = self.models.item(i)
            if it.text() == name:
                it.setCheckState(QtCore.Qt.CheckState.Checked)

    def values(self) -> dict:
        chosen = [self.models.item(i).text() for i in range(self.models.count())
                  if self.models.item(i).checkState() == QtCore.Qt.CheckState.Checked]
        return {"dataset_id": self.dataset.currentData(), "models": chosen}


class CurateFlow(QtCore.QObject):
    """Build, evaluate, report and export from the Curate menu (a part of `Curation`)."""

    datasetBuilt = QtCore.Signal(object)  # {"dataset_id", "name", "counts"}
    evalDone = QtCore.Signal(object)  # the EvalSummary as a dict
    dialogOpened = QtCore.Signal(object)  # the dialog, before it runs (tests fill it in)

    def __init__(self, curation):
        super().__init__(curation)
        self.c = curation
        self.w = curation.w
        self.job: Job | None = None
        self.dataset_id: int | None = None
        self.bar = JobBar(self.w)
        act = self.w.make_action
        self.act_build = act("&Build a dataset…", self.build_dialog, None, "",
                             "A dataset of the open grid's N case and its variants (families)")
        self.act_eval = act("&Evaluate models…", self.eval_dialog, None, "",
                            "Ask models and controls about every case of a dataset")
        self.act_export = act("E&xport the report…", self.export_dialog, None, "",
                              "report.json, .svg, .html and .png, as `n1studio report`")

    def add_to(self, menu: QtWidgets.QMenu) -> None:
        menu.addSeparator()
        menu.addAction(self.act_build)
        menu.addAction(self.act_eval)
        menu.addAction(self.act_export)

    def _need_study(self) -> bool:
        if self.c.study is None:
            self.w.statusBar().showMessage("Open or create a study first (Curate → Open "
                                           "study…)", 8000)
            return False
        if self.job is not None:
            self.w.statusBar().showMessage("A dataset or evaluation is running", 6000)
            return False
        return True

    def _run(self, dlg: QtWidgets.QDialog) -> bool:
        self.dialogOpened.emit(dlg)
        return dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted

    def _start(self, job: Job, text: str, done) -> Job:
        self.job = job
        job.succeeded.connect(done)
        job.failed.connect(lambda msg: self._ended(f"{text}: {msg}"))
        job.stopped.connect(lambda _p: self._ended(f"{text}: cancelled"))
        self.bar.track(job, text)
        self.w.start_job(job)
        return job

    def _ended(self, msg: str) -> None:
        self.job = None
        self.bar.hide()
        self.w.statusBar().showMessage(msg, 10000)
        self.c.refresh_study()

    # ---- dataset --------------------------------------------------------------------------
    def build_dialog(self) -> Job | None:
        s = self.w.session
        if s is None or not self._need_study():
            return None
        dlg = DatasetDialog(self.w, s.name)
        if not self._run(dlg):
            return None
        v = dlg.values()
        job = Job(dataset_job, str(self.c.study.path), s.net, s.source, v["name"],
                  v["families"], v["sample"], v["seed"], name="dataset")
        return self._start(job, f"dataset {v['name']}", self._built)

    def _built(self, out: dict) -> None:
        self.job = None
        self.bar.hide()
        self.dataset_id = int(out["dataset_id"])
        counts = ", ".join(f"{n} {k}" for k, n in out["counts"].items())
        self.w.statusBar().showMessage(f"dataset {out['name']!r}: {counts}", 10000)
        self.c.refresh_study()
        self.datasetBuilt.emit(out)

    # ---- evaluation -----------------------------------------------------------------------
    def eval_dialog(self) -> Job | None:
        if not self._need_study():
            return None
        datasets = self.c.study.datasets()
        if not datasets:
            self.w.statusBar().showMessage("Build a dataset first (Curate → Build a "
                                           "dataset…)", 8000)
            return None
        recent = [m for m in self.w.model_panel.recent_models() if m]
        dlg = EvalDialog(self.w, datasets, recent)
        if self.dataset_id is not None:
            dlg.dataset.setCurrentIndex(max(0, dlg.dataset.findData(self.dataset_id)))
        if not self._run(dlg):
            return None
        v = dlg.values()
        if not v["models"]:
            self.w.statusBar().showMessage("Choose at least one model or control", 6000)
            return None
        self.dataset_id = int(v["dataset_id"])
        job = Job(eval_job, str(self.c.study.path), self.dataset_id, v["models"], name="eval")
        return self._start(job, "evaluating " + ", ".join(v["models"]), self._evaluated)

    def _evaluated(self, summary: dict) -> None:
        self.job = None
        self.bar.hide()
        self.c.refresh_study()
        self.show_report()
        self.w.statusBar().showMessage(
            f"evaluation: {summary.get('done', 0)} new run(s)"
            + (" (cancelled)" if summary.get("cancelled") else ""), 10000)
        self.evalDone.emit(summary)

    # ---- report ---------------------------------------------------------------------------
    def report(self) -> dict | None:
        from n1studio.curate.report import build_report
        from n1studio.errors import N1Error

        try:
            return build_report(self.c.study, self.dataset_id)
        except N1Error as exc:
            self.w.statusBar().showMessage(str(exc), 8000)
            return None

    def show_report(self) -> None:
        """The report in its dock, floated and large enough to read (not a thumbnail)."""
        rep = self.report() if self.c.study is not None else None
        if rep is None:
            return
        self.c.report.set_report(rep)
        d = self.c.dock_report
        d.show()
        d.setFloating(True)
        d.resize(max(d.width(), 1100), max(d.height(), 760))
        d.raise_()

    def export_dialog(self) -> None:
        if self.c.study is None:
            return
        out = QtWidgets.QFileDialog.getExistingDirectory(self.w, "Export the report to")
        if out:
            self.export(out)

    def export(self, out_dir: str) -> dict[str, Path] | None:
        """The files of `n1studio report --out DIR` (json, svg, html, png)."""
        from n1studio.app.curate.report import svg_to_png
        from n1studio.curate.report import write_report
        from n1studio.errors import N1Error

        rep = self.report()
        if rep is None:
            return None
        try:
            files = write_report(rep, out_dir, png_writer=svg_to_png)
        except N1Error as exc:
            self.w.statusBar().showMessage(str(exc), 8000)
            return None
        self.w.statusBar().showMessage(f"report written to {out_dir}", 8000)
        return files
