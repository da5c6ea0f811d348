"""The recipe as data (defaults + overrides) and the stats conservation rule."""
import json

import pytest

from common import events as ev
from pipeline import recipe
from pipeline.stats import recipe_identity, summarize


def test_llama_defaults_and_overrides():
    r = recipe.load()
    assert r["mixture"]["commoncrawl"] == {"share": 0.67, "epochs": 1.10}
    assert r["commoncrawl"]["min_chars"] == 300 and r["commoncrawl"]["language"]["threshold"] == 0.5
    assert round(sum(v["share"] for k, v in r["mixture"].items() if not k.startswith("_")), 6) == 1.0
    r = recipe.load(overrides=["commoncrawl.min_chars=500", 'commoncrawl.language.languages=["en","de"]',
                               "neardup.scope=cross_source", "neardup.enabled=true"])
    assert r["commoncrawl"]["min_chars"] == 500
    assert r["commoncrawl"]["language"]["languages"] == ["en", "de"]
    assert r["neardup"]["scope"] == "cross_source" and r["neardup"]["enabled"] is True
    with pytest.raises(ValueError):
        recipe.load(overrides=["no_equals_sign"])


def test_named_recipes_llama_has_no_near_dedup_and_plus_extends_it():
    llama, plus = recipe.load("llama"), recipe.load("llama-plus")
    assert llama["version"]["name"] == "llama" and plus["version"]["name"] == "llama-plus"
    assert llama["neardup"]["enabled"] is False and plus["neardup"]["enabled"] is True
    # Everything llama-plus does not overlay is llama's; its line dedup runs over the whole run.
    assert (llama["commoncrawl"]["line_dedup"]["scope"], plus["commoncrawl"]["line_dedup"]["scope"]) == ("groups", "global")
    plus_cc = json.loads(json.dumps(plus["commoncrawl"]))
    plus_cc["line_dedup"]["scope"] = "groups"
    assert plus_cc == llama["commoncrawl"] and plus["neardup"]["bands"] == llama["neardup"]["bands"]


@pytest.mark.parametrize("item, words", [
    ("foo.bar=1", ["unknown key 'foo'"]),
    ("c4.min_chrs=1", ["unknown key 'min_chrs'", "c4 has:"]),
    ("commoncrawl.min_char=5", ["did you mean commoncrawl.min_chars?"]),
    ("commoncrawl.min_chars=abc", ["commoncrawl.min_chars", "expected an integer"]),
    ("commoncrawl.language.threshold=[1]", ["expected a number"]),
    ("commoncrawl.min_chars.x=1", ["commoncrawl.min_chars is a value"]),
])
def test_set_refuses_unknown_keys_and_wrong_types(item, words):
    with pytest.raises(recipe.RecipeError) as e:
        recipe.load(overrides=[item])
    for w in words:
        assert w in str(e.value)


def test_recipe_by_folder_and_unknown_name(tmp_path):
    (tmp_path / "version.json").write_text('{"name": "mine", "version": 1, "extends": "llama"}')
    (tmp_path / "commoncrawl.json").write_text('{"min_chars": 1000}')
    r = recipe.load(str(tmp_path))
    assert r["commoncrawl"]["min_chars"] == 1000 and r["commoncrawl"]["language"]["threshold"] == 0.5
    assert r["version"]["name"] == "mine"
    with pytest.raises(recipe.RecipeError, match="bundled recipes: llama, llama-plus"):
        recipe.load("/nonexistent")


def counts(events):
    out = {}
    for e in events:
        n, b = out.get((e.source, e.kind, e.reason), (0, 0))
        out[(e.source, e.kind, e.reason)] = (n + e.count, b + e.nbytes)
    return list(out.items())


def test_summary_conserves_or_says_so():
    good = [ev.read("c4", 10), ev.read("c4", 20), ev.read("c4", 5), ev.written("c4", 9), ev.drop("c4", "too_short", 20),
            ev.bad_input("c4", "malformed_json", "f.json", "line 3")]
    s = summarize(counts(good), ["c4", "books"])
    assert s["conserved"] and s["sources"]["c4"]["dropped"] == {"bad_input:malformed_json": 1, "too_short": 1}
    assert s["sources"]["c4"]["bytes_in"] == 35 and s["sources"]["c4"]["bytes_out"] == 9
    assert s["sources"]["books"] == {"docs_in": 0, "docs_out": 0, "dropped": {}, "bytes_in": 0, "bytes_out": 0,
                                     "conserved": True}
    lost = summarize(counts(good + [ev.read("c4", 7)]), ["c4"])  # a document read and never accounted for
    assert not lost["conserved"] and not lost["sources"]["c4"]["conserved"]


def test_stats_name_the_recipe_and_tell_overrides_apart():
    plus = recipe.load("llama-plus")
    s = summarize([], ["c4"], plus)
    assert {k: s["recipe"][k] for k in ("name", "version", "extends")} == {
        "name": "llama-plus", "version": 1, "extends": "llama"}
    assert recipe_identity(plus) == recipe_identity(recipe.load("llama-plus"))  # same values, same digest
    assert recipe_identity(plus)["sha256"] != recipe_identity(recipe.load("llama-plus", ["c4.rules.min_words_per_line=3"]))["sha256"]
    assert "recipe" not in summarize([], ["c4"])


def test_summary_funnel_puts_each_reason_in_its_step_and_checks_the_bytes():
    """stats.json `steps` from the events alone (pipeline/funnel.py): a reason goes to the step
    whose family starts it, a trim (text cut from kept documents) lowers that step's bytes out,
    the bytes left after the last step must be the bytes written, and a reason no step claims is
    shown in an `unassigned` step rather than hidden."""
    from pipeline import funnel

    names = ["read", "length", "line_dedup", "language", "decontamination", "sink"]
    events = [ev.read("commoncrawl", 1000, count=5), ev.drop("commoncrawl", "too_short", 100),
              ev.drop("commoncrawl", "line_dedup_empty", 50), ev.trimmed("commoncrawl", "line_dedup", 200, 190, count=2),
              ev.drop("commoncrawl", "language_not_kept", 250), ev.written("commoncrawl", 400, count=2)]
    s = summarize(counts3(events), ["commoncrawl"], None, {"commoncrawl": names})["sources"]["commoncrawl"]
    assert [st["step"] for st in s["steps"]] == names
    step = {st["step"]: st for st in s["steps"]}
    assert step["length"]["dropped"] == {"too_short": 1} and step["length"]["bytes_out"] == 900
    assert step["line_dedup"]["trimmed"] == {"docs": 2, "bytes": 200, "chars": 190}
    assert (step["line_dedup"]["docs_out"], step["line_dedup"]["bytes_out"]) == (3, 650)
    assert (step["sink"]["docs_in"], step["sink"]["bytes_in"], step["sink"]["bytes_out"]) == (2, 400, 400)
    assert s["bytes_conserved"] and s["conserved"]
    # text cut without being counted: the bytes do not add up, and stats.json says so
    uncounted = [e for e in events if e.kind != ev.TRIM]
    assert not summarize(counts3(uncounted), ["commoncrawl"], None, {"commoncrawl": names})["sources"]["commoncrawl"]["bytes_conserved"]
    # a reason no commoncrawl step claims
    odd = summarize(counts3(events + [ev.read("commoncrawl", 5), ev.drop("commoncrawl", "mystery", 5)]), ["commoncrawl"],
                    None, {"commoncrawl": names})
    assert odd["sources"]["commoncrawl"]["steps"][-2]["step"] == "unassigned"
    assert funnel.unassigned(odd) == {"commoncrawl": ["mystery"]}


def counts3(events):
    out = {}
    for e in events:
        n, b, c = out.get((e.source, e.kind, e.reason), (0, 0, 0))
        out[(e.source, e.kind, e.reason)] = (n + e.count, b + e.nbytes, c + e.chars)
    return list(out.items())
