"""The main window: the grid view in the middle, variants and inspector on the left, the
model, verdict and plots on the right. Long work (opening a big grid, the reference OPF,
the model) runs in `Job`s; the window stays responsive and survives their failures.

The window is put together from parts that each do one job:

- `actions.ActionsMixin`: actions, menus, toolbar, docks;
- `prefs.PreferencesMixin`: QSettings, recent files, theme, presentation mode;
- `jobs.JobsMixin`: starting and stopping jobs, opening grids, references;
- `ask.ModelMixin`: the prompt, Ask and Stop, the model's events;
- `n1studio.present.texts`: the banner, hints and statistics texts (plain functions);
- this module: the variants (take out, undo, compare), selection, export, drag and drop.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.canvas.gridview import GridView
from n1studio.app.canvas.plots import PlotsPanel
from n1studio.app.curate.curation import Curation
from n1studio.app.curate.sweeping import sweep_row_text
from n1studio.app.panels.inspector import Inspector
from n1studio.app.panels.model import ModelPanel
from n1studio.app.panels.progress import JobProgress
from n1studio.app.panels.variants import VariantsPanel
from n1studio.app.panels.verdict import VerdictPanel
from n1studio.app.runtime.slot import Slots
from n1studio.app.window import compare
from n1studio.app.window.about import show_about
from n1studio.app.window.actions import ActionsMixin
from n1studio.app.window.ask import ModelMixin
from n1studio.app.window.compare import CompareBar, compared_index, link_views, unlink_views
from n1studio.app.window.jobs import JobsMixin
from n1studio.app.window.prefs import PreferencesMixin
from n1studio.app.window.undo import AddVariant
from n1studio.errors import N1Error
from n1studio.grid.elements import OUTAGE_TABLES
from n1studio.llm.runtime import gpu_offload_supported
from n1studio.present import texts
from n1studio.present.results import answer_profile, reference_profile
from n1studio.present.session import Session, VariantEntry
from n1studio.present.theme import palette
from n1studio.resources import resource

log = logging.getLogger(__name__)

AUTO_REFERENCE_MAX_BUS = texts.AUTO_REFERENCE_MAX_BUS  # references solved on their own


class MainWindow(ActionsMixin, PreferencesMixin, JobsMixin, ModelMixin, QtWidgets.QMainWindow):
    caseOpened = QtCore.Signal(str)
    caseFailed = QtCore.Signal(str)
    caseKept = QtCore.Signal(str)  # another grid opened, the user kept the one shown
    referenceReady = QtCore.Signal(object)  # the VariantEntry
    answerReady = QtCore.Signal(object)  # the VariantEntry (verdict or error set)
    variantCreated = QtCore.Signal(object)  # the VariantEntry
    sweepDone = QtCore.Signal(object)  # the n1studio.sweep/1 document

    def __init__(self, settings: QtCore.QSettings | None = None, model_path: str = ""):
        super().__init__()
        self.settings = settings or QtCore.QSettings("N1Studio", "n1studio")
        self.session: Session | None = None
        # one job slot per concern: starting a job cancels and disconnects the one before
        self.slots = Slots(self)
        self.open_slot = self.slots.new("open")
        self.prep_slot = self.slots.new("prepare")
        self.ref_slot = self.slots.new("reference")
        self.prompt_slot = self.slots.new("prompt")
        self.answer_slot = self.slots.new("answer")
        self.check_slot = self.slots.new("check")  # a pasted answer being judged
        self._compare_index = -1
        self.theme = self.saved_theme()
        self.presenting = False

        self.setWindowTitle("N-1 Studio")
        self.setWindowIcon(QtGui.QIcon(str(resource("n1studio.svg"))))
        self.setAcceptDrops(True)
        self.undo = QtGui.QUndoStack(self)
        self.undo.setUndoLimit(200)

        self.view = GridView(theme=self.theme)
        self.view.set_describer(self.describe)
        self.view.elementClicked.connect(self.on_element_clicked)
        self.view.outageRequested.connect(self.take_out)
        self.view.inspectRequested.connect(lambda n: self.show_element(n))
        self.compare = GridView(theme=self.theme)
        self.compare.set_describer(self.describe)
        self.compare.hide()
        self.split = QtWidgets.QSplitter()
        self.split.addWidget(self.view)
        self.split.addWidget(self.compare)

        self.compare_bar = CompareBar()
        self.compare_bar.hide()
        self.compare_bar.leftChosen.connect(self.activate)
        self.compare_bar.rightChosen.connect(self.compare_with)
        self.compare.set_legend_visible(False)  # one legend: the left view's
        centre = QtWidgets.QWidget()
        clay = QtWidgets.QVBoxLayout(centre)
        clay.setContentsMargins(0, 0, 0, 0)
        clay.setSpacing(0)
        clay.addWidget(self.compare_bar)
        clay.addWidget(self.split, 1)
        self.setCentralWidget(centre)

        self.variants = VariantsPanel()
        self.variants.activated.connect(self.activate)
        self.variants.compareRequested.connect(self.compare_with)
        self.inspector = Inspector()
        self.inspector.takeOut.connect(self.take_out)

        self.model_panel = ModelPanel(gpu_supported=gpu_offload_supported())
        self.model_panel.askRequested.connect(self.ask)
        self.model_panel.stopRequested.connect(self.stop)
        self.model_panel.promptRefreshRequested.connect(lambda: self.refresh_prompt(force=True))
        self.verdict = VerdictPanel()
        self.verdict.elementActivated.connect(lambda n: self.show_element(n, centre=True))
        self.verdict.sourceChosen.connect(self.show_answer_source)
        self.plots = PlotsPanel(theme=self.theme)
        self.curation = Curation(self, self.slots, self.model_panel.values,
                                 self.model_panel.recent_models)
        self.curation.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.curation.sessionRequested.connect(self.set_session)
        self.curation.variantRequested.connect(
            lambda outages, wait: self.show_variant(outages, wait=wait))
        self.curation.elementRequested.connect(lambda n, c: self.show_element(n, centre=c))
        # a sweep row: its outage on the grid state the sweep ran on, fitted with its findings
        self.curation.sweeping.variantWanted.connect(
            lambda outages, state: self._add_variant(tuple(outages), "", perturbation=state))
        self.curation.sweeping.focusRequested.connect(self.view.fit_on)
        self.curation.sweepDone.connect(self.sweepDone)
        self.build_docks()
        self.build_actions()
        self.build_menus()
        self.build_toolbar()
        self.build_status_bar()
        self.reference_bar = JobProgress(
            self.ref_slot, "reference", width=160,
            tip="Stop the reference AC OPF (it can be solved again later)",
            text=lambda job: f"reference of {job.entry.label}")
        self.statusBar().addPermanentWidget(self.reference_bar)
        self.statusBar().addPermanentWidget(self.curation.flow.bar)
        self.ref_slot.started.connect(lambda _job: self.refresh_banner())
        self.ref_slot.ended.connect(lambda _job: self.refresh_banner())
        self.view.banner.linkActivated.connect(self._banner_link)
        for slot in (self.open_slot, self.answer_slot, self.check_slot):
            slot.ended.connect(self.update_busy_bar)

        self.resize(1480, 920)
        self.size_docks()
        self.restore_settings(model_path)
        self._docks_sized = self.settings.value("window_state") is not None
        self.apply_theme(self.theme)

    # ---- texts ----------------------------------------------------------------------------
    def banner_text(self, e: VariantEntry) -> str:
        job = self.ref_slot.job
        return texts.banner_text(
            self.session, e, self.theme, self.curation.finding(e),
            solving=job is not None and job.entry is e,
            auto_reference=len(self.session.net.bus) <= AUTO_REFERENCE_MAX_BUS)

    def refresh_banner(self) -> None:
        s = self.session
        if s is None:
            return
        e = s.current
        self.view.set_banner(self.banner_text(e), "warn" if e.ready
                             and e.variant.islands.islanded else "info")

    def _banner_link(self, href: str) -> None:
        if href == texts.SOLVE_LINK:
            self.solve_active_reference()

    def describe(self, name: str) -> str:
        """The hover tooltip of an element of the active variant."""
        return texts.describe(self.session, name)

    # ---- variants -------------------------------------------------------------------------
    def set_session(self, session: Session) -> None:
        """Show another grid (the model is stopped, the undo history starts again); the
        window's views follow the session's events from now on."""
        self.stop()
        old = self.session
        if old is not None and old is not session:
            old.events.disconnect(self._on_session_event)
            for slot in (self.prep_slot, self.ref_slot, self.prompt_slot):
                slot.cancel()  # their results belong to the grid no longer shown
        self.session = session
        session.events.connect(self._on_session_event)
        self.variants.set_session(session)
        self.curation.set_session(session)
        self.undo.clear()
        self._compare_index = -1
        self.setWindowTitle(f"N-1 Studio — {session.name}")
        d = session.drawing
        titles = [t for t in d.bus_titles if t]
        self.completer.setModel(QtCore.QStringListModel(
            d.bus_names + d.edge_names + d.unit_names + titles, self.completer))
        self.view.set_drawing(d, session.draw_state())
        if self.act_compare.isChecked():
            self.compare.set_drawing(d, session.draw_state())
        self._show_active()

    def _on_session_event(self, info) -> None:
        """The session changed (psygnal's EmissionInfo: which signal, with what): redraw
        what shows it."""
        name = info.signal.name
        if name == "active_changed" or (name == "entry_changed"
                                        and info.args[0] is self.session.current):
            self._show_active()
        else:
            self._refresh_compare()

    def _show_active(self) -> None:
        """Draw the active variant: drawing, banner, verdict, answer, prompt, plots."""
        s = self.session
        if s is None:
            return
        e = s.current
        if not e.ready and s.big:
            self.prepare(e)
        self.view.set_state(self.curation.draw_state(e))
        self.refresh_banner()
        # the model's answer or a checked one (its source), beside each other on the entry
        shown = e.shown
        error = e.error if shown is e else ""
        self.verdict.set_sources(e.checked, e.showing)
        self.verdict.show_verdict(shown.verdict, error)
        if shown.verdict is None and not error:
            finding = self.curation.finding(e)
            self.verdict.clear(sweep_row_text(e, finding) if finding is not None
                               and not self.answering(e) and not e.stopped
                               else texts.verdict_hint(self.answering(e), e.stopped))
        self.model_panel.answer.setPlainText(shown.raw)
        self.model_panel.set_stats(texts.stats_text(shown.stats))
        self._refresh_compare()
        if not texts.entry_drawable(s, e):
            return
        self.refresh_prompt()
        self.plots_refresh()
        self.show_element(self.view.selected)
        if len(s.net.bus) <= AUTO_REFERENCE_MAX_BUS:
            self.start_reference(e)

    def show_answer_source(self, source: str) -> None:
        """Show the active variant's model answer ("") or the one checked from `source`."""
        if self.session is not None and (not source or source in self.session.current.checked):
            self.session.show_answer(self.session.current, source)

    def activate(self, k: int) -> None:
        s = self.session
        if s is None or not (0 <= k < len(s.entries)) or k == s.active:
            return
        self._prev_active = s.active
        s.active = k

    def take_out_selected(self) -> None:
        if self.view.selected:
            self.take_out(self.view.selected)

    def take_out(self, name: str) -> None:
        """Make (and draw) the variant of the active one with `name` out of service."""
        s = self.session
        if s is None or not name:
            return
        if name.split(":")[0] not in OUTAGE_TABLES:
            self.statusBar().showMessage(f"{name} cannot be taken out of service", 6000)
            return
        if name in s.current.variant.out_of_service:  # taken out, or tripped with an outage
            self.statusBar().showMessage(f"{name} is already out of service", 6000)
            return
        self._add_variant(tuple(s.current.outages) + (name,), f"take {name} out of service",
                          say_islands=True, perturbation=s.current.perturbation)

    def show_variant(self, outages: tuple[str, ...], wait: bool = False) -> VariantEntry | None:
        """Draw the variant with exactly these outages (made, undoably, if it is new);
        `wait`: prepare a big grid's variant here rather than on a worker."""
        return self._add_variant(tuple(outages), "", wait=wait)

    def _add_variant(self, outages: tuple[str, ...], text: str, wait: bool = False,
                     say_islands: bool = False, perturbation=None) -> VariantEntry | None:
        """Activate the variant with these outages (and perturbation), pushing it on the
        undo stack if new."""
        s = self.session
        if s is None:
            return None
        try:
            entry = s.new_entry(outages, perturbation)
        except N1Error as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return None
        k = s.find(entry.outages, entry.perturbation)
        if k >= 0:
            self.activate(k)
            return s.entries[k]

        def push(entry=entry, s=s):
            if self.session is not s:
                return
            self.undo.push(AddVariant(s, entry, text or f"show {entry.label}"))
            if say_islands:
                self.statusBar().showMessage(
                    f"{entry.label}: {entry.variant.islands.describe()}", 8000)
            self.variantCreated.emit(entry)

        if s.big and not wait:
            self.prepare(entry, then=push)
        else:
            entry.prepare()
            push()
        return entry

    # ---- compare --------------------------------------------------------------------------
    def compare_with(self, k: int) -> None:
        """Draw entry `k` beside the active one (app/window/compare.py). Right-clicking a row makes
        it current: then the entry active before it stays on the left."""
        s = self.session
        prev = getattr(self, "_prev_active", -1)
        if s is not None and k == s.active and 0 <= prev < len(s.entries) and prev != k:
            self._compare_index = k
            self.activate(prev)
        self._compare_index = k
        if self.act_compare.isChecked() and self.compare.isVisible():
            self._refresh_compare()
            return
        self.act_compare.setChecked(True)
        self.toggle_compare(True)

    def compare_entries(self, left: int, right: int) -> None:
        """Compare two entries of the session: `left` becomes active, `right` is beside it."""
        self._compare_index = right
        self.activate(left)
        self.compare_with(right)

    def toggle_compare(self, on: bool) -> None:
        s = self.session
        if not on or s is None:
            self.compare.hide()
            self.compare_bar.hide()
            unlink_views(self.view, self.compare)
            return

        self.compare.set_drawing(s.drawing, s.draw_state())
        self.compare.show()
        self.compare_bar.show()
        self.split.setSizes([1, 1])
        link_views(self.view, self.compare)
        self._refresh_compare()
        # fitted once both views have their sizes (fitted hidden, the grid is a dot)
        QtCore.QTimer.singleShot(0, self._fit_compared)

    def _fit_compared(self) -> None:
        if not self.compare.isVisible():
            return
        self.view.fit()
        self.compare.vb.setRange(self.view.vb.viewRect(), padding=0)

    def _refresh_compare(self) -> None:
        s = self.session
        if s is None or not self.compare.isVisible():
            return

        labels = [x.label for x in s.entries]
        # the study's stored runs of the active variant: another model's answer beside it
        runs = self.curation.runs_of(s.current)
        j = self._compare_index - len(s.entries)
        if 0 <= j < len(runs):
            e, run = s.current, runs[j]
            self.compare.set_state(compare.run_state(s, e, run))
            self.view.set_legend_also([self.compare.state])  # one legend for both panes
            self.compare.set_banner(compare.run_banner(s, e, run, palette(self.theme).violation),
                                    "info")
            self.compare_bar.show_entries(
                labels + [compare.run_label(e.label, r) for r in runs], s.active,
                self._compare_index)
            return
        k = compared_index(s, self._compare_index)
        self._compare_index = k
        e = s.entries[k]
        self.compare.set_state(s.draw_state(e))
        self.view.set_legend_also([self.compare.state])  # one legend for both panes
        self.compare.set_banner(self.banner_text(e), "info")
        self.compare_bar.show_entries(labels + [compare.run_label(s.current.label, r)
                                                for r in runs], s.active, k)

    # ---- selection, inspector, plots ------------------------------------------------------
    def on_element_clicked(self, name: str) -> None:
        self.show_element(name)

    def show_element(self, name: str, centre: bool = False) -> None:
        s = self.session
        if s is None:
            return
        if name and name != self.view.selected:
            self.view.select(name, centre=centre)
        elif centre and name:
            self.view.centre_on(name)
        if not name:
            self.inspector.show_rows("", [], False)
            return
        rows = texts.element_table(s, name)
        self.inspector.show_rows(name, rows, name.split(":")[0] in OUTAGE_TABLES
                                 and name not in s.current.outages)

    def do_search(self) -> None:
        name = self.view.find(self.search.text())
        if name:
            self.show_element(name, centre=True)
            self.statusBar().showMessage(f"found {name}", 4000)
        else:
            self.statusBar().showMessage(f"nothing called {self.search.text()!r}", 6000)

    def plots_refresh(self) -> None:
        s = self.session
        if s is None or not texts.entry_drawable(s, s.current):
            self.plots.show_profiles(None, None, None)
            return
        e = s.current
        m = e.variant.model
        # the answer shown: the model's or one checked by hand
        self.plots.show_profiles(m, reference_profile(e.reference),
                                 answer_profile(m, e.shown.answer))

    # ---- export ---------------------------------------------------------------------------
    def export_dialog(self, fmt: str) -> None:
        if self.session is None:
            return
        label = self.session.current.label.replace(" ", "_").replace(":", "")
        default = f"{self.session.name}-{label}.{fmt}"
        flt = "PNG image (*.png)" if fmt == "png" else "SVG drawing (*.svg)"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export the view", default, flt)
        if not path:
            return
        try:
            if fmt == "png":
                self.view.export_png(path)
            else:
                self.view.export_svg(path)
        except OSError as exc:
            QtWidgets.QMessageBox.warning(self, "Export failed", str(exc))
            return
        self.statusBar().showMessage(f"saved {path}", 8000)

    # ---- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:
        if dropped_case(ev.mimeData()):
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:
        path = dropped_case(ev.mimeData())
        if path:
            ev.acceptProposedAction()
            self.open_case(path)

    # ---- window life ----------------------------------------------------------------------
    def about(self) -> None:
        """Help > About: version, llama.cpp build, licences (n1studio/app/window/about.py)."""
        show_about(self)

    def showEvent(self, ev: QtGui.QShowEvent) -> None:
        super().showEvent(ev)
        if not self._docks_sized:  # first run: size the right column for the real window
            self._docks_sized = True
            QtCore.QTimer.singleShot(0, self.default_dock_heights)
        QtCore.QTimer.singleShot(0, self.hide_stale_tab_bars)

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        self.save_settings()
        self.stop()
        self.shutdown_model()  # the model job ends at once when its worker is gone
        self.stop_jobs()
        self.curation.close()
        super().closeEvent(ev)


def dropped_case(mime: QtCore.QMimeData) -> str:
    """The first grid file (.json, .m) among dropped URLs, or ""."""
    if not mime.hasUrls():
        return ""
    for url in mime.urls():
        p = url.toLocalFile()
        if p and Path(p).suffix.lower() in (".json", ".m"):
            return p
    return ""
