"""StackExchange Source end to end in a real Beam pipeline (FnApiRunner)."""
import gzip
import json
import shutil
from pathlib import Path

from pipeline import recipe as recipe_mod
from pipeline.sources import sample_inputs, stackexchange
from tests.source_harness import accounting, run_source

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BEER = DATA / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "stackexchange"


def test_beer_answers_in_numeric_score_order(tmp_path):
    docs, events = run_source(stackexchange.Source, [str(BEER)], tmp_path)
    docs_in, dropped = accounting(docs, events)
    assert docs_in == 663 and dropped == {} and len(docs) == 663
    metas = [json.loads(d["meta"]) for d in docs]
    for meta in metas:
        assert meta["answer_scores"] == sorted(meta["answer_scores"], reverse=True)
    # the cases a string sort gets wrong: 10+ above single digits, negatives last
    assert any(max(m["answer_scores"], default=0) >= 10 and any(0 <= s < 10 for s in m["answer_scores"]) for m in metas)
    assert any(min(m["answer_scores"], default=0) < 0 for m in metas)
    q2 = next(d for d, m in zip(docs, metas) if m["question_id"] == 2)
    assert q2["url"] == "https://beer.stackexchange.com/questions/2"
    assert q2["text"].startswith("Q: When was the first beer ever brewed?") and q2["text"].count("\n\nA: ") == 4
    assert json.loads(q2["meta"])["question_score"] == 21


def test_top_n_sites_and_samples_deterministic(tmp_path):
    recipe = recipe_mod.load(overrides=["stackexchange.top_sites=1"])
    inputs = sample_inputs("stackexchange")
    docs, events = run_source(stackexchange.Source, inputs, tmp_path / "a", recipe)
    docs_in, dropped = accounting(docs, events)
    # coffee (7 questions + answers) beats cooking (5): cooking's 2 questions dropped with a reason
    assert {json.loads(d["meta"])["site"] for d in docs} == {"coffee.stackexchange.com"}
    assert dropped == {"site_not_in_top_n": 2} and docs_in == 4
    coffee = next(d for d in docs if d["url"] == "https://coffee.stackexchange.com/questions/1")
    assert json.loads(coffee["meta"])["answer_scores"] == [10, 9, 0, -2]
    assert "1. Heat water to 93°C.\n2. Stir once after 1 minute." in coffee["text"]
    assert "```\ndef ratio(coffee_g, water_g):\n    return water_g / coffee_g  # e.g. 1:16\n```" in docs[0]["text"] + docs[1]["text"]
    again, events2 = run_source(stackexchange.Source, inputs, tmp_path / "b", recipe)
    assert again == docs and sorted(map(json.dumps, events2)) == sorted(map(json.dumps, events))


def test_bad_input_counted_quarantined_nothing_else_lost(tmp_path):
    raw = gzip.decompress(BEER.read_bytes())
    (tmp_path / "truncated.stackexchange.com-Posts.xml.gz").write_bytes(gzip.compress(raw)[: 60000])
    (tmp_path / "bomb.stackexchange.com-Posts.xml").write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE posts [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        b'<posts><row Id="1" PostTypeId="1" Score="1" Title="&b;" Body="x"/></posts>'
    )
    (tmp_path / "latin.stackexchange.com-Posts.xml").write_bytes(
        '<?xml version="1.0" encoding="utf-8"?>\n<posts>\n<row Id="1" PostTypeId="1" Score="1" Title="ok" Body="&lt;p&gt;fine&lt;/p&gt;"/>\n'
        '<row Id="2" PostTypeId="1" Score="1" Title="Café" Body="y"/>\n</posts>\n'.encode("latin-1")
    )
    seven = (SAMPLES / "coffee.stackexchange.com.7z").read_bytes()
    (tmp_path / "cut.stackexchange.com.7z").write_bytes(seven[: len(seven) // 2])
    (tmp_path / "badrow.stackexchange.com-Posts.xml").write_bytes(
        b'<posts><row Id="1" PostTypeId="1" Score="high" Title="t" Body="b"/><row Id="2" PostTypeId="1" Score="5" Title="t2" Body="b2"/></posts>'
    )
    shutil.copy(SAMPLES / "cooking.stackexchange.com-Posts.xml.gz", tmp_path)

    docs, events = run_source(stackexchange.Source, [str(tmp_path / "*")], tmp_path / "out")
    docs_in, dropped = accounting(docs, events)
    quarantined = {(e["reason"], Path(e["path"]).name) for e in events if e["reason"].startswith("bad_input:")}
    assert quarantined == {
        ("bad_input:truncated_archive", "truncated.stackexchange.com-Posts.xml.gz"),
        ("bad_input:xml_entities", "bomb.stackexchange.com-Posts.xml"),
        ("bad_input:malformed_xml", "latin.stackexchange.com-Posts.xml"),
        ("bad_input:corrupt_archive", "cut.stackexchange.com.7z"),
        ("bad_input:malformed_row", "badrow.stackexchange.com-Posts.xml#row1"),
    }
    by_site = {}
    for d in docs:
        by_site.setdefault(json.loads(d["meta"])["site"], []).append(d)
    # nothing else lost: cooking whole, the rows before each fault kept
    assert len(by_site["cooking.stackexchange.com"]) == 2
    assert [json.loads(d["meta"])["question_id"] for d in by_site["latin.stackexchange.com"]] == [1]
    assert [json.loads(d["meta"])["question_id"] for d in by_site["badrow.stackexchange.com"]] == [2]
    assert len(by_site["truncated.stackexchange.com"]) > 10
    assert "bomb.stackexchange.com" not in by_site
