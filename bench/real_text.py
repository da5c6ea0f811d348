"""Real text from ../shared/data that several benchmarks build their corpora from: the C4 pages,
the Gutenberg books, and the Stack Exchange post bodies (tags stripped crudely, not by the
project's reader: the benchmarks measure other stages, and their corpora must not move when
that reader changes)."""
from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path
from typing import Iterator

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def c4_texts() -> Iterator[str]:
    for path in sorted((DATA / "c4").glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)["text"]


def book_texts() -> Iterator[str]:
    for path in sorted((DATA / "books" / "clean").glob("*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            yield f.read()


def stackexchange_bodies(min_words: int) -> Iterator[str]:
    with gzip.open(DATA / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz", "rt", encoding="utf-8") as f:
        for match in re.finditer(r'Body="([^"]*)"', f.read()):
            body = re.sub(r"<[^>]+>", " ", html.unescape(html.unescape(match.group(1))))
            if len(body.split()) >= min_words:
                yield body
