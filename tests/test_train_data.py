"""The training plan: interleaving, per-token consumption, the audit and its failure modes."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from train_hooks import data as D


CONTEXT = 64


@pytest.mark.parametrize("weights", [[5, 3, 7], [1, 0, 1000, 13], [430, 491, 307], [2, 2, 2, 2]])
def test_interleave_is_a_permutation_that_tracks_the_shares(weights):
    inter = D.Interleave(weights)
    ranks = np.concatenate([inter.rank(s, np.arange(w)) for s, w in enumerate(weights) if w])
    assert sorted(ranks.tolist()) == list(range(inter.n))
    src, seq = inter.range(0, inter.n)
    # any sub-range agrees with the whole order
    a, b = inter.n // 3, inter.n // 3 + max(1, inter.n // 5)
    s2, k2 = inter.range(a, b)
    assert np.array_equal(s2, src[a:b]) and np.array_equal(k2, seq[a:b])
    # each source's sequences appear in order, and every prefix holds its share to within one
    counts = np.zeros(len(weights))
    for n, s in enumerate(src, start=1):
        assert seq[n - 1] == counts[s]
        counts[s] += 1
        assert np.all(np.abs(counts - n * np.asarray(weights) / inter.n) < 1.0 + 1e-9)


def test_plan_consumes_each_token_as_planned(mixture_dir):
    plan = D.MixturePlan(mixture_dir, CONTEXT, seed=0)
    for s in plan.sources:
        assert abs(s.planned_tokens - s.epochs * s.unique_tokens) <= 1   # P = round(e·U)
    # tokens are laid out in samples of context+1; only the last one may be short
    lengths = [smp.n_tokens for smp in plan.samples(0, plan.n_samples)]
    assert sum(lengths) == plan.planned_tokens
    assert all(n == CONTEXT + 1 for n in lengths[:-1]) and 0 < lengths[-1] <= CONTEXT + 1
    # past the end: all-padding samples with no targets
    x, y = plan.tokens(plan.samples(plan.n_samples, 2))
    assert np.all(y == D.IGNORE) and plan.n_targets(plan.n_samples, 2) == 0


def test_epoch_order_changes_with_epoch_and_seed(mixture_dir):
    plan = D.MixturePlan(mixture_dir, CONTEXT)
    c4 = max(plan.sources, key=lambda s: s.n_docs)
    if c4.n_docs < 8:
        pytest.skip("no source with enough documents to tell permutations apart")
    p0, p1 = c4.epoch_order(0, 0)[0], c4.epoch_order(0, 1)[0]
    assert sorted(p0.tolist()) == list(range(c4.n_docs)) and not np.array_equal(p0, p1)
    assert not np.array_equal(p0, D.epoch_permutation(1, c4.name, 0, c4.n_docs))


@pytest.mark.parametrize("world,global_batch", [(1, 8), (4, 16)])
def test_audit_passes(mixture_dir, world, global_batch):
    report = D.audit(mixture_dir, CONTEXT, seed=0, global_batch=global_batch, world=world)
    assert report["ok"], report["problems"]
    for name, src in report["sources"].items():
        assert src["consumed"] == src["planned"] and src["mismatched_tokens"] == 0


def test_audit_cli_exit_codes(mixture_dir, monkeypatch, capsys):
    assert D.main(["--audit", "--data", str(mixture_dir), "--context", str(CONTEXT)]) == 0
    capsys.readouterr()
    # A loader that serves one sample twice (and so skips none) must be caught.
    real = D.MixturePlan.samples

    def duplicating(self, start, count):
        out = real(self, start, count)
        if start <= 5 < start + count:
            out[5 - start] = real(self, 4, 1)[0]
        return out
    monkeypatch.setattr(D.MixturePlan, "samples", duplicating)
    assert D.main(["--audit", "--data", str(mixture_dir), "--context", str(CONTEXT)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert any("consumed other than planned" in p for p in report["problems"])


def test_audit_catches_a_document_without_eos(mixture_dir, tmp_path):
    copy = tmp_path / "mix"
    shutil.copytree(mixture_dir, copy)
    meta = json.loads((copy / "mixture.json").read_text())
    shard = next(iter(meta["sources"].values()))["shards"][0]
    tokens = np.fromfile(copy / shard["bin"], dtype="<u2")
    tokens[-1] = 13  # the last document of the shard now ends without EOS
    tokens.tofile(copy / shard["bin"])
    report = D.audit(copy, CONTEXT)
    assert not report["ok"] and any("EOS" in p for p in report["problems"])


def test_plan_refuses_shards_that_disagree_with_mixture(mixture_dir, tmp_path):
    copy = tmp_path / "mix"
    shutil.copytree(mixture_dir, copy)
    meta = json.loads((copy / "mixture.json").read_text())
    src = next(iter(meta["sources"].values()))
    src["unique_tokens"] += 1
    (copy / "mixture.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unique_tokens"):
        D.MixturePlan(copy, CONTEXT)
