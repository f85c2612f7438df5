"""The main window's actions, menus, toolbar and docks (a mixin of `MainWindow`).

The slots the actions call live in the other parts of the window (`ask`, `prefs`,
`main_window`); the Curate menu's actions and docks are the `Curation`'s own.
"""

from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.app.canvas.moves import MovesOverlay
from n1studio.app.dialogs.check import check_answer_dialog
from n1studio.app.dialogs.export import export_figure
from n1studio.app.dialogs.perturb import perturb_active
from n1studio.app.panels.parts import make_action, make_dock, scroll_area
from n1studio.grid.cases import builtin_cases

log = logging.getLogger(__name__)

Area = QtCore.Qt.DockWidgetArea


class ActionsMixin:
    """Actions, menus, toolbar and dock set-up of the main window."""

    def add_dock(self, title: str, w: QtWidgets.QWidget, area: Area) -> QtWidgets.QDockWidget:
        """A movable, floatable, closable dock holding `w`, added to `area`."""
        d = make_dock(title, w, self)
        self.addDockWidget(area, d)
        return d

    def make_action(self, text: str, slot, shortcut=None, icon_name: str = "", tip: str = "",
                    checkable: bool = False) -> QtGui.QAction:
        """An action of the window (`parts.make_action`)."""
        return make_action(self, text, slot, shortcut, icon_name, tip, checkable)

    def build_docks(self) -> None:
        """Variants and inspector on the left; model, verdict and plots on the right."""
        self.dock_variants = self.add_dock("Variants", self.variants, Area.LeftDockWidgetArea)
        self.dock_inspector = self.add_dock("Inspector", self.inspector, Area.LeftDockWidgetArea)
        self.dock_model = self.add_dock("Model", scroll_area(self.model_panel),
                                        Area.RightDockWidgetArea)
        self.dock_verdict = self.add_dock("Verdict", scroll_area(self.verdict),
                                          Area.RightDockWidgetArea)
        self.dock_plots = self.add_dock("Plots", self.plots, Area.RightDockWidgetArea)
        self.tabifyDockWidget(self.dock_verdict, self.dock_plots)
        for dock, area in self.curation.docks():  # sweep and study by the inspector, report
            self.addDockWidget(area, dock)        # by the plots
        self.tabifyDockWidget(self.dock_inspector, self.curation.dock_sweep)
        self.tabifyDockWidget(self.dock_inspector, self.curation.dock_study)
        self.tabifyDockWidget(self.dock_plots, self.curation.dock_report)
        self.dock_inspector.raise_()
        self.dock_verdict.raise_()

    def build_actions(self) -> None:
        K = QtGui.QKeySequence.StandardKey
        act = self.make_action
        self.act_open = act("&Open grid…", self.open_dialog, K.Open, "open",
                            "Open a pandapower JSON or MATPOWER .m file")
        self.act_png = act("Export view as &PNG…", lambda: self.export_dialog("png"),
                           "Ctrl+E", "export", "Save the drawing as a PNG image")
        self.act_svg = act("Export view as &SVG…", lambda: self.export_dialog("svg"),
                           None, "", "Save the drawing as an SVG file")
        self.act_quit = act("&Quit", self.close, K.Quit)
        # fixed labels (a growing "Undo take line:6 out of service" pushes the toolbar's
        # actions off it); what would be undone or redone is in the tooltip
        self.act_undo = act("&Undo", self.undo.undo, K.Undo, "undo", "Nothing to undo")
        self.act_undo.setEnabled(False)
        self.undo.canUndoChanged.connect(self.act_undo.setEnabled)
        self.undo.undoTextChanged.connect(
            lambda t: self.act_undo.setToolTip(f"Undo {t}" if t else "Nothing to undo"))
        self.act_redo = act("&Redo", self.undo.redo, None, "redo", "Nothing to redo")
        keys = [*QtGui.QKeySequence.keyBindings(K.Redo), QtGui.QKeySequence("Ctrl+Y"),
                QtGui.QKeySequence("Ctrl+Shift+Z")]
        self.act_redo.setShortcuts(list({k.toString(): k for k in keys}.values()))
        self.act_redo.setEnabled(False)
        self.undo.canRedoChanged.connect(self.act_redo.setEnabled)
        self.undo.redoTextChanged.connect(
            lambda t: self.act_redo.setToolTip(f"Redo {t}" if t else "Nothing to redo"))
        self.act_take_out = act("&Take selected out of service", self.take_out_selected,
                                QtCore.Qt.Key.Key_Delete, "outage",
                                "Make a variant with the selected element out of service")
        self.act_fit = act("&Fit grid", lambda: self.view.fit(), "Ctrl+0", "fit",
                           "Show the whole grid")
        self.act_compare = act("&Compare side by side", self.toggle_compare, "Ctrl+D",
                               "compare", "Show a second variant beside the active one",
                               checkable=True)
        self.act_present = act("&Presentation mode", self.toggle_presentation, "F5",
                               "present", "Larger fonts and markers for teaching",
                               checkable=True)
        self.act_dark = act("&Dark theme", lambda on: self.apply_theme("dark" if on else "light"),
                            None, "", "Switch between the light and dark theme",
                            checkable=True)
        self.act_ask = act("&Ask the model", self.ask, "Ctrl+Return", "ask",
                           "Ask the model to solve the active variant's OPF")
        self.act_stop = act("&Stop", self.stop, "Esc", "stop", "Stop the model")
        self.act_stop.setEnabled(False)
        self.act_reference = act("Solve the &reference", self.solve_active_reference,
                                 "Ctrl+R", "", "AC OPF of the active variant")
        self.act_about = act("&About N-1 Studio", self.about)
        self.build_figure_actions()

    def build_figure_actions(self) -> None:
        """Export figure, Perturb and Check an answer (their slots live in their own
        modules: export_dialog, perturb_dialog, check_dialog)."""
        act = self.make_action
        self.act_figure = act("Export &figure…", self.export_figure, "Ctrl+Shift+E", "export",
                              "Save the view as PNG, SVG or PDF at a chosen size, with the "
                              "title and the verdict (both panes when comparing)")
        self.act_perturb = act("&Perturb…", self.perturb, "Ctrl+P", "",
                               "Make a variant of the active one with loads, costs or names "
                               "perturbed (seeded)")
        self.act_check = act("&Check an answer…", self.check_answer, "Ctrl+K", "",
                             "Judge an answer from a file or the clipboard against the active "
                             "variant, beside its reference")

        self.moves_overlay = MovesOverlay(self.view)  # the verdict panel's "Show moves"
        self.verdict.movesRequested.connect(self.moves_overlay.show_moves)

    def export_figure(self) -> None:
        export_figure(self)

    def perturb(self) -> None:
        perturb_active(self)

    def check_answer(self) -> None:
        check_answer_dialog(self)

    def build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        f.addAction(self.act_open)
        self.recent_menu = f.addMenu("Open &recent")
        self.builtin_menu = f.addMenu("Open &built-in case")

        for c in builtin_cases():
            self.builtin_menu.addAction(c["name"], lambda n=c["name"]: self.open_case(n))
        f.addSeparator()
        f.addAction(self.act_png)
        f.addAction(self.act_svg)
        f.addAction(self.act_figure)
        f.addSeparator()
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        e.addSeparator()
        e.addAction(self.act_take_out)
        e.addAction(self.act_perturb)
        v = mb.addMenu("&View")
        v.addAction(self.act_fit)
        v.addAction(self.act_compare)
        v.addAction(self.act_present)
        v.addAction(self.act_dark)
        v.addSeparator()
        for d in (self.dock_variants, self.dock_inspector, self.dock_model, self.dock_verdict,
                  self.dock_plots, *(d for d, _area in self.curation.docks())):
            v.addAction(d.toggleViewAction())
        m = mb.addMenu("&Model")
        m.addAction(self.act_ask)
        m.addAction(self.act_stop)
        m.addAction(self.act_reference)
        m.addSeparator()
        m.addAction(self.act_check)
        self.curation.add_menu(mb)
        h = mb.addMenu("&Help")
        h.addAction(self.act_about)

    def build_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.setMovable(False)
        for a in (self.act_open, self.act_undo, self.act_redo, self.act_take_out,
                  self.act_perturb):
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

    def build_status_bar(self) -> None:
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.status_model = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.status_model)

    # ---- dock sizes -----------------------------------------------------------------------
    def size_docks(self) -> None:
        """The first layout of the docks (a saved window state replaces it)."""
        V, H = QtCore.Qt.Orientation.Vertical, QtCore.Qt.Orientation.Horizontal
        self.resizeDocks([self.dock_variants, self.dock_model], [250, 430], H)
        self.resizeDocks([self.dock_variants, self.dock_inspector], [260, 420], V)
        self.resizeDocks([self.dock_model, self.dock_verdict], [380, 510], V)

    def hide_stale_tab_bars(self) -> None:
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

    def default_dock_heights(self) -> None:
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
