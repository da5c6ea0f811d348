"""Decontamination: normalisation, n per benchmark, readers of every schema, planted items found
item by item (verbatim and lightly edited), clean text untouched, report/drop/mask through Beam
with stats that conserve."""
from __future__ import annotations

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
    return BenchmarkIndex([read_benchmark(str(p)) for p in (ARC_EASY, PIQA, HUMANEVAL, BENCH / "boolq_val.llmfoundry.jsonl.gz")])


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
    assert choose_n(lengths) == max(8, min(13, lengths[int(0.05 * (len(lengths) - 1))])) == 10


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
            assert finding.benchmarks["arc_easy"]["ngrams"] == len(normalize_words(item.segments[0])) - 13 + 1
    # n-1 words of an item are no match; n are.
    words = next(w for w in map(normalize_words, (it.segments[0] for it in arc.items[200:])) if len(w) > 20)
    assert rule(_doc(clean[0] + " " + " ".join(words[:12]) + ". " + clean[1]))[1] is None
    assert rule(_doc(clean[0] + " " + " ".join(words[:13]) + ". " + clean[1]))[1].benchmarks["arc_easy"]["ngrams"] == 1


def test_mask_cuts_exactly_the_matched_span_and_drop_names_the_benchmark(index, arc):
    before, after = c4_records()[0]["text"], c4_records()[1]["text"]
    planted = _edits(arc.items[7].segments[0])["case"]
    doc = _doc(before + "\n" + planted + "\n" + after)
    masked, finding = Decontaminator(index, "mask")(doc)
    assert masked.text == before + "\n\n" + after and finding.masked_spans == 1
    assert Decontaminator(index, "drop")(doc)[0] == "decontam_overlap:arc_easy"
    assert Decontaminator(index, "mask")(_doc(planted))[0] == "decontam_masked_empty"


def test_benchmark_info_equals_the_index_s(index):
    benchmarks = [read_benchmark(str(p)) for p in (ARC_EASY, PIQA, HUMANEVAL, BENCH / "boolq_val.llmfoundry.jsonl.gz")]
    assert decontam.benchmark_info(benchmarks) == decontam.index_info(index)


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
PLANTS = [(100, "verbatim"), (101, "case"), (102, "punctuation"), (103, "whitespace")]
WHOLE = (104, 107, 108)   # one document made of these items alone: `mask` leaves no word of it


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
    assert c["benchmarks"]["arc_easy"]["n"] == 13
    assert src["benchmarks"]["arc_easy"]["items"] == leaked
    originals = {r["url"]: r["text"] for r in records}
    clean = {u: t for u, t in originals.items() if u not in flagged}
    assert all(texts[u] == t for u, t in clean.items())  # clean documents untouched in every mode
    if mode == "report":
        assert s["dropped"] == {} and all(texts[u] == originals[u] for u in flagged)
        rows = decontam.report_section(c)
        assert rows["sources"] == [{"name": "c4", "documents_checked": len(records), "flagged": len(PLANTS) + 1,
                                    "matched_ngrams": src["matched_ngrams"]}]
        assert {"name": "arc_easy", "n": 13, "items": 2376, "leaked_items": len(leaked)} in rows["benchmarks"]
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
        # Each planted item one span; the whole document's three lines three more, then nothing is left.
        assert s["dropped"] == {"decontam_masked_empty": 1} and src["masked_spans"] == len(PLANTS) + len(WHOLE)
        for k, _ in enumerate(PLANTS):
            assert texts[records[k]["url"]] == c4_records()[k]["text"] + "\n"
        assert whole_url not in texts and rejects == {whole_url: ("decontam_masked_empty", originals[whole_url])}


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
