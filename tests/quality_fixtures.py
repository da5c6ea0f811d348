"""Real text from ../shared/data for the quality and C4 tests (no invented text)."""
from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ENWIKI = SHARED / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
C4_FILES = sorted((SHARED / "c4").glob("*.json.gz"))
CCNET = SHARED / "ccnet" / "cc_en_head-0091.jsonl.gz"
WET = SHARED / "commoncrawl" / "whirlwind.warc.wet.gz"
WARC_EXCERPT = SHARED / "commoncrawl" / "CC-MAIN-2020-34-excerpt.warc.gz"


@lru_cache(maxsize=None)
def wiki_pages() -> Tuple:
    from pipeline.sources.wikipedia_dump import iter_pages

    with open(ENWIKI, "rb") as f:
        return tuple(p for p in iter_pages(f) if p.ns == 0 and p.redirect is None)


@lru_cache(maxsize=None)
def wiki_texts() -> Tuple[str, ...]:
    from pipeline.sources.wikitext import wikitext_to_text

    return tuple(wikitext_to_text(p.text) for p in wiki_pages())


@lru_cache(maxsize=None)
def wiki_openings() -> Tuple[str, ...]:
    """The opening text (lead section) of each article: what cc_net trains its LMs on."""
    from pipeline.quality import opening_wikitext
    from pipeline.sources.wikitext import wikitext_to_text

    return tuple(o for o in (wikitext_to_text(opening_wikitext(p.text)).strip() for p in wiki_pages()) if o)


@lru_cache(maxsize=None)
def c4_records() -> Tuple[dict, ...]:
    return tuple(json.loads(line) for path in C4_FILES for line in gzip.open(path, "rt", encoding="utf-8"))


@lru_cache(maxsize=None)
def ccnet_records() -> Tuple[dict, ...]:
    return tuple(json.loads(line) for line in gzip.open(CCNET, "rt", encoding="utf-8"))


def web_prose() -> List[str]:
    """Real English web pages that C4 / CCNet kept."""
    return [r["text"] for r in c4_records()] + [r["text"] for r in ccnet_records()]


@lru_cache(maxsize=None)
def boilerplate_pages() -> Tuple[Tuple[str, str], ...]:
    """(url, text) of real crawled pages made mostly of navigation menus and boilerplate: the
    whirlwind WET page (a wiki's menus) and the English-menu pages of the CC-MAIN-2020-34 excerpt."""
    from resiliparse.extract.html2text import extract_plain_text
    from warcio.archiveiterator import ArchiveIterator

    pages = []
    with open(WET, "rb") as f:
        for r in ArchiveIterator(f):
            if r.rec_type == "conversion":
                pages.append((r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read().decode("utf-8")))
    with open(WARC_EXCERPT, "rb") as f:
        for r in ArchiveIterator(f):
            url = r.rec_headers.get_header("WARC-Target-URI") or ""
            if r.rec_type == "response" and ("037426.cn" in url or "0900-hovenier" in url or "tippspiel" in url):
                html = r.content_stream().read().decode("utf-8", "replace")
                pages.append((url, extract_plain_text(html)))
    return tuple(pages)
