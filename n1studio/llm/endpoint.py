"""A model behind an OpenAI-compatible HTTP server (vLLM, llama.cpp's server, Ollama, ...).

`EndpointClient.complete()` has the signature and the return type of
`ModelClient.complete()`, so the pipeline runs either runtime the same way:

- free text: one streamed request to `/v1/completions` with our own prompt, or with
  `chat=True` to `/v1/chat/completions` (the server applies the model's chat template).
  Like the local worker it stops as soon as a top-level JSON object has closed
  (`llm.jsonscan`).
- constrained (a `plan` from `llm.scaffold.answer_plan`, turned into a server's
  constraint by `llm.constrain`): the answer is schema-true for exactly the variant's
  elements, in one of three ways (`constrained=`):
  * "grammar" (the default): one request whose GBNF grammar spells the whole answer; the
    model samples every token. The only way in chat mode. bench/bench_endpoint.py
    measures it against the scaffold (one request instead of one per number).
  * "scaffold": the fixed JSON pieces are ours; for each number one short request
    continues prompt + answer-so-far under a tiny GBNF grammar (the number and the
    character that follows it), and the server's prefix cache only reads the new tail.
  * "regex": one request with the whole answer as a regular expression in vLLM's
    `structured_outputs: {"regex": ...}` (vLLM binds only that field since 0.12; the older
    `guided_regex` is sent too, for servers before it).
  Grammar and scaffold use llama.cpp's `grammar` field. Whatever the mode, every answer that
  comes back is checked against the plan, so a server that ignores the constraint gives one
  clear line, never a bad answer.

Every call runs under a deadline, an idle timeout per read, a retry budget and caps on
tokens and bytes (`llm.endpoint_http`); Stop (`cancel`, `kill()`) ends it wherever it
waits. Every failure is an `EndpointError` (a ModelError): one line, credentials masked.
A reply that breaks the protocol (choices that are not objects, a text that is not a
string) is such an error; the text returned is always storable Unicode.

The API key comes from an environment variable the user names (`api_key_env`): read when a
request is sent, stripped of surrounding white space, refused in one line when it holds a
space or control character, never stored, logged, put in a message or returned.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import asdict, dataclass

from n1studio.errors import mask_secrets
from n1studio.grid.answer_text import MAX_ANSWER_BYTES
from n1studio.llm.client import Completion, EventCallback, TokenCallback
from n1studio.llm.constrain import (
    GRAMMAR,
    REGEX,
    SCAFFOLD,
    plan_grammar,
    plan_regex,
    plan_token_budget,
    portable_plan_regex,
)
from n1studio.llm.endpoint_http import Call, Closed, EndpointError, Limits, run_call, split_url
from n1studio.llm.endpoint_io import Transport
from n1studio.llm.endpoint_limits import (
    BYTES_PER_TOKEN,
    DEFAULT_IDLE_S,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
)
from n1studio.llm.endpoint_run import Run
from n1studio.llm.runtime import ModelSettings

log = logging.getLogger(__name__)

__all__ = ["CONSTRAIN_MODES", "GRAMMAR", "REGEX", "SCAFFOLD", "EndpointClient", "EndpointError",
           "EndpointSettings", "Run", "plan_grammar", "plan_regex", "portable_plan_regex"]

CONSTRAIN_MODES = (SCAFFOLD, GRAMMAR, REGEX)
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class EndpointSettings:
    """How to reach a server: what a study records about the runtime (no secret here)."""

    endpoint: str  # the base URL as shown to users (credentials removed, secret values ***)
    model: str
    chat: bool = False
    constrained: str = GRAMMAR
    api_key_env: str | None = None  # the variable's *name*; the key itself is never kept
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    idle_timeout_s: float = DEFAULT_IDLE_S


class EndpointClient:
    """An OpenAI-compatible server and the requests sent to it. One request at a time."""

    def __init__(self, endpoint: str, model: str, *, chat: bool = False,
                 api_key_env: str | None = None, constrained: str = GRAMMAR,
                 timeout_s: float = DEFAULT_TIMEOUT_S, retries: int = DEFAULT_RETRIES,
                 idle_timeout_s: float | None = None, settings: ModelSettings | None = None):
        """`timeout_s`: the deadline of one whole `complete()`; `idle_timeout_s`: how long
        one read may wait for a byte (default: the deadline alone; the command line's
        --idle-timeout defaults to DEFAULT_IDLE_S); `retries`: for the whole call."""
        if not model:
            raise EndpointError("a model server needs a model name (--model NAME); "
                                "`curl URL/v1/models` lists them")
        if constrained not in CONSTRAIN_MODES:
            raise EndpointError(f"unknown constrained mode {constrained!r}: use "
                                + " or ".join(repr(m) for m in CONSTRAIN_MODES))
        idle = timeout_s if idle_timeout_s is None else idle_timeout_s
        for what, v in (("request timeout", timeout_s), ("idle timeout", idle)):
            if not (isinstance(v, (int, float)) and 0 < v < float("inf")):
                raise EndpointError(f"the {what} must be a positive number of seconds (got {v})")
        idle = min(idle, timeout_s)  # no read waits past the deadline
        if api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            raise EndpointError("the --api-key-env value is not an environment variable name; "
                                "it takes the variable's name, not the key (not shown)")
        self._url = split_url(endpoint)
        self.config = EndpointSettings(
            endpoint=self._url.label, model=model, chat=bool(chat),
            constrained=GRAMMAR if chat and constrained == SCAFFOLD else constrained,
            api_key_env=api_key_env, timeout_s=float(timeout_s), retries=max(0, int(retries)),
            idle_timeout_s=float(idle))
        self.settings = settings or ModelSettings(n_threads=1)
        self._lock = threading.Lock()
        self._models: list[dict] | None = None
        self._fingerprint: str | None = None
        self._abort = threading.Event()
        self._io = Transport(self)

    # ---- what a study records ---------------------------------------------------------------
    @property
    def label(self) -> str:
        """A short name for reports: "model @ endpoint"."""
        return f"{self.config.model} @ {self.config.endpoint}"

    def settings_dict(self) -> dict:
        """The runtime's settings as recorded by a study (the key's variable name, no key)."""
        doc = asdict(self.config)
        s = self.settings
        doc.update(runtime="openai-http", temperature=s.temperature, seed=s.seed,
                   top_k=s.top_k, top_p=s.top_p, max_tokens=s.max_tokens, mode=s.mode)
        return doc

    def identity(self) -> dict:
        """What answered: endpoint, model name, the server's model-list entry, fingerprint."""
        if self._models is None:
            call = self._call(max_bytes=MAX_ANSWER_BYTES)
            run_call(lambda: self._io.model_entry(call), call, self.where())
        entry = self._entry()
        fp = self._fingerprint
        return {"runtime": "openai-http", "endpoint": self.config.endpoint,
                "model": self.config.model, "chat": self.config.chat,
                "server_model": self._io.scrub_obj(entry),
                "system_fingerprint": self.scrub(fp) if fp else None}

    # ---- lifecycle (the same surface as ModelClient) ------------------------------------------
    @property
    def worker_pid(self) -> int | None:
        return None

    def close(self) -> None:
        self.kill()

    def kill(self) -> None:
        """Abort the request in flight, if any (the server stops on the disconnect)."""
        self._abort.set()

    def __enter__(self):  # returns self
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- requests -----------------------------------------------------------------------------
    def complete(self, prompt: str, plan: list | None = None, max_tokens: int | None = None,
                 settings: ModelSettings | None = None, on_token: TokenCallback | None = None,
                 on_event: EventCallback | None = None,
                 cancel: threading.Event | None = None) -> Completion:
        """Run one completion on the server: `plan` (constrained) or free text.

        Blocks until done, Stop, or the deadline; streams token text to `on_token` and
        {"ev": "token", "text"} events to `on_event`. Setting `cancel` closes the stream
        (the partial text is returned, `cancelled=True`). Raises EndpointError (a
        ModelError) with one line.
        """
        s = settings or self.settings
        if max_tokens is None:
            max_tokens = s.max_tokens
        if int(max_tokens) < 1:
            raise EndpointError(f"max tokens must be at least 1 (got {max_tokens})")
        if not (0.0 <= s.temperature <= 5.0):
            raise EndpointError(f"temperature must be between 0 and 5 (got {s.temperature})")
        with self._lock:
            self._abort.clear()
            self.key()  # a missing or malformed key is said before anything is sent
            run = Run(self, s, on_token, on_event, cancel)
            asked = int(max_tokens) if plan is None else plan_token_budget(plan)
            call = self._call(max_bytes=MAX_ANSWER_BYTES + BYTES_PER_TOKEN * asked, cancel=cancel)
            run.call = call
            try:
                run_call(lambda: run.go(prompt, plan, int(max_tokens)), call, self.where())
            except Closed:
                run.cancelled = True
            return run.result()

    def _call(self, max_bytes: int, cancel: threading.Event | None = None) -> Call:
        c = self.config
        return Call(Limits(c.timeout_s, c.idle_timeout_s, c.retries, max_bytes),
                    lambda: self._abort.is_set() or (cancel is not None and cancel.is_set()))

    # ---- the key and what is shown ------------------------------------------------------------
    def key(self) -> str | None:
        """The API key from its variable, stripped and checked; EndpointError if unusable."""
        name = self.config.api_key_env
        if name is None:
            return None
        key = os.environ.get(name, "").strip()
        if not key:
            raise EndpointError(f"the API key variable ${name} is not set (or empty)")
        if not _KEY_CHARS.fullmatch(key):
            bad = next(i for i, ch in enumerate(key) if not _KEY_CHARS.fullmatch(ch))
            raise EndpointError(f"the API key in ${name} holds a space or control character "
                                f"(at position {bad + 1}); an HTTP header cannot carry it")
        return key

    def secrets(self) -> list[str]:
        """The values to mask in anything shown: the key and the URL's credentials."""
        out = list(self._url.secrets)
        name = self.config.api_key_env
        if name:
            raw = os.environ.get(name, "")
            out += [raw, raw.strip()]
        return [s for s in out if s]

    def scrub(self, text: str) -> str:
        """A server's message with credentials masked, cut to one short line."""
        text = " ".join(mask_secrets(str(text), self.secrets()).split())
        return text[:240] + ("..." if len(text) > 240 else "")

    def where(self) -> str:
        return f"the model server at {self.config.endpoint}"

    def models(self) -> list[dict]:
        """The server's model list (`/v1/models` entries)."""
        if self._models is None:
            call = self._call(max_bytes=MAX_ANSWER_BYTES)
            run_call(lambda: self._io.models(call), call, self.where())
        return self._models or []

    def _entry(self) -> dict | None:
        for m in self._models or []:
            if m.get("id") == self.config.model:
                return m
        return None
