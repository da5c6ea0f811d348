"""Benchmark decontamination: word n-gram overlap of documents with benchmark items (GPT-3 style).

Brown et al. 2020, appendix C: text is lowercased and stripped of punctuation, split into words;
a document overlaps a benchmark item when they share a word n-gram. The n of each benchmark is the
5th percentile of its items' lengths in words, clamped to [8, 13] (so a benchmark of short items,
such as OpenBookQA's questions, is still checked with n-grams shorter than its items).

- `normalize_words(text)`: delete punctuation and symbols (every character that is neither a
  letter/digit nor whitespace; "don't" → "dont", as lm-eval's decontamination janitor does),
  casefold (context-free lowercasing, so a token normalises the same alone or in its text), split
  at whitespace. `word_spans(text)` gives the same words with their character spans.
- `read_benchmark(path)`: the released schemas (ARC/OpenBookQA, BoolQ, HellaSwag, PIQA, HumanEval),
  llm-foundry's ICL format `{"query", "choices", "gold"}`, or plain text with one item per line;
  `.gz` or not. An item is one or more text segments, its own text (prompt + gold answer) first,
  then its wrong choices; n-grams never span two segments.
- `NRule`: n per benchmark from the lengths of the items' own text (`item_length`: the text a
  leaked copy holds and the one searched for; wrong choices do not count), and short items matched
  whole: an own segment shorter than n but of at least `min_item_words` words is indexed as one
  window of its length (GPT-3's floor of 8 would leave PIQA's shortest items, 6-7 words, never
  found). `unmatchable(benchmarks)` lists the items that no document can be found to hold
  (`python -m pipeline.decontam [FILES]` prints it per benchmark: 5% or less by construction of the
  percentile, unless the floor of n raises it).
- `BenchmarkIndex`: every indexed window of every item, as 64-bit hashes of word ids (sorted numpy
  arrays, one per distinct window length) with postings (item, segment, offset), so every hash hit
  is verified word by word: a reported match is a real shared n-gram, never a hash collision. A
  document's windows of every length are hashed in one pass (`windows_by_n`).
- `Decontaminator(index, mode, MaskRule)`: a document → its matches; `mode` report (keep the
  text), drop (reason `decontam_overlap:<benchmark>`, the benchmark of the first match) or mask:
  GPT-3's filter as lm-eval's `decontamination/janitor.py` runs it (`MaskRule`): every matched
  n-gram is cut with `window_chars` (200) characters on each side, pieces left no longer than
  `min_piece_chars` (200) go too (the Janitor's bounds, to the character: `pieces`), the rest are
  joined by a blank line; a document with more than
  `max_matches` (10) matched windows is dropped whole (`decontam_too_dirty:<benchmark>`), one with
  no word left as `decontam_masked_empty`. (Cutting the matched spans alone left most of a lightly
  edited copy: the words between two edits within n of each other never match.)

Size: each indexed n-gram costs 8 bytes of hash + 12 of postings, plus the items' word ids. The
whole of lm-eval's LLaMA task set (about 60k test items, ~4M words with BoolQ's passages) is about
4M n-grams per distinct n, ~80 MB per n; the five bundled/shared benchmarks hold ~0.4M.
"""
from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import re
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from common.record import Document

REASON_OVERLAP = "decontam_overlap"          # + ":<benchmark>"
REASON_MASKED_EMPTY = "decontam_masked_empty"
REASON_TOO_DIRTY = "decontam_too_dirty"      # + ":<benchmark>"
PIECE_SEPARATOR = "\n\n"                     # between the pieces `mask` mode leaves of a document
MODES = ("off", "report", "drop", "mask")

_PUNCT = re.compile(r"[^\w\s]|_")
_TOKEN = re.compile(r"\S+")
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)   # odd 64-bit multiplier of the polynomial window hash
# llm-foundry's ICL queries carry the prompt's own labels; they are not part of the item's text.
_ICL_LABELS = re.compile(r"^\s*(?:Question|Passage|Answer|Context):\s*", re.MULTILINE)


class BenchmarkError(ValueError):
    """A benchmark file that cannot be read; the message names the file and what is wrong."""


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------
def normalize_words(text: str) -> List[str]:
    return _PUNCT.sub("", text).casefold().split()


def word_spans(text: str) -> Tuple[List[str], List[Tuple[int, int]]]:
    """`normalize_words(text)` and, per word, the (start, end) of its token in `text`."""
    words, spans = [], []
    for m in _TOKEN.finditer(text):
        w = _PUNCT.sub("", m.group()).casefold()
        if w:  # casefold may lengthen a token ("ﬁ" → "fi") but never splits it
            words.append(w)
            spans.append(m.span())
    return words, spans


# --------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------
class Item(NamedTuple):
    id: str
    segments: Tuple[str, ...]
    main: int = 1           # the first `main` segments are the item's own text (prompt + gold answer,
                            # passage, question); the others are its wrong choices


class Benchmark(NamedTuple):
    name: str
    path: str
    items: Tuple[Item, ...]


def benchmark_name(path: str) -> str:
    """`arc_easy.llmfoundry.jsonl.gz` → `arc_easy`: the file name up to its first dot."""
    return os.path.basename(path).split(".", 1)[0]


def _icl_query(query: str) -> str:
    return _ICL_LABELS.sub("", query).strip()


def item_segments(record: dict) -> Optional[Tuple[Tuple[str, ...], int]]:
    """(segments, main) of one benchmark record, by schema; None for a schema not known here.

    The prompt and its correct answer form one segment (that is what a leaked copy holds); the
    other choices are segments of their own, after the `main` segments of the item's own text.
    """
    if {"query", "choices", "gold"} <= record.keys():           # llm-foundry ICL
        choices, gold = list(record["choices"]), int(record["gold"])
        return (_icl_query(record["query"]) + " " + str(choices[gold]),) + tuple(
            str(c) for i, c in enumerate(choices) if i != gold), 1
    if isinstance(record.get("question"), dict) and "stem" in record["question"]:  # ARC, OpenBookQA
        q = record["question"]
        choices = {c["label"]: c["text"] for c in q.get("choices", [])}
        gold = choices.get(record.get("answerKey"), "")
        own = tuple(s for s in (record.get("fact1", ""), (q["stem"] + " " + gold).strip()) if s)
        return own + tuple(t for k, t in choices.items() if k != record.get("answerKey")), len(own)
    if "ctx" in record and "endings" in record:                  # HellaSwag
        endings, label = list(record["endings"]), int(record.get("label", 0) or 0)
        return (record["ctx"] + " " + endings[label],) + tuple(e for i, e in enumerate(endings) if i != label), 1
    if "goal" in record and "sol1" in record:                   # PIQA (its labels are in another file)
        return (record["goal"] + " " + record["sol1"], record["goal"] + " " + record["sol2"]), 2
    if "passage" in record and isinstance(record.get("question"), str):  # BoolQ
        return (record["passage"], record["question"]), 2
    if "prompt" in record and "canonical_solution" in record:   # HumanEval
        return (record["prompt"] + record["canonical_solution"],), 1
    return None


def _open_text(path: str) -> io.TextIOBase:
    local = path
    if "://" in path:
        from common import fetch

        local = fetch.cached(path)
    raw = open(local, "rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8")


def read_benchmark(path: str) -> Benchmark:
    name = benchmark_name(path)
    items: List[Item] = []
    try:
        with _open_text(path) as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise BenchmarkError(f"--benchmarks: cannot read {path}: {e}") from None
    plain = not path.removesuffix(".gz").endswith((".json", ".jsonl"))
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if plain:
            items.append(Item(str(number), (line,)))
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise BenchmarkError(f"--benchmarks: {path} line {number}: not JSON ({e})") from None
        found = item_segments(record) if isinstance(record, dict) else None
        if found is None:
            keys = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise BenchmarkError(f"--benchmarks: {path} line {number}: unknown benchmark schema {keys}; "
                                 "expected llm-foundry {query, choices, gold} or a released schema "
                                 "(ARC/OpenBookQA, BoolQ, HellaSwag, PIQA, HumanEval)")
        segments, main = found
        item_id = record.get("id", record.get("task_id", record.get("ind", number)))
        items.append(Item(str(item_id), tuple(str(s) for s in segments), main))
    return Benchmark(name, path, tuple(items))


def choose_n(lengths: Sequence[int], percentile: float = 5.0, min_n: int = 8, max_n: int = 13) -> int:
    """GPT-3's n: the `percentile`-th percentile of item lengths in words, clamped to [min_n, max_n]."""
    if not len(lengths):
        return max_n
    p = float(np.percentile(np.asarray(lengths, dtype=np.float64), percentile, method="lower"))
    return int(min(max_n, max(min_n, p)))


def segment_lengths(item: Item) -> List[int]:
    return [len(normalize_words(s)) for s in item.segments]


def item_length(item: Item) -> int:
    """The words of the item's longest own segment (prompt + gold answer): the text a leaked copy
    holds, and what n is chosen from. (The wrong choices are indexed too, but sizing n by them, as
    this once did by summing every segment, left items that can never match: ARC-Easy 400 of
    2,376 at n 13 instead of 9.)"""
    return max(segment_lengths(item)[:item.main] or [0])


class NRule(NamedTuple):
    """How n is chosen per benchmark, and which short items are matched whole (the recipe's
    `decontamination` keys of the same names)."""
    percentile: float = 5.0
    min_n: int = 8
    max_n: int = 13
    fixed_n: int = 0            # > 0: this n for every benchmark
    min_item_words: int = 0     # > 0: an own segment shorter than n but of at least this many words is
                                # matched whole (all its words in order); 0: never

    @classmethod
    def from_config(cls, config: dict) -> "NRule":
        return cls(float(config["ngram_percentile"]), int(config["min_n"]), int(config["max_n"]), int(config["n"]),
                   int(config["min_item_words"]))

    def n_of(self, bench: Benchmark) -> int:
        return self.fixed_n or choose_n([item_length(it) for it in bench.items], self.percentile, self.min_n, self.max_n)

    def windows(self, item: Item, n: int) -> List[Tuple[int, int]]:
        """(segment, window length) of each indexed window group of an item: every n-gram of every
        segment of n words or more, and a short own segment whole."""
        out = []
        for s, length in enumerate(segment_lengths(item)):
            if length >= n:
                out.append((s, n))
            elif s < item.main and self.min_item_words and length >= self.min_item_words:
                out.append((s, length))
        return out

    def matchable(self, item: Item, n: int) -> bool:
        return bool(self.windows(item, n))


def unmatchable(benchmarks: Iterable[Benchmark], rule: NRule = NRule()) -> List[dict]:
    """Per benchmark: n and the items that no document can ever be found to hold (every segment
    shorter than n, and no own segment long enough to be matched whole)."""
    rows = []
    for bench in benchmarks:
        n = rule.n_of(bench)
        never = [it.id for it in bench.items if not rule.matchable(it, n)]
        rows.append({"name": bench.name, "path": bench.path, "n": n, "items": len(bench.items),
                     "unmatchable": len(never), "share": len(never) / max(1, len(bench.items)),
                     "unmatchable_ids": never})
    return rows


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------
def window_hashes(ids: np.ndarray, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """(hash of every n-word window, whether the window holds only indexed words)."""
    L = len(ids) - n + 1
    if L <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, bool)
    vals = (ids + 1).astype(np.uint64)
    h = vals[:L].copy()
    with np.errstate(over="ignore"):
        for k in range(1, n):
            h *= _HASH_MUL
            h += vals[k:k + L]
    unknown = np.concatenate([[0], np.cumsum(ids < 0)])
    return h, (unknown[n:] - unknown[:L]) == 0


def windows_by_n(ids: np.ndarray, ns: Sequence[int]) -> Iterator[Tuple[int, np.ndarray, np.ndarray]]:
    """(n, `window_hashes(ids, n)`) for each n of `ns` in increasing order, built up one word at a
    time: one multiply-add pass per word of the largest n, not one per word of every n."""
    wanted = sorted(set(ns))
    if not wanted or len(ids) < wanted[0]:
        return
    vals = (ids + 1).astype(np.uint64)
    unknown = np.concatenate([[0], np.cumsum(ids < 0)])
    h = vals.copy()
    with np.errstate(over="ignore"):
        for n in range(1, wanted[-1] + 1):
            L = len(ids) - n + 1
            if L <= 0:
                return
            if n > 1:
                h = h[:L] * _HASH_MUL + vals[n - 1:]
            if n in wanted:
                yield n, h, (unknown[n:] - unknown[:L]) == 0


class _NIndex(NamedTuple):
    hashes: np.ndarray      # sorted uint64
    item: np.ndarray        # int32: global item number
    segment: np.ndarray     # int32
    offset: np.ndarray      # int32: first word of the n-gram in its segment


class BenchmarkIndex:
    """Every word n-gram of every benchmark item, by n; see the module docstring."""

    def __init__(self, benchmarks: Iterable[Benchmark], rule: NRule = NRule()):
        self.vocab: Dict[str, int] = {}
        self.benchmarks: List[dict] = []      # name, path, n, items, ngrams
        self.item_bench: List[int] = []       # global item → benchmark number
        self.item_id: List[str] = []
        self.segment_ids: List[List[np.ndarray]] = []
        parts: Dict[int, List[tuple]] = {}
        for b, bench in enumerate(benchmarks):
            n = rule.n_of(bench)
            count = whole = 0
            for item in bench.items:
                g = len(self.item_id)
                self.item_bench.append(b)
                self.item_id.append(item.id)
                segs = [np.fromiter((self.vocab.setdefault(w, len(self.vocab)) for w in normalize_words(text)),
                                    dtype=np.int64) for text in item.segments]
                for s, k in rule.windows(item, n):
                    h, _ = window_hashes(segs[s], k)
                    parts.setdefault(k, []).append((h, g, s))
                    count += len(h)
                    whole += k < n
                self.segment_ids.append(segs)
            self.benchmarks.append({"name": bench.name, "path": bench.path, "n": n,
                                    "items": len(bench.items), "ngrams": count, "whole_items": whole})
        self.by_n: Dict[int, _NIndex] = {}
        for n, rows in sorted(parts.items()):
            hashes = np.concatenate([h for h, _, _ in rows])
            item = np.concatenate([np.full(len(h), g, np.int32) for h, g, _ in rows])
            seg = np.concatenate([np.full(len(h), s, np.int32) for h, _, s in rows])
            off = np.concatenate([np.arange(len(h), dtype=np.int32) for h, _, _ in rows])
            order = np.argsort(hashes, kind="stable")
            self.by_n[n] = _NIndex(hashes[order], item[order], seg[order], off[order])

    @property
    def ngrams(self) -> int:
        return sum(len(ix.hashes) for ix in self.by_n.values())

    def word_ids(self, words: Sequence[str]) -> np.ndarray:
        # map(dict.get, words, repeat(-1)) runs in C: a generator expression here was a third of the rule.
        return np.fromiter(map(self.vocab.get, words, itertools.repeat(-1)), dtype=np.int64, count=len(words))

    def matches(self, ids: np.ndarray) -> List[Tuple[int, int, int]]:
        """(first word in the document, n, global item) of every verified shared n-gram."""
        out = []
        for n, h, known in windows_by_n(ids, self.by_n):
            ix = self.by_n[n]
            pos = np.flatnonzero(known)
            if not len(pos):
                continue
            cand = h[pos]
            at = np.searchsorted(ix.hashes, cand)
            hit = at < len(ix.hashes)
            hit[hit] = ix.hashes[at[hit]] == cand[hit]
            for p, a in zip(pos[hit], at[hit]):
                while a < len(ix.hashes) and ix.hashes[a] == h[p]:
                    seg = self.segment_ids[ix.item[a]][ix.segment[a]]
                    o = int(ix.offset[a])
                    if np.array_equal(seg[o:o + n], ids[p:p + n]):
                        out.append((int(p), n, int(ix.item[a])))
                    a += 1
        return sorted(out)


def build_index(paths: Sequence[str], config: dict) -> BenchmarkIndex:
    """The index of the recipe's (and --benchmarks') files, with the recipe's n rule."""
    return BenchmarkIndex([read_benchmark(p) for p in paths], NRule.from_config(config))


# --------------------------------------------------------------------------------------------
# Per document
# --------------------------------------------------------------------------------------------
class Finding(NamedTuple):
    """What one flagged document shares with the benchmarks."""
    source: str
    id: str
    url: Optional[str]
    benchmarks: Dict[str, dict]   # name → {"ngrams": matched windows, "items": sorted item ids}
    masked_spans: int


def merge_spans(spans: Iterable[Tuple[int, int]]) -> List[Tuple[int, int]]:
    out: List[List[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


class MaskRule(NamedTuple):
    """What `mask` mode cuts: GPT-3's filter (Brown et al. 2020, appendix C) as lm-eval's
    `decontamination/janitor.py` (`Janitor`: window_to_remove=200, minimum_slice_length=200,
    too_dirty_cutoff=10) runs it. The recipe's `decontamination` keys of the same names."""
    window_chars: int = 200      # characters cut on each side of every matched n-gram
    min_piece_chars: int = 200   # a piece left between cuts no longer than this goes too (`pieces`)
    max_matches: int = 10        # more matched n-gram windows than this: the whole document goes (0: never)

    @classmethod
    def from_config(cls, config: dict) -> "MaskRule":
        return cls(int(config["mask_window_chars"]), int(config["mask_min_piece_chars"]), int(config["max_matches"]))


def pieces(text: str, spans: Sequence[Tuple[int, int]], rule: MaskRule) -> List[str]:
    """The text left between the matched spans, each widened by `window_chars` on both sides, as
    lm-eval's Janitor (`_split_chunks`) leaves it, character for character. Its window ends are
    inclusive indices, so: a piece before the first window is kept when longer than
    `min_piece_chars`; a piece between two windows starts at the last character of the window
    before it (kept when, that character included, it is longer than `min_piece_chars`); the piece
    after the last window starts right after it (kept when, with one more character, it would be
    longer). One difference: with `min_piece_chars` 0 the Janitor can end with an empty piece;
    here an empty string is no piece."""
    w, least, size = rule.window_chars, rule.min_piece_chars, len(text)
    out, splice, end = [], 0, -1
    for a, b in merge_spans(spans):
        start = max(0, a - w)
        end = min(size, b - 1 + w)  # the Janitor's inclusive end: matched span end - 1, plus the window
        if start - splice > least:
            out.append(text[splice:start])
        splice = end
    if end < size - least and end + 1 < size:
        out.append(text[end + 1:])
    return out


class Decontaminator:
    """doc → (doc or drop reason, Finding or None)."""

    def __init__(self, index: BenchmarkIndex, mode: str, mask: MaskRule = MaskRule()):
        if mode not in MODES:
            raise ValueError(f"decontamination.mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.index, self.mode, self.mask = index, mode, mask

    def __call__(self, doc: Document):
        if self.mode == "off" or not self.index.by_n:
            return doc, None
        ids = self.index.word_ids(normalize_words(doc.text))
        found = self.index.matches(ids)
        if not found:
            return doc, None
        words, spans = word_spans(doc.text)
        if len(words) != len(ids):   # never expected (see word_spans); then trust the span path
            ids = self.index.word_ids(words)
            found = self.index.matches(ids)
            if not found:
                return doc, None
        per: Dict[str, dict] = {}
        windows: Dict[str, set] = {}
        char_spans = []
        for p, n, g in found:
            name = self.index.benchmarks[self.index.item_bench[g]]["name"]
            entry = per.setdefault(name, {"items": set()})
            entry["items"].add(self.index.item_id[g])
            windows.setdefault(name, set()).add((p, n))
            char_spans.append((spans[p][0], spans[p + n - 1][1]))
        benchmarks = {name: {"ngrams": len(windows[name]), "items": sorted(e["items"])}
                      for name, e in sorted(per.items())}
        merged = merge_spans(char_spans)
        finding = Finding(doc.source, doc.id, doc.url, benchmarks, len(merged) if self.mode == "mask" else 0)
        first = self.index.benchmarks[self.index.item_bench[found[0][2]]]["name"]
        if self.mode == "drop":
            return f"{REASON_OVERLAP}:{first}", finding
        if self.mode == "mask":
            if self.mask.max_matches and len({(p, n) for p, n, _ in found}) > self.mask.max_matches:
                return f"{REASON_TOO_DIRTY}:{first}", finding
            kept = pieces(doc.text, merged, self.mask)
            if not any(normalize_words(piece) for piece in kept):
                return REASON_MASKED_EMPTY, finding
            return doc.with_text(PIECE_SEPARATOR.join(kept)), finding
        return doc, finding


# --------------------------------------------------------------------------------------------
# The report (contamination.json)
# --------------------------------------------------------------------------------------------
def report(index_info: dict, mode: str, checked: Dict[str, int], findings: Iterable[Finding]) -> dict:
    """contamination.json from the per-source document counts and every document's Finding.

    `sources.<s>`: documents_checked, flagged, matched_ngrams, masked_spans, per benchmark the
    flagged documents, matched n-grams and leaked items, and `documents` (id, url, benchmarks).
    `benchmarks.<b>`: path, n, items, ngrams indexed, and the items that leaked (with the number
    of documents holding each).
    """
    sources = {s: {"documents_checked": int(c), "flagged": 0, "matched_ngrams": 0, "masked_spans": 0,
                   "benchmarks": {}, "documents": []} for s, c in sorted(checked.items())}
    leaked: Dict[str, Dict[str, int]] = {b["name"]: {} for b in index_info["benchmarks"]}
    for f in sorted(findings, key=lambda f: (f.source, f.id)):
        s = sources.setdefault(f.source, {"documents_checked": 0, "flagged": 0, "matched_ngrams": 0,
                                          "masked_spans": 0, "benchmarks": {}, "documents": []})
        s["flagged"] += 1
        s["masked_spans"] += f.masked_spans
        s["documents"].append({"id": f.id, "url": f.url, "benchmarks": f.benchmarks})
        for name, m in f.benchmarks.items():
            s["matched_ngrams"] += m["ngrams"]
            b = s["benchmarks"].setdefault(name, {"documents": 0, "matched_ngrams": 0, "items": set()})
            b["documents"] += 1
            b["matched_ngrams"] += m["ngrams"]
            b["items"].update(m["items"])
            for item in m["items"]:
                leaked.setdefault(name, {})[item] = leaked.setdefault(name, {}).get(item, 0) + 1
    for s in sources.values():
        s["benchmarks"] = {k: dict(v, items=sorted(v["items"])) for k, v in sorted(s["benchmarks"].items())}
    benchmarks = {}
    for b in index_info["benchmarks"]:
        items = leaked.get(b["name"], {})
        benchmarks[b["name"]] = dict(b, leaked_items=len(items),
                                     leaked=[{"id": k, "documents": v} for k, v in sorted(items.items())])
    return {"mode": mode, "normalisation": index_info["normalisation"], "ngrams_indexed": index_info["ngrams"],
            "benchmarks": benchmarks, "sources": sources,
            "flagged": sum(s["flagged"] for s in sources.values())}


def merge_sources(report_now: dict, earlier: dict, keep) -> dict:
    """contamination.json of this run plus the entries of `earlier`'s sources named in `keep` (an
    earlier run's dumps this run did not curate): per-benchmark leaks recounted over all sources."""
    sources = dict(report_now["sources"])
    for name in keep:
        if name in earlier.get("sources", {}) and name not in sources:
            sources[name] = earlier["sources"][name]
    sources = dict(sorted(sources.items()))
    leaked: Dict[str, Dict[str, int]] = {}
    for s in sources.values():
        for d in s["documents"]:
            for name, m in d["benchmarks"].items():
                for item in m["items"]:
                    leaked.setdefault(name, {})[item] = leaked.setdefault(name, {}).get(item, 0) + 1
    benchmarks = {}
    for name, b in report_now["benchmarks"].items():
        items = leaked.get(name, {})
        benchmarks[name] = dict(b, leaked_items=len(items),
                                leaked=[{"id": k, "documents": v} for k, v in sorted(items.items())])
    return dict(report_now, sources=sources, benchmarks=benchmarks,
                flagged=sum(s["flagged"] for s in sources.values()))


NORMALISATION = "punctuation and symbols deleted, casefolded, split at whitespace (GPT-3)"


def index_info(index: BenchmarkIndex) -> dict:
    return {"benchmarks": [dict(b) for b in index.benchmarks], "ngrams": index.ngrams, "normalisation": NORMALISATION}


def benchmark_info(benchmarks: Sequence[Benchmark], rule: NRule = NRule()) -> dict:
    """`index_info` of the index these benchmarks make, without hashing anything."""
    rows, total = [], 0
    for bench in benchmarks:
        n = rule.n_of(bench)
        count = whole = 0
        for item in bench.items:
            lengths = segment_lengths(item)
            for s, k in rule.windows(item, n):
                count += lengths[s] - k + 1
                whole += k < n
        rows.append({"name": bench.name, "path": bench.path, "n": n, "items": len(bench.items), "ngrams": count,
                     "whole_items": whole})
        total += count
    return {"benchmarks": rows, "ngrams": total, "normalisation": NORMALISATION}


def report_section(contamination: dict) -> dict:
    """The run report's rows: per benchmark its n, items and leaked items; per source flagged docs.

    For pipeline/report.py (report.html), from a loaded contamination.json.
    """
    return {
        "mode": contamination["mode"],
        "benchmarks": [{"name": k, "n": v["n"], "items": v["items"], "leaked_items": v["leaked_items"]}
                       for k, v in sorted(contamination["benchmarks"].items())],
        "sources": [{"name": k, "documents_checked": v["documents_checked"], "flagged": v["flagged"],
                     "matched_ngrams": v["matched_ngrams"]} for k, v in sorted(contamination["sources"].items())],
    }
