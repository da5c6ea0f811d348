"""A rerun into the same --output reports its own quality models, never an earlier run's.

The quality stage writes notes of how each model was made (reference_lm.json, perplexity_cutoffs.json,
wikiref_training.json) into the models folder; stats.json, the completeness verdict and the
report's header are made from them. Three runs of real pages into one OUT:

1. given LM, classifier trained in the run: no cited page, so it does not apply (recipe incomplete);
2. the same with a given classifier: it applies, and the run says the recipe ran whole;
3. quality off: no LM, no cutoffs, no classifier listed anywhere; a model file a user put in the
   models folder is still there.
"""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tests.conftest import run_pipeline
from tests.quality_fixtures import boilerplate_pages, web_prose, wiki_openings
from tests.real_pages import real_pages, write_wet


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from filters import wikiref
    from filters.lm_train import train_reference_lm

    d = tmp_path_factory.mktemp("notes")
    write_wet(real_pages()[:40], d / "pages.warc.wet.gz")
    lm = d / "lm"
    train_reference_lm(wiki_openings()[:60], str(lm), "en", vocab_size=4000)
    classifier = d / "mine.bin"
    wikiref.train_classifier(list(web_prose()), [t for _, t in boilerplate_pages()], str(classifier),
                             {"epoch": 20, "lr": 0.2, "dim": 16, "seed": 0, "bucket": 10000})
    out = d / "out"
    common = [f"--output={out}", "--stages=curate", "--sources=commoncrawl",
              f"--commoncrawl_input={d}/pages.warc.wet.gz",
              "--set", f"quality.lm.sp_model={lm}/{{lang}}.sp.model", "--set", f"quality.lm.kenlm_model={lm}/{{lang}}.arpa.bin",
              "--set", "quality.perplexity.cutoffs.mode=computed"]
    seen = []

    def run(*extra):
        proc = run_pipeline(*common, *extra)
        stats = json.loads((out / "stats.json").read_text())
        run_json = json.loads((out / "run.json").read_text())
        rows = [r for p in sorted((out / "curated" / "commoncrawl").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
        seen.append({"stderr": proc.stderr, "stats": stats, "run": run_json, "rows": rows,
                     "report": (out / "report.html").read_text()})

    run()
    (out / "models" / "users-own.arpa.bin").write_bytes(b"a user's model, kept")
    run("--set", f"quality.wikiref.model={classifier}")
    run("--set", "commoncrawl.quality=false")
    return out, classifier, seen


def test_first_run_lists_its_classifier_as_not_applied(runs):
    _, _, (first, *_) = runs
    assert first["stats"]["recipe_complete"] is False
    assert first["stats"]["models"]["wikiref_training"]["reason"].startswith("not applied: 0 cited pages")


def test_a_rerun_with_a_given_classifier_reports_it_and_the_recipe_whole(runs):
    out, classifier, (_, given, _) = runs
    assert given["rows"] and all(json.loads(r["meta"])["wikiref_applied"] is True for r in given["rows"])
    assert given["stats"]["recipe_complete"] is True and given["stats"]["incomplete"] == []
    assert given["run"]["recipe_complete"] is True
    note = given["stats"]["models"]["wikiref_training"]
    assert note["applied"] is True and note["given"] == str(classifier)
    assert "RECIPE INCOMPLETE" not in given["stderr"] and "Recipe incomplete" not in given["report"]


def test_a_rerun_without_quality_lists_no_earlier_model(runs):
    out, _, (first, _, off) = runs
    assert "reference_lm" in first["stats"]["models"]
    assert "models" not in off["stats"]  # no LM, cutoffs or classifier of an earlier run
    (step,) = off["stats"]["incomplete"]
    assert (step["step"], step["by"]) == ("quality", "user")
    assert "reference LM" not in off["report"] and "perplexity cutoffs" not in off["report"]
    assert not any(json.loads(r["meta"]).get("perplexity") for r in off["rows"])
    assert sorted(p.name for p in (out / "models").glob("*.json")) == []
    assert (out / "models" / "users-own.arpa.bin").read_bytes() == b"a user's model, kept"
