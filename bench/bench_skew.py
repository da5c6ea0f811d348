"""Skew and hot keys at 10x the suite's sizes: every GroupByKey's largest group, beside the same
corpus without the skew (its floor).

    python bench/bench_skew.py [--scale 10]

Cases (tests/test_dataflow_skew.py at --scale 1): a line repeated 2·10^4·scale times through line
dedup; a MinHash bucket of 300·scale near-copies through near-dedup (llama-plus); one document of
3·10^4·scale unique lines (~2·scale MB) among 200 pages through line dedup. Group sizes are the
shuffled bytes per key (tests/skew_probe.py); the CPU seconds of each run are printed beside its
baseline's.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup.line_dedup import LineDedup  # noqa: E402
from dedup.lsh import NearDedup  # noqa: E402
from pipeline import recipe  # noqa: E402
from tests import skew_probe as sp  # noqa: E402

HOT = "Subscribe to our newsletter for the latest news and special offers from our partners"


def timed(stage, docs, out):
    t = time.process_time()
    stats = sp.run_probed(stage, docs, out)
    return stats, time.process_time() - t


def report(name, skew, base, t_skew, t_base):
    print(f"== {name}: kept {skew['kept']} (baseline {base['kept']}); CPU {t_skew:.1f} s (baseline {t_base:.1f} s)")
    print(f"   {'GroupByKey':<58} {'largest group':>14} {'baseline':>10} {'x':>6}")
    for label in sorted(k for k in skew if k != "kept"):
        s, b = skew[label]["max_bytes"], base.get(label, {}).get("max_bytes", 0)
        ratio = f"{s / b:6.1f}" if b else "   new"
        print(f"   {label:<58} {s / 1e3:>11.0f} kB {b / 1e3:>7.0f} kB {ratio}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=10)
    args = ap.parse_args(argv)
    k = args.scale
    work = Path(tempfile.mkdtemp(prefix="bench-skew-"))
    try:
        skew, ts = timed(LineDedup(16, 16), sp.docs_with_lines(2000 * k, 5, 10, HOT), work / "a")
        base, tb = timed(LineDedup(16, 16), sp.docs_with_lines(2000 * k, 5, 10, None), work / "b")
        report(f"line repeated {2 * 10 ** 4 * k:,} times in {2000 * k:,} pages", skew, base, ts, tb)

        giant = sp.docs_with_lines(1, 30000 * k, 0, None, source="giant", start=10 ** 8)[0]
        normal = sp.docs_with_lines(200, 5, 2, None)
        skew, ts = timed(LineDedup(16, 16), normal + [giant], work / "c")
        base, tb = timed(LineDedup(16, 16), normal, work / "d")
        report(f"one document of {len(giant.text) / 1e6:.1f} MB among 200 pages", skew, base, ts, tb)

        cfg = dict(recipe.load("llama-plus")["neardup"])
        n = 300 * k
        skew, ts = timed(NearDedup(cfg, "nd"), sp.near_copies(n) + sp.distinct_pages(n), work / "e")
        base, tb = timed(NearDedup(cfg, "nd"), sp.distinct_pages(2 * n), work / "f")
        report(f"MinHash bucket of {n:,} near-copies (+{n:,} distinct pages)", skew, base, ts, tb)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
