"""Connected components of a graph held in the runner's shuffle: large-star / small-star rounds.

The algorithm is Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014). Nodes
are strings (document ids) and compare as strings. One round is two shuffles:

- large-star at node u: m = min(u, neighbours of u); every neighbour v > u is re-linked to m;
- small-star at node u: m = min(u, neighbours v <= u); u and every neighbour v < u are re-linked
  to m.

Each phase processes every undirected edge exactly once (at one of its two endpoints), so the
number of edges never grows. Both phases keep components connected and never link across
components. At the fixed point every component is a star around its smallest node, and no phase
changes an edge. The survivor of a component is therefore its smallest node, whatever order the
runner delivers the edges in.

Rounds are unrolled in the graph (a Beam pipeline has no loops). The counter
`cc_round<NN>_changed` counts edges re-linked in round NN, and `cc_last_round_changed` those of the
final round: 0 there means converged. If not converged, a node still counts as a duplicate only
when it has a smaller neighbour, so some components may keep more than one document; none loses
all of them.

The phase functions take a re-iterable of neighbours and read it twice (min first, then the
emissions), holding one node id at a time: a node with millions of neighbours costs no memory.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Tuple

import apache_beam as beam

Edge = Tuple[str, str]


def large_star(u: str, neighbours: Iterable[str]) -> Iterator[Tuple[str, str, bool]]:
    """(v, m, changed) for every neighbour v > u: v is linked to m = min(u, neighbours)."""
    m = u
    for v in neighbours:
        if v < m:
            m = v
    for v in neighbours:
        if v > u:
            yield v, m, m != u


def small_star(u: str, neighbours: Iterable[str]) -> Iterator[Tuple[str, str, bool]]:
    """(v, m, changed): u and every neighbour v < u are linked to m = min(u, neighbours <= u)."""
    m = u
    for v in neighbours:
        if v < m:
            m = v
    if m == u:
        return
    for v in neighbours:
        if m < v < u:
            yield v, m, True  # the edge (u, v) became (v, m)
        elif v == m:
            yield u, m, False  # the edge (u, m) stays


def both_directions(edge: Edge) -> Iterator[Edge]:
    a, b = edge
    yield a, b
    yield b, a


class _StarFn(beam.DoFn):
    """One phase at a node; with `both_ways`, each output edge also comes reversed, ready to be
    grouped by node for the next phase (one transform fewer per phase than a separate FlatMap)."""

    def __init__(self, phase, namespace: str, counters: Tuple[str, ...], both_ways: bool = False):
        self.phase = phase
        self.namespace = namespace
        self.counters = counters
        self.both_ways = both_ways

    def setup(self):
        self.changed = [beam.metrics.Metrics.counter(self.namespace, name) for name in self.counters]

    def process(self, element):
        u, neighbours = element
        changed_edges = 0
        for v, m, changed in self.phase(u, neighbours):
            changed_edges += changed
            yield v, m
            if self.both_ways:
                yield m, v
        if changed_edges:
            for counter in self.changed:
                counter.inc(changed_edges)


class ConnectedComponents(beam.PTransform):
    """PCollection[(a, b)] undirected edges → PCollection[(v, m)] with m < v, m in v's component.

    After convergence every (v, m) has m = the smallest node of v's component, one per edge of the
    final stars (duplicates possible when the input had duplicate edges). Nodes without any
    output edge where they are the larger end are the components' smallest nodes.
    """

    def __init__(self, rounds: int, namespace: str = "neardup", label=None):
        super().__init__(label)
        if rounds < 1:
            raise ValueError("rounds must be >= 1")
        self.rounds = rounds
        self.namespace = namespace

    def expand(self, edges):
        # Every phase but the last emits its edges both ways itself: a Beam transform costs tens of
        # milliseconds of pipeline construction and bundle setup on the DirectRunner, whatever its size.
        edges = edges | "BothWays" >> beam.FlatMap(both_directions)
        for r in range(1, self.rounds + 1):
            counters = (f"cc_round{r:02d}_changed",)
            if r == self.rounds:
                counters += ("cc_last_round_changed",)
            for name, phase in (("LargeStar", large_star), ("SmallStar", small_star)):
                last = r == self.rounds and phase is small_star
                edges = (
                    edges
                    | f"{name}{r:02d}/ByNode" >> beam.GroupByKey()
                    | f"{name}{r:02d}/Relink" >> beam.ParDo(_StarFn(phase, self.namespace, counters, not last))
                )
        return edges
