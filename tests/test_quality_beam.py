"""CCNetQuality in Beam on real text: LM and classifier trained inside the pipeline, computed and
given cutoffs, the <ref> join and its fallback, stats reasons, conservation, determinism."""
from __future__ import annotations

import json
import pickle

import apache_beam as beam

from common import events as ev
from common.record import Document, make_id
from pipeline import recipe as recipes
from pipeline.quality import CCNetQuality
from tests.quality_fixtures import ENWIKI, boilerplate_pages, web_prose, wiki_pages, wiki_texts


def _recipe(**overrides):
    recipe = recipes.load()
    q = recipe["quality"]
    q["lm"]["train"].update({"max_docs": 40, "vocab_size": 8000})
    for key, value in overrides.items():
        recipes.apply_override(recipe, f"quality.{key}={json.dumps(value)}")
    return recipe


def _cc_docs(cited_urls=()):
    """Real web pages as CommonCrawl documents; the first len(cited_urls) get a URL Wikipedia cites."""
    docs = []
    pages = [(f"https://example.invalid/web/{i}", t) for i, t in enumerate(web_prose())] + list(boilerplate_pages())
    for i, (url, text) in enumerate(pages):
        if i < len(cited_urls):
            url = cited_urls[i]
        docs.append(Document(make_id("commoncrawl", url, str(i)), "commoncrawl", text, url, {}))
    return docs


def _wiki_docs():
    return [Document(make_id("wikipedia", "en", str(p.page_id)), "wikipedia", t, None, {"title": p.title})
            for p, t in zip(wiki_pages(), wiki_texts())]


def _dump(items, path):
    with open(path, "wb") as f:
        pickle.dump(sorted(items), f)


def _run(recipe, models_dir, docs, dumps):
    out = {"kept": str(models_dir) + ".kept.pkl", "events": str(models_dir) + ".events.pkl"}
    with beam.Pipeline(runner="FnApiRunner") as p:
        cc = p | "CC" >> beam.Create(docs)
        wiki = p | "Wiki" >> beam.Create(_wiki_docs())
        kept, events = cc | CCNetQuality(recipe, str(models_dir), reference_docs=wiki, wikipedia_dumps=dumps)
        for name, pcoll in (("kept", kept), ("events", events)):
            pcoll | f"List{name}" >> beam.combiners.ToList() | f"Dump{name}" >> beam.Map(_dump, out[name])
    with open(out["kept"], "rb") as f, open(out["events"], "rb") as g:
        return pickle.load(f), pickle.load(g)


def test_quality_stage_trains_both_models_and_conserves(tmp_path):
    docs = _cc_docs()
    kept, events = _run(_recipe(), tmp_path / "models", docs, [str(ENWIKI)])
    drops = [e for e in events if e.kind == ev.DROP]
    assert len(kept) + len(drops) == len(docs)  # conservation
    reasons = {e.reason for e in drops}
    assert reasons <= {"perplexity_tail", "wikiref_below_threshold"} and "perplexity_tail" in reasons
    tail = sum(e.reason == "perplexity_tail" for e in drops)
    assert abs(tail - 0.4 * len(docs)) <= 1  # computed 60th percentile cutoff
    for doc in kept:
        assert doc.meta["bucket"] in ("head", "middle") and doc.meta["perplexity"] > 0
        assert doc.meta["wikiref_score"] >= 0.25
    menu_urls = {u for u, _ in boilerplate_pages()}
    assert not menu_urls & {d.url for d in kept}  # menus are tail or not reference-like
    models = tmp_path / "models"
    cutoffs = json.loads((models / "perplexity_cutoffs.json").read_text())
    assert cutoffs["documents"] == len(docs) and cutoffs["head"] < cutoffs["middle"]
    note = json.loads((models / "wikiref_training.json").read_text())
    # No page of this sample is cited by the enwiki sample: Wikipedia text stood in, and it says so.
    assert note["positives_source"] == "wikipedia_articles" and note["cited_pages"] == 0
    assert len(note["models"]) == 2
    assert (models / "wiki.sp.model").exists() and (models / "wiki.arpa.bin").exists()

    # Deterministic: a second run gives the same models and the same documents.
    kept2, _ = _run(_recipe(), tmp_path / "models2", docs, [str(ENWIKI)])
    for name in ("wiki.sp.model", "wiki.arpa.bin", "wikiref.fold0.bin", "wikiref.fold1.bin"):
        assert (models / name).read_bytes() == (tmp_path / "models2" / name).read_bytes(), name
    assert sorted(kept, key=lambda d: d.id) == sorted(kept2, key=lambda d: d.id)


def test_cited_pages_join_and_given_cutoffs(tmp_path):
    from filters.wikiref import extract_ref_urls

    cited = [u for p in wiki_pages()[:3] for u in extract_ref_urls(p.text)][:12]
    # The same pages as crawled: other scheme, "www." and trailing-slash variants must still match.
    crawled = [u.replace("http://www.", "https://").rstrip("/") + "/" for u in cited]
    docs = _cc_docs(crawled)
    recipe = _recipe(**{"wikiref.min_cited_positives": 10,
                        "perplexity.cutoffs": {"mode": "given", "head": 1e9, "middle": 2e9}})
    kept, events = _run(recipe, tmp_path / "models", docs, [str(ENWIKI)])
    note = json.loads((tmp_path / "models" / "wikiref_training.json").read_text())
    assert note["positives_source"] == "cited_pages" and note["cited_pages"] == len(set(crawled))
    # Given cutoffs far above every perplexity: everything is head, nothing dropped by buckets.
    assert not [e for e in events if e.reason.startswith("perplexity_")]
    assert {d.meta["bucket"] for d in kept} == {"head"}
    assert len(kept) + len(events) == len(docs)


def test_given_models_and_no_wikiref(tmp_path):
    from filters.lm_train import train_reference_lm

    lm = train_reference_lm(wiki_texts()[:20], str(tmp_path / "lm"), vocab_size=4000)
    recipe = _recipe(**{"lm.sp_model": lm["sp_model"], "lm.kenlm_model": lm["kenlm_model"], "wikiref.enabled": False,
                        "perplexity.keep_buckets": ["head"]})
    docs = _cc_docs()
    kept, events = _run(recipe, tmp_path / "models", docs, [])
    reasons = {e.reason for e in events}
    assert reasons == {"perplexity_middle", "perplexity_tail"}
    assert {d.meta["bucket"] for d in kept} == {"head"} and all("wikiref_score" not in d.meta for d in kept)
    assert len(kept) + len(events) == len(docs)
    assert not (tmp_path / "models" / "wiki.arpa.bin").exists()  # given, not trained


def test_cited_pages_to_fetch_are_distinct(tmp_path):
    from filters import wikiref
    from pipeline.quality import cited_to_fetch

    refs = [(k, u) for p in wiki_pages() for u in wikiref.extract_ref_urls(p.text) if (k := wikiref.normalize_url(u))]
    keys = {k for k, _ in refs}
    assert len(refs) > len(keys)  # the sample cites some pages many times
    out = tmp_path / "sample.pkl"
    with beam.Pipeline(runner="FnApiRunner") as p:
        cited_to_fetch(p | beam.Create(refs), len(refs)) | beam.Map(lambda sample: pickle.dump(sample, open(out, "wb")))
    sample = pickle.load(open(out, "rb"))
    # One fetch per cited page, not one per citation (a popular page would crowd out the rest).
    assert len(sample) == len(keys) and {k for k, _ in sample} == keys
    assert all(u == min(v for k2, v in refs if k2 == k) for k, u in sample[:20])
