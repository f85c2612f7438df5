"""The study: one SQLite file holding grids, variants, references, model runs and annotations.

Why SQLite in WAL mode: one file a researcher can copy and share, readable by any SQLite
tool, and every model run is its own committed transaction, so a crash or a kill in the
middle of an evaluation leaves the file readable with every run that finished before it.

What SQLite guarantees, and what this module asks of it:
- ``journal_mode=WAL``: readers never block the writer (the GUI reads while `eval` writes);
- ``synchronous=FULL``: a commit is on disk when it returns, so a run also survives a power
  cut or an OS crash, not only a killed process (NORMAL in WAL mode may lose the last commits
  on power loss). The price is one fsync per commit, a few milliseconds against the seconds
  a model answer takes;
- ``PRAGMA integrity_check`` and a parse of every JSON column behind `check_study`
  (``n1studio study check FILE``);
- one bulk writer at a time: `Study.writer()` holds a lease row (``writer`` table) that a
  second evaluation waits on briefly, then refuses with one line naming the holder;
- run ids are stable: a run asked again is updated in place (``ON CONFLICT DO UPDATE``),
  so an annotation on it is never orphaned.
Damage (a malformed page, a study without its tables, a JSON column that is not JSON, a
read-only file asked to change) is a `StudyError` with one line, never a traceback; a
read-only study opens for reading.

Identity and versions:
- ``PRAGMA application_id`` marks a file as a study (a SQLite file without it is refused);
- ``PRAGMA user_version`` is the schema version; `MIGRATIONS[i]` takes version i to i+1.
  A file from a newer N-1 Studio (version above `SCHEMA_VERSION`) is refused, never
  half-read.

Tables (JSON documents are stored as text): ``grids`` (name, source, content hash and the
pandapower JSON so a study is self-contained), ``variants`` (grid, sorted outages),
``solutions`` (reference answer per variant and kind), ``datasets`` / ``dataset_items``
(N and N-1 sets with their prompts), ``models`` (GGUF file name and SHA-256), ``runs``
(model x variant x settings: prompt, raw text, answer, verdict, timings), ``annotations``
(tags, note, keep/reject on a variant or a run), ``sweeps`` (saved sweep documents).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from n1studio.errors import StudyBusyError, StudyError
from n1studio.schema import json_default

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4E315354  # "N1ST"
SCHEMA_VERSION = 4

_V1 = """
CREATE TABLE grids (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    net_json TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE variants (
    id INTEGER PRIMARY KEY,
    grid_id INTEGER NOT NULL REFERENCES grids(id),
    outages TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (grid_id, outages)
);
CREATE TABLE solutions (
    id INTEGER PRIMARY KEY,
    variant_id INTEGER NOT NULL REFERENCES variants(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    success INTEGER NOT NULL,
    objective REAL,
    answer TEXT,
    solve_time_s REAL,
    created_at REAL NOT NULL,
    UNIQUE (variant_id, kind)
);
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    spec TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE dataset_items (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    variant_id INTEGER NOT NULL REFERENCES variants(id),
    position INTEGER NOT NULL,
    split TEXT NOT NULL,
    prompt TEXT NOT NULL,
    PRIMARY KEY (dataset_id, variant_id)
);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    variant_id INTEGER NOT NULL REFERENCES variants(id),
    model_id INTEGER NOT NULL REFERENCES models(id),
    settings TEXT NOT NULL,
    settings_key TEXT NOT NULL,
    prompt TEXT NOT NULL,
    raw TEXT NOT NULL,
    answer TEXT,
    verdict TEXT,
    stats TEXT,
    cancelled INTEGER NOT NULL DEFAULT 0,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    UNIQUE (variant_id, model_id, settings_key)
);
CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL CHECK (target IN ('variant', 'run')),
    target_id INTEGER NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    decision TEXT CHECK (decision IN ('keep', 'reject') OR decision IS NULL),
    updated_at REAL NOT NULL,
    UNIQUE (target, target_id)
);
"""

_V2 = """
CREATE TABLE sweeps (
    id INTEGER PRIMARY KEY,
    grid_id INTEGER NOT NULL REFERENCES grids(id),
    kinds TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX runs_by_model ON runs (model_id);
"""

# The writer lease (one row at most): who is writing the study in bulk, since when.
_V3 = """
CREATE TABLE writer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    process_start TEXT NOT NULL,
    purpose TEXT NOT NULL,
    since REAL NOT NULL
);
"""

# Variants gain their perturbation (grid/perturb.py; '{}' for none): the same outages under
# another load, cost or naming are another variant. SQLite cannot change a UNIQUE
# constraint in place, so the table is rebuilt (SQLite's documented procedure; `_migrate`
# runs it with foreign keys off, and the ids, which other tables reference, are kept).
_V4 = """
CREATE TABLE variants_v4 (
    id INTEGER PRIMARY KEY,
    grid_id INTEGER NOT NULL REFERENCES grids(id),
    outages TEXT NOT NULL,
    perturbation TEXT NOT NULL DEFAULT '{}',
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (grid_id, outages, perturbation)
);
INSERT INTO variants_v4 (id, grid_id, outages, perturbation, label, created_at)
    SELECT id, grid_id, outages, '{}', label, created_at FROM variants;
DROP TABLE variants;
ALTER TABLE variants_v4 RENAME TO variants;
"""

#: MIGRATIONS[i] upgrades a study from schema version i to i + 1.
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4]

#: JSON text columns of each table (checked by `check_study`).
JSON_COLUMNS = {"variants": ("outages", "perturbation"), "solutions": ("answer",), "datasets": ("spec",),
                "runs": ("settings", "answer", "verdict", "stats"), "annotations": ("tags",),
                "sweeps": ("doc",)}

#: How long a second bulk writer waits for the first before it refuses (seconds).
WRITER_WAIT_S = 5.0


def _tables_of(version: int) -> set[str]:
    """The tables a study of schema `version` has (created, minus dropped, renamed)."""
    tables: set[str] = set()
    for script in MIGRATIONS[:version]:
        for m in re.finditer(r"CREATE TABLE (\w+)|DROP TABLE (\w+)|"
                             r"ALTER TABLE (\w+) RENAME TO (\w+)", script):
            if m.group(1):
                tables.add(m.group(1))
            elif m.group(2):
                tables.discard(m.group(2))
            else:
                tables.discard(m.group(3))
                tables.add(m.group(4))
    return tables


def _dumps(doc) -> str | None:
    if doc is None:
        return None
    return json.dumps(doc, separators=(",", ":"), sort_keys=False, allow_nan=True,
                      default=json_default)


def _loads(text, where: tuple[Path, str] | None = None):
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

def _translate(path: Path, exc: Exception) -> Exception:
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


class _Cursor(sqlite3.Cursor):
    """A cursor whose SQLite errors from a damaged or read-only file are StudyErrors."""

    def _fail(self, exc: Exception):
        err = _translate(self.connection.study_path, exc)
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


class _Connection(sqlite3.Connection):
    """A connection whose `execute` goes through `_Cursor` (one-line errors)."""

    study_path: Path

    def execute(self, sql, args=()):
        return self.cursor(_Cursor).execute(sql, args)

    def executemany(self, sql, seq):
        return self.cursor(_Cursor).executemany(sql, seq)


def _connect(p: Path, readonly: bool) -> _Connection:
    """Open the SQLite file: read-write, or read-only (`mode=ro`, then `immutable=1` when not
    even SQLite's WAL index can be opened, e.g. in a read-only folder)."""
    uri = p.resolve().as_uri()
    last: Exception | None = None
    for suffix in (("?mode=ro", "?immutable=1") if readonly else ("",)):
        conn = None
        try:
            conn = sqlite3.connect(uri + suffix, uri=True, factory=_Connection, timeout=30,
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
    err = _translate(p, last)
    raise (err if err is not last else StudyError(f"{p.name} cannot be opened ({last})")) from None


def _check_header(p: Path) -> None:
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


def _writable(p: Path) -> bool:
    """Whether the study (and its folder, where SQLite keeps the -wal/-shm files) is writable."""
    folder = p.parent if str(p.parent) else Path(".")
    return os.access(p, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


# ---- the writer lease's holder ----------------------------------------------------------------

def _process_start(pid: int) -> str:
    """A token of when process `pid` started (Linux: /proc start time), "" where unknown.
    It tells a live holder from a new process that reused a dead holder's pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def _holder_alive(pid: int, host: str, process_start: str) -> bool:
    """Whether the lease holder still runs. On another host it cannot be told: assume so."""
    if host != socket.gethostname():
        return True
    now = _process_start(pid)
    if process_start and now:
        return now == process_start
    if os.name == "nt":  # pragma: no cover - no signal 0 there (os.kill would terminate)
        import ctypes

        h = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if not h:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(h, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(h)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def outages_key(outages: Iterable[str]) -> str:
    """The canonical text of an outage set (sorted like Variant does)."""
    from n1studio.grid.elements import sort_key as _sort_key

    return json.dumps(sorted(set(outages), key=_sort_key))


def grid_hash(net) -> str:
    """SHA-256 of what defines a grid numerically (the GridModel arrays and element names).

    Independent of how the net was stored (pandapower JSON, MATPOWER, built-in), so a grid
    reopened from its source is recognised as the same one.
    """
    from n1studio.grid.variant import base_model

    m = base_model(net)
    h = hashlib.sha256()
    for arr in (m.vmin, m.vmax, m.pd, m.qd, m.gs, m.bs, m.is_ref, m.bus_on, m.f, m.t, m.yff,
                m.yft, m.ytf, m.ytt, m.rate, m.angmin, m.angmax, m.branch_on, m.gen_bus, m.pmin,
                m.pmax, m.qmin, m.qmax, m.c2, m.c1, m.c0, m.gen_on, m.load_p, m.load_q,
                m.load_on):
        a = np.asarray(arr)
        if a.dtype.kind in "fc":
            a = np.round(a, 9)
        h.update(a.tobytes())
    for names in (m.bus_names, m.branch_names, m.gen_names, m.load_names):
        h.update("\0".join(names).encode())
    h.update(repr(float(m.base_mva)).encode())
    return h.hexdigest()


# ---- GGUF hashing, once per file version -------------------------------------------------

_HASH_LOCK = threading.Lock()


def _hash_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "n1studio" / "gguf-sha256.json"


def model_sha256(path: str | Path) -> str:
    """SHA-256 of a model file, cached by (absolute path, size, mtime) across runs."""
    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
    except OSError as exc:
        raise StudyError(f"model file {p} cannot be read: {exc.strerror}") from None
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    cache_file = _hash_cache_file()
    with _HASH_LOCK:
        try:
            cache = json.loads(cache_file.read_text())
        except (OSError, ValueError):
            cache = {}
        if key in cache:
            return cache[key]
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
        digest = h.hexdigest()
        cache[key] = digest
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache, indent=0))
            tmp.replace(cache_file)
        except OSError as exc:  # a read-only home is fine: we hash again next time
            log.info("cannot cache model hashes in %s: %s", cache_file, exc)
        return digest


def settings_key(settings: dict) -> str:
    """The part of model settings that changes answers (not the path, threads or GPU layers)."""
    keep = {k: v for k, v in sorted(settings.items())
            if k not in ("model_path", "n_threads", "n_threads_batch", "n_gpu_layers", "n_ctx")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


# ---- the study --------------------------------------------------------------------------------

class Study:
    """An open study file. Use `Study.open(path, create=...)`; close() or use as a context."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool = False):
        self.path = path
        self.conn = conn
        #: opened for reading only (the file or its folder is not writable): changes are refused
        self.readonly = readonly
        self._lease_depth = 0

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, create: bool = False) -> Study:
        """Open (or with `create`, make) a study. Anything that is not a study: StudyError.

        A study that cannot be written here (its file or folder is read-only) opens for
        reading; anything that would change it is then a StudyError.
        """
        p = Path(path).expanduser()
        exists = p.exists()
        if not exists and not create:
            raise StudyError(f"no such study: {p} (create one with `n1studio study new {p}`)")
        if exists and p.is_dir():
            raise StudyError(f"{p} is a folder, not a study file")
        if exists:
            _check_header(p)
        else:
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StudyError(f"cannot create the study {p}: {exc.strerror}") from None
        readonly = exists and not _writable(p)
        conn = _connect(p, readonly)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except StudyError:
            conn.close()
            raise
        if app_id != APPLICATION_ID and (exists or tables or app_id):
            conn.close()
            if tables or app_id:
                raise StudyError(f"{p.name} is an SQLite file but not an N-1 Studio study")
            raise StudyError(f"{p.name} is an empty SQLite database, not an N-1 Studio study")
        if version < 0:
            conn.close()
            raise StudyError(f"{p.name} is damaged: its header says schema version {version}, "
                             "which no N-1 Studio writes")
        if version > SCHEMA_VERSION:
            conn.close()
            raise StudyError(f"{p.name} was written by a newer N-1 Studio (study schema "
                             f"version {version}; this version reads up to {SCHEMA_VERSION}); "
                             "upgrade N-1 Studio to open it")
        study = cls(p, conn, readonly=readonly)
        try:
            study._check_tables(version)
            if not readonly:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")  # see the module docstring
                conn.execute("PRAGMA foreign_keys=ON")
                study._migrate(version)
            elif version < SCHEMA_VERSION:
                log.info("%s: read-only study of schema %d, read as it is", p.name, version)
        except BaseException:
            conn.close()
            raise
        return study

    def _check_tables(self, version: int) -> None:
        """Refuse a file marked as a study whose tables are gone (damaged or emptied)."""
        have = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = sorted(_tables_of(version) - have)
        if missing:
            raise StudyError(f"{self.path.name} is marked as an N-1 Studio study (schema "
                             f"{version}) but has no table {', '.join(missing)}: the file is "
                             "damaged or was emptied by another program")

    def _migrate(self, version: int) -> None:
        if version == SCHEMA_VERSION:
            return
        # a table rebuild (V4) drops a parent table: foreign keys off for the migration
        # (a no-op inside a transaction, hence here), checked before it commits
        self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.transaction():
                if self._app_id() != APPLICATION_ID:
                    self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                for v in range(version, SCHEMA_VERSION):
                    log.info("%s: migrating study schema %d -> %d", self.path.name, v, v + 1)
                    for stmt in _statements(MIGRATIONS[v]):
                        self.conn.execute(stmt)
                    self.conn.execute(f"PRAGMA user_version = {v + 1}")
                bad = self.conn.execute("PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise StudyError(f"{self.path.name}: the schema upgrade would leave "
                                     f"{len(bad)} dangling reference(s); nothing was changed")
        finally:
            self.conn.execute("PRAGMA foreign_keys=ON")

    def _app_id(self) -> int:
        return self.conn.execute("PRAGMA application_id").fetchone()[0]

    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass

    def __enter__(self) -> Study:  # noqa: PYI034 - Study is not subclassed
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed unit of work (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        if self.readonly:
            raise StudyError(f"{self.path.name} is read-only here (the file or its folder cannot "
                             "be written): it was opened for reading, and this would change it")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            try:
                self.conn.execute("ROLLBACK")
            except (StudyError, sqlite3.Error):
                log.debug("rollback failed", exc_info=True)
            raise
        self.conn.execute("COMMIT")

    # ---- one bulk writer at a time ---------------------------------------------------------
    @contextmanager
    def writer(self, purpose: str, wait: float = WRITER_WAIT_S) -> Iterator[None]:
        """Hold the study's writer lease while `purpose` (e.g. "eval") writes to it.

        A second holder waits up to `wait` seconds, then gets StudyBusyError with one line
        naming the holder. Why a lease row in the study rather than a lock file beside it:
        the study stays one file (plus SQLite's own -wal/-shm), taking the lease is one
        SQLite transaction (BEGIN IMMEDIATE serialises two takers), and the holder's pid and
        start time are right there for the refusal. A lease left by a killed process is
        taken over: its pid no longer runs (or runs a different process, by start time).
        WAL needs every writer on one host anyway, so the pid can be checked.
        """
        if self._lease_depth:
            self._lease_depth += 1
            try:
                yield
            finally:
                self._lease_depth -= 1
            return
        me = (os.getpid(), socket.gethostname(), _process_start(os.getpid()))
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            with self.transaction() as c:
                row = c.execute("SELECT pid, host, process_start, purpose, since FROM writer "
                                "WHERE id = 1").fetchone()
                if row is None or not _holder_alive(row["pid"], row["host"],
                                                    row["process_start"]):
                    if row is not None:
                        log.info("%s: taking over the lease of pid %s, which has ended",
                                 self.path.name, row["pid"])
                    c.execute("INSERT INTO writer (id, pid, host, process_start, purpose, since) "
                              "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                              "pid = excluded.pid, host = excluded.host, "
                              "process_start = excluded.process_start, "
                              "purpose = excluded.purpose, since = excluded.since",
                              (*me, purpose, time.time()))
                    break
            if time.monotonic() >= deadline:
                since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(row["since"]))
                where = "" if row["host"] == me[1] else f" on {row['host']}"
                raise StudyBusyError(
                    f"study {self.path.name} is being written by pid {row['pid']}{where} "
                    f"({row['purpose']}) since {since}; run this again when it has finished")
            time.sleep(0.2)
        self._lease_depth = 1
        try:
            yield
        finally:
            self._lease_depth = 0
            try:
                with self.transaction() as c:
                    c.execute("DELETE FROM writer WHERE id = 1 AND pid = ? AND host = ?", me[:2])
            except (StudyError, sqlite3.Error) as exc:  # a lease left behind is taken over
                log.warning("%s: cannot release the writer lease: %s", self.path.name, exc)

    def writer_lease(self) -> dict | None:
        """Who holds the writer lease now ({pid, host, purpose, since}), None when free."""
        row = self._one("SELECT pid, host, process_start, purpose, since FROM writer "
                        "WHERE id = 1")
        if row is None or not _holder_alive(row["pid"], row["host"], row["process_start"]):
            return None
        return {k: row[k] for k in ("pid", "host", "purpose", "since")}

    def _one(self, sql: str, args=()) -> sqlite3.Row | None:
        return self.conn.execute(sql, args).fetchone()

    # ---- grids and variants ---------------------------------------------------------------
    def add_grid(self, net, source: str, name: str | None = None, store_net: bool = True) -> int:
        """Register a grid (idempotent by content hash); returns its id."""
        from n1studio.grid.cases import case_label

        h = grid_hash(net)
        row = self._one("SELECT id FROM grids WHERE content_hash = ?", (h,))
        if row is not None:
            return int(row["id"])
        net_json = None
        if store_net:
            import pandapower as pp

            net_json = pp.to_json(net)
        with self.transaction() as c:
            cur = c.execute("INSERT INTO grids (name, source, content_hash, net_json, created_at)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (name or case_label(net), str(source), h, net_json, time.time()))
            return int(cur.lastrowid)

    def grid(self, grid_id: int) -> dict:
        row = self._one("SELECT id, name, source, content_hash FROM grids WHERE id = ?", (grid_id,))
        if row is None:
            raise StudyError(f"{self.path.name}: no grid {grid_id}")
        return dict(row)

    def grids(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            "SELECT id, name, source, content_hash FROM grids ORDER BY id")]

    def grid_id(self, content_hash: str) -> int | None:
        row = self._one("SELECT id FROM grids WHERE content_hash = ?", (content_hash,))
        return None if row is None else int(row["id"])

    def load_net(self, grid_id: int):
        """The grid's pandapower net: from the stored JSON, else reopened from its source."""
        import warnings

        import pandapower as pp

        from n1studio.grid.cases import load_case

        row = self._one("SELECT name, source, content_hash, net_json FROM grids WHERE id = ?",
                        (grid_id,))
        if row is None:
            raise StudyError(f"{self.path.name}: no grid {grid_id}")
        if row["net_json"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                net = pp.from_json_string(row["net_json"])
            if not net.name:
                net.name = row["name"]
        else:
            net = load_case(row["source"])
        if grid_hash(net) != row["content_hash"]:
            raise StudyError(f"grid {row['name']!r} from {row['source']} is not the grid this study "
                             "recorded (its content changed)")
        return net

    def add_variant(self, grid_id: int, outages: Iterable[str],
                    perturbation: dict | None = None, label: str | None = None) -> int:
        """The id of the variant (outages + perturbation spec, grid/perturb.py), added when
        new. `label` is the variant's own label (Variant.label), stored for reading."""
        key = outages_key(outages)
        pkey = json.dumps(perturbation or {}, sort_keys=True, separators=(",", ":"))
        row = self._one("SELECT id FROM variants WHERE grid_id = ? AND outages = ? AND "
                        "perturbation = ?", (grid_id, key, pkey))
        if row is not None:
            return int(row["id"])
        outs = json.loads(key)
        if label is None:
            label = "N" if not outs else f"N-{len(outs)} " + ", ".join(outs)
        with self.transaction() as c:
            cur = c.execute("INSERT INTO variants (grid_id, outages, perturbation, label, "
                            "created_at) VALUES (?, ?, ?, ?, ?)",
                            (grid_id, key, pkey, label, time.time()))
            return int(cur.lastrowid)

    def variant(self, variant_id: int) -> dict:
        row = self._one("SELECT id, grid_id, outages, perturbation, label FROM variants "
                        "WHERE id = ?", (variant_id,))
        if row is None:
            raise StudyError(f"{self.path.name}: no variant {variant_id}")
        d = dict(row)
        d["outages"] = _loads(d["outages"], (self.path, f"variant {variant_id}'s outages"))
        d["perturbation"] = _loads(d["perturbation"],
                                   (self.path, f"variant {variant_id}'s perturbation"))
        return d

    # ---- references -----------------------------------------------------------------------
    def set_solution(self, variant_id: int, kind: str, status: str, success: bool,
                     objective: float | None, answer: dict | None,
                     solve_time_s: float | None = None) -> None:
        with self.transaction() as c:
            c.execute("INSERT INTO solutions (variant_id, kind, status, success, objective, "
                      "answer, solve_time_s, created_at) VALUES (?,?,?,?,?,?,?,?) "
                      "ON CONFLICT (variant_id, kind) DO UPDATE SET status = excluded.status, "
                      "success = excluded.success, objective = excluded.objective, "
                      "answer = excluded.answer, solve_time_s = excluded.solve_time_s, "
                      "created_at = excluded.created_at",
                      (variant_id, kind, status, int(bool(success)), objective, _dumps(answer),
                       solve_time_s, time.time()))

    def solution(self, variant_id: int, kind: str = "ac") -> dict | None:
        row = self._one("SELECT status, success, objective, answer, solve_time_s FROM solutions "
                        "WHERE variant_id = ? AND kind = ?", (variant_id, kind))
        if row is None:
            return None
        d = dict(row)
        d["success"] = bool(d["success"])
        d["answer"] = _loads(d["answer"], (self.path, (f"the {kind} reference of variant "
                                                       f"{variant_id}")))
        return d

    # ---- datasets -----------------------------------------------------------------------
    def create_dataset(self, name: str, spec: dict, items: list[dict], replace: bool = False) -> int:
        """Store a dataset: items are {variant_id, split, prompt} in order. One transaction."""
        with self.transaction() as c:
            old = c.execute("SELECT id FROM datasets WHERE name = ?", (name,)).fetchone()
            if old is not None:
                if not replace:
                    raise StudyError(f"{self.path.name} already has a dataset named {name!r} "
                                     "(choose another --name)")
                c.execute("DELETE FROM dataset_items WHERE dataset_id = ?", (old["id"],))
                c.execute("DELETE FROM datasets WHERE id = ?", (old["id"],))
            cur = c.execute("INSERT INTO datasets (name, spec, created_at) VALUES (?, ?, ?)",
                            (name, _dumps(spec), time.time()))
            ds = int(cur.lastrowid)
            c.executemany("INSERT INTO dataset_items (dataset_id, variant_id, position, split, "
                          "prompt) VALUES (?, ?, ?, ?, ?)",
                          [(ds, it["variant_id"], k, it["split"], it["prompt"])
                           for k, it in enumerate(items)])
            return ds

    def datasets(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT d.id, d.name, d.spec, d.created_at, count(i.variant_id) AS size, "
            "sum(i.split = 'N') AS n_count FROM datasets d LEFT JOIN dataset_items i "
            "ON i.dataset_id = d.id GROUP BY d.id ORDER BY d.id")
        out = []
        for r in rows:
            d = dict(r)
            d["spec"] = _loads(d["spec"], (self.path, f"dataset {d['name']!r}'s spec"))
            d["n_count"] = int(d["n_count"] or 0)
            out.append(d)
        return out

    def dataset_id(self, name: str | None) -> int:
        """The dataset called `name`; with None, the only (or latest) dataset."""
        if name is None:
            row = self._one("SELECT id FROM datasets ORDER BY id DESC LIMIT 1")
            if row is None:
                raise StudyError(f"{self.path.name} has no dataset yet (build one with "
                                 "`n1studio dataset build`)")
            return int(row["id"])
        row = self._one("SELECT id FROM datasets WHERE name = ?", (name,))
        if row is None:
            names = ", ".join(d["name"] for d in self.datasets()) or "none"
            raise StudyError(f"{self.path.name} has no dataset {name!r} (datasets: {names})")
        return int(row["id"])

    def dataset_name(self, dataset_id: int) -> str:
        return self._one("SELECT name FROM datasets WHERE id = ?", (dataset_id,))["name"]

    def dataset_spec(self, dataset_id: int) -> dict:
        """How the dataset was built (families, sample, seed, example, ...)."""
        row = self._one("SELECT name, spec FROM datasets WHERE id = ?", (dataset_id,))
        if row is None:
            raise StudyError(f"{self.path.name}: no dataset {dataset_id}")
        spec = _loads(row["spec"], (self.path, f"dataset {row['name']!r}'s spec"))
        return spec if isinstance(spec, dict) else {}

    def dataset_items(self, dataset_id: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT i.position, i.split, i.prompt, v.id AS variant_id, v.grid_id, v.outages, "
            "v.perturbation, v.label FROM dataset_items i JOIN variants v ON v.id = i.variant_id "
            "WHERE i.dataset_id = ? ORDER BY i.position", (dataset_id,))
        out = []
        for r in rows:
            d = dict(r)
            d["outages"] = _loads(d["outages"], (self.path, (f"variant {d['variant_id']}'s "
                                                            "outages")))
            d["perturbation"] = _loads(d["perturbation"], (self.path, (
                f"variant {d['variant_id']}'s perturbation")))
            out.append(d)
        return out

    # ---- models and runs ------------------------------------------------------------------
    def add_model(self, path: str | Path) -> int:
        p = Path(path).expanduser().resolve()
        digest = model_sha256(p)
        row = self._one("SELECT id FROM models WHERE sha256 = ?", (digest,))
        if row is not None:
            return int(row["id"])
        with self.transaction() as c:
            cur = c.execute("INSERT INTO models (file_name, sha256, size) VALUES (?, ?, ?)",
                            (p.name, digest, p.stat().st_size))
            return int(cur.lastrowid)

    def add_control(self, name: str) -> int:
        """A control (n1studio.controls, e.g. `control:recall-n`) recorded as a model; its
        "hash" is its name, so runs of controls never mix with runs of a model file."""
        row = self._one("SELECT id FROM models WHERE sha256 = ?", (name,))
        if row is not None:
            return int(row["id"])
        with self.transaction() as c:
            cur = c.execute("INSERT INTO models (file_name, sha256, size) VALUES (?, ?, ?)",
                            (name, name, 0))
            return int(cur.lastrowid)

    def add_endpoint_model(self, identity: dict) -> int:
        """A model behind a server (`EndpointClient.identity()`) recorded as a model: its
        "hash" is `endpoint:` + a hash of the endpoint, the model name, the chat mode, the
        stable part of the server's model-list entry and its fingerprint, so runs of
        different servers (or of a server that now serves other weights) never mix. The
        file name reads "NAME @ host:port". No credential is in an identity."""
        entry = identity.get("server_model") or {}
        stable = {k: entry.get(k) for k in ("id", "owned_by", "root", "parent",
                                             "max_model_len") if entry.get(k) is not None}
        key = {"endpoint": identity.get("endpoint"), "model": identity.get("model"),
               "chat": bool(identity.get("chat")), "server_model": stable,
               "system_fingerprint": identity.get("system_fingerprint")}
        digest = "endpoint:" + hashlib.sha256(
            json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
        row = self._one("SELECT id FROM models WHERE sha256 = ?", (digest,))
        if row is not None:
            return int(row["id"])
        where = str(identity.get("endpoint") or "").split("://", 1)[-1]
        name = f"{identity.get('model')} @ {where}" + (" (chat)" if key["chat"] else "")
        with self.transaction() as c:
            cur = c.execute("INSERT INTO models (file_name, sha256, size) VALUES (?, ?, ?)",
                            (name, digest, 0))
            return int(cur.lastrowid)

    def models(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            "SELECT id, file_name, sha256, size FROM models ORDER BY id")]

    def has_run(self, variant_id: int, model_id: int, skey: str) -> bool:
        return self._one("SELECT 1 FROM runs WHERE variant_id = ? AND model_id = ? AND "
                         "settings_key = ?", (variant_id, model_id, skey)) is not None

    def add_run(self, variant_id: int, model_id: int, settings: dict, prompt: str, raw: str,
                answer: dict | None, verdict: dict | None, stats: dict | None,
                started_at: float, finished_at: float, cancelled: bool = False) -> int:
        """Record one finished model run, committed at once (what makes evaluations resumable)."""
        with self.transaction() as c:
            # an upsert, not INSERT OR REPLACE: a run asked again keeps its id (REPLACE deletes
            # the row and inserts a new one, orphaning the annotations on the old id)
            row = c.execute(
                "INSERT INTO runs (variant_id, model_id, settings, settings_key, "
                "prompt, raw, answer, verdict, stats, cancelled, started_at, finished_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (variant_id, model_id, settings_key) DO UPDATE SET "
                "settings = excluded.settings, prompt = excluded.prompt, raw = excluded.raw, "
                "answer = excluded.answer, verdict = excluded.verdict, stats = excluded.stats, "
                "cancelled = excluded.cancelled, started_at = excluded.started_at, "
                "finished_at = excluded.finished_at RETURNING id",
                (variant_id, model_id, _dumps(settings), settings_key(settings), prompt, raw,
                 _dumps(answer), _dumps(verdict), _dumps(stats), int(cancelled), started_at,
                 finished_at)).fetchone()
            return int(row[0])

    def runs(self, dataset_id: int | None = None, model_id: int | None = None) -> list[dict]:
        """Runs with their variant, grid, split (when in the dataset) and model."""
        sql = ("SELECT r.id, r.variant_id, r.model_id, r.settings, r.settings_key, r.prompt, "
               "r.raw, r.answer, r.verdict, r.stats, r.cancelled, r.started_at, r.finished_at, "
               "v.label, v.outages, v.perturbation, v.grid_id, g.name AS grid, "
               "m.file_name AS model, "
               "m.sha256 AS model_sha256")
        args: list = []
        if dataset_id is not None:
            # a dataset's runs are those asked with its prompt (the same variant in another
            # dataset, e.g. with a worked example, is another experiment)
            sql += (", i.split FROM runs r JOIN dataset_items i ON i.variant_id = r.variant_id "
                    "AND i.dataset_id = ? AND i.prompt = r.prompt ")
            args.append(dataset_id)
        else:
            sql += (", CASE WHEN v.outages = '[]' THEN 'N' ELSE 'N-1' END AS split "
                    "FROM runs r ")
        sql += ("JOIN variants v ON v.id = r.variant_id JOIN grids g ON g.id = v.grid_id "
                "JOIN models m ON m.id = r.model_id ")
        if model_id is not None:
            sql += "WHERE r.model_id = ? "
            args.append(model_id)
        sql += "ORDER BY r.id"
        out = []
        for r in self.conn.execute(sql, args):
            d = dict(r)
            for k in ("settings", "answer", "verdict", "stats", "outages", "perturbation"):
                d[k] = _loads(d[k], (self.path, f"run {d['id']}'s {k}"))
            d["cancelled"] = bool(d["cancelled"])
            out.append(d)
        return out

    # ---- annotations and sweeps --------------------------------------------------------
    def annotate(self, target: str, target_id: int, tags: list[str] | None = None,
                 note: str | None = None, decision: str | None = None) -> None:
        """Set tags / note / keep-reject on a variant or a run (None leaves a field as it is)."""
        if target not in ("variant", "run"):
            raise StudyError(f"annotations go on a variant or a run, not {target!r}")
        if decision not in (None, "keep", "reject", ""):
            raise StudyError(f"decision must be keep or reject, not {decision!r}")
        with self.transaction() as c:
            row = c.execute("SELECT tags, note, decision FROM annotations WHERE target = ? AND "
                            "target_id = ?", (target, target_id)).fetchone()
            cur = dict(row) if row else {"tags": "[]", "note": "", "decision": None}
            new_tags = json.dumps(sorted(set(tags))) if tags is not None else cur["tags"]
            new_note = note if note is not None else cur["note"]
            new_dec = (decision or None) if decision is not None else cur["decision"]
            c.execute("INSERT INTO annotations (target, target_id, tags, note, decision, "
                      "updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT (target, target_id) DO "
                      "UPDATE SET tags = excluded.tags, note = excluded.note, "
                      "decision = excluded.decision, updated_at = excluded.updated_at",
                      (target, target_id, new_tags, new_note, new_dec, time.time()))

    def annotation(self, target: str, target_id: int) -> dict:
        row = self._one("SELECT tags, note, decision FROM annotations WHERE target = ? AND "
                        "target_id = ?", (target, target_id))
        if row is None:
            return {"tags": [], "note": "", "decision": None}
        tags = _loads(row["tags"], (self.path, f"the tags of {target} {target_id}"))
        return {"tags": tags, "note": row["note"], "decision": row["decision"]}

    def add_sweep(self, grid_id: int, doc: dict) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO sweeps (grid_id, kinds, doc, created_at) VALUES (?,?,?,?)",
                            (grid_id, ",".join(doc.get("stats", {}).get("kinds", [])), _dumps(doc),
                             time.time()))
            return int(cur.lastrowid)

    def latest_sweep(self, grid_id: int) -> dict | None:
        row = self._one("SELECT doc FROM sweeps WHERE grid_id = ? ORDER BY id DESC LIMIT 1",
                        (grid_id,))
        return None if row is None else _loads(row["doc"], (self.path, (f"the sweep of grid "
                                                                      f"{grid_id}")))

    # ---- summary ------------------------------------------------------------------------
    def info(self) -> dict:
        def count(table: str) -> int:
            return int(self._one(f"SELECT count(*) FROM {table}")[0])

        return {"path": str(self.path), "schema_version": self.version,
                "grids": self.grids(), "variants": count("variants"),
                "solutions": count("solutions"), "datasets": self.datasets(),
                "models": self.models(), "runs": count("runs"),
                "annotations": count("annotations"), "sweeps": count("sweeps")}


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


# ---- checking a study ---------------------------------------------------------------------------

def check_study(path: str | Path, limit: int = 100) -> list[str]:
    """What is damaged in a study, one line each (empty: nothing found). Read-only.

    SQLite's own ``PRAGMA integrity_check`` (pages, indexes, free lists), the tables its
    schema version needs, ``PRAGMA foreign_key_check``, annotations on runs or variants that
    no longer exist, and a parse of every JSON column. A file that is not a study at all is
    a StudyError, as for `Study.open`.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise StudyError(f"no such study: {p}")
    if p.is_dir():
        raise StudyError(f"{p} is a folder, not a study file")
    _check_header(p)
    conn = _connect(p, readonly=True)
    problems: list[str] = []
    try:
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
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
                     for t in sorted(_tables_of(min(version, SCHEMA_VERSION)) - have)]
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
