"""Near-dedup decides on the true Jaccard of shingle sets, not on the signature's estimate: planted
pairs of real book text around the threshold (true 5-gram Jaccard 0.74–0.9) go or stay by their
true Jaccard alone, where the 112-value estimate would have decided several of them the other way."""
import gzip
import random
from pathlib import Path

import numpy as np
import pytest

from common.record import Document
from dedup import minhash as mh
from dedup.lsh import bucket_pairs, survivor_key
from tests.test_neardup_beam import _check, counter, recipe_config

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
THRESHOLD = 0.8


def edited(words, rate, rng):
    """A copy of `words` with about `rate` of them replaced by new words."""
    out = list(words)
    for i in rng.sample(range(len(out)), max(1, round(rate * len(out)))):
        out[i] = f"edit{rng.randrange(10**9)}"
    return " ".join(out)


@pytest.fixture(scope="module")
def planted():
    """(documents, ids that must go, true Jaccard per pair, signature estimate per pair)."""
    with gzip.open(DATA / "books" / "clean" / "pg1013.txt.gz", "rt", encoding="utf-8") as f:
        words = f.read().split()
    rng = random.Random(5)
    hasher = mh.MinHasher(112, 42)
    docs, must_go, pairs = [], set(), []
    start, i = 0, 0
    while len(pairs) < 40 and start + 300 < len(words):
        passage = words[start:start + 300]
        start += 1000  # passages far apart in the book: distinct from each other
        original = " ".join(passage)
        copy = edited(passage, rng.uniform(0.012, 0.04), rng)
        j = mh.shingle_set_jaccard(original, copy)
        if not (0.74 <= j <= 0.9) or abs(j - THRESHOLD) < 0.005:
            continue
        sigs, _ = hasher.signatures([original, copy])
        pairs.append((j, mh.jaccard(sigs[0], sigs[1])))
        pair = [Document(f"books/p{i:03d}-a", "books", original, None, {}),
                Document(f"books/p{i:03d}-b", "books", copy, None, {})]
        docs += pair
        if j >= THRESHOLD:   # the shorter goes (dedup.lsh.survivor_key)
            must_go.add(max(pair, key=survivor_key).id)
        i += 1
    return docs, must_go, pairs


def test_the_pairs_straddle_the_threshold_and_the_estimate_misjudges_some(planted):
    _, must_go, pairs = planted
    true_j = [j for j, _ in pairs]
    assert sum(j < THRESHOLD for j in true_j) >= 8 and sum(j >= THRESHOLD for j in true_j) >= 8
    # The test can tell the two verifications apart: with the estimate, these pairs would flip.
    flipped = [(j, e) for j, e in pairs if (j >= THRESHOLD) != (e >= THRESHOLD)]
    assert len(flipped) >= 3, pairs


def test_pairs_decided_by_their_true_jaccard(planted):
    docs, must_go, _ = planted
    # 28 bands of 4 rows: every pair above Jaccard 0.74 is a candidate (P > 0.9999), so what
    # decides is the verification alone.
    config = recipe_config(bands=28, rows=4, batch_docs=16, bucket_shards=3, apply_shards=5)
    result = _check(docs, {d.id for d in docs} - must_go, config)
    assert counter(result, "edges_rejected") > 0


def test_shingle_sets_are_the_definitions():
    with gzip.open(DATA / "books" / "clean" / "pg10089.txt.gz", "rt", encoding="utf-8") as f:
        words = f.read().split()
    texts = [" ".join(words[k:k + n]) for k, n in ((0, 400), (200, 400), (5000, 3), (6000, 0))]
    sigs, has, offsets, sets = mh.MinHasher(112, 42).sign(texts)
    plain, plain_has = mh.MinHasher(112, 42).signatures(texts)
    assert (sigs == plain).all() and (has == plain_has).all() and has.tolist() == [True, True, True, False]
    for i, text in enumerate(texts):
        expected = sorted({mh.shingle_hash(s) for s in mh.shingles(mh.normalize_words(text))})
        assert sets[offsets[i]:offsets[i + 1]].tolist() == expected
    a, b = sets[offsets[0]:offsets[1]], sets[offsets[1]:offsets[2]]
    assert mh.set_jaccard(a, b) == pytest.approx(mh.shingle_set_jaccard(texts[0], texts[1]))
    assert 0.3 < mh.set_jaccard(a, b) < 0.4  # half of each window shared: 196 / 596 shingles
    assert mh.set_jaccard(a, np.zeros(0, np.uint32)) == 0.0


def test_every_bucket_member_is_paired_with_the_smallest_ids():
    # {a, v, w}: a is a banding accident, v and w are copies: (w, v) must be a candidate too.
    assert sorted(bucket_pairs(["a", "v", "w"], 32)) == [("v", "a"), ("w", "a"), ("w", "v")]
    # Beyond compare_smallest, members meet the smallest ids only.
    assert sorted(bucket_pairs(["a", "b", "c", "d"], 2)) == [("b", "a"), ("c", "a"), ("c", "b"),
                                                          ("d", "a"), ("d", "b")]
