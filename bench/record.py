"""Where benchmarks leave their figures for `python -m pipeline.cost`: bench/results/<name>.json.

Each file: {"bench", "measured_at" (UTC date), "machine", "stages": {stage: {"cpu_s_per_mb",
"mb", "cpu_s", "basis"}}, ...}. The committed files are the snapshot the README quotes; rerunning
a benchmark overwrites its file.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def stage(mb: float, cpu_s: float, basis: str) -> dict:
    """One stage's figure: `cpu_s` CPU seconds for `mb` MB of the stage's input."""
    return {"mb": round(mb, 4), "cpu_s": round(cpu_s, 4), "cpu_s_per_mb": round(cpu_s / mb, 5), "basis": basis}


def write(name: str, stages: dict, **extra) -> Path:
    RESULTS.mkdir(exist_ok=True)
    doc = {"bench": name, "measured_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)", "stages": stages, **extra}
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path
