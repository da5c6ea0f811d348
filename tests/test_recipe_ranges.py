"""Every recipe value has a declared type and range (pipeline/recipes/schema.json), every bundled
recipe lies inside them, and a value outside is refused in one line naming the range: from --set
and from a folder recipe alike (issue 25)."""
from __future__ import annotations

import json
import shutil

import pytest

from pipeline import recipe


@pytest.mark.parametrize("name", recipe.bundled())
def test_every_value_of_every_bundled_recipe_has_a_rule_and_keeps_it(name):
    values = list(recipe.leaves(recipe.load(name)))
    assert len(values) > 200
    assert [path for path, _ in values if recipe.rule_for(path) is None] == []
    assert [(path, v) for path, v in values if recipe.out_of_range(path, v)] == []


@pytest.mark.parametrize("item, message", [
    ("commoncrawl.language.threshold=1.5", "--set commoncrawl.language.threshold=1.5: commoncrawl.language.threshold "
                                           "must be a number in [0, 1] (the recipe has 0.5)"),
    ("commoncrawl.language.threshold=-0.1", "must be a number in [0, 1]"),
    ("commoncrawl.min_chars=-5", "--set commoncrawl.min_chars=-5: commoncrawl.min_chars must be an integer >= 0 "
                                 "(the recipe has 300)"),
    ("commoncrawl.max_files=0", "commoncrawl.max_files must be an integer >= 1 or null"),
    ("quality.perplexity.keep_buckets=[\"head\",\"top\"]",
     "quality.perplexity.keep_buckets must be a JSON list whose items are each one of head, middle, tail"),
    ("tokenizer.trainer.vocab_size=70000", "tokenizer.trainer.vocab_size must be an integer in [1, 65536]"),
    ("quality.wikiref.folds=1", "quality.wikiref.folds must be an integer >= 2"),
    ("quality.wikiref.fetch_cited.rate_per_s=0", "must be a number > 0"),
    ("decontamination.mode=strip", "decontamination.mode must be one of off, report, drop, mask"),
    ("mixture.c4.share=1.5", "mixture.c4.share must be a number in [0, 1]"),
])
def test_set_refuses_a_value_out_of_range(item, message):
    with pytest.raises(recipe.RecipeError) as e:
        recipe.load(None, [item])
    assert message in str(e.value) and "\n" not in str(e.value)


def test_values_at_the_edges_of_their_range_are_taken():
    r = recipe.load(None, ["commoncrawl.language.threshold=1", "commoncrawl.language.threshold=0",
                           "commoncrawl.min_chars=0", "commoncrawl.max_files=1", "commoncrawl.max_files=null",
                           "tokenizer.trainer.vocab_size=65536"])
    assert r["commoncrawl"]["language"]["threshold"] == 0.0 and r["commoncrawl"]["max_files"] is None


def test_a_folder_recipe_out_of_range_is_refused(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(recipe.DEFAULT_RECIPE_DIR, folder)
    cc = json.loads((folder / "commoncrawl.json").read_text())
    cc["language"]["threshold"] = 50  # a percentage where a probability is meant
    (folder / "commoncrawl.json").write_text(json.dumps(cc))
    with pytest.raises(recipe.RecipeError) as e:
        recipe.load(str(folder))
    assert str(e.value) == (f"--recipe={folder}: commoncrawl.language.threshold=50: "
                            "commoncrawl.language.threshold must be a number in [0, 1]")
