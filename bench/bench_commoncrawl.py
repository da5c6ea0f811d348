"""CommonCrawl path throughput (MB/s per core) beside its floor, measured in the same run.

Floor: a bare Python loop over the same page texts doing only SHA-1 of every line and one fastText
lid.176 predict per page — the irreducible work of line dedup + language id.
Pipeline: `python -m pipeline.run --sources=commoncrawl` on WET files of the same pages
(DirectRunner, one worker): reading WET, CCNet line dedup through the shuffle (global scope),
language id, the quality stage (with `--quality on`, the default: the reference LM trained from
the real enwiki sample's openings, cc_net's document perplexity, computed cutoffs, buckets, and
the Wikipedia-reference classifier trained on a cited-texts file of real prose and applied —
`min_auc` 0, since the bench measures its cost, not its judgement), Parquet shards, stats (exact
dedup is left out under the global scope, where it cannot remove anything). The corpus has site
sidebars (`cc_corpus.build(sidebar=True)`): about half its characters are site-repeated lines.
Target (issue 11): the chain with quality on costs <= 100 CPU-hours per TB of WET text. Per-core figures use CPU seconds (user+sys), so a busy machine skews them
less than wall time; each figure is the best of --repeats.

The whole-run figure includes Python/Beam start-up (a few CPU seconds, fixed); the steady-state
figure subtracts the CPU time of the same pipeline on a one-page corpus, measured in the same run;
the marginal figure is the cost of the second half of the input (full corpus minus a corpus of half
its size): what a TB costs once per-run work (model training, start-up) is paid, the per-TB figure.
This machine's speed drifts from minute to minute, so besides the best-of figures each round's
three measurements (taken back to back) give a ratio of their own, and the median round is printed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cc_corpus import build  # noqa: E402

LID = ROOT.parent / "shared" / "data" / "models" / "lid.176.ftz"


def floor_cpu(texts) -> float:
    import fasttext

    model = fasttext.load_model(str(LID))
    sha1 = hashlib.sha1
    start = time.process_time()
    for text in texts:
        for line in text.split("\n"):
            sha1(line.encode("utf-8")).digest()[:8]
        model.predict([text.replace("\n", " ")], k=1)
    return time.process_time() - start


ENWIKI = ROOT.parent / "shared" / "data" / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def quality_args(work: Path) -> list:
    from tests.quality_fixtures import web_prose

    cited = work / "cited.jsonl"
    cited.write_text("".join(json.dumps({"text": t}) + "\n" for t in web_prose()), encoding="utf-8")
    # Decontamination (issue 15's stage after curation) is left out: the chain measured here is
    # issue 11's read → line dedup → lid → quality; bench/bench_decontam.py measures that stage.
    return [f"--wikipedia_input={ENWIKI}", "--set", f"quality.wikiref.cited_texts={cited}",
            "--set", "quality.wikiref.min_positives=20", "--set", "quality.wikiref.min_auc=0",
            "--set", "decontamination.mode=off"]


def pipeline_cpu(wet_glob: str, out: str, extra: list) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "pipeline.run", "--runner=DirectRunner", "--direct_num_workers=1",
                    "--sources=commoncrawl", f"--commoncrawl_input={wet_glob}", f"--output={out}", "--stages=curate",
                    *extra], cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--megabytes", type=float, default=20.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quality", choices=("on", "off"), default="on", help="Run the quality stage (issue 11's chain).")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cc-"))
    try:
        sidebar = args.quality == "on"
        _, texts, nbytes = build(str(work / "corpus"), args.megabytes, files=8, seed=0, sidebar=sidebar)
        _, _, half_bytes = build(str(work / "half"), args.megabytes / 2, files=4, seed=2, sidebar=sidebar)
        build(str(work / "one-page"), 0.000001, files=1, seed=1, sidebar=sidebar)
        extra = quality_args(work) if args.quality == "on" else ["--set", "commoncrawl.quality=false",
                                                                  "--set", "decontamination.mode=off"]
        mb = nbytes / 1e6
        floors, pipes, halves, fixeds = [], [], [], []
        for i in range(args.repeats):  # interleaved, so a busy spell hurts every figure alike
            floors.append(floor_cpu(texts))
            pipes.append(pipeline_cpu(str(work / "corpus" / "*.wet.gz"), str(work / f"out-{i}"), extra))
            halves.append(pipeline_cpu(str(work / "half" / "*.wet.gz"), str(work / f"out-half-{i}"), extra))
            fixeds.append(pipeline_cpu(str(work / "one-page" / "*.wet.gz"), str(work / f"out-one-{i}"), extra))
        floor, pipe, half, fixed = min(floors), min(pipes), min(halves), min(fixeds)
        rounds = sorted(f / (p - x) for f, p, x in zip(floors, pipes, fixeds))
        marginal = (nbytes - half_bytes) / 1e6 / max(1e-9, pipe - half)  # MB/s/core of the work that grows with input
        print(f"corpus: {mb:.1f} MB, {len(texts)} pages; half corpus {half_bytes / 1e6:.1f} MB; best of {args.repeats} "
              f"(CPU s: floor {floors}, pipeline {pipes}, half {halves}, one-page {fixeds})".replace("[", "").replace("]", ""),
              flush=True)
        print(f"floor (SHA-1 per line + fastText per page)  {mb / floor:.2f} MB/s/core")
        print(f"pipeline, whole run incl. start-up         {mb / pipe:.2f} MB/s/core   ratio {floor / pipe:.2f}")
        print(f"pipeline, steady state (minus {fixed:.1f} s fixed) {mb / (pipe - fixed):.2f} MB/s/core   "
              f"ratio {floor / (pipe - fixed):.2f}" + (" (target >= 0.6, quality off)" if args.quality == "off" else ""))
        print(f"pipeline, marginal (full minus half corpus)  {marginal:.2f} MB/s/core   ratio {marginal * floor / mb:.2f}")
        print(f"steady-state ratio per round (back-to-back measurements): median {statistics.median(rounds):.2f}, "
              f"range {rounds[0]:.2f}-{rounds[-1]:.2f}")
        stats = json.loads((work / "out-0" / "stats.json").read_text())["sources"]["commoncrawl"]
        print(f"funnel: {stats['docs_in']} pages in, {stats['docs_out']} kept, dropped {stats['dropped']}; "
              f"{stats['bytes_out'] / max(1, stats['bytes_in']):.0%} of the bytes kept")
        for label, rate in (("whole run", mb / pipe), ("steady state", mb / (pipe - fixed)), ("marginal", marginal)):
            print(f"CPU-hours per TB of WET text, {label}: {1e6 / rate / 3600:.0f}"
                  + (" (target <= 100 with quality on)" if label == "marginal" else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
