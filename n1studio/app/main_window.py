"""The main window: the grid view in the middle, variants and inspector on the left, the
model, verdict and plots on the right. Long work (opening a big grid, the reference OPF,
the model) runs in `Job`s; the window stays responsive and survives their failures."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.gridview import GridView
from n1studio.app.model_panel import ModelPanel
from n1studio.app.panels import Inspector, VariantsPanel, VerdictPanel
from n1studio.app.plots import PlotsPanel
from n1studio.app.results import answer_profile, element_rows, reference_profile, rows_html
from n1studio.app.session import Session, VariantEntry
from n1studio.app.theme import THEMES, palette, stylesheet
from n1studio.app.undo import AddVariant
from n1studio.app.workers import Job
from n1studio.errors import N1Error
from n1studio.grid.elements import OUTAGE_TABLES
from n1studio.resources import resource

log = logging.getLogger(__name__)

CASE_FILTER = "Grid cases (*.json *.m);;pandapower JSON (*.json);;MATPOWER (*.m)"
AUTO_REFERENCE_MAX_BUS = 400  # solve the reference on its own for grids up to this size
PRESENTATION_SCALE = 1.6


def icon(name: str) -> QtGui.QIcon:
    path = resource("icons", f"{name}.svg")
    return QtGui.QIcon(str(path)) if path.is_file() else QtGui.QIcon()


def open_net(spec: str, on_event=None, cancel=None) -> Session:
    """Job: load a case and build its drawing (layout included) off the GUI thread."""
    from n1studio.grid.cases import load_case

    if on_event:
        on_event({"stage": "loading", "case": spec})
    net = load_case(spec)
    if on_event:
        on_event({"stage": "layout", "case": spec})
    session = Session(net, spec)
    if not session.big:  # small grids: the model and islands now, off the GUI thread
        session.base_entry.prepare()
    return session


def solve_reference(entry: VariantEntry, on_event=None, cancel=None):
    """Job: the AC OPF of a variant (the reference every answer is compared with)."""
    from n1studio.app.modeljob import solve

    return solve(entry.variant, cancel=cancel)


class MainWindow(QtWidgets.QMainWindow):
    caseOpened = QtCore.Signal(str)
    caseFailed = QtCore.Signal(str)
    referenceReady = QtCore.Signal(object)  # the VariantEntry
    answerReady = QtCore.Signal(object)  # the VariantEntry (verdict or error set)
    variantCreated = QtCore.Signal(object)  # the VariantEntry
    sweepDone = QtCore.Signal(object)  # the n1studio.sweep/1 document

    def __init__(self, settings: QtCore.QSettings | None = None, model_path: str = ""):
        super().__init__()
        self.settings = settings or QtCore.QSettings("N1Studio", "n1studio")
        self.session: Session | None = None
        self.jobs: set[Job] = set()
        self.ref_jobs: dict[int, Job] = {}
        self.prep_jobs: dict[int, Job] = {}
        self.prompt_job: Job | None = None
        self.model_job: Job | None = None
        self.model_client = None
        self._compare_index = -1
        self.theme = str(self.settings.value("theme", "light"))
        if self.theme not in THEMES:
            self.theme = "light"
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
        self.setCentralWidget(self.split)

        self.variants = VariantsPanel()
        self.variants.activated.connect(self.activate)
        self.variants.compareRequested.connect(self.compare_with)
        self.inspector = Inspector()
        self.inspector.takeOut.connect(self.take_out)
        from n1studio.app import modeljob

        self.model_panel = ModelPanel(gpu_supported=modeljob.gpu_supported())
        self.model_panel.askRequested.connect(self.ask)
        self.model_panel.stopRequested.connect(self.stop)
        self.model_panel.promptRefreshRequested.connect(lambda: self.refresh_prompt(force=True))
        self.verdict = VerdictPanel()
        self.verdict.elementActivated.connect(lambda n: self.show_element(n, centre=True))
        self.plots = PlotsPanel(theme=self.theme)

        self.dock_variants = self._dock("Variants", self.variants, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        self.dock_inspector = self._dock("Inspector", self.inspector, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        # scrollable, so that the window fits a 768-pixel-high screen (or a projector)
        self.dock_model = self._dock("Model", _scroll(self.model_panel),
                                     QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.dock_verdict = self._dock("Verdict", _scroll(self.verdict),
                                       QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.dock_plots = self._dock("Plots", self.plots, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.dock_verdict, self.dock_plots)
        self.dock_verdict.raise_()
        from n1studio.app.curation import Curation

        self.curation = Curation(self)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.status_model = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.status_model)

        self.resize(1480, 920)
        self.resizeDocks([self.dock_variants, self.dock_model], [250, 430],
                         QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([self.dock_variants, self.dock_inspector], [260, 420],
                         QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.dock_model, self.dock_verdict], [380, 510],
                         QtCore.Qt.Orientation.Vertical)
        self._restore(model_path)
        self._docks_sized = self.settings.value("window_state") is not None
        self.apply_theme(self.theme)

    # ---- construction ---------------------------------------------------------------------
    def _dock(self, title: str, w: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        d = QtWidgets.QDockWidget(title, self)
        d.setObjectName(f"dock{title}")
        d.setWidget(w)
        d.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                      | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
                      | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, d)
        return d

    def _act(self, text: str, slot, shortcut=None, icon_name: str = "", tip: str = "",
             checkable: bool = False) -> QtGui.QAction:
        a = QtGui.QAction(icon(icon_name) if icon_name else QtGui.QIcon(), text, self)
        if shortcut is not None:
            a.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        return a

    def _build_actions(self) -> None:
        K = QtGui.QKeySequence.StandardKey
        self.act_open = self._act("&Open grid…", self.open_dialog, K.Open, "open",
                                  "Open a pandapower JSON or MATPOWER .m file")
        self.act_png = self._act("Export view as &PNG…", lambda: self.export_dialog("png"),
                                 "Ctrl+E", "export", "Save the drawing as a PNG image")
        self.act_svg = self._act("Export view as &SVG…", lambda: self.export_dialog("svg"),
                                 None, "", "Save the drawing as an SVG file")
        self.act_quit = self._act("&Quit", self.close, K.Quit)
        self.act_undo = self.undo.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QtGui.QKeySequence(K.Undo))
        self.act_undo.setIcon(icon("undo"))
        self.act_redo = self.undo.createRedoAction(self, "&Redo")
        self.act_redo.setShortcut(QtGui.QKeySequence(K.Redo))
        self.act_redo.setIcon(icon("redo"))
        self.act_take_out = self._act("&Take selected out of service", self.take_out_selected,
                                      QtCore.Qt.Key.Key_Delete, "outage",
                                      "Make a variant with the selected element out of service")
        self.act_fit = self._act("&Fit grid", lambda: self.view.fit(), "Ctrl+0", "fit",
                                 "Show the whole grid")
        self.act_compare = self._act("&Compare side by side", self.toggle_compare, "Ctrl+D",
                                     "compare", "Show a second variant beside the active one",
                                     checkable=True)
        self.act_present = self._act("&Presentation mode", self.toggle_presentation, "F5",
                                     "present", "Larger fonts and markers for teaching",
                                     checkable=True)
        self.act_dark = self._act("&Dark theme", lambda on: self.apply_theme("dark" if on else "light"),
                                  None, "", "Switch between the light and dark theme",
                                  checkable=True)
        self.act_ask = self._act("&Ask the model", self.ask, "Ctrl+Return", "ask",
                                 "Ask the model to solve the active variant's OPF")
        self.act_stop = self._act("&Stop", self.stop, "Esc", "stop", "Stop the model")
        self.act_stop.setEnabled(False)
        self.act_reference = self._act("Solve the &reference", self.solve_active_reference,
                                       "Ctrl+R", "", "AC OPF of the active variant")
        self.act_about = self._act("&About N-1 Studio", self.about)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.act_open)
        self.recent_menu = f.addMenu("Open &recent")
        self.builtin_menu = f.addMenu("Open &built-in case")
        from n1studio.grid.cases import builtin_cases

        for c in builtin_cases():
            self.builtin_menu.addAction(c["name"], lambda n=c["name"]: self.open_case(n))
        f.addSeparator()
        f.addAction(self.act_png)
        f.addAction(self.act_svg)
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        e.addSeparator()
        e.addAction(self.act_take_out)
        v = mb.addMenu("&View")
        v.addAction(self.act_fit)
        v.addAction(self.act_compare)
        v.addAction(self.act_present)
        v.addAction(self.act_dark)
        v.addSeparator()
        for d in (self.dock_variants, self.dock_inspector, self.dock_model, self.dock_verdict,
                  self.dock_plots):
            v.addAction(d.toggleViewAction())
        for d in self.curation.docks():
            v.addAction(d.toggleViewAction())
        m = mb.addMenu("&Model")
        m.addAction(self.act_ask)
        m.addAction(self.act_stop)
        m.addAction(self.act_reference)
        self.curation.add_menu(mb)
        h = mb.addMenu("&Help")
        h.addAction(self.act_about)

    def _build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setMovable(False)
        for a in (self.act_open, self.act_undo, self.act_redo, self.act_take_out):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.act_fit)
        self.search = QtWidgets.QLineEdit()
        self.search.setObjectName("searchBox")
        self.search.setPlaceholderText("Find bus, line:3, gen:0…")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(220)
        self.search.returnPressed.connect(self.do_search)
        self.completer = QtWidgets.QCompleter([], self.search)
        self.completer.setCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(QtCore.Qt.MatchFlag.MatchContains)
        self.search.setCompleter(self.completer)
        tb.addWidget(self.search)
        tb.addSeparator()
        tb.addAction(self.act_ask)
        tb.addAction(self.act_stop)
        tb.addSeparator()
        tb.addAction(self.act_compare)
        tb.addAction(self.act_present)
        tb.addAction(self.act_png)

    # ---- preferences ----------------------------------------------------------------------
    def _restore(self, model_path: str) -> None:
        s = self.settings
        recent_models = _list(s.value("recent_models", []))
        current = model_path or str(s.value("model_path", "") or "")
        if model_path and model_path not in recent_models:
            recent_models.insert(0, model_path)
        self.model_panel.set_recent(recent_models, current)
        if self.model_panel.gpu.isEnabled():
            self.model_panel.gpu.setValue(int(s.value("gpu_layers", 0) or 0))
        self.model_panel.ctx.setValue(int(s.value("n_ctx", 0) or 0))
        self.model_panel.temp.setValue(float(s.value("temperature", 0.0) or 0.0))
        self.model_panel.seed.setValue(int(s.value("seed", 0) or 0))
        k = self.model_panel.mode.findData(str(s.value("mode", "constrained")))
        self.model_panel.mode.setCurrentIndex(max(0, k))
        self.act_dark.setChecked(self.theme == "dark")
        geo = s.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        st = s.value("window_state")
        if st is not None:
            self.restoreState(st)
        self._update_recent_menu()

    def save_settings(self) -> None:
        s = self.settings
        v = self.model_panel.values()
        s.setValue("model_path", v["model_path"] or "")
        s.setValue("recent_models", self.model_panel.recent_models())
        s.setValue("gpu_layers", v["n_gpu_layers"])
        s.setValue("n_ctx", v["n_ctx"])
        s.setValue("temperature", v["temperature"])
        s.setValue("seed", v["seed"])
        s.setValue("mode", v["mode"])
        s.setValue("theme", self.theme)
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState())
        s.sync()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = _list(self.settings.value("recent_files", []))
        for p in files[:10]:
            self.recent_menu.addAction(p, lambda p=p: self.open_case(p))
        self.recent_menu.setEnabled(bool(files))

    def _remember_file(self, spec: str) -> None:
        files = [f for f in _list(self.settings.value("recent_files", [])) if f != spec]
        files.insert(0, spec)
        self.settings.setValue("recent_files", files[:10])
        self._update_recent_menu()

    # ---- theme and presentation -----------------------------------------------------------
    def apply_theme(self, name: str) -> None:
        self.theme = name if name in THEMES else "light"
        scale = PRESENTATION_SCALE if self.presenting else 1.0
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.setStyleSheet(stylesheet(self.theme, scale))
        self.view.set_theme(self.theme)
        self.compare.set_theme(self.theme)
        self.plots.set_theme(self.theme)
        self.plots_refresh()
        self.settings.setValue("theme", self.theme)

    def toggle_presentation(self, on: bool) -> None:
        self.presenting = bool(on)
        scale = PRESENTATION_SCALE if self.presenting else 1.0
        self.view.set_scale(scale)
        self.compare.set_scale(scale)
        self.apply_theme(self.theme)

    # ---- opening grids --------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a grid", "", CASE_FILTER)
        if path:
            self.open_case(path)

    def open_case(self, spec: str) -> Job:
        """Open a built-in case or a file; the grid appears when loading finishes."""
        self.statusBar().showMessage(f"Opening {spec}…")
        self.progress.show()
        job = Job(open_net, str(spec), name="open")
        job.succeeded.connect(lambda s, spec=str(spec): self._opened(s, spec))
        job.failed.connect(lambda msg, spec=str(spec): self._open_failed(spec, msg))
        self._start(job)
        return job

    def _opened(self, session: Session, spec: str) -> None:
        self.progress.setVisible(bool(self.model_job))
        self.set_session(session)
        if Path(spec).suffix.lower() in (".json", ".m"):
            self._remember_file(str(Path(spec).resolve()))
        lay = session.drawing.layout
        self.statusBar().showMessage(
            f"{session.name}: {len(session.net.bus)} buses, {len(session.drawing.edge_names)} "
            f"branches — {lay.source} layout ({lay.seconds:.2f} s)", 8000)
        self.caseOpened.emit(spec)

    def _open_failed(self, spec: str, msg: str) -> None:
        self.progress.setVisible(bool(self.model_job))
        self.statusBar().showMessage(f"Could not open {spec}: {msg}", 10000)
        if self.isVisible():  # not modal: the window (and tests) go on
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning,
                                        "Could not open the grid", msg,
                                        QtWidgets.QMessageBox.StandardButton.Ok, self)
            box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
        self.caseFailed.emit(msg)

    def set_session(self, session: Session) -> None:
        self.stop()
        self.session = session
        self.undo.clear()
        self._compare_index = -1
        self.setWindowTitle(f"N-1 Studio — {session.name}")
        names = session.drawing.bus_names + session.drawing.edge_names + session.drawing.unit_names
        titles = [t for t in session.drawing.bus_titles if t]
        self.completer.setModel(QtCore.QStringListModel(names + titles, self.completer))
        self.view.set_drawing(session.drawing, session.draw_state())
        if self.act_compare.isChecked():
            self.compare.set_drawing(session.drawing, session.draw_state())
        self.session_changed()

    # ---- variants -------------------------------------------------------------------------
    def session_changed(self) -> None:
        """Redraw everything that depends on the active variant."""
        s = self.session
        if s is None:
            return
        e = s.current
        if not e.ready and s.big:
            self.prepare(e)
        self.view.set_state(s.draw_state(e))
        self.view.set_banner(self.banner_text(e), "warn" if e.ready and
                             e.variant.islands.islanded else "info")
        self.variants.show_session(s)
        self.verdict.show_verdict(e.verdict, e.error)
        if e.verdict is None and not e.error:
            self.verdict.clear(self._verdict_hint(e))
        self.model_panel.answer.setPlainText(e.raw)
        self.model_panel.set_stats(_stats_text(e.stats))
        self._refresh_compare()
        if not (e.ready or not s.big):
            return
        self.refresh_prompt()
        self.plots_refresh()
        self.show_element(self.view.selected)
        if len(s.net.bus) <= AUTO_REFERENCE_MAX_BUS:
            self.start_reference(e)

    def prepare(self, entry: VariantEntry, then=None) -> None:
        """Compute a variant's model and islands on a worker (seconds on big grids)."""
        if entry.ready:
            if then:
                then()
            return
        if id(entry) in self.prep_jobs:
            return
        job = Job(entry.prepare, name="prepare", callbacks=False)
        self.prep_jobs[id(entry)] = job

        def done(_e, entry=entry):
            self.prep_jobs.pop(id(entry), None)
            if then:
                then()
            else:
                self._entry_updated(entry)

        def failed(msg, entry=entry):
            self.prep_jobs.pop(id(entry), None)
            self.statusBar().showMessage(f"{entry.label}: {msg}", 10000)

        job.succeeded.connect(done)
        job.failed.connect(failed)
        self.statusBar().showMessage(f"Preparing {entry.label}…")
        self._start(job)

    def _verdict_hint(self, e: VariantEntry) -> str:
        if self.model_job is not None and getattr(self.model_job, "entry", None) is e:
            return "The model is answering…"
        return "No answer yet: press Ask to question the model on this variant."

    def banner_text(self, e: VariantEntry) -> str:
        s = self.session
        parts = [f"<b>{html.escape(s.name)}</b>", f"<b>{html.escape(e.label)}</b>"]
        isl = e.variant.islands if (e.ready or not s.big) else None
        if isl is None:
            parts.append("preparing…")
        elif isl.islanded:
            t = f"{isl.n_islands} islands"
            if isl.cut_buses:
                t += f", {len(isl.cut_buses)} bus(es) cut off"
            if isl.lost_loads:
                t += f", <b>{isl.lost_load_mw:.1f} MW of load lost</b>"
            parts.append(t)
        if e.reference is not None:
            r = e.reference
            parts.append(f"reference {r.objective:,.1f} $/h" if r.success
                         else f"reference: {html.escape(r.status)}")
        if e.verdict is not None:
            n = len(e.verdict.get("violations") or [])
            col = palette(self.theme).violation
            parts.append(f"<span style='color:{col}'><b>{n} violation(s)</b></span>" if n
                         else "answer feasible")
            if e.verdict.get("recalled_n_answer"):
                parts.append(f"<span style='color:{col}'><b>recalled N answer</b></span>")
        return " · ".join(parts)

    def activate(self, k: int) -> None:
        s = self.session
        if s is None or not (0 <= k < len(s.entries)) or k == s.active:
            return
        s.active = k
        self.session_changed()

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
        cur = s.current
        if name in cur.outages:
            self.statusBar().showMessage(f"{name} is already out of service", 6000)
            return
        outages = tuple(cur.outages) + (name,)
        try:
            entry = s.new_entry(outages)
        except N1Error as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        k = s.find(entry.outages)
        if k >= 0:
            self.activate(k)
            return

        def push(entry=entry, name=name, s=s):
            if self.session is not s:
                return
            self.undo.push(AddVariant(self, entry, f"take {name} out of service"))
            self.statusBar().showMessage(f"{entry.label}: {entry.variant.islands.describe()}",
                                         8000)
            self.variantCreated.emit(entry)

        if s.big:
            self.prepare(entry, then=push)
        else:
            entry.prepare()
            push()

    def show_variant(self, outages: tuple[str, ...], wait: bool = False) -> VariantEntry | None:
        """Draw the variant with exactly these outages (made, undoably, if it is new)."""
        s = self.session
        if s is None:
            return None
        try:
            entry = s.new_entry(outages)
        except N1Error as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return None
        k = s.find(entry.outages)
        if k >= 0:
            self.activate(k)
            return s.entries[k]

        def push(entry=entry, s=s):
            if self.session is s:
                self.undo.push(AddVariant(self, entry, f"show {entry.label}"))
                self.variantCreated.emit(entry)

        if s.big and not wait:
            self.prepare(entry, then=push)
        else:
            entry.prepare()
            push()
        return entry

    def compare_with(self, k: int) -> None:
        self._compare_index = k
        self.act_compare.setChecked(True)
        self.toggle_compare(True)

    def toggle_compare(self, on: bool) -> None:
        s = self.session
        if not on or s is None:
            self.compare.hide()
            self.view.vb.setXLink(None)
            self.view.vb.setYLink(None)
            return
        self.compare.set_drawing(s.drawing, s.draw_state())
        self.compare.show()
        self.compare.vb.setXLink(self.view.vb)
        self.compare.vb.setYLink(self.view.vb)
        self.split.setSizes([1, 1])
        self._refresh_compare()

    def _refresh_compare(self) -> None:
        s = self.session
        if s is None or not self.compare.isVisible():
            return
        k = self._compare_index
        if not (0 <= k < len(s.entries)) or k == s.active:
            k = 0 if s.active != 0 else (1 if len(s.entries) > 1 else 0)
        e = s.entries[k]
        self.compare.set_state(s.draw_state(e))
        self.compare.set_banner(self.banner_text(e), "info")

    # ---- selection, inspector, tooltips ---------------------------------------------------
    def describe(self, name: str) -> str:
        s = self.session
        if s is None:
            return ""
        e = s.current
        if not (e.ready or not s.big):
            return rows_html(element_rows(s.net, None, name))
        return rows_html(element_rows(s.net, e.variant.model, name, e.reference, e.answer,
                                      e.verdict))

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
        e = s.current
        model = e.variant.model if (e.ready or not s.big) else None
        rows = element_rows(s.net, model, name, e.reference, e.answer, e.verdict)
        self.inspector.show_rows(name, rows, name.split(":")[0] in OUTAGE_TABLES
                                 and name not in e.outages)

    def do_search(self) -> None:
        name = self.view.find(self.search.text())
        if name:
            self.show_element(name, centre=True)
            self.statusBar().showMessage(f"found {name}", 4000)
        else:
            self.statusBar().showMessage(f"nothing called {self.search.text()!r}", 6000)

    def plots_refresh(self) -> None:
        s = self.session
        if s is None or not (s.current.ready or not s.big):
            self.plots.show_profiles(None, None, None)
            return
        e = s.current
        m = e.variant.model
        self.plots.show_profiles(m, reference_profile(e.reference), answer_profile(m, e.answer))

    # ---- reference ------------------------------------------------------------------------
    def solve_active_reference(self) -> None:
        if self.session is not None:
            self.start_reference(self.session.current)

    def start_reference(self, entry: VariantEntry) -> Job | None:
        if entry.reference is not None or id(entry) in self.ref_jobs:
            return self.ref_jobs.get(id(entry))
        job = Job(solve_reference, entry, name="reference")
        job.entry = entry
        job.succeeded.connect(lambda r, e=entry: self._reference_done(e, r))
        job.failed.connect(lambda msg, e=entry: self._reference_failed(e, msg))
        self.ref_jobs[id(entry)] = job
        self._start(job)
        self.statusBar().showMessage(f"Solving the reference AC OPF of {entry.label}…")
        return job

    def _reference_done(self, entry: VariantEntry, result) -> None:
        self.ref_jobs.pop(id(entry), None)
        if getattr(result, "status", "") == "cancelled":  # stopped, not solved: ask again later
            self.statusBar().showMessage(f"Reference of {entry.label}: stopped", 8000)
            return
        entry.reference = result
        self.statusBar().showMessage(
            f"Reference of {entry.label}: " + (f"{result.objective:,.2f} $/h" if result.success
                                               else result.status), 8000)
        self._entry_updated(entry)
        self.referenceReady.emit(entry)

    def _reference_failed(self, entry: VariantEntry, msg: str) -> None:
        self.ref_jobs.pop(id(entry), None)
        entry.reference_error = msg
        self.statusBar().showMessage(f"Reference of {entry.label} failed: {msg}", 10000)
        self.referenceReady.emit(entry)

    def _entry_updated(self, entry: VariantEntry) -> None:
        s = self.session
        if s is None or entry not in s.entries:
            return
        if entry is s.current:
            self.session_changed()
        else:
            self.variants.show_session(s)
            self._refresh_compare()

    # ---- the model ------------------------------------------------------------------------
    def refresh_prompt(self, force: bool = False) -> None:
        """Show the active variant's prompt (rendered on a worker: big grids take seconds)."""
        s = self.session
        if s is None:
            return
        e = s.current
        if self.model_panel.prompt_edited and not force:
            return
        if e.prompt and not force:
            self.model_panel.set_prompt(e.prompt)
            return
        from n1studio.app import modeljob

        self.model_panel.set_prompt("(building the prompt…)")
        job = Job(modeljob.prompt_text, e.variant, name="prompt", callbacks=False)
        self.prompt_job = job

        def done(text, e=e, job=job):
            if self.prompt_job is job and self.session is s and s.current is e:
                self.model_panel.set_prompt(text)

        def failed(msg, job=job):
            if self.prompt_job is job:
                self.model_panel.set_prompt(f"(the prompt could not be built: {msg})")

        job.succeeded.connect(done)
        job.failed.connect(failed)
        self._start(job)

    def ask(self) -> None:
        """Ask the model about the active variant; the reference solves alongside."""
        s = self.session
        if s is None or self.model_job is not None:
            return
        from n1studio.app import modeljob

        e = s.current
        e.error = ""
        e.raw = ""
        e.verdict = None
        e.answer = None
        prompt = self.model_panel.prompt.toPlainText() if self.model_panel.prompt_edited else None
        values = self.model_panel.values()
        self.start_reference(e)
        if e.variant.outages:
            self.start_reference(s.base_entry)
        job = Job(modeljob.ask_and_check, e, values, prompt, s.base_entry, name="model")
        job.entry = e
        job.event.connect(lambda ev, e=e: self._model_event(e, ev))
        job.succeeded.connect(lambda out, e=e: self._model_done(e, out))
        job.failed.connect(lambda msg, e=e: self._model_failed(e, msg))
        self.model_job = job
        self.model_panel.answer.clear()
        self.model_panel.set_running(True)
        self.act_ask.setEnabled(False)
        self.act_stop.setEnabled(True)
        self.progress.show()
        self.verdict.clear("The model is answering…")
        self.statusBar().showMessage(f"Asking the model about {e.label}…")
        self._start(job)

    def stop(self) -> None:
        job = self.model_job
        if job is not None:
            job.stop()
            self.statusBar().showMessage("Stopping the model…", 4000)

    def _model_event(self, entry: VariantEntry, ev: dict) -> None:
        kind = ev.get("ev") or ev.get("event") or ev.get("type")
        s = self.session
        current = s is not None and entry is s.current
        if kind == "token":
            entry.raw += str(ev.get("text", ""))
            if current:
                self.model_panel.append_token(str(ev.get("text", "")))
            st = ev.get("stats")
            if st:
                self.model_panel.set_stats(_stats_text(st))
            elif current and self.model_panel.stats.text().startswith(_BEFORE_ANSWER):
                self.model_panel.set_stats("the model is answering…")
        elif kind == "prompt":
            entry.prompt = str(ev.get("text", ""))
        elif kind == "progress" and current:
            self.model_panel.set_stats(f"reading the prompt: {int(ev.get('done') or 0)}/"
                                       f"{int(ev.get('total') or 0)} tokens")
        elif kind == "loaded" and current:
            self.model_panel.set_stats("model loaded")
        elif kind in ("loading", "checking", "reference"):
            self.model_panel.set_stats(str(ev.get("message") or kind))

    def _model_done(self, entry: VariantEntry, out: dict) -> None:
        self._model_finished()
        entry.answer = out.get("answer")
        entry.raw = out.get("raw", entry.raw)
        entry.prompt = out.get("prompt", entry.prompt)
        entry.verdict = out.get("verdict")
        entry.stats = out.get("stats") or {}
        entry.model_file = out.get("model_file", "")
        if out.get("reference") is not None and entry.reference is None:
            entry.reference = out["reference"]
        n = len((entry.verdict or {}).get("violations") or [])
        self.statusBar().showMessage(f"{entry.label}: the answer has {n} violation(s)"
                                     if n else f"{entry.label}: the answer is feasible", 10000)
        self._entry_updated(entry)
        self.answerReady.emit(entry)

    def _model_failed(self, entry: VariantEntry, msg: str) -> None:
        self._model_finished()
        entry.error = msg
        self.statusBar().showMessage(f"Model error: {msg}", 15000)
        self._entry_updated(entry)
        if entry is not (self.session.current if self.session else None):
            self.verdict.show_verdict(None, msg)
        self.answerReady.emit(entry)

    def _model_finished(self) -> None:
        self.model_job = None
        self.model_panel.set_running(False)
        self.act_ask.setEnabled(True)
        self.act_stop.setEnabled(False)
        self.progress.setVisible(any(j.objectName() == "open" for j in self.jobs))

    # ---- jobs -----------------------------------------------------------------------------
    def _start(self, job: Job) -> None:
        self.jobs.add(job)
        job.finished.connect(lambda j=job: self.jobs.discard(j))
        job.start()

    def wait_for_jobs(self, ms: int = 600_000) -> None:
        for j in list(self.jobs):
            j.wait(ms)

    # ---- export ---------------------------------------------------------------------------
    def export_dialog(self, fmt: str) -> None:
        if self.session is None:
            return
        default = f"{self.session.name}-{self.session.current.label.replace(' ', '_').replace(':', '')}.{fmt}"
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
        if _dropped_case(ev.mimeData()):
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:
        path = _dropped_case(ev.mimeData())
        if path:
            ev.acceptProposedAction()
            self.open_case(path)

    # ---- misc -----------------------------------------------------------------------------
    def about(self) -> None:
        """Help > About: version, llama.cpp build, licences (n1studio/app/about.py)."""
        from n1studio.app.about import show_about

        show_about(self)

    def showEvent(self, ev: QtGui.QShowEvent) -> None:
        super().showEvent(ev)
        if not self._docks_sized:  # first run: size the right column for the real window
            self._docks_sized = True
            QtCore.QTimer.singleShot(0, self._default_dock_heights)
        QtCore.QTimer.singleShot(0, self._hide_stale_tab_bars)

    def _hide_stale_tab_bars(self) -> None:
        """Qt 6.12 leaves the tab bar of a half-built tab group on screen when a second group
        is tabified (["Inspector", "Sweep"] drawn over the inspector's title, under the real
        ["Inspector", "Sweep", "Study"]): hide every dock tab bar that shows no current group.
        Qt shows again any bar it reuses."""
        groups = set()
        for d in self.findChildren(QtWidgets.QDockWidget):
            tabbed = self.tabifiedDockWidgets(d)
            if tabbed and not d.isFloating():
                groups.add(frozenset(x.windowTitle() for x in [d, *tabbed]))
        for bar in self.findChildren(QtWidgets.QTabBar):
            if bar.parent() is not self or not bar.isVisible():
                continue
            tabs = frozenset(bar.tabText(i) for i in range(bar.count()))
            if tabs not in groups:
                bar.hide()

    def _default_dock_heights(self) -> None:
        """Give the model dock what its panel needs (Ask/Stop, settings, a few lines of
        answer) and the verdict the rest, whatever the window height."""
        total = self.dock_model.height() + self.dock_verdict.height()
        if total <= 0:
            return
        title = self.dock_model.height() - self.dock_model.widget().height()
        mp = self.model_panel
        need = mp.minimumSizeHint().height() + max(title, 0) + 4
        if mp.stats.isHidden():  # room for the two-line status that comes with an answer
            need += 2 * mp.stats.fontMetrics().lineSpacing() + 6
        model = min(max(need, int(0.40 * total)), total - 200)
        log.debug("model dock: need %s of %s, title %s", need, total, title)
        self.resizeDocks([self.dock_model, self.dock_verdict], [model, total - model],
                         QtCore.Qt.Orientation.Vertical)

    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        self.save_settings()
        self.stop()
        from n1studio.app import modeljob

        modeljob.shutdown()  # the model job ends at once when its worker is gone
        self.curation.stop_sweep()
        for j in list(self.jobs):
            j.stop()
        if any(j.isRunning() for j in self.jobs):
            self.statusBar().showMessage("Waiting for the solver to finish…")
            QtWidgets.QApplication.processEvents()
        for j in list(self.jobs):
            j.wait()  # a thread must never be destroyed while it runs
        self.curation.close()
        super().closeEvent(ev)


def _scroll(w: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    area = QtWidgets.QScrollArea()
    area.setWidget(w)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # the vertical scroll bar takes its width from the viewport: count it, or the panel's
    # right edge (buttons, spin-box arrows) is clipped whenever the bar shows
    bar = area.verticalScrollBar().sizeHint().width()
    area.setMinimumWidth(max(360, w.minimumSizeHint().width() + bar + 2))
    return area


def _dropped_case(mime: QtCore.QMimeData) -> str:
    if not mime.hasUrls():
        return ""
    for url in mime.urls():
        p = url.toLocalFile()
        if p and Path(p).suffix.lower() in (".json", ".m"):
            return p
    return ""


def _list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v] if v else []
    return [str(x) for x in v if x]


_BEFORE_ANSWER = ("reading the prompt", "model loaded", "starting")


def _stats_text(st: dict) -> str:
    if not st:
        return ""
    parts = []
    if st.get("tokens_per_s") is not None:
        parts.append(f"{float(st['tokens_per_s']):.1f} tokens/s")
    if st.get("completion_tokens") is not None:
        parts.append(f"{int(st['completion_tokens'])} tokens")
    if st.get("prompt_tokens") is not None:
        parts.append(f"prompt {int(st['prompt_tokens'])} ({int(st.get('cached_tokens') or 0)} cached)")
    if st.get("ttft_s") is not None:
        parts.append(f"first token {float(st['ttft_s']):.2f} s")
    if st.get("wall_s") is not None:
        parts.append(f"{float(st['wall_s']):.1f} s")
    return " · ".join(parts)
