"""ArXiv LaTeX cleaning under hostile input (issue 13): a macro that multiplies itself, `\\input`
fan-out, unbalanced braces and recursive macros each cost one paper a bounded amount of time and
memory and count it out as `bad_input:*` (quarantined), instead of exhausting the worker."""
from __future__ import annotations

import gzip
import io
import tarfile
import time

import pytest

from common import events as ev
from pipeline import recipe as recipes
from pipeline.sources import arxiv, latex

CFG = recipes.load("llama")["arxiv"]
HEAD = "\\documentclass{article}\n\\begin{document}\n\\section{Intro}\nSome real words here.\n"
TAIL = "\n\\end{document}\n"


def _clean(files):
    start = time.process_time()
    result = latex.clean_eprint(files, latex.CleanConfig.from_recipe(CFG))
    return result, time.process_time() - start


def test_self_multiplying_def_is_counted_out_within_budget():
    # ten copies of itself a pass, eight passes: 10^8 copies (44 CPU-s and GBs before)
    src = "\\def\\b{" + "\\b" * 10 + "}\n" + HEAD + "\\b " * 40 + TAIL
    result, cpu = _clean({"main.tex": src})
    assert result.text is None and result.reason == "bad_input:latex_expansion_too_large"
    assert cpu < 2.0


def test_input_fan_out_is_bounded():
    files = {"main.tex": HEAD + "\\input{l1}" * 10 + TAIL}
    for level in range(1, 5):
        files[f"l{level}.tex"] = f"\\input{{l{level + 1}}}" * 10
    files["l5.tex"] = "leaf"
    assert sum(len(t) for t in files.values()) < 600  # 10^5 splices from a few hundred bytes
    result, cpu = _clean(files)
    assert result.reason == "bad_input:latex_input_fanout" and cpu < 2.0


def test_a_file_input_a_few_times_is_still_fine():
    files = {"main.tex": HEAD + "\\input{table}\nand again\n\\input{table}" + TAIL, "table.tex": "a small table"}
    result, _ = _clean(files)
    assert result.text is not None and result.text.count("a small table") == 2


@pytest.mark.parametrize("tail", ["\\a{" * 20000, "\\def\\x{" * 20000], ids=["unclosed-arguments", "unclosed-defs"])
def test_unbalanced_braces_cost_linear_time(tail):
    src = "\\newcommand\\a[1]{x#1}\n" + HEAD + tail
    result, cpu = _clean({"main.tex": src})
    assert result.text is None and result.reason == "bad_input:latex_work_budget"
    assert cpu < 2.0  # each unclosed group rescanned the rest of the paper: quadratic before


def test_recursive_macro_is_counted_out_not_kept_raw():
    result, _ = _clean({"main.tex": "\\def\\loop{a\\loop}\n" + HEAD + "\\loop" + TAIL})
    assert result.text is None and result.reason == "bad_input:latex_macro_recursion"


def _eprint_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def test_clean_dofn_quarantines_the_paper_with_the_reason():
    data = _eprint_bytes({"main.tex": "\\def\\b{" + "\\b" * 10 + "}\n" + HEAD + "\\b" + TAIL})
    [unit] = list(arxiv.read_input("2401.99999.gz", io.BytesIO(data), arxiv.ReadConfig.from_recipe(CFG)))
    out = list(arxiv.CleanEPrint(CFG).process(unit))
    events = [o.value for o in out]
    assert [e.kind for e in events] == [ev.READ, ev.DROP]
    bad = events[1]
    assert bad.reason == "bad_input:latex_expansion_too_large" and bad.path == "2401.99999.gz"
    assert "macro expansion over" in bad.detail


def test_brace_table_gives_the_scans_answer_and_charge_at_every_position(monkeypatch):
    """The match table, built by itself after a long scan, must answer exactly as scanning from
    `pos` does (escapes included, on brace soup with unclosed and stray braces), and charge the
    work budget the same, whatever order the positions are asked in."""
    import random

    rnd = random.Random(7)
    pieces = ["{", "}", "\\{", "\\}", "\\\\", "\\", "x", " ", "\\a{", "%", "\n", "y" * 300]
    built = 0
    for _ in range(40):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(50, 1500)))
        order = list(range(len(text)))
        rnd.shuffle(order)
        runs = []
        for after in (10**9, latex._TABLE_AFTER):  # never a table, then the default
            monkeypatch.setattr(latex, "_TABLE_AFTER", after)
            latex._MATCHES.text = None
            latex._WORK.left = 10**12
            runs.append([(latex.read_group(text, i), latex._WORK.left) for i in order])
            built += latex._MATCHES.text is text
        assert [g for g, _ in runs[1]] == [g for g, _ in runs[0]]
        assert runs[1][-1][1] == runs[0][-1][1]  # the same characters charged in all
    latex._WORK.left = latex._MATCHES.text = None
    assert built >= 30  # the table was really used


def test_no_table_is_kept_after_a_paper():
    text = "\\newcommand\\a[1]{x#1}\n\\begin{document}" + "\\a{" + "word " * 200 + "}" * 2
    latex.clean_eprint({"main.tex": text}, latex.CleanConfig.from_recipe(recipes.load("llama")["arxiv"]))
    assert latex._MATCHES.text is None
