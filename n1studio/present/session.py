"""What the window holds: one base grid and its variants, each with its results.

Plain Python (no Qt) so that it can be reasoned about and tested on its own, and observable:
`Session.events` says when an entry is added, removed or changed and when the active one
changes (psygnal), so the window's views redraw what changed and nobody redraws everything
by hand. The window wraps edits in QUndoCommands (`app/window/undo.py`). A `VariantEntry`
keeps everything a user produced for one variant (reference, prompt, raw answer, parsed
answer, verdict, stats, error) so undoing and redoing a variant never loses work. Answers
checked by hand (Model → Check an answer…) live beside the model's as `CheckedAnswer`s,
each under its own source ("pasted answer", "file NAME"), never replacing the model's;
`VariantEntry.showing` says which one the views show (`VariantEntry.shown`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandapower as pp
from psygnal import Signal, SignalGroup

from n1studio.grid.cases import case_label
from n1studio.grid.perturb import Perturbation
from n1studio.grid.variant import Variant
from n1studio.present.drawing import Drawing, DrawState, build_drawing, state_for

log = logging.getLogger(__name__)

BIG_GRID = 1000  # buses

# what `Session.update` may set: the results of a variant, never its identity
_RESULT_FIELDS = frozenset({"reference", "reference_error", "prompt", "raw", "answer",
                            "verdict", "stats", "error", "stopped", "model_file",
                            "live_tokens", "checked", "showing"})

MODEL_ANSWER = "model answer"  # what the views call the model's own answer
CHECKED_PREFIX = "checked: "  # the model_file of a checked answer


@dataclass(eq=False)
class CheckedAnswer:
    """An answer checked by hand, kept under its source, beside the model's answer."""

    source: str  # "pasted answer", "file NAME"
    raw: str
    answer: dict | None
    verdict: dict | None
    stats: dict = field(default_factory=dict)

    @property
    def model_file(self) -> str:
        return CHECKED_PREFIX + self.source


@dataclass(eq=False)  # an entry is itself: two with the same results are still two
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
    live_tokens: int = 0  # tokens streamed so far by the answer being written
    # answers checked by hand, by source, beside the model's (raw/answer/verdict above)
    checked: dict[str, CheckedAnswer] = field(default_factory=dict)
    showing: str = ""  # "" the model's answer, else the source of a checked answer

    @property
    def shown(self) -> VariantEntry | CheckedAnswer:
        """What the views show: the checked answer `showing` names, else the entry itself
        (the model's answer). Both have raw, answer, verdict, stats and model_file."""
        return self.checked.get(self.showing, self) if self.showing else self

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
        shown = self.shown
        if shown.verdict is not None:
            n = len(shown.verdict.get("violations", []))
            parts.append(f"{n} violation(s)" if n else "answer feasible")
        if shown is not self:
            parts.append(f"showing the {self.showing}")
        if self.error:
            parts.append("model error")
        elif self.stopped and self.verdict is None:
            parts.append("answer stopped")
        return " · ".join(parts)


class SessionEvents(SignalGroup):
    """What a `Session` says when it changes (psygnal: no Qt, so the model is tested alone).

    Views connect to these and redraw what changed; nobody redraws "everything" by hand.
    """

    entry_added = Signal(int, object)  # index, VariantEntry
    entry_removed = Signal(int, object)  # index it had, VariantEntry
    entry_changed = Signal(object)  # VariantEntry: its results (reference, answer...) changed
    active_changed = Signal(object)  # the VariantEntry now active


class Session:
    """A base grid, its drawing, and the variants built on it (index 0 is the N case).

    Observable: `events` (SessionEvents) reports entries added, removed and changed and the
    active entry changing. Change an entry's results through `update` so that it is said.
    """

    def __init__(self, net: pp.pandapowerNet, source: str = ""):
        self.net = net
        self.source = source or case_label(net)
        self.name = case_label(net)
        self.drawing: Drawing = build_drawing(net)
        self.entries: list[VariantEntry] = [VariantEntry(Variant(net, ()))]
        self._active = 0
        self.events = SessionEvents()

    @property
    def active(self) -> int:
        return self._active

    @active.setter
    def active(self, k: int) -> None:
        if not 0 <= k < len(self.entries):
            raise IndexError(f"no variant {k} (the session has {len(self.entries)})")
        before = self.current
        self._active = k
        if self.current is not before:
            self.events.active_changed.emit(self.current)

    @property
    def current(self) -> VariantEntry:
        return self.entries[self._active]

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
        """Add `entry` (at the end by default); the active entry stays the same."""
        current = self.current
        at = len(self.entries) if at is None else at
        self.entries.insert(at, entry)
        self._active = self.entries.index(current)
        self.events.entry_added.emit(at, entry)
        return at

    def remove(self, entry: VariantEntry, activate: int | None = None) -> int:
        """Take `entry` out (never the N case); the active entry stays unless it was the one
        removed, then `activate` (or the last entry) becomes active."""
        k = self.entries.index(entry)
        if k == 0:
            raise ValueError("the N case stays in the session")
        before = self.current
        del self.entries[k]
        if before is entry:
            self._active = min(len(self.entries) - 1 if activate is None else activate,
                               len(self.entries) - 1)
        else:
            self._active = self.entries.index(before)
        self.events.entry_removed.emit(k, entry)
        if self.current is not before:
            self.events.active_changed.emit(self.current)
        return k

    def update(self, entry: VariantEntry, **results: Any) -> None:
        """Set results of `entry` (reference=..., verdict=..., raw=...) and say it changed.
        With no fields: it changed some other way (prepared, a sweep finding for it)."""
        for name, value in results.items():
            if name not in _RESULT_FIELDS:
                raise AttributeError(f"a variant entry has no result {name!r}")
            setattr(entry, name, value)
        if any(e is entry for e in self.entries):
            self.events.entry_changed.emit(entry)

    def add_checked(self, entry: VariantEntry, checked: CheckedAnswer) -> None:
        """Keep a hand-checked answer beside the model's (replacing an earlier one from the
        same source) and show it."""
        self.update(entry, checked={**entry.checked, checked.source: checked},
                    showing=checked.source)

    def show_answer(self, entry: VariantEntry, source: str) -> None:
        """Show the model's answer (source "" or MODEL_ANSWER) or a checked one."""
        source = "" if source == MODEL_ANSWER else source
        if source and source not in entry.checked:
            raise KeyError(f"{entry.label} has no checked answer from {source!r}")
        if source != entry.showing:
            self.update(entry, showing=source)

    def draw_state(self, entry: VariantEntry | None = None, with_verdict: bool = True) -> DrawState:
        e = entry or self.current
        verdict = e.shown.verdict
        viol = verdict.get("violations", []) if (with_verdict and verdict) else None
        known = e.ready or not self.big  # big grids: topology computed on a worker first
        cut = e.variant.islands.cut_buses if known else ()
        # the outages and the units tripped with them (grid/topology.py)
        outs = e.variant.out_of_service if known else e.outages
        return state_for(self.drawing, self.net, outs, cut, viol)

    @property
    def big(self) -> bool:
        """Grids where variant preparation and prompts run on a worker thread."""
        return len(self.net.bus) > BIG_GRID
