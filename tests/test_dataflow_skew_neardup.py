"""Near-dedup's hot-key paths change no result: on random inputs with a big bucket and a big star,
the bounded grouping (hot buckets paired against a side input, fanned-out verification, star phases
decided edge by edge at hot nodes) gives exactly what one global in-memory computation gives."""
import random

import apache_beam as beam
import numpy as np
from apache_beam.testing.util import assert_that, equal_to

from dedup.components import ConnectedComponents
from dedup.lsh import bucket_runs, cap_buckets
from tests import skew_probe as sp
from tests.test_neardup_beam import _check, counter, families_corpus, recipe_config, reference_removed
from tests.test_neardup_components import random_graph, union_find_roots


def _distinct_smallest(ids, rows, k):
    return sorted({ids[i] for i in rows})[:k]


def test_capping_is_a_combiner():
    # Capping each part, then the union, keeps each bucket's smallest ids and its row count: the
    # same as capping the whole, whatever the split (so the runner's bundles do not matter).
    rng = random.Random(3)
    n = 600
    bands = np.array([rng.randrange(3) for _ in range(n)], dtype="<u4")
    hashes = np.array([rng.choice([7, 8, 2 ** 63 + 5]) if i % 4 else rng.getrandbits(64) for i in range(n)],
                      dtype="<u8")
    ids = [f"d{rng.randrange(400):04d}" for _ in range(n)]  # some ids twice in a bucket
    keep = 9

    def capped(sel):
        return cap_buckets(bands[sel], hashes[sel], [ids[i] for i in sel], np.ones(len(sel), "<i8"), keep)

    def summary(b, h, i, w):
        return sorted(((int(b[r[0]]), int(h[r[0]])), _distinct_smallest(i, r.tolist(), keep), int(w[r].sum()))
                      for r in bucket_runs(b, h))

    whole = summary(*capped(list(range(n))))
    exact = summary(bands, hashes, ids, np.ones(n, "<i8"))
    assert [(k, m[:keep], w) for k, m, w in exact] == whole
    assert any(w > keep for _, _, w in whole)  # some buckets really were cut
    for _ in range(3):
        order = list(range(n))
        rng.shuffle(order)
        cuts = sorted(rng.sample(range(1, n), 4))
        parts = [capped(order[a:b]) for a, b in zip([0] + cuts, cuts + [n])]
        b = np.concatenate([p[0] for p in parts])
        h = np.concatenate([p[1] for p in parts])
        i = [x for p in parts for x in p[2]]
        w = np.concatenate([p[3] for p in parts])
        assert summary(*cap_buckets(b, h, i, w.copy(), keep)) == whole


def test_components_with_hot_nodes_match_union_find():
    for seed in (0, 1):
        rng = random.Random(seed)
        edges = random_graph(seed)
        hub = "doc/00000"  # a star of 80 around the smallest id, and one around a larger node
        leaves = [f"doc/{rng.getrandbits(40):010x}" for _ in range(80)]
        edges += [(leaf, hub) for leaf in leaves] + [("doc/zzz", leaf) for leaf in leaves[:40]]
        rng.shuffle(edges)
        roots = union_find_roots(edges)
        expected = sorted({(node, root) for node, root in roots.items() if node != root})
        with beam.Pipeline(runner="FnApiRunner") as p:
            out = (p | beam.Create(edges) | ConnectedComponents(rounds=6, namespace="cc_hot", hot_degree=4)
                   | beam.Distinct())
            assert_that(out, equal_to(expected))
        assert counter(p.result, "cc_hot_nodes") > 0
        assert counter(p.result, "cc_last_round_changed") == 0


def test_near_dedup_with_hot_buckets_matches_the_global_reference():
    # Random families of copies over three sources, plus a bucket of 120 near-copies of one page;
    # hot_key_size at compare_smallest + 2 so that many buckets, anchors and nodes take the hot paths.
    docs = families_corpus(seed=5) + sp.near_copies(120, source="c4")
    random.Random(5).shuffle(docs)
    config = recipe_config(batch_docs=16, bucket_shards=3, apply_shards=5, compare_smallest=4, hot_key_size=6)
    removed = reference_removed(docs, config)
    assert len(removed) >= 119 + 20
    result = _check(docs, {d.id for d in docs} - removed, config)
    assert counter(result, "hot_buckets") > 0 and counter(result, "cc_hot_nodes") > 0
    assert counter(result, "cc_last_round_changed") == 0
    assert counter(result, "removed") == len(removed)
