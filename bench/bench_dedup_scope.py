"""What CCNet line dedup removes under its two scopes: `groups` (cc_net's, so LLaMA's: 50 of a dump's
1,600 shards, i.e. 1/32 of the dump) and `global` (the whole run; llama-plus).

    .venv/bin/python bench/bench_dedup_scope.py

Measured on the 264 real pages of tests/real_pages.py (every visible line, as Common Crawl's WET
extractor gives them), with `dedup.line_dedup.dedup_in_memory` (cc_net's semantics):
- the characters removed with one scope over all pages, and with the pages dealt at random into
  G groups (G = 2, 4, 8, 32; five deals each), deduplicated per group, as cc_net does per group;
- the copy-count histogram of the lines global dedup removes (k = documents holding the line) and
  the characters in each class.
At dump scale a line held by k documents spread over the dump lands in 32 groups; a copy survives
group dedup when no other copy shares its group: expected surviving share (31/32)^(k-1). That is
printed per k class, so the sample's histogram, or a dump's, turns into the extra removal of global.
"""
from __future__ import annotations

import json
import os
import random
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dedup.line_dedup import dedup_in_memory, line_hashes  # noqa: E402
from pipeline.sources.webtext import wet_title_and_body  # noqa: E402
from tests.real_pages import real_pages  # noqa: E402

CLASSES = [(2, 2), (3, 5), (6, 20), (21, 100), (101, 10 ** 9)]


def removed_chars(texts) -> int:
    return sum(len(t) for t in texts) - sum(len(t) for t in dedup_in_memory(texts))


def grouped_removed(texts, groups: int, seed: int) -> int:
    rng = random.Random(seed)
    dealt = defaultdict(list)
    for t in texts:
        dealt[rng.randrange(groups)].append(t)
    return sum(removed_chars(g) for g in dealt.values())


def copy_histogram(texts):
    docs = defaultdict(int)
    chars = defaultdict(int)
    for t in texts:
        hashes, idx = line_hashes(t)
        lines = t.split("\n")
        for h in set(hashes.tolist()):
            docs[h] += 1
        for h, i in zip(hashes.tolist(), idx.tolist()):
            chars[h] += len(lines[i]) + 1
    out = {}
    for lo, hi in CLASSES:
        sel = [h for h, k in docs.items() if k >= 2 and lo <= k <= hi]
        out[f"{lo}-{hi if hi < 10 ** 9 else 'more'}"] = {
            "lines": len(sel), "chars": sum(chars[h] for h in sel),
            "dump_groups_keep_share": round((31 / 32) ** (lo - 1), 3) if lo == hi else
            f"{(31 / 32) ** (hi - 1):.3f}-{(31 / 32) ** (lo - 1):.3f}" if hi < 10 ** 9 else f"<{(31 / 32) ** (lo - 1):.3f}"}
    return out


def main() -> None:
    texts = [wet_title_and_body(p.title + "\n" + p.text)[1] for p in real_pages()]
    total = sum(len(t) for t in texts)
    out = {"pages": len(texts), "chars": total, "global_removed_share": round(removed_chars(texts) / total, 4),
           "groups_removed_share": {}, "removed_by_copies": copy_histogram(texts)}
    for g in (2, 4, 8, 32):
        shares = [grouped_removed(texts, g, seed) / total for seed in range(5)]
        out["groups_removed_share"][g] = round(sum(shares) / len(shares), 4)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
