"""Where benchmarks leave their figures: bench/results/<name>.json, for the tables of docs/benchmarks.md
(`python -m bench.tables`) and `python -m pipeline.cost`.

    session = record.Session("tokenize")        # notes the date, the machine, the load at start
    session.figure("ratio", "pipeline / bare encode", best=1.21, median=1.15, target=">= 0.8")
    session.write(stages={"tokenize": record.stage(mb, cpu_runs, "what was timed")})

Each file: {"bench", "command", "measured_at" (UTC), "machine" {cores, cpu_model, arch, python},
"clock" (what the seconds are), "load" {start, end (1/5/15-minute load averages), bound,
above_bound}, "figures" [{key, label, best, median, unit, target}], "stages" {stage: {mb, cpu_s,
cpu_s_median, cpu_s_per_mb, cpu_s_per_mb_median, runs, basis}}, ...}. `best` is the figure from the
least CPU time of the runs (the least disturbed), `median` from the median run. The committed
files are the snapshot docs/benchmarks.md quotes; rerunning a benchmark overwrites its file.

A run that starts at a 1-minute load average above the bound (one busy process per core: beside
the benchmark's own process the machine was not quiet), or ends above it plus the benchmark's own
process, says so on stdout and in its file (`load.above_bound`); its table in docs/benchmarks.md shows it.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from bench.cputime import spread
from common import atomic

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
CLOCK = "CPU seconds (user+system) of the process and its reaped children (bench/cputime.py)"


def load_bound() -> float:
    """The highest 1-minute load average at start that counts as quiet: one per core."""
    return float(os.cpu_count() or 1)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    return {"cores": os.cpu_count(), "cpu_model": cpu_model(), "arch": platform.machine(),
            "python": platform.python_version()}


def load_average() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def stage(mb: float, cpu_runs, basis: str) -> dict:
    """One stage's figure for `python -m pipeline.cost`: CPU seconds for `mb` MB of the stage's
    input, the min and median of the runs (`cpu_runs`: a list, or one number)."""
    runs = cpu_runs if isinstance(cpu_runs, (list, tuple)) else [cpu_runs]
    s = spread(runs)
    return {"mb": round(mb, 4), "cpu_s": round(s["min"], 4), "cpu_s_median": round(s["median"], 4),
            "cpu_s_per_mb": round(s["min"] / mb, 5), "cpu_s_per_mb_median": round(s["median"] / mb, 5),
            "runs": len(runs), "basis": basis}


def rate(best: float, median: float, basis: str) -> dict:
    """A stage's figure given as rates (CPU seconds per MB, e.g. a slope over several sizes)."""
    return {"cpu_s_per_mb": round(best, 5), "cpu_s_per_mb_median": round(median, 5), "basis": basis}


class Session:
    """One benchmark run: its figures, and what its table says beside them (date, machine, load)."""

    def __init__(self, name: str, argv: Optional[Sequence[str]] = None, script: Optional[str] = None):
        self.name = name
        script = script or sys.argv[0]
        try:
            script = str(Path(script).resolve().relative_to(ROOT))
        except ValueError:
            pass
        args = list(sys.argv[1:] if argv is None else argv)
        self.command = " ".join(["python", script] + [shlex.quote(a) for a in args])
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.load_start = load_average()
        self.figures: List[dict] = []
        print(f"[{name}] {self.started:%Y-%m-%d %H:%M} UTC, {machine()['cores']} cores ({cpu_model()}); "
              f"load average at start {self.load_start[0]} (quiet: <= {load_bound():g})"
              + ("" if self.load_start[0] <= load_bound() else
                 ": ABOVE THE BOUND, the figures of this run are not those of a quiet machine"), flush=True)

    def figure(self, key: str, label: str, best, median=None, unit: str = "", target: str = "") -> None:
        """A figure for its table in docs/benchmarks.md. `best`/`median`: numbers as they should print (round
        them), or text; `median` None where there is one value (a count, a deterministic result)."""
        self.figures.append({"key": key, "label": label, "best": best, "median": median, "unit": unit,
                             "target": target})

    def write(self, stages: Optional[dict] = None, **extra) -> Path:
        end = load_average()
        bound = load_bound()
        # At the end the benchmark's own process counts one.
        above = self.load_start[0] > bound or end[0] > bound + 1
        doc = {"bench": self.name, "command": self.command,
               "measured_at": self.started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(), "clock": CLOCK,
               "load": {"start": self.load_start, "end": end, "bound": bound, "above_bound": above},
               "figures": self.figures, "stages": stages or {}, **extra}
        if above:
            print(f"[{self.name}] load average {self.load_start[0]} at start, {end[0]} at the end (bound {bound:g}): "
                  "recorded as above the bound; rerun on a quiet machine for docs/benchmarks.md", flush=True)
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{self.name}.json"
        atomic.write_text(str(path), json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"[{self.name}] wrote {path.relative_to(ROOT)}", flush=True)
        return path
