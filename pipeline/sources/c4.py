"""C4: the released JSON lines, or C4 derived from CommonCrawl WET files by C4's own rules.

    files ─ Read (JSON lines: text, url, timestamp|date; or WET conversion records)
          ─ C4Rules (filters/c4_rules.py; line rules tallied per rule, page drops by reason)
          ─ SpanDedup (dedup/span_dedup.py: all but one of any repeated three-sentence span)
          ─ LanguageId (fastText lid, as on the CommonCrawl path)

Inputs (`--c4_input`): `*.json`, `*.json.gz`, `*.jsonl[.gz]` (allenai/c4 `en` files; `date` is
accepted for `timestamp`, as in OLMo's copies) and `*.wet.gz`/`*.warc.gz` (WET/WARC). Recipe:
`pipeline/recipes/llama/c4.json`. `id`: from file name and line (JSON) or the WARC record;
`meta`: timestamp, c4_file (JSON) or the WET fields. Drop reasons: the `c4_*` page rules, `c4_span_dedup_empty`,
`language_*`, and `bad_input:{malformed_json, missing_text, bad_compression, unreadable_file}`.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from typing import Iterator, Sequence, Union

import apache_beam as beam

from common import events as ev
from common.events import Event
from common.record import Document, make_id
from dedup.span_dedup import SpanDedup
from filters.c4_rules import LINE_RULES, C4Rules
from pipeline import inputs as inp
from pipeline.recipe import section
from pipeline.stages import ReadFileOutcomes, flatten

NAME = "c4"
SAMPLES = ["samples/c4/*.json.gz"]
WEB_ARCHIVE_SUFFIXES = (".wet.gz", ".wet", ".warc.gz", ".warc")


def is_web_archive(path: str) -> bool:
    return os.path.basename(path.split("?")[0]).endswith(WEB_ARCHIVE_SUFFIXES)


def read_json_lines(path: str, stream) -> Iterator[Union[Document, Event]]:
    """Documents of one C4 JSON-lines file (gzip sniffed from its bytes); a bad line is one bad
    input, a broken gzip stream one more after the lines read before it."""
    name = os.path.basename(path.split("?")[0])
    head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    lines = gzip.GzipFile(fileobj=stream) if head == b"\x1f\x8b" or name.endswith(".gz") else stream
    number = 0
    try:
        for number, raw in enumerate(lines, 1):
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
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as e:  # a "\\ud800"-style escape: a lone surrogate is not text
                yield ev.bad_input(NAME, "malformed_json", path, f"line {number}: {e}", len(raw))
                continue
            url = record.get("url")
            url = url if isinstance(url, str) else None
            meta = {"timestamp": record.get("timestamp", record.get("date")), "c4_file": name}
            yield Document(make_id(NAME, name, str(number), url or ""), NAME, text, url, meta)
    except (EOFError, OSError, zlib.error) as e:
        yield ev.bad_input(NAME, "bad_compression", path, f"after line {number}: {type(e).__name__}: {e}")


def read_c4_file(path: str, raw) -> Iterator[Union[Document, Event]]:
    """`pipeline.stages.ReadFileOutcomes` reader: `read_json_lines` over a peekable stream."""
    return read_json_lines(path, raw if hasattr(raw, "peek") else io.BufferedReader(raw))


class _ApplyC4Rules(beam.DoFn):
    """C4Rules in Beam: page drops as events, removed lines as one counter per line rule."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.rules = None

    def setup(self):
        self.rules = C4Rules.from_config(self.cfg)

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
            yield result


class Source(beam.PTransform):
    def __init__(self, inputs: Sequence[str], recipe: dict, options=None, label=None):
        super().__init__(label)
        self.recipe = recipe
        self.cfg = section(recipe, NAME)
        paths = inp.expand(inputs)
        self.json_paths = [p for p in paths if not is_web_archive(p)]
        self.wet_paths = [p for p in paths if is_web_archive(p)]

    def expand(self, pbegin):
        from pipeline.sources.commoncrawl import ReadWebArchives, language_filter

        docs_list, events = [], []
        if self.json_paths:
            out = (pbegin | "JsonFiles" >> beam.Create(self.json_paths) | "SpreadFiles" >> beam.Reshuffle()
                   | "ReadJsonLines" >> beam.ParDo(ReadFileOutcomes(NAME, read_c4_file, "c4_read")).with_outputs(
                       ev.EVENTS, main="docs"))
            docs_list.append(out.docs)
            events.append(out[ev.EVENTS])
        if self.wet_paths:
            wet = self.cfg.get("wet", {})
            docs, e = pbegin | "ReadWET" >> ReadWebArchives(
                self.wet_paths, NAME, int(wet.get("min_chars", 0)), bool(wet.get("main_content", True)))
            docs_list.append(docs)
            events.append(e)
        if not docs_list:
            docs_list.append(pbegin | "NoInput" >> beam.Create([]))
        docs = flatten("AllC4Docs", docs_list)
        if self.cfg.get("rules", {}).get("enabled", True):
            rules = {k: v for k, v in self.cfg["rules"].items() if k != "enabled"}
            out = docs | "C4Rules" >> beam.ParDo(_ApplyC4Rules(rules)).with_outputs(ev.EVENTS, main="docs")
            docs = out.docs
            events.append(out[ev.EVENTS])
        span = self.cfg.get("span_dedup", {})
        if span.get("enabled", True):
            docs, e = docs | "SpanDedup" >> SpanDedup(
                int(span.get("sentences", 3)), int(span.get("hash_shards", 16)), int(span.get("doc_shards", 16)))
            events.append(e)
        if self.cfg.get("language", {}).get("enabled", True):
            docs, e = docs | "LanguageId" >> language_filter(self.recipe, self.cfg)
            events.append(e)
        if not events:
            events.append(pbegin | "NoEvents" >> beam.Create([]))
        return docs, flatten("C4Events", events)
