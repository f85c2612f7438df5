"""`n1studio study check`: what is damaged in a study, one line each, read-only."""

from __future__ import annotations

import json
from pathlib import Path

from n1studio.curate.study.connection import check_header, connect
from n1studio.curate.study.schema import APPLICATION_ID, JSON_COLUMNS, SCHEMA_VERSION, tables_of
from n1studio.errors import StudyError


def check_study(path: str | Path, limit: int = 100) -> list[str]:
    """What is damaged in a study, one line each (empty: nothing found). Read-only.

    SQLite's own ``PRAGMA integrity_check`` (pages, indexes, free lists), the tables its
    schema version needs, ``PRAGMA foreign_key_check``, annotations on runs or variants that
    no longer exist, and a parse of every JSON column. A file that is not a study at all is
    a StudyError, as for `Study.open`. A valid study of an older schema is not damaged
    (`inspect_study` says it needs migrating).
    """
    return inspect_study(path, limit)["problems"]


def inspect_study(path: str | Path, limit: int = 100) -> dict:
    """`check_study`'s problems, with the study's schema `version` and `needs_migration`
    (an older schema, upgraded in place the next time N-1 Studio writes to it)."""
    found: dict = {"version": None}
    problems = _problems(Path(path).expanduser(), limit, found)
    version = found["version"]
    return {"problems": problems, "version": version,
            "needs_migration": version is not None and 0 <= version < SCHEMA_VERSION}


def _problems(p: Path, limit: int, found: dict) -> list[str]:
    if not p.exists():
        raise StudyError(f"no such study: {p}")
    if p.is_dir():
        raise StudyError(f"{p} is a folder, not a study file")
    check_header(p)
    conn = connect(p, readonly=True)
    problems: list[str] = []
    try:
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            found["version"] = version
        except StudyError as exc:
            return [str(exc)]
        if app_id != APPLICATION_ID:
            raise StudyError(f"{p.name} is an SQLite file but not an N-1 Studio study")
        try:
            rows = conn.execute(f"PRAGMA integrity_check({int(limit)})").fetchall()
        except StudyError as exc:
            return [str(exc)]
        problems += [f"integrity: {r[0]}" for r in rows if r[0] != "ok"]
        try:
            have = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except StudyError as exc:
            return [*problems, str(exc)]
        problems += [f"schema: table {t} is missing (schema version {version})"
                     for t in sorted(tables_of(min(version, SCHEMA_VERSION)) - have)]
        checks = [("PRAGMA foreign_key_check", lambda r: f"foreign key: {r[0]} row {r[1]} refers "
                                                         f"to a missing {r[2]} row"),
                  (("SELECT a.id, a.target, a.target_id FROM annotations a WHERE (a.target = "
                   "'run' AND a.target_id NOT IN (SELECT id FROM runs)) OR (a.target = "
                   "'variant' AND a.target_id NOT IN (SELECT id FROM variants))"),
                   lambda r: f"orphan: annotation {r[0]} is on {r[1]} {r[2]}, which does not "
                             "exist")]
        if not {"annotations", "runs", "variants"} <= have:
            checks.pop()
        for table, cols in JSON_COLUMNS.items():
            if table not in have:
                continue
            try:
                present = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            except StudyError as exc:
                problems.append(str(exc))
                continue
            if version >= SCHEMA_VERSION:
                problems += [f"schema: table {table} has no column {c} (schema version "
                             f"{version})" for c in cols if c not in present]
            # an older schema lacks the columns later versions add: not damage
            cols = tuple(c for c in cols if c in present)
            if not cols:
                continue
            key = "id" if table != "dataset_items" else "rowid"
            checks.append((f"SELECT {key}, {', '.join(cols)} FROM {table}",
                           _json_problems(table, cols)))
        for sql, describe in checks:
            if len(problems) >= limit:
                break
            try:
                for r in conn.execute(sql):
                    line = describe(r)
                    for one in ([line] if isinstance(line, str) else line or []):
                        problems.append(one)
                    if len(problems) >= limit:
                        break
            except StudyError as exc:
                problems.append(str(exc))
    finally:
        conn.close()
    return problems[:limit]


def _json_problems(table: str, cols: tuple[str, ...]):
    def describe(row) -> list[str]:
        out = []
        for k, col in enumerate(cols, start=1):
            text = row[k]
            if text is None:
                continue
            try:
                json.loads(text)
            except (ValueError, TypeError) as exc:
                out.append(f"json: {table} {row[0]} column {col} is not JSON ({exc})")
        return out

    return describe
