"""ArXiv Source end to end in a real Beam pipeline (FnApiRunner): samples, real e-prints, bad input."""
import gzip
import json
import shutil
from pathlib import Path

from pipeline.sources import arxiv, sample_inputs

from tests.source_harness import accounting, run_source, tar_gz

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_samples_end_to_end_and_deterministic(tmp_path):
    inputs = sample_inputs("arxiv")
    docs, events = run_source(arxiv.Source, inputs, tmp_path / "a")
    docs_in, dropped = accounting(docs, events)
    assert (docs_in, dropped) == (4, {"no_tex_source": 1})  # 3 papers + 1 PDF-only bulk member
    by_arxiv = {json.loads(d["meta"])["arxiv_id"]: d for d in docs}
    assert set(by_arxiv) == {"2401.00001", "2401.00002", "2401.00003"}
    multi = by_arxiv["2401.00001"]
    assert multi["url"] == "https://arxiv.org/abs/2401.00001"
    assert "\\textsc{SpaRo}" in multi["text"] and "Claim~\\ref{lem:partition}" in multi["text"]
    assert "C(\\mathbf{x})" in multi["text"] and "TODO" not in multi["text"] and "Streams. 2020" not in multi["text"]
    assert by_arxiv["2401.00003"]["text"].startswith("\\paragraph{Overview.}")
    again, events2 = run_source(arxiv.Source, inputs, tmp_path / "b")
    assert again == docs and sorted(map(json.dumps, events2)) == sorted(map(json.dumps, events))


def test_bad_input_counted_quarantined_nothing_else_lost(tmp_path):
    scifact = (DATA / "arxiv" / "2004.14974.gz").read_bytes()
    good = tmp_path / "2004.14974.gz"
    shutil.copy(DATA / "arxiv" / "2004.14974.gz", good)
    truncated = tmp_path / "9901.00001.gz"
    truncated.write_bytes(scifact[: len(scifact) // 2])
    escaping = tmp_path / "9901.00002.gz"
    escaping.write_bytes(tar_gz([("../../evil.tex", b"\\section{Evil} owned"), ("ms.tex", b"\\documentclass{article}\\begin{document}\\section{Kept} text\\end{document}")]))
    utf16 = tmp_path / "9901.00003.gz"  # a non-UTF-8 file that no allowed encoding makes text of
    utf16.write_bytes(gzip.compress("\\documentclass{article}\\begin{document}\\section{A} b\\end{document}".encode("utf-16"), mtime=0))
    latin1 = tmp_path / "9901.00004.gz"  # latin-1: decoded by the documented fallback, counted in meta
    latin1.write_bytes(gzip.compress("\\documentclass{article}\\begin{document}\\section{Gödel} text\\end{document}".encode("latin-1"), mtime=0))
    garbage = tmp_path / "notes.bin"
    garbage.write_bytes(b"\x00\x01 not an e-print" * 40)

    docs, events = run_source(arxiv.Source, [str(tmp_path / "*")], tmp_path / "out")
    docs_in, dropped = accounting(docs, events)
    quarantined = {(e["reason"], Path(e["path"].split("!")[0]).name + ("!" + e["path"].split("!")[1] if "!" in e["path"] else "")) for e in events if e["reason"].startswith("bad_input:")}
    assert quarantined == {
        ("bad_input:truncated_archive", "9901.00001.gz"),
        ("bad_input:unsafe_member_path", "9901.00002.gz!../../evil.tex"),
        ("bad_input:undecodable", "9901.00003.gz"),
        ("bad_input:unknown_format", "notes.bin"),
    }
    texts = {json.loads(d["meta"])["arxiv_id"]: d for d in docs}
    assert set(texts) == {"2004.14974", "9901.00002", "9901.00004"}
    assert texts["9901.00002"]["text"] == "\\section{Kept} text\n"
    assert "Gödel" in texts["9901.00004"]["text"] and json.loads(texts["9901.00004"]["meta"])["fallback_decoded_files"] == 1
    assert docs_in == 7 and sum(dropped.values()) == 4
