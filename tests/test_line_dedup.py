"""CCNet line dedup: each rule, on real text, in plain Python and through Beam's shuffle."""
import gzip
import hashlib
import json

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from common import events as ev
from common.record import Document, make_id
from dedup import line_dedup as ld
from dedup.exact import ExactDedup
from pipeline.sources.commoncrawl import exact_dedup_can_remove
from pipeline.stats import sum_triples
from tests.conftest import SHARED
from tests.real_pages import real_pages


def c4_texts():
    with gzip.open(SHARED / "c4" / "olmo-c4-sample.01.json.gz", "rt") as f:
        return [json.loads(line)["text"] for line in f]


def test_normalisation_rules():
    assert ld.normalize_line("  Hello World  ") == "hello world"  # strip + lowercase
    assert ld.normalize_line("Call 555-1234 or ٣") == "call 000-0000 or 0"  # every digit, any script
    assert ld.normalize_line("«Bonjour» — dit-il…") == "bonjour  dit-il"  # Unicode punctuation deleted
    assert ld.normalize_line("tab\x01\x7f\x9fend") == "tabend"  # control characters deleted
    assert ld.normalize_line("ASCII, punctuation! stays.") == "ascii, punctuation! stays."


def test_whole_text_normalisation_equals_per_line():
    # Real pages, plus lines where the fast path could differ from cc_net's per-line steps:
    # Unicode whitespace and control characters at the edges, a Greek final sigma before a control
    # character, dotted capital I, non-ASCII and fullwidth digits, C1 controls, ASCII-only lines.
    tricky = "\n".join([" \x01 Lead", "\x1cEdge\x1f", "\u3000Ideographic space\u00a0", "ΟΔΟΣ\x01Β ΟΔΟΣ",
                        "İSTANBUL", "Price ١٢٣ or １２３", "a\x85b\x9fc", "\tTabbed 42\r", "", "   ", "«Quoted» — …",
                        # final sigmas at the ends and starts of neighbouring non-ASCII lines
                        "ΟΔΟΣ", "Σ ΟΔΟΣ.", "ΟΔΟΣ’", "’ΣΑ", "ΑΣ\u0301", "ΟΔΟΣ\x7f"])
    for text in c4_texts() + [tricky] + [p.text for p in real_pages()]:
        lines = text.split("\n")
        assert ld.normalized_lines(text) == [ld.normalize_line(l) for l in lines]


def test_hash_is_first_8_bytes_of_sha1_as_uint64():
    line = "hello world 0000"
    expected = np.frombuffer(hashlib.sha1(line.encode()).digest()[:8], dtype="<u8")[0]
    assert ld.line_hash(line) == int(expected)
    hashes, idx = ld.line_hashes("Hello World 2023\n\n   \nother")
    assert hashes.dtype == np.dtype("<u8") and int(hashes[0]) == int(expected)
    assert idx.tolist() == [0, 3]  # empty lines carry no hash


def test_first_copy_removed_too_and_empty_lines_go():
    a, b = c4_texts()[:2]
    shared = "Subscribe to our newsletter for updates!"
    docs = [a + "\n\n" + shared, shared.upper() + "\n" + b]
    out = ld.dedup_in_memory(docs)
    assert shared not in out[0] and shared.upper() not in out[1]  # both copies, the first included
    assert "" not in out[0].split("\n")  # empty lines removed
    assert out[0] == "\n".join(l for l in a.split("\n") if l.strip())


def test_repeats_inside_one_document_keep_their_first_copy_as_in_cc_net():
    # cc_net dedup.py: HashesCollector adds a document's hashes as one batch (a line repeated only
    # inside it is seen "once"), then finalize_doc keeps the first copy of each line in the doc.
    text, other = c4_texts()[2], c4_texts()[3]
    lines = text.split("\n")
    first, second = lines[0], lines[1]
    doc = text + "\n" + first + "\n" + first.upper()  # first three times in one document only
    out = ld.dedup_in_memory([doc, other])[0].split("\n")
    assert out == lines  # one copy of `first`, at its first position; nothing else changes
    # A line repeated inside one document AND present in another goes from both, every copy.
    out = ld.dedup_in_memory([text + "\n" + second, other + "\n" + second])
    assert second not in out[0].split("\n") and second not in out[1].split("\n")


def _docs(texts, source="commoncrawl"):
    return [Document(make_id(source, str(i)), source, t, None, {"cc_shard": i}) for i, t in enumerate(texts)]


def test_beam_line_dedup_matches_reference_and_drops_emptied_docs():
    texts = c4_texts()
    nav = "Home\nAbout us\nContact\nPrivacy Policy"
    texts = [nav + "\n" + t for t in texts] + [nav, texts[0]]  # every line of these repeats elsewhere
    texts[1] += "\n" + texts[1].split("\n")[-1] * 1 + "\n" + texts[1].split("\n")[-1]  # in-document repeats
    docs = _docs(texts)
    expected = ld.dedup_in_memory(texts)
    want = sorted((d.id, e) for d, e in zip(docs, expected) if e)
    emptied = sum(1 for e in expected if not e)
    assert emptied == 3  # the nav-only page, the copy of texts[0], and texts[0] itself
    with beam.Pipeline(runner="FnApiRunner") as p:
        out, events = p | beam.Create(docs) | ld.LineDedup(hash_shards=3, doc_shards=4)
        assert_that(out | beam.Map(lambda d: (d.id, d.text)), equal_to(want), label="texts")
        drops = events | "Drops" >> beam.Filter(lambda e: e.kind == ev.DROP)
        assert_that(drops | beam.Map(lambda e: e.reason), equal_to([ld.REASON_EMPTY] * emptied), label="drops")
        # What it cut from the documents it kept (stats.json's funnel): the reference's, summed per bundle.
        cut = [(d.text, e) for d, e in zip(docs, expected) if e and e != d.text]
        trimmed = (events | "Trims" >> beam.Filter(lambda e: e.kind == ev.TRIM)
                   | beam.Map(lambda e: (e.count, e.nbytes, e.chars)) | beam.CombineGlobally(sum_triples))
        assert_that(trimmed, equal_to([(len(cut), sum(len(t.encode()) - len(e.encode()) for t, e in cut),
                                        sum(len(t) - len(e) for t, e in cut))]), label="trimmed")
        # The exact-dedup digest is that of the kept lines, i.e. of the output text's own lines.
        assert_that(out | beam.Map(lambda d: d.meta["line_digest"] == ld.content_digest(ld.line_hashes(d.text)[0])),
                    equal_to([True] * len(want)), label="digests")


def test_scope_groups_keep_cross_group_repeats():
    text = c4_texts()[0]
    docs = _docs([text, text])  # cc_shard 0 and 1
    with beam.Pipeline(runner="FnApiRunner") as p:
        out, _ = p | beam.Create(docs) | ld.LineDedup(2, 2, scope_of=lambda d: d.meta["cc_shard"] // 1)
        assert_that(out | beam.Map(lambda d: d.text), equal_to([ld.dedup_in_memory([text])[0]] * 2))


def test_global_scope_leaves_exact_dedup_nothing_to_remove():
    # Exact copies, copies differing only in case/digits/punctuation (same normalised lines),
    # a page that is its own line repeated, near copies and pages sharing a menu: after global
    # line dedup no two documents have the same kept lines, which is why the CommonCrawl path
    # leaves exact dedup out under the global scope (and keeps it for shard groups).
    texts = []
    for n in ("01", "02", "03"):
        with gzip.open(SHARED / "c4" / f"olmo-c4-sample.{n}.json.gz", "rt") as f:
            texts += [json.loads(line)["text"] for line in f]
    nav = "Home\nAbout us\nContact"
    variants = [t.upper().replace("0", "7") for t in texts[8:12]] + [t + "\n" + t for t in texts[12:15]]
    near = [t + "\nOne extra closing line." for t in texts[15:19]]
    all_texts = [nav + "\n" + t for t in texts] + texts[:8] + variants + near
    survivors = sum(1 for t in ld.dedup_in_memory(all_texts) if t)
    assert survivors >= 10
    with beam.Pipeline(runner="FnApiRunner") as p:
        out, _ = p | beam.Create(_docs(all_texts)) | ld.LineDedup(hash_shards=3, doc_shards=4)
        kept, removed = out | ExactDedup(ld.line_digest_key)
        assert_that(removed, equal_to([]), label="nothing_removed")
        assert_that(kept | beam.combiners.Count.Globally(), equal_to([survivors]), label="kept")
    assert not exact_dedup_can_remove({"scope": "global"})
    assert exact_dedup_can_remove({"scope": "groups", "group_size": 50})


@pytest.mark.parametrize("keep_first, keep_first_in_doc", [(False, True), (True, False), (False, False)])
def test_bundle_local_decisions_give_the_same_removals_as_one_global_sort(keep_first, keep_first_in_doc):
    """Rows split at random into bundles: what each bundle removes itself (`local_repeats`) plus what
    the hash-shard groups remove from the rows sent on equals `removed_rows` over every row."""
    from dedup.repeats import local_repeats, removed_rows

    rng = np.random.default_rng(0)
    n = 6000
    hashes = rng.integers(0, 400, n).astype(np.uint64)  # many repeats, some hot
    hashes[rng.random(n) < 0.2] = 7  # a hot unit
    docs = rng.integers(0, 300, n)
    k1, k2 = (docs * 2654435761 % 2**61).astype(np.uint64), docs.astype(np.uint64)
    positions = rng.integers(0, 50, n).astype(np.uint32)
    key = lambda rows: {(int(k1[r]), int(k2[r]), int(positions[r])) for r in rows}  # noqa: E731
    expected = key(removed_rows(hashes, k1, k2, positions, keep_first, keep_first_in_doc))
    bundle = rng.integers(0, 7, n)
    removed, sent = set(), []
    for b in range(7):
        rows = np.flatnonzero(bundle == b)
        keep, gone = local_repeats(hashes[rows], k1[rows], k2[rows], positions[rows], keep_first, keep_first_in_doc)
        removed |= key(rows[gone])
        sent.append(rows[keep])
    sent = np.concatenate(sent)
    removed |= key(sent[removed_rows(hashes[sent], k1[sent], k2[sent], positions[sent], keep_first, keep_first_in_doc)])
    assert removed == expected
    assert (hashes == 7).sum() > 1000 and (hashes[sent] == 7).sum() <= 2 * 7  # the hot unit: two rows a bundle
