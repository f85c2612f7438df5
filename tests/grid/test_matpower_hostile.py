"""A case file never silently becomes another grid (issue 19, second hostile round).

Every input is PGLib case14 (or case30) with one hostile edit: comments and strings that
hold `]`, `;` and whole fake tables, continuation lines, block comments, a second or a
computed assignment, another text encoding, a cut, values that overflow the solver. Each
is either read as exactly the grid of the clean file, or refused in one line that says
what the file is (UTF-16, truncated) or names the table and row.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from n1studio.errors import CaseError
from n1studio.grid import mlex
from n1studio.grid.cases import load_case
from n1studio.grid.matpower import read_matpower
from n1studio.grid.mfile import read_assignments
from n1studio.grid.variant import Variant
from n1studio.solve.acopf import solve_acopf
from tests.conftest import PGLIB
from tests.grid import case_mutations as cm

TABLES = ("bus", "gen", "branch", "gencost")
CASE14_AC = 2178.08  # BASELINE.md: pglib_opf_case14_ieee AC 2.1781e+03 $/h


@pytest.fixture
def case14(pglib) -> str:
    return pglib("case14_ieee").read_text()


@pytest.fixture
def clean(pglib) -> dict:
    return read_matpower(pglib("case14_ieee"))


def write(tmp_path, text: str | bytes, name: str = "hostile.m"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def same_grid(ppc: dict, clean: dict) -> None:
    assert ppc["baseMVA"] == clean["baseMVA"]
    for t in TABLES:
        assert np.array_equal(ppc[t], clean[t]), t


def refusal(tmp_path, text: str | bytes, name: str = "hostile.m") -> str:
    path = write(tmp_path, text, name)
    with pytest.raises(CaseError) as info:
        read_matpower(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(name + ": ")
    return msg


def after(text: str, anchor: str, insert: str) -> str:
    """`text` with `insert` placed just after the first line holding `anchor`."""
    k = text.index(anchor)
    k = text.index("\n", k) + 1
    return text[:k] + insert + text[k:]


# ---- comments and strings are text, never structure --------------------------------------
def test_a_commented_out_gencost_after_the_real_one_is_a_comment(tmp_path, case14, clean):
    fake = ("% mpc.gencost = [\n%\t2\t0\t0\t3\t100\t9000\t0;\n% ];\n"
            "%mpc.gencost = [2 0 0 3 100 9000 0; 2 0 0 3 100 9000 0];\n")
    text = case14 + "\n" + fake
    path = write(tmp_path, text)
    same_grid(read_matpower(path), clean)
    result = solve_acopf(Variant(load_case(path)).model)
    assert result.success and result.objective == pytest.approx(CASE14_AC, rel=1e-5)


def test_a_comment_holding_bracket_and_semicolon_does_not_end_the_branch_table(
        tmp_path, case14, clean):
    text = after(case14, "mpc.branch = [", "\t% a note: ]; this is not the end ];\n")
    k = text.index("\n", text.index("\t1\t 5\t 0.05403"))
    text = text[:k] + " % ]; ] ; end" + text[k:]
    ppc = read_matpower(write(tmp_path, text))
    same_grid(ppc, clean)
    assert len(ppc["branch"]) == 20


def test_strings_and_cell_arrays_hold_any_text(tmp_path, case14, clean):
    names = "; ".join(f"'bus {k} ]; %% it''s'" for k in range(1, 15))
    text = (case14 + f"\nmpc.bus_name = {{\n\t{names}\n}};\n"
            "mpc.note = \"a ] ; % string\";\nmpc.gentype = {'ST', 'ST'; 'SC', 'SC'};\n")
    same_grid(read_matpower(write(tmp_path, text)), clean)


def test_continuation_lines_and_one_line_tables_read_the_same_grid(tmp_path, case14, clean):
    text = case14.replace("\t1\t 2\t 0.01938\t 0.05917",
                          "\t1\t 2 ... the ends\n\t 0.01938\t 0.05917", 1)
    rows = "; ".join(" ".join(f"{v:.17g}" for v in r) for r in clean["gen"])
    text = cm.drop_table(text, "gen") + f"\nmpc.gen = [{rows}];\n"
    rows = ",\n".join(", ".join(f"{v:.17g}" for v in r) for r in clean["gencost"])
    text = cm.drop_table(text, "gencost") + f"mpc.gencost = [{rows}\n];\n"
    same_grid(read_matpower(write(tmp_path, text)), clean)


def test_a_block_comment_holding_a_fake_table_is_a_comment(tmp_path, case14, clean):
    text = case14 + "\n%{\nmpc.gencost = [\n\t2 0 0 3 100 9000 0;\n];\n%}\n"
    same_grid(read_matpower(write(tmp_path, text)), clean)


def test_latin1_in_a_comment_is_harmless_and_outside_one_is_refused(tmp_path, case14, clean):
    raw = case14.encode() + b"\n% Z\xfcrich substation\n"
    same_grid(read_matpower(write(tmp_path, raw)), clean)
    msg = refusal(tmp_path, case14.encode() + b"\nmpc.x\xfc = 1;\n")
    assert "a byte that is not UTF-8 text" in msg


# ---- what would be another grid: refused, naming where -----------------------------------
def test_rows_hidden_in_a_block_comment_disagree_with_the_file_lines(tmp_path, case14):
    text = after(case14, "mpc.branch = [", "%{\n\t1\t 3\t 0.1\t 0.2\t 0\t 0\t 0\t 0\t 0\t 0"
                                           "\t 1\t -30\t 30;\n%}\n")
    msg = refusal(tmp_path, text)
    assert "mpc.branch" in msg and "looks like a row and is not read" in msg


def test_a_table_ended_early_leaves_rows_outside_any_table(tmp_path, case14):
    text = case14.replace("\t2\t 4\t 0.05811", "];\n\t2\t 4\t 0.05811", 1)
    msg = refusal(tmp_path, text)
    assert "values outside any table" in msg and "line" in msg


def test_a_second_assignment_of_a_table_is_refused(tmp_path, case14):
    msg = refusal(tmp_path, case14 + "\nmpc.gencost = [2 0 0 3 0 1 0];\n")
    assert "mpc.gencost is assigned twice" in msg


@pytest.mark.parametrize("code", ["mpc.branch(:, 6) = 0;", "mpc.bus = mpc.bus(1:5, :);",
                                  "mpc = ext2int(mpc);", "mpc.bus = [1 2 3]';"])
def test_code_that_changes_the_case_is_refused(tmp_path, case14, code):
    msg = refusal(tmp_path, case14 + "\n" + code + "\n")
    assert "code" in msg or "computed" in msg or "twice" in msg


def test_an_expression_inside_a_table_is_refused(tmp_path, case14):
    text = case14.replace("\t1\t 2\t 0.01938", "\t1\t 2\t 0.01 - 0.00938", 1)
    assert "an expression, not a number" in refusal(tmp_path, text)


# ---- what the file is --------------------------------------------------------------------
@pytest.mark.parametrize(("encoding", "says"), [
    ("utf-16", "UTF-16 (little-endian) text"), ("utf-16-be", "UTF-16 (big-endian) text"),
    ("utf-16-le", "UTF-16 (little-endian) text without a byte-order mark"),
    ("utf-32", "UTF-32 (little-endian) text")])
def test_utf16_and_utf32_files_are_refused_as_what_they_are(tmp_path, case14, encoding, says):
    raw = case14.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    msg = refusal(tmp_path, raw)
    assert says in msg and "save it as UTF-8" in msg


def test_a_utf8_byte_order_mark_is_read(tmp_path, case14, clean):
    same_grid(read_matpower(write(tmp_path, b"\xef\xbb\xbf" + case14.encode())), clean)


@pytest.mark.parametrize(("cut_at", "says"), [
    ("mpc.branch = [\n\t1\t 2\t 0.01", "ends inside mpc.branch"),
    ("\t2\t 0.0\t 0.0\t 3\t   0.000000\t  23.26", "ends inside mpc.gencost"),
    ("mpc.version = '2", "ends inside a string"),
])
def test_a_truncated_file_is_truncated(tmp_path, case14, cut_at, says):
    text = case14[:case14.index(cut_at) + len(cut_at)]
    msg = refusal(tmp_path, text)
    assert says in msg and "truncated" in msg


def test_a_file_cut_between_two_tables_says_truncated(tmp_path, case14):
    text = case14[:case14.index("%% generator cost data")]
    msg = refusal(tmp_path, text)
    assert "mpc.branch is missing" in msg and "after mpc.gen: is it truncated?" in msg


def test_cut_anywhere_a_file_is_the_whole_grid_or_truncated(tmp_path, case14, clean):
    """Seeded: 40 cuts of case14 at random bytes; none is read as another grid."""
    rng = random.Random(19)
    for _ in range(40):
        n = rng.randrange(1, len(case14))
        path = write(tmp_path, case14[:n])
        try:
            ppc = read_matpower(path)
        except CaseError as exc:
            assert "truncated" in str(exc) or "no 'mpc' structure" in str(exc), (n, str(exc))
            continue
        same_grid(ppc, clean)  # cut inside the trailing comments only


def test_empty_and_binary_files(tmp_path):
    assert "the file is empty" in refusal(tmp_path, b"  \n\n")
    assert "NUL bytes" in refusal(tmp_path, bytes(range(256)) * 4)


# ---- values that would meet NaN inside the solver ----------------------------------------
@pytest.mark.parametrize(("table", "row", "col", "value", "says"), [
    ("bus", 2, cm.PD, "1e300", "mpc.bus row 3"),
    ("branch", 4, cm.RATE_A, "1e300", "mpc.branch row 5"),
    ("gencost", 0, 4, "1e200", "mpc.gencost row 1"),
    ("gen", 1, cm.PMAX, "-1e250", "mpc.gen row 2"),
    ("bus", 0, 9, "1e300", "mpc.bus row 1"),
])
def test_values_beyond_any_grid_are_refused_by_name_and_row(tmp_path, case14, table, row,
                                                            col, value, says):
    msg = refusal(tmp_path, cm.set_cell(case14, table, row, col, value))
    assert says in msg and "beyond any power-system quantity" in msg


def test_an_impedance_whose_admittance_overflows_is_refused(tmp_path, case14):
    text = cm.set_cell(cm.set_cell(case14, "branch", 6, cm.BR_R, "1e-300"), "branch", 6,
                       cm.BR_X, "-1e-300")
    msg = refusal(tmp_path, text)
    assert "mpc.branch row 7" in msg and "admittance overflows" in msg


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("\n", "\r\n"), lambda t: t.replace("\n", "\r"),
    lambda t: t.replace("%% bus data", "%% bus\f data\x85 \u2028"),
], ids=["crlf", "cr", "form-feed-in-comment"])
def test_line_endings_and_odd_blanks_read_the_same_grid(tmp_path, case14, clean, edit):
    same_grid(read_matpower(write(tmp_path, edit(case14).encode())), clean)


def test_the_line_fast_path_reads_what_the_tokenizer_reads(monkeypatch):
    """Lines of numbers are read one match at a time (grid/mlex.py); without that shortcut,
    token by token, every PGLib file gives the same rows on the same lines."""
    for path in sorted(PGLIB.glob("pglib_opf_*.m")):
        text = path.read_text()
        fast = read_assignments(text, path.name)
        with monkeypatch.context() as m:
            m.setattr(mlex, "_row_lines", lambda text, pos, line: (pos, line, []))
            slow = read_assignments(text, path.name)
        assert fast.keys() == slow.keys()
        for k, a in fast.items():
            assert (a.value, a.row_lines) == (slow[k].value, slow[k].row_lines), (path.name, k)
