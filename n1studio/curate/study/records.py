"""What a study records beside its grids and variants: datasets, models, runs,
annotations, sweeps, and the summary `study info` prints."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from n1studio.curate.families import N, family_name, family_order
from n1studio.curate.study.connection import dumps, loads, safe_text
from n1studio.curate.study.identity import model_sha256, settings_key
from n1studio.errors import StudyError

#: the "hash" of an answer source (a paste, a file) in the models table
SOURCE_PREFIX = "source:"


def source_label(file_name: str | None = None) -> str:
    """The source of an answer checked by hand: "pasted answer", or "file NAME"."""
    return "pasted answer" if not file_name else f"file {Path(file_name).name}"


class Records:
    """Datasets, models, runs, annotations and sweeps of an open study (a base of `Study`,
    which provides the connection, `transaction()` and `_one()`)."""

    path: Path
    conn: sqlite3.Connection

    # ---- datasets -----------------------------------------------------------------------
    def create_dataset(self, name: str, spec: dict, items: list[dict],
                       replace: bool = False) -> int:
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
                            (name, dumps(spec), time.time()))
            ds = int(cur.lastrowid)
            c.executemany("INSERT INTO dataset_items (dataset_id, variant_id, position, split, "
                          "prompt) VALUES (?, ?, ?, ?, ?)",
                          [(ds, it["variant_id"], k, it["split"], it["prompt"])
                           for k, it in enumerate(items)])
            return ds

    def datasets(self) -> list[dict]:
        """Every dataset with its size and its cases per family (`families`: name -> count,
        the names of n1studio.curate.families; `n_count`: the N cases)."""
        rows = self.conn.execute(
            "SELECT d.id, d.name, d.spec, d.created_at, count(i.variant_id) AS size "
            "FROM datasets d LEFT JOIN dataset_items i ON i.dataset_id = d.id "
            "GROUP BY d.id ORDER BY d.id")
        counts: dict[int, dict[str, int]] = {}
        for r in self.conn.execute(
                "SELECT i.dataset_id, v.outages, v.perturbation FROM dataset_items i "
                "JOIN variants v ON v.id = i.variant_id ORDER BY i.dataset_id, i.position"):
            fam = self._family(r["outages"], r["perturbation"], f"a variant of dataset "
                                                                f"{r['dataset_id']}")
            per = counts.setdefault(r["dataset_id"], {})
            per[fam] = per.get(fam, 0) + 1
        out = []
        for r in rows:
            d = dict(r)
            d["spec"] = loads(d["spec"], (self.path, f"dataset {d['name']!r}'s spec"))
            fams = counts.get(d["id"], {})
            d["families"] = {f: fams[f] for f in family_order(fams)}
            d["n_count"] = fams.get(N, 0)
            out.append(d)
        return out

    def _family(self, outages: str, perturbation: str, what: str) -> str:
        return family_name(loads(outages, (self.path, f"{what}'s outages")) or [],
                           loads(perturbation, (self.path, f"{what}'s perturbation")))

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
        spec = loads(row["spec"], (self.path, f"dataset {row['name']!r}'s spec"))
        return spec if isinstance(spec, dict) else {}

    def dataset_items(self, dataset_id: int) -> list[dict]:
        """The dataset's cases in order; `split` is the variant's family (families.py)."""
        rows = self.conn.execute(
            "SELECT i.position, i.split, i.prompt, v.id AS variant_id, v.grid_id, v.outages, "
            "v.perturbation, v.label FROM dataset_items i JOIN variants v ON v.id = i.variant_id "
            "WHERE i.dataset_id = ? ORDER BY i.position", (dataset_id,))
        out = []
        for r in rows:
            d = dict(r)
            d["outages"] = loads(d["outages"], (self.path, (f"variant {d['variant_id']}'s "
                                                            "outages")))
            d["perturbation"] = loads(d["perturbation"], (self.path, (
                f"variant {d['variant_id']}'s perturbation")))
            d["split"] = family_name(d["outages"] or [], d["perturbation"])
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

    def add_adapted_model(self, path: str | Path, lora_path: str | Path, lora_sha256: str,
                          scale: float) -> int:
        """A GGUF model with a LoRA adapter at a scale, recorded as a model of its own: its
        "hash" is the model's SHA-256, the adapter's and the scale, so its runs never mix
        with the base model's or another scale's (llm/lora.py checked the adapter)."""
        p, a = Path(path).expanduser().resolve(), Path(lora_path).expanduser().resolve()
        digest = f"{model_sha256(p)}+lora:{lora_sha256}@{float(scale):g}"
        row = self._one("SELECT id FROM models WHERE sha256 = ?", (digest,))
        if row is not None:
            return int(row["id"])
        name = f"{p.name} + {a.name}" + ("" if float(scale) == 1.0 else f" ×{float(scale):g}")
        with self.transaction() as c:
            cur = c.execute("INSERT INTO models (file_name, sha256, size) VALUES (?, ?, ?)",
                            (name, digest, p.stat().st_size + a.stat().st_size))
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

    def add_source(self, label: str) -> int:
        """An answer that no model gave in this study, checked from a paste or a file,
        recorded as its own source (`source_label`: "pasted answer", "file NAME"): its runs
        sit next to the model's runs of the same variant and never replace them."""
        text, _ = safe_text(label)
        digest = SOURCE_PREFIX + text
        row = self._one("SELECT id FROM models WHERE sha256 = ?", (digest,))
        if row is not None:
            return int(row["id"])
        with self.transaction() as c:
            cur = c.execute("INSERT INTO models (file_name, sha256, size) VALUES (?, ?, ?)",
                            (text, digest, 0))
            return int(cur.lastrowid)

    def models(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            "SELECT id, file_name, sha256, size FROM models ORDER BY id")]

    def run_exists(self, run_id: int) -> bool:
        return self._one("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is not None

    def has_run(self, variant_id: int, model_id: int, skey: str) -> bool:
        return self._one("SELECT 1 FROM runs WHERE variant_id = ? AND model_id = ? AND "
                         "settings_key = ?", (variant_id, model_id, skey)) is not None

    def add_run(self, variant_id: int, model_id: int, settings: dict, prompt: str, raw: str,
                answer: dict | None, verdict: dict | None, stats: dict | None,
                started_at: float, finished_at: float, cancelled: bool = False) -> int:
        """Record one finished model run, committed at once (what makes evaluations resumable).

        Text is stored safely whatever code points it holds (`safe_text`), and a model's
        text over the checker's answer-size limit (MAX_ANSWER_BYTES: the checker reads no
        more) is cut there, marked in the text and in its stats (`raw_truncated`,
        `raw_bytes`), so one chatty answer cannot grow a study without bound."""
        # n1studio.check imports pandapower (seconds); only writers of runs need the limit
        from n1studio.check.parse import MAX_ANSWER_BYTES  # noqa: PLC0415 (pandapower: seconds)

        size = len(str(raw or "").encode("utf-8", "surrogatepass"))
        raw, cut = safe_text(raw, MAX_ANSWER_BYTES)
        prompt, _ = safe_text(prompt)
        if cut:
            stats = {**(stats or {}), "raw_truncated": True, "raw_bytes": size}
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
                (variant_id, model_id, dumps(settings), settings_key(settings), prompt, raw,
                 dumps(answer), dumps(verdict), dumps(stats), int(cancelled), started_at,
                 finished_at)).fetchone()
            return int(row[0])

    def runs(self, dataset_id: int | None = None, model_id: int | None = None) -> list[dict]:
        """Runs (of one dataset: those asked with its prompt) with their variant, grid, model
        and split: the variant's family (families.py), the same with or without a dataset."""
        sql = ("SELECT r.id, r.variant_id, r.model_id, r.settings, r.settings_key, r.prompt, "
               "r.raw, r.answer, r.verdict, r.stats, r.cancelled, r.started_at, r.finished_at, "
               "v.label, v.outages, v.perturbation, v.grid_id, g.name AS grid, "
               "m.file_name AS model, "
               "m.sha256 AS model_sha256")
        args: list = []
        if dataset_id is not None:
            # a dataset's runs are those asked with its prompt (the same variant in another
            # dataset, e.g. with a worked example, is another experiment)
            sql += (" FROM runs r JOIN dataset_items i ON i.variant_id = r.variant_id "
                    "AND i.dataset_id = ? AND i.prompt = r.prompt ")
            args.append(dataset_id)
        else:
            sql += " FROM runs r "
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
                d[k] = loads(d[k], (self.path, f"run {d['id']}'s {k}"))
            d["split"] = family_name(d["outages"] or [], d["perturbation"])
            d["cancelled"] = bool(d["cancelled"])
            out.append(d)
        return out

    def coverage(self) -> dict:
        """What the runs answer: per dataset its cases, its runs (those asked with its
        prompt, not cancelled) and the models that answered it; and the runs no dataset
        holds (answers saved from the window, pasted or read from a file)."""
        per = [dict(r) for r in self.conn.execute(
            "SELECT d.id, d.name, count(DISTINCT i.variant_id) AS cases, count(r.id) AS runs "
            "FROM datasets d LEFT JOIN dataset_items i ON i.dataset_id = d.id "
            "LEFT JOIN runs r ON r.variant_id = i.variant_id AND r.prompt = i.prompt "
            "AND r.cancelled = 0 GROUP BY d.id ORDER BY d.id")]
        models: dict[int, list[str]] = {}
        for r in self.conn.execute(
                "SELECT DISTINCT i.dataset_id, m.file_name FROM dataset_items i JOIN runs r "
                "ON r.variant_id = i.variant_id AND r.prompt = i.prompt AND r.cancelled = 0 "
                "JOIN models m ON m.id = r.model_id ORDER BY i.dataset_id, m.file_name"):
            models.setdefault(r["dataset_id"], []).append(r["file_name"])
        for d in per:
            d["models"] = models.get(d["id"], [])
        outside = self._one("SELECT count(*) FROM runs r WHERE r.cancelled = 0 AND NOT EXISTS "
                            "(SELECT 1 FROM dataset_items i WHERE i.variant_id = r.variant_id "
                            "AND i.prompt = r.prompt)")[0]
        return {"datasets": per, "runs_outside_datasets": int(outside)}

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
            new_note = safe_text(note)[0] if note is not None else cur["note"]
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
        tags = loads(row["tags"], (self.path, f"the tags of {target} {target_id}"))
        return {"tags": tags, "note": row["note"], "decision": row["decision"]}

    def add_sweep(self, grid_id: int, doc: dict) -> int:
        with self.transaction() as c:
            cur = c.execute("INSERT INTO sweeps (grid_id, kinds, doc, created_at) VALUES (?,?,?,?)",
                            (grid_id, ",".join(doc.get("stats", {}).get("kinds", [])), dumps(doc),
                             time.time()))
            return int(cur.lastrowid)

    def latest_sweep(self, grid_id: int) -> dict | None:
        row = self._one("SELECT doc FROM sweeps WHERE grid_id = ? ORDER BY id DESC LIMIT 1",
                        (grid_id,))
        return None if row is None else loads(row["doc"], (self.path, (f"the sweep of grid "
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
