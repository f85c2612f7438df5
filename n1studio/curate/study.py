"""The study: one SQLite file holding grids, variants, references, model runs and annotations.

Why SQLite in WAL mode: one file a researcher can copy and share, readable by any SQLite
tool, and every model run is its own committed transaction, so a crash or a kill in the
middle of an evaluation leaves the file readable with every run that finished before it.

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
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from n1studio.errors import StudyError
from n1studio.schema import json_default

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4E315354  # "N1ST"
SCHEMA_VERSION = 2

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

#: MIGRATIONS[i] upgrades a study from schema version i to i + 1.
MIGRATIONS: list[str] = [_V1, _V2]


def _dumps(doc) -> str | None:
    if doc is None:
        return None
    return json.dumps(doc, separators=(",", ":"), sort_keys=False, allow_nan=True,
                      default=json_default)


def _loads(text):
    return None if text is None else json.loads(text)


def outages_key(outages: Iterable[str]) -> str:
    """The canonical text of an outage set (sorted like Variant does)."""
    from n1studio.grid.model import _sort_key

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
            if k not in ("model_path", "n_threads", "n_gpu_layers", "n_ctx")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


# ---- the study --------------------------------------------------------------------------------

class Study:
    """An open study file. Use `Study.open(path, create=...)`; close() or use as a context."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn

    # ---- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, create: bool = False) -> Study:
        """Open (or with `create`, make) a study. Anything that is not a study: StudyError."""
        p = Path(path).expanduser()
        exists = p.exists()
        if not exists and not create:
            raise StudyError(f"no such study: {p} (create one with `n1studio study new {p}`)")
        if exists and p.is_dir():
            raise StudyError(f"{p} is a folder, not a study file")
        if exists and p.stat().st_size > 0:
            with open(p, "rb") as fh:
                head = fh.read(16)
            if head != b"SQLite format 3\x00":
                raise StudyError(f"{p.name} is not an N-1 Studio study (not an SQLite file)")
        if not exists:
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(p), timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StudyError(f"{p.name} is not an N-1 Studio study ({exc})") from None
        if app_id != APPLICATION_ID:
            if tables or app_id:
                conn.close()
                raise StudyError(f"{p.name} is an SQLite file but not an N-1 Studio study")
            if not create and exists and p.stat().st_size > 0:
                conn.close()
                raise StudyError(f"{p.name} is not an N-1 Studio study")
        if version > SCHEMA_VERSION:
            conn.close()
            raise StudyError(f"{p.name} was written by a newer N-1 Studio (study schema "
                             f"version {version}; this version reads up to {SCHEMA_VERSION}); "
                             "upgrade N-1 Studio to open it")
        study = cls(p, conn)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        study._migrate(version)
        return study

    def _migrate(self, version: int) -> None:
        if version == SCHEMA_VERSION and self._app_id() == APPLICATION_ID:
            return
        with self.transaction():
            if self._app_id() != APPLICATION_ID:
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for v in range(version, SCHEMA_VERSION):
                log.info("%s: migrating study schema %d -> %d", self.path.name, v, v + 1)
                for stmt in _statements(MIGRATIONS[v]):
                    self.conn.execute(stmt)
                self.conn.execute(f"PRAGMA user_version = {v + 1}")

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
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

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

    def add_variant(self, grid_id: int, outages: Iterable[str]) -> int:
        key = outages_key(outages)
        row = self._one("SELECT id FROM variants WHERE grid_id = ? AND outages = ?", (grid_id, key))
        if row is not None:
            return int(row["id"])
        outs = json.loads(key)
        label = "N" if not outs else f"N-{len(outs)} " + ", ".join(outs)
        with self.transaction() as c:
            cur = c.execute("INSERT INTO variants (grid_id, outages, label, created_at) "
                            "VALUES (?, ?, ?, ?)", (grid_id, key, label, time.time()))
            return int(cur.lastrowid)

    def variant(self, variant_id: int) -> dict:
        row = self._one("SELECT id, grid_id, outages, label FROM variants WHERE id = ?",
                        (variant_id,))
        if row is None:
            raise StudyError(f"{self.path.name}: no variant {variant_id}")
        d = dict(row)
        d["outages"] = json.loads(d["outages"])
        return d

    # ---- references -----------------------------------------------------------------------
    def set_solution(self, variant_id: int, kind: str, status: str, success: bool,
                     objective: float | None, answer: dict | None,
                     solve_time_s: float | None = None) -> None:
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO solutions (variant_id, kind, status, success, "
                      "objective, answer, solve_time_s, created_at) VALUES (?,?,?,?,?,?,?,?)",
                      (variant_id, kind, status, int(bool(success)), objective, _dumps(answer),
                       solve_time_s, time.time()))

    def solution(self, variant_id: int, kind: str = "ac") -> dict | None:
        row = self._one("SELECT status, success, objective, answer, solve_time_s FROM solutions "
                        "WHERE variant_id = ? AND kind = ?", (variant_id, kind))
        if row is None:
            return None
        d = dict(row)
        d["success"] = bool(d["success"])
        d["answer"] = _loads(d["answer"])
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
            d["spec"] = _loads(d["spec"])
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

    def dataset_items(self, dataset_id: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT i.position, i.split, i.prompt, v.id AS variant_id, v.grid_id, v.outages, "
            "v.label FROM dataset_items i JOIN variants v ON v.id = i.variant_id "
            "WHERE i.dataset_id = ? ORDER BY i.position", (dataset_id,))
        out = []
        for r in rows:
            d = dict(r)
            d["outages"] = json.loads(d["outages"])
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
            cur = c.execute(
                "INSERT OR REPLACE INTO runs (variant_id, model_id, settings, settings_key, "
                "prompt, raw, answer, verdict, stats, cancelled, started_at, finished_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (variant_id, model_id, _dumps(settings), settings_key(settings), prompt, raw,
                 _dumps(answer), _dumps(verdict), _dumps(stats), int(cancelled), started_at,
                 finished_at))
            return int(cur.lastrowid)

    def runs(self, dataset_id: int | None = None, model_id: int | None = None) -> list[dict]:
        """Runs with their variant, grid, split (when in the dataset) and model."""
        sql = ("SELECT r.id, r.variant_id, r.model_id, r.settings, r.settings_key, r.prompt, "
               "r.raw, r.answer, r.verdict, r.stats, r.cancelled, r.started_at, r.finished_at, "
               "v.label, v.outages, v.grid_id, g.name AS grid, m.file_name AS model, "
               "m.sha256 AS model_sha256")
        args: list = []
        if dataset_id is not None:
            sql += (", i.split FROM runs r JOIN dataset_items i ON i.variant_id = r.variant_id "
                    "AND i.dataset_id = ? ")
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
            for k in ("settings", "answer", "verdict", "stats", "outages"):
                d[k] = _loads(d[k])
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
            c.execute("INSERT OR REPLACE INTO annotations (target, target_id, tags, note, "
                      "decision, updated_at) VALUES (?,?,?,?,?,?)",
                      (target, target_id, new_tags, new_note, new_dec, time.time()))

    def annotation(self, target: str, target_id: int) -> dict:
        row = self._one("SELECT tags, note, decision FROM annotations WHERE target = ? AND "
                        "target_id = ?", (target, target_id))
        if row is None:
            return {"tags": [], "note": "", "decision": None}
        return {"tags": json.loads(row["tags"]), "note": row["note"], "decision": row["decision"]}

    def add_sweep(self, grid_id: int, doc: dict) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO sweeps (grid_id, kinds, doc, created_at) VALUES (?,?,?,?)",
                            (grid_id, ",".join(doc.get("stats", {}).get("kinds", [])), _dumps(doc),
                             time.time()))
            return int(cur.lastrowid)

    def latest_sweep(self, grid_id: int) -> dict | None:
        row = self._one("SELECT doc FROM sweeps WHERE grid_id = ? ORDER BY id DESC LIMIT 1",
                        (grid_id,))
        return None if row is None else json.loads(row["doc"])

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
