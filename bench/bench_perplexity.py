"""Perplexity scoring throughput: the quality stage's Beam step vs the bare scoring loop.

    .venv/bin/python bench/bench_perplexity.py [--docs N] [--repeat R]

Both sides score the same documents (real web text from ../shared/data: C4 and CCNet pages,
repeated to --docs) with the same reference LM (trained first from the shared enwiki sample):
- floor: a plain Python loop, normalise → SentencePiece → KenLM per line (the work itself);
- pipeline: `pipeline.quality._ScorePerplexity` in a one-worker FnApiRunner pipeline (Create →
  score → count), the DoFn the CommonCrawl path runs; its time minus that of the same pipeline
  with a pass-through step is the scoring step's cost in the pipeline (the Create that embeds
  the test data in the graph is no part of a real run).
Prints MB/s per core for each (best of --repeat) and the ratio, all measured in this run.
Target: pipeline ≥ 0.7 × floor.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.utils import shared  # noqa: E402

from common.record import Document, make_id  # noqa: E402
from filters.lm_train import train_reference_lm  # noqa: E402
from filters.perplexity import PerplexityScorer  # noqa: E402
from filters.text_normalizer import normalized_lines  # noqa: E402
from pipeline.quality import _ScorePerplexity  # noqa: E402
from tests.quality_fixtures import web_prose, wiki_texts  # noqa: E402


def floor_loop(scorer: PerplexityScorer, texts) -> float:
    sp, lm = scorer.sp, scorer.lm
    checksum = 0.0
    for text in texts:
        total = 0.0
        length = 0
        for line in normalized_lines(text):
            pieces = sp.encode(line, out_type=str)
            total += lm.score(" ".join(pieces), bos=True, eos=True)
            length += len(pieces) + 1
        checksum += 10.0 ** (-total / length) if length else 0.0
    return checksum


def pipeline_run(lm: dict, docs, score: bool = True) -> None:
    """Create → (score | pass through) → count. Without scoring it measures what the pipeline
    costs around the step (graph, Create's encoded data, bundles), subtracted from the timing."""
    options = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with beam.Pipeline(runner="FnApiRunner", options=options) as p:
        docs_in = p | beam.Create(docs, reshuffle=False)
        if score:
            out = docs_in | beam.ParDo(_ScorePerplexity(shared.Shared()), lm)
        else:
            out = docs_in | beam.Map(lambda d: d)
        out | beam.combiners.Count.Globally()


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=3000, help="Documents scored per measurement.")
    parser.add_argument("--repeat", type=int, default=3, help="Measurements per side; the best counts.")
    args = parser.parse_args()

    base = web_prose()
    texts = [base[i % len(base)] for i in range(args.docs)]
    docs = [Document(make_id("commoncrawl", str(i)), "commoncrawl", t, None, {}) for i, t in enumerate(texts)]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    with tempfile.TemporaryDirectory() as work:
        info = train_reference_lm(wiki_texts(), work, vocab_size=16000)
        lm = {"sp_model": info["sp_model"], "kenlm_model": info["kenlm_model"]}
        scorer = PerplexityScorer(lm["sp_model"], lm["kenlm_model"])
        floor_loop(scorer, texts[:50])  # warm caches
        t_floor = best_of(args.repeat, lambda: floor_loop(scorer, texts))
        t_pipe = best_of(args.repeat, lambda: pipeline_run(lm, docs))
        t_base = best_of(args.repeat, lambda: pipeline_run(lm, docs, score=False))
    floor, pipe, whole = mb / t_floor, mb / max(1e-9, t_pipe - t_base), mb / t_pipe
    print(f"documents {args.docs}, {mb:.2f} MB of text, 1 core each side, best of {args.repeat}")
    print(f"floor    (normalise + SentencePiece + KenLM loop):     {floor:6.2f} MB/s/core")
    print(f"pipeline scoring step (with minus without the step):  {pipe:6.2f} MB/s/core")
    print(f"  whole toy pipeline incl. Create/graph ({t_base:.2f} s without scoring): {whole:6.2f} MB/s/core")
    print(f"ratio pipeline/floor: {pipe / floor:.2f} (target >= 0.70)")


if __name__ == "__main__":
    main()
