"""What the whole LLaMA build costs, predicted from the benchmarks' measurements.

    python -m pipeline.cost [--workers 200] [--vcpus_per_worker 4] [--price_vcpu_hour 0.056] …

Reads the per-stage CPU seconds per MB that the benchmarks wrote to bench/results/*.json
(`make bench`; the committed files are a dated snapshot), only from files whose clock is CPU time
(`"clock"`, written by bench/record.py: CPU seconds of the process and its children; a file
without it is named and left out, never read as CPU), the best run's rate (the least disturbed
by other work on the machine), and multiplies each by the bytes that stage
sees in the LLaMA build — five CommonCrawl dumps of WET text (CCNet §3: a snapshot is 20-30 TB of
plain text, Feb. 2019's 24 TB) and the six other sources at their Table 1 sizes — and prints
CPU-hours, the wall time on N workers and the Dataflow bill at the list prices given.

Assumptions, each a flag: a CPU-second measured here is a vCPU-second on a worker; stages scale
linearly in their input (bench/bench_commoncrawl.py checks it on 1, 2 and 4 copies of real pages;
bench/bench_scale.py predicts a 50 MB run from a 12 MB one); the quality stage sees
`--quality_fraction` of the WET bytes (what line dedup and language id leave; its measured rate is
per MB of the text that reaches it); the shuffle moves `--shuffle_factor` times the input bytes. A stage with no measurement is listed and
left out of the totals.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

from pipeline.sources import PROJECT_ROOT

RESULTS_DIR = os.path.join(PROJECT_ROOT, "bench", "results")
MB_PER_TB = 1e6

# Table 1 sizes (RECIPE.md), TB: the six sources besides CommonCrawl, as the build's inputs.
TABLE1_TB = {"c4": 0.783, "github": 0.328, "wikipedia": 0.083, "books": 0.085, "arxiv": 0.092, "stackexchange": 0.078}
TABLE1_CC_TB = 3.3

# The build: (stage measured by a bench, what it reads). Input sizes are functions of the flags.
STAGES = [
    ("commoncrawl_read_dedup_lid", "WET text of every dump"),
    ("commoncrawl_quality", "WET text left after line dedup and language id"),
    ("c4", "C4 (Table 1 size)"),
    ("github", "GitHub (Table 1 size)"),
    ("wikipedia", "Wikipedia (Table 1 size)"),
    ("books", "Books (Table 1 size)"),
    ("arxiv", "ArXiv (Table 1 size)"),
    ("stackexchange", "StackExchange (Table 1 size)"),
    ("tokenize", "the curated output (Table 1 total)"),
]


class CostError(ValueError):
    """A user's mistake: the message is the one line they see."""


# What bench/record.py writes as a results file's "clock": the only seconds this model multiplies.
CPU_CLOCK = "CPU seconds"


def load_measurements(results_dir: str, not_cpu: Optional[List[str]] = None) -> Dict[str, dict]:
    """stage → {"cpu_s_per_mb", "basis", "bench", "measured_at"} from every bench/results/*.json whose
    clock is CPU time; the names of the files with stages in another clock go to `not_cpu`."""
    paths = sorted(glob.glob(os.path.join(results_dir, "*.json")))
    if not paths:
        raise CostError(f"--results={results_dir}: no benchmark results there; run `make bench` (or pass the "
                        f"folder the benchmarks wrote)")
    stages: Dict[str, dict] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if not doc.get("stages"):
            continue
        if not str(doc.get("clock", "")).startswith(CPU_CLOCK):
            if not_cpu is not None:
                not_cpu.append(os.path.basename(path))
            continue
        for name, s in doc["stages"].items():
            if name in stages:
                raise CostError(f"--results={results_dir}: stage {name!r} is measured by both "
                                f"{stages[name]['bench']} and {doc.get('bench')}; keep one")
            stages[name] = dict(s, bench=doc.get("bench", os.path.basename(path)), measured_at=doc.get("measured_at"))
    return stages


def stage_inputs_tb(dumps: int, dump_tb: float, quality_fraction: float, sizes: Dict[str, float]) -> Dict[str, float]:
    """TB of input each stage of the build reads."""
    wet = dumps * dump_tb
    out = {"commoncrawl_read_dedup_lid": wet, "commoncrawl_quality": wet * quality_fraction}
    out.update(sizes)
    out["tokenize"] = TABLE1_CC_TB + sum(sizes.values())
    return out


def cpu_hours_per_tb(cpu_s_per_mb: float) -> float:
    return cpu_s_per_mb * MB_PER_TB / 3600


def predict_run_cpu_s(fixed_cpu_s: float, cpu_s_per_mb: float, mb: float) -> float:
    """One run's CPU seconds: its fixed start-up plus its input times the measured rate."""
    return fixed_cpu_s + cpu_s_per_mb * mb


def estimate(measurements: Dict[str, dict], inputs_tb: Dict[str, float], workers: int, vcpus_per_worker: int,
             memory_gb_per_vcpu: float, price_vcpu_hour: float, price_memory_gb_hour: float,
             price_shuffle_gb: float, shuffle_factor: float, not_cpu: Sequence[str] = ()) -> dict:
    rows, missing = [], []
    for name, reads in STAGES:
        tb = inputs_tb[name]
        m = measurements.get(name)
        if m is None:
            missing.append(name)
            continue
        rows.append({"stage": name, "reads": reads, "input_tb": tb, "cpu_s_per_mb": m["cpu_s_per_mb"],
                     "cpu_hours_per_tb": cpu_hours_per_tb(m["cpu_s_per_mb"]),
                     "cpu_hours": cpu_hours_per_tb(m["cpu_s_per_mb"]) * tb, "measured": f"{m['bench']} {m['measured_at']}"})
    cpu_hours = sum(r["cpu_hours"] for r in rows)
    vcpus = workers * vcpus_per_worker
    wall_hours = cpu_hours / vcpus
    shuffle_gb = shuffle_factor * 1000 * sum(inputs_tb[r["stage"]] for r in rows)
    bill = {"vcpu": cpu_hours * price_vcpu_hour,
            "memory": vcpus * memory_gb_per_vcpu * wall_hours * price_memory_gb_hour,
            "shuffle": shuffle_gb * price_shuffle_gb}
    bill["total"] = sum(bill.values())
    return {"stages": rows, "not_measured": missing, "not_cpu_time": list(not_cpu), "cpu_hours": cpu_hours,
            "workers": workers,
            "vcpus": vcpus, "wall_hours": wall_hours, "shuffle_gb": shuffle_gb, "bill_usd": bill}


def render(result: dict, prices: dict) -> str:
    lines = [f"{'stage':<28} {'input TB':>9} {'CPU s/MB':>9} {'CPU-h/TB':>9} {'CPU-hours':>11}  measured by"]
    for r in result["stages"]:
        lines.append(f"{r['stage']:<28} {r['input_tb']:>9.3f} {r['cpu_s_per_mb']:>9.3f} {r['cpu_hours_per_tb']:>9.1f} "
                     f"{r['cpu_hours']:>11,.0f}  {r['measured']}")
    for name in result["not_measured"]:
        lines.append(f"{name:<28} not measured (no bench/results entry): left out of the totals")
    for name in result.get("not_cpu_time", []):
        lines.append(f"bench/results/{name}: not read (its seconds are not marked CPU time; rerun its benchmark)")
    b = result["bill_usd"]
    lines += [
        f"total: {result['cpu_hours']:,.0f} CPU-hours; on {result['workers']} workers ({result['vcpus']} vCPUs) "
        f"{result['wall_hours']:,.1f} h of wall time ({result['wall_hours'] / 24:,.2f} days), perfectly parallel",
        f"Dataflow bill at ${prices['vcpu']}/vCPU-h, ${prices['memory']}/GB-h, ${prices['shuffle']}/shuffle GB: "
        f"vCPU ${b['vcpu']:,.0f} + memory ${b['memory']:,.0f} + shuffle ${b['shuffle']:,.0f} "
        f"({result['shuffle_gb']:,.0f} GB) = ${b['total']:,.0f}",
    ]
    return "\n".join(lines)


def parse_sizes(values: Optional[List[str]]) -> Dict[str, float]:
    sizes = dict(TABLE1_TB)
    for v in values or []:
        name, _, tb = v.partition("=")
        if name not in sizes:
            raise CostError(f"--size {v}: name one of {', '.join(sorted(sizes))} (e.g. --size c4=0.8)")
        try:
            sizes[name] = float(tb)
        except ValueError:
            raise CostError(f"--size {v}: the size is TB as a number (e.g. --size {name}=0.8)") from None
    return sizes


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m pipeline.cost", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--results", default=RESULTS_DIR, help="folder of the benchmarks' JSON results")
    ap.add_argument("--dumps", type=int, default=5, help="CommonCrawl dumps (LLaMA: five)")
    ap.add_argument("--dump_tb", type=float, default=24.0, help="TB of WET text per dump (CCNet: Feb. 2019 = 24 TB)")
    ap.add_argument("--quality_fraction", type=float, default=0.25,
                    help="share of WET bytes that reaches the quality stage (left by line dedup and language id)")
    ap.add_argument("--size", action="append", help="another source's input, TB: --size c4=0.8 (default Table 1)")
    ap.add_argument("--workers", type=int, default=200)
    ap.add_argument("--vcpus_per_worker", type=int, default=4)
    ap.add_argument("--memory_gb_per_vcpu", type=float, default=3.75, help="n1-standard machines: 3.75")
    ap.add_argument("--price_vcpu_hour", type=float, default=0.056, help="Dataflow batch list price, USD")
    ap.add_argument("--price_memory_gb_hour", type=float, default=0.003557, help="Dataflow batch list price, USD")
    ap.add_argument("--price_shuffle_gb", type=float, default=0.011, help="Dataflow Shuffle list price per GB, USD")
    ap.add_argument("--shuffle_factor", type=float, default=1.0, help="shuffled bytes per input byte")
    ap.add_argument("--json", action="store_true", help="print the estimate as JSON")
    return ap


def estimate_from(args) -> tuple:
    """(the estimate, the prices) for parsed arguments; CostError for a user's mistake."""
    if args.workers < 1 or args.vcpus_per_worker < 1:
        raise CostError("--workers and --vcpus_per_worker: at least 1")
    not_cpu: List[str] = []
    measurements = load_measurements(args.results, not_cpu)
    inputs = stage_inputs_tb(args.dumps, args.dump_tb, args.quality_fraction, parse_sizes(args.size))
    result = estimate(measurements, inputs, args.workers, args.vcpus_per_worker, args.memory_gb_per_vcpu,
                      args.price_vcpu_hour, args.price_memory_gb_hour, args.price_shuffle_gb, args.shuffle_factor,
                      not_cpu)
    return result, {"vcpu": args.price_vcpu_hour, "memory": args.price_memory_gb_hour, "shuffle": args.price_shuffle_gb}


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        result, prices = estimate_from(args)
    except CostError as e:
        print(str(e), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1, sort_keys=True) if args.json else render(result, prices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
