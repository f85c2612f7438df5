"""HTTP for the server client: httpx (async) under a deadline, a retry budget and caps.

One `complete()` is one `Call`: everything it sends (the model list, one request or the
scaffold's many, their retries) runs in a private event loop under

- a deadline for the whole call (`--timeout`), Retry-After waits included;
- an idle timeout per read (`--idle-timeout`): no byte for that long, time queued on the
  server included;
- a retry budget for the whole call (429 and 5xx, dropped connections): a server that
  answers Retry-After over and over ends after `retries` more tries, and a Retry-After
  past the deadline ends it at once;
- a cap on the bytes read (`max_bytes`), comments and pings included.

A watcher task checks Stop, the deadline and the byte count every POLL_S and cancels the
request wherever it waits, the first read before any header included: asyncio cancels a
pending read, and leaving `httpx.AsyncClient.stream()` closes the connection (a server
stops generating on the disconnect). Measured in tests/llm/test_endpoint_hostile.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
from httpx_sse import EventSource, SSEError

from n1studio.errors import ModelError, is_secret_param, mask_secrets

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
POLL_S = 0.05
MAX_RETRY_AFTER_S = 30.0
MAX_ERROR_BODY = 65536
MAX_JSON_BODY = 4 * 1024 * 1024  # a model list larger than this is not a model list


class EndpointError(ModelError):
    """A model server that cannot be reached, refuses, or answers something unusable.

    The message is one line with credentials masked (`errors.mask_secrets`)."""

    def __init__(self, message: str):
        super().__init__(" ".join(mask_secrets(message).split()))


class Closed(Exception):
    """The stream was closed on purpose (Stop, or the answer is complete)."""


class Cut(EndpointError):
    """A stream that ended without its end marker."""


class StreamError(Exception):
    """An error object inside a stream (`{"error": {...}}`): the server's status and words."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# ---- the URL ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServerURL:
    """A server URL taken apart: where to send, what to show, what is secret."""

    base: str  # scheme://host:port/path, without /v1, credentials or query
    label: str  # what users see and studies record: no user info, secret query values ***
    params: tuple[tuple[str, str], ...]  # the query, sent with every request
    auth: tuple[str, str] | None  # user:password@ as HTTP basic auth
    secrets: tuple[str, ...]  # values to mask wherever text is shown
    host: str


def split_url(url: str) -> ServerURL:
    """A server URL (`http://host:port`, optional base path, user info and query), or
    EndpointError in one line that never quotes the credentials."""
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        p = urlsplit(raw)
        port = p.port
    except ValueError as exc:
        raise EndpointError(f"not a server URL: {label_url(url)} ({exc})") from None
    if p.scheme not in ("http", "https") or not p.hostname:
        raise EndpointError(f"not a server URL: {label_url(url)} (use http://host:port)")
    host = p.hostname if ":" not in p.hostname else f"[{p.hostname}]"
    hostport = host + (f":{port}" if port else "")
    path = p.path.rstrip("/").removesuffix("/v1")
    params = tuple(parse_qsl(p.query, keep_blank_values=True))
    secrets = [v for v in (p.password, p.username if p.password is None else None) if v]
    label = label_url(url)
    secrets += [v for k, v in params if v and is_secret_param(k)]
    auth = (p.username or "", p.password or "") if p.username or p.password else None
    base = f"{p.scheme}://{hostport}{path}"
    try:
        httpx.URL(base)
    except (httpx.InvalidURL, ValueError) as exc:
        raise EndpointError(f"not a server URL: {label!r} ({str(exc)[:80]})") from None
    return ServerURL(base=base, label=label, params=params,
                     auth=auth, secrets=tuple(secrets), host=p.hostname)


def label_url(url: str) -> str:
    """The URL as shown and recorded: without user:password@, secret query values masked."""
    raw = url.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        p = urlsplit(raw)
    except ValueError:
        return "<unreadable URL>"
    host = p.netloc.rsplit("@", 1)[-1]
    query = f"?{p.query}" if p.query else ""
    return mask_secrets(f"{p.scheme}://{host}{p.path.rstrip('/')}{query}")


# ---- one call's limits -------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """What one call may spend: the whole deadline, the idle time per read, the retries
    and the bytes read (comments and pings included)."""

    deadline_s: float
    idle_s: float
    retries: int
    max_bytes: int


class Call:
    """One `complete()` (or identity look-up): its deadline, retries and bytes left."""

    def __init__(self, limits: Limits, stopping: Callable[[], bool]):
        self.limits = limits
        self.stopping = stopping
        self.t_end = time.monotonic() + limits.deadline_s
        self.retries_left = limits.retries
        self.bytes_before = 0  # bytes of responses already closed
        self.response: httpx.Response | None = None  # the one being read
        self.http: httpx.AsyncClient | None = None  # opened by the first request

    def remaining(self) -> float:
        return self.t_end - time.monotonic()

    def bytes_read(self) -> int:
        r = self.response
        return self.bytes_before + (r.num_bytes_downloaded if r is not None else 0)

    def close_response(self) -> None:
        r = self.response
        if r is not None:
            self.bytes_before += r.num_bytes_downloaded
            self.response = None


class Deadline(EndpointError):
    pass


class TooLarge(EndpointError):
    pass


def run_call(work: Callable[[], Awaitable], call: Call, where: str):
    """Run `work()` to its end in a private event loop under the call's limits.

    Raises Closed on Stop, EndpointError past the deadline or the byte cap. Called from
    a thread that runs an event loop already (a notebook), the loop runs in a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_guarded(work, call, where))
    with ThreadPoolExecutor(1, thread_name_prefix="n1studio-endpoint") as pool:
        return pool.submit(asyncio.run, _guarded(work, call, where)).result()


async def _guarded(work, call: Call, where: str):
    try:
        return await _watched(work, call, where)
    finally:
        if call.http is not None:
            await call.http.aclose()
            call.http = None


async def _watched(work, call: Call, where: str):
    task = asyncio.ensure_future(work())
    reason = None
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=POLL_S)
        if done:
            break
        if call.stopping():
            reason = "stop"
        elif call.remaining() <= 0:
            reason = "deadline"
        elif call.bytes_read() > call.limits.max_bytes:
            reason = "bytes"
        if reason:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # its own error, if any, is replaced by the reason below
            break
    if reason == "stop":
        raise Closed()
    if reason == "deadline":
        raise Deadline(f"{where} did not finish within the request deadline of "
                       f"{call.limits.deadline_s:g} s (--timeout)")
    if reason == "bytes":
        raise TooLarge(f"{where} sent more than {call.limits.max_bytes:,} bytes for one answer "
                       "(the cap on what is read); it ignores the token limit")
    return task.result()


# ---- requests -------------------------------------------------------------------------------
def timeouts(idle_s: float) -> httpx.Timeout:
    return httpx.Timeout(connect=min(idle_s, 30.0), read=idle_s, write=idle_s, pool=idle_s)


def os_error(exc: BaseException, where: str, host: str, idle_s: float) -> EndpointError:
    """One line for a transport failure (httpx keeps the OS error as its cause)."""
    if isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout)):
        return EndpointError(f"{where} sent nothing for {idle_s:g} s (--idle-timeout)")
    if isinstance(exc, httpx.ConnectTimeout):
        return EndpointError(f"cannot reach {where}: no connection within "
                             f"{min(idle_s, 30.0):g} s")
    chain, e = [], exc
    while e is not None and len(chain) < 8:
        chain.append(e)
        e = e.__cause__ or e.__context__
    text = " ".join(str(c) for c in chain)
    if any(isinstance(c, socket.gaierror) for c in chain) or "name or service" in text.lower() \
            or "name resolution" in text.lower() or "getaddrinfo" in text.lower():
        return EndpointError(f"cannot reach {where}: the host name {host!r} does not resolve "
                             "(DNS lookup failed)")
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "refused" in text.lower():
        return EndpointError(f"cannot reach {where}: connection refused (is the server "
                             "running, on that port?)")
    if any(isinstance(c, ssl.SSLError) for c in chain):
        return EndpointError(f"cannot reach {where}: TLS failed ({text[:200]})")
    return EndpointError(f"cannot reach {where}: {type(exc).__name__} {text[:200]}")


def retry_after(header: str | None, default: float) -> float:
    """Seconds a Retry-After header asks for (capped), else `default`."""
    try:
        value = float(header) if header else default
    except ValueError:
        return default
    return min(MAX_RETRY_AFTER_S, max(0.0, value)) if value == value else default


def server_message(body: bytes) -> str:
    """The human part of an error body ({"error": {"message"}}, {"detail"}, or the text)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return text or "no details"
    if isinstance(doc, dict):
        err = doc.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        for k in ("detail", "message"):
            if doc.get(k):
                return str(doc[k])
    return text


async def read_capped(resp: httpx.Response, cap: int) -> bytes | None:
    """The body, or None when it is longer than `cap` bytes."""
    out = bytearray()
    async for chunk in resp.aiter_bytes():
        out += chunk
        if len(out) > cap:
            return None
    return bytes(out)


async def events(resp: httpx.Response):
    """The `data:` payloads of an SSE response, as text; comments and pings are skipped
    (the watcher still counts their bytes and the deadline their time)."""
    try:
        async for sse in EventSource(resp).aiter_sse():
            yield sse.data
    except SSEError as exc:
        raise EndpointError(f"the server answered something that is not an event stream "
                            f"({str(exc)[:120]})") from None
    except UnicodeDecodeError:
        raise EndpointError("the server sent a stream that is not UTF-8 text") from None


# ---- what a stream chunk says -----------------------------------------------------------------
@dataclass
class Chunk:
    text: str
    finish: str | None
    usage: dict | None
    fingerprint: str | None


def read_chunk(data: str, chat: bool, where: str) -> Chunk | None:
    """One `data:` payload of a completion stream, its shape checked; None for a chunk
    without choices (the usage-only one). A chunk that breaks the protocol (not JSON,
    choices that are not objects, a text that is not a string, a delta that is not an
    object) is the server's fault: EndpointError in one line."""
    bad = f"{where} sent a malformed stream"
    try:
        chunk = json.loads(data)
    except (ValueError, RecursionError):
        raise EndpointError(f"{bad} (not JSON: {data[:60]!r})") from None
    if not isinstance(chunk, dict):
        raise EndpointError(f"{bad} (a chunk that is not an object)")
    if "error" in chunk:
        err = chunk["error"]
        msg = err.get("message", "") if isinstance(err, dict) else str(err)
        code = str(err.get("code", "")) if isinstance(err, dict) else ""
        raise StreamError(int(code) if code.isdigit() and len(code) == 3 else 500,
                          str(msg)[:1000] or "no details")
    fp = chunk.get("system_fingerprint")
    usage = chunk.get("usage") if isinstance(chunk.get("usage"), dict) else None
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        raise EndpointError(f"{bad} (a chunk without a list of choices)")
    if not choices:
        return Chunk("", None, usage, str(fp) if isinstance(fp, str) and fp else None)
    ch = choices[0]
    if not isinstance(ch, dict):
        raise EndpointError(f"{bad} (a choice that is {type(ch).__name__}, not an object)")
    if chat:
        delta = ch.get("delta")
        if delta is None:
            delta = {}
        if not isinstance(delta, dict):
            raise EndpointError(f"{bad} (a chat delta that is {type(delta).__name__}, not an "
                                "object)")
        text = delta.get("content")
    else:
        text = ch.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise EndpointError(f"{bad} (a text that is {type(text).__name__}, not a string)")
    finish = ch.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise EndpointError(f"{bad} (a finish reason that is not a string)")
    return Chunk(text, finish, usage, str(fp) if isinstance(fp, str) and fp else None)



def clean_text(text: str) -> str:
    """`text` as storable Unicode: surrogate pairs joined, lone surrogates as U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
