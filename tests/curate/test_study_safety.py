"""What a study stores is safe whatever comes in: any code point, a chatty answer capped at
the checker's size limit and marked, a hand-checked answer beside the model's, and a
reader of `study info` that stops early."""

from __future__ import annotations

import json
import subprocess
import sys

from n1studio.check.parse import MAX_ANSWER_BYTES
from n1studio.cli import main
from n1studio.curate.report import build_report
from n1studio.curate.study import Study
from n1studio.curate.study.records import source_label
from n1studio.grid.cases import load_case


def _variant(st: Study) -> int:
    return st.add_variant(st.add_grid(load_case("case9"), "case9"), ["line:3"])


def test_any_code_point_is_stored_and_read_back(tmp_path):
    with Study.open(tmp_path / "s.n1study", create=True) as st:
        vid = _variant(st)
        mid = st.add_control("control:noise")
        raw = "ok \ud800 lone, \udfff too, \x00 nul, \U0001f600 emoji"
        rid = st.add_run(vid, mid, {"t": "\ud83d"}, "prompt \udc80", raw, None,
                         {"feasible": False, "note": "\ud800"}, {}, 0.0, 1.0)
        st.annotate("run", rid, note="bus \ud800 4")
        (run,) = st.runs()
        assert run["raw"] == "ok \\ud800 lone, \\udfff too, \x00 nul, \U0001f600 emoji"
        assert run["prompt"] == "prompt \\udc80"
        assert run["verdict"]["note"] == "\ud800"  # JSON keeps it as an escape
        assert st.annotation("run", rid)["note"] == "bus \\ud800 4"
    assert main(["study", "check", str(tmp_path / "s.n1study")]) == 0


def test_a_chatty_answer_is_capped_at_the_checkers_limit_and_marked(tmp_path):
    with Study.open(tmp_path / "s.n1study", create=True) as st:
        vid = _variant(st)
        mid = st.add_control("control:zeros")
        raw = "é" * (MAX_ANSWER_BYTES // 2 + 1000)  # two bytes each: over the limit
        st.add_run(vid, mid, {}, "p", raw, None, None, {"tokens": 9}, 0.0, 1.0)
        (run,) = st.runs()
    kept, _, mark = run["raw"].partition("\n[")
    assert len(kept.encode("utf-8")) == MAX_ANSWER_BYTES and set(kept) == {"é"}
    assert "truncated" in mark and f"{2 * len(raw):,} bytes" in mark
    assert run["stats"] == {"tokens": 9, "raw_truncated": True, "raw_bytes": 2 * len(raw)}
    assert (tmp_path / "s.n1study").stat().st_size < 3 * MAX_ANSWER_BYTES


def test_a_pasted_answer_is_its_own_source_next_to_the_models_run(tmp_path):
    with Study.open(tmp_path / "s.n1study", create=True) as st:
        vid = _variant(st)
        model = st.add_control("control:reference")
        st.add_run(vid, model, {}, "p", "model text", None, {"feasible": True}, {}, 0.0, 1.0)
        for label in (source_label(), source_label("/home/me/answer.json")):
            src = st.add_source(label)
            st.add_run(vid, src, {}, "p", "hand text", None, {"feasible": False}, {}, 0.0, 1.0)
        runs = st.runs()
        report = build_report(st)
    assert [(r["model"], r["raw"]) for r in runs] == [
        ("control:reference", "model text"), ("pasted answer", "hand text"),
        ("file answer.json", "hand text")]
    assert [(m["model"], m["kind"]) for m in report["models"]] == [
        ("control:reference", "control"), ("file answer.json", "source"),
        ("pasted answer", "source")]


def test_study_info_into_a_reader_that_stops_early_is_quiet(tmp_path):
    path = tmp_path / "s.n1study"
    with Study.open(path, create=True) as st, st.transaction():
        for k in range(3000):  # about 180 kB of output: more than a pipe holds
            st.add_control(f"control:n{k}")
    proc = subprocess.Popen(
        [sys.executable, "-c", ("import sys; from n1studio.cli import main; "
                                f"sys.exit(main(['study', 'info', {str(path)!r}]))")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert first.startswith(b"study ") and err == ""


def test_study_runs_json_still_one_document(tmp_path, capsys):
    path = tmp_path / "s.n1study"
    with Study.open(path, create=True) as st:
        st.add_run(_variant(st), st.add_control("control:zeros"), {}, "p", "r", None, None,
                   None, 0.0, 1.0)
    assert main(["study", "runs", str(path), "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["grid"] == "case9" and run["split"] == "N-1"
