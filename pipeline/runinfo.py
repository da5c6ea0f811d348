"""What a run says about itself: the start banner, the closing summary and OUTPUT/run.json.

run.json: the command line, the resolved recipe (after --set), the overrides, package versions, the
input files with their sizes, where each model came from, start/end times (UTC) and CPU seconds per
stage (this process plus reaped children such as lmplz), and how the run ended. It is the one
output that differs between two runs of the same command (times), so it is kept apart from the
byte-identical data outputs.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import platform
import posixpath
import resource
import sys
import time
from typing import Dict, List, Optional

from apache_beam.io.filesystems import FileSystems

from common import atomic

RUN_JSON = "run.json"
PACKAGES = ("llamadata", "apache-beam", "pyarrow", "numpy", "sentencepiece", "fasttext-numpy2-wheel",
            "ufal.kenlm", "resiliparse", "mwparserfromhell", "datasketch", "matplotlib", "torch", "transformers")


def package_versions() -> Dict[str, Optional[str]]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


CODE_PACKAGES = ("common", "pipeline", "dedup", "filters", "tokenizer")  # what makes the data outputs


def code_version() -> str:
    """SHA-256 of every file of the packages that make the data outputs (code, word lists, benchmarks):
    a resumed run skips a finished stage only if this is unchanged (pipeline/run_state.py)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for folder, dirs, files in sorted(os.walk(os.path.join(root, package))):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode("utf-8") + b"\0")
                with open(path, "rb") as f:
                    digest.update(hashlib.sha256(f.read()).digest())
    return digest.hexdigest()


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class RunRecord:
    """Collects run.json as the run goes; `write()` at the end (also on failure or Ctrl-C)."""

    def __init__(self, argv: List[str], output: str, recipe: dict, overrides: List[str], stages: List[str]):
        self.output = output
        self.data = {"command": [sys.executable, "-m", "pipeline.run", *argv], "output": output,
                     "recipe": recipe, "overrides": list(overrides), "stages": stages,
                     "packages": package_versions(), "code_sha256": code_version(), "inputs": {}, "models": {},
                     "started": now(), "ended": None, "status": "running",
                     "cpu_seconds": {}, "wall_seconds": {}}
        self.t0 = time.monotonic()

    @contextlib.contextmanager
    def stage(self, name: str):
        c0, w0 = cpu_seconds(), time.monotonic()
        try:
            yield
        finally:
            self.data["cpu_seconds"][name] = round(cpu_seconds() - c0, 3)
            self.data["wall_seconds"][name] = round(time.monotonic() - w0, 3)

    def write(self, status: str) -> str:
        self.data.update(status=status, ended=now(), elapsed_seconds=round(time.monotonic() - self.t0, 3))
        path = posixpath.join(self.output, RUN_JSON)
        if not FileSystems.exists(self.output):
            FileSystems.mkdirs(self.output)
        data = (json.dumps(self.data, indent=2, sort_keys=True) + "\n").encode("utf-8")
        atomic.write_bytes(path, data)  # a Ctrl-C mid-write leaves the previous run.json, never half of one
        return path


def _mb(n: Optional[int]) -> str:
    return "?" if n is None else f"{n / 1e6:,.2f} MB"


def banner(record: RunRecord, runner: str, sources: List[str], given: Dict[str, bool]) -> str:
    d = record.data
    version = d["recipe"].get("version", {})
    lines = [f"llamadata {d['packages'].get('llamadata') or ''}: recipe {version.get('name')} v{version.get('version')}"
             + (f" with {len(d['overrides'])} override(s): {' '.join(d['overrides'])}" if d["overrides"] else "")
             + f"; runner {runner}",
             f"  output  {d['output']}",
             f"  stages  {' → '.join(d['stages'])}"]
    if "curate" in d["stages"]:
        for i, name in enumerate(sources):
            files = d["inputs"].get(name, [])
            size = sum(f["bytes"] or 0 for f in files)
            what = "given" if given.get(name) else "bundled sample"
            lines.append(f"  {'inputs' if i == 0 else '      '}  {name:<13} {len(files):>4} file(s) {_mb(size):>12}  ({what})")
        for key, origin in d["models"].items():
            lines.append(f"  model   {key}: {origin}")
    return "\n".join(lines)


def top_reasons(dropped: Dict[str, int], n: int = 3) -> str:
    items = sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{r} {c:,}" for r, c in items[:n])
    if len(items) > n:
        text += f", +{len(items) - n} more"
    return text or "-"


def summary(output: str, stats: Optional[dict], record: RunRecord, outputs: List[tuple]) -> str:
    from pipeline import completeness

    lines = completeness.summary_lines(stats)  # first: the steps of the recipe that did not apply
    if stats:
        head = f"{'source':<13} {'docs in':>9} {'docs out':>9} {'MB in':>9} {'MB out':>9}  dropped (top reasons)"
        lines += [head, "-" * len(head)]
        tot = [0, 0, 0, 0]
        for name, s in sorted(stats["sources"].items()):
            lines.append(f"{name:<13} {s['docs_in']:>9,} {s['docs_out']:>9,} {s['bytes_in'] / 1e6:>9.2f} "
                         f"{s['bytes_out'] / 1e6:>9.2f}  {top_reasons(s['dropped'])}")
            for i, k in enumerate(("docs_in", "docs_out", "bytes_in", "bytes_out")):
                tot[i] += s[k]
        lines.append(f"{'total':<13} {tot[0]:>9,} {tot[1]:>9,} {tot[2] / 1e6:>9.2f} {tot[3] / 1e6:>9.2f}")
    cpu = record.data["cpu_seconds"]
    if cpu:
        lines.append("CPU s per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
                     + f"; wall {time.monotonic() - record.t0:.0f} s")
    lines.append("outputs:")
    width = max(len(label) for label, _ in outputs) if outputs else 0
    lines += [f"  {label:<{width}}  {path}" for label, path in outputs]
    return "\n".join(lines)


def outputs_of(output: str, stages: List[str]) -> List[tuple]:
    """(label, path + what is there) of every output this run's stages write, that exists."""
    j = lambda *p: posixpath.join(output, *p)  # noqa: E731
    out = []
    if "curate" in stages:
        shards = FileSystems.match([j("curated", "*", "*.parquet")])[0].metadata_list
        out.append(("curated", f"{j('curated')}/<source>/*.parquet ({len(shards)} shard(s))"))
        out.append(("stats", j("stats.json")))
        out.append(("quarantine", f"{j('quarantine.jsonl')} ({count_lines(j('quarantine.jsonl'))} unreadable unit(s))"))
        out.append(("models", j("models") + "/"))
    if "tokenizer" in stages:
        out.append(("tokenizer", j("tokenizer", "tokenizer.model")))
    if "tokenize" in stages:
        out.append(("tokens", f"{j('tokens')}/<source>/*.bin|.idx ({count_lines(j('tokens', 'quarantine.jsonl'))} "
                              f"quarantined in {j('tokens', 'quarantine.jsonl')})"))
    if "mixture" in stages:
        out.append(("mixture", j("mixture.json")))
    if FileSystems.exists(j("report.html")):
        out.append(("report", j("report.html")))
    out.append(("run record", j(RUN_JSON)))
    return out


def count_lines(path: str) -> int:
    if not FileSystems.exists(path):
        return 0
    with FileSystems.open(path) as f:
        return sum(1 for line in f.read().splitlines() if line.strip())
