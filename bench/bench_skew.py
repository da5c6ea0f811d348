"""Skew and hot keys at 10x the suite's sizes: every GroupByKey's largest group, beside the same
corpus without the skew (its floor).

    python bench/bench_skew.py [--scale 10] [--hot_key_size 32] [--only line|giant|neardup]

Cases (tests/test_dataflow_skew.py at --scale 1): a line repeated 2·10^4·scale times through line
dedup; a MinHash bucket of 300·scale near-copies through near-dedup (llama-plus, hot_key_size 32 as
in the test), beside a bucket of half that size and beside none; one document of
3·10^4·scale unique lines (~2·scale MB) among 200 pages through line dedup. Group sizes are the
shuffled bytes per key (tests/skew_probe.py), the same on every run: one run, its group sizes in
bench/results/skew.json; the CPU seconds of each run are printed beside its baseline's.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import record  # noqa: E402
from bench.cputime import cpu  # noqa: E402
from dedup.line_dedup import LineDedup  # noqa: E402
from dedup.lsh import NearDedup  # noqa: E402
from pipeline import recipe  # noqa: E402
from tests import skew_probe as sp  # noqa: E402

HOT = "Subscribe to our newsletter for the latest news and special offers from our partners"


def timed(stage, docs, out):
    t = cpu()
    stats = sp.run_probed(stage, docs, out)
    return stats, cpu() - t


def _rounds_merged(stats):
    """The star phases' GroupByKeys, one line each over their rounds (the largest of any round)."""
    out = {}
    for label, s in stats.items():
        if label == "kept":
            continue
        key = re.sub(r"(LargeStar|SmallStar)\d\d", r"\1NN", label)
        if key not in out or s["max_bytes"] > out[key]["max_bytes"]:
            out[key] = s
    return out


SESSION = None


def report(name, skew, base, t_skew, t_base):
    print(f"== {name}: kept {skew['kept']} (baseline {base['kept']}); CPU {t_skew:.1f} s (baseline {t_base:.1f} s)")
    SESSION.figure(f"case {name}", f"**{name}**: kept (baseline)", f"{skew['kept']:,} ({base['kept']:,})")
    print(f"   {'GroupByKey (NN: the largest over the rounds)':<52} {'largest group':>14} {'values':>7} "
          f"{'baseline':>10} {'x':>6}")
    skew, base = _rounds_merged(skew), _rounds_merged(base)
    for label in sorted(skew):
        s, b = skew[label]["max_bytes"], base.get(label, {}).get("max_bytes", 0)
        ratio = f"{s / b:6.1f}" if b else "   new"
        print(f"   {label:<52} {s / 1e3:>11.1f} kB {skew[label]['max_values']:>7} {b / 1e3:>7.1f} kB {ratio}")
        SESSION.figure(f"{name} {label}", f"  `{label}`: largest group, kB (baseline kB, ×)",
                       f"{s / 1e3:,.1f} ({b / 1e3:,.1f}, {ratio.strip()})")


def line_case(k, work):
    skew, ts = timed(LineDedup(16, 16), sp.docs_with_lines(2000 * k, 5, 10, HOT), work / "a")
    base, tb = timed(LineDedup(16, 16), sp.docs_with_lines(2000 * k, 5, 10, None), work / "b")
    report(f"line repeated {2 * 10 ** 4 * k:,} times in {2000 * k:,} pages", skew, base, ts, tb)


def giant_case(k, work):
    giant = sp.docs_with_lines(1, 30000 * k, 0, None, source="giant", start=10 ** 8)[0]
    normal = sp.docs_with_lines(200, 5, 2, None)
    skew, ts = timed(LineDedup(16, 16), normal + [giant], work / "c")
    base, tb = timed(LineDedup(16, 16), normal, work / "d")
    report(f"one document of {len(giant.text) / 1e6:.1f} MB among 200 pages", skew, base, ts, tb)


def neardup_case(k, work, hot_key_size):
    # As the test: the bucket beside one of half its size in as many pages (a group that holds the
    # bucket doubles with it), then beside no bucket at all.
    cfg = dict(recipe.load("llama-plus")["neardup"], hot_key_size=hot_key_size)
    n = 300 * k
    skew, ts = timed(NearDedup(cfg, "nd"), sp.near_copies(n) + sp.distinct_pages(n), work / "e")
    half, th = timed(NearDedup(cfg, "nd"), sp.near_copies(n // 2) + sp.distinct_pages(3 * n // 2), work / "f")
    report(f"MinHash bucket of {n:,} near-copies (+{n:,} distinct pages), hot_key_size {hot_key_size}; "
           f"baseline: a bucket of {n // 2:,} (+{3 * n // 2:,})", skew, half, ts, th)
    base, tb = timed(NearDedup(cfg, "nd"), sp.distinct_pages(2 * n), work / "g")
    report(f"the same; baseline: {2 * n:,} distinct pages", skew, base, ts, tb)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--hot_key_size", type=int, default=32, help="neardup.hot_key_size (the test's: 32)")
    ap.add_argument("--only", choices=("line", "giant", "neardup"), help="run one case")
    args = ap.parse_args(argv)
    global SESSION
    SESSION = record.Session("skew" if args.only is None else f"skew_{args.only}", argv)
    work = Path(tempfile.mkdtemp(prefix="bench-skew-"))
    try:
        if args.only in (None, "line"):
            line_case(args.scale, work)
        if args.only in (None, "giant"):
            giant_case(args.scale, work)
        if args.only in (None, "neardup"):
            neardup_case(args.scale, work, args.hot_key_size)
        # Group sizes are bytes, the same on every run: one run; the CPU seconds are printed only.
        SESSION.write()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
