"""How much Wikipedia text a reference LM needs: the measurement behind `quality.lm.min_training_chars`.

    .venv/bin/python bench/bench_lm_floor.py

The reference LM (cc_net's way: SentencePiece unigram + 5-gram KenLM) is trained on random subsets
of the real enwiki sample's article openings (5% … 100%, two draws each) and scores the real
English crawl pages of tests/real_pages.py (cc_net's document perplexity). Each subset's ranking of
the pages is compared with the ranking under an LM trained on the sample's whole articles (~20×
more text): Spearman's rank correlation, and the share of pages on the same side of the 60th
percentile (kept as head+middle, or dropped as tail). Below the floor the rankings fall toward
what a few thousand characters give; above it they are as stable as the sample allows.
"""
from __future__ import annotations

import os
import random
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from bench import record  # noqa: E402
from filters.lm_train import train_reference_lm  # noqa: E402
from filters.perplexity import PerplexityScorer  # noqa: E402
from pipeline.sources.webtext import wet_title_and_body  # noqa: E402
from tests.conftest import LID_MODEL as LID  # noqa: E402
from tests.quality_fixtures import wiki_openings, wiki_texts  # noqa: E402
from tests.real_pages import real_pages  # noqa: E402


def english_pages():
    import fasttext

    lid = fasttext.load_model(str(LID))
    out = []
    for p in real_pages():
        body = wet_title_and_body(p.title + "\n" + p.text)[1]
        if len(body) >= 300 and lid.predict([body.replace("\n", " ")])[0][0][0] == "__label__en":
            out.append(body)
    return out


def perplexities(texts, pages, work):
    info = train_reference_lm(texts, tempfile.mkdtemp(dir=work), "en")
    scorer = PerplexityScorer(info["sp_model"], info["kenlm_model"])
    return np.array([scorer.perplexity(p) for p in pages]), info


def ranks(values):
    return np.argsort(np.argsort(values))


def main() -> None:
    session = record.Session("lm_floor")
    pages = english_pages()
    openings = list(wiki_openings())
    with tempfile.TemporaryDirectory() as work:
        reference, ref_info = perplexities(list(wiki_texts()), pages, work)
        print(f"{len(pages)} English crawl pages; reference LM on whole articles: {ref_info['chars']} characters")
        session.figure("reference", "English crawl pages; the reference LM's training text (whole articles), characters",
                       f"{len(pages)} pages; {ref_info['chars']:,}")
        print(f"{'openings':>9} {'characters':>10} {'rank corr.':>10} {'same keep/drop':>14}")
        rng = random.Random(0)
        for frac in (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0):
            for _ in range(2 if frac < 1 else 1):
                subset = rng.sample(openings, max(1, int(len(openings) * frac)))
                values, info = perplexities(subset, pages, work)
                rho = np.corrcoef(ranks(values), ranks(reference))[0, 1]
                same = np.mean((values < np.percentile(values, 60)) == (reference < np.percentile(reference, 60)))
                print(f"{info['documents']:>9} {info['chars']:>10} {rho:>10.3f} {same:>14.3f}")
                session.figure(f"{frac}-{_}", f"{info['documents']} openings, {info['chars']:,} characters: rank "
                               "correlation; same keep/drop side of the 60th percentile", f"{rho:.3f}; {same:.3f}")
    # Deterministic (seeded draws, seeded training): one run.
    session.write()


if __name__ == "__main__":
    main()
