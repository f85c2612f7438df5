"""The study's SQLite connection: errors of a damaged or read-only file as one line, the
file checks before SQLite touches it, and JSON and text columns stored safely."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from n1studio.errors import StudyError
from n1studio.schema import json_default

TRUNCATED_MARK = "\n[… truncated by N-1 Studio: {size:,} bytes in all, the first {kept:,} kept]"


def safe_text(text: str | None, limit_bytes: int | None = None) -> tuple[str, bool]:
    """`text` as SQLite can store it, and whether it was truncated. Lone surrogates (which
    UTF-8 cannot hold, so SQLite would refuse the text) are written as `\\udXXX`; text
    over `limit_bytes` of UTF-8 is cut there (on a character boundary) and ends with a
    line saying so."""
    text = "" if text is None else str(text)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "backslashreplace")
        text = data.decode("utf-8")
    if limit_bytes is None or len(data) <= limit_bytes:
        return text, False
    kept = data[:limit_bytes].decode("utf-8", "ignore")
    return kept + TRUNCATED_MARK.format(size=len(data), kept=len(kept.encode("utf-8"))), True


def dumps(doc) -> str | None:
    if doc is None:
        return None
    return json.dumps(doc, separators=(",", ":"), sort_keys=False, allow_nan=True,
                      default=json_default)


def loads(text, where: tuple[Path, str] | None = None):
    """A stored JSON document; a damaged one is a StudyError naming its row and column."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        name, what = (where[0].name, where[1]) if where else ("the study", "a JSON column")
        raise StudyError(f"{name}: {what} is damaged (not JSON: {exc}); `n1studio study check` "
                         "lists every damaged row") from None


# ---- SQLite errors as one line --------------------------------------------------------------

def translate(path: Path, exc: Exception) -> Exception:
    """The one-line StudyError for an SQLite error a damaged or read-only file causes."""
    msg = str(exc)
    low = msg.lower()
    name = path.name
    if any(s in low for s in ("malformed", "not a database", "corrupt", "could not decode",
                              "utf-8")):
        return StudyError(f"{name} is damaged (SQLite: {msg}); `n1studio study check {path}` "
                          "says what is broken; restore a copy if you have one")
    if "readonly" in low or "read-only" in low:
        return StudyError(f"{name} is read-only here: it can be read but not changed "
                          f"(SQLite: {msg})")
    if "no such table" in low or "no such column" in low:
        return StudyError(f"{name} is marked as an N-1 Studio study but part of its schema is "
                          f"missing ({msg}): the file is damaged")
    if "locked" in low or "busy" in low:
        return StudyError(f"{name} stayed locked by another program for 30 s ({msg}); "
                          "try again when it is done")
    if any(s in low for s in ("disk i/o", "disk is full", "unable to open", "out of memory")):
        return StudyError(f"{name}: {msg}")
    return exc


class Cursor(sqlite3.Cursor):
    """A cursor whose SQLite errors from a damaged or read-only file are StudyErrors."""

    def _fail(self, exc: Exception):
        err = translate(self.connection.study_path, exc)
        if err is exc:
            raise exc
        raise err from None

    def execute(self, sql, args=()):
        try:
            return super().execute(sql, args)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._fail(exc)

    def executemany(self, sql, seq):
        try:
            return super().executemany(sql, seq)
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._fail(exc)

    def fetchone(self):
        try:
            return super().fetchone()
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._fail(exc)

    def fetchall(self):
        try:
            return super().fetchall()
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._fail(exc)

    def __next__(self):
        try:
            return super().__next__()
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._fail(exc)


class Connection(sqlite3.Connection):
    """A connection whose `execute` goes through `Cursor` (one-line errors)."""

    study_path: Path

    def execute(self, sql, args=()):
        return self.cursor(Cursor).execute(sql, args)

    def executemany(self, sql, seq):
        return self.cursor(Cursor).executemany(sql, seq)


def connect(p: Path, readonly: bool) -> Connection:
    """Open the SQLite file: read-write, or read-only (`mode=ro`, then `immutable=1` when not
    even SQLite's WAL index can be opened, e.g. in a read-only folder)."""
    uri = p.resolve().as_uri()
    last: Exception | None = None
    for suffix in (("?mode=ro", "?immutable=1") if readonly else ("",)):
        conn = None
        try:
            conn = sqlite3.connect(uri + suffix, uri=True, factory=Connection, timeout=30,
                                   isolation_level=None, check_same_thread=False)
            conn.study_path = p
            conn.row_factory = sqlite3.Row
            # the plain execute: a raw sqlite3.Error here decides whether to try the next way
            sqlite3.Connection.execute(conn, "SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except (sqlite3.Error, UnicodeDecodeError) as exc:  # a damaged schema: bad UTF-8
            last = exc
            if conn is not None:
                conn.close()
            if "unable to open" not in str(exc).lower():
                break
    err = translate(p, last)
    raise (err if err is not last else StudyError(f"{p.name} cannot be opened ({last})")) from None


def check_header(p: Path) -> None:
    """Refuse an existing file that cannot be a study before SQLite touches it: an empty
    file (it may be a study whose contents were lost: it is not silently made a new one),
    an unreadable one, or one that is not SQLite."""
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise StudyError(f"{p} cannot be read: {exc.strerror}") from None
    if size == 0:
        raise StudyError(f"{p.name} is an empty file (0 bytes), not a study; remove it to start "
                         "a new study there (an empty file may be a study whose contents were "
                         "lost, so it is not overwritten)")
    if head != b"SQLite format 3\x00":
        raise StudyError(f"{p.name} is not an N-1 Studio study (not an SQLite file)")


def writable(p: Path) -> bool:
    """Whether the study (and its folder, where SQLite keeps the -wal/-shm files) is writable."""
    folder = p.parent if str(p.parent) else Path(".")
    return os.access(p, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)
