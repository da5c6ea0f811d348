"""Silent losses (issue 13): an archive cut at or inside a member header, a zero-byte input, a gzip
bomb or an over-long line are each one counted `bad_input:*` unit, the units before them kept; a
MemoryError costs one input, never the job."""
from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

from common import events as ev
from common.record import Document
from pipeline import recipe as recipes
from pipeline.sources import arxiv, books, c4, commoncrawl, github_read, stackexchange
from pipeline.stages import ReadFileOutcomes

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "github"
RECIPE = recipes.load("llama")


def _outcomes(fn: ReadFileOutcomes, path: str):
    return [o.value if hasattr(o, "value") else o for o in fn.process(path)]


def _bad(outcomes):
    return [o.reason for o in outcomes if isinstance(o, ev.Event) and o.reason.startswith("bad_input:")]


def _conserved(outcomes):
    docs_in = sum(o.count for o in outcomes if isinstance(o, ev.Event) and o.kind == ev.READ)
    out = sum(1 for o in outcomes if isinstance(o, Document))
    dropped = sum(1 for o in outcomes if isinstance(o, ev.Event) and o.kind == ev.DROP)
    return docs_in == out + dropped


def _member_offsets(tar_bytes: bytes):
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return [(m.name, m.offset, m.offset_data) for m in tar.getmembers()]


# ---------------------------------------------------------------- tar streams cut at a member header

SIX = gzip.decompress((REPO.parent / "shared" / "data" / "github" / "six-1.16.0.tar.gz").read_bytes())
ADM = github_read.Admission.from_recipe(RECIPE["github"])


def _open(path):
    return open(path, "rb")


@pytest.mark.parametrize("where", ["at_header", "inside_header"])
def test_github_tar_cut_at_a_member_header_is_counted(tmp_path, where):
    members = _member_offsets(SIX)
    name, offset, _ = members[len(members) // 2]
    cut = offset if where == "at_header" else offset + 100
    path = tmp_path / "six-cut.tar.gz"
    path.write_bytes(gzip.compress(SIX[:cut], mtime=0))
    outcomes = list(github_read.read_tar(str(path), _open, ADM))
    kinds = [o.reason for o in outcomes if isinstance(o, ev.Event)]
    assert kinds.count("bad_input:truncated_archive") == 1  # before: the rest just vanished
    whole = list(github_read.read_tar(str(DATA / "six-1.16.0.tar.gz"), _open, ADM))
    assert 0 < len(outcomes) - 1 < len(whole)  # the files before the cut are kept


def test_arxiv_bulk_tar_cut_at_a_member_header_is_counted():
    bulk = (REPO / "samples" / "arxiv" / "arXiv_src_2401_001.tar").read_bytes()
    members = _member_offsets(bulk)
    _, offset, _ = members[1]
    units = list(arxiv.read_input("bulk.tar", io.BytesIO(bulk[:offset]), arxiv.ReadConfig.from_recipe(RECIPE["arxiv"])))
    assert [type(u).__name__ for u in units][-1] == "BadUnit" and units[-1].reason == "truncated_archive"
    assert len(units) == 2


def test_cut_gzip_bz2_and_7z_streams_are_counted(tmp_path):
    rows = b"".join(json.dumps({"repo_name": "a/b", "path": f"f{i}.py", "content": f"value_{i} = compute({i})\n" * 40,
                                "license": "mit"}).encode() + b"\n" for i in range(3000))
    for suffix, data in ((".jsonl.gz", gzip.compress(rows, mtime=0)), (".jsonl.bz2", bz2.compress(rows))):
        path = tmp_path / ("export" + suffix)
        path.write_bytes(data[: len(data) // 2])
        outcomes = list(github_read.read_unit(str(path), _open, ADM))
        assert _bad(outcomes) == ["bad_input:truncated_stream"] and len(outcomes) > 1
    seven = (REPO / "samples" / "stackexchange" / "coffee.stackexchange.com.7z").read_bytes()
    path = tmp_path / "coffee.stackexchange.com.7z"
    path.write_bytes(seven[: len(seven) // 2])
    with open(path, "rb") as f:
        got = list(stackexchange.iter_file_posts(str(path), f))
    assert [type(g).__name__ for g in got].count("BadFile") == 1


def test_zip_cut_is_counted(tmp_path):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("pkg/LICENSE", (DATA.parent / "github").joinpath("LICENSE-MIT").read_bytes() if (DATA / "LICENSE-MIT").exists() else b"MIT License")
        z.writestr("pkg/a.py", "value = compute(1)\n")
    path = tmp_path / "pkg.zip"
    path.write_bytes(buf.getvalue()[:-30])
    assert _bad(list(github_read.read_unit(str(path), _open, ADM))) == ["bad_input:bad_archive"]


# ---------------------------------------------------------------- zero-byte inputs


@pytest.mark.parametrize("source,name", [("commoncrawl", "CC-MAIN-x.warc.wet.gz"), ("c4", "c4-train.00000.json.gz"),
                                         ("books", "empty.txt.gz"), ("github", "export.jsonl")])
def test_zero_byte_input_is_one_counted_unit(tmp_path, source, name):
    path = tmp_path / name
    path.write_bytes(b"")
    if source == "github":
        outcomes = list(github_read.read_unit(str(path), _open, ADM))
        assert _bad(outcomes) == ["bad_input:empty_file"]
        return
    reader = {
        "commoncrawl": commoncrawl.WebArchiveReader("commoncrawl", 300, {}),
        "c4": c4.read_c4_file,
        "books": books.read_books,
    }[source]
    outcomes = _outcomes(ReadFileOutcomes(source, reader, source), str(path))
    assert _bad(outcomes) == ["bad_input:empty_file"] and _conserved(outcomes)
    assert [o.path for o in outcomes if o.path] == [str(path)]


# ---------------------------------------------------------------- bounded decompression


def _bomb(path: Path, inflated: int, prefix: bytes = b""):
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(z.compress(prefix))
        block = b"\0" * (1 << 20)
        for _ in range(inflated >> 20):
            f.write(z.compress(block))
        f.write(z.flush())


def test_book_gzip_bomb_is_counted_not_inflated(tmp_path):
    path = tmp_path / "bomb.txt.gz"
    _bomb(path, 64 << 20)
    reader = functools.partial(books.read_books, max_book_bytes=8 << 20)
    outcomes = _outcomes(ReadFileOutcomes("books", reader, "books"), str(path))
    assert _bad(outcomes) == ["bad_input:book_too_large"] and _conserved(outcomes)


def test_over_long_json_line_is_counted_and_the_next_line_kept(tmp_path):
    path = tmp_path / "books3.jsonl"
    good = json.dumps({"text": "A short book. " * 50, "meta": {"title": "Good"}}).encode()
    path.write_bytes(json.dumps({"text": "x" * (2 << 20)}).encode() + b"\n" + good + b"\n")
    reader = functools.partial(books.read_books, max_book_bytes=1 << 20)
    outcomes = _outcomes(ReadFileOutcomes("books", reader, "books"), str(path))
    assert _bad(outcomes) == ["bad_input:book_too_large"] and _conserved(outcomes)
    assert [o.meta["title"] for o in outcomes if isinstance(o, Document)] == ["Good"]


def test_c4_over_long_line_is_counted_never_held_and_the_next_kept(tmp_path):
    """A 64 MB line in a gzipped C4 file costs one bad unit and is read past in chunks (peak
    memory stays far under the line), the line after it is a document."""
    import resource

    path = tmp_path / "c4-train.00000-of-01024.json.gz"
    good = json.dumps({"text": "A fine page of text. " * 20, "url": "https://e.org/1", "timestamp": "2019"})
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(b'{"text": "' + b"x" * (64 << 20) + b'"}\n' + good.encode() + b"\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reader = functools.partial(c4.read_c4_file, max_line_bytes=1 << 20)
    outcomes = _outcomes(ReadFileOutcomes("c4", reader, "c4"), str(path))
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert _bad(outcomes) == ["bad_input:line_too_large"] and _conserved(outcomes)
    assert [o.url for o in outcomes if isinstance(o, Document)] == ["https://e.org/1"]
    assert grew_mb < 32, grew_mb
    assert RECIPE["c4"]["max_line_bytes"] == 16 << 20


_OOM_SCRIPT = r"""
import functools, resource, sys
from pipeline.sources import books
from pipeline.stages import ReadFileOutcomes
fn = ReadFileOutcomes("books", functools.partial(books.read_books, max_book_bytes=1 << 40), "books")
with open("/proc/self/status") as f:
    vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + (96 << 20), resource.getrlimit(resource.RLIMIT_AS)[1]))
out = [o.value for o in fn.process(sys.argv[1])]
print(sorted(e.reason for e in out if e.kind == "drop"), sum(e.count for e in out if e.kind == "in"))
"""


def test_memory_error_costs_one_input_not_the_job(tmp_path):
    # A limit set far too high lets a gzip bomb reach a real MemoryError (address space capped).
    path = tmp_path / "bomb.txt.gz"
    _bomb(path, 512 << 20)
    proc = subprocess.run([sys.executable, "-c", _OOM_SCRIPT, str(path)], capture_output=True, text=True,
                          cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split("\n")[0] == "['bad_input:out_of_memory'] 1"


# ---------------------------------------------------------------- what fuzz/ found (kept as regressions)


def test_non_utf8_member_name_is_counted_and_the_rest_kept():
    data = (REPO / "fuzz" / "regressions" / "github_archive" / "non-utf8-member-name.tar.gz").read_bytes()
    outcomes = list(github_read.read_tar("repo.tar.gz", lambda p: io.BytesIO(data), ADM))
    assert _bad(outcomes) == ["bad_input:not_utf8"]
    assert [o.meta["path"] for o in outcomes if isinstance(o, Document)] == ["ok.py"]


def test_lone_surrogates_and_deep_nesting_in_json_lines_are_malformed_json(tmp_path):
    path = tmp_path / "c4.json"
    path.write_bytes(b"[" * 5000 + b'\n{"text": "hi", "url": "\\ud800"}\n{"text": "hi", "timestamp": "\\udfff"}\n{"text": "kept"}\n')
    outcomes = _outcomes(ReadFileOutcomes("c4", c4.read_c4_file, "c4"), str(path))
    assert _bad(outcomes) == ["bad_input:malformed_json"] * 3 and _conserved(outcomes)
    books_path = tmp_path / "books3.jsonl"
    books_path.write_bytes(b"[" * 5000 + b'\n{"text": "\\ud800"}\n{"text": "x", "meta": {"title": "\\udfff"}}\n')
    outcomes = _outcomes(ReadFileOutcomes("books", books.read_books, "books"), str(books_path))
    assert _bad(outcomes) == ["bad_input:malformed_json"] * 3 and _conserved(outcomes)
