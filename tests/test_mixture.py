"""Mixture plan arithmetic (RECIPE.md Table 1): shares of training tokens, budget, planned epochs."""
from __future__ import annotations

import pytest

from pipeline import recipe as recipe_mod
from tokenizer import mixture

TABLE = mixture.recipe_shares(recipe_mod.load()["mixture"])
LLAMA_TOTAL = 1_400_000_000_000


def llama_unique_tokens():
    """Unique tokens per source implied by Table 1 at 1.4T training tokens: share × total / epochs."""
    return {s: round(v["share"] * LLAMA_TOTAL / v["epochs"]) for s, v in TABLE.items()}


def test_recipe_mixture_is_table_1():
    assert {s: (v["share"], v["epochs"]) for s, v in TABLE.items()} == {
        "commoncrawl": (0.67, 1.10), "c4": (0.15, 1.06), "github": (0.045, 0.64), "wikipedia": (0.045, 2.45),
        "books": (0.045, 2.23), "arxiv": (0.025, 1.06), "stackexchange": (0.02, 1.03)}
    assert sum(v["share"] for v in TABLE.values()) == pytest.approx(1.0)


def test_table_1_epochs_come_back_from_table_1_token_counts():
    plan = mixture.plan(TABLE, llama_unique_tokens())
    # The default budget anchors CommonCrawl at 1.10 epochs, which gives back LLaMA's 1.4T tokens ...
    assert plan["total_tokens"] == pytest.approx(LLAMA_TOTAL, rel=1e-9)
    # ... and every source's Table 1 epochs.
    for source, entry in plan["sources"].items():
        assert entry["epochs"] == pytest.approx(TABLE[source]["epochs"], abs=1e-6), source
        assert entry["share"] == TABLE[source]["share"]
    # About 1.26T unique tokens, as the paper says.
    assert sum(e["unique_tokens"] for e in plan["sources"].values()) == pytest.approx(1.26e12, rel=0.02)


def test_explicit_budget_scales_every_epoch():
    unique = {"commoncrawl": 1000, "c4": 400, "github": 300, "wikipedia": 20, "books": 30, "arxiv": 50, "stackexchange": 10}
    plan = mixture.plan(TABLE, unique, target_tokens=5000)
    assert plan["total_tokens"] == 5000
    assert plan["sources"]["commoncrawl"]["planned_tokens"] == 3350
    assert plan["sources"]["commoncrawl"]["epochs"] == pytest.approx(3.35)
    assert plan["sources"]["wikipedia"]["epochs"] == pytest.approx(0.045 * 5000 / 20)
    assert plan["sources"]["stackexchange"]["planned_tokens"] == 100
    assert sum(e["planned_tokens"] for e in plan["sources"].values()) == pytest.approx(5000, abs=len(unique))


def test_default_budget_puts_commoncrawl_at_its_table_1_epochs():
    unique = {"commoncrawl": 12345, "c4": 999, "books": 77}
    plan = mixture.plan(TABLE, unique)
    cc = plan["sources"]["commoncrawl"]
    assert cc["epochs"] == pytest.approx(1.10, abs=1e-4)
    # Missing sources are left out; the others keep their relative weights, summing to 1.
    assert set(plan["sources"]) == {"commoncrawl", "c4", "books"}
    shares = {s: e["share"] for s, e in plan["sources"].items()}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["c4"] / shares["books"] == pytest.approx(0.15 / 0.045)


def test_without_commoncrawl_the_largest_share_anchors():
    plan = mixture.plan(TABLE, {"wikipedia": 500, "c4": 2000})
    assert plan["sources"]["c4"]["epochs"] == pytest.approx(1.06, abs=1e-4)


def test_sources_without_tokens_or_share_are_rejected():
    with pytest.raises(ValueError):
        mixture.plan(TABLE, {"commoncrawl": 10, "reddit": 5})
    with pytest.raises(ValueError):
        mixture.plan(TABLE, {"commoncrawl": 0})
    with pytest.raises(ValueError):
        mixture.plan(TABLE, {"commoncrawl": 10}, target_tokens=0)


def test_build_sums_shards_and_follows_the_schema():
    shard = {"bin": "tokens/c4/part-00000-of-00001.bin", "idx": "tokens/c4/part-00000-of-00001.idx",
             "tokens": 70, "documents": 3, "sha256_bin": "a" * 64, "sha256_idx": "b" * 64}
    shard2 = dict(shard, bin="tokens/c4/part-00001-of-00002.bin", tokens=30, documents=2)
    plan = mixture.build(TABLE, {"c4": [shard, shard2]}, 32000, 1, 2, target_tokens=1000)
    assert list(plan) == ["format", "tokenizer", "vocab_size", "bos_id", "eos_id", "dtype", "total_tokens", "sources",
                          "sources_without_tokens"]
    assert plan["format"] == "llamadata-mixture/1" and plan["dtype"] == "uint16"
    c4 = plan["sources"]["c4"]
    assert list(c4) == ["share", "unique_tokens", "documents", "epochs", "planned_tokens", "shards"]
    assert (c4["share"], c4["unique_tokens"], c4["documents"], c4["epochs"], c4["planned_tokens"]) == (1.0, 100, 5, 10.0, 1000)
    assert c4["shards"] == [shard, shard2]


def test_a_source_that_curated_to_nothing_is_named_not_fatal():
    # arxiv curated to 0 documents: no curated file, so no shards (or a shard of 0 tokens).
    shard = {"bin": "tokens/c4/part-00000-of-00001.bin", "idx": "tokens/c4/part-00000-of-00001.idx",
             "tokens": 70, "documents": 3, "sha256_bin": "a" * 64, "sha256_idx": "b" * 64}
    empty = dict(shard, bin="tokens/arxiv/part-00000-of-00001.bin", tokens=0, documents=0)
    for arxiv in ([], [empty]):
        plan = mixture.build(TABLE, {"c4": [shard], "commoncrawl": [dict(shard, tokens=50_000)], "arxiv": arxiv},
                             32000, 1, 2)
        assert set(plan["sources"]) == {"c4", "commoncrawl"}
        assert plan["sources"]["commoncrawl"]["epochs"] == pytest.approx(1.10, abs=1e-4)
        assert sum(e["share"] for e in plan["sources"].values()) == pytest.approx(1.0)
        assert plan["sources_without_tokens"] == {s: v["share"] for s, v in TABLE.items()
                                                  if s not in ("c4", "commoncrawl")}
    # Nothing at all to plan: one clear error, with or without an explicit budget.
    for budget in (None, 1000):
        with pytest.raises(ValueError, match="no source has any tokens"):
            mixture.plan(TABLE, {"commoncrawl": 0, "c4": 0}, target_tokens=budget)
