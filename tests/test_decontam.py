"""Decontamination: normalisation, n per benchmark, readers of every schema, planted items found
item by item (verbatim and lightly edited), clean text untouched, report/drop/mask through Beam
with stats that conserve."""
from __future__ import annotations

import collections
import gzip
import json
import re

import pyarrow.parquet as pq
import pytest

from common.record import Document
from filters import decontam
from filters.decontam import (BenchmarkError, BenchmarkIndex, Decontaminator, choose_n, normalize_words,
                              read_benchmark, word_spans)
from tests.conftest import ROOT, SHARED
from tests.quality_fixtures import c4_records

BENCH = SHARED / "benchmarks"
BUNDLED = ROOT / "filters" / "benchmarks"
ARC_EASY = BUNDLED / "arc_easy.llmfoundry.jsonl.gz"
PIQA = BUNDLED / "piqa_val.llmfoundry.jsonl.gz"
HUMANEVAL = BUNDLED / "HumanEval.jsonl.gz"


def _doc(text, i=0):
    return Document(f"c4/{i}", "c4", text, f"https://example.org/{i}", {})


@pytest.fixture(scope="module")
def index():
    return BenchmarkIndex([read_benchmark(str(p)) for p in (ARC_EASY, PIQA, HUMANEVAL, BENCH / "boolq_val.llmfoundry.jsonl.gz")],
                          decontam.NRule.from_config(decontam_config()))


@pytest.fixture(scope="module")
def arc():
    return read_benchmark(str(ARC_EASY))


def test_normalisation_deletes_punctuation_and_casefolds():
    assert normalize_words("Don't  STOP, Believin’!\n(ok) ß_x") == ["dont", "stop", "believin", "ok", "ssx"]
    for text in [r["text"] for r in c4_records()] + ["Σίσυφος ΟΔΟΣ — ﬁne “quotes” 1,000.5"]:
        words, spans = word_spans(text)
        assert words == normalize_words(text)
        assert all(normalize_words(text[a:b]) == [w] for w, (a, b) in zip(words, spans))


def test_n_is_the_5th_percentile_of_item_lengths_clamped():
    assert choose_n([3] * 50) == 8
    assert choose_n([40] * 50) == 13
    assert choose_n([10] * 5 + [100] * 95) == 10          # the 5th value of 100 sorted lengths
    assert choose_n([11] * 4 + [100] * 96) == 13
    piqa = read_benchmark(str(PIQA))
    lengths = sorted(decontam.item_length(it) for it in piqa.items)
    assert choose_n(lengths) == max(8, min(13, lengths[int(0.05 * (len(lengths) - 1))])) == 8


# GPT-3's rule on the text that is searched for (prompt + gold answer, words after normalisation):
# the 5th percentile of those lengths, clamped to [8, 13], computed plainly from the files
# (sorted lengths, the value at index floor(0.05 * (N - 1))): ARC-Easy 9, ARC-Challenge 10,
# PIQA 6 → 8, HumanEval 13. Summing every segment (wrong choices too), as the rule once did,
# gave 13, 13, 10 and left ARC-Easy 399 of 2,376 items (16.8%), ARC-Challenge 110 of 1,172 (9.4%),
# PIQA 243 of 1,838 (13.2%) that no document could match.
GPT3_N = {"arc_easy": 9, "arc_challenge": 10, "piqa_val": 8, "HumanEval": 13}


def _own_text_lengths(bench):
    return sorted(len(normalize_words(it.segments[0])) for it in bench.items)


def test_n_from_the_searched_text_leaves_at_most_6_percent_unmatchable():
    import subprocess
    import sys

    benches = [read_benchmark(str(p)) for p in sorted(BUNDLED.glob("*.jsonl.gz"))]
    rule = decontam.NRule.from_config(decontam_config())
    rows = {r["name"]: r for r in decontam.unmatchable(benches, rule)}
    for bench in benches:
        lengths = _own_text_lengths(bench)
        assert rows[bench.name]["n"] == GPT3_N[bench.name] == max(8, min(13, lengths[int(0.05 * (len(lengths) - 1))]))
        assert rows[bench.name]["share"] <= 0.06, rows[bench.name]
        # what can never match: every segment shorter than n and the own text under min_item_words
        never = [it.id for it in bench.items if max(decontam.segment_lengths(it)) < rows[bench.name]["n"]
                 and decontam.segment_lengths(it)[0] < rule.min_item_words]
        assert rows[bench.name]["unmatchable_ids"] == never
    assert {k: v["unmatchable"] for k, v in rows.items()} == {"arc_challenge": 3, "arc_easy": 4, "piqa_val": 72,
                                                              "HumanEval": 0}
    # Without whole-item matching, the floor of 8 leaves PIQA's 6-7-word items unmatchable (8.1%).
    plain = {r["name"]: r for r in decontam.unmatchable(benches, rule._replace(min_item_words=0))}
    assert plain["piqa_val"]["unmatchable"] == 149 and plain["arc_easy"]["unmatchable"] == 71
    out = subprocess.run([sys.executable, "-m", "pipeline.decontam"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "piqa_val                   1838   8     72 =  3.92%" in out and "arc_easy                   2376   9" in out


def decontam_config():
    from pipeline import recipe as recipes

    return recipes.load("llama")["decontamination"]


def test_planted_short_arc_items_are_found(arc):
    """ARC-Easy items of 9-12 words (found by GPT-3's n of 9; never with n 13) and of 6-8 words
    (found whole), planted verbatim in real C4 text."""
    index = BenchmarkIndex([arc], decontam.NRule.from_config(decontam_config()))
    rule = Decontaminator(index, "report")
    clean = [r["text"] for r in c4_records()]
    by_len = {}
    for it in arc.items:
        by_len.setdefault(len(normalize_words(it.segments[0])), []).append(it)
    short = [by_len[k][0] for k in (9, 10, 12)] + [by_len[k][0] for k in (6, 7, 8)]
    for k, item in enumerate(short):
        doc = _doc(clean[k] + "\n" + item.segments[0] + "\n" + clean[k + 1])
        finding = rule(doc)[1]
        assert finding is not None and item.id in finding.benchmarks["arc_easy"]["items"], item
    # the old n (13, from every segment's words) finds none of them
    old = Decontaminator(BenchmarkIndex([arc], decontam.NRule(fixed_n=13)), "report")
    assert not any(old(_doc(clean[0] + "\n" + it.segments[0] + "\n" + clean[1]))[1] for it in short)
    # a whole short item is found only whole: all but its last word is no match
    six = by_len[6][0]
    words = normalize_words(six.segments[0])
    assert rule(_doc(clean[0] + "\n" + " ".join(words[:-1]) + ".\n" + clean[1]))[1] is None


def test_readers_of_every_schema():
    ors = BENCH / "original_schema"
    arc = read_benchmark(str(ors / "ARC-Challenge-Test.head.jsonl"))
    assert arc.name == "ARC-Challenge-Test" and arc.items[0].id == "Mercury_7175875"
    assert arc.items[0].segments[0].endswith("increase in rotation? Planetary days will become shorter.")
    assert "Planetary density will decrease." in arc.items[0].segments
    hs = read_benchmark(str(ors / "hellaswag_val.head.jsonl"))
    assert hs.items[0] == decontam.Item("24", ("A man is sitting on a roof. he starts pulling up roofing on a roof.",
                                               "is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                                               "is holding a rubik's cube."))
    piqa = read_benchmark(str(ors / "piqa_dev.head.jsonl"))
    assert len(piqa.items) == 5 and piqa.items[1].segments == ("dresser replace drawer with bobby pin ",
                                                                "dresser finish, woodgrain with  bobby pin ")
    boolq = read_benchmark(str(ors / "boolq_dev.head.jsonl"))
    assert boolq.items[0].segments[1] == "does ethanol take more energy make that produces"
    icl = read_benchmark(str(BENCH / "boolq_val.llmfoundry.jsonl.gz"))
    assert len(icl.items) == 3270 and not icl.items[0].segments[0].startswith("Passage:")
    assert "\nQuestion:" not in icl.items[0].segments[0] and icl.items[0].segments[0].endswith("produces? no")
    he = read_benchmark(str(HUMANEVAL))
    assert he.items[0].id == "HumanEval/0" and "def has_close_elements" in he.items[0].segments[0]
    txt = read_benchmark(str(BENCH / "hellaswag_val_correct.first400.txt"))
    assert len(txt.items) == 400 and txt.items[0].segments == ("A man is sitting on a roof. he starts pulling up roofing on a roof.",)


def test_unknown_schema_and_bad_json_name_the_file_and_line(tmp_path):
    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"query": "q", "choices": ["a"], "gold": 0}\n{"text": "x"}\n')
    with pytest.raises(BenchmarkError, match=r"mine.jsonl line 2: unknown benchmark schema \['text'\]"):
        read_benchmark(str(bad))
    bad.write_text('{"query": "q",\n')
    with pytest.raises(BenchmarkError, match="mine.jsonl line 1: not JSON"):
        read_benchmark(str(bad))


def _edits(sentence):
    """The planted variants: verbatim, upper case, punctuation changed, whitespace changed; each
    one line ending in a full stop, so that C4's line rules keep it."""
    return {
        "verbatim": sentence + ".",
        "case": sentence.upper() + ".",
        "punctuation": re.sub(r"[?.]", ",", sentence).replace(" ", " - ", 2) + "!!",
        "whitespace": sentence.replace(" ", "  \t ") + ".",
    }


def test_planted_items_found_item_by_item_clean_text_untouched(index, arc):
    clean = [r["text"] for r in c4_records()]
    rule = Decontaminator(index, "report")
    for i, text in enumerate(clean):
        assert rule(_doc(text, i)) == (_doc(text, i), None)  # real C4 shares no 13-gram with them
    for k, item in enumerate(arc.items[100:104]):
        for how, planted in _edits(item.segments[0]).items():
            doc = _doc(clean[k] + "\n" + planted + "\n" + clean[k + 1])
            kept, finding = rule(doc)
            assert kept == doc, how
            assert finding.benchmarks["arc_easy"]["items"] == [item.id], how
            assert finding.benchmarks["arc_easy"]["ngrams"] == len(normalize_words(item.segments[0])) - 9 + 1
    # n-1 words of an item are no match; n are.
    words = next(w for w in map(normalize_words, (it.segments[0] for it in arc.items[200:])) if len(w) > 20)
    assert rule(_doc(clean[0] + " " + " ".join(words[:8]) + ". " + clean[1]))[1] is None
    assert rule(_doc(clean[0] + " " + " ".join(words[:9]) + ". " + clean[1]))[1].benchmarks["arc_easy"]["ngrams"] == 1


def test_mask_without_window_cuts_exactly_the_matched_span_and_drop_names_the_benchmark(index, arc):
    before, after = c4_records()[0]["text"], c4_records()[1]["text"]
    planted = _edits(arc.items[7].segments[0])["case"]
    doc = _doc(before + "\n" + planted + "\n" + after)
    spans_only = decontam.MaskRule(window_chars=0, min_piece_chars=0, max_matches=0)
    masked, finding = Decontaminator(index, "mask", spans_only)(doc)
    assert masked.text == before + "\n" + decontam.PIECE_SEPARATOR + "\n" + after and finding.masked_spans == 1
    assert Decontaminator(index, "drop")(doc)[0] == "decontam_overlap:arc_easy"
    assert Decontaminator(index, "mask", spans_only)(_doc(planted))[0] == "decontam_masked_empty"
    assert Decontaminator(index, "mask")(_doc(planted))[0] == "decontam_too_dirty:arc_easy"   # 22 windows > 10


def _every_tenth_word_edited(text):
    toks = text.split(" ")
    return " ".join(("edited" if i % 10 == 9 and t.strip() else t) for i, t in enumerate(toks))


def _tenth_of_words_edited(text, seed=2):
    import random

    rng, toks = random.Random(seed), text.split(" ")
    words = [i for i, t in enumerate(toks) if t.strip()]
    for i in rng.sample(words, round(0.1 * len(words))):
        toks[i] = "edited"
    return " ".join(toks)


def janitor_cases():
    """name → (document, item text registered, n, plant): real C4 pages with benchmark items
    planted (tests/reference/derive_janitor_mask.py runs lm-eval's Janitor on them)."""
    c4 = [r["text"] for r in c4_records()]
    arc, piqa = read_benchmark(str(ARC_EASY)), read_benchmark(str(PIQA))
    he = read_benchmark(str(HUMANEVAL))
    out = {}
    for name, item, n, plant, (a, b) in (
            ("arc_verbatim_12_words", arc.items[15], 9, arc.items[15].segments[0], (2, 3)),
            ("arc_40_words_every_tenth_edited", arc.items[17], 9, _every_tenth_word_edited(arc.items[17].segments[0]), (4, 5)),
            ("piqa_verbatim_30_words", piqa.items[30], 8, piqa.items[30].segments[0], (6, 7)),
            ("humaneval6_every_tenth_edited", he.items[6], 13, _every_tenth_word_edited(he.items[6].segments[0]), (0, 1)),
            ("humaneval6_tenth_edited_at_random", he.items[6], 13, _tenth_of_words_edited(he.items[6].segments[0]), (8, 9))):
        out[name] = (c4[a] + "\n" + plant + "\n" + c4[b], item.segments[0], n, plant)
    return out


def residue(text, plant, item_text, k=8):
    """What a masked text still holds of a plant: the item's distinct k-grams (normalised words)."""
    def grams(t):
        w = normalize_words(t)
        return {tuple(w[i:i + k]) for i in range(len(w) - k + 1)}
    return len(grams(text) & grams(item_text))


def test_mask_as_lm_eval_janitor_on_planted_pages(index):
    """GPT-3's filter as lm-eval's Janitor runs it, on real C4 pages with planted items; the
    Janitor's outcome recorded by tests/reference/derive_janitor_mask.py (lm-eval 0.4.13)."""
    import hashlib

    want = json.loads((ROOT / "tests" / "data" / "janitor_mask.json").read_text())["cases"]
    rule = Decontaminator(index, "mask")
    spans_only = Decontaminator(index, "mask", decontam.MaskRule(0, 0, 0))
    for name, (text, item_text, n, plant) in janitor_cases().items():
        bench = name.split("_")[0].replace("arc", "arc_easy").replace("piqa", "piqa_val").replace("humaneval6", "HumanEval")
        assert index.benchmarks[[b["name"] for b in index.benchmarks].index(bench)]["n"] == n
        out, finding = rule(_doc(text))
        if name.startswith("humaneval"):
            # The Janitor splits at whitespace before deleting punctuation, so its windows that hold
            # "=" or "->" alone never match, and it leaves more of a code plant than GPT-3's
            # normalisation (here). Every tenth word edited: the Janitor finds 4 windows and keeps
            # 16 of the item's 8-grams; here 31 windows, the page dropped as too dirty. A tenth of
            # the words edited at random: the Janitor keeps 19, here none is left, and cutting only
            # the matched spans (the rule before) kept 6.
            kept = spans_only(_doc(text))[0].text
            if name.endswith("every_tenth_edited"):
                assert want[name]["pieces"] == [681, 1947] and want[name]["residue"] == 16
                assert out == "decontam_too_dirty:HumanEval" and finding.benchmarks["HumanEval"]["ngrams"] == 31
            else:
                assert want[name]["residue"] == 19 and residue(kept, plant, item_text) == 6
                assert residue(out.text, plant, item_text) == 0 and finding.benchmarks["HumanEval"]["ngrams"] <= 10
            continue
        if want[name]["dropped"]:
            assert out == f"decontam_too_dirty:{bench}", name
            continue
        assert hashlib.sha1(out.text.encode("utf-8")).hexdigest() == want[name]["sha1"], name
        assert [len(p) for p in out.text.split(decontam.PIECE_SEPARATOR)] == want[name]["pieces"]
        assert residue(out.text, plant, item_text) == want[name]["residue"] == 0
    assert sum(c["dropped"] for c in want.values()) == 1


def test_benchmark_info_equals_the_index_s(index):
    benchmarks = [read_benchmark(str(p)) for p in (ARC_EASY, PIQA, HUMANEVAL, BENCH / "boolq_val.llmfoundry.jsonl.gz")]
    assert decontam.benchmark_info(benchmarks, decontam.NRule.from_config(decontam_config())) == decontam.index_info(index)
    assert {b["name"]: b["whole_items"] for b in decontam.index_info(index)["benchmarks"]} == {
        "arc_easy": 67, "piqa_val": 79, "HumanEval": 0, "boolq_val": 0}


def test_a_hash_hit_is_verified_word_by_word(index, arc):
    """Every reported match is a real shared n-gram: the words at the match equal the item's."""
    words = normalize_words(arc.items[3].segments[0])
    ids = index.word_ids(words)
    for p, n, g in index.matches(ids):
        assert g in [i for i, b in enumerate(index.item_bench) if index.benchmarks[b]["name"] == "arc_easy"]
        segs = [normalize_words(s) for s in arc.items[3].segments]
        assert any(" ".join(words[p:p + n]) in " ".join(s) for s in segs)


# ------------------------------------------------------------------------------------------------
# Through Beam: the C4 source, the stage, the sink and the stats, in each mode.
# ------------------------------------------------------------------------------------------------
PLANTS = [(95, "verbatim"), (98, "case"), (105, "punctuation"), (109, "whitespace")]   # 15-17 words: <= 10 windows
WHOLE = (104, 107, 108)   # one document made of these items alone: `mask` drops it as too dirty


def _planted_c4(path, arc):
    records = [dict(r) for r in c4_records()]
    for k, (item, how) in enumerate(PLANTS):
        text = _edits(arc.items[item].segments[0])[how]
        records[k]["text"] = records[k]["text"] + "\n" + text
    records[len(PLANTS)]["text"] = "\n".join(arc.items[i].segments[0] for i in WHOLE)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return records


def _parquet_rows(folder):
    return [row for shard in sorted(folder.glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]


def _run(tmp_path, mode, *extra):
    from pipeline.run import run

    out = tmp_path / mode
    assert run(["--sources=c4", f"--c4_input={tmp_path / 'planted.json.gz'}", "--stages=curate",
                f"--output={out}", f"--set=decontamination.mode={mode}", f"--benchmarks={ARC_EASY}", *extra]) == 0
    stats = json.loads((out / "stats.json").read_text())
    contamination = json.loads((out / "contamination.json").read_text())
    texts = {row["url"]: row["text"] for row in _parquet_rows(out / "curated" / "c4")}
    return stats, contamination, texts


@pytest.fixture(scope="module")
def planted(tmp_path_factory, arc):
    tmp = tmp_path_factory.mktemp("decontam")
    records = _planted_c4(tmp / "planted.json.gz", arc)
    return tmp, records


@pytest.mark.parametrize("mode", ["report", "drop", "mask"])
def test_modes_through_beam(planted, arc, mode):
    tmp, records = planted
    stats, c, texts = _run(tmp, mode, *(["--write_rejects"] if mode != "report" else []))
    s = stats["sources"]["c4"]
    assert stats["conserved"] and s["docs_in"] == len(records)
    src = c["sources"]["c4"]
    assert c["mode"] == mode and src["documents_checked"] == len(records) and src["flagged"] == len(PLANTS) + 1
    flagged = {d["url"]: d["benchmarks"]["arc_easy"]["items"] for d in src["documents"]}
    whole_url = records[len(PLANTS)]["url"]
    assert flagged == {**{records[k]["url"]: [arc.items[item].id] for k, (item, _) in enumerate(PLANTS)},
                       whole_url: sorted(arc.items[i].id for i in WHOLE)}
    assert all(d["id"].startswith("c4/") for d in src["documents"])
    leaked = sorted(arc.items[i].id for i in [i for i, _ in PLANTS] + list(WHOLE))
    assert c["benchmarks"]["arc_easy"]["leaked_items"] == len(leaked)
    assert c["benchmarks"]["arc_easy"]["n"] == 9
    assert src["benchmarks"]["arc_easy"]["items"] == leaked
    originals = {r["url"]: r["text"] for r in records}
    clean = {u: t for u, t in originals.items() if u not in flagged}
    assert all(texts[u] == t for u, t in clean.items())  # clean documents untouched in every mode
    if mode == "report":
        assert s["dropped"] == {} and all(texts[u] == originals[u] for u in flagged)
        rows = decontam.report_section(c)
        assert rows["sources"] == [{"name": "c4", "documents_checked": len(records), "flagged": len(PLANTS) + 1,
                                    "matched_ngrams": src["matched_ngrams"]}]
        assert {"name": "arc_easy", "n": 9, "items": 2376, "leaked_items": len(leaked)} in rows["benchmarks"]
        assert [r["name"] for r in rows["benchmarks"]] == ["HumanEval", "arc_challenge", "arc_easy", "piqa_val"]
        from pipeline import report

        page = report.render(str(tmp / mode))
        assert "Benchmark contamination" in page and all(d["id"] in page for d in src["documents"])
        return
    # --write_rejects: every drop under rejects/c4/ with its reason, as it came in.
    rejects = {r["url"]: (r["reason"], r["text"]) for r in _parquet_rows(tmp / mode / "rejects" / "c4")}
    if mode == "drop":
        assert s["dropped"] == {"decontam_overlap:arc_easy": len(PLANTS) + 1} and not set(flagged) & set(texts)
        assert rejects == {u: ("decontam_overlap:arc_easy", originals[u]) for u in flagged}
    else:
        # Each document as the plain rule masks it (the rule is held to lm-eval's Janitor above):
        # GPT-3's 200-character window around each match, short pieces dropped, and a document with
        # more than 10 matched windows dropped whole.
        rule = Decontaminator(BenchmarkIndex([arc], decontam.NRule.from_config(decontam_config())), "mask",
                              decontam.MaskRule.from_config(decontam_config()))
        want = {u: rule(_doc(originals[u]))[0] for u in flagged}
        dropped = {u: r for u, r in want.items() if isinstance(r, str)}
        assert s["dropped"] == dict(collections.Counter(dropped.values()))
        # the document of three whole items is too dirty; a short page leaves no 200-character piece
        assert dropped[whole_url] == "decontam_too_dirty:arc_easy" and len(flagged) - len(dropped) == 3
        assert set(dropped.values()) == {"decontam_too_dirty:arc_easy", "decontam_masked_empty"}
        assert {u: texts[u] for u in flagged if u not in dropped} == {u: d.text for u, d in want.items() if u not in dropped}
        for u in flagged:
            if u not in dropped:   # the page's text before the plant, less the 200-character window
                head = originals[u][:len(originals[u]) - len(texts[u])]
                assert texts[u] == originals[u][:len(texts[u])] and len(head) >= 200
        assert rejects == {u: (r, originals[u]) for u, r in dropped.items()}


def test_bad_benchmark_option_is_one_line(tmp_path):
    from common.cli import UsageError
    from pipeline.decontam import resolve_benchmarks

    with pytest.raises(UsageError, match=r"--benchmarks: no benchmark file matches '.*nothing\*.jsonl'"):
        resolve_benchmarks([], [str(tmp_path / "nothing*.jsonl")])
    (tmp_path / "x.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(UsageError, match="x.jsonl line 1: unknown benchmark schema"):
        resolve_benchmarks([], [str(tmp_path / "x.jsonl")])


def test_a_user_file_named_like_a_bundled_one_replaces_it(tmp_path, caplog):
    import logging
    import shutil

    from common.cli import UsageError
    from pipeline.decontam import resolve_benchmarks

    recipe = ["filters/benchmarks/arc_easy.llmfoundry.jsonl.gz", "filters/benchmarks/HumanEval.jsonl.gz"]
    mine = tmp_path / "HumanEval.jsonl.gz"
    shutil.copy(HUMANEVAL, mine)                     # byte-identical, another path
    with caplog.at_level(logging.INFO, logger="pipeline"):
        assert resolve_benchmarks(recipe, [str(mine)]) == [recipe[0], str(mine)]
    assert f"{mine} replaces the recipe's filters/benchmarks/HumanEval.jsonl.gz" in caplog.text
    assert resolve_benchmarks(recipe, [str(HUMANEVAL)]) == recipe   # the bundled file itself: named once
    (tmp_path / "b").mkdir()
    shutil.copy(HUMANEVAL, tmp_path / "b" / "HumanEval.jsonl.gz")
    with pytest.raises(UsageError, match="--benchmarks: two files named 'HumanEval'"):
        resolve_benchmarks(recipe, [str(mine), str(tmp_path / "b" / "HumanEval.jsonl.gz")])


def test_default_run_writes_contamination_json(default_run_out):
    c = json.loads((default_run_out / "contamination.json").read_text())
    assert c["mode"] == "report"
    assert sorted(c["benchmarks"]) == ["HumanEval", "arc_challenge", "arc_easy", "piqa_val"]
    stats = json.loads((default_run_out / "stats.json").read_text())
    assert {s: v["documents_checked"] for s, v in c["sources"].items()} == {
        s: v["docs_out"] for s, v in stats["sources"].items() if v["docs_out"]}


def test_no_benchmarks_still_reports(planted, tmp_path):
    from pipeline.run import run

    src, records = planted
    out = tmp_path / "none"
    assert run(["--sources=c4", f"--c4_input={src / 'planted.json.gz'}", "--stages=curate", f"--output={out}",
                "--set=decontamination.benchmarks=[]"]) == 0
    c = json.loads((out / "contamination.json").read_text())
    assert c["benchmarks"] == {} and c["flagged"] == 0 and c["ngrams_indexed"] == 0
    assert c["sources"]["c4"]["documents_checked"] == len(records)


def test_off_builds_no_index_and_checks_nothing(planted, tmp_path):
    """decontamination.mode=off: the stage is not in the job at all (no benchmark read, no document
    checked); the accounts still hold, and an earlier run's contamination.json goes."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from common.cli import UsageError
    from pipeline import recipe as recipes
    from pipeline.options import LlamaDataOptions
    from pipeline.run import build_curation, run

    src, records = planted
    out = tmp_path / "out"
    args = ["--sources=c4", f"--c4_input={src / 'planted.json.gz'}", "--stages=curate", f"--output={out}"]
    assert run(args) == 0 and (out / "contamination.json").exists()
    report_stats = json.loads((out / "stats.json").read_text())["sources"]["c4"]
    assert run(args + ["--set=decontamination.mode=off"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["conserved"] and stats["sources"]["c4"]["docs_out"] == report_stats["docs_out"] == len(_parquet_rows(out / "curated" / "c4"))
    assert not (out / "contamination.json").exists()
    assert "decontamination" not in [step["step"] for step in stats["sources"]["c4"]["steps"]]

    labels = []

    class Labels(beam.pipeline.PipelineVisitor):
        def enter_composite_transform(self, node):
            labels.append(node.full_label)

    recipe = recipes.load(None, ["decontamination.mode=off"])
    opts = PipelineOptions(args).view_as(LlamaDataOptions)
    p = beam.Pipeline(runner="DirectRunner")
    build_curation(p, opts, recipe, ["c4"])
    p.visit(Labels())
    assert labels and not [x for x in labels if "Decontaminate" in x]
    refused = tmp_path / "refused"
    with pytest.raises(UsageError, match="--benchmarks: decontamination.mode=off checks no benchmark"):
        run(args[:-1] + [f"--output={refused}", "--set=decontamination.mode=off", f"--benchmarks={ARC_EASY}"])
    assert not refused.exists()  # before anything is written


@pytest.mark.parametrize("args, line", [
    (["missing.jsonl"], "python -m pipeline.decontam: error: cannot read missing.jsonl: [Errno 2] No such file"),
    (["--recipe", "nope"], "python -m pipeline.decontam: error: --recipe=nope: no bundled recipe of that name and no "
                           "folder of <section>.json files there; bundled recipes: llama, llama-plus"),
])
def test_unmatchable_command_mistakes_are_one_line(tmp_path, args, line):
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pipeline.decontam", *args], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2 and proc.stderr.strip().startswith(line) and len(proc.stderr.strip().splitlines()) == 1, \
        proc.stderr
    from pipeline.decontam import main

    assert "--set" not in main.__doc__  # it takes no --set (argparse would refuse one)


@pytest.mark.parametrize("head, gap, tail, kept", [
    # characters before the first window, between the two windows, after the last one → pieces kept
    (200, 199, 199, []),                  # the Janitor keeps a first piece only when longer than 200
    (201, 199, 199, [201]),
    (201, 200, 199, [201, 201]),          # between windows: the window's last character leads the piece
    (201, 200, 200, [201, 201, 200]),     # after the last window: 200 characters are kept
    (0, 0, 0, []),
])
def test_mask_pieces_as_the_janitor_at_the_200_character_boundary(head, gap, tail, kept):
    """Pieces at lm-eval's bounds, to the character: run side by side with its Janitor on a real page."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        from lm_eval.decontamination.janitor import Janitor

    page = " ".join(r["text"] for r in c4_records())
    w = 200
    first = head + w                               # the first matched span starts here
    spans = [(first, first + 30), (first + 30 + 2 * w + gap, first + 60 + 2 * w + gap)]
    text = page[: spans[1][1] + w + tail]
    assert len(text) == spans[1][1] + w + tail
    janitor = Janitor(ngram_n=1, window_to_remove=w, minimum_slice_length=200, too_dirty_cutoff=10)
    theirs = janitor._split_chunks(text, [(None, a, b - 1) for a, b in spans])  # its ends are inclusive
    ours = decontam.pieces(text, spans, decontam.MaskRule(w, 200, 10))
    assert ours == theirs and [len(p) for p in ours] == kept
