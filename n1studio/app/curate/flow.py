"""The student's flow from the Curate menu: build a dataset of the open grid (with
families) and evaluate models and controls on it (the report and its export: `curation`).

Each step calls the same core function as its command (`n1studio dataset build`,
`n1studio eval`): `build_dataset`, `run_eval`, so the window and the command line store
the same runs. The slow steps run as Jobs on their own connection to the study, holding
its writer lease as the commands do, with progress and a Cancel button in the status bar.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from n1studio.app.panels.parts import make_action
from n1studio.app.panels.progress import JobProgress
from n1studio.app.runtime.slot import JobSlot
from n1studio.app.runtime.workers import Job
from n1studio.curate.dataset import build_dataset
from n1studio.curate.evaluate import run_eval
from n1studio.curate.study import Study
from n1studio.jobs import JobState
from n1studio.present.session import Session

CONTROLS = ("control:reference", "control:recall-n", "control:noise:0.05", "control:zeros")


def dataset_job(study_path: str, net, source: str, name: str, families: list[str],
                sample: int | None, seed: int, state: JobState | None = None) -> dict:
    """Job: `n1studio dataset build` into the study at `study_path`."""
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
    with Study.open(study_path) as st, st.writer("eval"):
        return run_eval(st, dataset_id, [m or None for m in models], state=state).to_dict()


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
    """Build a dataset and evaluate models from the Curate menu (a part of `Curation`), one
    job at a time in its slot, with progress and Cancel in the status bar."""

    datasetBuilt = QtCore.Signal(object)  # {"dataset_id", "name", "counts"}
    evalDone = QtCore.Signal(object)  # the EvalSummary as a dict
    dialogOpened = QtCore.Signal(object)  # the dialog, before it runs (tests fill it in)
    message = QtCore.Signal(str, int)  # a status-bar line and how long it shows (ms)
    ended = QtCore.Signal()  # a job ended (the study has new rows)

    def __init__(self, slot: JobSlot, dialog_parent: QtWidgets.QWidget,
                 recent_models: Callable[[], list[str]], parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.slot = slot
        self.dialog_parent = dialog_parent
        self.recent_models = recent_models
        self.session: Session | None = None
        self.study: Study | None = None
        self.dataset_id: int | None = None
        self.bar = JobProgress(slot, "curate", width=180, text=lambda job: job.label)
        self.act_build = make_action(self, "&Build a dataset…", self.build_dialog, None, "",
                                     "A dataset of the open grid's N case and its variants "
                                     "(families)")
        self.act_eval = make_action(self, "&Evaluate models…", self.eval_dialog, None, "",
                                    "Ask models and controls about every case of a dataset")

    def add_to(self, menu: QtWidgets.QMenu) -> None:
        menu.addAction(self.act_build)
        menu.addAction(self.act_eval)

    def _need_study(self) -> bool:
        if self.study is None:
            self.message.emit("Open or create a study first (Curate → Open study…)", 8000)
            return False
        if self.slot.busy:
            self.message.emit("A dataset or evaluation is running", 6000)
            return False
        return True

    def _run(self, dlg: QtWidgets.QDialog) -> bool:
        self.dialogOpened.emit(dlg)
        return dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted

    def _start(self, job: Job, text: str, done) -> Job:
        job.label = text
        job.succeeded.connect(done)
        job.failed.connect(lambda msg: self._ended(f"{text}: {msg}"))
        job.stopped.connect(lambda _p: self._ended(f"{text}: cancelled"))
        return self.slot.start(job)

    def _ended(self, msg: str) -> None:
        self.message.emit(msg, 10000)
        self.ended.emit()

    # ---- dataset --------------------------------------------------------------------------
    def build_dialog(self) -> Job | None:
        s = self.session
        if s is None or not self._need_study():
            return None
        dlg = DatasetDialog(self.dialog_parent, s.name)
        if not self._run(dlg):
            return None
        v = dlg.values()
        job = Job(dataset_job, str(self.study.path), s.net, s.source, v["name"],
                  v["families"], v["sample"], v["seed"], name="dataset")
        return self._start(job, f"dataset {v['name']}", self._built)

    def _built(self, out: dict) -> None:
        self.dataset_id = int(out["dataset_id"])
        counts = ", ".join(f"{n} {k}" for k, n in out["counts"].items())
        self._ended(f"dataset {out['name']!r}: {counts}")
        self.datasetBuilt.emit(out)

    # ---- evaluation -----------------------------------------------------------------------
    def eval_dialog(self) -> Job | None:
        if not self._need_study():
            return None
        datasets = self.study.datasets()
        if not datasets:
            self.message.emit("Build a dataset first (Curate → Build a dataset…)", 8000)
            return None
        recent = [m for m in self.recent_models() if m]
        dlg = EvalDialog(self.dialog_parent, datasets, recent)
        if self.dataset_id is not None:
            dlg.dataset.setCurrentIndex(max(0, dlg.dataset.findData(self.dataset_id)))
        if not self._run(dlg):
            return None
        v = dlg.values()
        if not v["models"]:
            self.message.emit("Choose at least one model or control", 6000)
            return None
        self.dataset_id = int(v["dataset_id"])
        job = Job(eval_job, str(self.study.path), self.dataset_id, v["models"], name="eval")
        return self._start(job, "evaluating " + ", ".join(v["models"]), self._evaluated)

    def _evaluated(self, summary: dict) -> None:
        self._ended(f"evaluation: {summary.get('done', 0)} new run(s)"
                    + (" (cancelled)" if summary.get("cancelled") else ""))
        self.evalDone.emit(summary)
