"""A model behind an OpenAI-compatible HTTP server (vLLM, llama.cpp's server, Ollama, ...).

`EndpointClient.complete()` has the signature and the return type of
`ModelClient.complete()`, so the pipeline runs either runtime the same way:

- free text: one streamed request to `/v1/completions` with our own prompt, or with
  `chat=True` to `/v1/chat/completions` (the server applies the model's chat template).
  Like the local worker it stops as soon as a top-level JSON object has closed.
- constrained (a `plan` from `llm.scaffold.answer_plan`): the answer is schema-true for
  exactly the variant's elements, in one of two ways (`constrained=`):
  * "grammar" (the default): one request whose GBNF grammar spells the whole answer
    (fixed text as literals, numbers as rules); the model samples every token. The only
    way in chat mode. Measured in bench/bench_endpoint.py (case14, llama.cpp's server,
    2 loaded cores): as fast as the scaffold or faster (110.8 s against 112.6 s cold,
    77.4 s against 86.2 s warm), with one request instead of 39.
  * "scaffold": the fixed JSON pieces are ours; for each number one short request
    continues prompt + answer-so-far under a tiny GBNF grammar (the number and the
    character that follows it), and the server's prefix cache only reads the new tail.
  * "regex": one request with the whole answer as a regular expression in vLLM's
    structured-output fields (`structured_outputs: {"regex": ...}` from vLLM 0.12 on, and
    the older `guided_regex`; a server ignores the field it does not know), written with
    only the portable regex subset (plain groups, escapes of metacharacters only).
  Grammar and scaffold use llama.cpp's `grammar` field. Whatever the mode, every answer that
  comes back is checked against the plan, so a server that ignores the constraint gives one
  clear line, never a bad answer. (No vLLM server runs here: the regex mode is tested for
  what it sends and what it accepts, not against vLLM itself.)

Streaming delivers {"ev": "token", "text"} events; `cancel` closes the stream (the server
stops on the disconnect). Each request has a timeout (no byte for `timeout_s`); 429 and 5xx
answers are retried with exponential backoff (or the server's Retry-After). Every failure
is an `EndpointError` (a ModelError): one line that says what went wrong and where.

The API key comes from an environment variable the user names (`api_key_env`). It is read
when a request is sent, never stored, logged, put in a message or returned.

HTTP is the standard library's http.client: httpx is not in the environment, and owning the
socket lets Stop shut down a stream that is blocked waiting for the first token.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import ssl
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from n1studio.errors import ModelError
from n1studio.llm.client import Completion, EventCallback, ModelClient, TokenCallback
from n1studio.llm.runtime import ModelSettings
from n1studio.llm.scaffold import max_number_tokens

log = logging.getLogger(__name__)

SCAFFOLD, GRAMMAR, REGEX = "scaffold", "grammar", "regex"
CONSTRAIN_MODES = (SCAFFOLD, GRAMMAR, REGEX)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class EndpointError(ModelError):
    """A model server that cannot be reached, refuses, or answers something unusable."""


@dataclass(frozen=True)
class EndpointSettings:
    """How to reach a server: what a study records about the runtime (no secret here)."""

    endpoint: str  # the base URL as shown to users (credentials and query removed)
    model: str
    chat: bool = False
    constrained: str = GRAMMAR
    api_key_env: str | None = None  # the variable's *name*; the key itself is never kept
    timeout_s: float = 120.0
    retries: int = 3


# ---- GBNF for a plan -------------------------------------------------------------------------
def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def number_rule(negative: bool, int_digits: int, frac_digits: int) -> str:
    """GBNF for the numbers `scaffold.NumberState` allows (same sign, digits, no leading 0)."""
    if int_digits <= 1:
        ipart = "[0-9]"
    else:
        ipart = f'("0" | [1-9] [0-9]{{0,{int_digits - 1}}})'
    rule = ('"-"? ' if negative else "") + ipart
    if frac_digits > 0:
        rule += f' ("." [0-9]{{1,{frac_digits}}})?'
    return rule


def plan_grammar(plan: list) -> str:
    """A GBNF grammar that accepts exactly the answers the plan allows."""
    rules: dict[tuple, str] = {}
    parts = []
    for seg in plan:
        if seg[0] == "t":
            parts.append(_literal(seg[1]))
        else:
            key = (bool(seg[1]), int(seg[2]), int(seg[3]))
            if key not in rules:
                rules[key] = f"num{len(rules)}"
            parts.append(rules[key])
    lines = ["root ::= " + " ".join(parts)]
    lines += [f"{name} ::= {number_rule(*key)}" for key, name in rules.items()]
    return "\n".join(lines) + "\n"


def _number_re(negative: bool, int_digits: int, frac_digits: int) -> re.Pattern:
    ipart = "[0-9]" if int_digits <= 1 else f"(?:0|[1-9][0-9]{{0,{int_digits - 1}}})"
    frac = f"(?:\\.[0-9]{{1,{frac_digits}}})?" if frac_digits > 0 else ""
    return re.compile(("-?" if negative else "") + ipart + frac)


def plan_regex(plan: list) -> re.Pattern:
    """The plan as one regular expression: what a schema-true answer must match in full."""
    out = []
    for seg in plan:
        if seg[0] == "t":
            out.append(re.escape(seg[1]))
        else:
            out.append(_number_re(bool(seg[1]), int(seg[2]), int(seg[3])).pattern)
    return re.compile("".join(out), re.DOTALL)


_META = set("\\.^$*+?()[]{}|/")


def _portable_escape(text: str) -> str:
    return "".join("\\" + c if c in _META else ("\\n" if c == "\n" else c) for c in text)


def portable_plan_regex(plan: list) -> str:
    """The plan as a regex in the subset every structured-output engine reads (outlines,
    xgrammar, llguidance): literal text with only metacharacters escaped, numbers as
    `-?` + digit classes with counted repeats and plain groups. Accepts exactly what
    `plan_regex` accepts (tested)."""
    out = []
    for seg in plan:
        if seg[0] == "t":
            out.append(_portable_escape(seg[1]))
            continue
        neg, idig, fdig = bool(seg[1]), int(seg[2]), int(seg[3])
        ipart = "[0-9]" if idig <= 1 else f"(0|[1-9][0-9]{{0,{idig - 1}}})"
        frac = f"(\\.[0-9]{{1,{fdig}}})?" if fdig > 0 else ""
        out.append(("-?" if neg else "") + ipart + frac)
    return "".join(out)


# ---- the URL ---------------------------------------------------------------------------------
def _split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, base path without /v1) of a server URL, or EndpointError."""
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"not a server URL: {_label_url(url)} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(f"not a server URL: {_label_url(url)} (use http://host:port)")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/v1")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def _label_url(url: str) -> str:
    """The URL without user:password@ and without a query string (either may hold a secret)."""
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        p = urlsplit(raw)
    except ValueError:
        return "<unreadable URL>"
    host = p.netloc.rsplit("@", 1)[-1]
    return f"{p.scheme}://{host}{p.path.rstrip('/')}"


class _Cut(EndpointError):
    """A stream that ended without its end marker."""


class _Closed(Exception):
    """The stream was closed on purpose (Stop, or the answer is complete)."""


# ---- the client ------------------------------------------------------------------------------
class EndpointClient:
    """An OpenAI-compatible server and the requests sent to it. One request at a time."""

    def __init__(self, endpoint: str, model: str, *, chat: bool = False,
                 api_key_env: str | None = None, constrained: str = GRAMMAR,
                 timeout_s: float = 120.0, retries: int = 3,
                 settings: ModelSettings | None = None):
        if not model:
            raise EndpointError("a model server needs a model name (--model NAME); "
                                "`curl URL/v1/models` lists them")
        if constrained not in CONSTRAIN_MODES:
            raise EndpointError(f"unknown constrained mode {constrained!r}: use "
                                + " or ".join(repr(m) for m in CONSTRAIN_MODES))
        if timeout_s <= 0:
            raise EndpointError(f"the request timeout must be positive (got {timeout_s})")
        if api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            raise EndpointError(f"{api_key_env!r} is not an environment variable name; "
                                "--api-key-env takes the variable's name, not the key")
        self._scheme, self._host, self._port, self._base = _split_url(endpoint)
        self.config = EndpointSettings(
            endpoint=_label_url(endpoint), model=model, chat=bool(chat),
            constrained=GRAMMAR if chat and constrained == SCAFFOLD else constrained, api_key_env=api_key_env,
            timeout_s=float(timeout_s), retries=max(0, int(retries)))
        self.settings = settings or ModelSettings(n_threads=1)
        self._lock = threading.Lock()
        self._models: list[dict] | None = None
        self._fingerprint: str | None = None
        self._sock: socket.socket | None = None
        self._abort = threading.Event()

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
        entry = self._model_entry()
        return {"runtime": "openai-http", "endpoint": self.config.endpoint,
                "model": self.config.model, "chat": self.config.chat,
                "server_model": entry, "system_fingerprint": self._fingerprint}

    # ---- lifecycle (the same surface as ModelClient) ------------------------------------------
    @property
    def worker_pid(self) -> int | None:
        return None

    def close(self) -> None:
        self.kill()

    def kill(self) -> None:
        """Abort the request in flight, if any (the server stops on the disconnect)."""
        self._abort.set()
        self._shutdown_sock()

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

        Blocks until done; streams token text to `on_token` and {"ev": "token", "text"}
        events to `on_event`. Setting `cancel` closes the stream (the partial text is
        returned, `cancelled=True`). Raises EndpointError (a ModelError) with one line.
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
            self._key()  # a missing key variable is said before anything is sent
            self._model_entry()  # unknown model, refused connection: said before the prompt
            run = _Run(self, s, on_token, on_event, cancel)
            try:
                if plan is None:
                    run.free(prompt, int(max_tokens))
                elif self.config.constrained == SCAFFOLD and not self.config.chat:
                    run.scaffold(prompt, plan)
                elif self.config.constrained == REGEX:
                    run.regex(prompt, plan, int(max_tokens))
                else:
                    run.grammar(prompt, plan, int(max_tokens))
            except _Closed:
                run.cancelled = True
            return run.result()

    # ---- HTTP -------------------------------------------------------------------------------
    def _key(self) -> str | None:
        name = self.config.api_key_env
        if name is None:
            return None
        key = os.environ.get(name, "")
        if not key:
            raise EndpointError(f"the API key variable ${name} is not set (or empty)")
        return key

    def _scrub(self, text: str) -> str:
        """A server's message with the API key blanked out, cut to one short line."""
        key = os.environ.get(self.config.api_key_env or "", "") if self.config.api_key_env \
            else ""
        if key:
            text = text.replace(key, "***")
        text = " ".join(str(text).split())
        return text[:240] + ("..." if len(text) > 240 else "")

    def _where(self) -> str:
        return f"the model server at {self.config.endpoint}"

    def _connect(self) -> http.client.HTTPConnection:
        t = self.config.timeout_s
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=t,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self._host, self._port, timeout=t)

    def _shutdown_sock(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _os_error(self, exc: BaseException) -> EndpointError:
        where = self._where()
        if isinstance(exc, socket.gaierror):
            return EndpointError(f"cannot reach {where}: the host name {self._host!r} does not "
                                 "resolve (DNS lookup failed)")
        if isinstance(exc, ConnectionRefusedError):
            return EndpointError(f"cannot reach {where}: connection refused (is the server "
                                 "running, on that port?)")
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return EndpointError(f"{where} sent nothing for {self.config.timeout_s:g} s "
                                 "(request timed out)")
        if isinstance(exc, ssl.SSLError):
            return EndpointError(f"cannot reach {where}: TLS failed ({self._scrub(str(exc))})")
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return EndpointError(f"cannot reach {where}: {self._scrub(reason)}")

    def _http_error(self, status: int, body: bytes, path: str) -> EndpointError:
        msg = _server_message(body)
        where = self._where()
        low = msg.lower()
        if status in (401, 403):
            name = self.config.api_key_env
            hint = (f"check the key in ${name}" if name else
                    "it wants an API key: name its variable with --api-key-env NAME")
            return EndpointError(f"{where} refused access (HTTP {status}): {hint}")
        if "context" in low and ("exceed" in low or "maximum" in low or "too long" in low
                                 or "length" in low):
            return EndpointError(f"the prompt and answer do not fit {where}'s context: "
                                 f"{self._scrub(msg)}")
        if status == 404 and "model" in low:
            return EndpointError(f"{where} has no model {self.config.model!r} (HTTP 404): "
                                 f"{self._scrub(msg)}")
        if status == 404:
            return EndpointError(f"{where} has no {path} (HTTP 404): is it an OpenAI-compatible "
                                 "server, and is the URL its base (http://host:port)?")
        if status in RETRY_STATUS:
            return EndpointError(f"{where} is busy or failing (HTTP {status}) after "
                                 f"{self.config.retries + 1} tries: {self._scrub(msg)}")
        return EndpointError(f"{where} rejected the request (HTTP {status}): {self._scrub(msg)}")

    def _open(self, method: str, path: str, body: dict | None,
              cancel: threading.Event | None) -> tuple[http.client.HTTPConnection,
                                                         http.client.HTTPResponse]:
        """Send a request, retrying 429/5xx with backoff; returns an open 2xx response."""
        headers = {"Accept": "application/json, text/event-stream"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url_path = self._base + path
        delay = 0.5
        for attempt in range(self.config.retries + 1):
            conn = self._connect()
            try:
                conn.request(method, url_path, body=data, headers=headers)
                self._sock = conn.sock
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError) as exc:
                conn.close()
                if attempt == self.config.retries:
                    raise self._os_error(exc) from None
                log.info("%s dropped the connection; retrying in %.1f s", self._where(), delay)
                if self._wait(delay, cancel):
                    raise _Closed() from None
                delay *= 2
                continue
            except OSError as exc:
                conn.close()
                if self._abort.is_set() or (cancel is not None and cancel.is_set()):
                    raise _Closed() from None
                raise self._os_error(exc) from None
            except http.client.HTTPException as exc:
                conn.close()
                raise EndpointError(f"{self._where()} answered something that is not HTTP: "
                                    f"{type(exc).__name__}") from None
            if 200 <= resp.status < 300:
                return conn, resp
            try:
                payload = resp.read(65536)
            except (OSError, http.client.HTTPException):
                payload = b""
            conn.close()
            if resp.status in RETRY_STATUS and attempt < self.config.retries:
                wait_s = _retry_after(resp.getheader("Retry-After"), delay)
                log.info("%s answered HTTP %s; retrying in %.1f s", self._where(), resp.status,
                         wait_s)
                if self._wait(wait_s, cancel):
                    raise _Closed()
                delay *= 2
                continue
            raise self._http_error(resp.status, payload, path)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, seconds: float, cancel: threading.Event | None) -> bool:
        """Sleep for a retry; True when Stop came meanwhile."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self._abort.is_set() or (cancel is not None and cancel.is_set()):
                return True
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))
        return False

    def _get_json(self, path: str) -> dict:
        conn, resp = self._open("GET", path, None, None)
        try:
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._os_error(exc) if isinstance(exc, OSError) else EndpointError(
                f"{self._where()} cut its answer to GET {path}") from None
        finally:
            conn.close()
        try:
            return json.loads(raw)
        except ValueError:
            raise EndpointError(f"{self._where()} answered GET {path} with something that is "
                                "not JSON") from None

    def models(self) -> list[dict]:
        """The server's model list (`/v1/models` entries)."""
        if self._models is None:
            doc = self._get_json("/v1/models")
            data = doc.get("data") if isinstance(doc, dict) else None
            self._models = [m for m in data if isinstance(m, dict)] if isinstance(data, list) \
                else []
        return self._models

    def _model_entry(self) -> dict | None:
        """The model's entry in the server's list; EndpointError when the server lacks it."""
        try:
            models = self.models()
        except EndpointError as exc:
            if "(HTTP 404)" in str(exc):  # a server without a model list: trust the name
                self._models = []
                return None
            raise
        if not models:
            return None
        for m in models:
            if m.get("id") == self.config.model:
                return m
        names = ", ".join(str(m.get("id")) for m in models[:8])
        raise EndpointError(f"{self._where()} has no model {self.config.model!r}; it serves: "
                            f"{names}")

    def _stream(self, body: dict, run: _Run, on_text) -> str | None:
        """POST a streamed request; `on_text(piece)` per chunk (True closes the stream).

        Returns the finish reason. Raises _Closed when Stop came or on_text asked to close.
        """
        path = "/v1/chat/completions" if self.config.chat else "/v1/completions"
        cancel = run.cancel
        done = threading.Event()

        def watch() -> None:  # Stop must also interrupt a read that waits for the prompt
            while not done.wait(0.05):
                if self._abort.is_set() or (cancel is not None and cancel.is_set()):
                    self._shutdown_sock()
                    return

        watcher = threading.Thread(target=watch, name="n1studio-endpoint-stop", daemon=True)
        watcher.start()
        conn = None
        before = run.n_tokens
        try:
            conn, resp = self._open("POST", path, body, cancel)
            run.requests += 1
            return self._read_events(resp, run, on_text, path)
        except _Cut:
            if run.n_tokens == before:  # cut before the first token: ask why, unstreamed
                self._diagnose(path, body)
            raise
        finally:
            done.set()
            self._sock = None
            if conn is not None:
                conn.close()
            watcher.join()

    def _diagnose(self, path: str, body: dict) -> None:
        """Re-send a request whose stream died before its first token, unstreamed and for one
        token: a server that fails inside the stream (llama.cpp's checks the context there)
        then answers with its error status, which becomes the one line to show."""
        probe = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        probe["max_tokens"] = 1
        conn, _ = self._open("POST", path, probe, None)  # raises the server's error
        conn.close()

    def _read_events(self, resp, run: _Run, on_text, path: str) -> str | None:
        finish = None
        stopping = lambda: self._abort.is_set() or (
            run.cancel is not None and run.cancel.is_set())
        while True:
            try:
                line = resp.readline()
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if stopping():
                    raise _Closed() from None
                if isinstance(exc, (TimeoutError, socket.timeout)):
                    raise self._os_error(exc) from None
                raise _Cut(f"the stream from {self._where()} was cut after "
                                    f"{run.n_tokens} tokens ({type(exc).__name__})") from None
            if not line:
                if stopping():
                    raise _Closed()
                raise _Cut(f"the stream from {self._where()} was cut after "
                                    f"{run.n_tokens} tokens (no end marker)")
            line = line.strip()
            if not line or line.startswith(b":") or not line.startswith(b"data:"):
                continue  # blank separators, comments/pings, event names
            data = line[5:].strip()
            if data == b"[DONE]":
                return finish
            try:
                chunk = json.loads(data)
            except ValueError:
                raise EndpointError(f"{self._where()} sent a malformed stream (not JSON: "
                                    f"{self._scrub(data[:60].decode('utf-8', 'replace'))!r})") \
                    from None
            if not isinstance(chunk, dict):
                raise EndpointError(f"{self._where()} sent a malformed stream (a chunk that "
                                    "is not an object)")
            if "error" in chunk:
                err = chunk["error"]
                msg = err.get("message", "") if isinstance(err, dict) else str(err)
                raise self._http_error(int(err.get("code", 500)) if isinstance(err, dict)
                                       and str(err.get("code", "")).isdigit() else 500,
                                       json.dumps({"error": {"message": msg}}).encode(), path)
            if chunk.get("system_fingerprint"):
                self._fingerprint = str(chunk["system_fingerprint"])
            if isinstance(chunk.get("usage"), dict):
                run.usage = chunk["usage"]
            choices = chunk.get("choices")
            if not isinstance(choices, list):
                raise EndpointError(f"{self._where()} sent a malformed stream (a chunk without "
                                    "choices)")
            if not choices:
                continue  # e.g. the usage-only chunk
            ch = choices[0]
            if self.config.chat:
                text = (ch.get("delta") or {}).get("content") or ""
            else:
                text = ch.get("text") or ""
            if ch.get("finish_reason"):
                finish = ch["finish_reason"]
            if text:
                run.n_tokens += 1
                if on_text(text) or stopping():
                    raise _Closed()


def _server_message(body: bytes) -> str:
    """The human part of an error body ({"error": {"message"}}, {"detail"}, or the text)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return text or "no details"
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        if doc.get("detail"):
            return str(doc["detail"])
        if doc.get("message"):
            return str(doc["message"])
    return text


def _retry_after(header: str | None, default: float) -> float:
    try:
        return min(30.0, max(0.0, float(header))) if header else default
    except ValueError:
        return default


class _Run:
    """One `complete()` call: the text so far, the counters and the events."""

    def __init__(self, client: EndpointClient, s: ModelSettings, on_token, on_event, cancel):
        self.c, self.s = client, s
        self.on_token, self.on_event, self.cancel = on_token, on_event, cancel
        self.out: list[str] = []
        self.pending = ""  # fixed text not yet shown (shown with the model's next token)
        self.n_tokens = 0
        self.requests = 0
        self.usage: dict | None = None
        self.cancelled = False
        self.t0 = time.perf_counter()
        self.ttft: float | None = None

    def body(self, prompt: str, max_tokens: int, grammar: str | None = None,
             regex: str | None = None) -> dict:
        s = self.s
        b: dict = {"model": self.c.config.model, "max_tokens": int(max_tokens),
                   "temperature": float(s.temperature), "top_p": float(s.top_p),
                   "top_k": int(s.top_k), "seed": int(s.seed), "stream": True,
                   "stream_options": {"include_usage": True},
                   "repeat_penalty": 1.0}  # llama.cpp's server defaults to 1.1; we sample plainly
        if self.c.config.chat:
            b["messages"] = [{"role": "user", "content": prompt}]
        else:
            b["prompt"] = prompt
        if grammar is not None:
            b["grammar"] = grammar
        if regex is not None:  # vLLM: the current field and the one before 0.12
            b["structured_outputs"] = {"regex": regex}
            b["guided_regex"] = regex
        return b

    def emit(self, text: str) -> None:
        if self.ttft is None:
            self.ttft = time.perf_counter() - self.t0
        text, self.pending = self.pending + text, ""
        self.out.append(text)
        if self.on_event is not None:
            self.on_event({"ev": "token", "text": text})
        if self.on_token is not None:
            self.on_token(text)

    def _check_finish(self, finish: str | None, what: str) -> None:
        if finish == "length":
            raise EndpointError(f"{self.c._where()} stopped {what} at its token limit "
                                "(max_tokens or the server's context)")

    # ---- the three ways -------------------------------------------------------------------
    def free(self, prompt: str, max_tokens: int) -> None:
        track = _JsonEnd()

        def on_text(t: str) -> bool:
            self.emit(t)
            return track.feed(t)

        try:
            self.c._stream(self.body(prompt, max_tokens), self, on_text)
        except _Closed:
            if not track.closed:
                raise

    def grammar(self, prompt: str, plan: list, max_tokens: int) -> None:
        # the fixed text is sampled too: at most a token per character
        budget = sum(len(s[1]) for s in plan if s[0] == "t") + max_number_tokens(plan) + 8
        finish = self.c._stream(self.body(prompt, budget, plan_grammar(plan)), self,
                                lambda t: self.emit(t))
        raw = "".join(self.out)
        if not plan_regex(plan).fullmatch(raw):
            self._check_finish(finish, "the answer")
            raise EndpointError(f"{self.c._where()} ignored the answer grammar (the text does "
                                "not follow the variant's answer plan); it needs llama.cpp's "
                                "`grammar` field")

    def regex(self, prompt: str, plan: list, max_tokens: int) -> None:
        """One request constrained by the plan as a regex (vLLM's structured outputs)."""
        budget = sum(len(s[1]) for s in plan if s[0] == "t") + max_number_tokens(plan) + 8
        finish = self.c._stream(self.body(prompt, budget, regex=portable_plan_regex(plan)),
                                self, lambda t: self.emit(t))
        if not plan_regex(plan).fullmatch("".join(self.out)):
            self._check_finish(finish, "the answer")
            raise EndpointError(f"{self.c._where()} ignored the answer regex (the text does "
                                "not follow the variant's answer plan); the regex mode needs "
                                "vLLM's structured outputs")

    def scaffold(self, prompt: str, plan: list) -> None:
        done = ""  # the answer so far, fixed pieces included
        for i, seg in enumerate(plan):
            if seg[0] == "t":
                done += seg[1]
                self.pending += seg[1]
                continue
            nxt = next((s[1][:1] for s in plan[i + 1:] if s[0] == "t"), "")
            neg, idig, fdig = bool(seg[1]), int(seg[2]), int(seg[3])
            grammar = f"root ::= {number_rule(neg, idig, fdig)}" + (
                f" {_literal(nxt)}" if nxt else "") + "\n"
            got: list[str] = []

            def on_text(t: str, got=got, nxt=nxt) -> bool:
                got.append(t)
                shown = t.replace(nxt, "") if nxt else t
                if shown:
                    self.emit(shown)
                return False  # the grammar ends the stream right after the end character

            finish = self.c._stream(self.body(prompt + done, idig + fdig + 4, grammar), self,
                                    on_text)
            text = "".join(got)
            num = text.split(nxt, 1)[0] if nxt else text
            if not _number_re(neg, idig, fdig).fullmatch(num):
                self._check_finish(finish, "a number")
                raise EndpointError(f"{self.c._where()} ignored the number grammar (wrote "
                                    f"{self.c._scrub(text[:20])!r}); it needs llama.cpp's "
                                    "`grammar` field, or use chat mode")
            done += num
        if self.pending:
            self.emit("")

    def result(self) -> Completion:
        wall = time.perf_counter() - self.t0
        ttft = self.ttft if self.ttft is not None else wall
        gen_s = wall - ttft
        usage = self.usage or {}
        stats = {
            "prompt_tokens": usage.get("prompt_tokens"),
            "cached_tokens": (usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
            "completion_tokens": self.n_tokens, "sampled_tokens": self.n_tokens,
            "ttft_s": round(ttft, 4),
            "tokens_per_s": round((self.n_tokens - 1) / gen_s, 2)
            if self.n_tokens > 1 and gen_s > 0 else None,
            "wall_s": round(wall, 4), "prompt_s": round(ttft, 4),
            "requests": self.requests, "cancelled": self.cancelled,
            "runtime": "openai-http", "constrained": self.c.config.constrained,
        }
        return Completion(raw="".join(self.out), stats=stats, cancelled=self.cancelled)


class _JsonEnd:
    """Whether streamed text has closed its first top-level JSON object (as the worker does)."""

    def __init__(self) -> None:
        self.depth, self.in_str, self.esc, self.opened, self.closed = 0, False, False, False, False

    def feed(self, text: str) -> bool:
        for ch in text:
            if self.in_str:
                self.esc = (not self.esc) and ch == "\\"
                if ch == '"' and not self.esc:
                    self.in_str = False
            elif ch == '"':
                self.in_str = self.opened
            elif ch == "{":
                self.depth += 1
                self.opened = True
            elif ch == "}" and self.depth > 0:
                self.depth -= 1
        self.closed = self.opened and self.depth == 0
        return self.closed


def make_client(args, settings: ModelSettings | None = None) -> ModelClient | EndpointClient:
    """The runtime a command line asks for: a server with --endpoint, else the local worker.

    `args` needs `endpoint`, `model`, `chat`, `api_key_env` (absent ones mean the defaults);
    with --endpoint, --model is the server's model name, not a GGUF file.
    """
    endpoint = getattr(args, "endpoint", None)
    if not endpoint:
        return ModelClient(settings)
    return EndpointClient(endpoint, getattr(args, "model", None) or "",
                          chat=bool(getattr(args, "chat", False)),
                          api_key_env=getattr(args, "api_key_env", None),
                          constrained=getattr(args, "constrained", None) or GRAMMAR,
                          timeout_s=float(getattr(args, "timeout", None) or 120.0),
                          settings=settings)
