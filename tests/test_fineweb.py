"""FineWeb's line rules on real pages, against datatrove's own code (see tests/test_gopher.py and
tests/data/datatrove_web_rules.json for how the expected numbers were derived)."""
from __future__ import annotations

import pytest

from filters.fineweb import TERMINAL_PUNCTUATION, FineWebRules, FineWebStats, fineweb_stats
from pipeline import recipe as recipes
from tests.web_pages import BASE, expected, page, real_pages, rewritten

DT = {"keep": None, "empty": "fineweb_empty", "line_punct_ratio": "fineweb_line_punct_ratio",
      "short_line_ratio": "fineweb_short_line_ratio", "char_dup_ratio": "fineweb_char_dup_ratio",
      "list_ratio": "fineweb_list_ratio"}
RULES = FineWebRules()


def _text(key: str) -> str:
    return rewritten(key.split(":", 1)[1]) if key.startswith("rewrite:") else page(key)


@pytest.mark.parametrize("key", sorted(expected()["measures"]))
def test_every_measure_equals_datatrove(key):
    want = expected()["measures"][key]
    got = fineweb_stats(_text(key))
    for field in FineWebStats._fields:
        assert getattr(got, field) == pytest.approx(want["fineweb_" + field], rel=1e-12, abs=1e-12), field


def test_decisions_equal_datatrove_on_every_real_page():
    pages = expected()["pages"]
    reasons, spacy_agree = set(), 0
    for key, text in real_pages():
        s = fineweb_stats(text)
        assert RULES.reason(s) == DT[pages[key]["ours_tokenizer"][2]], key
        spacy_agree += RULES.reason(s) == DT[pages[key]["spacy"][2]]
        reasons.add(RULES.reason(s))
    assert reasons == {None, "fineweb_line_punct_ratio", "fineweb_short_line_ratio", "fineweb_char_dup_ratio"}
    # datatrove as shipped (spaCy word counts in the list ratio): 290 of 291 (a Chinese page,
    # whose sentences spaCy's English tokenizer keeps as single tokens).
    assert spacy_agree >= 290


def test_list_like_layout_of_a_real_page():
    assert DT[expected()["rewrites"]["list_layout"]["ours_tokenizer"][2]] == "fineweb_list_ratio"
    assert RULES.reason(fineweb_stats(page(BASE))) is None
    assert RULES.reason(fineweb_stats(rewritten("list_layout"))) == "fineweb_list_ratio"


def test_blank_page_is_empty():
    for text in ("", " \n\t\n"):
        assert fineweb_stats(text) == FineWebStats(0, 0.0, 0.0, 0.0, 0.0)
        assert RULES.reason(fineweb_stats(text)) == "fineweb_empty"


def test_terminal_punctuation_is_unicodes_sentence_terminal():
    assert {".", "!", "?", "。", "؟", "।", "！", "？"} <= TERMINAL_PUNCTUATION
    assert not {",", ";", ":", '"', ")", "…"} & TERMINAL_PUNCTUATION


def test_thresholds_come_from_the_recipe():
    plus = recipes.load("llama-plus")["fineweb"]
    rules = FineWebRules.from_config(plus)
    assert vars(rules) == vars(FineWebRules())
    s = fineweb_stats(page(BASE))
    strict = FineWebRules.from_config(recipes.load("llama-plus", ["fineweb.char_duplicates_ratio=0.0"])["fineweb"])
    assert rules.reason(s) is None and (s.char_dup_ratio == 0 or strict.reason(s) == "fineweb_char_dup_ratio")
    stricter = FineWebRules.from_config(recipes.load("llama-plus", ["fineweb.line_punct_thr=1.0"])["fineweb"])
    assert s.line_punct_ratio < 1.0 and stricter.reason(s) == "fineweb_line_punct_ratio"
