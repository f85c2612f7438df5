"""Small local model servers that misbehave on purpose (127.0.0.1, a thread each).

Each lists one model on GET /v1/models and answers POSTs the way its `mode` says: SSE
comments forever, tokens forever, one byte at a time, Retry-After forever, silence, or
chunks that break the protocol. Every handler loop is bounded (MAX_S seconds), and ends
as soon as the client hangs up, so a test never leaves a busy thread behind. The request
bodies and headers received are kept for the tests to read back.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time

MODEL = "hostile-model"
MAX_S = 30.0  # no handler runs longer than this, whatever the client does


def sse(doc) -> bytes:
    return f"data: {json.dumps(doc)}\n\n".encode()


def text_chunk(text, **extra) -> bytes:
    return sse({"choices": [{"text": text, "finish_reason": None, **extra}]})


class HostileServer:
    """`with HostileServer(mode) as srv:` ... `srv.url`, `srv.bodies`, `srv.headers`."""

    def __init__(self, mode: str, *, chunks: list[bytes] | None = None, period: float = 0.2):
        self.mode, self.chunks, self.period = mode, chunks or [], period
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.paths: list[str] = []
        self.posts = 0
        self.stop = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.paths.append(self.path)
                outer.headers.append(dict(self.headers))
                body = json.dumps({"data": [{"id": MODEL}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                outer.paths.append(self.path)
                outer.headers.append(dict(self.headers))
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.bodies.append(json.loads(raw))
                outer.posts += 1
                # the client may hang up: what a deadline or Stop does
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    getattr(outer, "_" + outer.mode)(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- the modes -------------------------------------------------------------------------
    def _begin(self, h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()

    def _forever(self, h, piece: bytes) -> None:
        self._begin(h)
        end = time.monotonic() + MAX_S
        while time.monotonic() < end and not self.stop.is_set():
            h.wfile.write(piece)
            h.wfile.flush()
            time.sleep(self.period)

    def _comments(self, h) -> None:
        """An SSE comment (a keep-alive ping) every `period` seconds, never a token."""
        self._forever(h, b": ping\n\n")

    def _tokens(self, h) -> None:
        """A token every `period` seconds (0: as fast as the socket takes them), forever."""
        self._forever(h, text_chunk("a"))

    def _drip(self, h) -> None:
        """One byte every `period` seconds of an endless stream of tokens."""
        self._begin(h)
        end = time.monotonic() + MAX_S
        data = text_chunk("b") * 1000
        for i in range(len(data)):
            if time.monotonic() > end or self.stop.is_set():
                return
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
            time.sleep(self.period)

    def _busy(self, h) -> None:
        """HTTP 503 with Retry-After, every time."""
        h.send_response(503)
        h.send_header("Retry-After", str(self.period))
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"{}")

    def _silent(self, h) -> None:
        """Reads the request and sends nothing (a server reading a long prompt)."""
        end = time.monotonic() + MAX_S
        while time.monotonic() < end and not self.stop.is_set():
            time.sleep(0.05)

    def _script(self, h) -> None:
        """The given chunks, then [DONE]."""
        self._begin(h)
        for c in self.chunks:
            h.wfile.write(c)
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()
