"""One huge XML element (issue 13): a page's wikitext, a start tag or a Posts.xml row hundreds of
MB long costs the reader its limit, one counted `bad_input:*` unit, never its size in memory; the
pages and rows after it are kept. Each case reads a file from disk in a child process whose address
space is capped at its start-up size + 160 MB, so holding the element would be a MemoryError."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

_CHILD = r"""
import json, resource, sys, time
from pipeline.sources.wikipedia import read_dump
from pipeline.sources.stackexchange import iter_file_posts
with open("/proc/self/status") as f:
    vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (160 << 20), resource.getrlimit(resource.RLIMIT_AS)[1]))
kind, path = sys.argv[1], sys.argv[2]
start = time.process_time()
with open(path, "rb") as f:
    if kind == "wiki":
        out = [getattr(o, "reason", None) or o.meta["title"] for o in read_dump(path, f, max_page_bytes=1 << 20)]
    else:
        out = [getattr(o, "reason", None) or o.title or o.body for o in iter_file_posts(path, f, max_row_bytes=1 << 20)]
print(json.dumps({"out": out, "cpu": time.process_time() - start}))
"""

BIG = 300 << 20
HEAD = b"<mediawiki><siteinfo><dbname>enwiki</dbname></siteinfo>"
PAGE = b"<page><title>%s</title><ns>0</ns><id>%d</id><revision><text>%s</text></revision></page>"


def _read(kind: str, path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _write_with_big_middle(path, before: bytes, filler: bytes, after: bytes) -> None:
    with open(path, "wb") as f:
        f.write(before)
        chunk = filler * ((1 << 20) // len(filler))
        for _ in range(BIG // len(chunk)):
            f.write(chunk)
        f.write(after)


def test_huge_wikitext_is_counted_not_held_and_the_next_page_kept(tmp_path):
    path = tmp_path / "enwiki-20240101-pages-articles.xml"
    _write_with_big_middle(path, HEAD + b"<page><title>Big</title><ns>0</ns><id>1</id><revision><text>",
                           b"word [[link]] ", b"</text></revision></page>" + PAGE % (b"Next", 2, b"fine text") + b"</mediawiki>")
    got = _read("wiki", path)
    assert got["out"] == ["bad_input:page_too_large", "Next"]


def test_huge_start_tag_is_malformed_xml_in_linear_time(tmp_path):
    path = tmp_path / "enwiki-20240101-pages-articles.xml"
    _write_with_big_middle(path, HEAD + PAGE % (b"First", 1, b"kept") + b'<page title="', b"a",
                           b'"></page></mediawiki>')
    got = _read("wiki", path)
    assert got["out"] == ["First", "bad_input:malformed_xml"]
    assert got["cpu"] < 20  # expat rescans an unfinished token per feed: quadratic with fixed-size feeds


def test_huge_posts_row_is_one_bad_row_and_the_next_rows_kept(tmp_path):
    path = tmp_path / "beer.stackexchange.com-Posts.xml"
    row = '  <row Id="{i}" PostTypeId="1" Score="1" Title="{t}" Body="&lt;p&gt;Body {i}&lt;/p&gt;" Tags="" />\n'
    _write_with_big_middle(path, b'<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'
                           + row.format(i=1, t="First").encode() + b'  <row Id="2" PostTypeId="1" Body="',
                           b"x" * 64, b'" />\n' + row.format(i=3, t="Third").encode() + b"</posts>\n")
    got = _read("se", path)
    assert got["out"] == ["First", "row_too_large", "Third"]


def test_posts_without_newlines_are_read_row_by_row_and_a_huge_token_is_one_bad_file():
    """A Posts.xml written with no newlines is one line longer than the limit: it is parsed as it
    comes (every row kept, as before), and only an XML token over the limit stops the file."""
    import gzip
    import io

    from pipeline.sources import se_posts

    real = gzip.decompress((ROOT.parent / "shared" / "data" / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz").read_bytes())
    flat = real.replace(b"\r\n", b"").replace(b"\n", b"")
    want = list(se_posts.iter_posts(io.BytesIO(real), "beer"))
    assert len(want) > 2000
    assert list(se_posts.iter_posts(io.BytesIO(flat), "beer", max_row_bytes=1000)) == want
    cut = flat.index(b"<row", 5000)
    huge = flat[:cut] + b'<row Id="0" Body="' + b"x" * (3 << 20) + b'" />' + flat[cut:]
    got = list(se_posts.iter_posts(io.BytesIO(huge), "beer", max_row_bytes=1000))
    assert isinstance(got[-1], se_posts.BadFile) and got[-1].reason == "row_too_large"
    assert got[:-1] == want[: len(got) - 1] and len(got) > 5
