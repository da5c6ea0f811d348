"""SIGKILL a run as each of its outputs appears, rerun it, and get the outputs of an unbroken run
byte for byte, with no stray file (issue 13). Kept cheap: two small sources, one reference run,
one partial run per kill point, each rerun picking up the folder the previous kill left."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from tests.conftest import BEAM_ARGS, ROOT, run_pipeline

ARGS = ["--sources=books,arxiv"]
# Each output as it appears, in the order a run writes them.
KILL_POINTS = ["curated/books", "stats.json", "tokenizer/tokenizer.model", "tokens/quarantine.jsonl", "mixture.json"]


def _digests(out: Path):
    # run.json is the record of one run (times, command line), not a data output
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != "run.json"}


def _kill_when(out: Path, rel: str, timeout: float = 300) -> bool:
    """Start the run; SIGKILL it the moment `rel` exists. False if it finished first."""
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.run", *BEAM_ARGS, f"--output={out}", *ARGS], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if (out / rel).exists():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            if proc.poll() is not None:
                return False
            time.sleep(0.01)
        raise AssertionError(f"{rel} never appeared")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _whole_or_absent(out: Path) -> None:
    """What a kill leaves under final names is whole: Parquet readable, JSON parseable."""
    for p in out.rglob("*.parquet"):
        if not p.name.startswith("."):
            pq.read_metadata(p)
    for p in out.rglob("*.json"):
        if not p.name.startswith("."):
            json.loads(p.read_text())


def test_sigkill_at_each_output_then_rerun_is_byte_identical(tmp_path):
    reference = tmp_path / "reference"
    run_pipeline(f"--output={reference}", *ARGS)
    expected = _digests(reference)
    assert json.loads((reference / "run_state.json").read_text())["state"] == "complete"

    out = tmp_path / "killed"
    killed_at = []
    for rel in KILL_POINTS:
        if _kill_when(out, rel):
            killed_at.append(rel)
            _whole_or_absent(out)
            state = json.loads((out / "run_state.json").read_text())
            # never claims a finished run it is not (the last write can beat the kill)
            assert state["state"] == "running" or _digests(out) == expected, (rel, state)
    assert len(killed_at) >= 4, killed_at
    run_pipeline(f"--output={out}", *ARGS)
    assert _digests(out) == expected  # same bytes, and no file more (no temporary leftovers)
