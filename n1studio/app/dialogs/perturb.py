"""Edit → Perturb…: a variant of the active one with loads, costs or names perturbed
(`n1studio.grid.perturb.Perturbation`: load scale, load noise, cost noise, relabel, seed).

The new entry keeps the active variant's outages and takes the dialog's perturbation in
place of the active one's; it is pushed on the undo stack like a take-out, its reference is
solved like any variant's, and Ask sends its perturbed (or relabelled) prompt.
"""

from __future__ import annotations

import logging

from PySide6 import QtWidgets

from n1studio.errors import N1Error
from n1studio.grid.perturb import Perturbation

log = logging.getLogger(__name__)


class PerturbDialog(QtWidgets.QDialog):
    """The five fields of a Perturbation, starting from `initial`."""

    def __init__(self, parent=None, initial: Perturbation | None = None, base_label: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Perturb the variant")
        self.setObjectName("perturbDialog")
        p = initial or Perturbation()
        self.load_scale = QtWidgets.QDoubleSpinBox()
        self.load_scale.setObjectName("loadScale")
        self.load_scale.setRange(0.05, 5.0)
        self.load_scale.setDecimals(3)
        self.load_scale.setSingleStep(0.05)
        self.load_scale.setValue(p.load_scale)
        self.load_scale.setToolTip("Every load's P and Q times this factor")
        self.load_noise = self._fraction("loadNoise", p.load_noise,
                                         "Each load times its own factor in [1-S, 1+S]")
        self.cost_noise = self._fraction("costNoise", p.cost_noise,
                                         "Each generator's c1 and c2 times its own factor in "
                                         "[1-S, 1+S]")
        self.relabel = QtWidgets.QCheckBox("Relabel (the same grid under permuted names)")
        self.relabel.setObjectName("relabel")
        self.relabel.setChecked(p.relabel)
        self.seed = QtWidgets.QSpinBox()
        self.seed.setObjectName("perturbSeed")
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setValue(p.seed)
        self.preview = QtWidgets.QLabel()
        self.preview.setObjectName("perturbPreview")
        self.preview.setWordWrap(True)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("hint")
        self.error.hide()
        self.base_label = base_label
        form = QtWidgets.QFormLayout(self)
        form.addRow("Load scale", self.load_scale)
        form.addRow("Load noise", self.load_noise)
        form.addRow("Cost noise", self.cost_noise)
        form.addRow("", self.relabel)
        form.addRow("Seed", self.seed)
        form.addRow("New variant", self.preview)
        form.addRow(self.error)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        for w in (self.load_scale, self.load_noise, self.cost_noise, self.seed):
            w.valueChanged.connect(self._update)
        self.relabel.toggled.connect(self._update)
        self._update()

    @staticmethod
    def _fraction(name: str, value: float, tip: str) -> QtWidgets.QDoubleSpinBox:
        box = QtWidgets.QDoubleSpinBox()
        box.setObjectName(name)
        box.setRange(0.0, 0.95)
        box.setDecimals(3)
        box.setSingleStep(0.05)
        box.setValue(value)
        box.setToolTip(tip + " (0: none)")
        return box

    def perturbation(self) -> Perturbation:
        """What the fields say (raises PerturbationError for values it refuses)."""
        return Perturbation(load_scale=round(self.load_scale.value(), 6),
                            load_noise=round(self.load_noise.value(), 6),
                            cost_noise=round(self.cost_noise.value(), 6),
                            relabel=self.relabel.isChecked(), seed=int(self.seed.value()))

    def _update(self, *_args) -> None:
        ok = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        try:
            p = self.perturbation()
        except N1Error as exc:
            self.error.setText(str(exc))
            self.error.show()
            ok.setEnabled(False)
            return
        self.error.hide()
        ok.setEnabled(True)
        head = self.base_label or "N"
        self.preview.setText(f"{head} · {p.label}" if p.label else f"{head} (unperturbed)")


def perturb_active(window, perturbation: Perturbation | None = None):
    """Make (undoably) and draw the active variant with `perturbation` (asked for in the
    dialog when None); returns the entry, or None when cancelled."""
    s = window.session
    if s is None:
        return None
    cur = s.current
    if perturbation is None:
        head = cur.variant.with_perturbation(None).label
        dlg = PerturbDialog(window, cur.perturbation, head)
        window.last_perturb_dialog = dlg  # for tests and the demo
        if dlg.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return None
        try:
            perturbation = dlg.perturbation()
        except N1Error as exc:
            window.statusBar().showMessage(str(exc), 8000)
            return None
    text = f"perturb: {perturbation.label}" if perturbation.label else "remove the perturbation"
    return window._add_variant(tuple(cur.outages), text, perturbation=perturbation)
