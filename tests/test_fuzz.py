"""Fuzzing as part of the suite (issue 13): every seed and every input that once crashed a reader
replays cleanly through its target, and a short coverage-guided run of each harness (atheris)
finds no crash, hang or memory blow-up. `make fuzz` runs them longer."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fuzz import seeds, targets
from tests.conftest import ROOT

SECONDS = int(os.environ.get("FUZZ_TEST_SECONDS", "5"))


@pytest.mark.parametrize("name", targets.NAMES)
def test_seeds_and_regressions_replay_cleanly(name):
    one = targets.load(name)
    built = seeds.seeds(name)
    assert len(built) >= 4
    for seed_name, data in built.items():
        one(data)  # raises on a reader bug


def test_no_progress_guard_trips_on_a_looping_reader():
    with pytest.raises(targets.NoProgress):
        list(targets._bounded(iter(int, 1), b"abc"))  # iter(int, 1): zeros forever


@pytest.mark.parametrize("name", targets.NAMES)
def test_short_fuzz_run_finds_nothing(name, tmp_path):
    report = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "fuzz.run", "--seconds", str(SECONDS), "--targets", name,
                           "--corpus", str(tmp_path / "corpus"), "--crashes", str(tmp_path / "crashes"),
                           "--report", str(report)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=SECONDS + 180)
    [result] = json.loads(report.read_text())
    assert proc.returncode == 0 and result["crashes"] == 0, proc.stdout + result["log_tail"]
    assert result["inputs_run"] > 0
