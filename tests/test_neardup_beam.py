"""NearDedup in Beam on real text: near copies go, half-similar documents stay, chains collapse to
their longest document (the survivor rule), the survivors are the same with one worker and with
several processes, and datatrove's band-collision semantics removes what banding pairs."""
import gzip
import json
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from common import events as ev
from common.record import Document
from dedup import minhash as mh
from dedup.lsh import NearDedup, resolve_config, survivor_key

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RECIPE = Path(__file__).resolve().parents[1] / "pipeline" / "recipes" / "llama" / "neardup.json"


def c4_texts():
    texts = []
    for path in sorted((DATA / "c4").glob("olmo-c4-sample.*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
    return [t for t in texts if len(t.split()) >= 150]


def book_words():
    with gzip.open(DATA / "books" / "clean" / "pg39397.txt.gz", "rt", encoding="utf-8") as f:
        return f.read().split()


def exact_jaccard(a, b):
    sa, sb = (set(mh.shingles(mh.normalize_words(t))) for t in (a, b))
    return len(sa & sb) / len(sa | sb)


def edit_every(text, n):
    words = text.split()
    return " ".join(f"edited{i}" if i % n == n // 2 else w for i, w in enumerate(words))


def build_corpus():
    """(documents, expected surviving ids, Jaccard facts the test relies on). Of each group of
    near-duplicates the document with the smallest `survivor_key` stays: the longest text."""
    texts = c4_texts()
    words = book_words()
    docs, expected = [], set()

    def add(doc_id, text, source="c4"):
        docs.append(Document(doc_id, source, text, None, {}))
        return docs[-1]

    def keep_longest(group):
        expected.add(min(group, key=survivor_key).id)

    # Near copies (Jaccard >= 0.9): the longer one stays. The edits of pairs 1 and 2 ("edited<i>"
    # for a word) lengthen the copy, which stays; pair 0's ("e<i>") shorten it: the original stays.
    near = [(texts[i], edit_every(texts[i], 150).replace("edited", "e" if i == 0 else "edited")) for i in range(3)]
    for i, (a, b) in enumerate(near):
        keep_longest([add(f"c4/near{i}-b", a), add(f"c4/near{i}-z", b)])
    assert [f"c4/near{i}-{'b' if i == 0 else 'z'}" in expected for i in range(3)] == [True] * 3
    # Half similar (Jaccard about 0.5): a shared 130-word part, then 60 different words each.
    half = []
    for i in range(3):
        shared = words[2000 + 400 * i: 2130 + 400 * i]
        a = " ".join(shared + texts[3 + i].split()[:60])
        b = " ".join(shared + texts[6 + i].split()[:60])
        half.append((a, b))
        keep_longest([add(f"c4/half{i}-a", a)])
        keep_longest([add(f"c4/half{i}-b", b)])
    # A chain of 10 overlapping windows: neighbours >= 0.9, the two ends about 0.5. One survives.
    chain = [" ".join(words[12 * i: 12 * i + 300]) for i in range(10)]
    names = ["k", "m", "p", "r", "d", "b", "t", "w", "x", "y"]
    keep_longest([add(f"c4/chain-{name}", text) for name, text in zip(names, chain)])
    # Unrelated documents, a document without words, a short one.
    for i, t in enumerate(texts[9:14]):
        keep_longest([add(f"c4/other{i}", t)])
    keep_longest([add("c4/empty", " ... ")])
    keep_longest([add("c4/short", "Just four words here.")])
    # The same near pair in another source: kept under per_source scope (each source against
    # itself), removed under cross_source.
    keep_longest([add("wikipedia/near0-copy", edit_every(texts[0], 140), source="wikipedia")])
    facts = {
        "near": [exact_jaccard(a, b) for a, b in near],
        "half": [exact_jaccard(a, b) for a, b in half],
        "chain_steps": [exact_jaccard(a, b) for a, b in zip(chain, chain[1:])],
        "chain_ends": exact_jaccard(chain[0], chain[-1]),
    }
    return docs, expected, facts


def recipe_config(**overrides):
    """llama's neardup section, turned on (llama-plus's setting), with `overrides`."""
    config = json.loads(RECIPE.read_text())
    config["enabled"] = True
    config.update(overrides)
    return config


def run_near_dedup(docs, config, options=None):
    """Run NearDedup; return (kept ids, removed ids, drop events, pipeline result)."""
    runner = None if options else "FnApiRunner"
    p = beam.Pipeline(runner=runner, options=PipelineOptions(options or []))
    kept, drops = p | beam.Create(docs) | NearDedup(config, "NearDedup[test]")
    # Collected through assert_that so the check also runs inside separate worker processes.
    ids = kept | "Ids" >> beam.Map(lambda d: d.id)
    ev_rows = drops | "Rows" >> beam.Map(tuple)
    return p, ids, ev_rows


def test_corpus_has_the_intended_similarities():
    _, _, facts = build_corpus()
    assert all(j >= 0.9 for j in facts["near"]), facts["near"]
    assert all(0.45 <= j <= 0.55 for j in facts["half"]), facts["half"]
    assert all(j >= 0.9 for j in facts["chain_steps"]), facts["chain_steps"]
    assert facts["chain_ends"] <= 0.55, facts["chain_ends"]


def _check(docs, expected, config, options=None):
    nbytes = {d.id: d.nbytes for d in docs}
    source = {d.id: d.source for d in docs}
    removed = sorted(set(nbytes) - expected)
    p, ids, ev_rows = run_near_dedup(docs, config, options)
    assert_that(ids, equal_to(sorted(expected)), label="Survivors")
    expected_events = [tuple(ev.drop(source[i], "near_duplicate", nbytes[i])) for i in removed]
    assert_that(ev_rows, equal_to(expected_events), label="DropEvents")
    result = p.run()
    result.wait_until_finish()
    return result


def counter(result, name):
    found = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(c.committed for c in found)


def test_near_copies_removed_half_similar_kept_chain_collapses():
    docs, expected, _ = build_corpus()
    result = _check(docs, expected, recipe_config())
    assert counter(result, "removed") == len(docs) - len(expected)
    assert counter(result, "docs_without_words") == 1
    assert counter(result, "cc_last_round_changed") == 0  # converged within cc_rounds
    # Banding put a half-similar pair in one bucket; the shingle-set check turned the edge down.
    assert counter(result, "edges_rejected") > 0


def test_cross_source_scope_removes_copies_across_sources():
    docs, expected, _ = build_corpus()
    group = [d for d in docs if d.id in ("c4/near0-b", "c4/near0-z", "wikipedia/near0-copy")]
    expected = (expected - {d.id for d in group}) | {min(group, key=survivor_key).id}
    assert "wikipedia/near0-copy" not in expected   # the c4 copy is longer
    _check(docs, expected, recipe_config(scope="cross_source"))


def test_the_longest_survives_whatever_the_order_and_ids():
    """The survivor rule reads the documents alone: reversing the input, or giving the shorter copy
    the smaller id, keeps the same texts."""
    docs, expected, _ = build_corpus()
    kept_texts = {d.text for d in docs if d.id in expected}
    near = [d for d in docs if d.id.startswith("c4/near")]
    assert all(d.text in kept_texts for d in near if len(d.text) == max(len(e.text) for e in near if e.id[:9] == d.id[:9]))
    renamed = [d._replace(id=f"c4/{len(docs) - i:04d}") for i, d in enumerate(docs)][::-1]
    expected_renamed = {d.id for d in renamed if d.text in kept_texts}
    assert len(expected_renamed) == len(expected)
    _check(renamed, expected_renamed, recipe_config())
    # With a timestamp, the earliest of two copies of one length stays.
    twins = [Document("c4/a", "c4", docs[0].text, None, {"timestamp": "2019-05-01T00:00:00Z"}),
             Document("c4/b", "c4", docs[0].text, None, {"timestamp": "2019-04-01T00:00:00Z"}),
             Document("c4/c", "c4", docs[0].text, None, {})]
    _check(twins, {"c4/b"}, recipe_config())


def test_band_collision_removes_what_banding_pairs():
    """datatrove's semantics: every pair sharing a band is a duplicate, no Jaccard check; the
    half-similar pairs that banding put together go too."""
    docs, _, _ = build_corpus()
    config = recipe_config(duplicates="band_collision", batch_docs=8, apply_shards=5)
    removed = reference_removed(docs, config)
    jaccard_removed = reference_removed(docs, recipe_config())
    assert jaccard_removed < removed   # strictly more: a half-similar pair shares a band
    result = _check(docs, {d.id for d in docs} - removed, config)
    # Nothing is verified: the distinct band-collision edges are counted as such.
    assert counter(result, "edges_distinct") > 0
    assert counter(result, "edges_rejected") == 0 and counter(result, "edges_verified") == 0


def test_same_survivors_with_two_worker_processes():
    docs, expected, _ = build_corpus()
    options = ["--runner=DirectRunner", "--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    # Small batches and few shards: work really spreads over both processes.
    _check(docs, expected, recipe_config(batch_docs=4, apply_shards=7), options)


def test_disabled_passes_everything():
    docs, _, _ = build_corpus()
    _check(docs, {d.id for d in docs}, recipe_config(enabled=False))


def test_config_is_checked():
    with pytest.raises(ValueError):
        resolve_config({"scope": "global"})
    with pytest.raises(ValueError):
        resolve_config({"num_perm": 64, "bands": 14, "rows": 8})
    assert resolve_config(recipe_config())["bands"] == 14


def reference_removed(docs, config):
    """The removed ids by the module docstring's definition, without Beam: band buckets, each member
    linked to each smaller member (by `survivor_key`) among the bucket's `compare_smallest`
    smallest when the true Jaccard of their shingle sets (by the definition, from the texts)
    passes, or always under `band_collision`; union-find components, everything but each
    component's smallest removed."""
    cfg = resolve_config(config)
    hasher = mh.MinHasher(cfg["num_perm"], cfg["seed"], cfg["shingle_size"])
    sigs, has = hasher.signatures([d.text for d in docs])
    bands = mh.band_hashes(sigs, cfg["bands"], cfg["rows"])
    node = {d.id: survivor_key(d) for d in docs}
    text_of = {node[d.id]: d.text for i, d in enumerate(docs) if has[i]}
    buckets = {}
    for i, d in enumerate(docs):
        if has[i]:
            scope = d.source if cfg["scope"] == "per_source" else ""
            for band, h in enumerate(bands[i].tolist()):
                buckets.setdefault((scope, band, h), []).append(node[d.id])
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    checked = {}
    for members in buckets.values():
        members = sorted(set(members))
        for i, v in enumerate(members):
            for m in members[:min(i, cfg["compare_smallest"])]:
                if (v, m) not in checked:
                    checked[v, m] = (1.0 if cfg["duplicates"] == "band_collision"
                                     else mh.shingle_set_jaccard(text_of[v], text_of[m], cfg["shingle_size"]))
                if checked[v, m] >= cfg["jaccard_threshold"]:
                    rv, rm = find(v), find(m)
                    parent[max(rv, rm)] = min(rv, rm)
    removed_nodes = {x for x in parent if find(x) != x}
    return {d.id for d in docs if node[d.id] in removed_nodes}


def families_corpus(seed=7):
    """Many near-duplicate families (exact copies, light and heavier edits, half-similar texts) over
    three sources, so buckets hold several documents and components span several edges."""
    import random

    rng = random.Random(seed)
    texts = c4_texts()[:120]
    docs = []
    for i, text in enumerate(texts):
        source = ("c4", "web", "wikipedia")[i % 3]
        docs.append(Document(f"{source}/{rng.getrandbits(48):012x}", source, text, None, {"i": i}))
        for j in range(rng.randrange(5)):
            variant = rng.choice([text, edit_every(text, 150), edit_every(text, 40), edit_every(text, 8)])
            copy_source = rng.choice([source, "c4"])
            docs.append(Document(f"{copy_source}/{rng.getrandbits(48):012x}", copy_source, variant, None, {"j": j}))
    docs.append(Document("c4/empty", "c4", " ... ", None, {}))
    rng.shuffle(docs)
    return docs


@pytest.mark.parametrize("scope", ["per_source", "cross_source"])
def test_survivors_match_a_reference_without_beam(scope):
    docs = families_corpus()
    # Few shards and small batches: buckets of many bands share a group, edges cross shards.
    config = recipe_config(scope=scope, batch_docs=16, bucket_shards=3, apply_shards=5)
    removed = reference_removed(docs, config)
    assert 20 <= len(removed) <= len(docs) - 20  # the corpus really has families to collapse
    expected = {d.id for d in docs} - removed
    result = _check(docs, expected, config)
    assert counter(result, "cc_last_round_changed") == 0
    assert counter(result, "removed") == len(removed)


def test_counts_written_as_json_floats_still_work():
    # JSON recipes may say 5.0: float shard keys would never meet the int keys of the signatures.
    assert type(resolve_config(recipe_config(apply_shards=5.0))["apply_shards"]) is int
    docs = families_corpus()
    config = recipe_config(batch_docs=16.0, bucket_shards=3.0, apply_shards=5.0)
    removed = reference_removed(docs, recipe_config(batch_docs=16, bucket_shards=3, apply_shards=5))
    assert removed
    _check(docs, {d.id for d in docs} - removed, config)
