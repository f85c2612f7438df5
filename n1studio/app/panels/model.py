"""The model panel: which GGUF, how to run it, the prompt, and the answer as it streams."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from n1studio.llm.runtime import ModelSettings
from n1studio.resources import resource

log = logging.getLogger(__name__)

DEFAULT_LABEL = "Gemma 3 270M (default)"  # short: the combo is ~190 px in the dock
DEFAULT_TIP = "The default model: Gemma 3 270M, Q4_K_M GGUF, installed with N-1 Studio"
#: Controls (n1studio.controls) offered in the model list, marked as controls.
CONTROL_ITEMS = (("control:reference", "the variant's own reference: the ideal solver"),
                 ("control:recall-n", "the N case's reference: the ideal memoriser"),
                 ("control:noise", "the reference plus seeded noise (0.05 of each range)"),
                 ("control:zeros", "every number 0: the junk a weak model writes"))
SERVER_PREFIX = "server:"  # item data of a remembered OpenAI-compatible server
#: Item data of the shipped memoriser: the default model with resources/memoriser's adapter.
MEMORISER_ITEM = "memoriser:default"


def memoriser() -> tuple[str, str] | None:
    """The shipped memoriser adapter (its file, its card's label), None when not installed."""
    card = resource("memoriser", "card.json")
    try:
        doc = json.loads(card.read_text(encoding="utf-8"))
        path = card.parent / doc["adapter"]["file"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (str(path), str(doc.get("label") or path.name)) if path.is_file() else None


def server_spec(endpoint: str, model: str, chat: bool = False,
                api_key_env: str | None = None, constrained: str = "grammar") -> str:
    """The model-list entry of a server (remembered in QSettings; never a key, only the
    name of the variable that holds it)."""
    doc = {"endpoint": endpoint, "model": model, "chat": chat,
           "api_key_env": api_key_env or None}
    if constrained != "grammar":
        doc["constrained"] = constrained
    return SERVER_PREFIX + json.dumps(doc, sort_keys=True)


def parse_server(spec: str) -> dict | None:
    """The server an entry names, or None for a GGUF path, a control or the default."""
    if not spec or not spec.startswith(SERVER_PREFIX):
        return None
    try:
        d = json.loads(spec[len(SERVER_PREFIX):])
    except ValueError:
        return None
    return d if isinstance(d, dict) and d.get("endpoint") and d.get("model") else None


def _item_label(data: str) -> str:
    srv = parse_server(data)
    if srv is not None:
        return f"{srv['model']} @ {srv['endpoint']}" + (" (chat)" if srv.get("chat") else "")
    return data if data.startswith("control:") else Path(data).name


class ModelPanel(QtWidgets.QWidget):
    askRequested = QtCore.Signal()
    stopRequested = QtCore.Signal()
    promptRefreshRequested = QtCore.Signal()

    def __init__(self, parent=None, gpu_supported: bool = False):
        super().__init__(parent)
        self.model = QtWidgets.QComboBox()
        self.model.setObjectName("modelCombo")
        self.model.setEditable(False)
        self.model.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(14)
        self.model.addItem(DEFAULT_LABEL, "")
        self.model.setItemData(0, DEFAULT_TIP, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.model.currentIndexChanged.connect(self._model_chosen)
        browse = QtWidgets.QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose a GGUF file")
        browse.clicked.connect(self._browse)
        server = QtWidgets.QToolButton()
        server.setText("⇄")
        server.setObjectName("addServer")
        server.setToolTip("Add server…: an OpenAI-compatible server (llama.cpp, vLLM, Ollama, "
                          "LM Studio); remembered with the recent models")
        server.clicked.connect(self.add_server_dialog)
        adapter = QtWidgets.QToolButton()
        adapter.setText("+A")
        adapter.setObjectName("addAdapter")
        adapter.setToolTip("Add adapter…: a LoRA adapter GGUF (llama.cpp's "
                           "convert_lora_to_gguf.py) applied to the local model")
        adapter.clicked.connect(self._browse_adapter)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(browse)
        row.addWidget(server)
        row.addWidget(adapter)
        self._add_controls()
        # the LoRA adapter on the local model (none: the model alone)
        self.lora_path = ""
        self.adapter = QtWidgets.QLabel("none")
        self.adapter.setObjectName("adapterLabel")
        self.adapter.setToolTip("The LoRA adapter applied to the local model (Add adapter…)")
        self.lora_scale = QtWidgets.QDoubleSpinBox()
        self.lora_scale.setRange(-10.0, 10.0)
        self.lora_scale.setSingleStep(0.1)
        self.lora_scale.setValue(1.0)
        self.lora_scale.setToolTip("The adapter's scale: 0 gives the model's own answers")
        self.lora_scale.setEnabled(False)
        self.clear_adapter = QtWidgets.QToolButton()
        self.clear_adapter.setText("×")
        self.clear_adapter.setToolTip("Remove the adapter")
        self.clear_adapter.setEnabled(False)
        self.clear_adapter.clicked.connect(lambda: self.set_adapter(""))

        self.gpu = QtWidgets.QSpinBox()
        self.gpu.setRange(-1, 999)
        self.gpu.setSpecialValueText("all")
        self.gpu.setToolTip("Layers offloaded to the GPU: 0 = CPU only, all = every layer")
        self.gpu_note = WrapLabel(
            "this llama.cpp build can offload to a GPU" if gpu_supported else
            "CPU-only llama.cpp build: GPU layers need a CUDA build (see README)")
        self.gpu_note.setObjectName("hint")
        self.gpu_note.setWordWrap(True)
        if not gpu_supported:
            self.gpu.setValue(0)
            self.gpu.setEnabled(False)
        self.ctx = QtWidgets.QSpinBox()
        self.ctx.setRange(0, 131072)
        self.ctx.setSingleStep(1024)
        self.ctx.setSpecialValueText("auto")
        self.ctx.setToolTip("Context size in tokens: auto = sized to the prompt")
        self.temp = QtWidgets.QDoubleSpinBox()
        self.temp.setRange(0.0, 2.0)
        self.temp.setSingleStep(0.1)
        self.temp.setDecimals(2)
        self.temp.setToolTip("Sampling temperature: 0 = greedy, reproducible")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Sampling seed (used when the temperature is above 0)")
        self.threads = QtWidgets.QSpinBox()
        self.threads.setRange(1, 256)
        # the runtime's default, all cores but one: the window needs a core of its own, and
        # llama.cpp's spinning threads collapse on an oversubscribed CPU
        self.threads.setValue(ModelSettings().n_threads)
        self.threads.setToolTip("CPU threads llama.cpp uses")
        self.mode = QtWidgets.QComboBox()
        self.mode.setToolTip("constrained: the answer's JSON structure is written for the model, "
                             "which writes only the numbers; free: the model writes what it "
                             "wants and the answer is read from its text")
        self.mode.addItem("constrained", "constrained")
        self.mode.addItem("free", "free")
        self.mode.setItemData(0, "The answer's JSON structure is written for the model; it only "
                                 "writes the numbers", QtCore.Qt.ItemDataRole.ToolTipRole)
        self.mode.setItemData(1, "The model writes what it wants; the answer is parsed from "
                                 "its text", QtCore.Qt.ItemDataRole.ToolTipRole)

        # Two columns of short settings: the whole form fits a ~360-pixel dock and leaves
        # the height to the prompt and the answer.
        form = QtWidgets.QGridLayout()
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(4)
        form.setColumnStretch(1, 3)
        form.setColumnStretch(3, 2)
        form.addWidget(_label("Model", self.model), 0, 0)
        form.addLayout(row, 0, 1, 1, 3)
        for r, pairs in enumerate(((("Mode", self.mode), ("Threads", self.threads)),
                                   (("GPU layers", self.gpu), ("Context", self.ctx)),
                                   (("Temperature", self.temp), ("Seed", self.seed))), start=1):
            for c, (text, w) in enumerate(pairs):
                form.addWidget(_label(text, w), r, 2 * c)
                form.addWidget(w, r, 2 * c + 1)
        for w in (self.threads, self.gpu, self.ctx, self.temp, self.seed):
            # numbers: a fixed sensible width instead of room for 131072 or 2**31
            w.setMinimumWidth(64)
            w.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                            QtWidgets.QSizePolicy.Policy.Fixed)
        self.mode.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                QtWidgets.QSizePolicy.Policy.Fixed)
        form.addWidget(self.gpu_note, 4, 0, 1, 4)
        arow = QtWidgets.QHBoxLayout()
        arow.addWidget(self.adapter, 1)
        arow.addWidget(self.clear_adapter)
        form.addWidget(_label("Adapter", self.adapter), 5, 0)
        form.addLayout(arow, 5, 1)
        form.addWidget(_label("Scale", self.lora_scale), 5, 2)
        form.addWidget(self.lora_scale, 5, 3)
        self.likelihood = QtWidgets.QCheckBox("Likelihood probe")
        self.likelihood.setObjectName("likelihoodProbe")
        self.likelihood.setToolTip("After each answer of a local model, score the N answer "
                                   "and the variant's own answer as answers to its prompt: "
                                   "which one the model prefers, in nats per token (takes "
                                   "about as long as reading the answer again)")
        form.addWidget(self.likelihood, 6, 0, 1, 4)

        self.prompt = QtWidgets.QPlainTextEdit()
        self.prompt.setObjectName("promptEdit")
        self.prompt.setPlaceholderText("The prompt for the active variant appears here; edit it "
                                       "before asking if you like.")
        self.prompt.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.prompt.setFont(mono)
        self.prompt_edited = False
        self.prompt.textChanged.connect(self._edited)
        reset = QtWidgets.QPushButton("Rebuild prompt")
        reset.setToolTip("Render the template again for the active variant (drops your edits)")
        reset.clicked.connect(self.promptRefreshRequested)
        self.answer = QtWidgets.QPlainTextEdit()
        self.answer.setObjectName("answerView")
        self.answer.setReadOnly(True)
        self.answer.setFont(mono)
        self.answer.setPlaceholderText("The model's answer streams here.")

        tabs = QtWidgets.QTabWidget()
        tabs.setObjectName("modelTabs")
        pw = QtWidgets.QWidget()
        pl = QtWidgets.QVBoxLayout(pw)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.prompt)
        pl.addWidget(reset, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        tabs.addTab(self.answer, "Answer")
        tabs.addTab(pw, "Prompt")
        self.tabs = tabs
        # the scroll area sizes the panel to its preferred height: let the prompt/answer take
        # what the dock has (at least a few lines) instead of asking for a text editor's 200+
        # (room for six lines of the answer as it streams, not two)
        tabs.setMinimumHeight(6 * QtGui.QFontMetrics(mono).lineSpacing() + 36)
        tabs.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                           QtWidgets.QSizePolicy.Policy.Ignored)

        self.ask = QtWidgets.QPushButton("Ask the model")
        self.ask.setObjectName("askButton")
        self.ask.setDefault(True)
        self.ask.clicked.connect(self.askRequested)
        self.stop = QtWidgets.QPushButton("Stop")
        self.stop.setObjectName("stopButton")
        self.stop.setEnabled(False)
        self.stop.clicked.connect(self.stopRequested)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(8)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.stats = WrapLabel("")
        self.stats.setObjectName("statsLabel")
        self.stats.setWordWrap(True)
        self.stats.hide()  # shown with text only: no blank band under the buttons
        self.stop.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed,
                                QtWidgets.QSizePolicy.Policy.Fixed)
        self.ask.setMinimumWidth(120)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.ask, 1)
        buttons.addWidget(self.stop)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        # Ask/Stop first: always in sight, even when the dock is short
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.stats)
        lay.addLayout(form)
        lay.addWidget(tabs, 1)

    # ---- model files ----------------------------------------------------------------------
    def set_recent(self, paths: list[str], current: str = "") -> None:
        self.model.blockSignals(True)
        self.model.clear()
        self.model.addItem(DEFAULT_LABEL, "")
        self.model.setItemData(0, DEFAULT_TIP, QtCore.Qt.ItemDataRole.ToolTipRole)
        self._add_controls()
        for p in paths:
            if p and (parse_server(p) is not None or Path(p).is_file()):
                self._add_item(p)
        k = self.model.findData(current) if current else 0
        self.model.setCurrentIndex(max(0, k))
        self.model.blockSignals(False)
        self._model_chosen(self.model.currentIndex())

    def _add_controls(self) -> None:
        mem = memoriser()
        if mem is not None:  # a teaching asset: a real model that recalls (README)
            self.model.addItem(mem[1], MEMORISER_ITEM)
            self.model.setItemData(self.model.count() - 1,
                                   f"The default model with the LoRA adapter {mem[0]}: it has "
                                   "memorised case14's N answer (resources/memoriser/card.md)",
                                   QtCore.Qt.ItemDataRole.ToolTipRole)
        for name, tip in CONTROL_ITEMS:
            self.model.addItem(f"{name} (control)", name)
            self.model.setItemData(self.model.count() - 1, f"A control: {tip}",
                                   QtCore.Qt.ItemDataRole.ToolTipRole)

    def _add_item(self, data: str) -> int:
        k = self.model.findData(data)
        if k < 0:
            self.model.addItem(_item_label(data), data)
            k = self.model.count() - 1
            tip = _item_label(data) if parse_server(data) else data
            self.model.setItemData(k, tip, QtCore.Qt.ItemDataRole.ToolTipRole)
        return k

    def add_model(self, path: str) -> None:
        self.model.setCurrentIndex(self._add_item(path))

    def add_server(self, endpoint: str, model: str, chat: bool = False,
                   api_key_env: str | None = None, constrained: str = "grammar") -> str:
        """Add (and select) an OpenAI-compatible server; returns its list entry."""
        spec = server_spec(endpoint.strip(), model.strip(), chat, api_key_env, constrained)
        self.add_model(spec)
        return spec

    def add_server_dialog(self) -> None:
        dlg = ServerDialog(self)
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.add_server(*dlg.result_values())

    def model_path(self) -> str:
        data = str(self.model.currentData() or "")
        return "" if data == MEMORISER_ITEM else data  # the memoriser runs on the default

    def recent_models(self) -> list[str]:
        """The remembered GGUF files and servers (controls and the default are always there)."""
        out = []
        for k in range(1, self.model.count()):
            d = str(self.model.itemData(k) or "")
            if d and not d.startswith("control:") and d != MEMORISER_ITEM:
                out.append(d)
        return out

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Choose a GGUF model", "",
                                                        "GGUF models (*.gguf);;All files (*)")
        if path:
            self.add_model(path)

    def _browse_adapter(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Add a LoRA adapter", "",
                                                        "GGUF adapters (*.gguf);;All files (*)")
        if path:
            self.set_adapter(path)

    def _model_chosen(self, _k: int) -> None:
        """Choosing the memoriser puts its adapter on the default model; choosing another
        model takes the memoriser's adapter off again (an adapter added by hand stays)."""
        mem = memoriser()
        if mem is None:
            return
        if self.model.currentData() == MEMORISER_ITEM:
            self.set_adapter(mem[0])
        elif self.lora_path == mem[0]:
            self.set_adapter("")

    def set_adapter(self, path: str) -> None:
        """Apply the LoRA adapter at `path` to the local model ("" removes it); it is
        checked when the model is asked (one clear line if it does not fit the model)."""
        self.lora_path = path or ""
        self.adapter.setText(Path(path).name if path else "none")
        self.adapter.setToolTip(path or "No LoRA adapter")
        self.lora_scale.setEnabled(bool(path))
        self.clear_adapter.setEnabled(bool(path))

    # ---- settings -------------------------------------------------------------------------
    def values(self) -> dict:
        return {"model_path": self.model_path() or None, "n_gpu_layers": self.gpu.value(),
                "n_ctx": self.ctx.value(), "temperature": self.temp.value(),
                "seed": self.seed.value(), "mode": self.mode.currentData(),
                "n_threads": self.threads.value(),
                "lora_path": self.lora_path or None,
                "lora_scale": self.lora_scale.value() if self.lora_path else None,
                "likelihood": self.likelihood.isChecked()}

    # ---- prompt and answer ----------------------------------------------------------------
    def set_prompt(self, text: str) -> None:
        self.prompt.blockSignals(True)
        self.prompt.setPlainText(text)
        self.prompt.blockSignals(False)
        self.prompt_edited = False

    def set_stats(self, text: str) -> None:
        """Show a status line under Ask/Stop (tokens/s, prompt progress); empty hides it."""
        self.stats.setText(text)
        self.stats.setVisible(bool(text))

    def _edited(self) -> None:
        self.prompt_edited = True

    def set_running(self, running: bool) -> None:
        self.ask.setEnabled(not running)
        self.stop.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.tabs.setCurrentIndex(0)

    def append_token(self, text: str) -> None:
        cur = self.answer.textCursor()
        cur.movePosition(QtGui.QTextCursor.MoveOperation.End)
        cur.insertText(text)
        self.answer.setTextCursor(cur)
        self.answer.ensureCursorVisible()


class WrapLabel(QtWidgets.QLabel):
    """A word-wrapped label that asks its layout for the height of all its lines at its
    current width (a plain QLabel in a scroll area gets one line and is cut)."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        super().resizeEvent(ev)
        h = self.heightForWidth(self.width())
        if h > 0 and h != self.minimumHeight():
            self.setMinimumHeight(h)

    def setText(self, text: str) -> None:
        super().setText(text)
        if self.width() > 0:
            self.setMinimumHeight(max(0, self.heightForWidth(self.width())))


def _label(text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
    """A form label that focuses its field (Alt+letter) and carries the field's tooltip."""
    lab = QtWidgets.QLabel(text)
    lab.setBuddy(buddy)
    if buddy.toolTip():
        lab.setToolTip(buddy.toolTip())
    return lab


class ServerDialog(QtWidgets.QDialog):
    """Add server…: the base URL, the model name it serves, chat mode, and the name of the
    environment variable holding an API key (the key itself is never asked for or kept)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Add an OpenAI-compatible server")
        self.url = QtWidgets.QLineEdit("http://127.0.0.1:8000")
        self.name = QtWidgets.QLineEdit()
        self.name.setPlaceholderText("the model name the server serves")
        self.chat = QtWidgets.QCheckBox("chat completions (the server applies the model's "
                                        "chat template)")
        self.key_env = QtWidgets.QLineEdit()
        self.key_env.setPlaceholderText("e.g. OPENAI_API_KEY (optional)")
        self.constrained = QtWidgets.QComboBox()
        for mode, text in (("grammar", "one GBNF grammar (llama.cpp's server)"),
                           ("regex", "one regex (vLLM's structured outputs)"),
                           ("scaffold", "a number at a time (llama.cpp, prefix cache)")):
            self.constrained.addItem(text, mode)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Server URL", self.url)
        form.addRow("Model", self.name)
        form.addRow("", self.chat)
        form.addRow("API key variable", self.key_env)
        form.addRow("Constrained answers", self.constrained)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _accept(self) -> None:
        if not self.url.text().strip().startswith(("http://", "https://")) or \
                not self.name.text().strip():
            QtWidgets.QMessageBox.warning(self, "Add server", "Give an http(s) URL and the "
                                          "model name the server serves.")
            return
        self.accept()

    def result_values(self) -> tuple[str, str, bool, str | None, str]:
        return (self.url.text().strip(), self.name.text().strip(), self.chat.isChecked(),
                self.key_env.text().strip() or None, str(self.constrained.currentData()))
