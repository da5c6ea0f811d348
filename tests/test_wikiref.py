"""Wikipedia-reference classifier: <ref> URLs of the real enwiki sample, URL keys, a real fastText
model trained here, fetching cited pages from a real local HTTP server."""
from __future__ import annotations

import statistics
import time

from common.record import Document
from filters import wikiref
from tests.http_server import serve
from tests.quality_fixtures import boilerplate_pages, c4_records, wiki_pages, wiki_texts


def test_ref_urls_from_real_enwiki_sample():
    pages = {p.title: p for p in wiki_pages()}
    urls = [u for p in wiki_pages() for u in wikiref.extract_ref_urls(p.text)]
    assert len(urls) > 3000
    anarchism = wikiref.extract_ref_urls(pages["Anarchism"].text)
    assert "http://www.marxists.org/archive/malatesta/1930s/xx/toanarchy.htm" in anarchism
    # Only URLs inside <ref>…</ref>: the "External links" section of the article is not cited.
    external = pages["Anarchism"].text.split("==External links==")[-1]
    assert "<ref" not in external
    assert not set(wikiref._URL.findall(external)) & set(anarchism)
    assert all(u.startswith(("http://", "https://")) and not u.endswith((".", ",", "|")) for u in urls)


def test_url_normalisation():
    n = wikiref.normalize_url
    assert n("http://www.Example.com/a/") == n("https://example.com/a") == "example.com/a"
    assert n("https://example.com:443/x?b=2&a=1#part") == "example.com/x?a=1&b=2"
    assert n("https://web.archive.org/web/20121107221404/http://marxists.org/archive/malatesta/1930s/xx/toanarchy.htm") \
        == n("http://www.marxists.org/archive/malatesta/1930s/xx/toanarchy.htm")
    assert n("https://example.com/caf%C3%A9") == n("https://example.com/café")
    assert n("ftp://example.com/x") is None and n("not a url") is None and n("") is None


def test_fast_path_url_keys_equal_the_full_normalisation():
    from tests.real_pages import real_pages

    urls = [u for p in wiki_pages() for u in wikiref.extract_ref_urls(p.text)] + [p.url for p in real_pages()]
    urls += ["https://www.Example.COM.//a//b/", "http://www./x", "https://EXAMPLE.org", "https://a.b/c:d@e!f"]
    assert sum(1 for u in urls if wikiref._SIMPLE_URL.fullmatch(u.strip())) > len(urls) / 3
    saved = wikiref._SIMPLE_URL
    try:
        fast = [wikiref.normalize_url(u) for u in urls]
        wikiref._SIMPLE_URL = __import__("re").compile(r"(?!)")  # never matches: the full path only
        full = [wikiref.normalize_url(u) for u in urls]
    finally:
        wikiref._SIMPLE_URL = saved
    assert fast == full


def test_classifier_scores_wikipedia_like_pages_above_boilerplate(tmp_path):
    wiki = list(wiki_texts())
    web = [r["text"] for r in c4_records()]
    menus = [t for _, t in boilerplate_pages()]
    model = tmp_path / "wikiref.bin"
    params = {"epoch": 50, "lr": 0.2, "dim": 32, "word_ngrams": 2, "seed": 0}
    # Held out: the last 26 articles, the last 2 menu pages.
    wikiref.train_classifier(wiki[:80], web + menus[:2], str(model), params)
    scorer = wikiref.WikirefScorer(str(model))
    held_wiki = [scorer.score(t) for t in wiki[80:]]
    held_menus = [scorer.score(t) for t in menus[2:]]
    assert statistics.median(held_wiki) > max(held_menus), (held_wiki, held_menus)
    assert statistics.median(held_wiki) > 0.8 and min(held_menus) < 0.5
    # Same training text, same model bytes.
    again = tmp_path / "again.bin"
    wikiref.train_classifier(wiki[:80], web + menus[:2], str(again), params)
    assert model.read_bytes() == again.read_bytes()
    # The filter: score in meta, or the drop reason.
    flt = wikiref.WikirefFilter(str(model), threshold=0.5)
    kept = flt(Document("d1", "commoncrawl", wiki[85], None, {}))
    assert isinstance(kept, Document) and kept.meta["wikiref_score"] >= 0.5
    lowest = menus[2:][held_menus.index(min(held_menus))]
    assert flt(Document("d2", "commoncrawl", lowest, None, {})) == wikiref.DROP_REASON


def test_fetch_cited_pages_retries_and_rate_limits():
    html = b"<html><body><nav>Home | About</nav><main><p>" + wiki_texts()[0][:2000].encode() + b"</p></main></body></html>"
    with serve({"/cited": html}, failures={"/cited": [503]}) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        start = time.monotonic()
        got = list(wikiref.fetch_cited_pages([base + "/cited", base + "/missing"], rate_per_s=5.0, retries=2, backoff=0.05))
        elapsed = time.monotonic() - start
    (u1, text, note1), (u2, none, note2) = got
    assert note1 == "ok" and wiki_texts()[0][:200].split()[0] in text
    assert none is None and note2 == "HTTP 404"
    assert server.requests == ["/cited", "/cited", "/missing"]
    assert elapsed >= 2 * (1 / 5.0)  # three requests at most 5 a second
