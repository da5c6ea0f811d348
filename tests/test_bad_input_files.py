"""Input files as they really come (issue 22, 3, 5, 9; issue 25's no-record input): a FIFO or a
link to a device matched by a glob, a `file://` path, the same input twice (one path given twice, a
link to it, a Wikipedia dump as `pages-articles` and `pages-articles-multistream`), a file that
holds no record of its source (a WAT file given as WARC input). Each is one line and exit 2 before
anything runs, or one counted `bad_input:*` unit naming the file; nothing hangs."""
from __future__ import annotations

import bz2
import json
import os
import shutil
import subprocess
import sys

import pytest

from pipeline.sources import module_for
from tests.conftest import BEAM_ARGS, ROOT, SHARED
from tests.source_harness import accounting, run_source

C4 = SHARED / "c4" / "olmo-c4-sample.01.json.gz"
ENWIKI = SHARED / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def _pipeline(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "pipeline.run", *BEAM_ARGS, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.fixture
def c4_folder_with_special_files(tmp_path):
    folder = tmp_path / "c4"
    folder.mkdir()
    shutil.copy(C4, folder / C4.name)
    os.mkfifo(folder / "fifo.json.gz")  # opening it would wait for a writer forever
    os.symlink("/dev/zero", folder / "zero.json")  # reading it would never end
    return folder


def test_special_files_matched_by_a_glob_are_refused_in_one_line(c4_folder_with_special_files, tmp_path):
    out = tmp_path / "out"
    proc = _pipeline(f"--output={out}", "--sources=c4", "--stages=curate", f"--c4_input={c4_folder_with_special_files}/*")
    assert proc.returncode == 2, proc.stderr[-2000:]
    [line] = proc.stderr.strip().splitlines()
    assert "fifo.json.gz is a FIFO, not a regular file" in line and "--c4_input=" in line
    assert not out.exists()  # refused before anything was written


def test_special_files_reaching_a_worker_are_counted_not_opened(c4_folder_with_special_files, tmp_path):
    docs, events = run_source(module_for("c4").Source, [f"{c4_folder_with_special_files}/*"], tmp_path / "o")
    docs_in, dropped = accounting(docs, events)
    bad = sorted((os.path.basename(e["path"]), e["detail"].split(": ", 1)[1]) for e in events if e["reason"] == "bad_input:special_file")
    assert bad == [("fifo.json.gz", f"{c4_folder_with_special_files}/fifo.json.gz is a FIFO, not a regular file: not read"),
                   ("zero.json", f"{c4_folder_with_special_files}/zero.json is a character device, not a regular file: not read")]
    assert docs_in == 10 + 2  # the real file's ten documents are read as before


def test_a_scheme_without_a_filesystem_is_one_line_and_leaves_no_running_state(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    state = {"state": "complete", "sources": ["c4"], "stages": ["curate"], "done": ["curate"]}
    (out / "run_state.json").write_text(json.dumps(state))
    proc = _pipeline(f"--output={out}", "--sources=c4", "--stages=curate", f"--c4_input=file://{C4}")
    assert proc.returncode == 2
    [line] = proc.stderr.strip().splitlines()
    assert line == (f"pipeline.run: error: --c4_input=file://{C4}: no filesystem here reads file:// paths; "
                    f"give the local path itself ({C4})")
    assert json.loads((out / "run_state.json").read_text()) == state  # not left `running`


def _multistream(xml: bytes, pieces: int = 7) -> bytes:
    """A `pages-articles-multistream` file: the same XML as several bzip2 streams end to end."""
    step = len(xml) // pieces + 1
    return b"".join(bz2.compress(xml[i:i + step]) for i in range(0, len(xml), step))


def test_one_dump_under_two_names_and_one_path_twice_are_read_once(tmp_path):
    xml = bz2.decompress(ENWIKI.read_bytes())
    plain = tmp_path / "a" / "enwiki-20160113-pages-articles1.xml-p10p30302.bz2"
    multi = tmp_path / "b" / "enwiki-20160113-pages-articles-multistream1.xml-p10p30302.bz2"
    plain.parent.mkdir()
    multi.parent.mkdir()
    plain.write_bytes(bz2.compress(xml))
    multi.write_bytes(_multistream(xml))
    assert plain.read_bytes() != multi.read_bytes() and bz2.decompress(multi.read_bytes()) == xml
    link = tmp_path / "a" / "link.xml.bz2"
    os.symlink(plain, link)
    docs, events = run_source(module_for("wikipedia").Source, [plain, multi, plain, link], tmp_path / "all")
    docs_in, dropped = accounting(docs, events)
    # read once: the dump's 206 pages (106 articles, 99 redirects, 1 other namespace) and the 3 copies
    assert docs_in == 206 + 3 and len(docs) == 106 and dropped["redirect"] == 99
    dups = sorted((e["path"], e["detail"]) for e in events if e["reason"] == "bad_input:duplicate_input")
    kept = str(plain)  # the first path of the group by name
    assert dups == sorted([(str(plain), "given twice: read once"),
                           (str(multi), f"the same input as {kept}: read once"),
                           (str(link), f"the same input as {kept}: read once")])


def test_same_file_twice_in_every_source_is_one_unit_with_a_reason(tmp_path):
    book = SHARED / "books" / "raw" / "pg10089.txt.gz"
    docs, events = run_source(module_for("books").Source, [book, str(book), f"{book.parent}/pg1008*.txt.gz"], tmp_path)
    docs_in, dropped = accounting(docs, events)
    assert docs_in == 3 and dropped == {"bad_input:duplicate_input": 2} and len(docs) == 1
    assert {e["detail"] for e in events if e["path"]} == {"given twice: read once"}


def test_a_wat_file_given_as_warc_input_is_one_no_records_unit(tmp_path):
    wat = SHARED / "commoncrawl" / "whirlwind.warc.wat.gz"
    warc = SHARED / "commoncrawl" / "whirlwind.warc.gz"
    docs, events = run_source(module_for("commoncrawl").Source, [wat, warc], tmp_path)
    docs_in, dropped = accounting(docs, events)
    [bad] = [e for e in events if e["reason"] == "bad_input:no_records"]
    assert bad["path"] == str(wat) and "no record" in bad["detail"] and bad["detail"].endswith("a WAT file: give WET or WARC")
    assert docs_in > 1  # the WARC's pages are read as before
