"""Both bundled recipes run end to end on the bundled samples: `llama` (the default run's
fixture) and `llama-plus` (curation only, to stay cheap), and stats.json names the recipe."""
import gzip
import json

import pytest

from dedup import minhash as mh
from pipeline import recipe
from pipeline.sources import SOURCE_NAMES
from pipeline.stats import recipe_identity
from tests.conftest import ROOT, run_pipeline


def test_default_run_names_the_llama_recipe(default_run_out):
    stats = json.loads((default_run_out / "stats.json").read_text())
    assert stats["recipe"]["name"] == "llama" and stats["recipe"]["version"] == 1
    assert stats["recipe"]["extends"] is None and len(stats["recipe"]["sha256"]) == 64
    # LLaMA's recipe has no near-dedup: nothing is ever dropped as a near duplicate.
    assert all("near_duplicate" not in s["dropped"] for s in stats["sources"].values())


@pytest.fixture(scope="module")
def plus_run(tmp_path_factory):
    """llama-plus on the bundled samples, plus one near copy of a bundled C4 page (true 5-gram
    Jaccard about 0.9), which its near-dedup must take out."""
    tmp = tmp_path_factory.mktemp("plus")
    sample = ROOT / "samples" / "c4" / "c4-sample-00000.json.gz"
    record = max((json.loads(l) for l in gzip.open(sample, "rt", encoding="utf-8")), key=lambda r: len(r["text"]))
    words = record["text"].split(" ")
    words[len(words) // 2] = "greenhouse"
    copy = dict(record, text=" ".join(words), url=record["url"] + "?copy")
    jaccard = mh.shingle_set_jaccard(record["text"], copy["text"])
    with gzip.open(tmp / "c4-copy.json.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps(copy) + "\n")
    out = tmp / "out"
    run_pipeline(f"--output={out}", "--recipe=llama-plus", "--stages=curate",
                 f"--c4_input={sample},{tmp / 'c4-copy.json.gz'}")
    return json.loads((out / "stats.json").read_text()), jaccard


def test_llama_plus_runs_on_the_samples_and_removes_the_near_copy(plus_run):
    stats, jaccard = plus_run
    assert stats["conserved"] and sorted(stats["sources"]) == sorted(SOURCE_NAMES)
    assert all(s["docs_out"] > 0 for s in stats["sources"].values())
    assert jaccard >= 0.8
    assert stats["sources"]["c4"]["dropped"].get("near_duplicate") == 1
    assert stats["recipe"] == dict(stats["recipe"], name="llama-plus", version=1, extends="llama")
    assert stats["recipe"]["sha256"] == recipe_identity(recipe.load("llama-plus"))["sha256"]
