"""CommonCrawl, the CCNet way (RECIPE.md): WET (or WARC) → drop short pages → line dedup →
language id → quality (perplexity buckets, Wikipedia-reference classifier) → exact doc dedup
(when line dedup ran in shard groups: in one global scope it cannot remove anything)."""
from __future__ import annotations

import gzip
import logging
import os
from typing import List, Optional, Sequence

import apache_beam as beam

from common import events as ev
from common.record import Document, make_id
from dedup.exact import ExactDedup
from dedup.line_dedup import LineDedup, line_digest_key
from filters import models
from filters.langid import LanguageFilter
from pipeline import inputs as inp
from pipeline.sources import webtext
from pipeline.sources.warc_io import BadUnit, iter_records
from pipeline.stages import ApplyFilter, ReadFileOutcomes, flatten

NAME = "commoncrawl"
log = logging.getLogger("pipeline")
SAMPLES = ["samples/commoncrawl/*.warc.wet.gz"]


def expand_inputs(patterns: Sequence[str], base_url: str, max_files: Optional[int],
                  positions: Optional[dict] = None) -> List[str]:
    """Input files; a `wet.paths.gz` listing expands to the URLs it lists (first `max_files`).

    `positions`, when given, is filled with path → (index, count) of the file in its dump: its
    line in the listing and the listing's length (a capped run keeps the dump's shard layout), or
    for files given directly their place among those files."""
    paths: List[str] = []
    direct: List[str] = []
    for path in inp.expand(patterns):
        if os.path.basename(path.split("?")[0]).endswith(".paths.gz"):
            with inp.open_binary(path) as f:
                listed = gzip.GzipFile(fileobj=f).read().decode("utf-8").split()
            urls = [entry if "://" in entry else base_url.rstrip("/") + "/" + entry for entry in listed]
            if positions is not None:
                positions.update({u: (j, len(urls)) for j, u in enumerate(urls)})
            paths.extend(urls if max_files is None else urls[: int(max_files)])
        else:
            paths.append(path)
            direct.append(path)
    if positions is not None:
        positions.update({p: (j, len(direct)) for j, p in enumerate(direct)})
    return paths


def cc_shard(index: int, count: int, num_shards: int) -> int:
    """The cc_net shard holding file `index` of a dump of `count` WET files cut into `num_shards`
    (cc_net's CCShardReader: shard i reads files [i·count//num_shards, (i+1)·count//num_shards))."""
    return ((index + 1) * num_shards + count - 1) // count - 1


class WebArchiveReader:
    """(path, stream) → Documents of its WET conversion / WARC HTML response records, and an
    Event for every record dropped or unreadable (for `pipeline.stages.ReadFileOutcomes`).

    Pages shorter than `min_chars` are dropped here (`too_short`), before any other work.
    """

    def __init__(self, source: str, min_chars: int, shard_of: dict, main_content: bool = True):
        self.source = source
        self.min_chars = min_chars
        self.shard_of = shard_of
        self.main_content = main_content

    def __call__(self, path: str, stream):
        src = self.source
        name = os.path.basename(path.split("?")[0])
        for rec in iter_records(stream):
            if isinstance(rec, BadUnit):
                yield ev.bad_input(src, rec.reason, path, f"offset {rec.offset}: {rec.detail}")
                continue
            if not webtext.is_document(rec):
                continue
            text, reason, title = webtext.record_text(rec, self.main_content)
            # A WET record's text is its payload decoded, so the payload's length is the text's bytes.
            same_bytes = text is None or rec.type == webtext.TEXT_RECORD
            nbytes = len(rec.payload) if same_bytes else len(text.encode("utf-8"))
            record_id = rec.headers.get("WARC-Record-ID", "")
            if text is None:
                if reason.startswith("bad_input:"):
                    yield ev.bad_input(src, reason, path, f"record {record_id}", nbytes)
                else:
                    yield ev.drop(src, reason, nbytes)
                continue
            if len(text) < self.min_chars:
                yield ev.drop(src, "too_short", nbytes)
                continue
            url = rec.headers.get("WARC-Target-URI")
            meta = {
                "title": title,
                "warc_record_id": record_id,
                "warc_date": rec.headers.get("WARC-Date"),
                "digest": rec.headers.get("WARC-Block-Digest") or rec.headers.get("WARC-Payload-Digest"),
                "cc_file": name,
                "cc_shard": self.shard_of.get(path, 0),
                "format": "wet" if rec.type == webtext.TEXT_RECORD else "warc",
            }
            yield Document(make_id(src, record_id or f"{name}#{rec.offset}", url or ""), src, text, url, meta)


class ReadWebArchives(beam.PTransform):
    """PBegin → (docs, events) for a list of WET/WARC files (local, gs://, https://, listings)."""

    def __init__(self, paths: Sequence[str], source: str, min_chars: int, main_content: bool = True,
                 shard_of: Optional[dict] = None, label=None):
        super().__init__(label)
        self.paths = list(paths)
        self.source = source
        self.min_chars = min_chars
        self.main_content = main_content
        self.shard_of = shard_of

    def expand(self, pbegin):
        index = self.shard_of if self.shard_of is not None else {p: i for i, p in enumerate(self.paths)}
        out = (
            pbegin
            | "Paths" >> beam.Create(self.paths)
            | "Spread" >> beam.Reshuffle()
            | "ReadRecords" >> beam.ParDo(
                ReadFileOutcomes(self.source, WebArchiveReader(self.source, self.min_chars, index, self.main_content),
                                 self.source)).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]


def scope_function(config: dict):
    """The line-dedup scope of a document: the whole run, or cc_net's group of `group_size`
    cc_net shards (`hash_in_mem` = 50 of a dump's 1,600 shards; `meta.cc_shard` is the shard)."""
    if config["scope"] == "global":
        return None
    if config["scope"] != "groups":
        raise ValueError(f"commoncrawl.line_dedup.scope must be 'global' or 'groups', not {config['scope']!r}")
    group_size = int(config["group_size"])

    def scope(doc: Document):
        return doc.meta["cc_shard"] // group_size

    return scope


def exact_dedup_can_remove(line_dedup_config: dict) -> bool:
    """Whether exact dedup after line dedup can find anything: only when line dedup ran in groups.

    In one global scope, two documents with the same kept lines cannot both survive: each kept
    line would occur in both, i.e. twice, and line dedup removes every line that occurs twice.
    Later steps do not change the text, so exact dedup there would shuffle every document for no
    removal; it is left out (tests/test_line_dedup.py checks the claim through Beam).
    """
    return line_dedup_config.get("scope", "global") != "global"


class _LanguageFilterFactory:
    """Picklable factory: the fastText model is loaded on the worker, once per process."""

    def __init__(self, model_spec: dict, languages, threshold: float):
        self.model_spec = model_spec
        self.languages = list(languages)
        self.threshold = threshold

    def __call__(self):
        return LanguageFilter(models.resolve(self.model_spec), self.languages, self.threshold)


def language_filter(recipe: dict, section: dict, label: str = "LanguageId") -> ApplyFilter:
    lang = section["language"]
    factory = _LanguageFilterFactory(recipe["models"]["lid"], lang["languages"], float(lang["threshold"]))
    return ApplyFilter(factory, share_per_process=True, label=label)


class Source(beam.PTransform):
    """The CommonCrawl composite. `quality` (a PTransform docs → (docs, events)) is the CCNet
    quality stage; run.py builds it (it needs the run's Wikipedia documents and models folder)."""

    def __init__(self, inputs, recipe: dict, options=None, quality=None, label=None):
        super().__init__(label)
        self.recipe = recipe
        self.section = recipe[NAME]
        positions: dict = {}
        self.paths = expand_inputs(inputs, self.section["base_url"], self.section["max_files"], positions)
        shards = int(self.section["line_dedup"]["num_shards"])
        self.shard_of = {p: cc_shard(j, n, shards) for p, (j, n) in positions.items()}
        self.quality = quality

    def expand(self, pbegin):
        s = self.section
        docs, read_events = pbegin | "ReadWET" >> ReadWebArchives(
            self.paths, NAME, int(s["min_chars"]), bool(s["warc_html"]["main_content"]), self.shard_of)
        events = [read_events]
        ld = s["line_dedup"]
        docs, e = docs | "LineDedup" >> LineDedup(int(ld["hash_shards"]), int(ld["doc_shards"]), scope_function(ld))
        events.append(e)
        docs, e = docs | "LanguageId" >> language_filter(self.recipe, s)
        events.append(e)
        if s.get("quality", True) and self.quality is not None:
            docs, e = docs | "Quality" >> self.quality
            events.append(e)
        if s.get("exact_dedup", True) and exact_dedup_can_remove(ld):
            # Same content after line dedup = same cc_net-normalised kept lines (their digest).
            docs, e = docs | "ExactDedup" >> ExactDedup(line_digest_key)
            events.append(e)
        elif s.get("exact_dedup", True):
            log.info("commoncrawl: exact dedup left out: after global line dedup no two documents can "
                     "have the same kept lines (it runs with line_dedup.scope=groups)")
        return docs, flatten("Events", events)
