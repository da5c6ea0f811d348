"""CCNet quality stage (RECIPE.md CommonCrawl 4-5): perplexity buckets, then LLaMA's
Wikipedia-reference classifier. Recipe: `pipeline/recipes/llama/quality.json`.

    dumps ─ DumpPass ─ openings of <lang> articles ─ TrainLM:<lang> ─┐ (or given models)
                    └ <ref> URLs ───────────────────────────────┐    ▼
    docs ─ Perplexity (cc_net's document perplexity) ─ Buckets ─┼─ Wikiref ─ kept docs
                                      ▲ cutoffs (given, or the  │   ▲ classifier (balanced,
                                      │ 30th/60th percentile of │   │ cross-fitted, held-out
                                      │ a histogram per lang)   ▼   │ AUC; applied or not)
                                              cited pages ⋈ URLs ───┘

One reference LM per kept language: cc_net's published pair, or one given by path/URL, passed in
as descriptors (`lms`, made in the launcher by `pipeline.quality_models`), or trained the cc_net
way from the opening text of that language's Wikipedia articles and saved under cc_net's names
(`<lang>.sp.model`, `<lang>.arpa.bin`). A language whose Wikipedia text is under
`lm.min_training_chars` gets no LM, and the job stops (`ReferenceLMMissing`, one line the launcher
turns into exit 2): its pages would otherwise pass unscored. Cutoffs: cc_net's per-language table
(`given`) or this run's own percentiles (`computed`). The classifier is trained as RedPajama v1
did, on pages of the kept buckets, and applied only when it is trustworthy
(`filters.wikiref.decide`); otherwise pages pass with `wikiref_applied: false` and the run lists
the step at the top of its summary (`pipeline.completeness`). Models the run trains go to
`models_dir` with a JSON note of how each was made (a given classifier gets its note too; the
launcher removes an earlier run's notes before curating, `pipeline.run.clear_model_notes`); every
model is a singleton side input, loaded once per worker process (`Shared`). Cutoffs `auto`: cc_net's
table with cc_net's published models (downloaded, or given by path under cc_net's names), the
run's own percentiles otherwise (`cutoffs_mode`).

Drop reasons: `perplexity_tail` (and `perplexity_head`/`perplexity_middle` if a recipe keeps fewer
buckets) and `wikiref_below_threshold`. `meta`: perplexity, bucket, wikiref_score, wikiref_applied.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import posixpath
import re
import shutil
import tempfile
from typing import List, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils import shared

from common import atomic
from common import events as ev
from common import fetch
from common.record import Document
from filters import perplexity as ppl
from filters import wikiref
from filters.bloom import Bloom
from filters.lm_train import train_reference_lm
from pipeline.inputs import ExpandInputs
from pipeline.inputs import expand as expand_inputs
from pipeline import stages
from pipeline.stages import Counters

log = logging.getLogger(__name__)
NAMESPACE = "quality"


# ---------------------------------------------------------------- model files ----------------
def local_copy(path: str, sha256: Optional[str] = None) -> str:
    """A local file for a model stored locally, on a Beam FileSystem (gs://) or behind a URL; with
    `sha256` (a pinned checksum), a copy whose bytes differ raises fetch.FetchError, wherever it came from."""
    if "://" not in path or fetch.is_url(path):
        return fetch.cached(path, sha256=sha256)
    cache = os.path.join(tempfile.gettempdir(), "llamadata-models")
    dest = os.path.join(cache, hashlib.sha1(path.encode()).hexdigest()[:16] + "-" + posixpath.basename(path))
    if not os.path.exists(dest):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as src, atomic.writing(dest) as dst:
            shutil.copyfileobj(src, dst)
    return fetch.cached(dest, sha256=sha256)


def _publish(local_path: str, models_dir: str, name: str) -> str:
    """Copy a model trained on the worker into the run's models folder (local or gs://)."""
    dest = posixpath.join(models_dir, name) if "://" in models_dir else os.path.join(models_dir, name)
    if "://" not in dest:
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    # A temporary name, then a rename: a kill never leaves a model cut short under its final name.
    tmp = f"{dest}.tmp-{os.getpid()}"
    with open(local_path, "rb") as src, FileSystems.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as dst:
        shutil.copyfileobj(src, dst)
    if "://" not in dest:
        os.replace(tmp, dest)
        return dest
    if FileSystems.exists(dest):
        FileSystems.delete([dest])
    FileSystems.rename([tmp], [dest])
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


# Starts the one line the launcher shows when the job stopped for want of a reference LM.
LM_MISSING = "quality: no reference LM"


class ReferenceLMMissing(RuntimeError):
    """A kept language without a reference LM: the job stops rather than pass its pages unscored."""


class _Loaded:
    """Holder for a per-process model (Shared needs an object that accepts a weak reference)."""

    def __init__(self, value):
        self.value = value


# ---------------------------------------------------------------- Wikipedia dumps ------------
# A section heading line (`== History ==`): the opening text of an article is what precedes the first.
_HEADING = re.compile(r"^=+[^=\n].*=+[ \t]*$", re.MULTILINE)


def opening_wikitext(wikitext: str) -> str:
    """The lead section of an article's wikitext (cc_net's LM data is cirrus' `opening_text`)."""
    m = _HEADING.search(wikitext)
    return wikitext[: m.start()] if m else wikitext


class _DumpPass(beam.DoFn):
    """Dump path → (lang, (sort key, opening text)) of its articles on the main output, and
    (normalised URL, URL as cited) of every `<ref>` URL on `refs`; one read of each dump."""

    REFS = "refs"

    def __init__(self, languages: Sequence[str], want_openings: bool, want_refs: bool, max_page_chars: int):
        self.languages = frozenset(languages)
        self.want_openings = want_openings
        self.want_refs = want_refs
        self.max_page_chars = max_page_chars  # the Wikipedia source's limit: a bigger page is never held

    def process(self, path: str):
        from pipeline.inputs import open_binary
        from pipeline.sources.wikipedia_dump import DumpError, iter_pages
        from pipeline.sources.wikitext import wikitext_to_text

        try:
            with open_binary(path) as stream:
                for page in iter_pages(stream, posixpath.basename(path.split("?")[0]), max_text_chars=self.max_page_chars):
                    if page.ns != 0 or page.redirect is not None or page.text_chars > self.max_page_chars:
                        continue
                    if self.want_refs:
                        for url in wikiref.extract_ref_urls(page.text):
                            key = wikiref.normalize_url(url)
                            if key:
                                yield beam.pvalue.TaggedOutput(self.REFS, (key, url))
                    if self.want_openings and page.lang in self.languages:
                        opening = wikitext_to_text(opening_wikitext(page.text)).strip()
                        if opening:
                            yield page.lang, (sort_key(f"{page.lang}:{page.page_id}", "lm"), opening)
        except (DumpError, OSError) as e:
            # The Wikipedia source counts this file as bad input; here it only costs some text.
            beam.metrics.Metrics.counter(NAMESPACE, "dump_errors").inc()
            log.warning("quality: Wikipedia dump %s read up to an error: %s", path, e)


# ---------------------------------------------------------------- reference LM ---------------
def given_lm(lm_cfg: dict, lang: str) -> Optional[dict]:
    """The recipe's own model paths for `lang` ("{lang}" is replaced), or None when 'auto'.
    `ccnet_files`: whether they are cc_net's published pair (see `is_ccnet_pair`)."""
    sp, km = lm_cfg["sp_model"], lm_cfg["kenlm_model"]
    if sp == "auto" or km == "auto":
        return None
    paths = {"sp_model": sp.replace("{lang}", lang), "kenlm_model": km.replace("{lang}", lang)}
    ccnet = is_ccnet_pair(paths["sp_model"], paths["kenlm_model"], lang, lm_cfg["ccnet_url"])
    return {"lang": lang, "applied": True, "source": "given", **paths, "ccnet_files": ccnet,
            "reason": "given models" + (" (cc_net's published pair, by name)" if ccnet else "")}


# A model trained in a run is saved under cc_net's names beside this note (`_LanguageModels`).
LM_NOTE = "reference_lm.json"


def is_ccnet_pair(sp_model: str, kenlm_model: str, lang: str, ccnet_url: str) -> bool:
    """Given models that are cc_net's published pair, so that cc_net's cutoff table (made under
    them) applies: both under the recipe's `ccnet_url`, or named as cc_net names them
    ({lang}.sp.model, {lang}.arpa.bin) and not a model a run trained (its folder's note says so)."""
    if sp_model.startswith(ccnet_url) and kenlm_model.startswith(ccnet_url):
        return True
    name = posixpath.basename(sp_model.split("?")[0]), posixpath.basename(kenlm_model.split("?")[0])
    if name != (f"{lang}.sp.model", f"{lang}.arpa.bin"):
        return False
    note = posixpath.join(posixpath.dirname(kenlm_model), LM_NOTE)
    # A gs:// models folder a run trained into has its note there too; behind a URL none can be listed.
    if fetch.is_url(note) or not FileSystems.exists(note):
        return True
    try:
        with FileSystems.open(note, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            return json.loads(f.read().decode("utf-8")).get(lang, {}).get("source") != "trained"
    except (OSError, ValueError):
        return True


class _TrainReferenceLM(beam.DoFn):
    """(lang, [(key, opening text)]) → the LM descriptor of that language, trained when there is
    enough text (`min_training_chars`), else {"applied": False, "reason": …}."""

    def __init__(self, models_dir: str, params: dict, min_chars: int, max_docs: int):
        self.models_dir = models_dir
        self.params = params
        self.min_chars = min_chars
        self.max_docs = max_docs

    def process(self, element):
        lang, items = element
        texts = [t for _, t in sorted(items)[: self.max_docs]]
        chars = sum(len(t) for t in texts)
        if chars < self.min_chars:
            yield {"lang": lang, "applied": False, "source": "trained", "documents": len(texts), "chars": chars,
                   "reason": f"not trained: {chars:,} characters of {lang} Wikipedia opening text (< "
                             f"lm.min_training_chars={self.min_chars})"}
            return
        work = tempfile.mkdtemp(prefix="reference-lm-")
        try:
            info = train_reference_lm(texts, work, lang, **self.params)
            note = {k: info[k] for k in ("documents", "chars", "vocab_size", "order", "sha256")}
            yield {"lang": lang, "applied": True, "source": "trained", **note,
                   "sp_model": _publish(info["sp_model"], self.models_dir, f"{lang}.sp.model"),
                   "kenlm_model": _publish(info["kenlm_model"], self.models_dir, f"{lang}.arpa.bin"),
                   "reason": f"trained on {info['documents']} {lang} Wikipedia openings ({info['chars']} characters)"}
        finally:
            shutil.rmtree(work, ignore_errors=True)


class _LanguageModels(beam.DoFn):
    """[LM descriptors] → {lang: descriptor}, with the languages that had no Wikipedia text at
    all filled in as not applied; writes the note `reference_lm.json`, then stops the job
    (`ReferenceLMMissing`) if a kept language has no LM."""

    def __init__(self, languages: Sequence[str], models_dir: str, min_chars: int):
        self.languages = list(languages)
        self.models_dir = models_dir
        self.min_chars = min_chars

    def process(self, _, found: List[dict]):
        by_lang = {d["lang"]: d for d in found}
        for lang in self.languages:
            if lang not in by_lang:
                by_lang[lang] = {"lang": lang, "applied": False, "source": "trained", "documents": 0, "chars": 0,
                                 "reason": f"not trained: no {lang} Wikipedia articles in the run's dumps (< "
                                           f"lm.min_training_chars={self.min_chars})"}
        # A model trained here is named by its file in the models folder: the note, and stats.json
        # that copies it, stay the same bytes whatever the output folder.
        _write_note(self.models_dir, LM_NOTE, {
            lang: dict(d, **{k: posixpath.basename(d[k]) for k in ("sp_model", "kenlm_model")})
            if d.get("source") == "trained" and d.get("applied") else d for lang, d in by_lang.items()})
        missing = [by_lang[lang] for lang in self.languages if not by_lang[lang]["applied"]]
        if missing:
            raise ReferenceLMMissing(f"{LM_MISSING} for {', '.join(d['lang'] for d in missing)}: "
                                     + "; ".join(d["reason"] for d in missing))
        yield by_lang


class _ScorePerplexity(beam.DoFn):
    """doc → doc with meta perplexity (cc_net's, under the LM of the doc's language; null when that
    language has no LM).

    Documents are scored `BATCH` at a time, in arrival order: fused after language id, scoring each
    document as it comes alternates fastText with SentencePiece + KenLM, and each evicts the other's
    working set from the CPU caches (the same calls cost 13-26% more interleaved per document than in
    runs of 64; bench/bench_commoncrawl.py). Same outputs, in the same order, with their windows."""

    BATCH = stages.BATCH

    def __init__(self, handle, mode: str):
        self.handle = handle
        self.mode = mode
        self.scorers = {}
        self.pending = []

    def start_bundle(self):
        self.pending = []

    def process(self, doc: Document, lms: dict, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam):
        self.pending.append((doc, lms, window, timestamp))
        if len(self.pending) >= self.BATCH:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self):
        pending, self.pending = self.pending, []
        for doc, lms, window, timestamp in pending:
            yield stages.in_window(self._scored(doc, lms), window, timestamp)

    def _scored(self, doc: Document, lms: dict) -> Document:
        lm = lms.get(doc.meta.get("language"))
        if lm is None or not lm["applied"]:
            return doc.with_meta(perplexity=None)
        key = json.dumps([lm["sp_model"], lm["kenlm_model"], self.mode])
        scorer = self.scorers.get(key)
        if scorer is None:
            scorer = self.scorers[key] = self.handle.acquire(lambda: _Loaded(ppl.PerplexityScorer(
                local_copy(lm["sp_model"], (lm.get("sha256") or {}).get("sp_model")),
                local_copy(lm["kenlm_model"], (lm.get("sha256") or {}).get("kenlm_model")), self.mode)), tag=key).value
        value = scorer.perplexity(doc.text)
        return doc.with_meta(perplexity=value if math.isfinite(value) else None)


def _scored_lang(doc: Document, lms: dict) -> Optional[str]:
    lang = doc.meta.get("language")
    lm = lms.get(lang)
    return lang if lm is not None and lm["applied"] else None


class _AssignBucket(beam.DoFn):
    """doc → doc with its bucket, or a drop; every scored page's perplexity as a tally
    (`perplexity:<lang>:<bucket>:<bin>` on the report's grid, summed per bundle), so stats.json
    holds the whole distribution, the tail the buckets drop included."""

    def __init__(self, keep: Sequence[str]):
        self.keep = frozenset(keep)

    def setup(self):
        self.counters = Counters(NAMESPACE)

    def start_bundle(self):
        self.totals = ev.Totals()

    def finish_bundle(self):
        for event in self.totals.events():
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.windowed(event))

    def process(self, doc: Document, cutoffs: dict, lms: dict):
        lang = _scored_lang(doc, lms)
        if lang is None:  # no usable LM for this language: cc_net's bucket "all", kept
            self.counters.inc("bucket_" + ppl.UNSCORED_BUCKET)
            yield doc.with_meta(bucket=ppl.UNSCORED_BUCKET)
            return
        value = math.inf if doc.meta.get("perplexity") is None else doc.meta["perplexity"]
        bucket = ppl.bucket_of(value, ppl.Cutoffs(*cutoffs[lang]))
        self.counters.inc("bucket_" + bucket)
        self.totals.tally(doc.source, f"{ppl.TALLY}{lang}:{bucket}:{ppl.report_bin(value)}")
        if bucket not in self.keep:
            self.counters.inc("drop:" + ppl.drop_reason(bucket))
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, ppl.drop_reason(bucket), doc.nbytes))
            return
        yield doc.with_meta(bucket=bucket)


CUTOFFS_NOTE = "perplexity_cutoffs.json"


class _CutoffsFromHistogram(beam.DoFn):
    """[((lang, bin), count)] → {lang: (head, middle)}; writes `perplexity_cutoffs.json`."""

    def __init__(self, head_pct: float, middle_pct: float, models_dir: str):
        self.head_pct = head_pct
        self.middle_pct = middle_pct
        self.models_dir = models_dir

    def process(self, counts):
        histograms: dict = {}
        for (lang, b), n in counts:
            histograms.setdefault(lang, {})[b] = n
        cutoffs, note = {}, {}
        for lang, histogram in sorted(histograms.items()):
            c = ppl.cutoffs_from_histogram(histogram, self.head_pct, self.middle_pct)
            cutoffs[lang] = tuple(c)
            documents = sum(histogram.values())
            log.info("quality: %s perplexity cutoffs from %d documents: head < %s, middle < %s", lang, documents, *c)
            note[lang] = {"mode": "computed", "documents": documents, "head_percentile": self.head_pct,
                          "middle_percentile": self.middle_pct,
                          "head": c.head if math.isfinite(c.head) else None,
                          "middle": c.middle if math.isfinite(c.middle) else None}
        _write_note(self.models_dir, CUTOFFS_NOTE, note)
        yield cutoffs


# ---------------------------------------------------------------- wikiref classifier ---------
def _classifier_example(doc: Document, folds: int, max_chars: int):
    return (sort_key(doc.id, "wikiref"), fold_of(doc.id, folds), doc.text[:max_chars])


class _BloomOfKeys(beam.CombineFn):
    """URL keys → one Bloom filter of them (bits OR-merged across bundles)."""

    def __init__(self, bits: int, hashes: int):
        self.bits = bits
        self.hashes = hashes

    def create_accumulator(self):
        return Bloom(self.bits, self.hashes)

    def add_input(self, bloom, key):
        bloom.add(key)
        return bloom

    def merge_accumulators(self, blooms):
        blooms = iter(blooms)
        first = next(blooms)
        for other in blooms:
            first.merge(other)
        return first

    def extract_output(self, bloom):
        return bloom


class _KeyAndExample(beam.DoFn):
    """doc → its classifier example as a negative candidate (main), or, for a page whose URL key
    may be cited, (url key, example) on `maybe_cited` when it is long enough to be a positive. The
    Bloom filter lets through every cited page and ~1% of the rest; the exact join settles the
    positives. A page it lets through is never a negative: a cited page is no random page, whatever
    its length (RP1 drops a cited page under 1,000 characters as a positive; it is no negative
    either), and an exact test for every page would send every page's example through the shuffle."""

    MAYBE_CITED = "maybe_cited"

    def __init__(self, folds: int, max_chars: int, positive_min_chars: int):
        self.folds = folds
        self.max_chars = max_chars
        self.positive_min_chars = positive_min_chars

    def process(self, doc: Document, bloom):
        example = _classifier_example(doc, self.folds, self.max_chars)
        key = wikiref.normalize_url(doc.url) if doc.url else None
        if not key or key not in bloom:
            yield example
        elif len(doc.text) >= self.positive_min_chars:  # RP1's create_corpus.py: shorter is no positive
            yield beam.pvalue.TaggedOutput(self.MAYBE_CITED, (key, example))


def _cited_examples(element):
    """(url key, {refs, examples}) → the examples of pages at a URL that Wikipedia cites."""
    _, grouped = element
    if list(grouped["refs"]):
        yield from grouped["examples"]


class _FetchCited(beam.DoFn):
    """Cited pages over HTTP (optional): one worker, rate-limited and retried."""

    def __init__(self, cfg: dict, folds: int, max_chars: int, min_chars: int):
        self.cfg = cfg
        self.folds = folds
        self.max_chars = max_chars
        self.min_chars = min_chars

    def process(self, sample):
        got = []
        pages = wikiref.fetch_cited_pages(
            [url for _, url in sample], rate_per_s=float(self.cfg["rate_per_s"]),
            retries=int(self.cfg["retries"]), timeout=float(self.cfg["timeout_s"]))
        for (key, _), (url, text, note) in zip(sample, pages):
            beam.metrics.Metrics.counter(NAMESPACE, "wikiref_fetch_" + ("ok" if text else "failed")).inc()
            if text and len(text.strip()) >= self.min_chars:
                got.append((sort_key(key, "fetched"), fold_of(key, self.folds), text[: self.max_chars]))
        yield got


def read_cited_texts(pattern: str, folds: int, max_chars: int, min_chars: int = 0) -> List[tuple]:
    """A user's cited-page texts: JSON lines with a `text` field (`.jsonl`, `.json.gz`), or plain
    text files, one page each; those under `min_chars` characters left out (RP1's floor). Read in
    the launcher: it is a small, user-made file."""
    import gzip
    import io

    out = []
    for path in expand_inputs([pattern]):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            raw = f.read()
        if path.endswith(".gz"):
            raw = gzip.decompress(raw)
        if ".jsonl" in path or ".json" in path:
            for n, line in enumerate(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")):
                if line.strip():
                    text = json.loads(line)["text"]
                    key = f"{path}#{n}"
                    if len(text) >= min_chars:
                        out.append((sort_key(key, "cited_texts"), fold_of(key, folds), text[:max_chars]))
        else:
            text = raw.decode("utf-8")
            if len(text) >= min_chars:
                out.append((sort_key(path, "cited_texts"), fold_of(path, folds), text[:max_chars]))
    return out


class _TrainWikiref(beam.DoFn):
    """Balanced classes, one model per fold (cross-fitting: every page is scored by a model that
    did not see it), the held-out AUC, and the decision to apply the classifier or not."""

    def __init__(self, models_dir: str, cfg: dict, given_texts: List[tuple]):
        self.models_dir = models_dir
        self.cfg = cfg
        self.given_texts = given_texts

    def process(self, _, cited: List, fetched: List, uncited: List):
        cfg = self.cfg
        folds = int(cfg["folds"])
        found = list(cited) + list(fetched) + list(self.given_texts)
        positives, negatives = wikiref.balanced(found, uncited, int(cfg["max_positives"]))
        note = {"cited_pages": len(cited), "fetched_pages": len(fetched), "cited_texts": len(self.given_texts),
                "positives": len(positives), "negatives": len(negatives), "folds": folds,
                "settings": cfg["settings"], "train": training_params(cfg),
                "min_positives": int(cfg["min_positives"]), "min_auc": float(cfg["min_auc"]),
                "threshold": float(cfg["threshold"]), "auc": None, "models": []}
        paths = []
        if len(positives) >= int(cfg["min_positives"]) and positives and negatives:
            work = tempfile.mkdtemp(prefix="wikiref-")
            try:
                local, pos_scores, neg_scores, counts = wikiref.cross_fit(
                    [(f, t) for _, f, t in positives], [(f, t) for _, f, t in negatives], folds,
                    {**training_params(cfg), "max_chars": int(cfg["max_chars"])}, work)
                held_out = wikiref.auc(pos_scores, neg_scores)
                note["auc"] = None if held_out is None else round(held_out, 4)
                applied, reason = wikiref.decide(len(positives), held_out, int(cfg["min_positives"]), float(cfg["min_auc"]))
                if applied:
                    for fold, path in enumerate(local):
                        paths.append(_publish(path, self.models_dir, f"wikiref.fold{fold}.bin"))
                        note["models"].append({**counts[fold], "sha256": fetch.sha256_of(path)})
            finally:
                shutil.rmtree(work, ignore_errors=True)
        else:
            applied, reason = wikiref.decide(len(positives), None, int(cfg["min_positives"]), float(cfg["min_auc"]))
        note.update(applied=applied, reason=reason)  # the launcher logs it from this note, once
        _write_note(self.models_dir, WIKIREF_NOTE, note)
        yield {"applied": applied, "models": paths, "threshold": float(cfg["threshold"]), "reason": reason}


WIKIREF_NOTE = "wikiref_training.json"


def training_params(cfg: dict) -> dict:
    """The fastText settings and text mode of `quality.wikiref.settings` (a name in `presets`)."""
    presets = cfg["presets"]
    if cfg["settings"] not in presets:
        raise ValueError(f"quality.wikiref.settings={cfg['settings']!r}: not one of the presets {sorted(presets)}")
    params = dict(presets[cfg["settings"]])
    if params["text"] not in wikiref.TEXT_MODES:
        raise ValueError(f"quality.wikiref.presets.{cfg['settings']}.text must be one of {wikiref.TEXT_MODES}")
    return params


def given_classifier(cfg: dict) -> dict:
    """A user's trained model (path/URL): applied as it is, one model for every page."""
    return {"applied": True, "models": [cfg["model"]], "threshold": float(cfg["threshold"]),
            "reason": f"applied: given model {cfg['model']}"}


def given_classifier_note(cfg: dict) -> dict:
    """wikiref_training.json of a run that applies a given classifier (trains none)."""
    return {"applied": True, "given": cfg["model"], "threshold": float(cfg["threshold"]),
            "reason": f"applied: given model {cfg['model']}"}


class _ScoreWikiref(beam.DoFn):
    def __init__(self, handle, folds: int, max_chars: int, text_mode: str):
        self.handle = handle
        self.folds = folds
        self.max_chars = max_chars
        self.text_mode = text_mode
        self.scorers = {}

    def setup(self):
        self.counters = Counters(NAMESPACE)

    def process(self, doc: Document, classifier: dict):
        if not classifier["applied"]:
            self.counters.inc("wikiref_not_applied")
            yield doc.with_meta(wikiref_applied=False)
            return
        models = classifier["models"]
        path = models[fold_of(doc.id, self.folds) % len(models)]
        scorer = self.scorers.get(path)
        if scorer is None:
            scorer = self.scorers[path] = self.handle.acquire(
                lambda: _Loaded(wikiref.WikirefScorer(local_copy(path), self.max_chars, self.text_mode)), tag=path).value
        score = scorer.score(doc.text)
        if score < classifier["threshold"]:
            self.counters.inc("drop:" + wikiref.DROP_REASON)
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, wikiref.DROP_REASON, doc.nbytes))
            return
        yield doc.with_meta(wikiref_score=score, wikiref_applied=True)


def _sample(pcoll, label: str, n: int):
    """The `n` elements with the smallest sort key (first item), as one sorted list (a singleton)."""
    return pcoll | label >> beam.combiners.Top.Smallest(n)


def cited_to_fetch(refs, n: int):
    """(url key, url as cited) pairs, one per occurrence → a singleton list of `n` distinct keys,
    each with one of its cited forms (the smallest: the same on every run)."""
    return (_sample(refs | "OneUrlPerKey" >> beam.CombinePerKey(min)
                    | "FetchKey" >> beam.Map(lambda kv: (sort_key(kv[0], "fetch"), kv)), "FetchSample", n)
            | "FetchUrls" >> beam.Map(lambda sample: [kv for _, kv in sample]))


def cutoffs_mode(cutoffs_cfg: dict, resolved_lms: dict) -> str:
    """'given' or 'computed': `auto` is cc_net's table with cc_net's published models (the table
    was made under them: downloaded from cc_net, or given by path and named as cc_net's), the run's
    own percentiles with an LM trained in the run or a given one of the user's own."""
    mode = cutoffs_cfg["mode"]
    if mode == "auto":
        ccnet = bool(resolved_lms) and all(d.get("source") == "ccnet" or d.get("ccnet_files")
                                           for d in resolved_lms.values())
        return "given" if ccnet else "computed"
    if mode not in ("given", "computed"):
        raise ValueError(f"quality.perplexity.cutoffs.mode must be 'auto', 'given' or 'computed', not {mode!r}")
    return mode


def is_ccnet_table(given: dict, lang: str) -> bool:
    """Whether `given`'s cutoffs for `lang` are cc_net's cutoff.csv values: the llama recipe's
    `quality.perplexity.cutoffs.given` is where that table ships, whatever recipe the run uses (a
    recipe or --set that changes a language's pair makes it a user's, named as such)."""
    from pipeline import recipe as recipes

    return lang in given and given[lang] == recipes.ccnet_cutoff_table().get(lang)


def _with_note(value, models_dir: str, name: str, note: dict):
    _write_note(models_dir, name, note)
    return value


# ---------------------------------------------------------------- the composite --------------
class CCNetQuality(beam.PTransform):
    """docs (with meta language) → (docs with perplexity, bucket, wikiref_score/applied; drop events).

    `wikipedia_dumps`: the dump files whose `<ref>` URLs mark the cited pages and, for a language
    without an LM in `lms` or the recipe's sp_model/kenlm_model, whose articles' opening text
    trains it; `languages`: the kept languages (one LM each); `lms`: {lang: descriptor} of LMs
    the launcher resolved (cc_net's published models, given ones: `pipeline.quality_models`).
    """

    def __init__(self, recipe: dict, models_dir: str, wikipedia_dumps: Optional[List[str]] = None,
                 languages: Optional[Sequence[str]] = None, lms: Optional[dict] = None, label=None):
        super().__init__(label)
        self.recipe = recipe
        self.cfg = recipe["quality"]
        self.models_dir = models_dir
        self.languages = list(languages or recipe["commoncrawl"]["language"]["languages"])
        # Globs (a user's --wikipedia_input, the demo's reference text): matched on the workers.
        self.dumps = list(wikipedia_dumps or [])
        self.lms = dict(lms or {})
        mode = self.cfg["perplexity"]["mode"]
        if mode not in ppl.MODES:
            raise ValueError(f"quality.perplexity.mode must be one of {ppl.MODES}, not {mode!r}")
        # {lang: descriptor} of the languages whose LM is not trained in the job (given_lm reads notes: once)
        self.resolved = {lang: d for lang in self.languages if (d := self.lms.get(lang) or given_lm(self.cfg["lm"], lang))}
        self.needs_training = len(self.resolved) < len(self.languages)
        self.cutoffs_mode = cutoffs_mode(self.cfg["perplexity"]["cutoffs"], self.resolved)
        if self.cutoffs_mode == "given":
            missing = [lang for lang in self.languages if lang not in self.cfg["perplexity"]["cutoffs"]["given"]]
            if missing:
                raise ValueError(f"quality.perplexity.cutoffs.given has no cutoffs for {', '.join(missing)}")
        w = self.cfg["wikiref"]
        if w["enabled"] and not w["model"]:
            training_params(w)  # a misnamed preset fails here, not on a worker
        # Read here, in the launcher: a user's small file, travelling to the workers with the graph.
        self.cited_texts = read_cited_texts(w["cited_texts"], int(w["folds"]), int(w["max_chars"]),
                                            int(w["positive_min_chars"])) \
            if w["enabled"] and w["cited_texts"] and not w["model"] else []

    def expand(self, docs):
        cfg = self.cfg
        p = docs.pipeline
        openings, refs = self._dump_pass(p)
        lms = beam.pvalue.AsSingleton(self._language_models(p, openings))
        scored = docs | "Perplexity" >> beam.ParDo(_ScorePerplexity(shared.Shared(), cfg["perplexity"]["mode"]), lms)
        cutoffs = self._cutoffs(scored, lms)
        out = scored | "Buckets" >> beam.ParDo(
            _AssignBucket(cfg["perplexity"]["keep_buckets"]), beam.pvalue.AsSingleton(cutoffs), lms
        ).with_outputs(ev.EVENTS, main="docs")
        kept, events = out.docs, [out[ev.EVENTS]]
        w = cfg["wikiref"]
        if w["enabled"]:
            # RP1: both classes come from the pages the buckets keep (head and middle).
            classifier = self._classifier(p, kept, refs)
            text_mode = "raw" if w["model"] else training_params(w)["text"]
            out = kept | "Wikiref" >> beam.ParDo(
                _ScoreWikiref(shared.Shared(), int(w["folds"]), int(w["max_chars"]), text_mode),
                beam.pvalue.AsSingleton(classifier)).with_outputs(ev.EVENTS, main="docs")
            kept = out.docs
            events.append(out[ev.EVENTS])
        return kept, tuple(events) | "QualityEvents" >> beam.Flatten()

    # -- pieces of the graph --------------------------------------------------------------------
    def _dump_pass(self, p):
        w = self.cfg["wikiref"]
        want_refs = bool(w["enabled"] and not w["model"])
        if not self.dumps or not (want_refs or self.needs_training):
            return p | "NoOpenings" >> beam.Create([]), p | "NoRefUrls" >> beam.Create([])
        out = (p | "Dumps" >> ExpandInputs(self.dumps)
               | "DumpPass" >> beam.ParDo(_DumpPass(self.languages, self.needs_training, want_refs,
                                                       int(self.recipe["wikipedia"]["max_page_bytes"])))
               .with_outputs(_DumpPass.REFS, main="openings"))
        return out.openings, out[_DumpPass.REFS]

    def _language_models(self, p, openings):
        lm = self.cfg["lm"]
        resolved = self.resolved
        found = [p | "GivenLMs" >> beam.Create([resolved[lang] for lang in sorted(resolved)])]
        if self.needs_training:
            train = dict(lm["train"])
            max_docs = int(train.pop("max_docs"))
            train.pop("max_chars", None)
            langs = [lang for lang in self.languages if lang not in resolved]
            found.append(
                openings
                | "OpeningsToTrain" >> beam.Filter(lambda kv, keep: kv[0] in keep, frozenset(langs))
                | "OpeningsPerLang" >> beam.GroupByKey()
                | "TrainLM" >> beam.ParDo(_TrainReferenceLM(self.models_dir, train, int(lm["min_training_chars"]),
                                                            max_docs)))
        descriptors = tuple(found) | "AllLMs" >> beam.Flatten() | "LMList" >> beam.combiners.ToList()
        return (p | "LMTrigger" >> beam.Create([None])
                | "LanguageModels" >> beam.ParDo(_LanguageModels(self.languages, self.models_dir,
                                                                 int(lm["min_training_chars"])),
                                                 beam.pvalue.AsSingleton(descriptors)))

    def _cutoffs(self, scored, lms):
        c = self.cfg["perplexity"]["cutoffs"]
        if self.cutoffs_mode == "given":
            given = {lang: tuple(ppl.cutoffs_from_config(c, lang)) for lang in self.languages}
            note = {lang: {"mode": "given", "head": head, "middle": middle, "source": "quality.perplexity.cutoffs.given"
                           + (" (cc_net's cutoff.csv, rows 30 and 60)" if is_ccnet_table(c["given"], lang) else "")}
                    for lang, (head, middle) in given.items()}
            return (scored.pipeline | "GivenCutoffs" >> beam.Create([given])
                    | "CutoffsNote" >> beam.Map(_with_note, self.models_dir, CUTOFFS_NOTE, note))
        return (scored
                | "HistogramBin" >> beam.FlatMap(lambda d, lm: [] if (lang := _scored_lang(d, lm)) is None else [
                    (lang, ppl.histogram_bin(math.inf if d.meta.get("perplexity") is None else d.meta["perplexity"]))], lms)
                | "CountPerBin" >> beam.combiners.Count.PerElement()
                | "Histogram" >> beam.combiners.ToList()
                | "Cutoffs" >> beam.ParDo(_CutoffsFromHistogram(
                    float(c["head_percentile"]), float(c["middle_percentile"]), self.models_dir)))

    def _classifier(self, p, scored, refs):
        w = self.cfg["wikiref"]
        if w["model"]:
            return (p | "GivenClassifier" >> beam.Create([given_classifier(w)])
                    | "GivenClassifierNote" >> beam.Map(_with_note, self.models_dir, WIKIREF_NOTE, given_classifier_note(w)))
        folds, max_chars, wanted = int(w["folds"]), int(w["max_chars"]), int(w["max_positives"])
        # Pages do not cross the shuffle whole: a Bloom filter of the cited URL keys (a side input
        # built from the dumps) picks the few pages that may be cited, and only their examples meet
        # the <ref> keys in the exact join; negatives are a sample of every page's example.
        ref_keys = refs | "RefKeys" >> beam.Map(lambda kv: kv[0]) | "DistinctRefs" >> beam.Distinct()
        bloom = ref_keys | "BloomOfRefs" >> beam.CombineGlobally(
            _BloomOfKeys(int(w["bloom_bits"]), int(w["bloom_hashes"])))
        examples = scored | "Examples" >> beam.ParDo(
            _KeyAndExample(folds, max_chars, int(w["positive_min_chars"])), beam.pvalue.AsSingleton(bloom)
        ).with_outputs(_KeyAndExample.MAYBE_CITED, main="all")
        cited = _sample({"refs": ref_keys | "RefKeyed" >> beam.Map(lambda k: (k, 1)),
                         "examples": examples[_KeyAndExample.MAYBE_CITED]}
                        | "JoinCited" >> beam.CoGroupByKey()
                        | "CitedExamples" >> beam.FlatMap(_cited_examples), "CitedSample", wanted)
        # Negatives: pages the Bloom filter does not let through (no cited page among them).
        negatives = _sample(examples.all, "NegativeSample", wanted)
        fcfg = w["fetch_cited"]
        if fcfg["enabled"] and self.dumps:
            fetched = (cited_to_fetch(refs, int(fcfg["max_pages"]))
                       | "FetchCited" >> beam.ParDo(_FetchCited(fcfg, folds, max_chars, int(w["positive_min_chars"]))))
        else:
            fetched = p | "NoFetched" >> beam.Create([[]])
        return (p | "WikirefTrigger" >> beam.Create([None])
                | "TrainWikiref" >> beam.ParDo(
                    _TrainWikiref(self.models_dir, w, self.cited_texts), beam.pvalue.AsSingleton(cited),
                    beam.pvalue.AsSingleton(fetched), beam.pvalue.AsSingleton(negatives)))
