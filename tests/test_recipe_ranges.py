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


def _every_key(node, prefix=""):
    for key, value in node.items():
        if key.startswith("_"):
            continue
        path = f"{prefix}.{key}" if prefix else key
        yield path
        if isinstance(value, dict):
            yield from _every_key(value, path)


def test_every_schema_rule_decides_for_a_key_of_a_bundled_recipe():
    """No stale rule: each decides (is the first match) for some key of some bundled recipe, or says
    in `optional` which key, held by no bundled recipe, it is for."""
    keys = {k for name in recipe.bundled() for k in _every_key(recipe.load(name))}
    deciding = {id(recipe.rule_for(k)) for k in keys}
    stale = [pattern for pattern, spec in recipe.schema() if id(spec) not in deciding and "optional" not in spec]
    assert stale == []


@pytest.mark.parametrize("items, message", [
    (["quality.perplexity.cutoffs.head_percentile=70"],
     "quality.perplexity.cutoffs.head_percentile=70 must be below middle_percentile=60"),
    (["quality.perplexity.cutoffs.given.en=[520, 340]"],
     "quality.perplexity.cutoffs.given.en=[520, 340]: [HEAD, MIDDLE] with HEAD below MIDDLE"),
    (["quality.perplexity.cutoffs.given={\"en\": [340, 340]}"], "[HEAD, MIDDLE] with HEAD below MIDDLE"),
    (["quality.wikiref.settings=nope"],
     "quality.wikiref.settings=nope: not a preset; one of rp1, tutorial (quality.wikiref.presets)"),
    (["commoncrawl.language.languages=[]"],
     "commoncrawl.language.languages must be a JSON list of at least 1 item, whose items are each a string"),
    (["c4.language.languages=[]"], "c4.language.languages must be a JSON list of at least 1 item"),
    (["quality.perplexity.cutoffs.given.sw=[300]"], "must be a JSON list of 2 items"),
    (["quality.perplexity.cutoffs.given={\"sw\": \"low\"}"], "whose values are each a JSON list of 2 items"),
])
def test_values_that_must_agree_are_refused_in_one_line(items, message):
    with pytest.raises(recipe.RecipeError) as e:
        recipe.load(None, items)
    assert message in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_the_cutoffs_refusal_s_own_advice_is_taken():
    """A language cc_net's table lacks: the refusal names the --set that gives it cutoffs; doing just
    that (with numbers for HEAD and MIDDLE) lets the plan through, as does the whole-table form."""
    import shlex

    from pipeline import quality_models

    sets = ['commoncrawl.language.languages=["en","sw"]', "quality.perplexity.cutoffs.mode=given"]
    dumps = ["enwiki.xml.bz2"]  # the LM is trained from the run's Wikipedia: nothing is downloaded here
    with pytest.raises(quality_models.QualityUnavailable) as refused:
        quality_models.plan(recipe.load(None, sets), dumps, cc_bundled=False, download=False)
    line = str(refused.value)
    assert "\n" not in line and "sw" in line
    advice = [w for w in shlex.split(line[line.index("--set"):].split(", or")[0]) if w != "--set"]
    assert advice == ["quality.perplexity.cutoffs.given.sw=[HEAD, MIDDLE]"], line
    taken = recipe.load(None, sets + [advice[0].replace("HEAD", "300").replace("MIDDLE", "500")])
    assert taken["quality"]["perplexity"]["cutoffs"]["given"]["sw"] == [300, 500]
    assert taken["quality"]["perplexity"]["cutoffs"]["given"]["en"] == [340, 520]  # the table kept
    assert quality_models.plan(taken, dumps, cc_bundled=False, download=False).languages == ["en", "sw"]
    whole = recipe.load(None, sets + ['quality.perplexity.cutoffs.given={"sw": [300, 500], "en": [340, 520]}'])
    assert whole["quality"]["perplexity"]["cutoffs"]["given"] == {"sw": [300, 500], "en": [340, 520]}
    quality_models.plan(whole, dumps, cc_bundled=False, download=False)


@pytest.mark.parametrize("item, message", [
    ("quality.wikiref.settings=nope", "quality.wikiref.settings=nope: not a preset; one of rp1, tutorial"),
    ("commoncrawl.language.languages=[]", "commoncrawl.language.languages must be a JSON list of at least 1 item"),
])
def test_the_command_line_refuses_them_before_anything_runs(tmp_path, item, message):
    from tests.conftest import run_pipeline

    out = tmp_path / "out"
    proc = run_pipeline(f"--output={out}", "--sources=commoncrawl", "--set", item, check=False)
    assert proc.returncode == 2, proc.stderr[-2000:]
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("pipeline.run: error: ") and message in line, line
    assert not out.exists()  # no run_state.json left `running`, nothing written
