"""A benchmark corpus of WET files built from the real samples in ../shared/data.

Body lines are new combinations of real sentences (C4 pages and Gutenberg books), so most body
lines are unique, as on the web; each page also carries its site's menu and footer lines, which
repeat across the site's pages, as web boilerplate does. With `sidebar=True` each site also has a
sidebar of link titles and a blurb (real sentence fragments) on every page and shorter bodies, so
that about half of the characters are site-repeated boilerplate, as on crawled pages with their
navigation. Deterministic (seeded).

`build_real` writes the real crawled pages of ../shared/data instead, in k copies made distinct
(`distinct_copy`), for measurements on real text that line dedup must not saturate.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from tests.wet_builder import wet_bytes  # noqa: E402

_SENT = re.compile(r"(?<=[.!?])\s+")


def sentences():
    out = []
    for path in sorted((SHARED / "c4").glob("*.json.gz")):
        with gzip.open(path, "rt") as f:
            for line in f:
                out += _SENT.split(json.loads(line)["text"].replace("\n", " "))
    for path in sorted((SHARED / "books" / "clean").glob("*.txt.gz")):
        text = gzip.open(path, "rt", encoding="utf-8", errors="replace").read()
        out += _SENT.split(re.sub(r"\s+", " ", text))
    return [s.strip() for s in out if 20 <= len(s.strip()) <= 400]


def site_boilerplate(rng: random.Random, site: int):
    words = ["Home", "News", "About", "Contact", "Blog", "Shop", "Events", "Careers", "Support", "Login"]
    menu = [f"{w}" for w in rng.sample(words, 6)]
    footer = [f"© 2023 Site {site} Ltd. All rights reserved.", "Privacy Policy | Terms of Use | Cookie settings",
              f"Follow site {site} on social media"]
    return menu, footer


def site_sidebar(pool, site: int):
    rng = random.Random(10_000 + site)
    links = [" ".join(rng.choice(pool).split()[: rng.randint(3, 7)]) for _ in range(40)]
    return ["Recent posts"] + links + ["About this site"] + rng.sample(pool, 4)


def build(out_dir: str, megabytes: float = 20.0, files: int = 8, seed: int = 0, sidebar: bool = False) -> list:
    rng = random.Random(seed)
    pool = sentences()
    target = int(megabytes * 1_000_000)
    os.makedirs(out_dir, exist_ok=True)
    pages, size, n = [], 0, 0
    while size < target:
        site = rng.randrange(400)
        menu, footer = site_boilerplate(random.Random(site), site)
        lines = rng.randint(2, 8) if sidebar else rng.randint(8, 30)
        body = [" ".join(rng.sample(pool, rng.randint(2, 5))) for _ in range(lines)]
        side = site_sidebar(pool, site) if sidebar else []
        text = "\n".join(menu + [f"Posted on {rng.randint(1, 28)} March 2023"] + body + side + footer)
        pages.append((f"https://site{site}.example.com/page/{n}", text))
        size += len(text.encode("utf-8"))
        n += 1
    paths = []
    for i in range(files):
        path = os.path.join(out_dir, f"bench-{i:05d}.warc.wet.gz")
        with open(path, "wb") as f:
            f.write(wet_bytes(pages[i::files]))
        paths.append(path)
    return paths, [t for _, t in pages], size


def distinct_copy(text: str, j: int) -> str:
    """Copy `j` of a page's text: every line stripped (as the WET reader strips it) and j extra
    spaces after its first word (copy 0: none). Line dedup's normalisation keeps inner spaces, so no line of one copy repeats a
    line of another (k copies hold k times the dedup work: it does not saturate), while fastText,
    SentencePiece and the classifier, which split on whitespace, see the same words. A line of one
    word stays as it is: its copies are duplicates, as a site's menu item on every page."""
    wide = " " * (j + 1)
    return "\n".join(line.strip().replace(" ", wide, 1) for line in text.split("\n"))


def build_real(out_dir: str, copies: int, files: int = 4):
    """The real crawled pages of ../shared/data (tests/real_pages.py: trafilatura's 250 evaluation
    pages with every visible line, the CC-MAIN-2020-34 excerpt, dolma's WARC sample) as WET files,
    in `copies` distinct copies (`distinct_copy`). Returns (paths, page texts, bytes of page text)."""
    from tests.real_pages import real_pages

    os.makedirs(out_dir, exist_ok=True)
    pages = []
    for j in range(copies):
        for p in real_pages():
            url = p.url if "://" in p.url else "https://" + p.url.split("::", 1)[-1]
            pages.append((url + (f"?copy={j}" if j else ""), distinct_copy(p.text, j), p.title))
    paths = []
    for i in range(files):
        path = os.path.join(out_dir, f"real-{i:05d}.warc.wet.gz")
        with open(path, "wb") as f:
            f.write(wet_bytes(pages[i::files], date="2024-01-01T00:00:00Z"))
        paths.append(path)
    return paths, [t for _, t, _ in pages], sum(len(t.encode("utf-8")) for _, t, _ in pages)
