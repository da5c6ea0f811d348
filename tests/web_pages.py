"""Real web pages from ../shared/data for the Gopher / FineWeb / PII tests, keyed as
`tests/data/datatrove_web_rules.json` keys them, and the few rewrites of a real page that make a
rule fire that no sample page breaks (bullets, ellipses, hashes, word lengths, list layout).

Pages: the C4 and CCNet documents (`c4:<url>`, `ccnet:<id>`), the boilerplate pages
(`bp:<url>`) of tests/quality_fixtures.py, and the 250 pages of trafilatura's evaluation WARC
through the project's HTML extraction (`traf:<url>`): 291 pages, ~2 MB of text.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Dict, Tuple

from tests.quality_fixtures import SHARED, boilerplate_pages, c4_records, ccnet_records

TRAFILATURA_WARC = SHARED / "commoncrawl" / "trafilatura-eval-pages.warc.gz"
EXPECTED = Path(__file__).resolve().parent / "data" / "datatrove_web_rules.json"


@lru_cache(maxsize=None)
def real_pages() -> Tuple[Tuple[str, str], ...]:
    from pipeline.sources.warc_io import Record, iter_records
    from pipeline.sources.webtext import is_document, record_text

    pages = [("c4:" + r["url"], r["text"]) for r in c4_records()]
    pages += [("ccnet:" + r["id"], r["text"]) for r in ccnet_records()]
    pages += [("bp:" + url, text) for url, text in boilerplate_pages()]
    with open(TRAFILATURA_WARC, "rb") as f:
        for rec in iter_records(f):
            if isinstance(rec, Record) and is_document(rec):
                text = record_text(rec)[0]
                if text:
                    pages.append(("traf:" + rec.headers["WARC-Target-URI"], text))
    return tuple(pages)


def page(key: str) -> str:
    return dict(real_pages())[key]


# A real page that every rule keeps (the base of the rewrites below).
BASE = "c4:http://www.hollistonreporter.com/article/14259/bocce-ball-is-alive-and-well-in-holliston.html"


def _lines(text: str):
    return [line for line in text.split("\n") if line.strip()]


REWRITES = {
    # every line a bullet point
    "bullets": lambda t: "\n".join("• " + line for line in _lines(t)),
    # every sentence-final "." an ellipsis
    "ellipsis_lines": lambda t: "\n".join(line[:-1] + "..." if line.endswith(".") else line + "..." for line in _lines(t)),
    # every word a hashtag
    "hashes": lambda t: t.replace(" ", " #"),
    # words three at a time glued together
    "long_words": lambda t: "\n".join(" ".join("".join(w[i:i + 3]) for i in range(0, len(w), 3))
                                      for w in (line.split(" ") for line in _lines(t))),
    # letters spaced out
    "short_words": lambda t: " ".join(t),
    # the page's lines twenty newlines apart (list-like layout)
    "list_layout": lambda t: "\n".join(_lines(t)).replace("\n", "\n" * 20),
    # the page repeated past 100,000 words
    "too_many_words": lambda t: "\n".join([t] * (100_000 // max(1, len(t.split())) + 2)),
}


def rewritten(name: str) -> str:
    return REWRITES[name](page(BASE))


@lru_cache(maxsize=None)
def expected() -> Dict:
    with open(EXPECTED, encoding="utf-8") as f:
        return json.load(f)
