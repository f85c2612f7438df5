"""The study file: versioned schema, refusal of what is not a study, committed work survives."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from n1studio.curate.study import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Study, grid_hash
from n1studio.errors import StudyError
from n1studio.grid.cases import load_case


def test_new_study_is_wal_and_versioned(tmp_path):
    p = tmp_path / "a.n1study"
    with Study.open(p, create=True) as st:
        assert st.version == SCHEMA_VERSION == len(MIGRATIONS)
    conn = sqlite3.connect(p)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"grids", "variants", "solutions", "datasets", "dataset_items", "models", "runs",
            "annotations", "sweeps"} <= tables


def test_missing_study_without_create(tmp_path):
    with pytest.raises(StudyError, match="no such study"):
        Study.open(tmp_path / "nope.n1study")


def test_text_file_is_refused(tmp_path):
    p = tmp_path / "notes.n1study"
    p.write_text("these are my notes, not a study\n")
    with pytest.raises(StudyError, match="not an N-1 Studio study"):
        Study.open(p)
    assert p.read_text() == "these are my notes, not a study\n"  # untouched


def test_other_sqlite_database_is_refused(tmp_path):
    p = tmp_path / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StudyError, match="SQLite file but not an N-1 Studio study"):
        Study.open(p, create=True)


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "future.n1study"
    Study.open(p, create=True).close()
    conn = sqlite3.connect(p)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StudyError, match="newer N-1 Studio"):
        Study.open(p)


def test_old_schema_is_migrated_keeping_data(tmp_path):
    p = tmp_path / "old.n1study"
    conn = sqlite3.connect(p)
    conn.executescript(MIGRATIONS[0])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO grids (name, source, content_hash, created_at) "
                 "VALUES ('case14', 'case14', 'abc', 0)")
    conn.commit()
    conn.close()
    with Study.open(p) as st:
        assert st.version == SCHEMA_VERSION
        assert [g["name"] for g in st.grids()] == ["case14"]
        assert st.latest_sweep(1) is None  # the v2 table exists


def test_grids_variants_solutions_annotations(tmp_path):
    net = load_case("case14")
    with Study.open(tmp_path / "s.n1study", create=True) as st:
        gid = st.add_grid(net, "case14")
        assert st.add_grid(load_case("case14"), "case14") == gid  # same content, same grid
        assert st.grid(gid)["content_hash"] == grid_hash(net)
        v1 = st.add_variant(gid, ["line:3"])
        assert st.add_variant(gid, ["line:3"]) == v1
        v2 = st.add_variant(gid, ["trafo:0", "line:3"])
        assert st.variant(v2)["outages"] == ["line:3", "trafo:0"]
        st.set_solution(v1, "ac", "optimal", True, 8100.5, {"schema": "n1studio.answer/1"})
        assert st.solution(v1)["objective"] == 8100.5
        st.annotate("variant", v1, tags=["hard", "radial"], note="check bus 4", decision="keep")
        st.annotate("variant", v1, note="checked")
        assert st.annotation("variant", v1) == {"tags": ["hard", "radial"], "note": "checked",
                                                "decision": "keep"}
        with pytest.raises(StudyError):
            st.annotate("variant", v1, decision="maybe")
        # the stored grid reopens identical
        assert grid_hash(st.load_net(gid)) == grid_hash(net)


def test_killed_writer_leaves_committed_rows(tmp_path):
    """A process killed in the middle of a transaction loses only that transaction."""
    p = tmp_path / "k.n1study"
    Study.open(p, create=True).close()
    script = textwrap.dedent(f"""
        import os, time
        from n1studio.curate.study import Study
        st = Study.open({str(p)!r})
        for i in range(3):
            with st.transaction() as c:
                c.execute("INSERT INTO grids (name, source, content_hash, created_at) "
                          "VALUES (?, 'x', ?, 0)", (f"g{{i}}", f"h{{i}}"))
        st.conn.execute("BEGIN IMMEDIATE")
        st.conn.execute("INSERT INTO grids (name, source, content_hash, created_at) "
                        "VALUES ('torn', 'x', 'torn', 0)")
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.kill()
        proc.wait()
    with Study.open(p) as st:
        assert [g["name"] for g in st.grids()] == ["g0", "g1", "g2"]
