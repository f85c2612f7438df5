"""The requests an `EndpointClient` sends: the model list, streamed completions, retries.

Async functions run by `endpoint_http.run_call` under one call's limits (deadline, idle
timeout, retry budget, byte cap); every failure becomes one `EndpointError` line.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx

from n1studio.errors import mask_secrets
from n1studio.llm.endpoint_http import (
    MAX_ERROR_BODY,
    MAX_JSON_BODY,
    RETRY_STATUS,
    Call,
    Closed,
    Cut,
    EndpointError,
    StreamError,
    events,
    os_error,
    read_capped,
    read_chunk,
    retry_after,
    server_message,
    timeouts,
)

log = logging.getLogger(__name__)


class HTTPStatusError(EndpointError):
    """A server's refusal, with its HTTP status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class Transport:
    """The HTTP side of one `EndpointClient` (`c`): its URL, key and caches."""

    def __init__(self, client):
        self.c = client

    # ---- the connection ----------------------------------------------------------------------
    def _http(self, call: Call) -> httpx.AsyncClient:
        if call.http is None:
            u = self.c._url
            # trust_env=False: no proxy or netrc from the environment, as with a plain socket;
            # a server is reached where its URL says.
            # user:password@ in the URL is basic auth, unless an API key is sent (Bearer)
            auth = None if self.c.key() else u.auth
            call.http = httpx.AsyncClient(base_url=u.base, params=u.params or None,
                                          auth=auth, timeout=timeouts(call.limits.idle_s),
                                          follow_redirects=False, trust_env=False)
        return call.http

    def _error(self, exc: BaseException, call: Call) -> EndpointError:
        return os_error(exc, self.c.where(), self.c._url.host, call.limits.idle_s)

    async def open(self, call: Call, method: str, path: str, body: dict | None) -> httpx.Response:
        """Send a request, retrying 429/5xx and dropped connections within the call's retry
        budget and deadline; returns an open 2xx response (streamed)."""
        http = self._http(call)
        headers = {"Accept": "application/json, text/event-stream"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        key = self.c.key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        where = self.c.where()
        delay = 0.5
        tries = 0
        while True:
            tries += 1
            req = http.build_request(method, "/v1" + path.removeprefix("/v1"), content=data,
                                     headers=headers)
            try:
                resp = await http.send(req, stream=True)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if call.retries_left <= 0:
                    raise self._error(exc, call) from None
                call.retries_left -= 1
                log.info("%s dropped the connection; retrying in %.1f s", where, delay)
                await self._sleep(call, delay, f"{where} dropped the connection")
                delay *= 2
                continue
            except httpx.TransportError as exc:
                raise self._error(exc, call) from None
            if 200 <= resp.status_code < 300:
                call.response = resp
                return resp
            try:
                payload = await read_capped(resp, MAX_ERROR_BODY) or b""
            except httpx.TransportError:
                payload = b""
            finally:
                call.bytes_before += resp.num_bytes_downloaded
                await resp.aclose()
            status = resp.status_code
            if status in RETRY_STATUS and call.retries_left > 0:
                call.retries_left -= 1
                wait_s = retry_after(resp.headers.get("Retry-After"), delay)
                log.info("%s answered HTTP %s; retrying in %.1f s", where, status, wait_s)
                await self._sleep(call, wait_s, f"{where} is busy (HTTP {status})")
                delay *= 2
                continue
            raise self.http_error(status, server_message(payload), path, tries)

    async def _sleep(self, call: Call, seconds: float, what: str) -> None:
        if seconds >= call.remaining():
            raise EndpointError(f"{what} and asks to retry in {seconds:g} s, past the request "
                                f"deadline of {call.limits.deadline_s:g} s (--timeout)")
        await asyncio.sleep(seconds)

    def http_error(self, status: int, msg: str, path: str, tries: int = 1) -> HTTPStatusError:
        where = self.c.where()
        low = msg.lower()
        msg = self.c.scrub(msg)
        if status in (401, 403):
            name = self.c.config.api_key_env
            hint = (f"check the key in ${name}" if name else
                    "it wants an API key: name its variable with --api-key-env NAME")
            text = f"{where} refused access (HTTP {status}): {hint}"
        elif "context" in low and ("exceed" in low or "maximum" in low or "too long" in low
                                   or "length" in low):
            text = f"the prompt and answer do not fit {where}'s context: {msg}"
        elif status == 404 and "model" in low:
            text = f"{where} has no model {self.c.config.model!r} (HTTP 404): {msg}"
        elif status == 404:
            text = (f"{where} has no /v1{path} (HTTP 404): is it an OpenAI-compatible server, "
                    "and is the URL its base (http://host:port)?")
        elif status in RETRY_STATUS:
            text = f"{where} is busy or failing (HTTP {status}) after {tries} tries: {msg}"
        else:
            text = f"{where} rejected the request (HTTP {status}): {msg}"
        return HTTPStatusError(text, status)

    # ---- the model list ----------------------------------------------------------------------
    async def get_json(self, call: Call, path: str):
        resp = await self.open(call, "GET", path, None)
        try:
            raw = await read_capped(resp, MAX_JSON_BODY)
        except httpx.TimeoutException as exc:
            raise self._error(exc, call) from None
        except httpx.TransportError:
            raise EndpointError(f"{self.c.where()} cut its answer to GET /v1{path}") from None
        finally:
            await resp.aclose()
            call.close_response()
        if raw is None:
            raise EndpointError(f"{self.c.where()} answered GET /v1{path} with more than "
                                f"{MAX_JSON_BODY:,} bytes")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise EndpointError(f"{self.c.where()} answered GET /v1{path} with something that "
                                "is not JSON") from None

    async def models(self, call: Call) -> None:
        """Fill the client's model list (`/v1/models` entries) once."""
        if self.c._models is not None:
            return
        doc = await self.get_json(call, "/models")
        data = doc.get("data") if isinstance(doc, dict) else None
        self.c._models = [m for m in data if isinstance(m, dict)] if isinstance(data, list) \
            else []

    async def model_entry(self, call: Call) -> dict | None:
        """The model's entry in the server's list; EndpointError when the server lacks it."""
        try:
            await self.models(call)
        except HTTPStatusError as exc:
            if exc.status != 404:  # a server without a model list: trust the name
                raise
            self.c._models = []
        models = self.c._models
        if not models:
            return None
        for m in models:
            if m.get("id") == self.c.config.model:
                return m
        names = ", ".join(str(m.get("id")) for m in models[:8])
        raise EndpointError(f"{self.c.where()} has no model {self.c.config.model!r}; it serves: "
                            f"{self.c.scrub(names)}")

    def scrub_obj(self, obj):
        """A server's JSON value with credentials masked (what a study stores)."""
        if obj is None:
            return None
        text = json.dumps(obj)
        masked = mask_secrets(text, self.c.secrets())
        return obj if masked == text else json.loads(masked)

    # ---- completions -------------------------------------------------------------------------
    async def stream(self, body: dict, run, on_text, asked: int) -> str | None:
        """POST a streamed request; `on_text(piece)` per chunk (True closes the stream).

        Returns the finish reason. Raises Closed when Stop came or on_text asked to close."""
        path = "/chat/completions" if self.c.config.chat else "/completions"
        call: Call = run.call
        before = run.n_tokens
        resp = await self.open(call, "POST", path, body)
        run.requests += 1
        try:
            return await self._read(resp, run, on_text, asked, path)
        except Cut:
            if run.n_tokens == before:  # cut before the first token: ask why, unstreamed
                await self.diagnose(call, path, body)
            raise
        finally:
            await resp.aclose()
            call.close_response()

    async def _read(self, resp: httpx.Response, run, on_text, asked: int, path: str):
        where = self.c.where()
        chat = self.c.config.chat
        finish = None
        try:
            async for data in events(resp):
                if data.strip() == "[DONE]":
                    return finish
                try:
                    ch = read_chunk(data, chat, where)
                except StreamError as exc:
                    raise self.http_error(exc.status, exc.message, path) from None
                if ch.fingerprint:
                    self.c._fingerprint = ch.fingerprint
                if ch.usage:
                    run.usage = ch.usage
                if ch.finish:
                    finish = ch.finish
                if ch.text:
                    run.count(ch.text, asked)
                    if on_text(ch.text) or run.call.stopping():
                        raise Closed()
        except httpx.TimeoutException as exc:
            raise self._error(exc, run.call) from None
        except httpx.TransportError as exc:
            raise Cut(f"the stream from {where} was cut after {run.n_tokens} tokens "
                      f"({type(exc).__name__})") from None
        raise Cut(f"the stream from {where} was cut after {run.n_tokens} tokens (no end marker)")

    async def diagnose(self, call: Call, path: str, body: dict) -> None:
        """Re-send a request whose stream died before its first token, unstreamed and for one
        token: a server that fails inside the stream (llama.cpp's checks the context there)
        then answers with its error status, which becomes the one line to show."""
        probe = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        probe["max_tokens"] = 1
        resp = await self.open(call, "POST", path, probe)  # raises the server's error
        await resp.aclose()
        call.close_response()
