"""The main window's preferences (a mixin of `MainWindow`): what QSettings keeps between
runs (model settings, recent files and models, theme, window geometry), the theme and the
presentation mode."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from n1studio.app.window.presentation import Presentation
from n1studio.present.theme import THEMES, stylesheet

PRESENTATION_SCALE = 1.6
RECENT_FILES = 10


def as_list(v) -> list[str]:
    """A QSettings list value (None, one string or a list) as a list of strings."""
    if v is None:
        return []
    if isinstance(v, str):
        return [v] if v else []
    return [str(x) for x in v if x]


class PreferencesMixin:
    """QSettings, recent files, theme and presentation mode of the main window."""

    def saved_theme(self) -> str:
        theme = str(self.settings.value("theme", "light"))
        return theme if theme in THEMES else "light"

    def restore_settings(self, model_path: str) -> None:
        """Model settings, theme and window layout as the user left them."""
        s = self.settings
        mp = self.model_panel
        recent_models = as_list(s.value("recent_models", []))
        current = model_path or str(s.value("model_path", "") or "")
        if model_path and model_path not in recent_models:
            recent_models.insert(0, model_path)
        mp.set_recent(recent_models, current)
        if mp.gpu.isEnabled():
            mp.gpu.setValue(int(s.value("gpu_layers", 0) or 0))
        mp.ctx.setValue(int(s.value("n_ctx", 0) or 0))
        mp.temp.setValue(float(s.value("temperature", 0.0) or 0.0))
        mp.seed.setValue(int(s.value("seed", 0) or 0))
        k = mp.mode.findData(str(s.value("mode", "constrained")))
        mp.mode.setCurrentIndex(max(0, k))
        self.act_dark.setChecked(self.theme == "dark")
        geo = s.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        st = s.value("window_state")
        if st is not None:
            self.restoreState(st)
        self.update_recent_menu()

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

    # ---- recent files ---------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return as_list(self.settings.value("recent_files", []))

    def update_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for p in files[:RECENT_FILES]:
            self.recent_menu.addAction(p, lambda p=p: self.open_case(p))
        self.recent_menu.setEnabled(bool(files))

    def remember_file(self, spec: str) -> None:
        """Put a grid file first in File > Open recent (built-in names are not files)."""
        if Path(spec).suffix.lower() not in (".json", ".m"):
            return
        path = str(Path(spec).resolve())
        files = [f for f in self.recent_files() if f != path]
        files.insert(0, path)
        self.settings.setValue("recent_files", files[:RECENT_FILES])
        self.update_recent_menu()

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
        """F5: the projector layout (app/window/presentation.py); leaving restores the layout."""
        if getattr(self, "presentation", None) is None:
            self.presentation = Presentation(self)
        self.presenting = bool(on)
        if self.act_present.isChecked() != self.presenting:
            self.act_present.setChecked(self.presenting)
        if self.presenting:
            self.presentation.enter()
        scale = PRESENTATION_SCALE if self.presenting else 1.0
        self.view.set_scale(scale)
        self.compare.set_scale(scale)
        self.apply_theme(self.theme)
        if not self.presenting:
            self.presentation.leave()
        QtCore.QTimer.singleShot(0, self.view.fit)
