"""CommonCrawl path throughput (MB/s per core) beside its floor, measured in the same run.

Floor: a bare Python loop over the same page texts doing only SHA-1 of every line and one fastText
lid.176 predict per page — the irreducible work of line dedup + language id.
Pipeline: `python -m pipeline.run --sources=commoncrawl` on WET files of the same pages
(DirectRunner, one worker): reading WET, CCNet line dedup through the shuffle, language id,
exact dedup, Parquet shards, stats. Per-core figures use CPU seconds (user+sys), so a busy
machine skews them less than wall time; each figure is the best of --repeats.

The whole-run figure includes Python/Beam start-up (a few CPU seconds, fixed); the marginal figure
compares a corpus of twice the size to separate it out.
"""
from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
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


def pipeline_cpu(wet_glob: str, out: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "pipeline.run", "--runner=DirectRunner", "--direct_num_workers=1",
                    "--sources=commoncrawl", f"--commoncrawl_input={wet_glob}", f"--output={out}", "--stages=curate",
                    "--set", "commoncrawl.quality=false", "--set", "neardup.enabled=false"],
                   cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--megabytes", type=float, default=20.0)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cc-"))
    try:
        sizes = {}
        for label, mb in (("base", args.megabytes), ("double", 2 * args.megabytes)):
            _, texts, nbytes = build(str(work / label), mb, files=8, seed=0)
            floor = min(floor_cpu(texts) for _ in range(args.repeats))
            pipe = min(pipeline_cpu(str(work / label / "*.wet.gz"), str(work / f"out-{label}")) for _ in range(args.repeats))
            sizes[label] = (nbytes / 1e6, floor, pipe)
            print(f"{label}: {nbytes / 1e6:.1f} MB, {len(texts)} pages | floor {nbytes / 1e6 / floor:.2f} MB/s/core "
                  f"({floor:.1f} CPU s) | pipeline {nbytes / 1e6 / pipe:.2f} MB/s/core ({pipe:.1f} CPU s) | "
                  f"ratio {floor / pipe:.2f}", flush=True)
        (mb1, f1, p1), (mb2, f2, p2) = sizes["base"], sizes["double"]
        marginal_floor = (mb2 - mb1) / (f2 - f1)
        marginal_pipe = (mb2 - mb1) / (p2 - p1)
        print(f"marginal (double − base): floor {marginal_floor:.2f} MB/s/core | pipeline {marginal_pipe:.2f} MB/s/core | "
              f"ratio {marginal_pipe / marginal_floor:.2f} (target ≥ 0.6)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
