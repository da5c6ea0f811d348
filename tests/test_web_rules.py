"""The llama-plus web rules stage end to end: a `--recipe=llama-plus --write_rejects` run on the
bundled CommonCrawl sample and the shared C4 sample, its signal columns read back by DuckDB;
and the stage fed directly with real pages holding e-mail addresses (PII counted per source)."""
from __future__ import annotations

import json

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.metrics.metric import MetricsFilter

from common.record import META_COLUMNS, Document, from_row, make_id
from filters.fineweb import FineWebC4, FineWebRules, fineweb_stats
from filters.gopher import GopherRules, GopherStats, gopher_stats
from filters.pii import PIIScrubber
from pipeline import recipe as recipes
from pipeline import web_rules
from pipeline.run import sink_columns
from pipeline.sinks import WriteCurated
from tests.conftest import SHARED, run_pipeline
from tests.web_pages import expected, real_pages

PLUS = recipes.load("llama-plus")


@pytest.fixture(scope="module")
def plus_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("plus") / "out"
    run_pipeline(f"--output={out}", "--recipe=llama-plus", "--sources=commoncrawl,c4", "--stages=curate",
                 "--write_rejects", f"--c4_input={SHARED}/c4/olmo-c4-sample.0*.json.gz")
    return out


def _rows(out, where=""):
    sql = (f"SELECT * FROM read_parquet(['{out}/curated/*/*.parquet', '{out}/rejects/*/*.parquet'], "
           f"union_by_name = true, filename = true) {where}")
    rel = duckdb.sql(sql)
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def test_signal_columns_are_typed(plus_run):
    types = {r[0]: r[1] for r in duckdb.sql(f"DESCRIBE SELECT * FROM '{plus_run}/curated/*/*.parquet'").fetchall()}
    assert types["gopher_word_count"] == "BIGINT" and types["gopher_dup_5_gram_frac"] == "DOUBLE"
    assert types["fineweb_line_punct_ratio"] == "DOUBLE" and types["pii_email"] == "BIGINT"
    assert types["rules_decision"] == "VARCHAR" and types["perplexity"] == "DOUBLE"
    assert types["wikiref_applied"] == "BOOLEAN" and types["language"] == "VARCHAR"
    rejects = {r[0]: r[1] for r in duckdb.sql(f"DESCRIBE SELECT * FROM '{plus_run}/rejects/*/*.parquet'").fetchall()}
    assert rejects["reason"] == "VARCHAR" and set(types) <= set(rejects)


def test_every_rule_row_carries_its_measures_and_decision(plus_run):
    gopher, fineweb = GopherRules.from_config(PLUS["gopher"]), FineWebRules.from_config(PLUS["fineweb"])
    c4 = FineWebC4.from_config(PLUS["fineweb"]["c4"])
    rows = _rows(plus_run, "WHERE rules_decision IS NOT NULL")
    assert {r["source"] for r in rows} == {"commoncrawl", "c4"}
    kept = 0
    for r in rows:
        assert r["pii_email"] in (0, None)  # no address in these pages: the text is the one measured
        if r["rules_decision"] == "drop":   # a rejected page keeps its text as it came in
            g, cleaned = gopher_stats(r["text"]), c4.clean(r["text"])
            f = fineweb_stats(cleaned.text if cleaned.text is not None else r["text"])
            for field in GopherStats._fields:
                assert r["gopher_" + field] == pytest.approx(getattr(g, field), rel=1e-12), field
            reason = gopher.reason(g) or cleaned.reason or fineweb.reason(f)
            assert r["rules_reason"] == reason and "/rejects/" in r["filename"]
            assert r["fineweb_c4_sentences"] == cleaned.sentences
        else:   # a kept page leaves with the lines FineWeb's C4 step kept, and was measured on them
            kept += 1
            f = fineweb_stats(r["text"])
            assert c4.clean(r["text"]).text == r["text"] and r["rules_reason"] is None
            assert gopher.reason(GopherStats(*(r["gopher_" + k] for k in GopherStats._fields))) is None
            assert fineweb.reason(f) is None and "/curated/" in r["filename"]
            assert r["fineweb_c4_sentences"] >= 5 and r["fineweb_c4_lines_removed"] >= 0
        assert r["fineweb_char_dup_ratio"] == pytest.approx(f.char_dup_ratio, rel=1e-12)
        assert r["fineweb_list_ratio"] == pytest.approx(f.list_ratio, rel=1e-12)
    assert kept and len(rows) > kept


def test_drops_add_up_with_stats_json(plus_run):
    stats = json.loads((plus_run / "stats.json").read_text())
    assert stats["conserved"]
    rejects = duckdb.sql(f"SELECT source, reason, count(*) FROM '{plus_run}/rejects/*/*.parquet' GROUP BY ALL").fetchall()
    by_reason = {(s, r): n for s, r, n in rejects}
    rule_drops = {(s, r): n for s in ("commoncrawl", "c4") for r, n in stats["sources"][s]["dropped"].items()
                  if r.startswith(("gopher_", "fineweb_"))}
    assert rule_drops and {k: v for k, v in by_reason.items() if k in rule_drops} == rule_drops
    # The C4 sample breaks three different Gopher rules; drops of the language filter (an
    # ApplyFilter) are in the rejects too, without rule signals.
    assert {r for (s, r) in rule_drops if s == "c4"} >= {"gopher_too_few_words", "gopher_alpha_words"}
    assert by_reason[("commoncrawl", "language_not_kept")] == stats["sources"]["commoncrawl"]["dropped"]["language_not_kept"]
    curated = duckdb.sql(f"SELECT source, count(*) FROM '{plus_run}/curated/*/*.parquet' GROUP BY ALL").fetchall()
    assert {s: n for s, n in curated} == {s: stats["sources"][s]["docs_out"] for s in ("commoncrawl", "c4")}


def test_a_threshold_rechosen_by_a_query(plus_run):
    """What would min_doc_words=150 have dropped? One query over the signals, no reprocessing."""
    n = duckdb.sql(f"SELECT count(*) FROM '{plus_run}/curated/*/*.parquet' WHERE gopher_word_count < 150").fetchone()[0]
    stricter = GopherRules.from_config(recipes.load("llama-plus", ["gopher.quality.min_doc_words=150"])["gopher"])
    kept = _rows(plus_run, "WHERE rules_decision = 'keep'")
    assert n == sum(stricter.reason(gopher_stats(r["text"])) == "gopher_too_few_words" for r in kept) > 0


def test_meta_json_and_parquet_statistics(plus_run):
    path = next((plus_run / "curated" / "c4").glob("*.parquet"))
    table = pq.read_table(path)
    meta = json.loads(table.column("meta")[0].as_py())
    assert "c4_file" in meta and "language" in meta and not any(k.startswith("gopher_") for k in meta)
    doc = from_row(table.slice(0, 1).to_pylist()[0])
    assert doc.meta["gopher_word_count"] == table.column("gopher_word_count")[0].as_py()
    # No document text in the footer: min/max statistics only on the small columns.
    group = pq.ParquetFile(path).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).is_stats_set for i in range(group.num_columns)}
    assert not stats["text"] and not stats["meta"] and stats["id"] and stats["gopher_word_count"]


def test_llama_keeps_the_rules_off():
    llama = recipes.load("llama")
    assert not any(web_rules.enabled_for(llama, s) for s in ("commoncrawl", "c4"))
    assert sink_columns(llama) == list(META_COLUMNS)
    assert len(sink_columns(PLUS)) == len(META_COLUMNS) + 22 + 5 + 2 + 3 + 2   # gopher, fineweb, its C4 step, pii
    assert web_rules.enabled_for(PLUS, "c4") and not web_rules.enabled_for(PLUS, "wikipedia")


def test_stage_scrubs_pii_counted_per_source(tmp_path):
    pages = expected()["pages"]
    scrub = PIIScrubber.from_config(PLUS["pii"])
    with_addresses = [(k, t) for k, t in real_pages() if k in expected()["pii_changed_sha1"]
                      and pages[k]["ours_tokenizer"] == ["keep", "keep", "keep"]]
    assert len(with_addresses) >= 3
    docs = {"commoncrawl": with_addresses[0::2], "c4": with_addresses[1::2]}
    want = {s: sum(scrub.scrub(t)[1]["email"] for _, t in pages_) for s, pages_ in docs.items()}
    p = beam.Pipeline(runner="DirectRunner")
    kept = []
    for source, pages_ in docs.items():
        d = p | f"Create:{source}" >> beam.Create(
            [Document(make_id(source, k), source, t, None, {}) for k, t in pages_])
        out, _ = d | web_rules.web_rules_stage(PLUS, source)
        kept.append(out)
    tuple(kept) | WriteCurated(str(tmp_path), 1 << 28, sink_columns(PLUS))
    result = p.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("pii_email"))["counters"]
    got = {c.key.metric.namespace.split(":")[1]: c.committed for c in counters}
    assert got == want and all(want.values())
    rows = duckdb.sql(f"SELECT source, sum(pii_email), string_agg(text, ' ') FROM '{tmp_path}/*/*.parquet' GROUP BY ALL").fetchall()
    assert {s: n for s, n, _ in rows} == want
    assert all("@parliament.uk" not in text and "email@example.com" in text for _, _, text in rows)


def test_odd_pages_are_kept_or_dropped_never_a_crash():
    from pipeline.stages import Drop

    rules = web_rules.WebRules(PLUS, "commoncrawl")
    odd = ["", "\n\n\n", "...", "#", "a", "\x00\x01\x02 \ufffd", "é" * 10_000, "word " * 200_000,
           "::::1.2.3.4::" * 50, "x@y" * 1000, "\u202e\u200b" + real_pages()[0][1]]
    for text in odd:
        out = rules(Document("commoncrawl/x", "commoncrawl", text, None, {}))
        assert isinstance(out, (Document, Drop))
        meta = (out.doc if isinstance(out, Drop) else out).meta
        assert meta["rules_decision"] in ("keep", "drop") and "gopher_word_count" in meta
