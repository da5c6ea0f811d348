from tests import source_harness as harness
"""Books: Gutenberg stripping against the reference clean texts, containment dedup (measured,
deterministic, through Beam's shuffle), and the Source end to end with bad inputs."""
import gzip
import json
from pathlib import Path

import apache_beam as beam
import apache_beam.testing.util
import pytest

from common.record import Document, make_id, to_row
from dedup.book_overlap import BookOverlapDedup, containment, shingles, verdict
from pipeline import recipe as recipe_mod
from pipeline.sources import books
from pipeline.sources.gutenberg import decode_book, strip_gutenberg

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "books"
SAMPLES = ROOT / "samples" / "books"
RECIPE = recipe_mod.load()
BOOK_IDS = ["pg10026", "pg10089", "pg1013", "pg33956", "pg39397"]


def collect(pcoll_docs, pcoll_events, out):
    pcoll_docs | "D" >> beam.Map(lambda d: json.dumps(to_row(d), sort_keys=True)) | "WD" >> beam.io.WriteToText(str(out / "docs"))
    pcoll_events | "E" >> beam.Map(lambda e: json.dumps(e._asdict(), sort_keys=True)) | "WE" >> beam.io.WriteToText(str(out / "events"))


def read_back(out):
    docs = sorted((json.loads(l) for f in sorted(out.glob("docs*")) for l in f.read_text().splitlines()), key=lambda r: r["id"])
    events = [json.loads(l) for f in sorted(out.glob("events*")) for l in f.read_text().splitlines()]
    return docs, events


def run_source(inputs, tmp_path, name="run"):
    out = tmp_path / name
    with beam.Pipeline(runner="FnApiRunner") as p:
        collect(*(p | books.Source([str(i) for i in inputs], RECIPE, None)), out)
    return read_back(out)


def accounting(docs, events):
    return harness.accounting(docs, events)[1]


@pytest.mark.parametrize("book", BOOK_IDS)
def test_gutenberg_strip_matches_reference(book):
    raw = decode_book(gzip.open(DATA / "raw" / f"{book}.txt.gz").read())
    clean = decode_book(gzip.open(DATA / "clean" / f"{book}.txt.gz").read())
    assert strip_gutenberg(raw) == clean


def test_no_start_marker_is_none():
    assert strip_gutenberg("Just a text\nwith no markers\n") is None


def test_containment_measured_on_samples():
    texts = {}
    for name in ("pg90001.txt", "pg90002.txt", "pg90003.txt"):
        texts[name] = strip_gutenberg(decode_book((SAMPLES / name).read_bytes()))
    s = {k: shingles(v) for k, v in texts.items()}
    near = containment(s["pg90003.txt"], s["pg90001.txt"])
    assert 0.9 < near < 1.0  # a near-copy: a few words differ
    assert containment(s["pg90001.txt"], s["pg90003.txt"]) > 0.9
    assert containment(s["pg90002.txt"], s["pg90001.txt"]) < 0.05
    # sampling by hash keeps the estimate close to the exact value
    sampled = containment(shingles(texts["pg90003.txt"], sample_mod=2), shingles(texts["pg90001.txt"], sample_mod=2))
    assert abs(sampled - near) < 0.05


def test_verdict_rules():
    assert verdict("a", 100, "b", 100, 95, 0.9) == ("b", "a", 0.95)  # mutual: smaller id survives
    assert verdict("a", 50, "b", 100, 48, 0.9) == ("a", "b", 0.96)  # a inside b: a goes, whatever the ids
    assert verdict("a", 100, "b", 50, 48, 0.9) == ("b", "a", 0.96)
    assert verdict("a", 100, "b", 100, 90, 0.9) is None  # "more than" 90%


def test_overlap_dedup_in_beam_is_order_independent(tmp_path):
    book = strip_gutenberg(decode_book(gzip.open(DATA / "raw" / "pg10089.txt.gz").read())).replace("\r\n", "\n")
    paragraphs = book.split("\n\n")
    half = "\n\n".join(paragraphs[: len(paragraphs) // 2])
    other = strip_gutenberg(decode_book(gzip.open(DATA / "raw" / "pg33956.txt.gz").read()))
    # ids chosen so the contained half has the *smaller* id: containment, not id order, decides.
    docs = [
        Document("books/0-half", "books", half, None, {}),
        Document("books/1-whole", "books", book, None, {}),
        Document("books/2-other", "books", other, None, {}),
    ]
    results = []
    for name, order in (("fwd", docs), ("rev", docs[::-1])):
        out = tmp_path / name
        with beam.Pipeline(runner="FnApiRunner") as p:
            kept, events = p | beam.Create(order) | BookOverlapDedup(shingle_words=5, threshold=0.9)
            collect(kept, events, out)
        results.append(read_back(out))
    assert results[0] == results[1]  # same survivors and drops whatever the input order
    kept_ids = [d["id"] for d in results[0][0]]
    assert kept_ids == ["books/1-whole", "books/2-other"]
    assert [e["reason"] for e in results[0][1]] == ["book_overlap"]


def test_source_real_books_and_samples(tmp_path):
    inputs = sorted((DATA / "raw").glob("*.txt.gz")) + sorted(SAMPLES.glob("*.txt")) + sorted(SAMPLES.glob("*.jsonl"))
    docs, events = run_source(inputs, tmp_path)
    drops = accounting(docs, events)
    assert drops == {"book_overlap": 1}
    ebooks = sorted(json.loads(d["meta"]).get("ebook") or "-" for d in docs)
    assert ebooks == sorted(["10026", "10089", "1013", "33956", "39397", "90002", "-"] + [
        min(("90001", "90003"), key=lambda n: make_id("books", "gutenberg", n, f"pg{n}.txt"))])
    by_ebook = {json.loads(d["meta"]).get("ebook"): d for d in docs}
    clean = decode_book(gzip.open(DATA / "clean" / "pg1013.txt.gz").read())
    assert by_ebook["1013"]["text"] == clean.replace("\r\n", "\n").strip("\n")
    for d in docs:
        assert "PROJECT GUTENBERG EBOOK" not in d["text"] and "\r" not in d["text"]
    again, _ = run_source(inputs[::-1], tmp_path, "again")
    assert again == docs


def test_bad_books_counted_and_quarantined(tmp_path):
    whole = (DATA / "raw" / "pg10089.txt.gz").read_bytes()
    cut = tmp_path / "pg10089-cut.txt.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    latin = tmp_path / "latin-undeclared.txt"
    latin.write_bytes(("Une histoire courte. " * 40 + "Caf\u00e9 cr\u00e8me.\n").encode("latin-1"))
    declared = tmp_path / "pg90009.txt"
    text = (SAMPLES / "pg90002.txt").read_text().replace("Character set encoding: ASCII", "Character set encoding: ISO-8859-1")
    declared.write_bytes(text.replace("Hester Lyle", "H\u00e9l\u00e8ne Lyle").replace("EBook #90002", "EBook #90009").encode("latin-1"))
    jsonl = tmp_path / "books3-bad.jsonl"
    jsonl.write_text('{"text": 1}\n')
    inputs = [cut, latin, declared, jsonl, DATA / "raw" / "pg1013.txt.gz"]
    docs, events = run_source(inputs, tmp_path)
    accounting(docs, events)  # conservation
    bad = {(e["reason"], Path(e["path"]).name) for e in events if e["reason"].startswith("bad_input:")}
    assert bad == {
        ("bad_input:truncated_gzip", cut.name),
        ("bad_input:not_utf8", latin.name),
        ("bad_input:malformed_json", "books3-bad.jsonl:1"),
    }
    ebooks = {json.loads(d["meta"]).get("ebook") for d in docs}
    assert ebooks == {"1013", "90009"}  # nothing else lost
    assert any("H\u00e9l\u00e8ne Lyle" in d["text"] for d in docs)  # read as the header declares


def test_corpora_do_not_share_ids():
    g = books.book_from_text("x/pg90001.txt", (SAMPLES / "pg90001.txt").read_text())
    b = books.book_from_text("y/90001.txt", "A plain Books3 text.")
    assert g.meta["corpus"] == "gutenberg" and b.meta["corpus"] == "books3" and g.id != b.id


def test_one_ebook_in_two_files_keeps_one(tmp_path):
    # A Gutenberg mirror holds one eBook in several files (10089.txt, 10089-8.txt): same eBook
    # number, near-identical text. One copy must survive, whatever the order (both once shared an id,
    # and the book then overlapped "another" book that was itself: both were dropped).
    raw = gzip.open(DATA / "raw" / "pg10089.txt.gz").read().decode("utf-8")
    paragraphs = raw.split("\r\n\r\n")
    edited = "\r\n\r\n".join(paragraphs[:60] + paragraphs[61:])
    (tmp_path / "10089.txt").write_text(raw, encoding="utf-8", newline="")
    (tmp_path / "10089-8.txt").write_text(edited, encoding="utf-8", newline="")
    inputs = [tmp_path / "10089.txt", tmp_path / "10089-8.txt"]
    docs, events = run_source(inputs, tmp_path)
    assert accounting(docs, events) == {"book_overlap": 1}
    assert [json.loads(d["meta"])["ebook"] for d in docs] == ["10089"]
    assert run_source(inputs[::-1], tmp_path, "again")[0] == docs


def test_boilerplate_shingle_is_skipped_without_reading_its_whole_group():
    # A shingle shared by a million books is a hot key: the pair step must give up once it has
    # seen more than max_books distinct books, not hold the whole group first.
    from dedup.book_overlap import _Pairs

    def group(limit):
        for i in range(10 ** 6):
            if i > limit:
                raise AssertionError("read past max_books + 1")
            yield f"books/{i:07d}"

    assert list(_Pairs(max_books=3).process((7, group(limit=3)))) == []
    out = list(_Pairs(max_books=3).process((7, iter(["books/b", "books/a", "books/b"]))))
    assert [o for o in out if not isinstance(o, beam.pvalue.TaggedOutput)] == [(("books/a", "books/b"), 1)]
    assert sorted(o.value for o in out if isinstance(o, beam.pvalue.TaggedOutput)) == [("books/a", 1), ("books/b", 1)]


def _book_words(name):
    return strip_gutenberg(decode_book(gzip.open(DATA / "raw" / f"{name}.txt.gz").read())).split()


def test_boilerplate_skipped_on_both_sides_of_the_containment():
    # A: a shared front matter H (in three books: boilerplate once max_books_per_shingle = 2) and
    # 8,000 words of its own; B: A's own words and 3,000 more. Without H, A lies wholly inside B.
    # Counting H in A's denominator only would give 8,000 / 10,000 = 0.8 and keep A.
    front = _book_words("pg39397")[:2000]
    own = _book_words("pg1013")[:8000]
    extra = _book_words("pg10089")[:3000]
    texts = {
        "books/a": front + own,
        "books/b": own + extra,
        "books/c": front + _book_words("pg33956")[:3000],
        "books/d": front + _book_words("pg10026")[:3000],
    }
    docs = [Document(i, "books", " ".join(t), None, {}) for i, t in texts.items()]
    sa, sb = shingles(docs[0].text), shingles(docs[1].text)
    hot = shingles(docs[0].text) & shingles(docs[2].text) & shingles(docs[3].text)
    assert containment(sa, sb) < 0.9 < containment(sa - hot, sb - hot)
    for max_books, dropped in ((2, ["books/a"]), (1000, [])):
        with beam.Pipeline(runner="FnApiRunner") as p:
            kept, events = p | beam.Create(docs) | BookOverlapDedup(max_books_per_shingle=max_books)
            beam.testing.util.assert_that(kept | beam.Map(lambda d: d.id),
                                          beam.testing.util.equal_to(sorted(set(texts) - set(dropped))))
