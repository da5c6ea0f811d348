"""Memory on one machine (the DirectRunner warning) and the cost model from the benchmarks' figures."""
import json
import subprocess
import sys

import pytest

from pipeline import capacity, cost
from tests.conftest import ROOT, run_pipeline


# ------------------------------------------------------------- the DirectRunner memory warning --------
def test_warning_names_the_runners_when_inputs_exceed_memory():
    gb = 10 ** 9
    assert capacity.direct_runner_warning(1 * gb // 1000, [], [], 24 * gb) is None  # 1 MB fits
    warning = capacity.direct_runner_warning(20 * gb, ["gs://b/x/*.gz"], [], 24 * gb)
    assert "need ~201 GB" in warning and "this machine's 24 GB" in warning and "1 remote input(s) not sized" in warning
    for runner in ("DataflowRunner", "FlinkRunner", "SparkRunner", "docs/scale-out.md"):
        assert runner in warning
    assert "CC-MAIN-2019-30" in capacity.direct_runner_warning(0, [], ["CC-MAIN-2019-30"], 24 * gb)


def test_run_warns_before_starting_on_inputs_larger_than_this_machine(tmp_path):
    # A sparse file as large as this machine's memory: sized from its metadata, never read.
    big = tmp_path / "big.warc.wet.gz"
    with open(big, "wb") as f:
        f.truncate(capacity.machine_memory_bytes())
    proc = run_pipeline(f"--output={tmp_path / 'out'}", "--dry_run=True", "--sources=commoncrawl",
                        f"--commoncrawl_input={big}", "--stages=curate",
                        # The warning, not the quality models: no download of cc_net's LM in a test.
                        "--set", "commoncrawl.quality=false")
    assert "of memory on the DirectRunner" in proc.stderr and "DataflowRunner" in proc.stderr, proc.stderr[-3000:]
    assert not (tmp_path / "out").exists()  # a dry run on the DirectRunner builds the graph only


def test_whole_dump_on_the_direct_runner_is_warned(tmp_path):
    proc = run_pipeline(f"--output={tmp_path / 'out'}", "--dry_run=True", "--sources=commoncrawl",
                        "--commoncrawl_dump=CC-MAIN-2019-30", "--stages=curate", "--set", "commoncrawl.quality=false")
    assert "cannot hold whole CommonCrawl dumps (CC-MAIN-2019-30" in proc.stderr, proc.stderr[-3000:]


# ------------------------------------------------------------- the cost model -------------------------
def _results(tmp_path, stages):
    d = tmp_path / "results"
    d.mkdir()
    (d / "x.json").write_text(json.dumps({"bench": "bench_x", "measured_at": "2026-12-01", "stages": stages,
                                          "clock": "CPU seconds (user+system) of the process and its children"}))
    return d


def test_cost_reads_only_cpu_seconds(tmp_path):
    # A results file that does not say its seconds are CPU time (the old tokenize.json timed wall
    # seconds and called them cpu_s) is named and left out, never multiplied.
    d = _results(tmp_path, {"c4": {"cpu_s_per_mb": 1.0}})
    (d / "wall.json").write_text(json.dumps({"bench": "tokenize", "stages": {"tokenize": {"cpu_s_per_mb": 3.4}}}))
    not_cpu = []
    measured = cost.load_measurements(str(d), not_cpu)
    assert set(measured) == {"c4"} and not_cpu == ["wall.json"]
    proc = subprocess.run([sys.executable, "-m", "pipeline.cost", f"--results={d}"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "wall.json: not read (its seconds are not marked CPU time" in proc.stdout
    assert "tokenize                     not measured" in proc.stdout


def test_cost_arithmetic_from_measured_rates(tmp_path):
    # 3.6 CPU s per MB = 1000 CPU-hours per TB.
    stages = {name: {"cpu_s_per_mb": 3.6} for name, _ in cost.STAGES if name != "tokenize"}
    measured = cost.load_measurements(str(_results(tmp_path, stages)))
    inputs = cost.stage_inputs_tb(5, 24.0, 0.25, dict(cost.TABLE1_TB))
    assert inputs["commoncrawl_read_dedup_lid"] == 120.0 and inputs["commoncrawl_quality"] == 30.0
    r = cost.estimate(measured, inputs, workers=100, vcpus_per_worker=4, memory_gb_per_vcpu=4.0,
                      price_vcpu_hour=0.05, price_memory_gb_hour=0.004, price_shuffle_gb=0.01, shuffle_factor=1.0)
    total_tb = 120 + 30 + sum(cost.TABLE1_TB.values())
    assert r["not_measured"] == ["tokenize"]
    assert r["cpu_hours"] == pytest.approx(1000 * total_tb)
    assert r["wall_hours"] == pytest.approx(1000 * total_tb / 400)
    assert r["bill_usd"]["vcpu"] == pytest.approx(0.05 * 1000 * total_tb)
    assert r["bill_usd"]["memory"] == pytest.approx(400 * 4.0 * r["wall_hours"] * 0.004)
    assert r["bill_usd"]["shuffle"] == pytest.approx(0.01 * 1000 * total_tb)
    assert cost.predict_run_cpu_s(5.0, 2.0, 50.0) == 105.0


def test_cost_cli_on_the_committed_measurements():
    proc = subprocess.run([sys.executable, "-m", "pipeline.cost", "--workers", "500"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "not measured" not in proc.stdout  # every stage of the build has a measurement
    for name, _ in cost.STAGES:
        assert name in proc.stdout
    assert "on 500 workers (2000 vCPUs)" in proc.stdout and "Dataflow bill" in proc.stdout


def test_cost_cli_mistakes_are_one_line(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cost", f"--results={empty}"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().startswith(f"--results={empty}: no benchmark results")
    proc = subprocess.run([sys.executable, "-m", "pipeline.cost", "--size", "c5=1"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "--size c5=1" in proc.stderr
