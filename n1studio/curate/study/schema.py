"""The study's schema: its tables, one SQL script per version, and what each version holds.

``PRAGMA user_version`` is the schema version; `MIGRATIONS[i]` takes a study from version i
to i + 1 (`Study.open` runs them in one transaction). ``PRAGMA application_id`` marks a
file as a study.
"""

from __future__ import annotations

import re

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
JSON_COLUMNS = {"variants": ("outages", "perturbation"), "solutions": ("answer",),
                "datasets": ("spec",), "runs": ("settings", "answer", "verdict", "stats"),
                "annotations": ("tags",), "sweeps": ("doc",)}


def tables_of(version: int) -> set[str]:
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


def statements(script: str) -> list[str]:
    """The SQL statements of a migration script (split on `;`)."""
    return [s.strip() for s in script.split(";") if s.strip()]
