"""The Wikipedia-reference classifier under its two presets (`quality.wikiref.settings`): RedPajama
v1's (`rp1`: fastText defaults, lr 0.1, 5 epochs, dim 100, unigrams, raw text) and the project's
earlier one (`tutorial`: lr 1.0, 25 epochs, dim 32, bigrams, lowercased text).

    .venv/bin/python bench/bench_wikiref_settings.py

No cited page can be fetched offline, so real pages stand in for them (this is a measurement, not
the product's data path), two ways, each page of at least 1,000 characters (RP1's floor):

- `web_prose`: the real web pages that C4 and CCNet kept (../shared/data/c4/*, ccnet/cc_en_head-*);
- `wiki_articles`: the real enwiki sample's articles as plain text (the project's wikitext cleaner).

Negatives and the pages the classifier is applied to: the real English crawl pages of
tests/real_pages.py (trafilatura's evaluation pages and the other real WARCs, every visible line, as
Common Crawl's WET extractor gives them) in the head and middle buckets under the reference LM
trained cc_net's way on the enwiki sample's openings, cutoffs at the 30th/60th percentile of those
pages (as a run without cc_net's models computes them). As in the pipeline: balanced classes,
2-fold cross-fitting; printed: the held-out AUC, and the share of those crawl pages (each scored by
the fold model that did not train on it) with P(wiki) >= 0.25, the share RP1's threshold keeps.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from filters import perplexity as ppl  # noqa: E402
from filters import wikiref  # noqa: E402
from filters.lm_train import train_reference_lm  # noqa: E402
from pipeline import recipe as recipes  # noqa: E402
from pipeline.quality import fold_of, sort_key  # noqa: E402
from pipeline.sources.webtext import wet_title_and_body  # noqa: E402
from tests.conftest import LID_MODEL  # noqa: E402
from tests.quality_fixtures import web_prose, wiki_openings, wiki_texts  # noqa: E402
from tests.real_pages import real_pages  # noqa: E402

FOLDS = 2
MIN_CHARS = 1000
THRESHOLD = 0.25


def crawl_pages_in_kept_buckets(work: str):
    import fasttext

    lid = fasttext.load_model(str(LID_MODEL))
    english = []
    for p in real_pages():
        body = wet_title_and_body(p.title + "\n" + p.text)[1]
        labels, scores = lid.predict([body.replace("\n", " ")])
        if len(body) >= 300 and labels[0][0] == "__label__en" and scores[0][0] >= 0.5:
            english.append((p.url, body))
    info = train_reference_lm(wiki_openings(), work, "en")
    scorer = ppl.PerplexityScorer(info["sp_model"], info["kenlm_model"])
    scored = [(u, b, scorer.perplexity(b)) for u, b in english]
    cut = ppl.exact_cutoffs([v for _, _, v in scored], 30, 60)
    kept = [(u, b) for u, b, v in scored if ppl.bucket_of(v, cut) in ("head", "middle")]
    return english, kept


def measure(positives, pages, preset: dict, work: str) -> dict:
    pages = sorted(pages, key=lambda ub: sort_key(ub[0], "wikiref"))
    negatives = pages[: len(positives)]
    n = min(len(positives), len(negatives))
    pos = [(fold_of(f"pos{i}", FOLDS), t) for i, t in enumerate(positives[:n])]
    neg = [(fold_of(u, FOLDS), t) for u, t in negatives[:n]]
    params = {**preset, "max_chars": 20000}
    paths, pos_s, neg_s, _ = wikiref.cross_fit(pos, neg, FOLDS, params, work)
    scorers = [wikiref.WikirefScorer(p, 20000, preset["text"]) for p in paths]
    page_scores = [scorers[fold_of(u, FOLDS)].score(t) for u, t in pages]
    return {"positives": n, "negatives": n, "held_out_auc": round(wikiref.auc(pos_s, neg_s), 3),
            "crawl_pages": len(pages), "kept_share_at_0.25": round(sum(s >= THRESHOLD for s in page_scores) / len(pages), 3),
            "mean_p_wiki": round(sum(page_scores) / len(page_scores), 3)}


def main() -> None:
    presets = recipes.load()["quality"]["wikiref"]["presets"]
    with tempfile.TemporaryDirectory() as work:
        english, kept = crawl_pages_in_kept_buckets(work)
        standins = {"web_prose": [t for t in web_prose() if len(t) >= MIN_CHARS],
                    "wiki_articles": [t for t in wiki_texts() if len(t) >= MIN_CHARS]}
        out = {"english_crawl_pages": len(english), "head_middle_pages": len(kept), "results": {}}
        for name, positives in standins.items():
            for preset in ("rp1", "tutorial"):
                out["results"][f"{name}/{preset}"] = measure(positives, kept, presets[preset], work)
                print(name, preset, out["results"][f"{name}/{preset}"], flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
