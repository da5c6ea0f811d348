"""Writes the real pages the web-rule tests use, as JSON {"web_pages": [[key, text], ...],
"wet_pages": [[key, text], ...]}, for the reference scripts that run in a scratch venv without this
project's readers (tests/reference/derive_datatrove_fineweb.py):

    PYTHONPATH=. .venv/bin/python tests/reference/dump_pages.py [--with-rewrites] > /tmp/pages.json

web_pages: tests/web_pages.py (291 pages: C4, CCNet, boilerplate pages, trafilatura's pages through
the project's extraction); wet_pages: tests/real_pages.py (264 pages as Common Crawl's WET
extractor gives them, every visible line, keyed "wet:<url>"); with --with-rewrites also "rewrites":
[[name, text], ...], tests/web_pages.py's rewrites of one real page.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.real_pages import real_pages as wet_pages  # noqa: E402
from tests.web_pages import real_pages as web_pages  # noqa: E402


def all_pages():
    return ([(k, t) for k, t in web_pages()], [("wet:" + p.url, p.text) for p in wet_pages()])


if __name__ == "__main__":
    web, wet = all_pages()
    out = {"web_pages": web, "wet_pages": wet}
    if "--with-rewrites" in sys.argv[1:]:
        from tests.web_pages import REWRITES, rewritten

        out["rewrites"] = [(name, rewritten(name)) for name in REWRITES]
    json.dump(out, sys.stdout, ensure_ascii=False)
