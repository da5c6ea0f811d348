"""Train a LLaMA model on the emitted mixture: `python train_hooks/train.py --data DIR --out DIR`.

The loop is in plain sight in `train()`: one optimiser step takes the global batch of samples
[c, c+G) from the plan (train_hooks/data.py), this rank's slice of it in micro-batches with
gradient accumulation, AdamW (β 0.9/0.95, weight decay 0.1 except on norms), linear warm-up then
cosine decay to 10% of the peak rate, gradient clipping at 1.0, bf16 autocast on GPU. Multi-GPU
with `torchrun` (DDP; FSDP2 for the Table 2 configs). Every step appends one JSON line to
OUT/metrics.jsonl; checkpoints hold model, optimiser, schedule, the sample counter and RNG states,
so `--resume` continues bit for bit (on CPU) with any number of ranks that divides the batch.
At the end OUT/summary.json gives energy and CO2 by the paper's formula:
Wh = GPU-hours × GPU power × PUE, tCO2eq = MWh × 0.385.
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

from train_hooks.data import IGNORE, MixturePlan, rank_slice
from train_hooks.model import CONFIGS, Llama, ModelConfig, count_params, flops_per_token, get_config

CHECKPOINT = "checkpoint.pt"
FSDP_CHECKPOINT = "checkpoint_fsdp"   # a torch.distributed.checkpoint directory (sharded)
LARGE = ("7B", "13B", "33B", "65B")
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16 tensor-core peaks
LLAMA_WARMUP = 2000
MAX_MICRO_BATCH = 8


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train a LLaMA model on DIR/mixture.json.")
    p.add_argument("--data", required=True, help="directory with mixture.json and the token shards")
    p.add_argument("--model", default="tiny", choices=sorted(CONFIGS), help="model configuration")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   choices=["cpu", "cuda"])
    p.add_argument("--out", default=None,
                   help="output directory: checkpoint, metrics.jsonl, summary.json (default: DATA/train/MODEL)")
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
    p.add_argument("--gpu_power_w", type=float, default=400.0, help="power per GPU (paper: A100 400 W)")
    p.add_argument("--pue", type=float, default=1.1)
    p.add_argument("--co2_kg_per_kwh", type=float, default=0.385)
    return p.parse_args(argv)


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
            torch.save(meta, out / (CHECKPOINT + ".tmp"))
            os.replace(out / (CHECKPOINT + ".tmp"), out / CHECKPOINT)
    elif rt.main:
        # Write then rename: a crash mid-save leaves the previous checkpoint intact.
        torch.save({**meta, "model": raw.state_dict(), "optimizer": opt.state_dict()},
                   out / (CHECKPOINT + ".tmp"))
        os.replace(out / (CHECKPOINT + ".tmp"), out / CHECKPOINT)
    if rt.distributed:
        dist.barrier()


def load_checkpoint(out: Path, raw, opt, rt: Runtime, use_fsdp: bool) -> dict:
    ckpt = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)
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
    rt = Runtime(args.device)
    out = Path(args.out) if args.out else Path(args.data) / "train" / args.model
    out.mkdir(parents=True, exist_ok=True)
    mixture_path = Path(args.data) / "mixture.json"
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

    model, raw = build_model(cfg, args, rt, use_fsdp)
    total_steps = args.total_steps or plan_steps
    schedule = {"peak": args.lr or cfg.peak_lr, "warmup": default_warmup(args.warmup, total_steps),
                "total": total_steps, "min_ratio": args.min_lr_ratio}
    opt = make_optimizer(raw, schedule["peak"], args.weight_decay, rt.device)
    progress = {"step": 0, "samples": 0, "tokens": 0, "device_seconds": 0.0}
    metrics_path = out / "metrics.jsonl"
    if (out / CHECKPOINT).exists() and not args.resume and rt.main:
        print(f"note: starting afresh in {out}; its checkpoint will be overwritten "
              "(pass --resume to continue it)", file=sys.stderr)
    if args.resume and (out / CHECKPOINT).exists():
        ckpt = load_checkpoint(out, raw, opt, rt, use_fsdp)
        data = ckpt["data"]
        if (data["mixture_sha256"], data["context"], data["seed"]) != (mixture_sha, context, args.seed):
            raise SystemExit("checkpoint was made with another mixture, context or seed")
        schedule = ckpt["schedule"]
        progress = {k: ckpt[k] for k in progress}
        if rt.main:
            rewrite_metrics(metrics_path, progress["step"])
    elif rt.main and metrics_path.exists():
        metrics_path.unlink()

    max_steps = args.max_steps if args.max_steps is not None else plan_steps
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if rt.device.type == "cuda"
                else contextlib.nullcontext())
    fpt = flops_per_token(cfg, context)
    peak = peak_flops(rt.device, args.peak_tflops)
    if rt.main:
        print(json.dumps({"model": args.model, "params": count_params(raw), "context": context,
                          "global_batch": global_batch, "micro_batch": micro, "accum": accum,
                          "world": rt.world, "fsdp": use_fsdp, "plan_steps": plan_steps,
                          "schedule": schedule, "start_step": progress["step"]}), flush=True)

    def checkpoint():
        save_checkpoint(out, raw, opt, {
            **progress, "schedule": schedule, "model_name": args.model, "config": cfg.to_dict(),
            "data": {"mixture_sha256": mixture_sha, "context": context, "seed": args.seed,
                     "global_batch": global_batch}}, rt, use_fsdp)

    model.train()
    run_start = time.perf_counter()
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
        ddp = rt.distributed and not use_fsdp
        loss_sum = train_step(model, raw, opt, inputs, targets, micro, n_targets, rt.world, ddp,
                              autocast, args.grad_clip)
        step_loss = (rt.all_sum(loss_sum) / n_targets).item()   # .item() also syncs the device
        dt = time.perf_counter() - t0
        progress.update(step=step + 1, samples=c + global_batch, tokens=progress["tokens"] + n_targets)
        tokens_per_s = global_batch * context / dt
        if metrics:
            metrics.write(json.dumps({
                "step": step + 1, "loss": step_loss, "lr": lr, "tokens": progress["tokens"],
                "tokens_per_s": tokens_per_s,
                "mfu": fpt * tokens_per_s / (peak * rt.world) if peak else None}) + "\n")
            metrics.flush()
        if args.ckpt_every and progress["step"] % args.ckpt_every == 0:
            progress["device_seconds"] += (time.perf_counter() - run_start) * rt.world
            run_start = time.perf_counter()
            checkpoint()
    progress["device_seconds"] += (time.perf_counter() - run_start) * rt.world
    checkpoint()
    if metrics:
        metrics.close()
    summary = {**{k: progress[k] for k in ("step", "samples", "tokens")},
               **energy(progress["device_seconds"], args.gpu_power_w, args.pue, args.co2_kg_per_kwh),
               "plan_steps": plan_steps, "plan_done": progress["samples"] >= plan.n_samples}
    if rt.main:
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(json.dumps(summary), flush=True)
    rt.close()
    return summary


def energy(device_seconds: float, power_w: float, pue: float, co2_kg_per_kwh: float) -> dict:
    """The paper's formula: Wh = GPU-h × GPU power × PUE; tCO2eq = MWh × 0.385."""
    gpu_hours = device_seconds / 3600
    kwh = gpu_hours * power_w * pue / 1000
    return {"gpu_hours": gpu_hours, "gpu_power_w": power_w, "pue": pue, "energy_kwh": kwh,
            "co2_kg": kwh * co2_kg_per_kwh}


def main(argv=None) -> dict:
    return train(parse_args(argv))


if __name__ == "__main__":
    main()
