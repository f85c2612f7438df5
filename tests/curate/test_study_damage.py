"""Damaged, odd and read-only study files: one line each (exit 2), never a traceback.

Every input is a real SQLite file, damaged the way the issue found them: a page overwritten,
the N-1 Studio mark without its tables, a JSON column that is not JSON, a read-only file,
a 0-byte file. `n1studio study check` says what is broken.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from n1studio.curate.study import APPLICATION_ID, SCHEMA_VERSION, Study, check_study
from n1studio.errors import StudyError
from n1studio.grid.cases import load_case

CLI = [sys.executable, "-c", "import sys; from n1studio.cli import main; sys.exit(main())"]


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          check=False, **kw)


def assert_one_line(res: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    """Exit `code`, one line on stderr containing every fragment, no traceback."""
    err = res.stderr.strip()
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert len(err.splitlines()) == 1, err
    for f in fragments:
        assert f in err, err
    return err


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A real study: case14 stored, a variant with its reference, a model, a run, a note."""
    p = tmp_path_factory.mktemp("made") / "s.n1study"
    model = p.parent / "tiny.gguf"
    model.write_bytes(b"GGUF" + bytes(60))  # only its hash identifies the model here
    with Study.open(p, create=True) as st:
        gid = st.add_grid(load_case("case14"), "case14")
        vid = st.add_variant(gid, ["line:3"])
        st.set_solution(vid, "ac", "optimal", True, 8100.5, {"schema": "n1studio.answer/1"})
        mid = st.add_model(model)
        rid = st.add_run(vid, mid, {"mode": "constrained"}, "prompt", "raw", None,
                         {"feasible": False, "overall_satisfaction": 0.5}, {"wall_s": 1.0},
                         1.0, 2.0)
        st.annotate("run", rid, tags=["odd"], note="look at bus 4")
    return p


def copy(src: Path, tmp_path: Path, name: str = "copy.n1study") -> Path:
    dst = tmp_path / name
    shutil.copy(src, dst)
    return dst


def test_healthy_study_checks_ok(made, tmp_path):
    p = copy(made, tmp_path)
    assert check_study(p) == []
    res = cli("study", "check", str(p))
    assert res.returncode == 0, res.stderr
    assert "ok" in res.stdout


def test_study_uses_wal_and_full_sync(made, tmp_path):
    with Study.open(copy(made, tmp_path)) as st:
        assert st.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert st.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def _root_page(p: Path, table: str) -> tuple[int, int]:
    conn = sqlite3.connect(p)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (table,)).fetchone()[0]
    finally:
        conn.close()
    return root, page_size


def test_damaged_page_is_one_line_and_check_finds_it(made, tmp_path):
    p = copy(made, tmp_path)
    root, size = _root_page(p, "grids")
    with open(p, "r+b") as fh:  # the grids table's page, overwritten as a bad disk would
        fh.seek((root - 1) * size)
        fh.write(bytes([0x5A]) * size)
    res = cli("study", "info", str(p))
    assert_one_line(res, 2, p.name, "damaged", "study check")
    res = cli("study", "check", str(p))
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stdout.strip(), "the check names what is broken"
    assert any(line.startswith("integrity:") or "damaged" in line
               for line in res.stdout.splitlines()), res.stdout


def test_marked_study_without_tables_is_one_line(tmp_path):
    p = tmp_path / "hollow.n1study"
    conn = sqlite3.connect(p)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("CREATE TABLE scratch (x)")  # a page is written, so the marks are kept
    conn.commit()
    conn.close()
    with pytest.raises(StudyError,
                       match="has no table annotations, dataset_items, datasets, grids"):
        Study.open(p)
    assert_one_line(cli("study", "info", str(p)), 2, "marked as an N-1 Studio study",
                    "no table")
    res = cli("study", "check", str(p))
    assert res.returncode == 1
    assert "schema: table runs is missing" in res.stdout


def test_corrupted_json_column_names_row_and_column(made, tmp_path):
    p = copy(made, tmp_path)
    conn = sqlite3.connect(p)
    conn.execute("UPDATE runs SET verdict = '{\"feasible\": tru' WHERE id = 1")
    conn.commit()
    conn.close()
    with Study.open(p) as st, pytest.raises(StudyError, match="run 1's verdict is damaged"):
        st.runs()
    assert_one_line(cli("study", "runs", str(p)), 2, "run 1's verdict is damaged", "not JSON")
    res = cli("study", "check", str(p))
    assert res.returncode == 1
    assert res.stdout.startswith("json: runs 1 column verdict is not JSON"), res.stdout
    # the other commands that do not read that column still work
    assert cli("study", "info", str(p)).returncode == 0


def test_empty_file_is_refused_and_left_alone(tmp_path):
    p = tmp_path / "empty.n1study"
    p.touch()
    for create in (False, True):
        with pytest.raises(StudyError, match=r"empty file \(0 bytes\)"):
            Study.open(p, create=create)
    assert_one_line(cli("study", "info", str(p)), 2, "empty file (0 bytes)")
    assert_one_line(cli("dataset", "build", "case5", "--study", str(p)), 2, "empty file")
    assert p.stat().st_size == 0


def test_upsert_keeps_run_ids_and_annotations(made, tmp_path):
    p = copy(made, tmp_path)
    with Study.open(p) as st:
        run = st.runs()[0]
        again = st.add_run(run["variant_id"], run["model_id"], run["settings"], "prompt 2",
                           "raw 2", None, {"feasible": True}, None, 3.0, 4.0)
        assert again == run["id"]
        assert [r["raw"] for r in st.runs()] == ["raw 2"]
        assert st.annotation("run", again)["note"] == "look at bus 4"
    assert check_study(p) == []


@contextmanager
def read_only(*paths: Path):
    """Make files and folders unwritable even for root (whose writes ignore permission bits:
    `chattr +i` then), and writable again afterwards."""
    if os.geteuid() != 0:
        modes = [(p, p.stat().st_mode) for p in paths]
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, m in modes:
                p.chmod(m)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    done = []
    try:
        for p in paths:
            if subprocess.run(["chattr", "+i", str(p)], capture_output=True,
                              check=False).returncode != 0:
                pytest.skip("chattr +i is not permitted here")
            done.append(p)
        yield
    finally:
        for p in done:
            subprocess.run(["chattr", "-i", str(p)], check=False)


@pytest.mark.parametrize("folder_too", [False, True], ids=["file", "file-and-folder"])
def test_read_only_study_opens_for_reading(made, tmp_path, folder_too):
    folder = tmp_path / "ro"
    folder.mkdir()
    p = folder / "ro.n1study"
    shutil.copy(made, p)
    with read_only(p, *([folder] if folder_too else [])):
        assert not os.access(p, os.W_OK)
        with Study.open(p) as st:
            assert st.readonly
            assert st.info()["runs"] == 1
            with pytest.raises(StudyError, match="read-only"):
                st.annotate("run", 1, decision="keep")
        res = cli("study", "info", str(p))
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr
        assert "runs: 1" in res.stdout and "annotations: 1" in res.stdout
        res = cli("study", "runs", str(p))
        assert res.returncode == 0, res.stderr
        assert "look at bus 4" in res.stdout
        assert cli("study", "check", str(p)).returncode == 0
        assert_one_line(cli("study", "annotate", str(p), "--run", "1", "--keep"), 2,
                        "read-only")
        assert_one_line(cli("eval", "--study", str(p)), 2, "read-only")
    with Study.open(p) as st:  # unchanged
        assert st.annotation("run", 1)["decision"] is None


def _damaged(data: bytes, rng: random.Random, kind: int) -> bytes:
    b = bytearray(data)
    if kind == 0:  # cut short
        return bytes(b[: rng.randrange(100, len(b))])
    if kind == 1:  # scattered bad bytes
        for _ in range(rng.randrange(1, 50)):
            b[rng.randrange(100, len(b))] = rng.randrange(256)
    elif kind == 2:  # a whole page overwritten
        size = 4096
        page = rng.randrange(1, len(b) // size)
        b[page * size:(page + 1) * size] = bytes([rng.randrange(256)]) * size
    else:  # the SQLite header (schema version, application id, page counts)
        b[rng.randrange(16, 100)] = rng.randrange(256)
    return bytes(b)


def test_seeded_damage_is_always_one_line(made, tmp_path):
    """60 damaged copies of a real study (seeded): opening, reading, annotating and checking
    each either works or raises StudyError; found here: a negative schema version in the
    header (IndexError) and text that is not UTF-8 (UnicodeDecodeError, OperationalError)."""
    data = made.read_bytes()
    rng = random.Random(10)
    outcomes = {"ok": 0, "StudyError": 0}
    for trial in range(60):
        p = tmp_path / f"d{trial}.n1study"
        p.write_bytes(_damaged(data, rng, trial % 4))
        for action in ("info", "runs", "annotate", "check"):
            try:
                if action == "check":
                    check_study(p)
                else:
                    with Study.open(p) as st:
                        if action == "info":
                            st.info()
                        elif action == "runs":
                            st.runs()
                        else:
                            st.annotate("run", 1, note="z")
                outcomes["ok"] += 1
            except StudyError as exc:
                assert "\n" not in str(exc)
                outcomes["StudyError"] += 1
    assert outcomes["StudyError"] > 15  # the damage was real


def test_negative_schema_version_in_the_header(made, tmp_path):
    p = copy(made, tmp_path)
    b = bytearray(p.read_bytes())
    b[60] = 0xDB  # user_version, big-endian at offset 60: now negative
    p.write_bytes(bytes(b))
    with pytest.raises(StudyError, match="header says schema version -"):
        Study.open(p)
