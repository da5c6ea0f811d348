"""Reference LM training (real lmplz/build_binary), cc_net's perplexity formula and buckets."""
from __future__ import annotations

import math
import statistics

import pytest

from filters import perplexity as ppl
from filters.lm_train import main as lm_train_main, train_reference_lm
from filters.text_normalizer import normalize, normalize_document, normalized_lines
from tests.quality_fixtures import boilerplate_pages, ccnet_records, web_prose, wiki_openings


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm")
    return train_reference_lm(wiki_openings()[:60], str(out), vocab_size=8000)


@pytest.fixture(scope="module")
def scorer(lm):
    return ppl.PerplexityScorer(lm["sp_model"], lm["kenlm_model"])


def test_normalizer_is_cc_nets():
    assert normalize("Café «Élan» — 2023…") == 'cafe "elan"  -  0000...'
    assert normalize("Ｉ’m ٣ ＡＢＣ％") == "ｉ'm 0 ａｂｃ%"
    assert normalized_lines("  One\n\n\tTwo \x07\n") == ["one", "two"]
    # cc_net maps digits before punctuation (its "１" → '"' entry never fires) and deletes tabs.
    assert normalize("Room １０１") == "room 000"
    assert normalize("Name\tValue") == "namevalue"


def test_prose_scores_lower_than_menus_and_boilerplate(scorer):
    prose = [scorer.perplexity(t) for t in web_prose()]
    menus = {url: scorer.perplexity(t) for url, t in boilerplate_pages()}
    assert len(menus) == 4
    # Every menu page is less Wikipedia-like than the typical kept web page.
    assert statistics.median(prose) < min(menus.values()), (statistics.median(prose), menus)
    # cc_net's own head-bucket documents are prose too.
    ccnet = [scorer.perplexity(r["text"]) for r in ccnet_records()]
    assert max(ccnet) < min(menus.values())


# cc_net's text_normalizer.normalize on whole documents, run on these strings (cc_net @ HEAD of
# facebookresearch/cc_net): stripped once, the newline deleted with the other controls.
CC_NET_NORMALIZE = [
    (" \x01 Café «Élan»\nLine Two — 2023…\t\n\n", ' cafe "elan"line two  -  0000...'),
    ("ＡＢＣ １２３\r\nİstanbul’s ٣ Σσς\x85end", "ａｂｃ 000istanbul's 0 σσςend"),
    ("a.\nb", "a.b"), ("\n\n  \n", ""), ("x\u00a0y\u2028z", "x\u00a0y\u2028z"),
]


@pytest.mark.parametrize("text, expected", CC_NET_NORMALIZE)
def test_document_normalisation_is_cc_nets(text, expected):
    assert normalize_document(text) == expected


def _cc_net_steps(text: str, keep_newline: bool = False) -> str:
    """cc_net's normalize written out step by step with its regexes (independent of the code under
    test): strip, lower, NFD minus Mn, \\d → 0, the punctuation map, controls (newline too) deleted."""
    import re
    import unicodedata

    from filters.text_normalizer import UNICODE_PUNCT

    if not keep_newline:
        text = text.strip()
        if not text:
            return text
    text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    text = re.sub(r"\d", "0", text)
    text = "".join(UNICODE_PUNCT.get(c, c) for c in text)
    controls = [c for c in list(range(32)) + list(range(127, 160)) if not (keep_newline and c == 10)]
    return re.sub("[" + re.escape("".join(map(chr, controls))) + "]", "", text)


def test_fast_normalisation_equals_cc_nets_steps_on_every_code_point():
    import sys

    # Each code point alone and inside text, in both forms (per line, and the whole document).
    for cp in list(range(0, 0x30000, 1)) + list(range(0xE0000, sys.maxunicode + 1, 97)):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000:
            continue
        text = f"Ab {ch}1 é\n{ch}"
        assert normalize_document(text) == _cc_net_steps(text), hex(cp)
        assert normalize(text) == _cc_net_steps(text, keep_newline=True), hex(cp)


def test_document_perplexity_is_cc_nets_on_real_pages(scorer):
    """cc_net mine.py: SentencePiece on the whole normalised document, DocLM(normalize=False) on
    that one line: 10 ** (-score / (pieces + 1)), rounded to 0.1. The same formula computed here
    from the raw libraries matches on real pages (and matched cc_net's own MultiSentencePiece +
    DocLM on all 263 pages of tests/real_pages.py when checked side by side)."""
    from tests.real_pages import real_pages

    pages = [p.text for p in real_pages()[:60]] + [r["text"] for r in ccnet_records()]
    for text in (t for t in pages if _cc_net_steps(t)):  # DocLM gives an empty page no perplexity
        pieces = scorer.sp.encode(_cc_net_steps(text), out_type=str)
        line = " ".join(pieces)
        expected = round(10 ** (-scorer.lm.score(line, bos=True, eos=True) / (len(line.split()) + 1)), 1)
        assert scorer.perplexity(text) == expected
    assert math.isinf(scorer.perplexity(" \n\n "))


def test_lines_mode_scores_each_line(lm):
    lines_scorer = ppl.PerplexityScorer(lm["sp_model"], lm["kenlm_model"], mode="lines")
    text = ccnet_records()[0]["text"]
    total = length = 0
    for line in normalized_lines(text):
        pieces = lines_scorer.sp.encode(line, out_type=str)
        total += lines_scorer.lm.score(" ".join(pieces), bos=True, eos=True)
        length += len(pieces) + 1
    assert lines_scorer.perplexity(text) == round(10 ** (-total / length), 1)
    # Gluing the lines (document mode) scores another string: the two differ on a multi-line page.
    assert lines_scorer.perplexity(text) != ppl.PerplexityScorer(lm["sp_model"], lm["kenlm_model"]).perplexity(text)
    with pytest.raises(ValueError):
        ppl.PerplexityScorer(lm["sp_model"], lm["kenlm_model"], mode="sentences")


def test_training_is_deterministic(tmp_path):
    texts = wiki_openings()[:8]
    a = train_reference_lm(texts, str(tmp_path / "a"))
    b = train_reference_lm(texts, str(tmp_path / "b"))
    assert a["sha256"] == b["sha256"]
    assert (tmp_path / "a" / "en.arpa.bin").read_bytes()[:4] == b"mmap"  # KenLM binary, not ARPA
    import kenlm
    import sentencepiece as spm

    # cc_net's names, loadable by the libraries cc_net uses.
    assert spm.SentencePieceProcessor(model_file=str(tmp_path / "a" / "en.sp.model")).get_piece_size() > 100
    assert kenlm.Model(str(tmp_path / "a" / "en.arpa.bin")).order == 5


def test_lm_train_cli_on_text_files(tmp_path):
    files = []
    for i, text in enumerate(wiki_openings()[:5]):
        path = tmp_path / f"doc{i}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    assert lm_train_main(["--out", str(tmp_path / "m"), "--name", "en", "--text", *files]) == 0
    scorer = ppl.PerplexityScorer(str(tmp_path / "m" / "en.sp.model"), str(tmp_path / "m" / "en.arpa.bin"))
    assert scorer.perplexity(web_prose()[0]) > 1


def test_buckets_by_given_cutoffs():
    given = ppl.cutoffs_from_config({"mode": "given", "given": {"en": [340, 520]}}, "en")
    observed = [r["metadata"]["perplexity"] for r in ccnet_records()]  # cc_net's head bucket: all < 340
    assert {ppl.bucket_of(v, given) for v in observed} == {"head"}
    assert ppl.bucket_of(339.9, given) == "head"
    assert ppl.bucket_of(340.0, given) == "middle"
    assert ppl.bucket_of(519.9, given) == "middle"
    assert ppl.bucket_of(520.0, given) == "tail"
    assert ppl.bucket_of(math.inf, given) == "tail"


def test_buckets_by_computed_cutoffs(scorer):
    values = [scorer.perplexity(t) for t in web_prose()] + [scorer.perplexity(t) for _, t in boilerplate_pages()]
    cut = ppl.exact_cutoffs(values, 30, 60)
    buckets = [ppl.bucket_of(v, cut) for v in values]
    n = len(values)
    # Within one document of the percentile (grid of 0.23%): head ~30%, middle ~30%, tail ~40%.
    assert abs(buckets.count("head") - 0.3 * n) <= 1
    assert abs(buckets.count("head") + buckets.count("middle") - 0.6 * n) <= 1
    assert all(b == "tail" for b in buckets[-len(boilerplate_pages()):])
    # Order of the input does not matter.
    assert ppl.exact_cutoffs(list(reversed(values)), 30, 60) == cut
