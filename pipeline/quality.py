"""CCNet quality stage (RECIPE.md CommonCrawl 4-5): perplexity buckets, then the Wikipedia-reference
classifier. Recipe: `pipeline/recipes/llama/quality.json`.

    docs ─ Perplexity ─ Buckets ─────────────────────────── Wikiref ─ kept docs
            ▲ reference LM          ▲ cutoffs                 ▲ classifier
            │ (given, or trained    │ (given, or the 30th/    │ (trained in the run: cited pages
            │  from the run's       │  60th percentile of a   │  ⋈ <ref> URLs of the dumps, or
            │  Wikipedia docs)      │  histogram of the run)  │  Wikipedia text; vs random pages)

Models the run trains go to `models_dir` (with a JSON note of how each was made); every model is a
singleton side input, loaded once per worker process (`Shared`). Drop reasons:
`perplexity_tail` (and `perplexity_head`/`perplexity_middle` if a recipe keeps fewer buckets) and
`wikiref_below_threshold`. `meta`: perplexity, bucket, wikiref_score.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import posixpath
import shutil
import tempfile
from typing import List, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils import shared

from common import events as ev
from common import fetch
from common.record import Document
from filters import perplexity as ppl
from filters import wikiref
from filters.lm_train import train_reference_lm
from pipeline.inputs import expand as expand_inputs

log = logging.getLogger(__name__)
NAMESPACE = "quality"


# ---------------------------------------------------------------- model files ----------------
def _local(path: str) -> str:
    """A local file for a model stored locally, on a Beam FileSystem (gs://) or behind a URL."""
    if fetch.is_url(path):
        return fetch.cached(path)
    if "://" not in path:
        return path
    cache = os.path.join(tempfile.gettempdir(), "llamadata-models")
    os.makedirs(cache, exist_ok=True)
    dest = os.path.join(cache, hashlib.sha1(path.encode()).hexdigest()[:16] + "-" + posixpath.basename(path))
    if not os.path.exists(dest):
        tmp = dest + ".part"
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, dest)
    return dest


def _publish(local_path: str, models_dir: str, name: str) -> str:
    """Copy a model trained on the worker into the run's models folder (local or gs://)."""
    dest = posixpath.join(models_dir, name) if "://" in models_dir else os.path.join(models_dir, name)
    if "://" not in dest:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with open(local_path, "rb") as src, FileSystems.create(dest, compression_type=CompressionTypes.UNCOMPRESSED) as dst:
        shutil.copyfileobj(src, dst)
    return dest


def _write_note(models_dir: str, name: str, note: dict) -> None:
    fd, tmp = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(note, f, indent=1, sort_keys=True)
    try:
        _publish(tmp, models_dir, name)
    finally:
        os.unlink(tmp)


def sort_key(doc_id: str, salt: str) -> str:
    """A per-purpose pseudo-random order of documents that every run reproduces."""
    return hashlib.sha1(f"{salt}\x00{doc_id}".encode("utf-8")).hexdigest()


def fold_of(doc_id: str, folds: int) -> int:
    return int(hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8], 16) % max(1, folds)


class _Loaded:
    """Holder for a per-process model (Shared needs an object that accepts a weak reference)."""

    def __init__(self, value):
        self.value = value


# ---------------------------------------------------------------- reference LM ---------------
class _TrainReferenceLM(beam.DoFn):
    def __init__(self, models_dir: str, params: dict):
        self.models_dir = models_dir
        self.params = params

    def process(self, _, texts: List):
        work = tempfile.mkdtemp(prefix="reference-lm-")
        try:
            info = train_reference_lm([t for _, t in texts], work, "wiki", **self.params)
            paths = {
                "sp_model": _publish(info["sp_model"], self.models_dir, "wiki.sp.model"),
                "kenlm_model": _publish(info["kenlm_model"], self.models_dir, "wiki.arpa.bin"),
            }
            note = {k: info[k] for k in ("documents", "lines", "vocab_size", "order", "sha256")}
            _write_note(self.models_dir, "wiki.lm.json", note)
            log.info("reference LM trained on %d Wikipedia documents (%d lines, %d pieces)",
                     info["documents"], info["lines"], info["vocab_size"])
            beam.metrics.Metrics.counter(NAMESPACE, "reference_lm_documents").inc(info["documents"])
            yield paths
        finally:
            shutil.rmtree(work, ignore_errors=True)


class _ScorePerplexity(beam.DoFn):
    def __init__(self, handle):
        self.handle = handle
        self.key = None
        self.scorer = None

    def process(self, doc: Document, lm: dict):
        key = json.dumps(lm, sort_keys=True)
        if key != self.key:
            self.scorer = self.handle.acquire(
                lambda: _Loaded(ppl.PerplexityScorer(_local(lm["sp_model"]), _local(lm["kenlm_model"]))), tag=key).value
            self.key = key
        value = self.scorer.perplexity(doc.text)
        yield doc.with_meta(perplexity=value if math.isfinite(value) else None)


class _AssignBucket(beam.DoFn):
    def __init__(self, keep: Sequence[str]):
        self.keep = frozenset(keep)

    def process(self, doc: Document, cutoffs):
        value = doc.meta.get("perplexity")
        bucket = ppl.bucket_of(math.inf if value is None else value, ppl.Cutoffs(*cutoffs))
        beam.metrics.Metrics.counter(NAMESPACE, "bucket_" + bucket).inc()
        if bucket not in self.keep:
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, ppl.drop_reason(bucket), doc.nbytes))
            return
        yield doc.with_meta(bucket=bucket)


class _CutoffsFromHistogram(beam.DoFn):
    def __init__(self, head_pct: float, middle_pct: float, models_dir: str):
        self.head_pct = head_pct
        self.middle_pct = middle_pct
        self.models_dir = models_dir

    def process(self, counts):
        histogram = dict(counts)
        cutoffs = ppl.cutoffs_from_histogram(histogram, self.head_pct, self.middle_pct)
        documents = sum(histogram.values())
        log.info("perplexity cutoffs computed from %d documents: head < %s, middle < %s", documents, *cutoffs)
        _write_note(self.models_dir, "perplexity_cutoffs.json", {
            "mode": "computed", "documents": documents, "head_percentile": self.head_pct,
            "middle_percentile": self.middle_pct,
            "head": cutoffs.head if math.isfinite(cutoffs.head) else None,
            "middle": cutoffs.middle if math.isfinite(cutoffs.middle) else None})
        yield tuple(cutoffs)


# ---------------------------------------------------------------- wikiref classifier ---------
class _RefUrls(beam.DoFn):
    """Dump path → (normalised URL, URL as cited) for every URL in the `<ref>`s of its articles."""

    def process(self, path: str):
        from pipeline.inputs import open_binary
        from pipeline.sources.wikipedia_dump import DumpError, iter_pages

        try:
            with open_binary(path) as stream:
                for page in iter_pages(stream):
                    if page.ns != 0 or page.redirect is not None:
                        continue
                    for url in wikiref.extract_ref_urls(page.text):
                        key = wikiref.normalize_url(url)
                        if key:
                            yield key, url
        except (DumpError, OSError) as e:
            # The Wikipedia source counts this file as bad input; here it only costs some URLs.
            beam.metrics.Metrics.counter(NAMESPACE, "ref_dump_errors").inc()
            log.warning("wikiref: <ref> URLs of %s read up to an error: %s", path, e)


def _classifier_example(doc: Document, folds: int, max_chars: int):
    return (sort_key(doc.id, "wikiref"), fold_of(doc.id, folds), doc.text[:max_chars])


class _SplitCited(beam.DoFn):
    """(url key, {refs, docs}) → docs cited by Wikipedia (main) and the others (tagged 'uncited')."""

    def __init__(self, folds: int, max_chars: int):
        self.folds = folds
        self.max_chars = max_chars

    def process(self, element):
        _, grouped = element
        cited = bool(list(grouped["refs"]))
        for doc in grouped["docs"]:
            example = _classifier_example(doc, self.folds, self.max_chars)
            if cited:
                beam.metrics.Metrics.counter(NAMESPACE, "wikiref_cited_docs").inc()
                yield example
            else:
                yield beam.pvalue.TaggedOutput("uncited", example)


class _FetchCited(beam.DoFn):
    """Cited pages over HTTP (optional): one worker, rate-limited and retried."""

    def __init__(self, cfg: dict, max_chars: int):
        self.cfg = cfg
        self.max_chars = max_chars

    def process(self, sample):
        got = []
        pages = wikiref.fetch_cited_pages(
            [url for _, url in sample], rate_per_s=float(self.cfg.get("rate_per_s", 1.0)),
            retries=int(self.cfg.get("retries", 3)), timeout=float(self.cfg.get("timeout_s", 20)))
        for (key, _), (url, text, note) in zip(sample, pages):
            beam.metrics.Metrics.counter(NAMESPACE, "wikiref_fetch_" + ("ok" if text else "failed")).inc()
            if text and text.strip():
                got.append((sort_key(key, "fetched"), -1, text[: self.max_chars]))
        yield got


class _TrainWikiref(beam.DoFn):
    """Trains one fastText model per fold (cross-fitting: a document is scored by the model that
    did not see it, so the run's own pages are not judged by a model that memorised them)."""

    def __init__(self, models_dir: str, cfg: dict):
        self.models_dir = models_dir
        self.cfg = cfg

    def process(self, _, cited: List, fetched: List, uncited: List, wiki: List):
        cfg = self.cfg
        folds = max(1, int(cfg.get("folds", 2)))
        positives = list(cited) + list(fetched)
        source = "cited_pages"
        if len(positives) < int(cfg["min_cited_positives"]):
            # Too few cited pages among the run's documents (a sample): Wikipedia article text
            # stands in for the positives. Reported in the log, a metric and the training note.
            source = "wikipedia_articles"
            positives = [(key, -1, text) for key, text in wiki]
            beam.metrics.Metrics.counter(NAMESPACE, "wikiref_fallback_positives").inc()
            log.warning("wikiref: %d cited pages (< min_cited_positives=%s); training on %d Wikipedia "
                        "articles as positives instead", len(cited) + len(fetched), cfg["min_cited_positives"], len(positives))
        note = {"positives_source": source, "cited_pages": len(cited), "fetched_pages": len(fetched),
                "wikipedia_articles_available": len(wiki), "min_cited_positives": cfg["min_cited_positives"],
                "folds": folds, "models": []}
        if not positives or not uncited:
            note["skipped"] = "no positives" if not positives else "no negatives"
            log.warning("wikiref: classifier not trained (%s); the stage passes documents through", note["skipped"])
            _write_note(self.models_dir, "wikiref_training.json", note)
            yield {"models": [], "positives_source": source}
            return
        paths = []
        work = tempfile.mkdtemp(prefix="wikiref-")
        try:
            for fold in range(folds):
                pos = [text for _, f, text in positives if folds == 1 or f != fold]
                neg = [text for _, f, text in uncited if folds == 1 or f != fold]
                if not neg:  # a tiny run: every negative is in this fold
                    neg = [text for _, _, text in uncited]
                if not pos:
                    pos = [text for _, _, text in positives]
                local = os.path.join(work, f"wikiref.fold{fold}.bin")
                counts = wikiref.train_classifier(pos, neg, local, cfg.get("train", {}))
                paths.append(_publish(local, self.models_dir, f"wikiref.fold{fold}.bin"))
                note["models"].append({"fold": fold, **counts, "sha256": fetch.sha256_of(local)})
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _write_note(self.models_dir, "wikiref_training.json", note)
        log.info("wikiref: %d fold model(s) trained, positives from %s", folds, source)
        yield {"models": paths, "positives_source": source}


class _ScoreWikiref(beam.DoFn):
    def __init__(self, handle, threshold: float, folds: int, max_chars: int):
        self.handle = handle
        self.threshold = threshold
        self.folds = folds
        self.max_chars = max_chars
        self.scorers = {}

    def process(self, doc: Document, classifier: dict):
        models = classifier["models"]
        if not models:
            beam.metrics.Metrics.counter(NAMESPACE, "wikiref_unscored").inc()
            yield doc
            return
        path = models[fold_of(doc.id, self.folds) % len(models)]
        scorer = self.scorers.get(path)
        if scorer is None:
            scorer = self.handle.acquire(lambda: _Loaded(wikiref.WikirefScorer(_local(path), self.max_chars)), tag=path).value
            self.scorers[path] = scorer
        score = scorer.score(doc.text)
        if score < self.threshold:
            beam.metrics.Metrics.counter(NAMESPACE, "drop:" + wikiref.DROP_REASON).inc()
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, wikiref.DROP_REASON, doc.nbytes))
            return
        yield doc.with_meta(wikiref_score=score)


def _sample(pcoll, label: str, n: int):
    """The `n` elements with the smallest sort key (first item), as one sorted list (a singleton)."""
    return pcoll | label >> beam.combiners.Top.Smallest(n)


def cited_to_fetch(refs, n: int):
    """(url key, url as cited) pairs, one per occurrence → a singleton list of `n` distinct keys,
    each with one of its cited forms (the smallest: the same on every run)."""
    return (_sample(refs | "OneUrlPerKey" >> beam.CombinePerKey(min)
                    | "FetchKey" >> beam.Map(lambda kv: (sort_key(kv[0], "fetch"), kv)), "FetchSample", n)
            | "FetchUrls" >> beam.Map(lambda sample: [kv for _, kv in sample]))


# ---------------------------------------------------------------- the composite --------------
class CCNetQuality(beam.PTransform):
    """docs → (docs with perplexity, bucket, wikiref_score; drop events).

    `reference_docs`: the run's Wikipedia Documents (train the reference LM and stand in for cited
    pages when too few); `wikipedia_dumps`: the dump files whose `<ref>` URLs mark positives.
    """

    def __init__(self, recipe: dict, models_dir: str, reference_docs=None, wikipedia_dumps: Optional[List[str]] = None,
                 label=None):
        super().__init__(label)
        self.recipe = recipe
        self.cfg = recipe["quality"]
        self.models_dir = models_dir
        self.reference_docs = reference_docs
        # Globs (the bundled samples' pattern, a user's --wikipedia_input) become file paths here.
        self.dumps = expand_inputs(wikipedia_dumps) if wikipedia_dumps else []

    def expand(self, docs):
        cfg = self.cfg
        p = docs.pipeline
        events = []
        lm = self._language_model(p)
        scored = docs | "Perplexity" >> beam.ParDo(_ScorePerplexity(shared.Shared()), beam.pvalue.AsSingleton(lm))
        cutoffs = self._cutoffs(scored)
        out = scored | "Buckets" >> beam.ParDo(
            _AssignBucket(cfg["perplexity"]["keep_buckets"]), beam.pvalue.AsSingleton(cutoffs)).with_outputs(ev.EVENTS, main="docs")
        kept, events = out.docs, [out[ev.EVENTS]]
        wcfg = cfg["wikiref"]
        if wcfg.get("enabled", True):
            classifier = self._classifier(p, scored)
            out = kept | "Wikiref" >> beam.ParDo(
                _ScoreWikiref(shared.Shared(), float(wcfg["threshold"]), int(wcfg.get("folds", 2)), int(wcfg["max_chars"])),
                beam.pvalue.AsSingleton(classifier)).with_outputs(ev.EVENTS, main="docs")
            kept = out.docs
            events.append(out[ev.EVENTS])
        return kept, tuple(events) | "QualityEvents" >> beam.Flatten()

    # -- pieces of the graph --------------------------------------------------------------------
    def _wikipedia_docs(self, p):
        if self.reference_docs is None and self.dumps:
            from pipeline.sources import wikipedia

            # Their events belong to the wikipedia source, which this run does not report.
            self.reference_docs, _ = p | "ReferenceWikipedia" >> wikipedia.Source(self.dumps, self.recipe)
        return self.reference_docs

    def _wiki_sample(self, p, label: str, n: int, max_chars: int):
        wiki = self._wikipedia_docs(p)
        if wiki is None:
            return p | f"{label}:none" >> beam.Create([[]])
        return _sample(wiki | f"{label}:Key" >> beam.Map(lambda d: (sort_key(d.id, label), d.text[:max_chars])),
                       f"{label}:Sample", n)

    def _language_model(self, p):
        lm = self.cfg["lm"]
        if lm.get("sp_model", "auto") != "auto" and lm.get("kenlm_model", "auto") != "auto":
            return p | "GivenLM" >> beam.Create([{"sp_model": lm["sp_model"], "kenlm_model": lm["kenlm_model"]}])
        train = dict(lm.get("train", {}))
        if self._wikipedia_docs(p) is None:
            raise ValueError("quality.lm is 'auto' but the run has no Wikipedia documents: run the wikipedia "
                             "source too, or give quality.lm.sp_model/kenlm_model (e.g. cc_net's en.sp.model/en.arpa.bin)")
        texts = self._wiki_sample(p, "LMText", int(train.pop("max_docs", 100000)), int(train.pop("max_chars", 1_000_000)))
        return (p | "LMTrigger" >> beam.Create([None])
                | "TrainReferenceLM" >> beam.ParDo(_TrainReferenceLM(self.models_dir, train), beam.pvalue.AsSingleton(texts)))

    def _cutoffs(self, scored):
        c = self.cfg["perplexity"]["cutoffs"]
        if c["mode"] == "given":
            return scored.pipeline | "GivenCutoffs" >> beam.Create([tuple(ppl.cutoffs_from_config(c))])
        if c["mode"] != "computed":
            raise ValueError(f"quality.perplexity.cutoffs.mode must be 'given' or 'computed', not {c['mode']!r}")
        return (scored
                | "HistogramBin" >> beam.Map(lambda d: ppl.histogram_bin(
                    math.inf if d.meta.get("perplexity") is None else d.meta["perplexity"]))
                | "CountPerBin" >> beam.combiners.Count.PerElement()
                | "Histogram" >> beam.combiners.ToList()
                | "Cutoffs" >> beam.ParDo(_CutoffsFromHistogram(
                    float(c["head_percentile"]), float(c["middle_percentile"]), self.models_dir)))

    def _classifier(self, p, scored):
        w = self.cfg["wikiref"]
        folds, max_chars = int(w.get("folds", 2)), int(w["max_chars"])
        if self.dumps:
            refs = (p | "RefDumps" >> beam.Create(self.dumps) | "SpreadDumps" >> beam.Reshuffle()
                    | "RefUrls" >> beam.ParDo(_RefUrls()))
        else:
            refs = p | "NoRefUrls" >> beam.Create([])
        with_url = scored | "KeyByUrl" >> beam.FlatMap(
            lambda d: [(k, d)] if (k := wikiref.normalize_url(d.url or "")) else [])
        no_url = scored | "NoUrl" >> beam.Filter(lambda d: not wikiref.normalize_url(d.url or ""))
        split = ({"refs": refs | "RefKeys" >> beam.Map(lambda kv: (kv[0], 1)) | "DistinctRefs" >> beam.Distinct(), "docs": with_url}
                 | "JoinCited" >> beam.CoGroupByKey()
                 | "SplitCited" >> beam.ParDo(_SplitCited(folds, max_chars)).with_outputs("uncited", main="cited"))
        uncited = (split.uncited, no_url | "NoUrlExample" >> beam.Map(_classifier_example, folds, max_chars)) | "Uncited" >> beam.Flatten()
        cited = _sample(split.cited, "CitedSample", int(w["max_positives"]))
        negatives = _sample(uncited, "NegativeSample", int(w["max_negatives"]))
        wiki = self._wiki_sample(p, "WikiPositives", int(w["max_positives"]), max_chars)
        fcfg = w.get("fetch_cited", {})
        if fcfg.get("enabled", False) and self.dumps:
            fetched = (cited_to_fetch(refs, int(fcfg.get("max_pages", 1000)))
                       | "FetchCited" >> beam.ParDo(_FetchCited(fcfg, max_chars)))
        else:
            fetched = p | "NoFetched" >> beam.Create([[]])
        return (p | "WikirefTrigger" >> beam.Create([None])
                | "TrainWikiref" >> beam.ParDo(
                    _TrainWikiref(self.models_dir, w), beam.pvalue.AsSingleton(cited), beam.pvalue.AsSingleton(fetched),
                    beam.pvalue.AsSingleton(negatives), beam.pvalue.AsSingleton(wiki)))
