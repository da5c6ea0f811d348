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

Hot nodes. Grouping a phase by node puts a node's every edge in one group: the centre of a big
star (a MinHash bucket of 10^5 near-copies verifies to 10^5 edges at its smallest ids) would be
one key holding them all, on one worker. Both phases need only m(u) = min(u, neighbours of u)
(small-star's min over the neighbours <= u is the same number: u is in it), and then decide each
edge (u, v) alone. So each phase first counts every node's edges and their min, combined per
bundle before the shuffle (`_PartialDegreeFn`, one (count, min) per node and bundle); a node with
more than `hot_degree` edges goes into a side input {u: m(u)} (at most 2|E| / hot_degree of them),
and its edges are decided where they are (`_SplitFn`, the same rule edge by edge) instead of being
grouped. Every other node's group holds at most `hot_degree` edges. The edges out are exactly
those of the plain rounds, so the rounds converge the same.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Tuple

import apache_beam as beam

Edge = Tuple[str, str]


def large_star_edge(u: str, v: str, m: str):
    """Large-star's decision for one edge (u, v) given m = min(u, neighbours of u): (v, m, changed) or None."""
    if v > u:
        return v, m, m != u
    return None


def small_star_edge(u: str, v: str, m: str):
    """Small-star's decision for one edge (u, v) given m = min(u, neighbours of u)."""
    if m == u:
        return None
    if m < v < u:
        return v, m, True  # the edge (u, v) became (v, m)
    if v == m:
        return u, m, False  # the edge (u, m) stays
    return None


def _min_of(u: str, neighbours: Iterable[str]) -> str:
    m = u
    for v in neighbours:
        if v < m:
            m = v
    return m


def large_star(u: str, neighbours: Iterable[str]) -> Iterator[Tuple[str, str, bool]]:
    """(v, m, changed) for every neighbour v > u: v is linked to m = min(u, neighbours)."""
    m = _min_of(u, neighbours)
    for v in neighbours:
        out = large_star_edge(u, v, m)
        if out is not None:
            yield out


def small_star(u: str, neighbours: Iterable[str]) -> Iterator[Tuple[str, str, bool]]:
    """(v, m, changed): u and every neighbour v < u are linked to m = min(u, neighbours <= u)."""
    m = _min_of(u, neighbours)
    if m == u:
        return
    for v in neighbours:
        out = small_star_edge(u, v, m)
        if out is not None:
            yield out


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


class _PartialDegreeFn(beam.DoFn):
    """(u, v) → (u, (edges, min neighbour)) once per node and bundle: the combiner, lifted by hand
    (the shuffle then carries one pair per node and bundle, not one value per edge)."""

    _FLUSH = 1 << 18  # distinct nodes held per bundle at most

    def start_bundle(self):
        self.acc = {}

    def process(self, edge):
        u, v = edge
        acc = self.acc.get(u)
        if acc is None:
            self.acc[u] = [1, v]
        else:
            acc[0] += 1
            if v < acc[1]:
                acc[1] = v
        if len(self.acc) >= self._FLUSH:
            yield from self._drain(False)

    def finish_bundle(self):
        yield from self._drain(True)

    def _drain(self, windowed):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        for u, (n, m) in self.acc.items():
            item = (u, (n, m))
            yield WindowedValue(item, GlobalWindow().max_timestamp(), (GlobalWindow(),)) if windowed else item
        self.acc = {}


class _HotNodesFn(beam.DoFn):
    """(u, [(edges, min neighbour)]) → (u, m(u)) for a node with more than `hot_degree` edges."""

    def __init__(self, hot_degree: int, namespace: str):
        self.hot_degree = hot_degree
        self.namespace = namespace

    def setup(self):
        self.hot = beam.metrics.Metrics.counter(self.namespace, "cc_hot_nodes")

    def process(self, element):
        u, partials = element
        n, m = 0, u
        for count, low in partials:
            n += count
            if low < m:
                m = low
        if n > self.hot_degree:
            self.hot.inc()
            yield u, m


class _SplitFn(beam.DoFn):
    """(u, v): an edge of a hot node u (in the side input {u: m(u)}) is decided here by `edge_rule`
    (output "decided", both ways unless it is the last phase); every other edge goes on to its
    node's group."""

    def __init__(self, edge_rule, namespace: str, counters: Tuple[str, ...], both_ways: bool):
        self.edge_rule = edge_rule
        self.namespace = namespace
        self.counters = counters
        self.both_ways = both_ways

    def setup(self):
        self.changed = [beam.metrics.Metrics.counter(self.namespace, name) for name in self.counters]

    def start_bundle(self):
        self.changed_edges = 0

    def process(self, edge, hot):
        u, v = edge
        m = hot.get(u) if hot else None
        if m is None:
            yield edge
            return
        out = self.edge_rule(u, v, m)
        if out is None:
            return
        a, b, changed = out
        self.changed_edges += changed
        yield beam.pvalue.TaggedOutput("decided", (a, b))
        if self.both_ways:
            yield beam.pvalue.TaggedOutput("decided", (b, a))

    def finish_bundle(self):
        if self.changed_edges:
            for counter in self.changed:
                counter.inc(self.changed_edges)


class ConnectedComponents(beam.PTransform):
    """PCollection[(a, b)] undirected edges → PCollection[(v, m)] with m < v, m in v's component.

    After convergence every (v, m) has m = the smallest node of v's component, one per edge of the
    final stars (duplicates possible when the input had duplicate edges). Nodes without any
    output edge where they are the larger end are the components' smallest nodes. No group holds
    more than `hot_degree` edges (see the module docstring).
    """

    def __init__(self, rounds: int, namespace: str = "neardup", hot_degree: int = 1024, label=None):
        super().__init__(label)
        if rounds < 1:
            raise ValueError("rounds must be >= 1")
        if hot_degree < 1:
            raise ValueError("hot_degree must be >= 1")
        self.rounds = rounds
        self.namespace = namespace
        self.hot_degree = hot_degree

    def expand(self, edges):
        # Every phase but the last emits its edges both ways itself: a Beam transform costs tens of
        # milliseconds of pipeline construction and bundle setup on the DirectRunner, whatever its size.
        edges = edges | "BothWays" >> beam.FlatMap(both_directions)
        for r in range(1, self.rounds + 1):
            counters = (f"cc_round{r:02d}_changed",)
            if r == self.rounds:
                counters += ("cc_last_round_changed",)
            for name, phase, rule in (("LargeStar", large_star, large_star_edge),
                                      ("SmallStar", small_star, small_star_edge)):
                last = r == self.rounds and phase is small_star
                p = f"{name}{r:02d}"
                hot = (
                    edges
                    | f"{p}/Degrees" >> beam.ParDo(_PartialDegreeFn())
                    | f"{p}/DegreesByNode" >> beam.GroupByKey()
                    | f"{p}/HotNodes" >> beam.ParDo(_HotNodesFn(self.hot_degree, self.namespace))
                )
                split = edges | f"{p}/Split" >> beam.ParDo(
                    _SplitFn(rule, self.namespace, counters, not last), beam.pvalue.AsDict(hot)
                ).with_outputs("decided", main="grouped")
                grouped = (
                    split.grouped
                    | f"{p}/ByNode" >> beam.GroupByKey()
                    | f"{p}/Relink" >> beam.ParDo(_StarFn(phase, self.namespace, counters, not last))
                )
                edges = (grouped, split.decided) | f"{p}/Join" >> beam.Flatten()
        return edges
