"""The open study: opening (checks, migrations), transactions, the writer lease, and grids,
variants and references (datasets, runs and the rest: records.py)."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from n1studio.curate.study import lease
from n1studio.curate.study.connection import (
    check_header,
    connect,
    dumps,
    loads,
    writable,
)
from n1studio.curate.study.identity import grid_hash, outages_key
from n1studio.curate.study.records import Records
from n1studio.curate.study.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    statements,
    tables_of,
)
from n1studio.errors import StudyError

log = logging.getLogger(__name__)


class Study(Records):
    """An open study file. Use `Study.open(path, create=...)`; close() or use as a context."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool = False):
        self.path = path
        self.conn = conn
        #: opened for reading only (the file or its folder is not writable): changes are refused
        self.readonly = readonly
        self._lease_depth = 0
        self._tx_depth = 0

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
            check_header(p)
        else:
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StudyError(f"cannot create the study {p}: {exc.strerror}") from None
        readonly = exists and not writable(p)
        conn = connect(p, readonly)
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
        missing = sorted(tables_of(version) - have)
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
                    for stmt in statements(MIGRATIONS[v]):
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
        with suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> Study:  # noqa: PYI034 - Study is not subclassed
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed unit of work (BEGIN IMMEDIATE ... COMMIT, rolled back on error).

        Nested, it is a savepoint of the outer one: what it wrote is undone on its own
        error, and committed only with the outer transaction, so a bulk import wrapped in
        one transaction leaves all of its rows or none."""
        if self.readonly:
            raise StudyError(f"{self.path.name} is read-only here (the file or its folder cannot "
                             "be written): it was opened for reading, and this would change it")
        depth = self._tx_depth
        begin, commit, undo = (("BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)) if depth == 0 else
                               (f"SAVEPOINT sp{depth}", f"RELEASE sp{depth}",
                                (f"ROLLBACK TO sp{depth}", f"RELEASE sp{depth}")))
        self.conn.execute(begin)
        self._tx_depth = depth + 1
        try:
            yield self.conn
        except BaseException:
            self._tx_depth = depth
            try:
                for stmt in undo:
                    self.conn.execute(stmt)
            except (StudyError, sqlite3.Error):
                log.debug("rollback failed", exc_info=True)
            raise
        self._tx_depth = depth
        self.conn.execute(commit)

    # ---- one bulk writer at a time ---------------------------------------------------------
    @contextmanager
    def writer(self, purpose: str, wait: float = lease.WRITER_WAIT_S) -> Iterator[None]:
        """Hold the study's writer lease while `purpose` (e.g. "eval") writes to it
        (n1studio.curate.study.lease). A second holder waits up to `wait` seconds, then gets
        StudyBusyError with one line naming the holder. Nested holds of one study are one."""
        if self._lease_depth:
            self._lease_depth += 1
            try:
                yield
            finally:
                self._lease_depth -= 1
            return
        holder = lease.take(self, purpose, wait)
        self._lease_depth = 1
        try:
            yield
        finally:
            self._lease_depth = 0
            lease.release(self, holder)

    def writer_lease(self) -> dict | None:
        """Who holds the writer lease now ({pid, host, purpose, since}), None when free."""
        return lease.current(self)

    def _one(self, sql: str, args=()) -> sqlite3.Row | None:
        return self.conn.execute(sql, args).fetchone()

    # ---- grids and variants ---------------------------------------------------------------
    def add_grid(self, net, source: str, name: str | None = None, store_net: bool = True) -> int:
        """Register a grid (idempotent by content hash); returns its id."""
        from n1studio.grid.cases import case_label  # noqa: PLC0415 (pandapower: seconds)

        h = grid_hash(net)
        row = self._one("SELECT id FROM grids WHERE content_hash = ?", (h,))
        if row is not None:
            return int(row["id"])
        net_json = None
        if store_net:
            import pandapower as pp  # noqa: PLC0415 (pandapower: seconds)

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
        import pandapower as pp  # noqa: PLC0415 (pandapower: seconds)

        from n1studio.grid.cases import load_case  # noqa: PLC0415 (pandapower: seconds)

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
            raise StudyError(f"grid {row['name']!r} from {row['source']} is not the grid this "
                             "study recorded (its content changed)")
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
        d["outages"] = loads(d["outages"], (self.path, f"variant {variant_id}'s outages"))
        d["perturbation"] = loads(d["perturbation"],
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
                      (variant_id, kind, status, int(bool(success)), objective, dumps(answer),
                       solve_time_s, time.time()))

    def solution(self, variant_id: int, kind: str = "ac") -> dict | None:
        row = self._one("SELECT status, success, objective, answer, solve_time_s FROM solutions "
                        "WHERE variant_id = ? AND kind = ?", (variant_id, kind))
        if row is None:
            return None
        d = dict(row)
        d["success"] = bool(d["success"])
        d["answer"] = loads(d["answer"], (self.path, (f"the {kind} reference of variant "
                                                       f"{variant_id}")))
        return d
