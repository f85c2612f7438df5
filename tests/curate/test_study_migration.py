"""A study written before variants had perturbations (schema 3) opens as schema 4 with
every id, run and annotation where it was."""

from __future__ import annotations

import json
import sqlite3
import time

from n1studio.curate import study as study_mod
from n1studio.curate.study import Study, check_study


def _v3_study(path):
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {study_mod.APPLICATION_ID}")
    for script in study_mod.MIGRATIONS[:3]:
        for stmt in [s.strip() for s in script.split(";") if s.strip()]:
            conn.execute(stmt)
    conn.execute("PRAGMA user_version = 3")
    now = time.time()
    conn.execute("INSERT INTO grids (id, name, source, content_hash, net_json, created_at) "
                 "VALUES (1, 'case14', 'case14', 'h', NULL, ?)", (now,))
    conn.execute("INSERT INTO variants (id, grid_id, outages, label, created_at) VALUES "
                 "(7, 1, '[\"line:3\"]', 'N-1 line:3', ?)", (now,))
    conn.execute("INSERT INTO models (id, file_name, sha256, size) VALUES (2, 'm', 'x', 1)")
    conn.execute("INSERT INTO runs (id, variant_id, model_id, settings, settings_key, prompt, "
                 "raw, answer, verdict, stats, cancelled, started_at, finished_at) VALUES "
                 "(5, 7, 2, '{}', 'k', 'p', 'r', NULL, '{\"feasible\": false}', '{}', 0, ?, ?)",
                 (now, now))
    conn.execute("INSERT INTO annotations (target, target_id, tags, note, updated_at) VALUES "
                 "('run', 5, '[\"odd\"]', 'look at bus 4', ?)", (now,))
    conn.commit()
    conn.close()


def test_schema_3_study_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.n1study"
    _v3_study(path)
    with Study.open(path) as st:
        assert st.version == study_mod.SCHEMA_VERSION == 4
        v = st.variant(7)
        assert v["outages"] == ["line:3"] and v["perturbation"] == {}
        # the same outages under a perturbation are another variant now
        other = st.add_variant(1, ["line:3"], {"load_noise": 0.1, "seed": 2})
        assert other != 7 and st.add_variant(1, ["line:3"]) == 7
        assert st.variant(other)["perturbation"] == {"load_noise": 0.1, "seed": 2}
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT variant_id FROM runs WHERE id = 5").fetchone() == (7,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        note = conn.execute("SELECT note, tags FROM annotations WHERE target_id = 5").fetchone()
        assert note[0] == "look at bus 4" and json.loads(note[1]) == ["odd"]
    finally:
        conn.close()
    assert check_study(path) == []


def test_check_calls_a_valid_schema_3_study_unmigrated_not_damaged(tmp_path, capsys):
    from n1studio.cli import main

    path = tmp_path / "old.n1study"
    _v3_study(path)
    assert check_study(path) == []
    assert main(["study", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "damaged" not in out
    assert f"needs migrating: study schema version 3, this N-1 Studio writes " \
           f"{study_mod.SCHEMA_VERSION}" in out
    # checking changed nothing: still schema 3 until something writes to it
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    finally:
        conn.close()
    # a current study missing a column the schema has is damage, not an old schema
    with Study.open(path):
        pass
    conn = sqlite3.connect(path)
    try:
        conn.execute("ALTER TABLE runs DROP COLUMN stats")
        conn.commit()
    finally:
        conn.close()
    assert check_study(path) == ["schema: table runs has no column stats (schema version 4)"]
