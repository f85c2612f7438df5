"""A model server that never ends, leaks nothing, and whose garbage is its own fault.

Each hostile server (tests/llm/hostile_server.py) runs on 127.0.0.1 in a thread; the client
must end every request within its deadline with one line (exit 2 through the CLI), stop a
read that waits for the first byte when the user presses Stop, never show a key, and
return storable text whatever a server sends.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import time

import pytest

from n1studio import cli
from n1studio.commands import clients
from n1studio.errors import ModelError
from n1studio.llm.endpoint import EndpointClient, EndpointError
from n1studio.llm.runtime import FREE, ModelSettings
from tests.llm.hostile_server import MODEL, HostileServer, sse, text_chunk

FREE_SHORT = ModelSettings(mode=FREE, max_tokens=8, n_threads=1)
KEY_ENV = "N1STUDIO_TEST_HOSTILE_KEY"
KEY = "sk-hostile-7d1e0b5c3a9f-never-print-me"


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg
    return msg


# ---- a request that never ends ----------------------------------------------------------------
@pytest.mark.parametrize("mode, period, expect", [
    ("comments", 0.5, "did not finish within the request deadline of 2 s"),
    ("drip", 0.2, "did not finish within the request deadline of 2 s"),
    ("tokens", 0.05, "did not finish within the request deadline of 2 s"),
    ("busy", 1.0, "past the request deadline of 2 s"),
])
def test_a_request_that_never_ends_ends_at_its_deadline(mode, period, expect):
    with HostileServer(mode, period=period) as srv:
        c = EndpointClient(srv.url, MODEL, timeout_s=2, idle_timeout_s=1.5, retries=100)
        t0 = time.monotonic()
        with pytest.raises(EndpointError) as ei:
            c.complete("x", settings=ModelSettings(mode=FREE, max_tokens=10_000, n_threads=1))
        took = time.monotonic() - t0
    assert expect in one_line(ei.value)
    assert took < 3.0, f"{mode}: {took:.2f} s for a 2 s deadline"


def test_tokens_beyond_max_tokens_are_the_servers_fault():
    with HostileServer("tokens", period=0.0) as srv:
        c = EndpointClient(srv.url, MODEL, timeout_s=20)
        with pytest.raises(EndpointError) as ei:
            c.complete("x", settings=FREE_SHORT, max_tokens=8)
    assert "sent more than the 8 tokens asked for" in one_line(ei.value)


def test_retry_after_forever_ends_with_the_retry_budget():
    with HostileServer("busy", period=0.0) as srv:
        c = EndpointClient(srv.url, MODEL, timeout_s=20, retries=3)
        with pytest.raises(EndpointError) as ei:
            c.complete("x", settings=FREE_SHORT)
        assert srv.posts == 4  # the first try and three retries, for the whole answer
    assert "busy or failing (HTTP 503) after 4 tries" in one_line(ei.value)


def test_a_silent_server_is_the_idle_timeout():
    with HostileServer("silent") as srv:
        c = EndpointClient(srv.url, MODEL, timeout_s=10, idle_timeout_s=0.5)
        t0 = time.monotonic()
        with pytest.raises(EndpointError) as ei:
            c.complete("x", settings=FREE_SHORT)
        assert time.monotonic() - t0 < 2.0
    assert "sent nothing for 0.5 s (--idle-timeout)" in one_line(ei.value)


def test_stop_ends_a_read_blocked_before_the_first_byte():
    """Stop while the server has not even sent its headers (it reads a long prompt): the
    call returns, cancelled, at once, and the connection is closed."""
    with HostileServer("silent") as srv:
        c = EndpointClient(srv.url, MODEL, timeout_s=60, idle_timeout_s=60)
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        t0 = time.monotonic()
        res = c.complete("x", settings=FREE_SHORT, cancel=cancel)
        took = time.monotonic() - t0
    assert res.cancelled and res.raw == ""
    assert took < 1.0, f"Stop took {took:.2f} s"


def test_kill_from_another_thread_ends_a_stream_of_comments():
    with HostileServer("comments", period=0.1) as srv:
        c = EndpointClient(srv.url, MODEL, timeout_s=60)
        threading.Timer(0.3, c.kill).start()
        t0 = time.monotonic()
        res = c.complete("x", settings=FREE_SHORT)
        assert res.cancelled and time.monotonic() - t0 < 1.0


@pytest.mark.parametrize("mode", ["comments", "tokens", "drip", "busy"])
def test_the_cli_ends_each_in_one_line_exit_2(mode, capsys):
    with HostileServer(mode, period=0.3) as srv:
        t0 = time.monotonic()
        code = cli.main(["ask", "case14", "--free", "--max-tokens", "100000", "--endpoint",
                         srv.url, "--model", MODEL, "--timeout", "2", "--retries", "50",
                         "--json"])
        took = time.monotonic() - t0
    out, err = capsys.readouterr()
    err = err.strip()
    assert code == 2, err
    assert err.count("\n") == 0 and err.startswith("n1studio: error: ") and not out
    assert "deadline of 2 s" in err
    assert took < 30  # the case and the prompt, then at most the 2 s deadline


# ---- garbage from a server -----------------------------------------------------------------------
@pytest.mark.parametrize("chunk, chat, expect", [
    (sse({"choices": ["abc"]}), False, "a choice that is str, not an object"),
    (sse({"choices": [{"text": 5}]}), False, "a text that is int, not a string"),
    (sse({"choices": [{"delta": "abc"}]}), True, "a chat delta that is str, not an object"),
    (sse({"choices": "x"}), False, "without a list of choices"),
    (b"data: {oops\n\n", False, "not JSON"),
    (sse([1, 2]), False, "a chunk that is not an object"),
])
def test_a_reply_that_breaks_the_protocol_is_one_line(chunk, chat, expect):
    with HostileServer("script", chunks=[text_chunk("{"), chunk]) as srv:
        c = EndpointClient(srv.url, MODEL, chat=chat)
        with pytest.raises(EndpointError) as ei:
            c.complete("x", settings=FREE_SHORT)
    msg = one_line(ei.value)
    assert "sent a malformed stream" in msg and expect in msg
    assert isinstance(ei.value, ModelError)  # the CLI's exit 2


def test_the_cli_says_a_malformed_reply_in_one_line(capsys):
    with HostileServer("script", chunks=[sse({"choices": ["abc"]})]) as srv:
        code = cli.main(["ask", "case14", "--free", "--endpoint", srv.url, "--model", MODEL])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "malformed stream" in err


def test_lone_surrogates_come_back_as_storable_text():
    pieces = ['{"a": "', "\ud800", "x", "\ud83d", "\ude00", '"}']  # a lone one, a split pair
    chunks = [("data: " + json.dumps({"choices": [{"text": p}]}) + "\n\n").encode()
              for p in pieces]
    with HostileServer("script", chunks=chunks) as srv:
        res = EndpointClient(srv.url, MODEL).complete("x", settings=ModelSettings(
            mode=FREE, max_tokens=50, n_threads=1))
    assert res.raw == '{"a": "\ufffdx\U0001F600"}'
    res.raw.encode("utf-8")  # storable as it is


# ---- a key that leaks -------------------------------------------------------------------------
def test_a_key_with_a_trailing_newline_is_stripped_and_used(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY + "\n")
    with HostileServer("script", chunks=[text_chunk("{}")]) as srv:
        res = EndpointClient(srv.url, MODEL, api_key_env=KEY_ENV).complete(
            "x", settings=FREE_SHORT)
        assert res.raw == "{}"
        assert {h.get("Authorization") for h in srv.headers} == {f"Bearer {KEY}"}


def test_a_key_with_a_space_inside_is_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-abc def-123456")
    c = EndpointClient("http://127.0.0.1:9", MODEL, api_key_env=KEY_ENV)
    with pytest.raises(EndpointError) as ei:
        c.complete("x", settings=FREE_SHORT)
    msg = one_line(ei.value)
    assert "holds a space or control character (at position 7)" in msg
    assert "sk-abc" not in msg and "def-123456" not in msg


def test_keys_in_the_url_never_reach_a_message_or_the_identity(monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with HostileServer("busy", period=0.0) as srv:
        host = srv.url.removeprefix("http://")
        url = f"http://user:{KEY}@{host}/v1?api_key=QKEY-123456&key=K2-abcdef&mode=fast"
        c = EndpointClient(url, MODEL, api_key_env=KEY_ENV, retries=0)
        ident = c.identity()
        with pytest.raises(EndpointError) as ei:
            c.complete("x", settings=FREE_SHORT)
        assert srv.paths[0].endswith("api_key=QKEY-123456&key=K2-abcdef&mode=fast")  # sent
    shown = json.dumps([ident, c.settings_dict(), c.label, str(ei.value)])
    for secret in (KEY, "QKEY-123456", "K2-abcdef", "user:"):
        assert secret not in shown
    assert ident["endpoint"] == f"http://{host}/v1?api_key=***&key=***&mode=fast"


def test_the_cli_masks_keys_on_stderr_and_in_the_crash_report(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(KEY_ENV, KEY + "\n")
    monkeypatch.setenv("N1STUDIO_CRASH_DIR", str(tmp_path))
    argv = ["ask", "case14", "--endpoint", f"http://u:{KEY}@127.0.0.1:9/?token=TOK-99887766",
            "--model", MODEL, "--api-key-env", KEY_ENV]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "connection refused" in err and KEY not in err and "TOK-99887766" not in err
    secrets = cli.named_secrets(argv)
    exc = ValueError(f"Invalid header value b'Bearer {KEY}\\n' for {argv[3]}")
    path = cli.write_crash_report(argv, exc, secrets)
    with open(path, encoding="utf-8") as fh:
        report = fh.read()
    assert "Invalid header value" in report and "command: n1studio ask case14" in report
    assert KEY not in report and "TOK-99887766" not in report
    assert "token=***" in report and "Bearer ***" in report


def test_a_call_from_inside_an_event_loop_still_runs():
    """A notebook calls complete() from a running event loop: it runs in a helper thread."""

    async def inside():
        with HostileServer("script", chunks=[text_chunk("{}")]) as srv:
            return EndpointClient(srv.url, MODEL).complete("x", settings=FREE_SHORT)

    assert asyncio.run(inside()).raw == "{}"


def test_an_internal_error_shows_and_writes_no_key(monkeypatch, tmp_path, capsys):
    """The path of a real crash: the one line on stderr and the report it names, with the
    command line, mask the key (the old client's `Invalid header value b'Bearer sk-...'`)."""
    monkeypatch.setenv(KEY_ENV, KEY + "\n")
    monkeypatch.setenv("N1STUDIO_CRASH_DIR", str(tmp_path))

    def crash(args, settings=None):
        raise ValueError(f"Invalid header value b'Bearer {KEY}\\n' to {args.endpoint}")

    monkeypatch.setattr(clients, "make_client", crash)
    url = f"http://127.0.0.1:9/v1?api_key={KEY}&key=K2-abcdef"
    code = cli.main(["ask", "case14", "--endpoint", url, "--model", MODEL, "--api-key-env",
                     KEY_ENV])
    err = capsys.readouterr().err
    assert code == 3 and "internal error: ValueError" in err
    report = err.rsplit("(full report: ", 1)[1].rstrip().rstrip(")")
    with open(report, encoding="utf-8") as fh:
        text = fh.read()
    assert "command: n1studio ask case14 --endpoint http://127.0.0.1:9/v1?api_key=***" in text
    for shown in (err, text):
        assert KEY not in shown and "K2-abcdef" not in shown


def test_log_records_are_masked():
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(cli.MaskingFilter([KEY]))
    log = logging.getLogger("n1studio.test.masking")
    log.addHandler(handler)
    try:
        log.warning("sending %s to %s", f"Authorization: Bearer {KEY}",
                    "http://u:pw-123456@host/?token=abcdef")
    finally:
        log.removeHandler(handler)
    written = handler.stream.getvalue()
    assert "Bearer ***" in written and "http://***@host/?token=***" in written
    assert KEY not in written and "pw-123456" not in written and "abcdef" not in written


@pytest.mark.parametrize("url, expect", [
    ("http://h\x00st:1", "not a server URL"),
    ("http://[::1", "not a server URL"),
    ("http://host:99999", "not a server URL"),
    ("ftp://host:1", "not a server URL"),
    (f"http://u:{KEY}@:80", "not a server URL"),
])
def test_a_url_that_is_not_a_server_is_one_line(url, expect):
    with pytest.raises(EndpointError) as ei:
        EndpointClient(url, MODEL)
    msg = one_line(ei.value)
    assert expect in msg and KEY not in msg
