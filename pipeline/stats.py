"""stats.json and quarantine.jsonl from the run's accounting events.

stats.json, per source: docs_in, docs_out, dropped (reason → count), bytes_in, bytes_out, and
`conserved` (docs_in == docs_out + Σ dropped). A top-level `conserved` is true only if every
source's is. `recipe` names the recipe the run used (`version.json`: name, version, extends) and
the SHA-256 of the resolved recipe (after `extends` and every `--set`), so two runs with the same
name but different overrides are told apart.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Iterable, List, Optional

import apache_beam as beam

from common import events as ev
from common import atomic


def recipe_identity(recipe: dict) -> dict:
    """What stats.json says of the recipe: its name, version, base, and a digest of all its values."""
    version = recipe.get("version", {})
    canonical = json.dumps(recipe, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {"name": version.get("name"), "version": version.get("version"), "extends": version.get("extends"),
            "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest()}


def summarize(counts: Iterable, sources: Iterable[str], recipe: Optional[dict] = None) -> dict:
    """counts: ((source, kind, reason), (n, nbytes)) pairs → the stats.json document; `recipe`
    (the resolved recipe) is named in it by `recipe_identity`."""
    per = {s: {"docs_in": 0, "docs_out": 0, "dropped": {}, "bytes_in": 0, "bytes_out": 0} for s in sources}
    for (source, kind, reason), (n, nbytes) in counts:
        s = per.setdefault(source, {"docs_in": 0, "docs_out": 0, "dropped": {}, "bytes_in": 0, "bytes_out": 0})
        if kind == ev.READ:
            s["docs_in"] += n
            s["bytes_in"] += nbytes
        elif kind == ev.WRITTEN:
            s["docs_out"] += n
            s["bytes_out"] += nbytes
        else:
            s["dropped"][reason] = s["dropped"].get(reason, 0) + n
    for s in per.values():
        s["dropped"] = dict(sorted(s["dropped"].items()))
        s["conserved"] = s["docs_in"] == s["docs_out"] + sum(s["dropped"].values())
    out = {"sources": dict(sorted(per.items())), "conserved": all(s["conserved"] for s in per.values())}
    if recipe is not None:
        out["recipe"] = recipe_identity(recipe)
    return out


def _write_text(path: str, text: str) -> None:
    atomic.write_text(path, text)  # a kill never leaves half a stats.json or quarantine.jsonl


def sum_pairs(pairs):
    """Combiner: (count, bytes) pairs summed element-wise."""
    n = b = 0
    for x, y in pairs:
        n += x
        b += y
    return n, b


class WriteStats(beam.PTransform):
    """events → OUTPUT/stats.json (+ notes from the run) and OUTPUT/quarantine.jsonl."""

    def __init__(self, output: str, sources: List[str], recipe: Optional[dict] = None, label=None):
        super().__init__(label)
        self.output = output
        self.sources = list(sources)
        self.recipe = recipe

    def expand(self, events):
        output, sources, recipe = self.output, self.sources, self.recipe
        (
            events
            | "Key" >> beam.Map(lambda e: ((e.source, e.kind, e.reason), (e.count, e.nbytes)))
            | "Sum" >> beam.CombinePerKey(sum_pairs)
            | "All" >> beam.combiners.ToList()
            | "WriteStatsJson" >> beam.Map(
                lambda counts: _write_text(posixpath.join(output, "stats.json"),
                                           json.dumps(summarize(counts, sources, recipe), indent=2, sort_keys=True) + "\n"))
        )
        (
            events
            | "BadInputs" >> beam.Filter(lambda e: e.path is not None)
            | "AsJson" >> beam.Map(lambda e: json.dumps(
                {"source": e.source, "path": e.path, "reason": e.reason, "detail": e.detail}, sort_keys=True))
            | "AllBad" >> beam.combiners.ToList()
            | "WriteQuarantine" >> beam.Map(
                lambda lines: _write_text(posixpath.join(output, "quarantine.jsonl"),
                                          "".join(line + "\n" for line in sorted(lines))))
        )
