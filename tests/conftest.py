"""Shared fixtures: where the real samples are, and one default run of the whole pipeline."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
LID_MODEL = SHARED / "models" / "lid.176.ftz"
BEAM_ARGS = ["--runner=DirectRunner"]


def output_digest(path: Path) -> str:
    """SHA-256 of an output file as two runs of one command must agree on it: run_state.json without
    the times at which it records each stage's files were written (its sizes and digests kept)."""
    if path.name != "run_state.json":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    state = json.loads(path.read_text())
    for files in state.get("outputs", {}).values():
        for f in files.values():
            f.pop("mtime")
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def run_pipeline(*args: str, check: bool = True, env: dict = None) -> subprocess.CompletedProcess:
    """`python -m pipeline.run ARGS` in a subprocess, as a user would run it (`env`: its environment)."""
    proc = subprocess.run([sys.executable, "-m", "pipeline.run", *BEAM_ARGS, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"pipeline.run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def default_run_out(tmp_path_factory) -> Path:
    """The output of the default run (every source on the bundled samples, every stage)."""
    out = tmp_path_factory.mktemp("default_run") / "out"
    proc = run_pipeline(f"--output={out}")
    # What the user saw (banner, progress, summary): kept beside OUT for tests of the CLI's output.
    (out.parent / "run.stderr").write_text(proc.stderr)
    return out


@pytest.fixture(scope="session")
def mixture_dir(default_run_out) -> Path:
    """What the trainer tests train on: the default run's mixture.json and token shards."""
    return default_run_out
