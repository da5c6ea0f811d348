"""The mixture plan (`OUT/mixture.json`): Table 1 shares, unique tokens, budget, planned epochs.

Arithmetic (RECIPE.md, Table 1): the shares are shares of *training* tokens, so for a budget of
`total` tokens source s is planned share_s × total tokens (whole tokens by largest remainder, so
that they sum to `total` exactly), i.e. `share_s × total /
unique_s` epochs over its unique tokens. The default budget is the one at which the anchor source
(CommonCrawl) is planned exactly its Table 1 epochs: total = epochs_cc × unique_cc / share_cc.
Sources of the recipe absent from the run, or left with no tokens (curated to 0 documents), are left
out and the remaining shares rescaled to sum to 1 (unchanged when all are present); mixture.json
names them with their recipe share under `sources_without_tokens`. Without CommonCrawl the anchor
is the present source with the largest share.

Held-out text (recipe section `heldout`, off in llama): per source, a deterministic slice of its
documents (ranked by a hash of source and document number; `fraction` of them, at least
`min_documents`, at most `max_documents`, never all) is listed as `heldout_documents` (document
numbers across the source's shards, in order) with their `heldout_tokens`. The trainer never
schedules them; `unique_tokens` and `documents` count the rest; `train_hooks.eval --heldout` scores
perplexity on them (Paloma-style: text of each curated source the model never saw).
"""
from __future__ import annotations

import zlib
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

FORMAT = "llamadata-mixture/1"
ANCHOR = "commoncrawl"
EPOCHS_DIGITS = 6


def recipe_shares(mixture_recipe: Mapping) -> Dict[str, Dict[str, float]]:
    """{source: {"share", "epochs"}} from the recipe's mixture section, in the recipe's order."""
    return {k: {"share": float(v["share"]), "epochs": float(v["epochs"])}
            for k, v in mixture_recipe.items() if not k.startswith("_")}


def effective_shares(table: Mapping[str, Mapping[str, float]], present: List[str]) -> Dict[str, float]:
    unknown = sorted(set(present) - set(table))
    if unknown:
        raise ValueError(f"sources without a share in the mixture recipe: {', '.join(unknown)}")
    shares = {s: table[s]["share"] for s in table if s in present}
    total = sum(shares.values())
    if total <= 0:
        raise ValueError("the present sources have no share in the mixture recipe")
    if len(shares) == len(table):
        return shares
    return {s: v / total for s, v in shares.items()}


def anchor_source(table: Mapping[str, Mapping[str, float]], unique: Mapping[str, int]) -> str:
    if unique.get(ANCHOR, 0) > 0:
        return ANCHOR
    present = [s for s in table if unique.get(s, 0) > 0]
    if not present:
        raise ValueError("no source has any tokens")
    return max(present, key=lambda s: (table[s]["share"], s))


def default_total(table, shares: Mapping[str, float], unique: Mapping[str, int]) -> int:
    anchor = anchor_source(table, unique)
    return round(table[anchor]["epochs"] * unique[anchor] / shares[anchor])


def apportion(shares: Mapping[str, float], total: int) -> Dict[str, int]:
    """Whole tokens per source that sum to `total` exactly (largest remainder): rounding each
    share × total on its own can leave the sum one or two tokens off the budget."""
    exact = {s: share * total for s, share in shares.items()}
    out = {s: int(v) for s, v in exact.items()}
    left = total - sum(out.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - out[s]), s))[:max(0, left)]:
        out[s] += 1
    return out


def plan(table: Mapping[str, Mapping[str, float]], unique: Mapping[str, int],
         target_tokens: Optional[int] = None) -> Dict[str, Dict]:
    """{"total_tokens", "sources": {s: {"share", "unique_tokens", "epochs", "planned_tokens"}},
    "sources_without_tokens": {s: recipe share}}."""
    present = [s for s in table if unique.get(s, 0) > 0] + sorted(s for s in unique if s not in table and unique[s] > 0)
    if not present:
        raise ValueError("no source has any tokens: nothing to plan")
    shares = effective_shares(table, present)
    total = int(target_tokens) if target_tokens is not None else default_total(table, shares, unique)
    if total <= 0:
        raise ValueError(f"token budget must be positive, got {total}")
    planned = apportion(shares, total)
    sources = {}
    for s, share in shares.items():
        sources[s] = {
            "share": share,
            "unique_tokens": int(unique[s]),
            "epochs": share * total / unique[s],  # full precision: the trainer audits epochs·unique = planned
            "planned_tokens": planned[s],
        }
    without = {s: table[s]["share"] for s in table if s not in shares}
    return {"total_tokens": total, "sources": sources, "sources_without_tokens": without}


def heldout_count(n_docs: int, config: Mapping) -> int:
    k = min(max(int(config["min_documents"]), round(float(config["fraction"]) * n_docs)), int(config["max_documents"]))
    return max(0, min(k, n_docs - 1))   # never the whole source


def heldout_documents(source: str, n_docs: int, config: Mapping) -> List[int]:
    """The held-out document numbers of one source: the k smallest of a per-document hash."""
    k = heldout_count(n_docs, config)
    if k <= 0:
        return []
    # splitmix64 of the document number, salted with the source: no dependence on the run's order.
    x = np.arange(n_docs, dtype=np.uint64) + np.uint64(zlib.crc32(source.encode()) * 0x9E3779B9)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return sorted(int(i) for i in np.argsort(x, kind="stable")[:k])


def build(table, shard_lists: Mapping[str, List[Dict]], vocab_size: int, bos_id: int, eos_id: int,
          target_tokens: Optional[int] = None, tokenizer_path: str = "tokenizer/tokenizer.model",
          doc_lengths: Optional[Mapping[str, Sequence[int]]] = None, heldout: Optional[Mapping] = None) -> Dict:
    """The whole mixture.json object from per-source shard entries (see shards.shard_stats);
    with `heldout` (the recipe section) and every source's document lengths, the held-out slice."""
    held: Dict[str, List[int]] = {}
    held_tokens: Dict[str, int] = {}
    if heldout is not None and doc_lengths is not None:
        for s, lengths in doc_lengths.items():
            held[s] = heldout_documents(s, len(lengths), heldout)
            held_tokens[s] = int(sum(int(lengths[i]) for i in held[s]))
    unique = {s: sum(e["tokens"] for e in entries) - held_tokens.get(s, 0) for s, entries in shard_lists.items()}
    planned = plan(table, unique, target_tokens)
    sources = {}
    for s, p in planned["sources"].items():
        entries = shard_lists[s]
        sources[s] = {
            "share": p["share"],
            "unique_tokens": p["unique_tokens"],
            "documents": sum(e["documents"] for e in entries) - len(held.get(s, [])),
            "epochs": p["epochs"],
            "planned_tokens": p["planned_tokens"],
            "shards": [dict(e) for e in entries],
        }
        if held.get(s):
            sources[s]["heldout_documents"] = held[s]
            sources[s]["heldout_tokens"] = held_tokens[s]
    return {
        "format": FORMAT,
        "tokenizer": tokenizer_path,
        "vocab_size": int(vocab_size),
        "bos_id": int(bos_id),
        "eos_id": int(eos_id),
        "dtype": "uint16",
        "total_tokens": planned["total_tokens"],
        "sources": sources,
        "sources_without_tokens": planned["sources_without_tokens"],
    }
