"""Reference LM training (real lmplz/build_binary), cc_net's perplexity formula and buckets."""
from __future__ import annotations

import math
import statistics

import pytest

from filters import perplexity as ppl
from filters.lm_train import main as lm_train_main, train_reference_lm
from filters.text_normalizer import normalize, normalized_lines
from tests.quality_fixtures import boilerplate_pages, ccnet_records, web_prose, wiki_texts


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm")
    return train_reference_lm(wiki_texts()[:60], str(out), vocab_size=8000)


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


def test_formula_matches_kenlm_by_hand(scorer):
    text = ccnet_records()[0]["text"]
    total = length = 0
    for line in normalized_lines(text):
        pieces = scorer.sp.encode(line, out_type=str)
        total += scorer.lm.score(" ".join(pieces), bos=True, eos=True)
        length += len(pieces) + 1
    assert scorer.perplexity(text) == round(10 ** (-total / length), 1)
    assert math.isinf(scorer.perplexity(" \n\n "))


def test_training_is_deterministic(tmp_path):
    texts = wiki_texts()[:8]
    a = train_reference_lm(texts, str(tmp_path / "a"))
    b = train_reference_lm(texts, str(tmp_path / "b"))
    assert a["sha256"] == b["sha256"]
    assert (tmp_path / "a" / "wiki.arpa.bin").read_bytes()[:4] == b"mmap"  # KenLM binary, not ARPA


def test_lm_train_cli_on_text_files(tmp_path):
    files = []
    for i, text in enumerate(wiki_texts()[:5]):
        path = tmp_path / f"doc{i}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    assert lm_train_main(["--out", str(tmp_path / "m"), "--name", "en", "--text", *files]) == 0
    scorer = ppl.PerplexityScorer(str(tmp_path / "m" / "en.sp.model"), str(tmp_path / "m" / "en.arpa.bin"))
    assert scorer.perplexity(web_prose()[0]) > 1


def test_buckets_by_given_cutoffs():
    given = ppl.cutoffs_from_config({"mode": "given", "head": 340, "middle": 520})
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
