"""`n1studio ask` with the real default model (CPU): a schema-valid answer and its verdict."""

from __future__ import annotations

import json
import math

import pytest

from n1studio.cli import main
from n1studio.grid.cases import load_case
from n1studio.grid.variant import Variant
from n1studio.llm.ask import STAT_KEYS
from n1studio.llm.prompt import answer_elements


@pytest.mark.slow
def test_ask_case14_line3_json(capsys):
    code = main(["ask", "case14", "--out", "line:3", "--json"])
    out = capsys.readouterr().out
    doc = json.loads(out)  # exactly one JSON document on stdout
    assert code in (0, 1)
    ans = doc["answer"]
    gens, buses = answer_elements(Variant(load_case("case14"), ["line:3"]).model)
    assert ans["schema"] == "n1studio.answer/1"
    assert [g["element"] for g in ans["generators"]] == gens
    assert [b["element"] for b in ans["buses"]] == buses
    for g in ans["generators"]:
        assert set(g) == {"element", "p_mw", "q_mvar"}
        assert all(math.isfinite(g[k]) for k in ("p_mw", "q_mvar"))
    for b in ans["buses"]:
        assert set(b) == {"element", "vm_pu", "va_degree"}
    assert json.loads(doc["raw"]) == ans
    v = doc["verdict"]
    assert v["schema"] == "n1studio.verdict/1"
    assert code == (0 if v["feasible"] else 1)
    assert not [x for x in v["violations"] if x["constraint"] == "format"]
    assert "line:3" not in [x["element"] for x in v["violations"]]
    assert set(STAT_KEYS) <= set(doc["stats"])
    assert doc["stats"]["completion_tokens"] > 0 and doc["stats"]["prompt_tokens"] > 1000
    assert "Out of service: line:3" in doc["prompt"]


def test_ask_with_a_file_that_is_not_gguf(tmp_path, capsys):
    bad = tmp_path / "weights.gguf"
    bad.write_bytes(b"PK\x03\x04 a zip archive, not a model")
    code = main(["ask", "case14", "--model", str(bad), "--json"])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == ""
    assert cap.err.strip().count("\n") == 0
    assert "not a GGUF model file" in cap.err


def test_ask_with_an_unknown_element(capsys):
    code = main(["ask", "case14", "--out", "line:99"])
    cap = capsys.readouterr()
    assert code == 2 and "line:99" in cap.err and "Traceback" not in cap.err


def _pty_stream():
    """A real terminal (a pseudo-terminal pair): what the user's stderr is in a shell."""
    import os
    import pty

    master, slave = pty.openpty()
    return os.fdopen(slave, "w", encoding="utf-8"), master


def _read_all(fd: int) -> str:
    import os
    import select

    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        chunks.append(os.read(fd, 65536))
    return b"".join(chunks).decode()


def _prompt_progress(stream, every_s: float = 2.0):
    """The bar `ask` draws while the model reads the prompt (as commands/ask.py makes it)."""
    from n1studio.curate.progress import ProgressBar

    return ProgressBar("reading the prompt", delay=0.0, stream=stream, unit="tokens",
                       log_every=every_s)


def test_prompt_progress_on_a_terminal_rewrites_one_line():
    stream, master = _pty_stream()
    try:
        p = _prompt_progress(stream)
        assert p.tty
        for done in (512, 1024, 1536, 1542):
            p.update(done, 1542)
        p.finish()  # ask ends the bar when the first token comes
        stream.write("answer\n")
        stream.flush()
        out = _read_all(master).replace("\r\n", "\n")  # the terminal turns \n into \r\n
    finally:
        stream.close()
    first, rest = out.split("\n", 1)
    # one terminal line (tqdm), rewritten in place, ending at the whole prompt read, then
    # the answer on a line of its own
    assert first.count("\r") >= 2
    last = first.split("\r")[-1].strip()
    assert last.startswith("reading the prompt: 100%") and "1542/1542" in last
    assert rest == "answer\n"


def test_prompt_progress_in_a_log_is_one_line_per_update():
    import io

    buf = io.StringIO()  # not a terminal: a pipe or a log file
    p = _prompt_progress(buf, every_s=0)
    for done in (512, 1024, 1536, 1542):
        p.update(done, 1542)
    p.finish()
    assert "\r" not in buf.getvalue()
    assert buf.getvalue().splitlines() == [f"reading the prompt: {d}/1542 tokens"
                                           for d in (512, 1024, 1536, 1542)]
    # throttled: a long prompt gives the first and the last update, not hundreds of lines
    buf = io.StringIO()
    p = _prompt_progress(buf, every_s=3600)
    for done in range(512, 30000, 512):
        p.update(done, 30000)
    p.update(30000, 30000)
    assert buf.getvalue().splitlines() == ["reading the prompt: 512/30000 tokens",
                                           "reading the prompt: 30000/30000 tokens"]


@pytest.mark.slow
def test_ask_case14_line3_text_output_is_readable(capsys):
    code = main(["ask", "case14", "--out", "line:3"])
    cap = capsys.readouterr()
    assert code in (0, 1)
    lines = cap.err.splitlines()
    progress = [ln for ln in lines if ln.startswith("reading the prompt")]
    # each update on its own line, never run together, and the prompt read to the end
    assert progress and cap.err.count("reading the prompt") == len(progress)
    import re

    m = re.fullmatch(r"reading the prompt: (\d+)/(\d+) tokens", progress[-1])
    assert m and m.group(1) == m.group(2)
    answer = [ln for ln in lines if ln.startswith("N-1 line:3: ")]
    assert len(answer) == 1
    json.loads(answer[0][len("N-1 line:3: "):])  # the streamed answer, whole, on one line
    assert lines.index(answer[0]) > lines.index(progress[-1])
    out = cap.out.splitlines()
    assert out[0].startswith("N-1 line:3 of case14, model ")
    assert "verdict: " in cap.out and f"prompt_tokens {m.group(2)}," in cap.out
