"""The main window's model control (a mixin of `MainWindow`): the prompt shown for the active
variant, Ask and Stop, and what the question's job reports (prompt, tokens, the reference,
the answer and its verdict; a failure; a stop).

Ask runs `n1studio.pipeline.ask` (variant + model -> reference, answer, verdict) in a `Job`
on the shared model client, whose worker process keeps llama.cpp's prefix cache across
variants. A stopped answer is "stopped", not an error: its partial text is kept.
"""

from __future__ import annotations

import logging

from n1studio import pipeline
from n1studio.app.panels.model import parse_server
from n1studio.app.runtime.workers import Job
from n1studio.commands.clients import endpoint_client
from n1studio.controls import is_control
from n1studio.errors import ModelError
from n1studio.jobs import JobState, Partial, Progress
from n1studio.llm.ask import close_shared_client, shared_client
from n1studio.llm.likelihood import likelihood
from n1studio.llm.prompt import Prompt, render_prompt
from n1studio.llm.runtime import ModelSettings
from n1studio.present.session import Session, VariantEntry
from n1studio.present.texts import ANSWERING, BEFORE_ANSWER, STOPPED

log = logging.getLogger(__name__)


def prompt_text(variant) -> str:
    """Job: the prompt the model is sent for `variant` (seconds on big grids)."""
    return render_prompt(variant).text


def ask_job(variant, values: dict, edited_prompt: str | None = None,
            state: JobState | None = None):
    """Job: ask the model (settings from the model panel's `values`) about `variant`, with
    the user's edited prompt text when there is one; returns `pipeline.Asked`."""
    prompt = render_prompt(variant)
    if edited_prompt and edited_prompt != prompt.text:
        # the elements an answer must cover stay the variant's; no shared prefix is claimed
        prompt = Prompt(text=edited_prompt, shared_chars=0, generators=prompt.generators,
                        buses=prompt.buses)

    server = parse_server(values.get("model_path") or "")
    if server is None:  # the local worker (its prefix cache is shared), or a control
        s = ModelSettings.from_values(values)
        asked = pipeline.ask(variant, s, client=shared_client(), prompt=prompt, state=state)
        if values.get("likelihood") and asked.verdict is not None:
            add_likelihood(variant, prompt, asked, s, state)
        return asked

    settings = ModelSettings.from_values({**values, "model_path": None})
    client = endpoint_client(server, settings)  # the one place a server client is built
    try:
        return pipeline.ask(variant, settings, client=client, prompt=prompt, state=state)
    finally:
        client.close()


def add_likelihood(variant, prompt, asked, settings, state: JobState | None) -> None:
    """The likelihood probe of an answered variant (the model panel's "Likelihood probe"),
    put in its verdict for the verdict panel: `verdict["likelihood"]` = {ll_n, ll_own,
    delta_ll, ...}. A control has none; a failure is logged, never the answer's."""
    refs = asked.references
    if is_control(settings.model_path) or refs is None:
        return
    n_answer = refs.own_answer if variant.is_base else refs.n_answer
    if n_answer is None or refs.own_answer is None:
        return
    if state is not None:
        state.status("the likelihood of the N and the variant's answers…", stage="model")
    try:
        lk = likelihood(variant, prompt, n_answer, refs.own_answer, settings,
                        client=shared_client(), cancel=state.cancel if state else None)
    except ModelError as exc:
        log.info("no likelihood for %s: %s", variant.label, exc)
        return
    doc = lk.to_dict(with_prompt=False)
    asked.verdict["likelihood"] = {k: doc[k] for k in ("ll_n", "ll_own", "delta_ll",
                                                       "n_tokens_n", "n_tokens_own")}


class ModelMixin:
    """Prompt, Ask, Stop and the model job's events."""

    def answering(self, entry: VariantEntry) -> bool:
        """Whether the model is answering about `entry` right now. A job that has its
        outcome (answered, failed, stopped) is not answering, although the slot releases it
        only after the handlers of that outcome have run (they redraw the banner)."""
        job = self.answer_slot.job
        return job is not None and job.entry is entry and job.outcome is None

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
        self.model_panel.set_prompt("(building the prompt…)")
        job = Job(prompt_text, e.variant, name="prompt", callbacks=False)
        # the slot drops what a previous prompt job would still say: no "is it mine?" here
        job.succeeded.connect(self.model_panel.set_prompt)
        job.failed.connect(lambda msg: self.model_panel.set_prompt(
            f"(the prompt could not be built: {msg})"))
        self.prompt_slot.start(job)

    def ask(self) -> None:
        """Ask the model about the active variant; the pipeline solves the references it
        needs (waiting for a reference job already running for the variant)."""
        s = self.session
        if s is None or self.answer_slot.busy:
            return
        e = s.current
        # the model's answer streams in and shows (answers checked by hand stay beside it)
        s.update(e, error="", raw="", verdict=None, answer=None, stopped=False, live_tokens=0,
                 showing="")
        mp = self.model_panel
        prompt = mp.prompt.toPlainText() if mp.prompt_edited else None
        job = Job(ask_job, e.variant, mp.values(), prompt, name="model")
        job.entry = e
        job.partial.connect(lambda p, e=e: self._model_partial(s, e, p))
        job.progress.connect(lambda p, e=e: self._model_progress(e, p))
        job.succeeded.connect(lambda asked, e=e: self._model_done(s, e, asked))
        job.failed.connect(lambda msg, e=e: self._model_failed(s, e, msg))
        job.stopped.connect(lambda asked, e=e: self._model_stopped(s, e, asked))
        mp.answer.clear()
        mp.set_running(True)
        self.act_ask.setEnabled(False)
        self.act_stop.setEnabled(True)
        self.progress.show()
        self.verdict.clear(ANSWERING)
        self.statusBar().showMessage(f"Asking the model about {e.label}…")
        self.answer_slot.start(job)

    def stop(self) -> None:
        """Stop the model (cooperatively: between two tokens)."""
        if self.answer_slot.busy:
            self.answer_slot.stop()
            self.statusBar().showMessage("Stopping the model…", 4000)

    def shutdown_model(self) -> None:
        """Stop the model worker process (the window is closing)."""
        close_shared_client()

    def _is_current(self, entry: VariantEntry) -> bool:
        return self.session is not None and entry is self.session.current

    def _model_partial(self, session: Session, entry: VariantEntry, p: Partial) -> None:
        mp = self.model_panel
        current = self._is_current(entry)
        if p.kind == "token":
            text = str(p.value or "")
            entry.raw += text  # streamed: the panel shows it token by token (no event)
            entry.live_tokens += 1
            if current:
                mp.append_token(text)
                # a live count while the answer streams (the final statistics replace it)
                if mp.stats.text().startswith(BEFORE_ANSWER + ("the model is answering",)):
                    mp.set_stats(f"the model is answering… {entry.live_tokens} tokens")
        elif p.kind == "prompt":
            entry.prompt = str(p.value or "")
        elif p.kind == "loaded" and current:
            mp.set_stats("model loaded")
        elif p.kind == "reference":
            ref = p.value
            if (entry.reference is None and ref is not None
                    and getattr(ref, "status", "") != "cancelled"):
                session.update(entry, reference=ref)
                self.referenceReady.emit(entry)

    def _model_progress(self, entry: VariantEntry, p: Progress) -> None:
        if not self._is_current(entry):
            return
        if p.stage == "prompt" and p.total:
            self.model_panel.set_stats(f"reading the prompt: {p.done}/{p.total} tokens")
        elif p.text:
            self.model_panel.set_stats(p.text)

    def _model_done(self, session: Session, entry: VariantEntry, asked) -> None:
        self._model_finished()
        results = {"answer": asked.answer, "raw": asked.raw,
                   "prompt": asked.prompt or entry.prompt, "verdict": asked.verdict,
                   "stats": asked.stats or {},
                   "model_file": str(asked.settings.get("model_path") or asked.model or ""),
                   "showing": ""}  # the model's new answer shows (checked ones stay)
        refs = asked.references
        if refs is not None:
            if entry.reference is None and refs.own is not None:
                results["reference"] = refs.own
            base = session.base_entry
            if base is not entry and base.reference is None and refs.n is not None:
                session.update(base, reference=refs.n)
        n = len((asked.verdict or {}).get("violations") or [])
        self.statusBar().showMessage(f"{entry.label}: the answer has {n} violation(s)"
                                     if n else f"{entry.label}: the answer is feasible", 10000)
        session.update(entry, **results)
        self.answerReady.emit(entry)

    def _model_stopped(self, session: Session, entry: VariantEntry, asked) -> None:
        """Stopped by the user: not an error; the partial text stays in the Answer tab."""
        self._model_finished()
        raw = asked.raw if asked is not None and getattr(asked, "raw", None) else entry.raw
        self.statusBar().showMessage(f"{entry.label}: {STOPPED}", 10000)
        session.update(entry, raw=raw, stopped=True, showing="")
        self.answerReady.emit(entry)

    def _model_failed(self, session: Session, entry: VariantEntry, msg: str) -> None:
        self._model_finished()
        self.statusBar().showMessage(f"Model error: {msg}", 15000)
        session.update(entry, error=msg, showing="")
        self.answerReady.emit(entry)

    def _model_finished(self) -> None:
        self.model_panel.set_running(False)
        self.act_ask.setEnabled(True)
        self.act_stop.setEnabled(False)
