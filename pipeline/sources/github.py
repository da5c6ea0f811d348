"""GitHub: code files under Apache, BSD or MIT licences, cleaned and exactly deduplicated.

    inputs ─ ReadUnits ─ CleanFiles ─ ExactDedup ─ docs
             (licence, extension, size: `github_read.Admission`; then UTF-8)
                         (licence/copyright header stripped; RP1 quality rules)

Inputs (`--github_input`, comma-separated globs):
- BigQuery JSON-lines exports of `github_repos` rows `{repo_name, path, content, license}`
  (`.jsonl`/`.json`, optionally gzip/bzip2 compressed);
- repository archives (`.tar.gz`, `.tgz`, `.tar`, `.tar.bz2`, `.zip`) and local checkout folders:
  licence detected from the root licence file's text (`filters.licenses`);
- `bigquery` or `bigquery:<project.dataset>`: on Dataflow, `ReadFromBigQuery` runs the query of
  `github_bigquery.build_query` (licence, extension and size pushed down, checked again here).
  It needs `--project` and `--temp_location` (a `gs://` path) as any BigQuery read in Beam.

Thresholds: `pipeline/recipes/llama/github.json`. `meta`: repo, path, license, language.
Drop reasons: `license_not_kept:<id>`, `license_not_found`, `license_unrecognized`,
`extension_not_kept`, `file_too_large`, `not_regular_file`, the `filters.code_heuristics` reasons,
`empty_after_cleaning`, `exact_duplicate`, `duplicate_id`, and `bad_input:{not_utf8, malformed_json,
truncated_stream, truncated_archive, bad_archive, unsafe_path, corrupt_member, no_records}`.
"""
from __future__ import annotations

import functools
import hashlib
import os
from typing import List, Sequence

import apache_beam as beam

from common import events as ev
from common.events import Event
from common.record import Document
from dedup.exact import ExactDedup
from dedup.unique_ids import UniqueIds
from filters.code_heuristics import CodeQuality
from filters.licenses import strip_license_header
from pipeline import inputs as pipeline_inputs
from pipeline.recipe import section
from pipeline.sources import github_bigquery
from pipeline.stages import ApplyFilter
from pipeline.sources.github_read import SOURCE, Admission, file_doc, read_unit

SAMPLES = ["samples/github/*.jsonl", "samples/github/*.tar.gz"]


class GithubFileCleaner:
    """doc → cleaned doc, or a drop reason: licence header stripped, then RP1's quality rules."""

    def __init__(self, cfg: dict):
        self.strip_header = bool(cfg.get("strip_license_header", True))
        self.quality = CodeQuality(
            max_line_length=cfg["max_line_length"],
            max_mean_line_length=cfg["max_mean_line_length"],
            min_alnum_fraction=cfg["min_alnum_fraction"],
            min_alpha_per_token=cfg["min_alpha_per_token"],
        )

    def __call__(self, doc: Document):
        text = strip_license_header(doc.text) if self.strip_header else doc.text
        if not text.strip():
            return "empty_after_cleaning"
        reason = self.quality.reason(text)
        if reason:
            return reason
        return doc.with_text(text) if text != doc.text else doc


def content_hash(doc: Document) -> bytes:
    """Exact file dedup: the bytes of the cleaned file, unnormalised (code is whitespace-sensitive)."""
    return hashlib.sha1(doc.text.encode("utf-8", "surrogatepass")).digest()


def _emit(outcome, counter_ns: str):
    """One `read` event per outcome, then the document or its drop event."""
    if isinstance(outcome, Event):
        beam.metrics.Metrics.counter(counter_ns, "drop:" + outcome.reason).inc()
        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(SOURCE, outcome.nbytes))
        yield beam.pvalue.TaggedOutput(ev.EVENTS, outcome)
    else:
        beam.metrics.Metrics.counter(counter_ns, "admitted").inc()
        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(SOURCE, outcome.nbytes))
        yield outcome


class _ReadUnits(beam.DoFn):
    def __init__(self, cfg: dict, download=None):
        self.cfg = cfg
        self.download = download

    def setup(self):
        self.adm = Admission.from_recipe(self.cfg)
        self.opener = functools.partial(pipeline_inputs.open_binary, limits=self.download)

    def process(self, path: str):
        n = 0
        try:
            for outcome in read_unit(path, self.opener, self.adm):
                n += 1
                yield from _emit(outcome, "github_read")
            if not n:  # an archive of folders only, an empty checkout: it would vanish from the books
                for event in ev.no_records(SOURCE, path):
                    yield beam.pvalue.TaggedOutput(ev.EVENTS, event)
        except OSError as e:  # missing file, URL that failed for good: the whole input is one bad unit
            for event in ev.unreadable_file(SOURCE, path, e):
                yield beam.pvalue.TaggedOutput(ev.EVENTS, event)
        except MemoryError as e:  # what the limits missed costs this input, never the job
            for event in ev.unreadable_file(SOURCE, path, e):
                yield beam.pvalue.TaggedOutput(ev.EVENTS, event._replace(reason="bad_input:out_of_memory") if event.path else event)


class _AdmitBigQueryRows(beam.DoFn):
    def __init__(self, cfg: dict):
        self.cfg = cfg

    def setup(self):
        self.adm = Admission.from_recipe(self.cfg)

    def process(self, row: dict):
        content = row.get("content") or ""
        size = len(content.encode("utf-8", "surrogatepass"))
        license_id = (row.get("license") or "").lower() or None
        reason = self.adm.reason(row["path"], license_id, None, size)
        if reason:
            outcome = ev.drop(SOURCE, reason, size)
        else:
            url = f"https://github.com/{row['repo_name']}/blob/HEAD/{row['path']}"
            outcome = file_doc(row["repo_name"], row["path"], content, license_id, url)
        yield from _emit(outcome, "github_read")


def local_checkouts(patterns: Sequence[str]) -> List[str]:
    """The patterns that are checkout folders on this machine (a DirectRunner run's own disk)."""
    return sorted({os.path.abspath(p) for p in patterns if "://" not in p and os.path.isdir(p)})


class Source(beam.PTransform):
    def __init__(self, inputs: Sequence[str], recipe: dict, options=None):
        super().__init__()
        self.cfg = section(recipe, "github")
        self.download = pipeline_inputs.DownloadLimits.from_recipe(recipe)
        self.bigquery = [i for i in inputs if i == "bigquery" or i.startswith("bigquery:")]
        rest = [i for i in inputs if i not in self.bigquery]
        self.checkouts = local_checkouts(rest)
        # Archives and globs are matched on the workers (pipeline.inputs.ExpandInputs).
        self.patterns = [p for p in rest if os.path.abspath(p) not in self.checkouts or "://" in p]

    def expand(self, pbegin):
        outputs, input_events = [], []
        if self.checkouts or self.patterns:
            units = [pbegin | "Checkouts" >> beam.Create(self.checkouts)] if self.checkouts else []
            if self.patterns:
                paths, e = pbegin | "Units" >> pipeline_inputs.MatchInputs(self.patterns, SOURCE)
                units.append(paths)
                input_events.append(e)
            outputs.append(
                units | "AllUnits" >> beam.Flatten()
                | "SpreadUnits" >> beam.Reshuffle()
                | "ReadUnits" >> beam.ParDo(_ReadUnits(self.cfg, self.download)).with_outputs(ev.EVENTS, main="docs")
            )
        for i, spec in enumerate(self.bigquery):
            cfg = dict(self.cfg)
            if ":" in spec:
                cfg["bigquery"] = dict(cfg.get("bigquery", {}), dataset=spec.split(":", 1)[1])
            outputs.append(
                pbegin
                | f"ReadFromBigQuery{i}" >> beam.io.ReadFromBigQuery(query=github_bigquery.query_for_recipe(cfg), use_standard_sql=True)
                | f"AdmitRows{i}" >> beam.ParDo(_AdmitBigQueryRows(self.cfg)).with_outputs(ev.EVENTS, main="docs")
            )
        if outputs:
            files = [o.docs for o in outputs] | "AllFiles" >> beam.Flatten()
            read_events = [o[ev.EVENTS] for o in outputs] + input_events | "AllReadEvents" >> beam.Flatten()
        else:
            files = pbegin | "NoFiles" >> beam.Create([])
            read_events = pbegin | "NoReadEvents" >> beam.Create([])
        cleaned, clean_events = files | "CleanFiles" >> ApplyFilter(
            functools.partial(GithubFileCleaner, self.cfg), label="github_clean"
        )
        unique, dup_events = cleaned | "ExactDedup" >> ExactDedup(key_fn=content_hash, label="github_exact_dedup")
        unique, id_events = unique | "UniqueIds" >> UniqueIds()
        events = (read_events, clean_events, dup_events, id_events) | "GithubEvents" >> beam.Flatten()
        return unique, events
