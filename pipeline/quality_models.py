"""Where the CommonCrawl quality stage's reference LMs come from, settled in the launcher before
anything is curated (RECIPE.md CommonCrawl 4; recipe `quality.lm.source`).

    ccnet      cc_net's published pair per kept language, {ccnet_url}{lang}.sp.model and
               {ccnet_url}{lang}.arpa.bin (what CCNet, so LLaMA, scored with), downloaded once per
               machine into the download cache (common.fetch: retries, atomic rename), with a size
               and progress line; a SHA-256 pinned in `lm.sha256` is enforced, every file's SHA-256
               is recorded. Cutoffs: cc_net's per-language table.
    wikipedia  trained in the job from the opening text of the user's --wikipedia_input (cc_net's
               own procedure); cutoffs computed from the run's own perplexities.
    demo       the same training, on the real enwiki excerpt that set-up brings from PyPI
               (models.json `enwiki_excerpt`): only when every CommonCrawl input is the bundled
               sample and no Wikipedia input is given, so bundled text never trains a model that
               scores a user's data.
    given      the recipe's sp_model / kenlm_model paths or URLs ("{lang}" replaced). Cutoffs
               (`auto`): cc_net's table when they are cc_net's published pair (named
               {lang}.sp.model / {lang}.arpa.bin, or under `ccnet_url`: `quality.is_ccnet_pair`),
               else the run's own percentiles. The banner says which cutoffs apply.

`auto` (the llama recipe) picks given when sp_model is set, wikipedia with --wikipedia_input, demo
for the bundled samples, else ccnet. A plan that cannot be carried out (models unreachable, the
demo text missing, no cutoffs for a kept language) is a `QualityUnavailable`: one line naming the
ways out, exit 2, before curating. On a runner whose workers are other machines (Dataflow, Flink,
Spark) the launcher does not download cc_net's models (each worker does) but asks for each one
(an HTTP HEAD, or the file system's own look-up): one that is not there stops the run the same way.
A Wikipedia too small to train on is found inside the job
(`pipeline.quality.ReferenceLMMissing`); `lm_missing_line` turns that failure into the same line.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Dict, List, NamedTuple, Optional

from common import fetch
from common.cli import UsageError
from filters import models

log = logging.getLogger("pipeline")
SOURCES = ("auto", "ccnet", "wikipedia", "given")
SKIP = "--set commoncrawl.quality=false to skip the quality step on purpose"


class QualityUnavailable(UsageError):
    """The reference LM the recipe asks for cannot be had: the run stops before curating."""


class Plan(NamedTuple):
    source: str                   # ccnet | wikipedia | demo | given
    languages: List[str]
    dumps: List[str]              # Wikipedia dumps the job reads: LM openings (wikipedia, demo) and <ref> URLs
    lms: Dict[str, dict]          # {lang: descriptor} of LMs resolved here (ccnet, given); empty when trained


def ways_out(lang_files: str) -> str:
    return (f"give --wikipedia_input=DUMP to train it cc_net's way, --set quality.lm.ccnet_url=DIR_OR_URL/ where "
            f"{lang_files} are (or quality.lm.sp_model and quality.lm.kenlm_model), or {SKIP}")


def lm_source(recipe: dict, wikipedia_given: bool, cc_bundled: bool) -> str:
    lm = recipe["quality"]["lm"]
    source = lm["source"]
    if source not in SOURCES:
        raise UsageError(f"--set quality.lm.source={source}: must be one of {', '.join(SOURCES)}")
    if source == "given" or (source == "auto" and (lm["sp_model"] != "auto" or lm["kenlm_model"] != "auto")):
        if lm["sp_model"] == "auto" or lm["kenlm_model"] == "auto":
            raise UsageError("quality.lm.source=given: set both quality.lm.sp_model and quality.lm.kenlm_model "
                             "(paths or URLs; {lang} is replaced)")
        return "given"
    if source == "auto":
        return "wikipedia" if wikipedia_given else ("demo" if cc_bundled else "ccnet")
    if source == "wikipedia" and not wikipedia_given:
        # A recipe that trains from Wikipedia, with none given: the bundled text trains only for bundled pages.
        return "demo" if cc_bundled else _refuse_no_wikipedia(recipe)
    return source


def _refuse_no_wikipedia(recipe: dict) -> str:
    langs = recipe["commoncrawl"]["language"]["languages"]
    raise QualityUnavailable(f"quality.lm.source=wikipedia trains the reference LM from the run's Wikipedia text and "
                             f"none was given; {ways_out(_files(langs))}")


def _files(languages) -> str:
    return ", ".join(f"{lang}.sp.model and {lang}.arpa.bin" for lang in languages)


class _QuietLMMissing(logging.Filter):
    """Beam logs a failing DoFn's traceback before the job fails; for a missing reference LM the
    launcher's one line says it all (`lm_missing_line`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from pipeline.quality import LM_MISSING

        return LM_MISSING not in record.getMessage()


_QUIET = _QuietLMMissing()


def plan(recipe: dict, wikipedia_inputs: List[str], cc_bundled: bool, download: bool = True) -> Plan:
    """The plan of a run's quality stage; `download`: fetch cc_net's models now (the DirectRunner,
    whose workers share this machine's cache), else let each worker machine fetch them."""
    logging.getLogger("apache_beam.runners.common").addFilter(_QUIET)  # idempotent
    languages = list(recipe["commoncrawl"]["language"]["languages"])
    source = lm_source(recipe, bool(wikipedia_inputs), cc_bundled)
    dumps = list(wikipedia_inputs)
    lms: Dict[str, dict] = {}
    if source == "demo":
        dumps = [demo_dump(recipe, languages)]
    elif source == "ccnet":
        lms = {lang: ccnet_lm(recipe, lang, download) for lang in languages}
    elif source == "given":
        lms = {lang: given_lm(recipe, lang) for lang in languages}
    _check_cutoffs(recipe, lms, languages)
    return Plan(source, languages, dumps, lms)


def demo_dump(recipe: dict, languages: List[str]) -> str:
    spec = recipe["models"]["enwiki_excerpt"]
    if languages != ["en"]:
        raise QualityUnavailable(f"the bundled samples' reference text is English Wikipedia only; for "
                                 f"{', '.join(languages)} {ways_out(_files(languages))}")
    path, where = models.locate(spec)
    if path is None:
        raise QualityUnavailable(f"quality: the demo's reference Wikipedia text {spec['filename']} is {where}; "
                                 f"or {ways_out(_files(languages))}")
    return fetch.cached(path, sha256=spec.get("sha256"))


def _join(base: str, name: str) -> str:
    return base + name if base.endswith("/") else base + "/" + name


def ccnet_lm(recipe: dict, lang: str, download: bool) -> dict:
    lm = recipe["quality"]["lm"]
    base = lm["ccnet_url"]
    names = {"sp_model": f"{lang}.sp.model", "kenlm_model": f"{lang}.arpa.bin"}
    desc = {"lang": lang, "applied": True, "source": "ccnet", "sha256": {}, "bytes": {},
            "reason": f"cc_net's published model pair {_join(base, names['sp_model'])}, {names['kenlm_model']}"}
    for key, name in names.items():
        url = _join(base, name)
        desc[key] = url
        pinned = lm["sha256"].get(name)
        if not download:  # each worker downloads it; the launcher only makes sure it is there
            desc["bytes"][key] = probe_model(url, lang)
            desc["sha256"][key] = pinned
            continue
        local = fetch_model(url, pinned, lang)
        desc["bytes"][key] = os.path.getsize(local)
        desc["sha256"][key] = pinned or fetch.file_sha256(local)
    if download:  # the report and the log show the reason: it names the bytes scored with
        desc["reason"] += "; " + ", ".join(f"{names[k]} {desc['bytes'][k] / 1e6:,.1f} MB SHA-256 {desc['sha256'][k]}"
                                           for k in names)
    else:
        desc["reason"] += "; downloaded by each worker" + (
            "" if all(desc["sha256"].values()) else " (no SHA-256 pinned in quality.lm.sha256: none checked or recorded)")
    return desc


def _unavailable(lang: str, error: str) -> QualityUnavailable:
    return QualityUnavailable(f"quality: cc_net's reference LM for {lang} could not be had: {error[:300]}; "
                              f"{ways_out(_files([lang]))}")


def fetch_model(path_or_url: str, sha256: Optional[str], lang: str) -> str:
    """A local copy of one model file (downloaded once per machine into the cache), or QualityUnavailable."""
    try:
        if fetch.is_url(path_or_url):
            # Three retries (3.5 s of backoff): a host that refuses is told to the user in seconds.
            return fetch.cached(path_or_url, sha256=sha256, retries=3, on_progress=_Progress(path_or_url))
        if "://" in path_or_url:  # gs:// and other Beam file systems
            from pipeline.quality import local_copy

            return local_copy(path_or_url, sha256)
        if not os.path.exists(path_or_url):
            raise fetch.FetchError(f"{path_or_url}: no such file")
        return fetch.cached(path_or_url, sha256=sha256)
    except (OSError, ValueError) as e:
        raise _unavailable(lang, str(e)) from None


def probe_model(path_or_url: str, lang: str) -> Optional[int]:
    """The size of a model file each worker will download (None when the server does not say), or
    QualityUnavailable when it is not there: an HTTP HEAD (retried), a file system's look-up else."""
    try:
        if fetch.is_url(path_or_url):
            return fetch.probe(path_or_url, retries=3)
        from apache_beam.io.filesystems import FileSystems

        found = [m for r in FileSystems.match([path_or_url]) for m in r.metadata_list]
        if not found:
            raise fetch.FetchError(f"{path_or_url}: no such file")
        return found[0].size_in_bytes
    except (OSError, ValueError) as e:
        raise _unavailable(lang, str(e)) from None
    except Exception as e:  # a file system's own error (no credentials, no bucket): still one line
        raise _unavailable(lang, f"{path_or_url}: {type(e).__name__}: {e}") from None


class _Progress:
    """The size line when a download starts, then a line every 10 s (or at the end)."""

    def __init__(self, url: str):
        self.url = url
        self.last = 0.0

    def __call__(self, done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        size = "size unknown" if total is None else f"{total / 1e6:,.1f} MB"
        if done == 0:
            self.last = now
            log.info("quality: downloading %s (%s) into %s", self.url, size, fetch.DEFAULT_CACHE)
        elif now - self.last >= 10 or (total is not None and done >= total):
            self.last = now
            share = f" ({100 * done / total:.0f}%)" if total else ""
            log.info("quality: %s: %s of %s%s", os.path.basename(self.url), f"{done / 1e6:,.1f} MB", size, share)


def given_lm(recipe: dict, lang: str) -> dict:
    from pipeline.quality import given_lm as descriptor

    desc = descriptor(recipe["quality"]["lm"], lang)
    for key in ("sp_model", "kenlm_model"):
        path = desc[key]
        if "://" not in path and not os.path.exists(path):
            raise QualityUnavailable(f"--set quality.lm.{key}: {path} does not exist; {ways_out(_files([lang]))}")
    return desc


def cutoffs_mode(recipe: dict, lms: Dict[str, dict]) -> str:
    """'given' (a table: cc_net's, or the user's) or 'computed' (the run's own percentiles)."""
    from pipeline.quality import cutoffs_mode as mode_of

    return mode_of(recipe["quality"]["perplexity"]["cutoffs"], lms)


def _check_cutoffs(recipe: dict, lms: Dict[str, dict], languages: List[str]) -> None:
    given = recipe["quality"]["perplexity"]["cutoffs"]["given"]
    missing = [lang for lang in languages if lang not in given] if cutoffs_mode(recipe, lms) == "given" else []
    if missing:
        sets = ", ".join(f"--set 'quality.perplexity.cutoffs.given.{lang}=[HEAD, MIDDLE]'" for lang in missing)
        raise QualityUnavailable(f"quality.perplexity.cutoffs.given has no cutoffs for {', '.join(missing)} (cc_net's "
                                 f"cutoff.csv has none): set them with {sets}, or --set quality.perplexity.cutoffs.mode="
                                 f"computed, or {SKIP}")


def cutoffs_plan(recipe: dict, plan_: Plan) -> dict:
    """Which cutoffs bucket each kept language, for the banner and run.json."""
    from pipeline.quality import is_ccnet_table

    c = recipe["quality"]["perplexity"]["cutoffs"]
    if cutoffs_mode(recipe, plan_.lms) == "computed":
        return {"mode": "computed", "head_percentile": c["head_percentile"], "middle_percentile": c["middle_percentile"]}
    return {"mode": "given", "given": {lang: {"head": c["given"][lang][0], "middle": c["given"][lang][1],
                                              "ccnet_table": is_ccnet_table(c["given"], lang)}
                                       for lang in plan_.languages}}


def training_files(plan_: Plan, recipe: dict) -> dict:
    """Every file that trains (or is) a quality model, for the banner and run.json."""
    w = recipe["quality"]["wikiref"]
    lm = {"source": plan_.source}
    if plan_.lms:
        lm["models"] = {lang: {k: d[k] for k in ("sp_model", "kenlm_model")} | {"sha256": d.get("sha256", {})}
                        for lang, d in plan_.lms.items()}
    else:
        lm["trained_from"] = list(plan_.dumps)
    classifier: dict = {"enabled": bool(w["enabled"])}
    if w["enabled"] and w["model"]:
        classifier["model"] = w["model"]
    elif w["enabled"]:
        classifier["cited_urls_from"] = list(plan_.dumps)
        classifier["cited_texts"] = w["cited_texts"]
        classifier["fetch_cited"] = bool(w["fetch_cited"]["enabled"])
        classifier["pages"] = "the run's CommonCrawl pages in the kept buckets (cited ones: positives; random ones: negatives)"
    return {"reference_lm": lm, "cutoffs": cutoffs_plan(recipe, plan_), "wikiref": classifier}


def banner_lines(files: dict) -> List[str]:
    lm, w = files["reference_lm"], files["wikiref"]
    what = {"ccnet": "cc_net's published models", "given": "given models", "wikipedia": "trained from",
            "demo": "trained (demo) from"}[lm["source"]]
    if "models" in lm:
        lines = [f"  quality reference LM {lang}: {what} {d['sp_model']}, {d['kenlm_model']}"
                 for lang, d in sorted(lm["models"].items())]
    else:
        lines = [f"  quality reference LM: {what} {', '.join(lm['trained_from'])}"]
    cut = files.get("cutoffs")
    if cut and cut["mode"] == "computed":
        lines.append(f"  quality cutoffs: computed, the {cut['head_percentile']:g}th and {cut['middle_percentile']:g}th "
                     "percentile of this run's perplexities per language")
    elif cut:
        for lang, g in sorted(cut["given"].items()):
            whose = "cc_net's table (cutoff.csv)" if g["ccnet_table"] else "given (quality.perplexity.cutoffs.given)"
            lines.append(f"  quality cutoffs {lang}: {whose}, head < {g['head']:g}, middle < {g['middle']:g}")
    if not w["enabled"]:
        lines.append("  quality classifier: off (quality.wikiref.enabled=false)")
    elif "model" in w:
        lines.append(f"  quality classifier: given model {w['model']}")
    else:
        given = [f"<ref> URLs of {', '.join(w['cited_urls_from'])}" if w["cited_urls_from"] else
                 "no Wikipedia dump for <ref> URLs"]
        if w["cited_texts"]:
            given.append(f"cited texts {w['cited_texts']}")
        if w["fetch_cited"]:
            given.append("cited pages fetched over HTTP")
        lines.append(f"  quality classifier: trained on the kept pages; positives from {'; '.join(given)}")
    return lines


def lm_missing_line(error: BaseException) -> Optional[str]:
    """The one line of a job that stopped for want of a reference LM (None for other failures)."""
    from pipeline.quality import LM_MISSING

    text = str(error)
    at = text.find(LM_MISSING)
    if at < 0:
        return None
    line = text[at:].split("\n", 1)[0].split(" [while running", 1)[0].strip().rstrip("'\"")
    langs = line[len(LM_MISSING):].split(":", 1)[0].replace("for", "").strip().split(", ")
    return f"{line}; {ways_out(_files(langs))}"

