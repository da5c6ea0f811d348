"""One document per id in every source (issue 22, 9 and 10; dedup/unique_ids.py), and the run-wide
property: for every source's composite, on real inputs given with their copies (the same file under
another folder or name, a page id twice in a dump, two members at one path of a tar), the curated
ids are unique and docs_in == docs_out + Σ dropped."""
from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import shutil
import tarfile
from collections import Counter

import pytest

from pipeline.sources import SOURCE_NAMES, module_for
from tests.conftest import SHARED
from tests.source_harness import accounting, run_source

SIX = SHARED / "github" / "six-1.16.0.tar.gz"
ENWIKI = SHARED / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def tar_with_a_second_member_at(path_in_tar: str, content: bytes) -> bytes:
    """The real sdist with one more member at an existing path (tar allows it; extraction keeps
    the last, a reader sees both)."""
    buf = io.BytesIO()
    with tarfile.open(SIX) as src, tarfile.open(fileobj=buf, mode="w:gz") as dst:
        for member in src.getmembers():
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo(path_in_tar)
        info.size = len(content)
        dst.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def dump_with_a_repeated_page(pages: int = 40) -> bytes:
    """The real enwiki dump's first `pages` pages with its first article's <page> given twice, the
    copy's text edited (wikitext cleaning costs per page: 40 keep the test short)."""
    xml = bz2.decompress(ENWIKI.read_bytes()).decode("utf-8")
    ends = [m.end() for m in re.finditer(r"</page>\n", xml)]
    xml = xml[:ends[pages - 1]] + "</mediawiki>\n"
    for page in re.finditer(r"  <page>.*?</page>\n", xml, re.S):
        text = page.group(0)
        if "<ns>0</ns>" in text and "<redirect" not in text:
            copy = text.replace("</text>", "\nAn edit made in the second copy.</text>")
            return bz2.compress((xml[:page.end()] + copy + xml[page.end():]).encode("utf-8"))
    raise AssertionError("no article in the dump")


def test_two_members_at_one_path_of_a_tar_are_one_document(tmp_path):
    with tarfile.open(SIX) as tar:
        setup_py = tar.extractfile("six-1.16.0/setup.py").read() + b"# the second member at six.py\n"
    archive = tmp_path / "six-1.16.0.tar.gz"
    archive.write_bytes(tar_with_a_second_member_at("six-1.16.0/six.py", setup_py))
    docs, events = run_source(module_for("github").Source, [archive], tmp_path / "o")
    _, dropped = accounting(docs, events)
    paths = Counter(json.loads(d["meta"])["path"] for d in docs)
    assert paths["six.py"] == 1 and dropped["duplicate_id"] == 1
    assert len({d["id"] for d in docs}) == len(docs)


def test_a_page_id_twice_in_one_dump_is_one_article(tmp_path):
    dump = tmp_path / "enwiki-20160113-pages-articles1.xml.bz2"
    dump.write_bytes(dump_with_a_repeated_page())
    docs, events = run_source(module_for("wikipedia").Source, [dump], tmp_path / "twice")
    docs_in, dropped = accounting(docs, events)
    assert docs_in == 41 and dropped["duplicate_id"] == 1 and len({d["id"] for d in docs}) == len(docs)
    # the survivor is decided by content, not by the runner's order: the smaller text, the original
    assert not any("An edit made in the second copy" in d["text"] for d in docs)


def _copies(tmp_path, name: str):
    """Each source's real inputs, with copies a user could give: the same file in another folder
    (same name: the same ids), a renamed copy, a dump with a page twice, a tar with a path twice."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    if name == "commoncrawl":
        warc = SHARED / "commoncrawl" / "dolma-sample-0001.warc.gz"
        shutil.copy(warc, b / "copy-of-dolma.warc.gz")  # every record twice, under other file names
        return [warc, SHARED / "commoncrawl" / "whirlwind.warc.gz", b / "copy-of-dolma.warc.gz"]
    if name == "c4":
        shutil.copy(SHARED / "c4" / "olmo-c4-sample.01.json.gz", b)  # a copy in another folder: the same ids
        return [SHARED / "c4" / "olmo-c4-sample.01.json.gz", b / "olmo-c4-sample.01.json.gz", SHARED / "c4" / "olmo-c4-sample.03.json.gz"]
    if name == "github":
        with tarfile.open(SIX) as tar:
            setup_py = tar.extractfile("six-1.16.0/setup.py").read() + b"# the second member at six.py\n"
        (a / SIX.name).write_bytes(tar_with_a_second_member_at("six-1.16.0/six.py", setup_py))
        shutil.copy(SIX, b / SIX.name)
        return [a / SIX.name, b / SIX.name, SHARED / "github" / "itsdangerous-2.2.0.tar.gz"]
    if name == "wikipedia":
        (a / ENWIKI.name).write_bytes(dump_with_a_repeated_page())
        return [a / ENWIKI.name]
    if name == "books":
        raw = SHARED / "books" / "raw"
        shutil.copy(raw / "pg10089.txt.gz", b / "pg10089.txt.gz")
        shutil.copy(raw / "pg33956.txt.gz", a / "pg10089.txt.gz")  # another book under the same file name
        return [raw / "pg10089.txt.gz", raw / "pg33956.txt.gz", a / "pg10089.txt.gz", b / "pg10089.txt.gz"]
    if name == "arxiv":
        shutil.copy(SHARED / "arxiv" / "2004.14974.gz", b / "1911.02782.gz")  # another paper under the same name
        return [SHARED / "arxiv" / "1911.02782.gz", SHARED / "arxiv" / "2004.14974.gz", b / "1911.02782.gz"]
    if name == "stackexchange":
        beer = SHARED / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"
        (b / "beer.stackexchange.com").mkdir()
        (b / "beer.stackexchange.com" / "Posts.xml").write_bytes(gzip.decompress(beer.read_bytes()))
        return [beer, b / "beer.stackexchange.com" / "Posts.xml"]
    raise AssertionError(name)


@pytest.mark.parametrize("name", SOURCE_NAMES)
def test_every_source_curates_unique_ids_and_accounts_for_every_document(name, tmp_path):
    docs, events = run_source(module_for(name).Source, _copies(tmp_path, name), tmp_path / "out")
    docs_in, dropped = accounting(docs, events)  # docs_in == docs_out + Σ dropped
    ids = Counter(d["id"] for d in docs)
    assert docs and max(ids.values()) == 1, ids.most_common(3)
    if name != "stackexchange":  # there the unit is the question: its rows read twice are joined into it
        assert docs_in > len(docs)  # the copies were read and counted out, not lost
