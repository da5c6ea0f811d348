"""The CommonCrawl path end to end on real text: WET files built from the real C4 sample, the real
Common Crawl WET/WARC samples, bad gzip members, and a WET file served over HTTP."""
import gzip
import hashlib
import json
import shutil

import pyarrow.parquet as pq
import pytest

from pipeline.sources.wikipedia_dump import iter_pages
from pipeline.sources.wikitext import wikitext_to_text
from tests.conftest import SHARED, run_pipeline
from tests.http_server import serve
from tests.wet_builder import wet_bytes

# The reading, line dedup and language id of the CommonCrawl path alone: the quality step skipped on
# purpose (the run records it as the user's choice), line dedup over the whole run.
ISOLATE = ["--stages=curate", "--sources=commoncrawl", "--set", "commoncrawl.quality=false",
           "--set", "neardup.enabled=false", "--set", "commoncrawl.line_dedup.scope=global"]
NAV = "Home\nNews\nSport\nContact us\nCookie policy\n© 2023 Example Media Ltd"


def c4_docs():
    docs = []
    for name in ("olmo-c4-sample.01.json.gz", "olmo-c4-sample.02.json.gz", "olmo-c4-sample.03.json.gz"):
        with gzip.open(SHARED / "c4" / name, "rt") as f:
            docs += [json.loads(line) for line in f]
    return docs


def wikipedia_articles(n=6):
    """Plain text of the n longest real enwiki articles (the project's own wikitext cleaner)."""
    with open(SHARED / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2", "rb") as f:
        pages = [p for p in iter_pages(f) if p.ns == 0 and not p.redirect]
    texts = sorted(((len(p.text), p.title, wikitext_to_text(p.text)) for p in pages), reverse=True)[:n]
    return [(f"https://en.wikipedia.org/wiki/{title.replace(' ', '_')}", text) for _, title, text in texts]


def pages():
    """English C4 pages and Wikipedia articles wrapped in a shared site menu, a 299- and a
    300-character page."""
    docs = [(d["url"], d["text"]) for d in c4_docs() if len(d["text"]) >= 400] + wikipedia_articles()
    out = [(url, NAV + "\n" + text) for url, text in docs]
    prose = c4_docs()[1]["text"].replace("\n", " ")
    out.append(("https://example.org/short", prose[:299]))
    out.append(("https://example.org/just-long-enough", prose[1000:1300]))
    return out


def stats_of(out):
    return json.loads((out / "stats.json").read_text())["sources"]["commoncrawl"]


def rows(out):
    tables = sorted((out / "curated" / "commoncrawl").glob("*.parquet"))
    return [r for t in tables for r in pq.read_table(t).to_pylist()]


@pytest.fixture(scope="module")
def wet_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("wet")
    (d / "c4pages.warc.wet.gz").write_bytes(wet_bytes(pages()))
    shutil.copy(SHARED / "commoncrawl" / "whirlwind.warc.wet.gz", d / "whirlwind.warc.wet.gz")
    # A copy of a real-text WET file whose third gzip member is corrupted in its middle.
    data = bytearray(wet_bytes(pages()[:6], date="2023-03-01T00:00:00Z"))
    members = [i for i in range(len(data)) if data[i:i + 3] == b"\x1f\x8b\x08"]
    start = members[3]
    data[start + 30:start + 60] = bytes(30)
    (d / "corrupt.warc.wet.gz").write_bytes(bytes(data))
    return d


@pytest.fixture(scope="module")
def cc_run(wet_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cc") / "out"
    proc = run_pipeline(f"--output={out}", f"--commoncrawl_input={wet_dir}/*.wet.gz", *ISOLATE)
    (out.parent / "run.stderr").write_text(proc.stderr)
    return out


def test_quality_skipped_on_purpose_is_recorded_as_the_users_choice(cc_run):
    stats = json.loads((cc_run / "stats.json").read_text())
    assert stats["recipe_complete"] is False
    assert stats["incomplete"] == [{"source": "commoncrawl", "step": "quality", "by": "user", "reason":
                                    "skipped on purpose: commoncrawl.quality=false (no perplexity buckets, no "
                                    "Wikipedia-reference classifier)"}]
    summary = (cc_run.parent / "run.stderr").read_text().split("RECIPE INCOMPLETE", 1)[1]
    assert summary.splitlines()[1].startswith("  - commoncrawl: quality (the user's choice): skipped on purpose")
    page = (cc_run / "report.html").read_text()
    assert page.index("commoncrawl: quality (the user&#x27;s choice)") < page.index("<h2>")
    assert "quality reference LM" not in (cc_run.parent / "run.stderr").read_text()  # no model trains or scores


def test_conservation_and_reasons(cc_run):
    s = stats_of(cc_run)
    assert s["conserved"] and s["docs_in"] == s["docs_out"] + sum(s["dropped"].values())
    assert s["dropped"]["too_short"] >= 1
    assert s["dropped"]["language_not_kept"] == 1  # the Aragonese Wikipedia page of whirlwind
    assert s["dropped"]["bad_input:corrupt_gzip"] == 1
    # corrupt.wet repeats 5 records of c4pages.wet (the same WARC-Record-IDs): one copy of each is
    # a duplicate_id before line dedup, which would otherwise find every line of both copies
    # repeated and empty all 10.
    assert s["dropped"]["duplicate_id"] == 5 and "line_dedup_empty" not in s["dropped"]
    quarantine = [json.loads(l) for l in (cc_run / "quarantine.jsonl").read_text().splitlines()]
    assert [q["reason"] for q in quarantine] == ["bad_input:corrupt_gzip"]
    assert quarantine[0]["path"].endswith("corrupt.warc.wet.gz")


def test_short_page_dropped_and_300_kept(cc_run):
    urls = {r["url"] for r in rows(cc_run)}
    assert "https://example.org/short" not in urls
    assert "https://example.org/just-long-enough" in urls


def test_menu_lines_removed_and_meta(cc_run):
    out = rows(cc_run)
    assert out and all("Cookie policy" not in r["text"] for r in out)
    meta = json.loads(out[0]["meta"])
    assert meta["language"] == "en" and meta["language_score"] >= 0.5
    assert meta["nlines"] < meta["original_nlines"]
    assert len({r["id"] for r in out}) == len(out)


def test_corrupt_member_keeps_other_records(wet_dir, tmp_path):
    out = tmp_path / "out"
    run_pipeline(f"--output={out}", f"--commoncrawl_input={wet_dir}/corrupt.warc.wet.gz", *ISOLATE)
    s = stats_of(out)
    # 6 conversion records written; one member corrupt → 5 read as documents + 1 bad unit.
    assert s["docs_in"] == 6 and s["dropped"]["bad_input:corrupt_gzip"] == 1
    assert s["docs_out"] + s["dropped"].get("line_dedup_empty", 0) + s["dropped"].get("too_short", 0) == 5


def test_two_runs_identical(cc_run, wet_dir, tmp_path):
    out = tmp_path / "again"
    run_pipeline(f"--output={out}", f"--commoncrawl_input={wet_dir}/*.wet.gz", *ISOLATE)
    digest = lambda o: {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in (o / "curated" / "commoncrawl").glob("*.parquet")}
    assert digest(out) == digest(cc_run)
    assert (out / "stats.json").read_text() == (cc_run / "stats.json").read_text()


def test_wet_over_http_with_503s_and_a_paths_listing(tmp_path):
    wet = wet_bytes(pages()[:5])
    # b holds a's pages as other records (other WARC-Record-IDs): the same content, not the same record
    again = wet_bytes(pages()[1:5] + pages()[:1])
    listing = gzip.compress(b"crawl-data/a.warc.wet.gz\ncrawl-data/b.warc.wet.gz\ncrawl-data/c.warc.wet.gz\n", mtime=0)
    files = {"/crawl-data/a.warc.wet.gz": wet, "/crawl-data/b.warc.wet.gz": again, "/wet.paths.gz": listing}
    with serve(files, {"/crawl-data/a.warc.wet.gz": [503, 503]}) as srv:
        out = tmp_path / "out"
        args = (f"--output={out}", f"--commoncrawl_input={srv.base_url}/wet.paths.gz",
                "--set", f"commoncrawl.base_url={srv.base_url}", "--set", "commoncrawl.max_files=2",
                *ISOLATE,
                # cc_net's scope (llama's own, after ISOLATE's global): groups of 50 of the dump's
                # 1,600 shards. A 3-file listing puts a and b in shards 533 and 1066, groups 10
                # and 21, so b's copies of a's pages survive line dedup and exact dedup removes them.
                "--set", "commoncrawl.line_dedup.scope=groups", "--stages=curate")
        run_pipeline(*args)
        assert srv.requests.count("/crawl-data/a.warc.wet.gz") == 3  # two 503s, then success
        assert "/crawl-data/c.warc.wet.gz" not in srv.requests  # capped at 2 files
        # The same command again: a URL may have changed behind its name, so curation is not skipped.
        again = run_pipeline(*args)
        assert "curate: runs (no resume): http://127.0.0.1" in again.stderr, again.stderr[-2000:]
        assert json.loads((out / "run.json").read_text())["skipped"] == []
        assert srv.requests.count("/crawl-data/a.warc.wet.gz") == 4
    s = stats_of(out)
    assert s["conserved"] and s["docs_in"] == 10
    assert s["dropped"]["exact_duplicate"] == 5  # b repeats a


@pytest.mark.parametrize("count", [1, 2, 3, 50, 1599, 1600, 1601, 4000, 80000])
def test_cc_shard_is_cc_nets_shard_of_the_file(count):
    from pipeline.sources.commoncrawl import cc_shard

    # cc_net CCShardReader.segments: shard i reads files [i*n//1600, (i+1)*n//1600).
    owner = {}
    for i in range(1600):
        for j in range(i * count // 1600, (i + 1) * count // 1600):
            owner[j] = i
    assert [cc_shard(j, count, 1600) for j in range(count)] == [owner[j] for j in range(count)]


def test_title_line_goes_to_meta_and_min_chars_counts_the_body(tmp_path):
    body = c4_docs()[1]["text"].replace("\n", " ")[:300]
    title = "A title of forty characters, give or take"
    wet = tmp_path / "t.warc.wet.gz"
    wet.write_bytes(wet_bytes([("https://example.org/a", body, title),
                               ("https://example.org/b", body[:299] + "\n", title + " " * 5)]))
    out = tmp_path / "out"
    run_pipeline(f"--output={out}", f"--commoncrawl_input={wet}", *ISOLATE)
    kept = rows(out)
    assert [r["url"] for r in kept] == ["https://example.org/a"]  # b's body is 299 characters
    assert kept[0]["text"] == body and json.loads(kept[0]["meta"])["title"] == title
    assert stats_of(out)["dropped"] == {"too_short": 1}


def test_warc_input_html_extracted(tmp_path):
    out = tmp_path / "out"
    run_pipeline(f"--output={out}", f"--commoncrawl_input={SHARED}/commoncrawl/CC-MAIN-2020-34-excerpt.warc.gz",
                 "--set", "commoncrawl.language.languages=[\"en\",\"zh\",\"ru\"]", *ISOLATE)
    s = stats_of(out)
    assert s["docs_in"] == 16 and s["conserved"]  # 16 responses; requests/metadata are not documents
    texts = [r["text"] for r in rows(out)]
    assert texts and not any("<html" in t.lower() or "<div" in t.lower() for t in texts)


def test_language_model_from_url_downloaded_checked_and_cached(wet_dir, tmp_path):
    lid = (SHARED / "models" / "lid.176.ftz").read_bytes()
    with serve({"/models/lid.176.ftz": lid}, {"/models/lid.176.ftz": [503]}) as srv:
        out = tmp_path / "out"
        env_cache = tmp_path / "cache"
        import os
        os.environ["LLAMADATA_CACHE"] = str(env_cache)
        try:
            run_pipeline(f"--output={out}", f"--commoncrawl_input={wet_dir}/whirlwind.warc.wet.gz",
                         "--set", f"models.lid.path={srv.base_url}/models/lid.176.ftz", *ISOLATE)
            bad = run_pipeline(f"--output={tmp_path / 'bad'}", f"--commoncrawl_input={wet_dir}/whirlwind.warc.wet.gz",
                               "--set", f"models.lid.path={srv.base_url}/models/lid.176.ftz",
                               "--set", "models.lid.sha256=" + "0" * 64, *ISOLATE, check=False)
        finally:
            del os.environ["LLAMADATA_CACHE"]
        assert srv.requests.count("/models/lid.176.ftz") >= 2  # a 503, then the download; cached after
        assert stats_of(out)["dropped"] == {"language_not_kept": 1}
        assert bad.returncode != 0 and "SHA-256" in bad.stderr
