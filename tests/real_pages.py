"""Real crawled pages from ../shared/data as Common Crawl's WET extractor would give them: every
visible text line kept (resiliparse, no main-content extraction), the HTML title apart.

Sources: the 250 pages of trafilatura's evaluation set (with its truth: main-content and
boilerplate snippets per page), the HTML responses of the CC-MAIN-2020-34 excerpt and of dolma's
WARC sample. `write_wet` writes them as a WET file in Common Crawl's layout (title line first).
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import List, NamedTuple, Optional

from tests.quality_fixtures import SHARED

CC_DIR = SHARED / "commoncrawl"
TRAFILATURA = CC_DIR / "trafilatura-eval-pages.warc.gz"
TRUTH = CC_DIR / "trafilatura-eval-pages.truth.json"
OTHER_WARCS = (CC_DIR / "CC-MAIN-2020-34-excerpt.warc.gz", CC_DIR / "dolma-sample-0001.warc.gz")


class Page(NamedTuple):
    url: str
    title: str
    text: str
    truth: Optional[dict]  # trafilatura's {"with": [...], "without": [...]} where known


def _html_pages(path) -> List[tuple]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    from resiliparse.parse.html import HTMLTree
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with open(path, "rb") as f:
        for r in ArchiveIterator(f):
            if r.rec_type != "response":
                continue
            ctype = (r.http_headers.get_header("Content-Type") or "") if r.http_headers else ""
            if "html" not in ctype.lower():
                continue
            raw = r.content_stream().read()
            tree = HTMLTree.parse(bytes_to_str(raw, detect_encoding(raw)))
            text = extract_plain_text(tree, main_content=False, alt_texts=False)
            out.append((r.rec_headers.get_header("WARC-Target-URI"), (tree.title or "").strip(), text))
    return out


@lru_cache(maxsize=None)
def real_pages() -> tuple:
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    pages = [Page(u, t, x, truth.get(u)) for u, t, x in _html_pages(TRAFILATURA)]
    for path in OTHER_WARCS:
        pages += [Page(u, t, x, None) for u, t, x in _html_pages(path)]
    return tuple(pages)


def write_wet(pages, path) -> None:
    """A WET file of `pages` in Common Crawl's layout (title line first)."""
    from tests.wet_builder import write_wet as write

    write(path, [(p.url if "://" in p.url else "https://" + p.url.split("::", 1)[-1], p.text, p.title) for p in pages],
          date="2024-01-01T00:00:00Z")


def sentence_line_share(text: str) -> float:
    """Share of a page's non-empty lines that end like a sentence (terminal punctuation)."""
    lines = [l.strip() for l in text.split("\n") if l.strip()]
    if not lines:
        return 0.0
    return sum(l.endswith((".", "!", "?", '"', "'", "”")) for l in lines) / len(lines)
