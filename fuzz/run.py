"""Run the fuzz harnesses: `python -m fuzz.run [--seconds S] [--runs N] [--targets a,b] [--report FILE]`.

Each target (fuzz/targets.py) runs in its own process under atheris (libFuzzer), coverage-guided
over our reader modules, starting from the seeds of fuzz/seeds.py (plus whatever earlier runs
found, kept in fuzz/.corpus/<target>/). Per input, libFuzzer stops a run that takes longer than
`--timeout` seconds (a hang) or grows past `--rss_mb` (memory); the targets' own guard stops a
reader that yields without consuming input. Any exception escaping a reader is a crash: its input
is saved as fuzz/crashes/<target>/crash-*. Prints, per target, the inputs run and the
crashes/hangs found; exits non-zero if any.

`python -m fuzz.run --target NAME ...` is the child process itself (libFuzzer flags after `--`).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "fuzz" / ".corpus"
CRASHES = ROOT / "fuzz" / "crashes"
# Largest input per target. The text harnesses (LaTeX, wikitext, Posts XML) cost per character:
# libFuzzer's own default of 4 KiB lets them try 3-4x more inputs than 16 KiB did, and their
# size-driven cases (budgets, nesting, unclosed groups) have tests at full size. Containers keep
# 64 KiB: a tar, zip or gzip member needs room. Seeds longer than this are cut.
MAX_LEN = {"warc": 1 << 16, "wikipedia": 1 << 12, "stackexchange": 1 << 12, "latex": 1 << 12,
           "github_archive": 1 << 16, "jsonl": 1 << 16, "http_body": 1 << 16}


def _child(name: str, libfuzzer_args) -> None:
    import atheris

    from fuzz import targets

    targets.preload()
    with atheris.instrument_imports(include=["pipeline", "common", "fuzz"]):
        one = targets.load(name)
    atheris.Setup([sys.argv[0], *libfuzzer_args], one)
    atheris.Fuzz()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_target(name: str, seconds: int, timeout: int, rss_mb: int, max_len: Optional[int] = None, fresh: bool = False,
               corpus_root: Path = CORPUS, crashes_root: Path = CRASHES, runs: Optional[int] = None) -> dict:
    from fuzz import seeds

    corpus = corpus_root / name
    if fresh and corpus.exists():
        for p in corpus.iterdir():
            p.unlink()
    n_seeds = seeds.write(name, corpus)
    crashes = crashes_root / name
    crashes.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "fuzz.run", "--target", name, "--", str(corpus),
           f"-max_total_time={seconds}", f"-timeout={timeout}", f"-rss_limit_mb={rss_mb}", f"-max_len={max_len or MAX_LEN[name]}",
           f"-artifact_prefix={crashes}/", "-print_final_stats=1", "-close_fd_mask=1"]
    if runs:
        cmd.append(f"-runs={runs}")
    start, cpu0 = time.monotonic(), _children_cpu()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          timeout=seconds + 120)
    log = proc.stderr
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or re.findall(r"Done (\d+) runs", log)
    found = sorted(set(re.findall(r"Test unit written to (\S+)", log)))
    kinds = re.findall(r"ERROR: libFuzzer: ([a-z\-]+)|(Uncaught Python exception)", log)
    if proc.returncode and not found:  # died without leaving an input (a signal): still a finding
        kinds.append((f"exit status {proc.returncode}", ""))
    return {
        "target": name, "seconds": seconds, "runs_asked": runs, "wall_s": round(time.monotonic() - start, 1),
        "cpu_s": round(_children_cpu() - cpu0, 1), "seeds": n_seeds, "max_len": max_len or MAX_LEN[name],
        "inputs_run": int(runs[-1]) if runs else 0, "crashes": max(len(found), int(bool(proc.returncode))),
        "artifacts": found,
        "kinds": sorted({a or b for a, b in kinds}), "returncode": proc.returncode,
        "corpus_size": sum(1 for _ in corpus.iterdir()),
        "log_tail": "" if proc.returncode == 0 else log[-4000:],
    }


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--target" in argv:
        i = argv.index("--target")
        rest = argv[argv.index("--") + 1:] if "--" in argv else []
        _child(argv[i + 1], rest)
        return 0
    from fuzz.targets import NAMES

    ap = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20, help="fuzzing time per target (default 20); with --runs, the cap")
    ap.add_argument("--runs", type=int, default=None, help="stop each target after this many inputs (e.g. 1000000)")
    ap.add_argument("--targets", default=",".join(NAMES), help=f"comma-separated, from {', '.join(NAMES)}")
    ap.add_argument("--timeout", type=int, default=10, help="seconds one input may take before it is a hang")
    ap.add_argument("--rss_mb", type=int, default=2048, help="memory (RSS) one process may reach")
    ap.add_argument("--max_len", type=int, default=None, help="largest input libFuzzer makes (default: per target)")
    ap.add_argument("--fresh", action="store_true", help="start from the seeds only (forget earlier finds)")
    ap.add_argument("--corpus", default=str(CORPUS), help="where the growing corpora live (default fuzz/.corpus)")
    ap.add_argument("--crashes", default=str(CRASHES), help="where crashing inputs are saved (default fuzz/crashes)")
    ap.add_argument("--report", help="write the figures as JSON here")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        ap.error(f"--targets: unknown {unknown}; choose from {', '.join(NAMES)}")
    results = []
    for name in names:
        r = run_target(name, args.seconds, args.timeout, args.rss_mb, args.max_len, args.fresh,
                       Path(args.corpus), Path(args.crashes), args.runs)
        results.append(r)
        print(f"{name:15s} {r['inputs_run']:>10d} inputs in {r['wall_s']} s ({r['cpu_s']} CPU s), {r['crashes']} crashes/hangs"
              f"{' ' + ','.join(r['kinds']) if r['kinds'] else ''}{' ' + ' '.join(r['artifacts']) if r['artifacts'] else ''}",
              flush=True)
        if r["log_tail"]:
            print(r["log_tail"], file=sys.stderr)
    if args.report:
        Path(args.report).write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any(r["crashes"] or r["returncode"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
