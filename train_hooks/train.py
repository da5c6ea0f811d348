"""Train a LLaMA model on the emitted mixture: `python train_hooks/train.py --data DIR --out DIR`.

The loop is in plain sight in `train()`: one optimiser step takes the global batch of samples
[c, c+G) from the plan (train_hooks/data.py), this rank's slice of it in micro-batches with
gradient accumulation, AdamW (β 0.9/0.95, weight decay 0.1 except on norms), linear warm-up then
cosine decay to 10% of the peak rate, gradient clipping at 1.0, bf16 autocast on GPU. Multi-GPU
with `torchrun` (DDP; FSDP2 for the Table 2 configs). Every step appends one JSON line to
OUT/metrics.jsonl; checkpoints hold model, optimiser, schedule, the sample counter and RNG states,
so `--resume` continues bit for bit (on CPU) with any number of ranks that divides the batch.
Every --log_every steps a progress line (step, loss, lr, tokens/s, ETA). At the end
OUT/summary.json gives the counts and energy and CO2 by the paper's formula:
Wh = device-hours × device power × PUE, tCO2eq = MWh × 0.385 (labelled with the device it ran on:
on CPU the power is --power_w, not an A100's).

Counts, and why they agree with mixture.json and the audit: `tokens` is the plan's tokens consumed
(Σ planned_tokens of mixture.json = its total_tokens when the plan is done; the audit's
`consumed`); `samples` the plan's samples consumed (the audit's `samples`; the last step's
all-padding samples are `padding_samples`). Each sample is context+1 tokens whose first `context`
are inputs and last `context` targets, so its first token is read but never predicted:
`target_tokens` (what the loss averaged over) = tokens − samples.

A mistake on the command line (CUDA asked of a CPU build of torch, --resume of a checkpoint made
with another --model, no mixture.json in --data) is one line on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `train_hooks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from common import atomic
from common.cli import UsageError, guarded
from train_hooks.data import IGNORE, MixturePlan, rank_slice
from train_hooks.model import CONFIGS, Llama, ModelConfig, count_params, flops_per_token, get_config

CHECKPOINT = "checkpoint.pt"
FSDP_CHECKPOINT = "checkpoint_fsdp"   # a torch.distributed.checkpoint directory (sharded)
LARGE = ("7B", "13B", "33B", "65B")
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16 tensor-core peaks
LLAMA_WARMUP = 2000
MAX_MICRO_BATCH = 8


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2 (common.cli.guarded), not the usage text
        raise UsageError(message)


def parse_args(argv=None) -> argparse.Namespace:
    p = _Parser(prog="train_hooks/train.py", description="Train a LLaMA model on DIR/mixture.json.")
    p.add_argument("--data", required=True, help="directory with mixture.json and the token shards")
    p.add_argument("--model", default="tiny", choices=sorted(CONFIGS), help="model configuration")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   choices=["cpu", "cuda"])
    p.add_argument("--out", default=None,
                   help="output directory: checkpoint, metrics.jsonl, summary.json "
                        "(default: runs/<DATA folder name>-<MODEL> under the current directory)")
    p.add_argument("--max_steps", type=int, default=None,
                   help="stop after this many optimiser steps in total (default: the whole plan)")
    p.add_argument("--resume", action="store_true", help="continue from OUT's checkpoint")
    p.add_argument("--seed", type=int, default=0, help="weight init and data order")
    p.add_argument("--context", type=int, default=None, help="sequence length (default: the model's)")
    p.add_argument("--batch_tokens", type=int, default=None,
                   help="tokens per optimiser step (default: the model's; Table 2: 4M)")
    p.add_argument("--micro_batch", type=int, default=None,
                   help="sequences per forward pass per rank (default: the largest divisor of its batch up to 8)")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the model's)")
    p.add_argument("--warmup", type=int, default=None,
                   help=f"linear warm-up steps (default: LLaMA's {LLAMA_WARMUP}, at most a tenth of the schedule)")
    p.add_argument("--total_steps", type=int, default=None,
                   help="length of the cosine schedule (default: the steps of the whole plan)")
    p.add_argument("--min_lr_ratio", type=float, default=0.1, help="final rate / peak rate")
    p.add_argument("--weight_decay", type=float, default=0.1)
    p.add_argument("--grad_clip", type=float, default=1.0)
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--act_ckpt", action="store_true", help="activation checkpointing per block")
    p.add_argument("--fsdp", default="auto", choices=["auto", "on", "off"],
                   help="shard with FSDP2 (auto: for 7B..65B under torchrun)")
    p.add_argument("--ckpt_every", type=int, default=0, help="also checkpoint every N steps")
    p.add_argument("--peak_tflops", type=float, default=None,
                   help="per-device peak for MFU (default: 989 for H100/H200, 312 for A100)")
    p.add_argument("--log_every", type=int, default=None,
                   help="print a progress line every N steps (default: about 20 lines per run, at least every 100)")
    p.add_argument("--power_w", "--gpu_power_w", dest="power_w", type=float, default=400.0,
                   help="power per device for the energy estimate (paper: A100 400 W; set it for a CPU)")
    p.add_argument("--debug", action="store_true", help="tracebacks for usage errors")
    p.add_argument("--pue", type=float, default=1.1)
    p.add_argument("--co2_kg_per_kwh", type=float, default=0.385)
    return p.parse_args(argv)


INTERRUPTED = ("interrupted; rerun the same command with --resume to continue from the last checkpoint "
               "(--ckpt_every N checkpoints more often)")
CUDA_INSTALL_HINT = (".venv/bin/pip install --index-url https://download.pytorch.org/whl/cu128 "
                     "torch=={version}")


def check_device(device: str) -> None:
    if device != "cuda" or torch.cuda.is_available():
        return
    if torch.version.cuda is None:
        version = torch.__version__.split("+")[0]
        raise UsageError(f"--device cuda: this torch ({torch.__version__}) is the CPU build; install a CUDA "
                         f"build ({CUDA_INSTALL_HINT.format(version=version)}) or use --device cpu")
    raise UsageError(f"--device cuda: torch {torch.__version__} sees no CUDA device (check the driver "
                     "and CUDA_VISIBLE_DEVICES) or use --device cpu")


def default_out(data: str, model: str) -> Path:
    """Outside the data folder: a run's checkpoints are not part of the data it trains on."""
    return Path("runs") / f"{Path(data).resolve().name}-{model}"


def fmt_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def progress_line(step: int, total: int, loss: float, lr: float, tokens_per_s: float, elapsed: float,
                  steps_done: int) -> str:
    eta = elapsed / max(1, steps_done) * (total - step)
    return (f"step {step:>{len(str(total))}}/{total} | loss {loss:.4f} | lr {lr:.2e} | "
            f"{tokens_per_s:,.0f} tok/s | elapsed {fmt_duration(elapsed)} | ETA {fmt_duration(eta)}")


def lr_at(step: int, peak: float, warmup: int, total: int, min_ratio: float) -> float:
    """Rate for optimiser step `step` (0-based): linear warm-up, cosine to min_ratio·peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def default_warmup(warmup: int | None, total_steps: int) -> int:
    """An explicit --warmup as given; else LLaMA's 2000 steps, capped at a tenth of the schedule so
    that a short plan still reaches the peak and decays to min_ratio (2000 ≥ total never would)."""
    return warmup if warmup is not None else min(LLAMA_WARMUP, total_steps // 10)


def default_micro_batch(per_rank: int) -> int:
    """The largest divisor of the per-rank batch up to MAX_MICRO_BATCH (12 → 6, not 8, which
    would not divide it)."""
    cap = max(1, min(MAX_MICRO_BATCH, per_rank))
    return max(d for d in range(1, cap + 1) if per_rank % d == 0)


def peak_flops(device: torch.device, override_tflops: float | None) -> float | None:
    if override_tflops:
        return override_tflops * 1e12
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        for key, tflops in PEAK_TFLOPS.items():
            if key in name:
                return tflops * 1e12
    return None


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Runtime:
    """Rank, world and device; starts the process group under torchrun."""

    def __init__(self, device: str):
        self.distributed = "RANK" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) > 1
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        local = int(os.environ.get("LOCAL_RANK", 0))
        if device == "cuda":
            check_device(device)
            torch.cuda.set_device(local)
            self.device = torch.device("cuda", local)
        else:
            self.device = torch.device("cpu")
        if self.distributed:
            dist.init_process_group("nccl" if device == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def all_sum(self, x: torch.Tensor) -> torch.Tensor:
        if self.distributed:
            dist.all_reduce(x)
        return x

    def close(self):
        if self.distributed:
            dist.destroy_process_group()


def build_model(cfg: ModelConfig, args, rt: Runtime, use_fsdp: bool):
    """(module to call, the plain Llama that owns the parameters)."""
    torch.manual_seed(args.seed)
    if use_fsdp:
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
        with torch.device("meta"):
            raw = Llama(cfg)
        mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) \
            if rt.device.type == "cuda" else MixedPrecisionPolicy()
        for block in raw.blocks:
            fully_shard(block, mp_policy=mp)
        fully_shard(raw, mp_policy=mp)
        raw.to_empty(device=rt.device)
        raw.reset_rotary()
        raw.init_weights()
    else:
        raw = Llama(cfg)
        raw.init_weights()
        raw.to(rt.device)
    raw.activation_checkpointing = args.act_ckpt
    model = torch.compile(raw) if args.compile else raw
    if rt.distributed and not use_fsdp:
        from torch.nn.parallel import DistributedDataParallel
        model = DistributedDataParallel(model, device_ids=[rt.device.index] if rt.device.type == "cuda" else None)
    return model, raw


def make_optimizer(raw: Llama, lr: float, weight_decay: float, device: torch.device):
    # Decay every matrix, the embedding table and output head included (nanoGPT's and Megatron's
    # choice; the LLaMA paper says only "weight decay of 0.1"); not the RMSNorm gains.
    decay = [p for p in raw.parameters() if p.dim() >= 2]
    no_decay = [p for p in raw.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8,
                             fused=device.type == "cuda")


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(out: Path, raw, opt, progress: dict, rt: Runtime, use_fsdp: bool) -> None:
    meta = {**progress, "rng": rng_state()}
    if use_fsdp:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict
        model_sd, opt_sd = get_state_dict(raw, opt)
        dcp.save({"model": model_sd, "optimizer": opt_sd}, checkpoint_id=str(out / FSDP_CHECKPOINT))
        if rt.main:
            with atomic.writing(out / CHECKPOINT) as f:
                torch.save(meta, f)
    elif rt.main:
        # Write then rename: a crash mid-save leaves the previous checkpoint intact.
        with atomic.writing(out / CHECKPOINT) as f:
            torch.save({**meta, "model": raw.state_dict(), "optimizer": opt.state_dict()}, f)
    if rt.distributed:
        dist.barrier()


def read_checkpoint(out: Path) -> dict:
    return torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)


def check_resumable(ckpt: dict, out: Path, model: str, cfg: ModelConfig, mixture_sha: str, context: int,
                    seed: int) -> None:
    """--resume continues only the run the checkpoint belongs to: the same model, mixture, context, seed."""
    made = ckpt.get("model_name")
    if made != model or ckpt.get("config") != cfg.to_dict():
        raise UsageError(f"--resume: {out / CHECKPOINT} was made with --model {made}"
                         + ("" if made != model else " and another configuration (vocabulary or --context)")
                         + f"; rerun with --model {made}, or train --model {model} into another --out")
    data = ckpt["data"]
    for name, ours, theirs in (("mixture.json", mixture_sha, data["mixture_sha256"]),
                               ("--context", context, data["context"]), ("--seed", seed, data["seed"])):
        if ours != theirs:
            shown = (f"{theirs}" if name != "mixture.json" else "another mixture.json (SHA-256 differs)")
            raise UsageError(f"--resume: {out / CHECKPOINT} was made with {name} {shown}; rerun with the same "
                             f"--data/--context/--seed, or start afresh into another --out")


def load_checkpoint(out: Path, raw, opt, rt: Runtime, use_fsdp: bool, ckpt: dict | None = None) -> dict:
    ckpt = ckpt if ckpt is not None else read_checkpoint(out)
    if use_fsdp:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
        model_sd, opt_sd = get_state_dict(raw, opt)
        state = {"model": model_sd, "optimizer": opt_sd}
        dcp.load(state, checkpoint_id=str(out / FSDP_CHECKPOINT))
        set_state_dict(raw, opt, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
    else:
        raw.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
    set_rng_state(ckpt["rng"])
    return ckpt


def rewrite_metrics(path: Path, upto_step: int) -> None:
    """Drop metric lines written after the checkpoint we resume from (they will be redone)."""
    if not path.exists():
        return
    keep = [line for line in path.read_text().splitlines()
            if line.strip() and json.loads(line)["step"] <= upto_step]
    path.write_text("".join(line + "\n" for line in keep))


def train_step(model, raw, opt, inputs, targets, micro: int, n_targets: int, world: int,
               ddp: bool, autocast, grad_clip: float) -> torch.Tensor:
    """One optimiser step over this rank's samples; returns this rank's summed token loss."""
    accum = inputs.shape[0] // micro
    loss_sum = torch.zeros((), device=inputs.device)
    for m in range(accum):
        x, y = inputs[m * micro:(m + 1) * micro], targets[m * micro:(m + 1) * micro]
        # Only the last micro-batch all-reduces gradients under DDP.
        sync = model.no_sync() if ddp and m < accum - 1 else contextlib.nullcontext()
        with sync:
            with autocast:
                logits = model(x)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1),
                                       ignore_index=IGNORE, reduction="sum")
            # DDP/FSDP average gradients over ranks; scale so the result is the global mean.
            (loss * (world / n_targets)).backward()
        loss_sum += loss.detach().float()
    torch.nn.utils.clip_grad_norm_(raw.parameters(), grad_clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss_sum


def train(args) -> dict:
    mixture_path = Path(args.data) / "mixture.json"
    if not mixture_path.exists():
        raise UsageError(f"--data {args.data}: no mixture.json there; run python -m pipeline.run --output={args.data} "
                         "first (or point --data at its output)")
    check_device(args.device)
    rt = Runtime(args.device)
    out = Path(args.out) if args.out else default_out(args.data, args.model)
    out.mkdir(parents=True, exist_ok=True)
    mixture_sha = file_sha256(mixture_path)
    vocab = json.loads(mixture_path.read_text())["vocab_size"]
    base = get_config(args.model)
    context = args.context or base.context
    cfg = get_config(args.model, vocab_size=vocab, context=max(context, base.context))
    plan = MixturePlan(args.data, context, args.seed)

    global_batch = (args.batch_tokens or cfg.batch_tokens) // context
    micro = args.micro_batch or default_micro_batch(global_batch // rt.world)
    if global_batch < 1 or global_batch % (rt.world * micro):
        raise SystemExit(f"batch of {global_batch} sequences does not split into {rt.world} ranks "
                         f"× micro-batches of {micro}")
    accum = global_batch // (rt.world * micro)
    plan_steps = -(-plan.n_samples // global_batch)
    use_fsdp = args.fsdp == "on" or (args.fsdp == "auto" and rt.distributed and args.model in LARGE)

    resume_ckpt = None
    if args.resume and (out / CHECKPOINT).exists():
        resume_ckpt = read_checkpoint(out)
        check_resumable(resume_ckpt, out, args.model, cfg, mixture_sha, context, args.seed)
    elif args.resume and rt.main:
        print(f"note: --resume: no checkpoint in {out} yet; starting afresh", file=sys.stderr)
    model, raw = build_model(cfg, args, rt, use_fsdp)
    total_steps = args.total_steps or plan_steps
    schedule = {"peak": args.lr or cfg.peak_lr, "warmup": default_warmup(args.warmup, total_steps),
                "total": total_steps, "min_ratio": args.min_lr_ratio}
    opt = make_optimizer(raw, schedule["peak"], args.weight_decay, rt.device)
    progress = {"step": 0, "samples": 0, "tokens": 0, "target_tokens": 0, "device_seconds": 0.0}
    metrics_path = out / "metrics.jsonl"
    if (out / CHECKPOINT).exists() and not args.resume and rt.main:
        print(f"note: starting afresh in {out}; its checkpoint will be overwritten "
              "(pass --resume to continue it)", file=sys.stderr)
    if resume_ckpt is not None:
        ckpt = load_checkpoint(out, raw, opt, rt, use_fsdp, resume_ckpt)
        schedule = ckpt["schedule"]
        progress = {k: ckpt.get(k, 0) for k in progress}
        if rt.main:
            rewrite_metrics(metrics_path, progress["step"])
    elif rt.main and metrics_path.exists():
        metrics_path.unlink()

    max_steps = args.max_steps if args.max_steps is not None else plan_steps
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if rt.device.type == "cuda"
                else contextlib.nullcontext())
    fpt = flops_per_token(cfg, context)
    peak = peak_flops(rt.device, args.peak_tflops)
    device_name = torch.cuda.get_device_name(rt.device) if rt.device.type == "cuda" else "cpu"
    log_every = args.log_every or max(1, min(100, (max_steps - progress["step"]) // 20 or 1))
    if rt.main:
        print(f"train: model {args.model} ({count_params(raw)['total'] / 1e6:,.2f}M parameters), context {context}, "
              f"{global_batch} sequences a step ({global_batch * context:,} tokens) = {rt.world} rank(s) × "
              f"micro-batch {micro} × {accum} accumulation, on {rt.world} × {device_name}"
              f"{' (FSDP)' if use_fsdp else ''}", flush=True)
        print(f"train: plan {plan.n_samples:,} samples ({plan.planned_tokens:,} tokens) = {plan_steps:,} steps; "
              f"running steps {progress['step'] + 1}..{min(max_steps, plan_steps)}; peak lr {schedule['peak']:g}, "
              f"warm-up {schedule['warmup']}; output {out}", flush=True)

    def checkpoint():
        save_checkpoint(out, raw, opt, {
            **progress, "schedule": schedule, "model_name": args.model, "config": cfg.to_dict(),
            "data": {"mixture_sha256": mixture_sha, "context": context, "seed": args.seed,
                     "global_batch": global_batch}}, rt, use_fsdp)

    model.train()
    run_start = loop_start = time.perf_counter()
    steps_done, start_targets = 0, progress["target_tokens"]
    metrics = open(metrics_path, "a") if rt.main else None
    while progress["step"] < max_steps and progress["samples"] < plan.n_samples:
        t0 = time.perf_counter()
        step, c = progress["step"], progress["samples"]
        lr = lr_at(step, schedule["peak"], schedule["warmup"], schedule["total"], schedule["min_ratio"])
        for group in opt.param_groups:
            group["lr"] = lr
        a, n = rank_slice(c, global_batch, rt.rank, rt.world)
        inputs, targets = plan.tokens(plan.samples(a, n))
        inputs = torch.from_numpy(inputs).to(rt.device, non_blocking=True)
        targets = torch.from_numpy(targets).to(rt.device, non_blocking=True)
        # Normalise by the targets of the whole global batch (known to every rank from the plan),
        # so padding and the split into ranks/micro-batches do not change the objective.
        n_targets = max(1, plan.n_targets(c, global_batch))
        n_tokens = plan.n_targets(c, global_batch) + plan.n_nonempty(c, global_batch)
        ddp = rt.distributed and not use_fsdp
        loss_sum = train_step(model, raw, opt, inputs, targets, micro, n_targets, rt.world, ddp,
                              autocast, args.grad_clip)
        step_loss = (rt.all_sum(loss_sum) / n_targets).item()   # .item() also syncs the device
        dt = time.perf_counter() - t0
        progress.update(step=step + 1, samples=c + global_batch, tokens=progress["tokens"] + n_tokens,
                        target_tokens=progress["target_tokens"] + n_targets)
        tokens_per_s = global_batch * context / dt
        if metrics:
            metrics.write(json.dumps({
                "step": step + 1, "loss": step_loss, "lr": lr, "tokens": progress["tokens"],
                "target_tokens": progress["target_tokens"], "tokens_per_s": tokens_per_s,
                "mfu": fpt * tokens_per_s / (peak * rt.world) if peak else None}) + "\n")
            metrics.flush()
        steps_done += 1
        last = progress["step"] >= max_steps or progress["samples"] >= plan.n_samples
        if rt.main and (progress["step"] % log_every == 0 or last or steps_done == 1):
            print(progress_line(progress["step"], min(max_steps, plan_steps), step_loss, lr,
                                throughput(progress["target_tokens"] - start_targets, time.perf_counter() - loop_start),
                                time.perf_counter() - loop_start, steps_done), flush=True)
        if args.ckpt_every and progress["step"] % args.ckpt_every == 0:
            progress["device_seconds"] += (time.perf_counter() - run_start) * rt.world
            run_start = time.perf_counter()
            checkpoint()
    progress["device_seconds"] += (time.perf_counter() - run_start) * rt.world
    checkpoint()
    if metrics:
        metrics.close()
    real_samples = min(progress["samples"], plan.n_samples)
    summary = {"step": progress["step"], "samples": real_samples,
               "padding_samples": progress["samples"] - real_samples, "tokens": progress["tokens"],
               "target_tokens": progress["target_tokens"], "plan_samples": plan.n_samples,
               "plan_tokens": plan.planned_tokens, "mixture_total_tokens": plan.meta["total_tokens"],
               **energy(progress["device_seconds"], args.power_w, args.pue, args.co2_kg_per_kwh,
                        device=device_name if rt.device.type == "cuda" else "cpu", count=rt.world),
               "plan_steps": plan_steps, "plan_done": progress["samples"] >= plan.n_samples}
    if rt.main:
        atomic.write_text(str(out / "summary.json"), json.dumps(summary, indent=2) + "\n")
        print(summary_text(summary, out), flush=True)
    rt.close()
    return summary


def throughput(targets: int, seconds: float) -> float:
    return targets / seconds if seconds > 0 else 0.0


def energy(device_seconds: float, power_w: float, pue: float, co2_kg_per_kwh: float,
           device: str = "cuda", count: int = 1) -> dict:
    """The paper's formula: Wh = GPU-h × GPU power × PUE; tCO2eq = MWh × 0.385. Labelled with the
    device: `gpu_hours` only when it ran on GPUs (on CPU the same formula gives `device_hours`)."""
    hours = device_seconds / 3600
    kwh = hours * power_w * pue / 1000
    on_gpu = device != "cpu"
    return {"device": device, "device_count": count, "device_hours": hours, "gpu_hours": hours if on_gpu else None,
            "power_w": power_w, "pue": pue, "energy_kwh": kwh, "co2_kg": kwh * co2_kg_per_kwh}


def summary_text(s: dict, out: Path) -> str:
    return "\n".join([
        f"train: {s['step']:,} steps, {s['samples']:,} of {s['plan_samples']:,} planned samples"
        f"{' (plan done)' if s['plan_done'] else ''}; {s['tokens']:,} of {s['plan_tokens']:,} planned tokens "
        f"(mixture.json total_tokens {s['mixture_total_tokens']:,}), {s['target_tokens']:,} of them predicted "
        "(each sample's first token is input only)",
        f"train: {s['device_hours']:.4f} {s['device']} device-hours × {s['power_w']:g} W × PUE {s['pue']:g} = "
        f"{s['energy_kwh']:.4g} kWh, {s['co2_kg']:.4g} kg CO2eq",
        f"train: checkpoint {out / CHECKPOINT}, metrics {out / 'metrics.jsonl'}, summary {out / 'summary.json'}"])


def main(argv=None) -> dict:
    return train(parse_args(argv))


def cli(argv=None) -> int:
    main(argv)
    return 0


if __name__ == "__main__":
    guarded(cli, sys.argv[1:], "train_hooks/train.py", INTERRUPTED)
