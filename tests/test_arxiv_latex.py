"""Plain LaTeX cleaning (pipeline.sources.latex) and e-print reading, on real arXiv sources."""
import io
import tarfile
from pathlib import Path

import pytest

from pipeline import recipe as recipes
from pipeline.sources import arxiv, latex
from tests.source_harness import tar_gz

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SCIFACT = DATA / "arxiv" / "2004.14974.gz"
S2ORC = DATA / "arxiv" / "1911.02782.gz"


def _eprint(path):
    with open(path, "rb") as f:
        units = list(arxiv.read_input(str(path), f, arxiv.ReadConfig()))
    eprints = [u for u in units if isinstance(u, arxiv.EPrint)]
    assert len(eprints) == 1, units
    return eprints[0], units


def test_comments_removed_escaped_percent_kept():
    text = "a 95\\% b % gone\n% whole line\nline \\\\% after a line break\nkeep\n"
    assert latex.strip_comments(text) == "a 95\\% b\nline \\\\\nkeep\n"


def test_section_cut_each_command_its_own_alternative():
    pattern = latex.section_pattern()
    # RedPajama ran \paragraph and \subparagraph together: a paper opening with either was lost
    assert latex.cut_before_first_section("front\n\\paragraph{P} body", pattern) == "\\paragraph{P} body"
    assert latex.cut_before_first_section("front\n\\subparagraph*{S} body", pattern) == "\\subparagraph*{S} body"
    assert latex.cut_before_first_section("\\sectionmark{x} no header", pattern) is None
    assert latex.cut_before_first_section("x \\section[short]{Long} y", pattern) == "\\section[short]{Long} y"


def test_macros_with_arguments_defaults_and_defs_expand_inline():
    src = (
        "\\newcommand{\\R}{\\mathbb{R}}\n\\newcommand\\norm[2]{\\|#1\\|_{#2}}\n"
        "\\newcommand{\\lem}[2][Lemma]{#1~#2}\n\\def\\pair#1#2{(#1,#2)}\n\\def\\nest{\\R^2}\n"
        "x in \\R, \\norm{v}{2}, \\lem{3}, \\lem[Claim]{4}, \\pair ab, \\nest, \\Rx stays\n"
    )
    text, macros = latex.extract_macros(src)
    assert set(macros) == {"R", "norm", "lem", "pair", "nest"}
    out, n, limit = latex.expand_macros(text, macros)
    assert out.strip() == "x in \\mathbb{R}, \\|v\\|_{2}, Lemma~3, Claim~4, (a,b), \\mathbb{R}^2, \\Rx stays"
    assert not limit and n == 7


def test_recursive_macro_stops_at_the_pass_limit():
    text, macros = latex.extract_macros("\\def\\loop{a\\loop}\\loop")
    out, _, limit = latex.expand_macros(text, macros, max_passes=3)
    assert limit and out == "aaa\\loop"


def test_inputs_stay_inside_the_archive():
    files = {
        "paper/main.tex": "\\input{sec/a}\\input{../../etc/passwd}\\include{missing}\\input{/abs.tex}\\input{sec/loop}",
        "paper/sec/a.tex": "A",
        "paper/sec/loop.tex": "L\\input{sec/loop}",
        "etc/passwd.tex": "SECRET",
    }
    text, stats = latex.resolve_inputs("paper/main.tex", files)
    assert "A" in text and "L" in text and "SECRET" not in text
    assert (stats.resolved, stats.refused, stats.missing, stats.cyclic) == (2, 2, 1, 1)


def test_main_file_choice_is_deterministic():
    files = {
        "b.tex": "\\documentclass{article}\\begin{document}xx\\end{document}",
        "a.tex": "\\documentclass{article}\\begin{document}xx\\end{document}",
        "big.tex": "\\documentclass{article} no body " + "x" * 100,
        "c.tex": "% \\documentclass{article}",
    }
    plain = {p: latex.strip_comments(t) for p, t in files.items()}
    assert latex.choose_main_file(plain) == "a.tex"  # has \begin{document}; same size: smallest name
    assert latex.choose_main_file(dict(reversed(list(plain.items())))) == "a.tex"


def test_decoding_utf8_then_documented_fallback_only():
    assert latex.decode_tex("Schrödinger".encode("utf-8")) == ("Schrödinger", "utf-8")
    assert latex.decode_tex("Schrödinger".encode("latin-1")) == ("Schrödinger", "latin-1")
    assert latex.decode_tex("Schrödinger".encode("latin-1"), fallback_encodings=()) is None
    assert latex.decode_tex("\\section{x}".encode("utf-16")) is None  # NULs everywhere: not text


def test_scifact_multi_file_eprint_with_inputs():
    eprint, units = _eprint(SCIFACT)
    assert not [u for u in units if isinstance(u, arxiv.BadUnit)]
    assert not any(p.split("/")[-1].startswith("._") for p in eprint.files)  # AppleDouble junk ignored
    cleaned = arxiv.decode_and_clean(eprint, recipes.load("llama")["arxiv"])
    doc = cleaned.doc
    assert doc.meta["main_file"] == "emnlp2020.tex"
    assert doc.meta["inputs_resolved"] == 27 and doc.meta["inputs_missing"] == 0
    text = doc.text
    assert text.startswith("\\section{Introduction}")
    # from \input{01-introduction.tex}, \input{tables/covid-example.tex}, \input{figures/mesh-terms} (no .tex)
    assert "Due to rapid growth in the scientific literature" in text
    assert "Lopinavir / ritonavir have exhibited favorable clinical responses" in text
    assert "Fraction of evidence abstracts in which each MESH term occurs" in text
    # the appendix actually \input (09-appendices-arxiv.tex) is in; abstract (before \section) is out
    assert "Annotation interfaces and guidelines" in text
    assert "We introduce scientific claim verification" not in text
    # author macros expanded: \ours, \numclaims (commands.tex), nested \Ehat -> \widehat{\cE} -> \mathcal{E}
    assert "\\ours" not in text and "\\numclaims" not in text and "\\textsc{SciFact}" in text and "1,409" in text
    assert "\\newcommand" not in text
    # comments gone (one sat at the end of a paragraph in 01-introduction.tex), bibliography gone
    assert "From Sewon" not in text and "%46.5 F1" not in text
    assert "\\bibliography" not in text and "\\end{document}" not in text
    assert "37\\%" in text  # an escaped percent survives


def test_s2orc_single_main_tex():
    eprint, _ = _eprint(S2ORC)
    doc = arxiv.decode_and_clean(eprint, recipes.load("llama")["arxiv"]).doc
    assert doc.meta["main_file"] == "main.tex"
    assert doc.text.startswith("\\section{")
    assert "\\begin{thebibliography}" not in doc.text and "\\bibliography{" not in doc.text


def test_unsafe_member_is_its_own_bad_unit_and_the_rest_is_kept():
    data = tar_gz([("../evil.tex", b"\\section{Evil}"), ("main.tex", b"\\documentclass{article}\\begin{document}\\section{Ok} fine\\end{document}")])
    units = list(arxiv.read_eprint(data, "x.gz", "id", "x", arxiv.ReadConfig()))
    bad = [u for u in units if isinstance(u, arxiv.BadUnit)]
    assert [(b.reason, b.where) for b in bad] == [("unsafe_member_path", "x.gz!../evil.tex")]
    (eprint,) = [u for u in units if isinstance(u, arxiv.EPrint)]
    assert set(eprint.files) == {"main.tex"}


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_truncated_eprint_is_one_bad_unit(cut):
    data = SCIFACT.read_bytes()
    units = list(arxiv.read_eprint(data[: int(len(data) * cut)], "t.gz", "id", "t", arxiv.ReadConfig()))
    assert len(units) == 1 and isinstance(units[0], arxiv.BadUnit) and units[0].reason == "truncated_archive"


def test_truncated_bulk_tar_keeps_the_eprints_before_the_damage():
    bulk = (Path(__file__).resolve().parents[1] / "samples" / "arxiv" / "arXiv_src_2401_001.tar").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(bulk)) as tar:
        pdf = tar.getmember("2401/2401.00004.pdf")
    cut = bulk[: pdf.offset_data + 10]  # inside the second member's data
    units = list(arxiv.read_input("bulk.tar", io.BytesIO(cut), arxiv.ReadConfig()))
    assert [type(u).__name__ for u in units] == ["EPrint", "BadUnit"]
    assert units[0].arxiv_id == "2401.00003" and units[1].reason == "truncated_archive" and units[1].where == "bulk.tar"


def test_macro_argument_cut_off_by_a_lone_backslash_is_left_as_written():
    eprint, _ = _eprint(S2ORC)
    main = eprint.files["main.tex"].decode("utf-8")
    # The paper's own one-argument macro, used last with only a stray "\" where its argument goes.
    cut = main[: main.index("\\end{document}")] + "\\lucy\\"
    result = latex.clean_eprint({"main.tex": cut})
    assert result.text.rstrip().endswith("\\lucy\\") and result.macro_expansions > 0
