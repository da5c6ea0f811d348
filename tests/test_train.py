"""The trainer on CPU: loss falls, exact resume, metrics, energy, export to Hugging Face."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from train_hooks import train as T
from train_hooks.data import MixturePlan
from train_hooks.model import CONFIGS, Llama, ModelConfig, flops_per_token, get_config


REPO = Path(__file__).resolve().parents[1]
STEPS, SPLIT = 16, 8


def run(data, out, max_steps, *extra):
    args = ["--data", str(data), "--out", str(out), "--model", "tiny", "--device", "cpu",
            "--max_steps", str(max_steps), "--warmup", "2", "--lr", "3e-3",
            "--batch_tokens", str(4 * 64), "--micro_batch", "2", *extra]
    return T.main(args)


def losses(out):
    return [json.loads(line) for line in (Path(out) / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def straight(mixture_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    run(mixture_dir, out, STEPS)
    return out


def test_loss_falls_and_metrics_are_complete(straight, mixture_dir):
    rows = losses(straight)
    vocab = json.loads((mixture_dir / "mixture.json").read_text())["vocab_size"]
    assert [r["step"] for r in rows] == list(range(1, STEPS + 1))
    for r in rows:
        assert set(r) >= {"step", "loss", "lr", "tokens", "target_tokens", "tokens_per_s", "mfu"}
        assert math.isfinite(r["loss"]) and r["tokens_per_s"] > 0
    assert rows[0]["loss"] > math.log(vocab) - 0.5          # starts near uniform over the vocab
    assert rows[-1]["loss"] < rows[0]["loss"] - 0.5
    assert rows[1]["target_tokens"] == 2 * 4 * 64            # 4 sequences × 64 targets per step
    assert rows[1]["tokens"] == 2 * 4 * 65                   # each sample: 65 plan tokens, the first input only


def test_resume_reproduces_the_straight_run_bit_for_bit(mixture_dir, straight, tmp_path):
    run(mixture_dir, tmp_path, SPLIT)
    run(mixture_dir, tmp_path, STEPS, "--resume")
    want, got = losses(straight), losses(tmp_path)
    assert [r["step"] for r in got] == list(range(1, STEPS + 1))
    assert [(r["loss"], r["lr"], r["tokens"]) for r in got] == \
        [(r["loss"], r["lr"], r["tokens"]) for r in want]
    a = torch.load(straight / T.CHECKPOINT, weights_only=False)
    b = torch.load(tmp_path / T.CHECKPOINT, weights_only=False)
    assert a["samples"] == b["samples"] == STEPS * 4
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


def test_summary_uses_the_papers_energy_formula(straight):
    summary = json.loads((straight / "summary.json").read_text())
    assert summary["step"] == STEPS
    e = T.energy(3600 * 1000, 400, 1.1, 0.385)               # 1000 GPU-hours of A100
    assert e["energy_kwh"] == pytest.approx(440.0) and e["co2_kg"] == pytest.approx(169.4)
    assert summary["energy_kwh"] == pytest.approx(summary["device_hours"] * 400 * 1.1 / 1000)
    # Labelled by the device: this ran on CPU, so no GPU-hours are claimed.
    assert summary["device"] == "cpu" and summary["gpu_hours"] is None
    assert T.energy(3600, 400, 1.1, 0.385, device="NVIDIA H200")["gpu_hours"] == 1.0


def test_lr_schedule():
    peak, warm, total = 1.0, 10, 110
    assert T.lr_at(0, peak, warm, total, 0.1) == pytest.approx(0.1)
    assert T.lr_at(9, peak, warm, total, 0.1) == pytest.approx(1.0)
    assert T.lr_at(60, peak, warm, total, 0.1) == pytest.approx(0.55)
    assert T.lr_at(110, peak, warm, total, 0.1) == pytest.approx(0.1)
    assert T.lr_at(500, peak, warm, total, 0.1) == pytest.approx(0.1)


def test_default_warmup_and_micro_batch_fit_a_short_plan(mixture_dir, tmp_path):
    # 12 sequences a step: the micro-batch default must divide it (it was 8 and the run refused to
    # start); with no --warmup a plan shorter than 2000 steps must still peak and decay to 10%.
    assert [T.default_micro_batch(n) for n in (0, 1, 8, 12, 16, 7)] == [1, 1, 8, 6, 8, 7]
    assert T.default_warmup(None, 250_000) == 2000 and T.default_warmup(5, 16) == 5
    out = tmp_path / "short"
    T.main(["--data", str(mixture_dir), "--out", str(out), "--model", "tiny", "--device", "cpu",
            "--batch_tokens", str(12 * 64), "--lr", "1e-3"])
    rows = losses(out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["plan_done"] and len(rows) == summary["plan_steps"] > 10
    assert max(r["lr"] for r in rows) == pytest.approx(1e-3)
    assert rows[-1]["lr"] < 0.15 * 1e-3
    # The whole plan ran: its counts agree with mixture.json and with the audit's.
    from train_hooks.data import audit

    mixture = json.loads((mixture_dir / "mixture.json").read_text())
    assert sum(s["planned_tokens"] for s in mixture["sources"].values()) == mixture["total_tokens"]
    report = audit(mixture_dir, 64, global_batch=12)
    assert summary["samples"] == report["plan"]["samples"] == summary["plan_samples"]
    assert summary["tokens"] == sum(s["consumed"] for s in report["sources"].values()) == mixture["total_tokens"]
    assert summary["target_tokens"] == summary["tokens"] - summary["samples"]   # first token of a sample: input only
    assert summary["step"] * 12 == summary["samples"] + summary["padding_samples"]


def test_model_configs_follow_the_paper():
    # SwiGLU hidden 2/3·4d rounded up to 256: LLaMA's published sizes
    assert [CONFIGS[n].ffn_hidden for n in ("7B", "13B", "33B", "65B")] == [11008, 13824, 17920, 22016]
    assert [(CONFIGS[n].dim, CONFIGS[n].n_layers, CONFIGS[n].n_heads) for n in ("1B", "65B")] == \
        [(2048, 24, 16), (8192, 80, 64)]
    cfg = CONFIGS["7B"]
    n = cfg.n_layers * (4 * cfg.dim ** 2 + 3 * cfg.dim * cfg.ffn_hidden) + 2 * cfg.dim * cfg.vocab_size
    assert 6.6e9 < n < 6.8e9                                # "6.7B"
    assert flops_per_token(cfg, 2048) == 6 * (n - cfg.dim * cfg.vocab_size) + 12 * 32 * 4096 * 2048


def test_model_is_causal_and_has_no_biases():
    torch.manual_seed(0)
    model = Llama(get_config("tiny", vocab_size=100)).eval()
    model.init_weights()
    assert all(not name.endswith("bias") for name, _ in model.named_parameters())
    x = torch.randint(0, 100, (1, 16))
    y = x.clone()
    y[0, 10:] = (y[0, 10:] + 1) % 100
    with torch.no_grad():
        a, b = model(x), model(y)
    assert torch.equal(a[0, :10], b[0, :10]) and not torch.equal(a[0, 10:], b[0, 10:])


def test_gpu_bench_smoke_on_cpu(mixture_dir):
    spec = importlib.util.spec_from_file_location("gpu_train", REPO / "bench" / "gpu_train.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--device", "cpu", "--model", "tiny", "--context", "64", "--micro_batch", "2",
                         "--steps", "1", "--warmup_steps", "1", "--data", str(mixture_dir),
                         "--peak_tflops", "1", "--reference"])
    assert result["tokens_per_s"] > 0 and 0 < result["mfu"] < 1 and result["model"] == "tiny"
    # The plain loop beside it: same model, batch and data, so the same first loss.
    ref = result["reference"]
    assert ref["tokens_per_s"] > 0 and 0 < ref["mfu"] < 1 and ref["loss_first"] == pytest.approx(result["loss_first"])
    assert result["ratio_to_reference"] == pytest.approx(result["tokens_per_s"] / ref["tokens_per_s"])


def test_gpu_checks_script_runs_its_cpu_path(mixture_dir, tmp_path):
    """bench/gpu_checks.py, the one command for a lent GPU, on CPU with tiny sizes: every check runs."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_checks.py"), "--device", "cpu", "--quick",
                           "--data", str(mixture_dir), "--out", str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(REPO),
                                                       "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_checks.json").read_text())
    checks = result["checks"]
    assert result["ok"] and sorted(checks) == ["eval", "export", "throughput", "train"]
    assert checks["throughput"]["reference"]["tokens_per_s"] > 0
    assert checks["train"]["steps"] == 2 and checks["eval"]["cli"]["dtype"] == "bfloat16"
    assert all(t["differs"] and t["max_rel_loglik_diff"] < 0.02 for t in checks["eval"]["tasks"].values())
    assert checks["export"]["max_abs_logit_diff"] <= 1e-3
    for name in checks:
        assert f"gpu_checks: {name}: ok " in proc.stdout
    # Asked for CUDA where there is none: one line, exit 2.
    if not torch.cuda.is_available():
        proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_checks.py"), "--out", str(tmp_path / "x")],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 2 and "--device cuda" in proc.stderr and "Traceback" not in proc.stderr
