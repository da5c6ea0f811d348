"""SIGKILL a run as each of its outputs appears, rerun it, and get the outputs of an unbroken run
byte for byte, with no stray file (issue 13); a rerun after a kill during tokenize resumes: it does
not curate again (issue 25). Kept cheap: two small sources, one reference run shared by the tests,
one partial run per kill point, each rerun picking up the folder the previous kill left."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import BEAM_ARGS, ROOT, output_digest, run_pipeline

ARGS = ["--sources=books,arxiv"]
# Each output as it appears, in the order a run writes them.
KILL_POINTS = ["curated/books", "stats.json", "tokenizer/tokenizer.model", "tokens/quarantine.jsonl", "mixture.json"]


RECORDS = ("run.json", "report.html")  # the record of one run (times, command line), not data outputs


def _digests(out: Path):
    return {str(p.relative_to(out)): output_digest(p)
            for p in sorted(out.rglob("*")) if p.is_file() and p.name not in RECORDS}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    run_pipeline(f"--output={out}", *ARGS)
    assert json.loads((out / "run_state.json").read_text())["state"] == "complete"
    return out


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


def test_sigkill_at_each_output_then_rerun_is_byte_identical(reference, tmp_path):
    expected = _digests(reference)

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


def _written(out: Path) -> dict:
    """When each curated and tokenizer output was last written (ns): a stage run again rewrites them."""
    paths = [*sorted((out / "curated").rglob("*.parquet")), out / "stats.json", out / "tokenizer" / "tokenizer.model"]
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in paths}


def test_kill_during_tokenize_then_rerun_resumes_without_curating(reference, tmp_path):
    out = tmp_path / "killed"
    assert _kill_when(out, "tokens")  # tokenize has begun: curate and tokenizer are recorded done
    assert json.loads((out / "run_state.json").read_text())["done"] == ["curate", "tokenizer"]
    before = _written(out)
    proc = run_pipeline(f"--output={out}", *ARGS)
    for stage in ("curate", "tokenizer"):
        assert f"{stage}: skipped: run_state.json records it done for the same inputs, recipe and code" in proc.stderr
    assert "tokenize: skipped" not in proc.stderr
    assert _written(out) == before  # nothing curated again, the tokenizer not retrained
    run = json.loads((out / "run.json").read_text())
    assert run["skipped"] == ["curate", "tokenizer"] and set(run["cpu_seconds"]) == {"tokenize", "mixture", "report"}
    assert _digests(out) == _digests(reference)  # the outputs of an unbroken run, byte for byte
    assert json.loads((out / "run_state.json").read_text())["state"] == "complete"
    # A changed recipe value is another run: curation runs again, then every stage after it.
    proc = run_pipeline(f"--output={out}", *ARGS, "--set", "books.min_chars=400")
    assert "skipped" not in proc.stderr
    assert set(json.loads((out / "run.json").read_text())["cpu_seconds"]) == {"curate", "tokenizer", "tokenize", "mixture",
                                                                              "report"}
