"""Distributed connected components (large-star / small-star) against a plain union-find."""
import random

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.util import assert_that, equal_to

from dedup.components import ConnectedComponents, large_star, small_star


def union_find_roots(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: find(node) for node in parent}


def random_graph(seed, nodes=120, edges=110):
    rng = random.Random(seed)
    names = [f"doc/{rng.getrandbits(40):010x}" for _ in range(nodes)]
    out = [tuple(rng.sample(names, 2)) for _ in range(edges)]
    chain = sorted(names[:15], key=lambda _: rng.random())  # a long path: needs several rounds
    out += list(zip(chain, chain[1:]))
    out += out[:10]  # duplicate edges
    rng.shuffle(out)
    return out


def counter(result, name):
    found = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(c.committed for c in found)


def test_phases_on_small_cases():
    # large-star at 3 with neighbours 1, 5, 7: the larger ones move to 1.
    assert sorted(large_star("3", ["5", "1", "7"])) == [("5", "1", True), ("7", "1", True)]
    # small-star at 7 with neighbours 3, 1, 9: 3 and 7 move to 1; 9 is not its business.
    assert sorted(small_star("7", ["3", "1", "9"])) == [("3", "1", True), ("7", "1", False)]
    # A finished star changes nothing.
    assert list(large_star("1", ["4", "5"])) == [("4", "1", False), ("5", "1", False)]
    assert list(small_star("4", ["1"])) == [("4", "1", False)]


def test_components_match_union_find_and_converge():
    edges = random_graph(seed=11)
    roots = union_find_roots(edges)
    expected = sorted({(node, root) for node, root in roots.items() if node != root})
    with beam.Pipeline(runner="FnApiRunner") as p:
        out = p | beam.Create(edges) | ConnectedComponents(rounds=6, namespace="cc_test") | beam.Distinct()
        assert_that(out, equal_to(expected))
    result = p.result
    assert counter(result, "cc_round01_changed") > 0
    assert counter(result, "cc_last_round_changed") == 0


def test_too_few_rounds_never_removes_a_whole_component():
    edges = [(f"n{i:02d}", f"n{i + 1:02d}") for i in range(40)]  # a path: slow to converge
    with beam.Pipeline(runner="FnApiRunner") as p:
        out = p | beam.Create(edges) | ConnectedComponents(rounds=1, namespace="cc_short")
        larger = out | beam.Map(lambda e: e[0]) | beam.Distinct()
        # n00 is the smallest node: it never has a smaller neighbour, so it always survives.
        assert_that(larger | beam.Filter(lambda n: n == "n00"), equal_to([]))
    assert counter(p.result, "cc_last_round_changed") > 0  # the counter says: not converged
