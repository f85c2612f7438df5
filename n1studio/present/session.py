"""What the window holds: one base grid and its variants, each with its results.

Plain Python (no Qt) so that it can be reasoned about and tested on its own; the window
wraps edits in QUndoCommands (`app/window/undo.py`). A `VariantEntry` keeps everything a user
produced for one variant (reference, prompt, raw answer, parsed answer, verdict, stats,
error) so undoing and redoing a variant never loses work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandapower as pp

from n1studio.grid.cases import case_label
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant
from n1studio.present.drawing import Drawing, DrawState, build_drawing, state_for

log = logging.getLogger(__name__)

BIG_GRID = 1000  # buses


@dataclass
class VariantEntry:
    variant: Variant
    reference: Any = None  # OpfResult of the AC OPF
    reference_error: str = ""
    prompt: str = ""
    raw: str = ""
    answer: dict | None = None
    verdict: dict | None = None
    stats: dict = field(default_factory=dict)
    error: str = ""
    stopped: bool = False  # the last answer was stopped by the user (not an error)
    model_file: str = ""

    @property
    def label(self) -> str:
        return self.variant.label

    @property
    def ready(self) -> bool:
        """Whether the variant's model and islands are computed (seconds on big grids, so
        the window computes them on a worker first)."""
        return "islands" in self.variant.__dict__

    def prepare(self) -> VariantEntry:
        """Compute the model and the islands (call off the GUI thread for big grids)."""
        _ = self.variant.islands
        return self

    @property
    def outages(self) -> tuple[str, ...]:
        return self.variant.outages

    @property
    def perturbation(self) -> Perturbation:
        """The variant's load, cost and name perturbation (identity when none)."""
        return self.variant.perturbation

    def summary(self) -> str:
        """One line for the variants list: islands and verdict."""
        parts = []
        if not self.ready:
            parts.append("preparing…")
        elif self.variant.islands.islanded:
            parts.append(self.variant.islands.describe())
        if self.reference is not None:
            r = self.reference
            parts.append(f"ref {r.objective:,.0f} $/h" if r.success else f"ref {r.status}")
        if self.verdict is not None:
            n = len(self.verdict.get("violations", []))
            parts.append(f"{n} violation(s)" if n else "answer feasible")
        if self.error:
            parts.append("model error")
        elif self.stopped and self.verdict is None:
            parts.append("answer stopped")
        return " · ".join(parts)


class Session:
    """A base grid, its drawing, and the variants built on it (index 0 is the N case)."""

    def __init__(self, net: pp.pandapowerNet, source: str = ""):
        self.net = net
        self.source = source or case_label(net)
        self.name = case_label(net)
        self.drawing: Drawing = build_drawing(net)
        self.entries: list[VariantEntry] = [VariantEntry(Variant(net, ()))]
        self.active = 0

    @property
    def current(self) -> VariantEntry:
        return self.entries[self.active]

    @property
    def base_entry(self) -> VariantEntry:
        return self.entries[0]

    def find(self, outages: tuple[str, ...], perturbation: Perturbation | None = None) -> int:
        """The index of the entry with exactly these outages and perturbation, or -1."""
        key = (tuple(outages), (perturbation or Perturbation()).key())
        for k, e in enumerate(self.entries):
            if e.variant.key == key:
                return k
        return -1

    def new_entry(self, outages, perturbation: Perturbation | None = None) -> VariantEntry:
        """An entry for a variant (validates the element names; raises ElementError)."""
        return VariantEntry(Variant(self.net, tuple(outages), perturbation))

    def insert(self, entry: VariantEntry, at: int | None = None) -> int:
        at = len(self.entries) if at is None else at
        self.entries.insert(at, entry)
        return at

    def remove(self, entry: VariantEntry) -> int:
        k = self.entries.index(entry)
        del self.entries[k]
        if self.active >= len(self.entries):
            self.active = len(self.entries) - 1
        return k

    def draw_state(self, entry: VariantEntry | None = None, with_verdict: bool = True) -> DrawState:
        e = entry or self.current
        viol = e.verdict.get("violations", []) if (with_verdict and e.verdict) else None
        cut = e.variant.islands.cut_buses if (e.ready or not self.big) else ()
        return state_for(self.drawing, self.net, e.outages, cut, viol)

    @property
    def big(self) -> bool:
        """Grids where variant preparation and prompts run on a worker thread."""
        return len(self.net.bus) > BIG_GRID
