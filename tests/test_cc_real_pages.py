"""The default CommonCrawl chain on real crawled pages: a crawl-sized share of the English pages
kept (between a fifth and four fifths, as cc_net's head+middle would), the kept pages cleaner than
the English pages dropped, the title in meta, and the run saying whether the classifier was applied.

Input: the 264 real pages of tests/real_pages.py (trafilatura's 250 evaluation pages, the
CC-MAIN-2020-34 excerpt, dolma's WARC sample) as a WET file with every visible line, as Common
Crawl's extractor writes it; the reference LM trained from the real enwiki sample's openings.
"""
from __future__ import annotations

import json
import statistics

import pyarrow.parquet as pq
import pytest

from pipeline.sources.webtext import wet_title_and_body
from tests.conftest import LID_MODEL, run_pipeline
from tests.quality_fixtures import ENWIKI
from tests.real_pages import real_pages, sentence_line_share, write_wet


def _url(page):
    return page.url if "://" in page.url else "https://" + page.url.split("::", 1)[-1]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    write_wet(real_pages(), d / "real.warc.wet.gz")
    out = d / "out"
    proc = run_pipeline(f"--output={out}", "--stages=curate", "--sources=commoncrawl",
                        f"--commoncrawl_input={d}/real.warc.wet.gz", f"--wikipedia_input={ENWIKI}")
    rows = [r for p in sorted((out / "curated" / "commoncrawl").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    return out, rows, proc.stderr


@pytest.fixture(scope="module")
def english_pages():
    """The English pages with a body of at least min_chars, found independently of the pipeline
    (fastText lid.176 on the newline-stripped body, top-1 en with score >= 0.5)."""
    import fasttext

    lid = fasttext.load_model(str(LID_MODEL))
    out = {}
    for page in real_pages():
        body = wet_title_and_body(page.title + "\n" + page.text)[1]
        if len(body) < 300:
            continue
        labels, scores = lid.predict([body.replace("\n", " ")])
        if labels[0][0] == "__label__en" and scores[0][0] >= 0.5:
            out[_url(page)] = body
    return out


def _short_line_share(text):
    lines = [l for l in text.split("\n") if l.strip()]
    return sum(len(l.split()) <= 3 for l in lines) / len(lines)


def test_a_crawl_sized_share_of_english_pages_is_kept(real_run, english_pages):
    out, rows, _ = real_run
    kept = {r["url"] for r in rows}
    assert kept <= set(english_pages)
    share = len(kept) / len(english_pages)
    assert 0.2 <= share <= 0.8, (len(kept), len(english_pages))
    s = json.loads((out / "stats.json").read_text())["sources"]["commoncrawl"]
    assert s["conserved"] and s["docs_in"] == len(real_pages())
    assert s["dropped"]["perplexity_tail"] > 0 and "wikiref_below_threshold" not in s["dropped"]


def test_kept_pages_are_cleaner_than_the_english_pages_dropped(real_run, english_pages):
    _, rows, _ = real_run
    kept = {r["url"] for r in rows}
    kept_bodies = [b for u, b in english_pages.items() if u in kept]
    dropped_bodies = [b for u, b in english_pages.items() if u not in kept]
    # More lines that end like sentences, fewer menu-like short lines, on the pages as crawled.
    assert statistics.median(map(sentence_line_share, kept_bodies)) > \
        1.3 * statistics.median(map(sentence_line_share, dropped_bodies))
    assert statistics.median(map(_short_line_share, kept_bodies)) < statistics.median(map(_short_line_share, dropped_bodies))


def test_title_kept_in_meta_not_in_text(real_run):
    _, rows, _ = real_run
    titles = {_url(p): p.title for p in real_pages()}
    for r in rows:
        meta = json.loads(r["meta"])
        assert meta["title"] == titles[r["url"]]
        assert meta["bucket"] in ("head", "middle") and meta["perplexity"] > 0 and meta["wikiref_applied"] is False


def test_the_run_says_why_the_classifier_was_not_applied(real_run):
    out, _, log = real_run
    stats = json.loads((out / "stats.json").read_text())
    note = stats["models"]["wikiref_training"]
    assert note["applied"] is False and note["reason"].startswith("not applied: 0 cited pages")
    assert "wikiref classifier not applied: 0 cited pages" in log
    lm = stats["models"]["reference_lm"]["en"]
    assert lm["applied"] and lm["documents"] > 100
    assert (out / "models" / "en.sp.model").exists() and (out / "models" / "en.arpa.bin").exists()


def test_with_wikipedia_input_the_lm_trains_from_it_with_computed_cutoffs(real_run):
    out, _, log = real_run
    run = json.loads((out / "run.json").read_text())
    assert run["quality_models"]["reference_lm"] == {"source": "wikipedia", "trained_from": [str(ENWIKI)]}
    assert run["quality_models"]["wikiref"]["cited_urls_from"] == [str(ENWIKI)]
    assert f"quality reference LM: trained from {ENWIKI}" in log
    assert json.loads((out / "stats.json").read_text())["models"]["perplexity_cutoffs"]["en"]["mode"] == "computed"
