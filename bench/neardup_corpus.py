"""A near-dedup benchmark corpus of a chosen size, built from the real samples in ../shared/data,
with planted copies whose true 5-gram Jaccard is known (generated, never committed).

Distinct documents: C4 pages, Project Gutenberg passages (400 words), Wikipedia article passages
(400 words of wikitext), Stack Exchange posts and BoolQ passages. To reach the size, later laps
suffix every word with the lap number: new words, so new shingles, with the real texts' length
and word distributions (a lap is not a duplicate of another). Planted copies: about
`copy_share` of the documents get one copy, either exact or with a random fraction of its words
replaced by new words (edit rates from 0.1% to 7%, which gives true Jaccard from about 0.5 to
0.99; the Jaccard of each pair is computed from the shingle sets, not assumed).

`build(mb, seed)` returns (documents, planted pairs [(original id, copy id, true Jaccard)]).
"""
from __future__ import annotations

import bz2
import gzip
import html
import json
import random
import re
from pathlib import Path
from typing import List, Tuple

import numpy as np

from bench import real_text
from common.record import Document, make_id
from dedup import minhash as mh

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PASSAGE_WORDS = 400


def _passages(text: str) -> List[str]:
    words = text.split()
    return [" ".join(words[i:i + PASSAGE_WORDS]) for i in range(0, len(words) - PASSAGE_WORDS // 2, PASSAGE_WORDS)]


def base_texts() -> List[str]:
    texts = list(real_text.c4_texts())
    for book in real_text.book_texts():
        texts += _passages(book)
    with bz2.open(next((DATA / "wikipedia").glob("*.bz2")), "rt", encoding="utf-8") as f:
        for match in re.finditer(r"<text[^>]*>(.*?)</text>", f.read(), re.S):
            body = html.unescape(match.group(1))
            if not body.lstrip().lower().startswith("#redirect"):
                texts += _passages(body) or ([body] if len(body.split()) >= 30 else [])
    texts += list(real_text.stackexchange_bodies(30))
    with gzip.open(DATA / "benchmarks" / "boolq_val.llmfoundry.jsonl.gz", "rt", encoding="utf-8") as f:
        seen = set()
        for line in f:
            passage = json.loads(line)["query"].split("\nQuestion:")[0]
            if passage not in seen and len(passage.split()) >= 30:  # BoolQ repeats passages across questions
                seen.add(passage)
                texts.append(passage)
    return texts


def edit(text: str, rate: float, rng: random.Random) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), round(rate * len(words))):
        words[i] = f"e{rng.randrange(10**9)}"
    return " ".join(words)


def build(mb: float, seed: int = 0, copy_share: float = 0.12) -> Tuple[List[Document], List[tuple]]:
    rng = random.Random(seed)
    texts = base_texts()
    docs: List[Document] = []
    planted: List[tuple] = []
    size, i = 0, 0
    while size < mb * 1e6:
        text = texts[i % len(texts)]
        lap = i // len(texts)
        if lap:
            text = " ".join(w + str(lap) for w in text.split())
        doc = Document(make_id("bench", str(i)), "bench", text, None, {})
        docs.append(doc)
        size += len(text.encode("utf-8"))
        if rng.random() < copy_share:
            rate = 0.0 if rng.random() < 0.1 else rng.uniform(0.001, 0.07)
            copy = Document(make_id("bench", str(i), "copy"), "bench", edit(text, rate, rng), None, {})
            docs.append(copy)
            size += len(copy.text.encode("utf-8"))
            planted.append((doc.id, copy.id))
        i += 1
    sets = shingle_sets(docs)
    planted = [(a, b, mh.set_jaccard(sets[a], sets[b])) for a, b in planted]
    return docs, planted


def shingle_sets(docs: List[Document], batch: int = 512) -> dict:
    """id → sorted distinct shingle hashes (the sets near-dedup compares)."""
    hasher = mh.MinHasher(112, 42)
    out = {}
    for lo in range(0, len(docs), batch):
        part = docs[lo:lo + batch]
        _, _, offsets, sets = hasher.sign([d.text for d in part])
        for k, d in enumerate(part):
            out[d.id] = sets[offsets[k]:offsets[k + 1]]
    return out


def max_jaccard_to_others(doc_ids: List[str], sets: dict) -> dict:
    """id → the largest true Jaccard between that document and any other of the corpus, exactly
    (an inverted index of shingle hashes: shared-shingle counts are the intersections)."""
    all_ids = list(sets)
    index = {d: k for k, d in enumerate(all_ids)}
    sizes = np.array([len(sets[d]) for d in all_ids], dtype=np.int64)
    values = np.concatenate([sets[d] for d in all_ids])
    owners = np.repeat(np.arange(len(all_ids)), sizes)
    order = np.argsort(values, kind="stable")
    values, owners = values[order], owners[order]
    out = {}
    for d in doc_ids:
        s = sets[d]
        lo, hi = np.searchsorted(values, s, "left"), np.searchsorted(values, s, "right")
        if not len(s):
            out[d] = 0.0
            continue
        hits = np.concatenate([owners[a:b] for a, b in zip(lo.tolist(), hi.tolist())])
        counts = np.bincount(hits, minlength=len(all_ids))
        counts[index[d]] = 0
        others = np.flatnonzero(counts)
        if not len(others):
            out[d] = 0.0
            continue
        j = counts[others] / (len(s) + sizes[others] - counts[others])
        out[d] = float(j.max())
    return out
