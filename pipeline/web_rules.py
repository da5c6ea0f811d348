"""The llama-plus web rules stage: Gopher (quality, repetition), FineWeb's line rules and PII
scrubbing over one source's documents, after the source's own steps and before near-dedup.

Recipe sections `gopher`, `fineweb`, `pii` (all off in `llama`, on in `llama-plus`), each with
`enabled` and `sources` (default: the web sources, commoncrawl and c4). For a source that any
enabled family lists, `WebRules(recipe, source)` (a `stages.ApplyFilter` filter):
1. tokenises the page once (`filters.gopher.words`) and measures every enabled family
   (`gopher_stats`, `fineweb_stats`), whether or not the page will pass;
2. runs FineWeb's C4 step (`filters.fineweb.FineWebC4`, recipe `fineweb.c4`): C4's line rules
   with datatrove's defaults, which keep some lines of the page and may drop it; FineWeb's line
   rules measure the lines it keeps, and a kept page leaves with them;
3. decides: the first rule broken in the order Gopher repetition, Gopher quality, C4, FineWeb
   (datatrove's `examples/fineweb.py`) names the drop reason (`gopher_*`, `fineweb_c4_*`,
   `fineweb_*`);
4. scrubs the kept page's e-mail and public IP addresses (`filters.pii`), counting each kind
   (counters `pii_email`, `pii_ipv4`, `pii_ipv6` in the stage `WebRules:<source>`, one per source).
The measures (`fineweb_c4_sentences` and `fineweb_c4_lines_removed` for the C4 step), the decision
(`rules_decision`: keep/drop) and `rules_reason` go into the document's meta under
`signal_columns(recipe)` names (`gopher_word_count`, `fineweb_list_ratio`, `pii_email`, …), which the sinks write as typed Parquet columns and drop from the meta JSON; a
threshold can be re-chosen afterwards by a query over the curated output and, with
`--write_rejects`, over `OUT/rejects/` where the dropped pages keep their signals.
"""
from __future__ import annotations

from typing import List, Optional, get_type_hints

from common.record import Column, Document
from filters.fineweb import FineWebC4, FineWebRules, FineWebStats
from filters.gopher import GopherRules, GopherStats, gopher_stats, words
from filters.pii import KINDS, PIIScrubber
from pipeline.stages import ApplyFilter, Drop

FAMILIES = ("gopher", "fineweb", "pii")
DECISION = "rules_decision"
REASON = "rules_reason"
KEEP, DROP = "keep", "drop"


def _enabled(recipe: dict, family: str, source: Optional[str] = None) -> bool:
    section = recipe[family]
    return bool(section["enabled"]) and (source is None or source in section["sources"])


def enabled_for(recipe: dict, source: str) -> bool:
    return any(_enabled(recipe, f, source) for f in FAMILIES)


def _columns(prefix: str, stats_type) -> List[Column]:
    return [Column(prefix + name, "int" if hint is int else "float", in_meta=False)
            for name, hint in get_type_hints(stats_type).items()]


def signal_columns(recipe: dict) -> List[Column]:
    """The typed columns of the enabled families (none when every family is off)."""
    columns: List[Column] = []
    if _enabled(recipe, "gopher"):
        columns += _columns("gopher_", GopherStats)
    if _enabled(recipe, "fineweb"):
        columns += _columns("fineweb_", FineWebStats)
        if recipe["fineweb"]["c4"]["enabled"]:
            columns += [Column(k, "int", in_meta=False) for k in _C4_KEYS]
    if _enabled(recipe, "pii"):
        columns += [Column("pii_" + k, "int", in_meta=False) for k in KINDS]
    if columns:
        columns += [Column(DECISION, "string", in_meta=False), Column(REASON, "string", in_meta=False)]
    return columns


_GOPHER_KEYS = tuple("gopher_" + f for f in GopherStats._fields)
_FINEWEB_KEYS = tuple("fineweb_" + f for f in FineWebStats._fields)
_PII_KEYS = tuple("pii_" + k for k in KINDS)
_C4_KEYS = ("fineweb_c4_sentences", "fineweb_c4_lines_removed")


class WebRules:
    """doc → the scrubbed doc with its signals, or `Drop(reason, doc with its signals)`."""

    def __init__(self, recipe: dict, source: str):
        self.gopher = GopherRules.from_config(recipe["gopher"]) if _enabled(recipe, "gopher", source) else None
        self.fineweb = FineWebRules.from_config(recipe["fineweb"]) if _enabled(recipe, "fineweb", source) else None
        c4 = recipe["fineweb"]["c4"]
        self.c4 = FineWebC4.from_config(c4) if self.fineweb and c4["enabled"] else None
        self.pii = PIIScrubber.from_config(recipe["pii"]) if _enabled(recipe, "pii", source) else None
        self.tallies = dict.fromkeys(_PII_KEYS, 0)

    def __call__(self, doc: Document):
        text = doc.text
        signals = {}
        reason = None
        tokens = words(text) if self.gopher or self.fineweb else None
        if self.gopher:
            g = gopher_stats(text, tokens)
            signals.update(zip(_GOPHER_KEYS, g))
            reason = self.gopher.reason(g)
        if self.c4:
            kept = self.c4.clean(text)
            signals.update(zip(_C4_KEYS, (kept.sentences, _lines(text) - _lines(kept.text or ""))))
            reason = reason or kept.reason
            if kept.text is not None:  # FineWeb's line rules measure what C4's keep
                text, tokens = kept.text, kept.tokens
        if self.fineweb:
            f = self.fineweb.stats(text, tokens)
            signals.update(zip(_FINEWEB_KEYS, f))
            reason = reason or self.fineweb.reason(f)
        if reason:
            signals[DECISION], signals[REASON] = DROP, reason
            return Drop(reason, doc.with_meta(**signals))
        if self.pii:
            text, counts = self.pii.scrub(text)
            for kind, key in zip(KINDS, _PII_KEYS):
                signals[key] = counts[kind]
                self.tallies[key] += counts[kind]
        signals[DECISION], signals[REASON] = KEEP, None
        return doc._replace(text=text).with_meta(**signals)


def _lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


class _Factory:
    """Picklable `make_filter` for ApplyFilter."""

    def __init__(self, recipe: dict, source: str):
        self.sections = {f: recipe[f] for f in FAMILIES}
        self.source = source

    def __call__(self) -> WebRules:
        return WebRules(self.sections, self.source)


def web_rules_stage(recipe: dict, source: str) -> ApplyFilter:
    """docs → (docs, events) for one source: `docs, e = docs | f"WebRules:{source}" >> …`."""
    return ApplyFilter(_Factory(recipe, source), label=f"WebRules:{source}")
