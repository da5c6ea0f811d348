"""CommonCrawl, the CCNet way (RECIPE.md): WET (or WARC) → drop short pages → one document per
id (a record read twice would empty both copies in line dedup) → line dedup →
language id → quality (perplexity buckets, Wikipedia-reference classifier) → exact doc dedup
(when line dedup ran in shard groups: in one global scope it cannot remove anything)."""
from __future__ import annotations

import gzip
import logging
import os
import zlib
from typing import List, Optional, Sequence

import apache_beam as beam

from common import events as ev
from common.record import Document, make_id
from dedup.exact import ExactDedup
from dedup.unique_ids import UniqueIds
from dedup.line_dedup import LineDedup, line_digest_key
from filters import models
from filters.langid import LanguageFilter
from pipeline import inputs as inp
from pipeline.sources import webtext
from pipeline.sources.warc_io import BadUnit, Limits, iter_records
from pipeline.stages import ApplyFilter, ReadFileOutcomes, flatten

NAME = "commoncrawl"
log = logging.getLogger("pipeline")
SAMPLES = ["samples/commoncrawl/*.warc.wet.gz"]


LISTING_CORRUPT = "corrupt_listing"  # a wet.paths.gz that is not gzip, is cut short or is not UTF-8


def is_listing(path: str) -> bool:
    return os.path.basename(path.split("?")[0]).endswith(".paths.gz")


def read_listing(data: bytes) -> List[str]:
    """The entries of a `wet.paths.gz` listing; raises ValueError when it is not gzipped UTF-8 text."""
    try:
        return gzip.decompress(data).decode("utf-8").split()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from e


def listed_urls(entries: Sequence[str], base_url: str) -> List[str]:
    """A listing's entries as URLs: relative ones joined to `base_url`."""
    return [e if "://" in e else base_url.rstrip("/") + "/" + e for e in entries]


def expand_inputs(paths: Sequence[str], base_url: str, max_files: Optional[int], num_shards: int,
                  source: str = NAME, download: Optional[inp.DownloadLimits] = None):
    """Matched input files → (file, cc_net shard) pairs and Events; a listing expands to the files
    it lists (its first `max_files`). A listed file's shard comes from its line in the listing and
    the listing's length (a capped run keeps the dump's shard layout); a file given directly from
    its place among those files, sorted.

    Runs on a worker (`ReadWebArchives`), so the launcher never reads a listing. A listing that
    cannot be read is one `bad_input:unreadable_file` unit, one that is not gzipped UTF-8 text one
    `bad_input:corrupt_listing` unit, each naming the listing."""
    paths = sorted(set(paths))
    direct = [p for p in paths if not is_listing(p)]
    for j, path in enumerate(direct):
        yield path, cc_shard(j, len(direct), num_shards)
    for path in (p for p in paths if is_listing(p)):
        try:
            with inp.open_binary(path, download) as f:
                data = f.read()
        except OSError as e:
            yield from ev.unreadable_file(source, path, e)
            continue
        try:
            urls = listed_urls(read_listing(data), base_url)
        except ValueError as e:
            yield ev.read(source, 0)
            yield ev.bad_input(source, LISTING_CORRUPT, path, str(e))
            continue
        for j, url in enumerate(urls if max_files is None else urls[: int(max_files)]):
            yield url, cc_shard(j, len(urls), num_shards)


class _ExpandListings(beam.DoFn):
    """[every matched file] (one element) → (file, cc_net shard); listing failures as Events."""

    def __init__(self, base_url: str, max_files: Optional[int], num_shards: int, source: str, download=None):
        self.base_url = base_url
        self.max_files = max_files
        self.num_shards = num_shards
        self.source = source
        self.download = download

    def process(self, paths):
        for out in expand_inputs(paths, self.base_url, self.max_files, self.num_shards, self.source, self.download):
            if isinstance(out, ev.Event):
                yield beam.pvalue.TaggedOutput(ev.EVENTS, out)
            else:
                yield out


def cc_shard(index: int, count: int, num_shards: int) -> int:
    """The cc_net shard holding file `index` of a dump of `count` WET files cut into `num_shards`
    (cc_net's CCShardReader: shard i reads files [i·count//num_shards, (i+1)·count//num_shards))."""
    return ((index + 1) * num_shards + count - 1) // count - 1


class WebArchiveReader:
    """(path, stream) → Documents of its WET conversion / WARC HTML response records, and an
    Event for every record dropped or unreadable (for `pipeline.stages.ReadFileOutcomes`).

    Pages shorter than `min_chars` are dropped here (`too_short`), before any other work. A file of
    WAT metadata records alone (JSON, no page text) is one `bad_input:no_records` unit that says so.
    """

    def __init__(self, source: str, min_chars: int, shard_of: dict, main_content: bool = True,
                 limits: Limits = Limits()):
        self.source = source
        self.limits = limits
        self.min_chars = min_chars
        self.shard_of = shard_of
        self.main_content = main_content

    def __call__(self, path: str, stream):
        src = self.source
        name = os.path.basename(path.split("?")[0])
        outcomes, wat = 0, False
        for rec in iter_records(stream, self.limits):
            if isinstance(rec, BadUnit):
                outcomes += 1
                yield ev.bad_input(src, rec.reason, path, f"offset {rec.offset}: {rec.detail}")
                continue
            if not webtext.is_document(rec):
                wat = wat or (rec.type == "metadata" and rec.headers.get("Content-Type") == "application/json")
                continue
            outcomes += 1
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
            url = target_uri(rec.headers.get("WARC-Target-URI"))
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
        if not outcomes and wat:  # else pipeline.stages.ReadFileOutcomes counts the empty file itself
            yield ev.bad_input(src, ev.NO_RECORDS, path, "read to its end: no record of this source in it (no WET "
                                                         "conversion, no WARC response): a WAT file: give WET or WARC")


def target_uri(value: Optional[str]) -> Optional[str]:
    """WARC-Target-URI without the angle brackets WARC/1.0's grammar put around it (wget writes them;
    WARC/1.1 dropped them): with them a URL never joins Wikipedia's cited URLs or dedups by URL."""
    if value and len(value) > 1 and value[0] == "<" and value[-1] == ">":
        return value[1:-1]
    return value


class _ReadIndexedFile(beam.DoFn):
    """(file, cc_net shard) → its Documents and Events (`ReadFileOutcomes` with the file's shard)."""

    def __init__(self, source: str, min_chars: int, main_content: bool, limits: Limits = Limits(), download=None):
        self.reader = WebArchiveReader(source, min_chars, {}, main_content, limits)
        self.read = ReadFileOutcomes(source, self.reader, source, download)

    def process(self, element):
        path, shard = element
        self.reader.shard_of = {path: shard}
        yield from self.read.process(path)


class ReadWebArchives(beam.PTransform):
    """PBegin (reads `inputs`: globs, gs://, https://, wet.paths.gz listings) or a PCollection of
    matched files → (docs, events). Globs are matched and listings read on the workers."""

    def __init__(self, inputs: Optional[Sequence[str]], source: str, min_chars: int, main_content: bool = True,
                 base_url: str = "", max_files: Optional[int] = None, num_shards: int = 1, label=None,
                 limits: Limits = Limits(), download: Optional[inp.DownloadLimits] = None):
        super().__init__(label)
        self.inputs = list(inputs or [])
        self.limits = limits
        self.download = download
        self.source = source
        self.min_chars = min_chars
        self.main_content = main_content
        self.base_url = base_url
        self.max_files = max_files
        self.num_shards = num_shards

    def expand(self, files):
        events = []
        if isinstance(files, beam.pvalue.PBegin):
            files, e = files | "Match" >> inp.MatchInputs(self.inputs, self.source)
            events.append(e)
        listed = (
            files
            | "AllFiles" >> beam.combiners.ToList()
            | "ExpandListings" >> beam.ParDo(_ExpandListings(
                self.base_url, self.max_files, self.num_shards, self.source, self.download)).with_outputs(ev.EVENTS, main="files")
        )
        out = (
            listed.files
            | "Spread" >> beam.Reshuffle()
            | "ReadRecords" >> beam.ParDo(_ReadIndexedFile(
                self.source, self.min_chars, self.main_content, self.limits, self.download)).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, flatten("ReadEvents", events + [listed[ev.EVENTS], out[ev.EVENTS]])


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
    return ApplyFilter(factory, share_per_process=True, label=label, batched=True)


class Source(beam.PTransform):
    """The CommonCrawl composite. `quality` (a PTransform docs → (docs, events)) is the CCNet
    quality stage; run.py builds it (it needs the run's Wikipedia documents and models folder)."""

    def __init__(self, inputs, recipe: dict, options=None, quality=None, dump: Optional[str] = None, label=None):
        super().__init__(label)
        self.recipe = recipe
        self.section = recipe[NAME]
        self.inputs = list(inputs)  # matched, and listings read, on the workers (ReadWebArchives)
        self.quality = quality
        # One dump (pipeline/dumps.py): its documents and events are source `commoncrawl/<dump>`, so
        # dedup, the sink's folder and stats.json are per dump.
        self.name = NAME if dump is None else f"{NAME}/{dump}"

    def expand(self, pbegin):
        s = self.section
        docs, read_events = pbegin | "ReadWET" >> ReadWebArchives(
            self.inputs, self.name, int(s["min_chars"]), bool(s["warc_html"]["main_content"]), s["base_url"],
            s["max_files"], int(s["line_dedup"]["num_shards"]), limits=Limits.from_recipe(s["warc_limits"]),
            download=inp.DownloadLimits.from_recipe(self.recipe))
        events = [read_events]
        # Before line dedup: two copies of one record would remove each other's every line.
        docs, e = docs | "UniqueIds" >> UniqueIds()
        events.append(e)
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
