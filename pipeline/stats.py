"""stats.json and quarantine.jsonl from the run's accounting events.

stats.json, per source: docs_in, docs_out, dropped (reason → count), bytes_in, bytes_out, and
`conserved` (docs_in == docs_out + Σ dropped). A top-level `conserved` is true only if every
source's is. With the run's step names (`WriteStats(steps=…)`), per source also:
- `steps`: the funnel, in the order documents meet the steps (pipeline/funnel.py): per step
  `docs_in`, `docs_out`, `bytes_in`, `bytes_out`, `dropped` (reason → documents), `dropped_bytes`,
  `trimmed` ({docs, bytes, chars} cut from the documents it kept: line dedup's removed lines);
  `bytes_conserved`: the bytes read less those dropped and trimmed are the bytes written;
- `languages` ({seen, dropped, kept}: lang → documents at the language step), `perplexity` (every
  scored page on a log grid, per language) and `counters` (other tallies), where the run has them. `recipe` names the recipe the run used (`version.json`: name, version, extends) and
the SHA-256 of the resolved recipe (after `extends` and every `--set`), so two runs with the same
name but different overrides are told apart.
"""
from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Dict, Iterable, List, Optional

import apache_beam as beam

from common import events as ev
from common import atomic
from pipeline import funnel


def recipe_identity(recipe: dict) -> dict:
    """What stats.json says of the recipe: its name, version, base, and a digest of all its values."""
    version = recipe.get("version", {})
    canonical = json.dumps(recipe, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {"name": version.get("name"), "version": version.get("version"), "extends": version.get("extends"),
            "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest()}


def summarize(counts: Iterable, sources: Iterable[str], recipe: Optional[dict] = None,
              steps: Optional[Dict[str, List[str]]] = None) -> dict:
    """counts: ((source, kind, reason), (n, nbytes[, chars])) → the stats.json document; `recipe`
    (the resolved recipe) is named in it by `recipe_identity`; `steps` (source → step names, as
    `funnel.steps_for` gives them) adds each source's funnel."""
    per = {s: {"docs_in": 0, "docs_out": 0, "dropped": {}, "bytes_in": 0, "bytes_out": 0} for s in sources}
    drop_bytes: Dict[str, dict] = {}
    trims: Dict[str, dict] = {}
    tallies: Dict[str, dict] = {}
    for (source, kind, reason), (n, nbytes, *chars) in counts:
        s = per.setdefault(source, {"docs_in": 0, "docs_out": 0, "dropped": {}, "bytes_in": 0, "bytes_out": 0})
        if kind == ev.READ:
            s["docs_in"] += n
            s["bytes_in"] += nbytes
        elif kind == ev.WRITTEN:
            s["docs_out"] += n
            s["bytes_out"] += nbytes
        elif kind == ev.TRIM:
            t = trims.setdefault(source, {}).setdefault(reason, [0, 0, 0])
            t[0] += n
            t[1] += nbytes
            t[2] += chars[0] if chars else 0
        elif kind == ev.TALLY:
            tallies.setdefault(source, {})[reason] = tallies.get(source, {}).get(reason, 0) + n
        else:
            s["dropped"][reason] = s["dropped"].get(reason, 0) + n
            drop_bytes.setdefault(source, {})[reason] = drop_bytes.get(source, {}).get(reason, 0) + nbytes
    for name, s in per.items():
        s["dropped"] = dict(sorted(s["dropped"].items()))
        s["conserved"] = s["docs_in"] == s["docs_out"] + sum(s["dropped"].values())
        if steps is not None and name in steps:
            drops = {r: (n, drop_bytes.get(name, {}).get(r, 0)) for r, n in s["dropped"].items()}
            s["steps"], s["bytes_conserved"] = funnel.accounts(
                name, steps[name], (s["docs_in"], s["bytes_in"]), drops,
                {t: tuple(v) for t, v in trims.get(name, {}).items()}, (s["docs_out"], s["bytes_out"]))
        mine = tallies.get(name, {})
        for key, value in (("languages", funnel.languages(mine)), ("perplexity", funnel.perplexity(mine)),
                           ("counters", funnel.other_tallies(mine) or None)):
            if value is not None:
                s[key] = value
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


def sum_triples(triples):
    """Combiner: (count, bytes, chars) summed element-wise."""
    n = b = c = 0
    for x, y, z in triples:
        n += x
        b += y
        c += z
    return n, b, c


class WriteStats(beam.PTransform):
    """events → OUTPUT/stats.json (+ notes from the run) and OUTPUT/quarantine.jsonl."""

    def __init__(self, output: str, sources: List[str], recipe: Optional[dict] = None,
                 steps: Optional[Dict[str, List[str]]] = None, label=None):
        super().__init__(label)
        self.output = output
        self.sources = list(sources)
        self.recipe = recipe
        self.steps = steps

    def expand(self, events):
        output, sources, recipe, steps = self.output, self.sources, self.recipe, self.steps
        (
            events
            | "Key" >> beam.Map(lambda e: ((e.source, e.kind, e.reason), (e.count, e.nbytes, e.chars)))
            | "Sum" >> beam.CombinePerKey(sum_triples)
            | "All" >> beam.combiners.ToList()
            | "WriteStatsJson" >> beam.Map(
                lambda counts: _write_text(posixpath.join(output, "stats.json"), json.dumps(
                    summarize(counts, sources, recipe, steps), indent=2, sort_keys=True) + "\n"))
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
