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

The package, by seam: `schema` (tables and migrations), `connection` (SQLite errors as one
line, safe text and JSON), `identity` (grid, model and settings hashes), `lease` (one bulk
writer), `store` (`Study`: opening, grids, variants, references), `records` (datasets,
models, runs, annotations, sweeps), `check` (`check_study`).
"""

from n1studio.curate.study.check import check_study, inspect_study
from n1studio.curate.study.identity import grid_hash, model_sha256, outages_key, settings_key
from n1studio.curate.study.lease import WRITER_WAIT_S
from n1studio.curate.study.records import SOURCE_PREFIX, source_label
from n1studio.curate.study.schema import (
    APPLICATION_ID,
    JSON_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
)
from n1studio.curate.study.store import Study

__all__ = ["APPLICATION_ID", "JSON_COLUMNS", "MIGRATIONS", "SCHEMA_VERSION", "SOURCE_PREFIX",
           "WRITER_WAIT_S", "Study", "check_study", "grid_hash", "inspect_study", "model_sha256",
           "outages_key", "settings_key", "source_label"]
