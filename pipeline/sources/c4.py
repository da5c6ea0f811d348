"""C4: the released JSON lines, taken as released, or C4 made from CommonCrawl WET files the way
TFDS `c4_utils.py` made the released C4.

    JSON lines (text, url, timestamp|date) ──────────────────────────────────────────┐
    WET conversion records ─ URLDedup ─ C4Rules ─ SpanDedup ─ C4AfterDedup ─────────┴─ LanguageId

- Released JSON (`*.json[.gz]`, `*.jsonl[.gz]`: allenai/c4 `en` files; `date` is accepted for
  `timestamp`, as in OLMo's copies) already passed C4's steps: the schema is mapped and language
  id kept, nothing else. `c4.released_json.clean=true` sends them through C4's steps as well.
- WET/WARC (`*.wet.gz`, `*.warc.gz`): `URLDedup` (TFDS `normalize_url` + `select_newest_page`: one
  page per normalised URL, the newest `WARC-Date`, ties to the smallest id; `c4_duplicate_url`),
  `C4Rules` (filters/c4_rules.py: page length, line rules tallied per rule, page drops by reason),
  `SpanDedup` (dedup/span_dedup.py: by default TFDS's corpus-wide line dedup), `C4AfterDedup`
  (sentences re-counted on what the dedup left, then the LDNOOBW bad words), language id (fastText
  lid, as on the CommonCrawl path; C4 used langdetect >= 0.99).

Recipe: `pipeline/recipes/llama/c4.json`. `id`: from file name and line (JSON) or the WARC record;
`meta`: timestamp, c4_file (JSON) or the WET fields. Drop reasons: `c4_duplicate_url`, the `c4_*`
page rules of filters/c4_rules.py, `c4_span_dedup_empty`, `language_*`, and
`bad_input:{malformed_json, missing_text, bad_compression, line_too_large, unreadable_file}`, and the
readers' common ones (`pipeline/inputs.py`, `stages.ReadFileOutcomes`, `dedup/unique_ids.py`).
"""
from __future__ import annotations

import functools
import gzip
import io
import json
import os
import re
import zlib
from typing import Iterator, Sequence, Union

import apache_beam as beam

from common import events as ev
from common.events import Event
from common.record import Document, make_id, meta_json
from dedup.span_dedup import SpanDedup
from dedup.unique_ids import UniqueIds
from filters.c4_rules import LINE_RULES, C4AfterDedup, C4Rules
from pipeline import inputs as inp
from pipeline.bounded import iter_lines
from pipeline.recipe import section
from pipeline.stages import ApplyFilter, ReadFileOutcomes, flatten

NAME = "c4"
SAMPLES = ["samples/c4/*.json.gz"]
WEB_ARCHIVE_SUFFIXES = (".wet.gz", ".wet", ".warc.gz", ".warc")


def is_web_archive(path: str) -> bool:
    return os.path.basename(path.split("?")[0]).endswith(WEB_ARCHIVE_SUFFIXES)


DEFAULT_MAX_LINE_BYTES = 16 << 20  # recipe c4.max_line_bytes


def read_json_lines(path: str, stream, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Union[Document, Event]]:
    """Documents of one C4 JSON-lines file (gzip sniffed from its bytes); a bad line is one bad
    input, a broken gzip stream one more after the lines read before it. A line over
    `max_line_bytes` is read past in chunks, never held (bad_input:line_too_large)."""
    name = os.path.basename(path.split("?")[0])
    head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    lines = gzip.GzipFile(fileobj=stream) if head == b"\x1f\x8b" or name.endswith(".gz") else stream
    number = 0
    try:
        for number, raw in iter_lines(lines, max_line_bytes):
            if raw is None:
                yield ev.bad_input(NAME, "line_too_large", f"{path}:{number}", f"line over max_line_bytes={max_line_bytes}")
                continue
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            # ValueError: also bad UTF-8 and over-long integers; RecursionError: absurd nesting.
            except (ValueError, RecursionError) as e:
                yield ev.bad_input(NAME, "malformed_json", path, f"line {number}: {type(e).__name__}: {e}", len(raw))
                continue
            text = record.get("text") if isinstance(record, dict) else None
            if not isinstance(text, str):
                yield ev.bad_input(NAME, "missing_text", path, f"line {number}: no string 'text' field", len(raw))
                continue
            url = record.get("url")
            url = url if isinstance(url, str) else None
            meta = {"timestamp": record.get("timestamp", record.get("date")), "c4_file": name}
            try:  # also the url and timestamp (fuzz/): the id and the sink encode them
                text.encode("utf-8"), (url or "").encode("utf-8"), meta_json(meta).encode("utf-8")
            except UnicodeEncodeError as e:  # a "\\ud800"-style escape: a lone surrogate is not text
                yield ev.bad_input(NAME, "malformed_json", path, f"line {number}: {e}", len(raw))
                continue
            yield Document(make_id(NAME, name, str(number), url or ""), NAME, text, url, meta)
    except (EOFError, OSError, zlib.error) as e:
        yield ev.bad_input(NAME, "bad_compression", path, f"after line {number}: {type(e).__name__}: {e}")


def read_c4_file(path: str, raw, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[Union[Document, Event]]:
    """`pipeline.stages.ReadFileOutcomes` reader: `read_json_lines` over a peekable stream."""
    return read_json_lines(path, raw if hasattr(raw, "peek") else io.BufferedReader(raw), max_line_bytes)


class _ApplyC4Rules(beam.DoFn):
    """C4Rules in Beam: page drops as events, removed lines as one counter per line rule."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.rules = None

    def setup(self):
        self.rules = C4Rules.from_config(self.cfg)

    def start_bundle(self):
        self.totals = ev.Totals()  # the lines the rules removed from kept pages (stats.json's funnel)

    def finish_bundle(self):
        for event in self.totals.events():
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.windowed(event))

    def process(self, doc: Document):
        before = dict(self.rules.line_counts)
        result = self.rules(doc)
        for rule in LINE_RULES:
            removed = self.rules.line_counts[rule] - before.get(rule, 0)
            if removed:
                beam.metrics.Metrics.counter("c4_rules", "removed_" + rule).inc(removed)
        if isinstance(result, str):
            beam.metrics.Metrics.counter("c4_rules", "drop:" + result).inc()
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, result, doc.nbytes))
        else:
            self.totals.trim_between(doc, result, "c4_rules")
            yield result


DUPLICATE_URL = "c4_duplicate_url"
_SCHEME = re.compile(r"https?:\/\/(www\.)?")
_TRACKING = re.compile(r"\?(utm_|ref|feed).*")


def normalize_url(url: str) -> str:
    """TFDS `normalize_url`: scheme and "www." gone, a "?utm_…"/"?ref…"/"?feed…" tail gone, no
    trailing "/"."""
    return _TRACKING.sub("", _SCHEME.sub("", url)).rstrip("/")


def _timestamp(doc: Document) -> str:
    return str(doc.meta.get("warc_date") or doc.meta.get("timestamp") or "")


class _NewestPerURL(beam.DoFn):
    """(normalised URL, [doc fields]) → the newest page (ties: smallest id); the others as drops."""

    def process(self, element):
        _, group = element
        docs = [Document._make(fields) for fields in group]
        newest = max(_timestamp(d) for d in docs)
        keep = min((d for d in docs if _timestamp(d) == newest), key=lambda d: d.id)
        yield keep
        for d in docs:
            if d is not keep:
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(d.source, DUPLICATE_URL, d.nbytes))


class URLDedup(beam.PTransform):
    """docs → (one doc per normalised URL, `c4_duplicate_url` drops). Pages without a URL pass."""

    def expand(self, docs):
        out = (docs
               | "KeyByURL" >> beam.Map(lambda d: (normalize_url(d.url) if d.url else "\x00" + d.id, tuple(d)))
               | "GroupByURL" >> beam.GroupByKey()
               | "Newest" >> beam.ParDo(_NewestPerURL()).with_outputs(ev.EVENTS, main="docs"))
        return out.docs, out[ev.EVENTS]


class Source(beam.PTransform):
    def __init__(self, inputs: Sequence[str], recipe: dict, options=None, label=None):
        super().__init__(label)
        self.recipe = recipe
        self.cfg = section(recipe, NAME)
        self.inputs = list(inputs)  # matched on the workers, then split by kind (expand)

    def expand(self, pbegin):
        from pipeline.sources.commoncrawl import ReadWebArchives, language_filter

        cfg = self.cfg
        released, made, events = [], [], []
        # Matched on the workers, then split by kind: JSON lines, or WET/WARC files.
        download = inp.DownloadLimits.from_recipe(self.recipe)
        files, e = pbegin | "Inputs" >> inp.MatchInputs(self.inputs, NAME)
        events.append(e)
        json_files, wet_files = files | "ByKind" >> beam.Partition(lambda p, n: int(is_web_archive(p)), 2)
        out = (json_files | "SpreadFiles" >> beam.Reshuffle()
               | "ReadJsonLines" >> beam.ParDo(ReadFileOutcomes(
                   NAME, functools.partial(read_c4_file, max_line_bytes=int(cfg["max_line_bytes"])), "c4_read",
                   download)).with_outputs(ev.EVENTS, main="docs"))
        (made if cfg["released_json"]["clean"] else released).append(out.docs)
        events.append(out[ev.EVENTS])
        wet = cfg["wet"]
        docs, e = wet_files | "ReadWET" >> ReadWebArchives(None, NAME, int(wet["min_chars"]), bool(wet["main_content"]),
                                                           download=download)
        made.append(docs)
        events.append(e)
        outputs = list(released)
        if made:
            docs, steps = self._c4_steps(flatten("ToClean", made))
            outputs.append(docs)
            events += steps
        if not outputs:
            outputs.append(pbegin | "NoInput" >> beam.Create([]))
        docs = flatten("AllC4Docs", outputs)
        if cfg["language"]["enabled"]:
            docs, e = docs | "LanguageId" >> language_filter(self.recipe, cfg)
            events.append(e)
        docs, e = docs | "UniqueIds" >> UniqueIds()
        events.append(e)
        return docs, flatten("C4Events", events)

    def _c4_steps(self, docs):
        """TFDS's order: URL dedup, the rules, the corpus-wide dedup, the checks after it."""
        cfg, events = self.cfg, []
        if cfg["url_dedup"]["enabled"]:
            docs, e = docs | "URLDedup" >> URLDedup()
            events.append(e)
        rules = cfg["rules"]
        if rules["enabled"]:
            out = docs | "C4Rules" >> beam.ParDo(_ApplyC4Rules(rules)).with_outputs(ev.EVENTS, main="docs")
            docs = out.docs
            events.append(out[ev.EVENTS])
        span = cfg["span_dedup"]
        if span["enabled"]:
            docs, e = docs | "SpanDedup" >> SpanDedup(
                int(span["sentences"]), int(span["hash_shards"]), int(span["doc_shards"]), span["unit"])
            events.append(e)
        if rules["enabled"]:
            # TFDS re-counts sentences only when it also cleaned (min_num_sentences=0 otherwise).
            after = {"min_sentences": int(rules["min_sentences"]) if span["enabled"] else 0,
                     "badwords": rules["badwords"], "badwords_path": rules["badwords_path"]}
            docs, e = docs | "C4AfterDedup" >> ApplyFilter(
                functools.partial(C4AfterDedup.from_config, after), share_per_process=True)
            events.append(e)
        return docs, events
