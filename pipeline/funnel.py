"""The funnel: each source's steps in the order its documents meet them, and stats.json's accounts
of every step (documents and bytes in and out, what was dropped, what was cut from kept text).

Each source's steps are declared once, here (`STEPS`): a name, what the step does, and the
*families* that belong to it: prefixes of its drop reasons (`line_dedup_empty`) and of the names
under which it counts text removed from documents it kept (`trimmed` events: `line_dedup`). A
reason belongs to the step with the longest family that starts it. The events do not name their
step, so the accounts follow from them and this table alone:

    step 1 in    = the documents read and the bytes read (as each reader counts them: a WET
                   record's text, an e-print as served, a thread's title and HTML bodies);
    a step's out = its in − the documents it dropped (and their bytes as they entered it)
                   − the bytes it trimmed from the documents it kept;
    the next in  = this out; the sink's out = the documents and bytes written.

`bytes_conserved`: the bytes entering the sink (read − Σ dropped − Σ trimmed) are the bytes
written. It fails when a step rewrote text without counting it. A reason that no step of its
source claims lands in an `unassigned` step before the sink, so nothing is hidden.

Which steps a run has follows from the recipe (`steps_for`): run.py names them to the stats
writer, and a step the recipe leaves out is not listed.
"""
from __future__ import annotations

from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple


def _always(recipe: dict, source: str) -> bool:
    return True


class Step(NamedTuple):
    name: str
    what: str  # one line for the report
    families: Tuple[str, ...]  # prefixes of its drop reasons and trim names
    runs: Callable[[dict, str], bool] = _always  # (recipe, source) → whether this run has the step


def _web_rules(recipe: dict, source: str) -> bool:
    from pipeline import web_rules

    return web_rules.enabled_for(recipe, source)


# Every source's composite ends with one document per id (dedup/unique_ids.py); CommonCrawl's runs
# before line dedup (two copies of a record would empty each other there).
UNIQUE_IDS = Step("unique_ids", "one document per id (a record or page read twice)", ("duplicate_id",))

READ_WEB = Step("read", "WET/WARC records read (a WARC page's main text extracted)", ("bad_input:", "warc_not_html"))

# After every source's own steps (pipeline/run.py builds them in this order).
TAIL = (
    Step("web_rules", "Gopher/FineWeb rules and PII scrubbing (llama-plus)", ("gopher_", "fineweb_", "WebRules"),
         _web_rules),
    Step("near_dedup", "MinHash-LSH near-duplicates (llama-plus)", ("near_duplicate",),
         lambda r, s: bool(r["neardup"]["enabled"])),
    Step("decontamination", "benchmark n-gram overlaps (decontamination.mode)", ("decontam_",),
         lambda r, s: r["decontamination"]["mode"] != "off"),
    Step("sink", "Parquet shards written", ()),
)

STEPS: Dict[str, Tuple[Step, ...]] = {
    "commoncrawl": (
        READ_WEB,
        Step("length", "pages under commoncrawl.min_chars characters", ("too_short",)),
        UNIQUE_IDS,
        Step("line_dedup", "lines in two or more documents removed everywhere (cc_net)", ("line_dedup",)),
        Step("language", "fastText lid.176: kept languages at ≥ language.threshold", ("language_",)),
        Step("quality", "KenLM perplexity buckets (head, middle kept)", ("perplexity_",),
             lambda r, s: bool(r["commoncrawl"]["quality"])),
        Step("classifier", "Wikipedia-reference classifier (LLaMA)", ("wikiref_",),
             lambda r, s: bool(r["commoncrawl"]["quality"] and r["quality"]["wikiref"]["enabled"])),
        Step("exact_dedup", "same kept lines (line dedup in shard groups only)", ("exact_duplicate",),
             lambda r, s: bool(r["commoncrawl"]["exact_dedup"] and r["commoncrawl"]["line_dedup"]["scope"] != "global")),
    ),
    "c4": (
        READ_WEB,
        Step("length", "WET pages under c4.wet.min_chars", ("too_short",), lambda r, s: int(r["c4"]["wet"]["min_chars"]) > 0),
        Step("url_dedup", "one page per normalised URL, the newest", ("c4_duplicate_url",),
             lambda r, s: bool(r["c4"]["url_dedup"]["enabled"])),
        Step("c4_rules", "C4's line and page rules (TFDS c4_utils)", ("c4_",), lambda r, s: bool(r["c4"]["rules"]["enabled"])),
        Step("span_dedup", "repeated lines / sentence spans, first kept", ("c4_span_dedup",),
             lambda r, s: bool(r["c4"]["span_dedup"]["enabled"])),
        Step("c4_final_checks", "after dedup: sentences counted again, bad words", ("c4_too_few_sentences_after_dedup", "c4_bad_words"),
             lambda r, s: bool(r["c4"]["rules"]["enabled"])),
        Step("language", "fastText lid.176: kept languages at ≥ language.threshold", ("language_",),
             lambda r, s: bool(r["c4"]["language"]["enabled"])),
        UNIQUE_IDS,
    ),
    "wikipedia": (
        Step("read", "pages read from the dumps", ("bad_input:",)),
        Step("articles", "articles only: other namespaces and redirects out", ("non_article_namespace", "redirect")),
        Step("language", "the dump languages of the recipe", ("language_",)),
        Step("clean", "wikitext to plain text (links, templates, tables, references out)", ("WikipediaPageCleaner",)),
        Step("length", "articles under wikipedia.min_chars once clean", ("too_short",)),
        UNIQUE_IDS,
    ),
    "books": (
        Step("read", "books read", ("bad_input:",)),
        Step("clean", "Gutenberg header and footer stripped", ("gutenberg_markers_missing", "BookCleaner")),
        Step("length", "books under books.min_chars", ("too_short",)),
        Step("exact_dedup", "identical books", ("exact_duplicate",)),
        Step("overlap_dedup", "books ≥ 90% contained in another", ("book_overlap",)),
        UNIQUE_IDS,
    ),
    "github": (
        Step("read", "files read from archives, checkouts or BigQuery rows", ("bad_input:", "not_regular_file")),
        Step("license", "Apache, BSD and MIT only", ("license_",)),
        Step("extension", "RP1's extension whitelist", ("extension_not_kept",)),
        Step("size", "files over github.max_file_bytes", ("file_too_large",)),
        Step("clean", "licence headers stripped", ("empty_after_cleaning", "GithubFileCleaner")),
        Step("code_rules", "RP1's line length and character rules",
             ("max_line_length", "mean_line_length", "alnum_fraction", "alpha_per_token")),
        Step("exact_dedup", "identical files", ("exact_duplicate",)),
        UNIQUE_IDS,
    ),
    "arxiv": (
        Step("read", "e-prints read (bytes as served)", ("bad_input:", "no_tex_source")),
        Step("clean", "LaTeX from the first section to the bibliography, macros expanded",
             ("no_main_file", "no_section", "empty_after_cleaning", "arxiv_clean")),
        Step("exact_dedup", "identical papers", ("exact_duplicate",), lambda r, s: bool(r["arxiv"]["exact_dedup"])),
        UNIQUE_IDS,
    ),
    "stackexchange": (
        Step("read", "questions with their answers (bytes: title and HTML bodies)", ("bad_input:", "stackexchange_threads")),
        Step("sites", "the stackexchange.top_sites largest sites", ("site_not_in_top_n",)),
        Step("answers", "questions with fewer than stackexchange.min_answers answers", ("too_few_answers",),
             lambda r, s: int(r["stackexchange"]["min_answers"]) > 0),
        Step("exact_dedup", "identical threads", ("exact_duplicate",), lambda r, s: bool(r["stackexchange"]["exact_dedup"])),
        UNIQUE_IDS,
    ),
}
UNASSIGNED = Step("unassigned", "reasons no step of this source claims (pipeline/funnel.py)", ())


def module_of(unit: str) -> str:
    """The source whose steps a stats.json entry has: `commoncrawl/CC-MAIN-…` is commoncrawl's."""
    return unit.split("/", 1)[0]


def all_steps(unit: str) -> Tuple[Step, ...]:
    return STEPS.get(module_of(unit), (Step("read", "documents read", ("bad_input:",)),)) + TAIL


def steps_for(recipe: dict, unit: str) -> List[str]:
    """The names of the steps this recipe runs for `unit`, in order."""
    source = module_of(unit)
    return [s.name for s in all_steps(unit) if s.runs(recipe, source)]


def step_of(reason: str, steps: Sequence[Step]) -> Optional[str]:
    """The step whose longest family starts `reason`."""
    best, length = None, -1
    for step in steps:
        for family in step.families:
            if reason.startswith(family) and len(family) > length:
                best, length = step.name, len(family)
    return best


def accounts(unit: str, names: Sequence[str], read: Tuple[int, int], drops: Dict[str, Tuple[int, int]],
             trims: Dict[str, Tuple[int, int, int]], written: Tuple[int, int]) -> Tuple[List[dict], bool]:
    """(the step list of stats.json, bytes_conserved) for one source.

    read, written: (documents, bytes); drops: reason → (documents, bytes); trims: name →
    (documents, bytes, characters). `names`: the steps the run has (`steps_for`); a step absent
    from it that still has drops or trims is listed too (the events say it ran)."""
    declared = [s for s in all_steps(unit) if s.name != "sink"]
    place = {r: step_of(r, declared) for r in list(drops) + list(trims)}
    active = set(names) | {p for p in place.values() if p}
    order = [s for s in declared if s.name in active]
    if any(p is None for p in place.values()):
        order.append(UNASSIGNED)
    docs, nbytes = read
    out = []
    for step in order:
        dropped = {r: drops[r] for r in sorted(drops) if (place[r] or UNASSIGNED.name) == step.name}
        cut = [trims[t] for t in sorted(trims) if (place[t] or UNASSIGNED.name) == step.name]
        entry = {"step": step.name, "what": step.what, "docs_in": docs, "bytes_in": nbytes,
                 "dropped": {r: n for r, (n, _) in dropped.items()},
                 "dropped_bytes": sum(b for _, b in dropped.values()),
                 "trimmed": {"docs": sum(t[0] for t in cut), "bytes": sum(t[1] for t in cut),
                             "chars": sum(t[2] for t in cut)}}
        docs -= sum(n for n, _ in dropped.values())
        nbytes -= entry["dropped_bytes"] + entry["trimmed"]["bytes"]
        entry.update(docs_out=docs, bytes_out=nbytes)
        out.append(entry)
    sink = next(s for s in TAIL if s.name == "sink")
    out.append({"step": sink.name, "what": sink.what, "docs_in": docs, "bytes_in": nbytes, "dropped": {},
                "dropped_bytes": 0, "trimmed": {"docs": 0, "bytes": 0, "chars": 0},
                "docs_out": written[0], "bytes_out": written[1]})
    return out, nbytes == written[1]


def unassigned(stats: dict) -> Dict[str, List[str]]:
    """source → the reasons stats.json put in `unassigned` (none, in a run whose table is complete)."""
    return {name: sorted(step["dropped"]) for name, s in stats.get("sources", {}).items()
            for step in s.get("steps", []) if step["step"] == UNASSIGNED.name}


def languages(tallies: Dict[str, int]) -> Optional[dict]:
    """{"seen": {lang: n}, "dropped": {lang: n}, "kept": {lang: n}} from the language step's tallies."""
    from filters.langid import DROPPED, SEEN

    seen = {k[len(SEEN):]: n for k, n in tallies.items() if k.startswith(SEEN)}
    if not seen:
        return None
    dropped = {k[len(DROPPED):]: n for k, n in tallies.items() if k.startswith(DROPPED)}
    kept = {lang: n - dropped.get(lang, 0) for lang, n in seen.items() if n - dropped.get(lang, 0)}
    return {"seen": dict(sorted(seen.items())), "dropped": dict(sorted(dropped.items())), "kept": dict(sorted(kept.items()))}


def perplexity(tallies: Dict[str, int]) -> Optional[dict]:
    """{"bins_per_decade": 20, "<lang>": {"<bucket>": {"<bin>": pages}}} from the quality step's
    tallies: bin i holds perplexities in [10^(i/20), 10^((i+1)/20)), "inf" the unscorable pages."""
    from filters.perplexity import REPORT_BINS_PER_DECADE, TALLY as PERPLEXITY_TALLY

    per: Dict[str, Dict[str, Dict[str, int]]] = {}
    for k, n in tallies.items():
        if k.startswith(PERPLEXITY_TALLY):
            lang, bucket, b = k[len(PERPLEXITY_TALLY):].rsplit(":", 2)
            per.setdefault(lang, {}).setdefault(bucket, {})[b] = n
    if not per:
        return None
    key = lambda b: float("inf") if b == "inf" else int(b)  # noqa: E731
    return {"bins_per_decade": REPORT_BINS_PER_DECADE,
            **{lang: {bucket: {b: bins[b] for b in sorted(bins, key=key)} for bucket, bins in sorted(buckets.items())}
               for lang, buckets in sorted(per.items())}}


def other_tallies(tallies: Dict[str, int]) -> Dict[str, int]:
    from filters.langid import DROPPED, SEEN
    from filters.perplexity import TALLY as PERPLEXITY_TALLY

    return {k: n for k, n in sorted(tallies.items()) if not k.startswith((SEEN, DROPPED, PERPLEXITY_TALLY))}
