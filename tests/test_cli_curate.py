"""`n1studio study / dataset / report` as users call them (eval runs the model: tests/curate)."""

from __future__ import annotations

import json

from n1studio.cli import main


def test_study_new_info_and_refusals(tmp_path, capsys):
    st = tmp_path / "my.n1study"
    assert main(["study", "new", str(st)]) == 0
    assert "schema version" in capsys.readouterr().out
    assert main(["study", "new", str(st)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["study", "info", str(st), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["runs"] == 0 and info["datasets"] == []
    junk = tmp_path / "junk.n1study"
    junk.write_bytes(b"\x00\x01 not sqlite")
    assert main(["study", "info", str(junk)]) == 2
    err = capsys.readouterr().err
    assert "not an N-1 Studio study" in err and "Traceback" not in err
    assert main(["study", "runs", str(st)]) == 0
    assert "no runs yet" in capsys.readouterr().out


def test_dataset_build_export_import_report(tmp_path, capsys):
    st = tmp_path / "s.n1study"
    assert main(["dataset", "build", "case14", "--study", str(st), "--sample", "1", "--seed", "2",
                 "--no-islanding", "--name", "tiny"]) == 0
    assert "2 cases (1 N, 1 N-1)" in capsys.readouterr().out
    out = tmp_path / "tiny.jsonl"
    assert main(["dataset", "export", str(st), "--out", str(out)]) == 0
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["split"] for r in recs] == ["N", "N-1"]
    other = tmp_path / "o.n1study"
    assert main(["dataset", "import", str(out), "--study", str(other)]) == 0
    out2 = tmp_path / "again.jsonl"
    assert main(["dataset", "export", str(other), "--dataset", "tiny", "--out", str(out2)]) == 0
    assert out.read_bytes() == out2.read_bytes()
    capsys.readouterr()
    assert main(["dataset", "build", "case14", "--study", str(st), "--sample", "1",
                 "--name", "tiny"]) == 2
    assert "already has a dataset named 'tiny'" in capsys.readouterr().err
    # a report of a study without runs says so rather than failing
    assert main(["report", "--study", str(st), "--out", str(tmp_path / "rep"), "--no-png"]) == 0
    assert "no runs yet" in capsys.readouterr().out
    assert (tmp_path / "rep" / "report.html").is_file()
    assert main(["eval", "--study", str(st), "--dataset", "nope"]) == 2
    assert "has no dataset 'nope'" in capsys.readouterr().err
