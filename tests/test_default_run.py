"""The default run (`make demo`): every source on the bundled samples, every stage, end to end."""
import hashlib
import json
import re
import subprocess
import sys

import pyarrow.parquet as pq

from common.record import META_COLUMNS, curated_schema
from pipeline.sources import SOURCE_NAMES
from tests.conftest import ROOT, output_digest, run_pipeline


def test_help_documents_every_option():
    proc = subprocess.run([sys.executable, "-m", "pipeline.run", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0
    for flag in ["--output", "--sources", "--recipe", "--set", "--stages", "--target_tokens", "--runner"] + [
            f"--{s}_input" for s in SOURCE_NAMES]:
        assert flag in proc.stdout, flag


def test_every_source_curated_and_conserved(default_run_out):
    stats = json.loads((default_run_out / "stats.json").read_text())
    assert stats["conserved"]
    assert sorted(stats["sources"]) == sorted(SOURCE_NAMES)
    for name, s in stats["sources"].items():
        assert s["docs_in"] == s["docs_out"] + sum(s["dropped"].values()), name
        assert s["docs_out"] > 0, name
        shards = sorted((default_run_out / "curated" / name).glob("part-*.parquet"))
        table = pq.read_table(shards[0])
        # The llama recipe: the five record columns and the typed common meta fields, no rule signals.
        assert table.schema.equals(curated_schema(META_COLUMNS)), name
        rows = sum(pq.read_metadata(p).num_rows for p in shards)
        assert rows == s["docs_out"], name
        assert pq.read_metadata(shards[0]).row_group(0).column(2).compression == "ZSTD"


def test_tokens_verify_and_trainer_audit(default_run_out):
    assert (default_run_out / "tokenizer" / "tokenizer.model").exists()
    mixture = json.loads((default_run_out / "mixture.json").read_text())
    assert sorted(mixture["sources"]) == sorted(SOURCE_NAMES)
    verify = subprocess.run([sys.executable, "-m", "tokenizer.verify", "--data", str(default_run_out)],
                            cwd=ROOT, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    audit = subprocess.run([sys.executable, "-m", "train_hooks.data", "--audit", "--data", str(default_run_out),
                            "--context", "64"], cwd=ROOT, capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]


def test_second_run_is_byte_identical(default_run_out, tmp_path):
    again = tmp_path / "again"
    run_pipeline(f"--output={again}")

    def digests(out):
        # run.json and report.html's header are the record of a run itself (times, command line), not data.
        return {str(p.relative_to(out)): output_digest(p)
                for p in sorted(out.rglob("*")) if p.is_file() and p.name not in ("run.json", "report.html")}

    assert digests(again) == digests(default_run_out)
    # the report, its run header aside, is the same page
    header = re.compile(r'<table class="run">.*?</table>', re.S)
    assert header.sub("", (again / "report.html").read_text()) == header.sub("", (default_run_out / "report.html").read_text())


def test_demo_quality_stage_applies_on_real_wikipedia_text(default_run_out):
    stats = json.loads((default_run_out / "stats.json").read_text())
    notes = stats["models"]
    # The reference LM: trained cc_net's way from the real enwiki excerpt set-up takes out of gensim's
    # wheel on PyPI (models.json enwiki_excerpt), never from text written for the project.
    lm = notes["reference_lm"]["en"]
    assert lm["applied"] is True and lm["source"] == "trained" and lm["documents"] > 100 and lm["chars"] > 50000
    run = json.loads((default_run_out / "run.json").read_text())
    (trained_from,) = run["quality_models"]["reference_lm"]["trained_from"]
    assert run["quality_models"]["reference_lm"]["source"] == "demo"
    assert trained_from.endswith("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    assert hashlib.sha256(open(trained_from, "rb").read()).hexdigest() == \
        "a53f4648dec40467ebdcbc7a1307eddb51fe6e28e9309f6ebde81ba0d04bea2d"
    cut = notes["perplexity_cutoffs"]["en"]
    assert cut["mode"] == "computed" and cut["head"] < cut["middle"]
    cc = stats["sources"]["commoncrawl"]["dropped"]
    assert cc["perplexity_tail"] > 0
    rows = [r for p in (default_run_out / "curated" / "commoncrawl").glob("*.parquet") for r in pq.read_table(p).to_pylist()]
    assert rows
    for r in rows:  # every kept CommonCrawl page was scored and bucketed
        meta = json.loads(r["meta"])
        assert meta["perplexity"] > 0 and meta["bucket"] in ("head", "middle") and meta["title"]
        assert meta["perplexity"] < cut["middle"]
    # The sample's pages are cited by no article of the excerpt: the classifier is not applied, and
    # the run says so first, as a step of the recipe that did not apply.
    wikiref = notes["wikiref_training"]
    assert wikiref["applied"] is False and wikiref["reason"].startswith("not applied: 0 cited pages")
    assert stats["recipe_complete"] is False
    assert [(s["source"], s["step"], s["by"]) for s in stats["incomplete"]] == [("commoncrawl", "quality.wikiref", "run")]
    assert all(json.loads(r["meta"])["wikiref_applied"] is False for r in rows)
