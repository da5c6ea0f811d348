"""The README stays a README (short, the two fresh-machine commands first) and every relative link
of the README and docs/*.md leads to a file and heading that exist. GitHub's heading anchors are
computed as GitHub computes them."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, Set, Tuple

from tests.conftest import ROOT

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 200

FENCE = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^()\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.M)


def _prose(text: str) -> str:
    """The text without fenced blocks and code spans (where brackets are code, not links)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, lowercased, spaces → '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = text.lower().replace("`", "")
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> Set[str]:
    seen: Counter = Counter()
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        out.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return out


def relative_links(path: Path) -> List[str]:
    return [t for t in LINK.findall(_prose(path.read_text(encoding="utf-8")))
            if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, https:, mailto: are not checked here


def test_slugs_are_githubs():
    assert slug("Overriding values: --set and ranges") == "overriding-values---set-and-ranges"
    assert slug("report.html") == "reporthtml"
    assert slug("Memory and the cost model's own check") == "memory-and-the-cost-models-own-check"
    assert slug("Near-duplicates (MinHash-LSH)") == "near-duplicates-minhash-lsh"
    assert slug("The `--output` folder") == "the---output-folder"


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move the detail to a docs/ page"


def test_the_fresh_machine_commands_come_first():
    text = README.read_text(encoding="utf-8")
    first_block = FENCE.search(text)
    assert text[:first_block.start()].count("\n") <= 5, "the first commands must follow the title"
    commands = [l for l in first_block.group(0).splitlines()[1:-1] if l.strip()]
    assert [c.split("#")[0].split() for c in commands] == [["make", "demo"], ["make", "test"]]
    # ...and they do what their comments say: set-up, then the whole job into out/ / the test suite.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo: setup\n\t\$\(PY\) -m pipeline\.run --output=\$\(OUT\)$", makefile, re.M)
    assert re.search(r"^test: setup\n\t\$\(PY\) -m pytest -q -n 2 --dist loadfile tests$", makefile, re.M)
    assert re.search(r"^OUT \?= out$", makefile, re.M)


def test_every_relative_link_resolves():
    broken: List[Tuple[str, str]] = []
    cache: Dict[Path, Set[str]] = {}
    for page in PAGES:
        for target in relative_links(page):
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if not dest.exists():
                broken.append((page.name, target))
            elif anchor:
                if dest.suffix != ".md":
                    broken.append((page.name, target))
                    continue
                if anchor not in cache.setdefault(dest, anchors(dest)):
                    broken.append((page.name, target))
    assert not broken, f"links to no file or heading: {broken}"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / t.partition("#")[0]).resolve() for t in relative_links(README)}
    orphans = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert not orphans, f"docs pages the README does not point to: {orphans}"
