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

The output folder stands on its own (train_hooks/checkpoint.py): OUT/checkpoint.pt carries the
SHA-256 of its bytes and is verified before it is resumed (OUT/checkpoint.prev.pt, the one before,
is kept); it and OUT/train.json record the data folder, mixture.json's and the tokenizer's SHA-256,
the model and the plan, so eval and export need no --data. Token shards are checked against
mixture.json's SHA-256 the first time the plan reads them. A non-finite loss (or non-finite weights
at a checkpoint) stops the run before anything is written for that step.

Guidance: before step 1 the plan (steps, tokens, padding share) and, after the first micro-batch,
an estimate of the run's time; a warning when --max_steps is beyond the plan or more than
PADDING_WARN of the run's sequences are padding. A mistake on the command line (a flag out of
range or combinations that cannot run, CUDA asked of a CPU build of torch, --out inside --data,
--fsdp on outside torchrun, a warm-up not shorter than the schedule, a run longer than its schedule
(--total_steps below --max_steps or the plan), --resume of a checkpoint made with another --model,
data, batch or schedule (--lr, --warmup, --total_steps, --min_lr_ratio: a resumed run keeps the
checkpoint's; leave them out), a fresh start into an --out that holds a checkpoint (--resume or
--overwrite), a corrupt checkpoint, a changed shard) is one line on stderr naming the flag and the
fix, exit 2; nothing is written before it. A fresh start removes what a run left in OUT (RUN_FILES),
and every start removes the temporary files a killed save left (common.atomic.clean_stale).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
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
from common.cli import Parser, UsageError, guarded
from train_hooks import checkpoint as ckpt_io
from train_hooks.data import IGNORE, MixturePlan, ShardMismatch, rank_slice
from train_hooks.model import CONFIGS, Llama, ModelConfig, count_params, flops_per_token, get_config

CHECKPOINT = ckpt_io.CHECKPOINT
PREVIOUS = ckpt_io.PREVIOUS
FSDP_CHECKPOINT = "checkpoint_fsdp"   # a torch.distributed.checkpoint directory (sharded)
LARGE = ("7B", "13B", "33B", "65B")
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16 tensor-core peaks
LLAMA_WARMUP = 2000
LLAMA_MIN_LR_RATIO = 0.1
# What a run leaves in OUT: removed together when a run starts afresh there (--overwrite), so that
# the folder never mixes two runs.
RUN_FILES = (CHECKPOINT, PREVIOUS, FSDP_CHECKPOINT, "metrics.jsonl", "summary.json", ckpt_io.RECORD, "eval.json",
             "ablation_eval.json")
MAX_MICRO_BATCH = 8
PADDING_WARN = 0.10   # warn when more than this share of a run's sequences are padding


class Diverged(UsageError):
    """A non-finite loss or weights: one line saying at which step and what to do, exit 2."""


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(prog="train_hooks/train.py", description="Train a LLaMA model on DIR/mixture.json.")
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
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh into an OUT that holds a checkpoint: its run's files are removed first")
    p.add_argument("--seed", type=int, default=0, help="weight init and data order")
    p.add_argument("--context", type=int, default=None, help="sequence length (default: the model's)")
    p.add_argument("--batch_tokens", type=int, default=None,
                   help="tokens per optimiser step (default: the model's; Table 2: 4M)")
    p.add_argument("--micro_batch", type=int, default=None,
                   help="sequences per forward pass per rank (default: the largest divisor of its batch up to 8)")
    # The schedule (--lr, --warmup, --total_steps, --min_lr_ratio) is fixed when a run starts: --resume
    # takes the checkpoint's, and refuses a differing value.
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the model's)")
    p.add_argument("--warmup", type=int, default=None,
                   help=f"linear warm-up steps (default: LLaMA's {LLAMA_WARMUP}, at most a tenth of the schedule; "
                        "shorter than the schedule)")
    p.add_argument("--total_steps", type=int, default=None,
                   help="length of the cosine schedule (default: the steps of the whole plan; not shorter than the run)")
    p.add_argument("--min_lr_ratio", type=float, default=None,
                   help=f"final rate / peak rate (default {LLAMA_MIN_LR_RATIO})")
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


def check_args(args) -> None:
    """Each flag within its range: one line naming it and the fix (the combinations that need the
    plan or the world size are checked in `train`)."""
    positive = {"--max_steps": (args.max_steps, "leave it out to run the whole plan"),
                "--context": (args.context, "leave it out for the model's"),
                "--batch_tokens": (args.batch_tokens, "leave it out for the model's"),
                "--micro_batch": (args.micro_batch, "leave it out for the largest divisor of the batch up to 8"),
                "--total_steps": (args.total_steps, "leave it out for the plan's steps"),
                "--log_every": (args.log_every, "leave it out for about 20 lines a run")}
    for flag, (value, fix) in positive.items():
        if value is not None and value < 1:
            raise UsageError(f"{flag} {value}: must be at least 1 ({fix})")
    for flag, value in (("--lr", args.lr), ("--grad_clip", args.grad_clip), ("--pue", args.pue),
                        ("--peak_tflops", args.peak_tflops)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"{flag} {value}: must be a positive number")
    for flag, value in (("--warmup", args.warmup), ("--ckpt_every", args.ckpt_every), ("--seed", args.seed),
                        ("--weight_decay", args.weight_decay), ("--power_w", args.power_w),
                        ("--co2_kg_per_kwh", args.co2_kg_per_kwh)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UsageError(f"{flag} {value}: must be 0 or more")
    if args.min_lr_ratio is not None and not 0 <= args.min_lr_ratio <= 1:
        raise UsageError(f"--min_lr_ratio {args.min_lr_ratio}: must be between 0 and 1 (final rate / peak rate)")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite: choose one (--resume continues OUT's checkpoint, --overwrite "
                         "starts again and removes it)")
    if args.fsdp == "on" and int(os.environ.get("WORLD_SIZE", "1")) < 2:
        raise UsageError("--fsdp on: shards the model over the ranks torchrun starts, and this is one process; run "
                         "it under torchrun --nproc_per_node N (N ≥ 2), or leave --fsdp out (auto: FSDP for 7B..65B "
                         "under torchrun)")


def check_out(out: Path, data: Path, given: bool) -> None:
    """The output folder is not the data folder nor inside it, and not a file. `given`: --out was
    passed (else `out` is the default, runs/<data>-<model> under the current directory)."""
    o, d = out.resolve(), data.resolve()
    if o == d or d in o.parents:
        if not given:
            raise UsageError(f"--data {data}: the default --out, {out} under the current directory, is inside it "
                             "(checkpoints would join the data they train on); run from outside the data folder "
                             "or pass --out with a folder outside it")
        raise UsageError(f"--out {out} is inside --data {data}: checkpoints would join the data they train on; "
                         "choose a folder outside it")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder")


def held_checkpoint(out: Path) -> str | None:
    """What checkpoint OUT holds, in words ("step 12"), or None."""
    for name in (CHECKPOINT, PREVIOUS):
        if (out / name).is_file():
            step = ckpt_io.step_of(out / name)
            return f"{'a checkpoint' if name == CHECKPOINT else 'a previous checkpoint'} of step {step}" \
                if step is not None else f"a checkpoint ({name}, unreadable)"
    return "a sharded checkpoint" if (out / FSDP_CHECKPOINT).exists() else None


def check_fresh_start(out: Path, args) -> None:
    """A fresh start never writes into the folder of another run: refused unless --overwrite."""
    held = held_checkpoint(out)
    if held and not args.resume and not args.overwrite:
        raise UsageError(f"--out {out} holds {held}: --resume to continue it, or --overwrite to start again "
                         "(or another --out)")


def check_resumed(ckpt: dict, out: Path, args, global_batch: int, batch_tokens: int) -> None:
    """--resume continues the checkpoint's schedule and batch: a flag asking for another value is
    refused in one line (a flag left out takes the checkpoint's)."""
    made = ckpt["schedule"]
    for flag, key, value in (("--lr", "peak", args.lr), ("--warmup", "warmup", args.warmup),
                             ("--total_steps", "total", args.total_steps),
                             ("--min_lr_ratio", "min_ratio", args.min_lr_ratio)):
        if value is not None and value != made[key]:
            raise UsageError(f"--resume: {out / CHECKPOINT} was made with {flag} {made[key]:g}, and a resumed run keeps "
                             f"its checkpoint's schedule; leave {flag} out (or pass {made[key]:g}), or start again "
                             "with --overwrite (or into another --out)")
    theirs = ckpt["data"].get("global_batch")
    if theirs is not None and theirs != global_batch:
        context = ckpt["data"]["context"]
        raise UsageError(f"--resume: {out / CHECKPOINT} was made with {theirs} sequences a step (--batch_tokens "
                         f"{theirs * context}), this command asks for {global_batch} (--batch_tokens {batch_tokens}): "
                         f"its plan position and schedule count steps of {theirs}; rerun with --batch_tokens "
                         f"{theirs * context}, or start again with --overwrite (or into another --out)")


def check_schedule(schedule: dict, last_step: int, args, out: Path, resumed: bool) -> None:
    """The schedule covers the run: warm-up shorter than it, and no step past its end (there the
    rate would stay at its floor without a word)."""
    total, warmup = schedule["total"], schedule["warmup"]
    if warmup >= total and warmup > 0:
        raise UsageError(f"--warmup {warmup}: not shorter than the schedule's {total} step(s) (--total_steps, default "
                         f"the plan's): the rate would never decay from its peak; use at most {total - 1}")
    if last_step > total:
        if resumed:
            raise UsageError(f"--resume: {out / CHECKPOINT}'s schedule ends at step {total} (--total_steps when it "
                             f"started) and this run would go on to step {last_step} at the final rate; pass "
                             f"--max_steps {total}, or start again with --overwrite and a longer --total_steps")
        raise UsageError(f"--total_steps {total}: shorter than this run ({last_step} steps: "
                         f"{'--max_steps' if args.max_steps is not None else 'the plan'}): steps {total + 1}..{last_step} "
                         f"would run at the final rate; raise --total_steps to {last_step}, or "
                         + (f"lower --max_steps to {total}" if args.max_steps is not None else f"pass --max_steps {total}"))


def start_fresh(out: Path) -> list[str]:
    """Remove what a run left in OUT (RUN_FILES) before a fresh start there; returns what went."""
    gone = []
    for name in RUN_FILES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        gone.append(name)
    return gone


def plan_padding(plan: MixturePlan, global_batch: int, first: int, last: int) -> tuple[int, int]:
    """(padding sequences, sequences) of steps first+1..last: all-padding samples past the plan's end."""
    slots = (last - first) * global_batch
    real = min(last * global_batch, plan.n_samples) - min(first * global_batch, plan.n_samples)
    return slots - real, slots


def suggested_batch(n_samples: int, world: int) -> int:
    """Sequences per step that split the plan into at least 10 steps (padding under a tenth)."""
    return max(world, (n_samples // 10) // world * world)


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
    """Write OUT/checkpoint.pt sealed with its SHA-256 (train_hooks/checkpoint.py; the one it replaces
    becomes checkpoint.prev.pt). Refuses non-finite weights: a checkpoint is never worse than the last."""
    bad = [name for name, p in raw.named_parameters() if not bool(torch.isfinite(p.detach()).all())]
    if rt.distributed:
        flag = rt.all_sum(torch.tensor([float(len(bad))], device=rt.device))
        bad = bad or (["(on another rank)"] if flag.item() else [])
    if bad:
        raise Diverged(f"after step {progress.get('step')} the weights are not finite ({len(bad)} tensors, e.g. "
                       f"{bad[0]}; a gradient overflowed); nothing was written ("
                       + (f"{out / CHECKPOINT} is as it was" if (out / CHECKPOINT).exists() else "no checkpoint yet")
                       + "). Start afresh with a lower --lr or --grad_clip")
    meta = {**progress, "rng": rng_state()}
    if use_fsdp:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict
        model_sd, opt_sd = get_state_dict(raw, opt)
        dcp.save({"model": model_sd, "optimizer": opt_sd}, checkpoint_id=str(out / FSDP_CHECKPOINT))
        if rt.distributed:
            dist.barrier()
        if rt.main:
            # The shards are rewritten in place, so no previous checkpoint is kept for FSDP.
            meta["fsdp_files"] = ckpt_io.folder_digests(out / FSDP_CHECKPOINT)
            ckpt_io.save(out / CHECKPOINT, meta, keep_previous=False)
    elif rt.main:
        # Written under a temporary name, sealed with its SHA-256, renamed over the last one, which
        # is kept as checkpoint.prev.pt: a crash mid-save leaves both intact.
        ckpt_io.save(out / CHECKPOINT, {**meta, "model": raw.state_dict(), "optimizer": opt.state_dict()})
    if rt.distributed:
        dist.barrier()


def read_checkpoint(out: Path) -> dict:
    """OUT/checkpoint.pt, its SHA-256 verified (a one-line CheckpointError naming the previous good one)."""
    return ckpt_io.load(out / CHECKPOINT, "--resume")


def check_resumable(ckpt: dict, out: Path, model: str, cfg: ModelConfig, mixture_sha: str, context: int,
                    seed: int, tokenizer_sha: str | None = None) -> None:
    """--resume continues only the run the checkpoint belongs to: the same model, mixture, tokenizer,
    context, seed."""
    made = ckpt.get("model_name")
    if made != model or ckpt.get("config") != cfg.to_dict():
        raise UsageError(f"--resume: {out / CHECKPOINT} was made with --model {made}"
                         + ("" if made != model else " and another configuration (vocabulary or --context)")
                         + f"; rerun with --model {made}, or train --model {model} into another --out")
    data = ckpt["data"]
    checks = [("mixture.json", mixture_sha, data["mixture_sha256"]), ("--context", context, data["context"]),
              ("--seed", seed, data["seed"])]
    if tokenizer_sha is not None and data.get("tokenizer_sha256") is not None:
        checks.append(("tokenizer", tokenizer_sha, data["tokenizer_sha256"]))
    for name, ours, theirs in checks:
        if ours != theirs:
            shown = (f"{theirs}" if name.startswith("--") else f"another {name} (SHA-256 differs)")
            raise UsageError(f"--resume: {out / CHECKPOINT} was made with {name} {shown}; rerun with the same "
                             "--data/--context/--seed, or start again with --overwrite (or into another --out)")


def load_checkpoint(out: Path, raw, opt, rt: Runtime, use_fsdp: bool, ckpt: dict | None = None) -> dict:
    ckpt = ckpt if ckpt is not None else read_checkpoint(out)
    if use_fsdp:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
        folder = out / FSDP_CHECKPOINT
        digests = ckpt.get("fsdp_files") or {}
        # Each rank hashes its share of the shard files; every rank learns whether any differ.
        mine = {n: d for i, (n, d) in enumerate(sorted(digests.items())) if i % rt.world == rt.rank}
        bad = [n for n, d in mine.items() if not (folder / n).is_file() or ckpt_io.file_sha256(folder / n) != d]
        missing = not digests or sorted(ckpt_io.folder_files(folder)) != sorted(digests)
        flag = rt.all_sum(torch.tensor([float(len(bad) + missing)], device=rt.device))
        if flag.item():
            raise ckpt_io.CheckpointError(f"--resume: {folder} does not match the checksums {out / CHECKPOINT} "
                                          "recorded (files differ or are missing); it cannot be resumed")
        model_sd, opt_sd = get_state_dict(raw, opt)
        state = {"model": model_sd, "optimizer": opt_sd}
        dcp.load(state, checkpoint_id=str(folder))
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
    atomic.write_text(str(path), "".join(line + "\n" for line in keep))


def train_step(model, raw, opt, inputs, targets, micro: int, n_targets: int, world: int,
               ddp: bool, autocast, grad_clip: float, on_micro=None) -> torch.Tensor:
    """One optimiser step over this rank's samples; returns this rank's summed token loss.
    `on_micro(m, accum)`, if given, is called after each micro-batch's backward pass."""
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
        if on_micro is not None:
            on_micro(m, accum)
    torch.nn.utils.clip_grad_norm_(raw.parameters(), grad_clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss_sum


def train(args) -> dict:
    check_args(args)
    data = Path(args.data)
    mixture_path = data / "mixture.json"
    if not mixture_path.exists():
        raise UsageError(f"--data {args.data}: no mixture.json there; run python -m pipeline.run --output={args.data} "
                         "first (or point --data at its output)")
    out = Path(args.out) if args.out else default_out(args.data, args.model)
    check_out(out, data, args.out is not None)
    check_fresh_start(out, args)
    check_device(args.device)
    trained_on = ckpt_io.data_record(data)
    if trained_on["tokenizer_sha256"] is None:
        raise UsageError(f"--data {args.data}: mixture.json names the tokenizer {trained_on['tokenizer']}, which is "
                         "not there; run the tokenizer stage again (python -m pipeline.run --stages=tokenizer,...)")
    mixture_sha = trained_on["mixture_sha256"]
    vocab = trained_on["vocab_size"]
    base = get_config(args.model)
    context = args.context or base.context
    batch_tokens = args.batch_tokens or base.batch_tokens
    global_batch = batch_tokens // context
    if global_batch < 1:
        flag = "--context" if args.context else "--batch_tokens"
        raise UsageError(f"{flag}: a step of {batch_tokens:,} tokens (--batch_tokens) holds no sequence of --context "
                         f"{context:,}; raise --batch_tokens to at least {context} or lower --context")
    cfg = get_config(args.model, vocab_size=vocab, context=max(context, base.context))
    try:
        plan = MixturePlan(args.data, context, args.seed)
    except ValueError as e:      # shards that disagree with mixture.json, a changed shard, ...
        raise UsageError(f"--data {args.data}: {e}") from None
    if plan.n_samples < 1:
        raise UsageError(f"--data {args.data}: mixture.json plans no tokens; nothing to train on")
    if context >= plan.planned_tokens:
        raise UsageError(f"--context {context:,}: longer than the whole plan ({plan.planned_tokens:,} tokens); "
                         "lower --context or plan more tokens (pipeline.run --target_tokens)")
    rt = Runtime(args.device)
    if global_batch % rt.world:
        raise UsageError(f"--batch_tokens {batch_tokens}: a step of {global_batch} sequences does not split over "
                         f"{rt.world} ranks; use a multiple of {rt.world * context} tokens")
    per_rank = global_batch // rt.world
    if args.micro_batch and per_rank % args.micro_batch:
        fits = [d for d in range(1, min(per_rank, 64) + 1) if per_rank % d == 0]
        raise UsageError(f"--micro_batch {args.micro_batch}: does not divide the {per_rank} sequences a rank takes "
                         f"a step (--batch_tokens {batch_tokens} / --context {context} / {rt.world} rank(s)); "
                         f"use one of {', '.join(map(str, fits))}")
    micro = args.micro_batch or default_micro_batch(per_rank)
    accum = per_rank // micro
    plan_steps = -(-plan.n_samples // global_batch)
    use_fsdp = args.fsdp == "on" or (args.fsdp == "auto" and rt.distributed and args.model in LARGE)

    resume_ckpt = None
    if args.resume and ((out / CHECKPOINT).exists() or (out / PREVIOUS).exists()):
        resume_ckpt = read_checkpoint(out)
        check_resumable(resume_ckpt, out, args.model, cfg, mixture_sha, context, args.seed,
                        trained_on["tokenizer_sha256"])
        check_resumed(resume_ckpt, out, args, global_batch, batch_tokens)
        schedule = resume_ckpt["schedule"]
    else:
        total_steps = args.total_steps or plan_steps
        schedule = {"peak": args.lr or cfg.peak_lr, "warmup": default_warmup(args.warmup, total_steps),
                    "total": total_steps,
                    "min_ratio": args.min_lr_ratio if args.min_lr_ratio is not None else LLAMA_MIN_LR_RATIO}
    max_steps = args.max_steps if args.max_steps is not None else plan_steps
    last_step = min(max_steps, plan_steps)
    check_schedule(schedule, last_step, args, out, resume_ckpt is not None)
    if rt.main:
        # Written from here on: first what a killed save left, then (a fresh start) the last run's files.
        stale = atomic.clean_stale(str(out))
        if stale:
            print(f"note: removed {len(stale)} temporary file(s) a killed run left in {out}: "
                  + ", ".join(Path(p).name for p in stale[:3]), file=sys.stderr)
        if resume_ckpt is None:
            if args.resume:
                print(f"note: --resume: no checkpoint in {out} yet; starting afresh", file=sys.stderr)
            gone = start_fresh(out)
            if gone and args.overwrite:
                print(f"note: --overwrite: removed the last run's {', '.join(gone)} from {out}", file=sys.stderr)
    if rt.distributed:
        dist.barrier()
    out.mkdir(parents=True, exist_ok=True)
    model, raw = build_model(cfg, args, rt, use_fsdp)
    opt = make_optimizer(raw, schedule["peak"], args.weight_decay, rt.device)
    progress = {"step": 0, "samples": 0, "tokens": 0, "target_tokens": 0, "device_seconds": 0.0}
    metrics_path = out / "metrics.jsonl"
    if resume_ckpt is not None:
        ckpt = load_checkpoint(out, raw, opt, rt, use_fsdp, resume_ckpt)
        progress = {k: ckpt.get(k, 0) for k in progress}
        if rt.main:
            rewrite_metrics(metrics_path, progress["step"])
    resumed_at = progress["step"]
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if rt.device.type == "cuda"
                else contextlib.nullcontext())
    fpt = flops_per_token(cfg, context)
    peak = peak_flops(rt.device, args.peak_tflops)
    device_name = torch.cuda.get_device_name(rt.device) if rt.device.type == "cuda" else "cpu"
    log_every = args.log_every or max(1, min(100, (max_steps - progress["step"]) // 20 or 1))
    padding, slots = plan_padding(plan, global_batch, resumed_at, max(resumed_at, last_step))
    n_params = count_params(raw)["total"]
    whose = " (the checkpoint's)" if resume_ckpt is not None else ""
    if rt.main:
        print(f"train: model {args.model} ({n_params / 1e6:,.2f}M parameters), context {context}, "
              f"{global_batch} sequences a step ({global_batch * context:,} tokens) = {rt.world} rank(s) × "
              f"micro-batch {micro} × {accum} accumulation, on {rt.world} × {device_name}"
              f"{' (FSDP)' if use_fsdp else ''}", flush=True)
        print(f"train: plan {plan.n_samples:,} samples ({plan.planned_tokens:,} tokens) = {plan_steps:,} steps; "
              f"this run: steps {resumed_at + 1}..{last_step} = {slots:,} sequences, {padding:,} of them padding "
              f"({padding / max(1, slots):.0%}); peak lr {schedule['peak']:g}, warm-up {schedule['warmup']}, "
              f"schedule {schedule['total']:,} steps{whose}; "
              f"output {out}", flush=True)
        if args.max_steps is not None and args.max_steps > plan_steps:
            print(f"warning: --max_steps {args.max_steps} is beyond the plan's {plan_steps:,} step(s): the run ends "
                  f"with the plan, at step {plan_steps:,}; for more steps plan more tokens (pipeline.run "
                  f"--target_tokens) or take fewer tokens a step (--batch_tokens)", file=sys.stderr, flush=True)
        if slots and padding / slots > PADDING_WARN:
            fit = suggested_batch(plan.n_samples, rt.world)
            print(f"warning: {padding:,} of the {slots:,} sequences this run computes are padding "
                  f"({padding / slots:.0%} > {PADDING_WARN:.0%}): the plan's {plan.n_samples:,} samples do not fill "
                  f"its steps of {global_batch:,}; --batch_tokens {fit * context} ({fit} sequences) would run "
                  f"{-(-plan.n_samples // fit)} steps with less than a tenth padding", file=sys.stderr, flush=True)

    record = {"data": trained_on,
              "model": {"name": args.model, "config": cfg.to_dict(), "parameters": n_params},
              "plan": {"context": context, "seed": args.seed, "global_batch": global_batch, "micro_batch": micro,
                       "ranks": rt.world, "samples": plan.n_samples, "tokens": plan.planned_tokens,
                       "steps": plan_steps, "padding_samples": plan_steps * global_batch - plan.n_samples,
                       "schedule": schedule}}

    saved_step = resumed_at if resume_ckpt is not None else None

    def checkpoint():
        nonlocal saved_step
        save_checkpoint(out, raw, opt, {
            **progress, "schedule": schedule, "model_name": args.model, "config": cfg.to_dict(),
            "data": {**trained_on, "context": context, "seed": args.seed, "global_batch": global_batch}},
            rt, use_fsdp)
        saved_step = progress["step"]
        if rt.main:
            checked, shards = plan.shards_verified()
            ckpt_io.write_record(out, {**record, "checkpoint": {"file": CHECKPOINT, "step": progress["step"]},
                                       "shards_verified": {"checked": checked, "of": shards}})

    def estimate(m: int, accum: int) -> None:
        """After the run's first micro-batch: the time a step and the run will take at that pace."""
        if m or steps_done or not rt.main:
            return
        if rt.device.type == "cuda":
            torch.cuda.synchronize(rt.device)
        first = time.perf_counter() - t0
        per_step = first * accum
        print(f"train: estimate: the first micro-batch took {first:.2f} s ({accum} a step"
              f"{', including start-up' if args.compile or rt.device.type == 'cuda' else ''}): about "
              f"{fmt_duration(per_step)} a step, {fmt_duration(per_step * (last_step - resumed_at))} for this run's "
              f"{last_step - resumed_at:,} step(s); the progress lines refine it", flush=True)

    model.train()
    run_start = loop_start = time.perf_counter()
    steps_done, start_targets = 0, progress["target_tokens"]
    metrics = open(metrics_path, "a") if rt.main else None
    try:
        while progress["step"] < max_steps and progress["samples"] < plan.n_samples:
            t0 = time.perf_counter()
            step, c = progress["step"], progress["samples"]
            lr = lr_at(step, schedule["peak"], schedule["warmup"], schedule["total"], schedule["min_ratio"])
            for group in opt.param_groups:
                group["lr"] = lr
            a, n = rank_slice(c, global_batch, rt.rank, rt.world)
            try:
                inputs, targets = plan.tokens(plan.samples(a, n))
            except ShardMismatch as e:   # checked on first read: before its tokens reach a batch
                raise UsageError(f"--data {args.data}: step {step + 1}: {e}; nothing was written for this step") from None
            inputs = torch.from_numpy(inputs).to(rt.device, non_blocking=True)
            targets = torch.from_numpy(targets).to(rt.device, non_blocking=True)
            # Normalise by the targets of the whole global batch (known to every rank from the plan),
            # so padding and the split into ranks/micro-batches do not change the objective.
            n_targets = max(1, plan.n_targets(c, global_batch))
            n_tokens = plan.n_targets(c, global_batch) + plan.n_nonempty(c, global_batch)
            ddp = rt.distributed and not use_fsdp
            loss_sum = train_step(model, raw, opt, inputs, targets, micro, n_targets, rt.world, ddp,
                                  autocast, args.grad_clip, on_micro=estimate)
            step_loss = (rt.all_sum(loss_sum) / n_targets).item()   # .item() also syncs the device
            if not math.isfinite(step_loss):
                raise Diverged(diverged_text(step + 1, step_loss, out, saved_step,
                                             resume_ckpt is not None and steps_done == 0, schedule["peak"]))
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
                print(progress_line(progress["step"], last_step, step_loss, lr,
                                    throughput(progress["target_tokens"] - start_targets, time.perf_counter() - loop_start),
                                    time.perf_counter() - loop_start, steps_done), flush=True)
            if args.ckpt_every and progress["step"] % args.ckpt_every == 0:
                progress["device_seconds"] += (time.perf_counter() - run_start) * rt.world
                run_start = time.perf_counter()
                checkpoint()
    finally:
        if metrics:
            metrics.close()
    progress["device_seconds"] += (time.perf_counter() - run_start) * rt.world
    if saved_step != progress["step"]:      # not just written by --ckpt_every (that would rotate it out)
        checkpoint()
    elif steps_done == 0 and rt.main:
        print(f"train: nothing to run: {out / CHECKPOINT} is at step {progress['step']:,} "
              f"({'the plan is done' if progress['samples'] >= plan.n_samples else f'--max_steps {max_steps}'}); "
              "it is left as it is", flush=True)
    real_samples = min(progress["samples"], plan.n_samples)
    checked, shards = plan.shards_verified()
    summary = {"step": progress["step"], "samples": real_samples,
               "padding_samples": progress["samples"] - real_samples, "tokens": progress["tokens"],
               "target_tokens": progress["target_tokens"], "plan_samples": plan.n_samples,
               "plan_tokens": plan.planned_tokens, "mixture_total_tokens": plan.meta["total_tokens"],
               **energy(progress["device_seconds"], args.power_w, args.pue, args.co2_kg_per_kwh,
                        device=device_name if rt.device.type == "cuda" else "cpu", count=rt.world),
               "plan_steps": plan_steps, "plan_done": progress["samples"] >= plan.n_samples,
               "shards_verified": {"checked": checked, "of": shards}}
    if rt.main and (steps_done or not (out / "summary.json").exists()):
        atomic.write_text(str(out / "summary.json"), json.dumps(summary, indent=2) + "\n")
        print(summary_text(summary, out), flush=True)
    rt.close()
    return summary


def diverged_text(step: int, loss: float, out: Path, saved_step: int | None, resumed: bool, peak_lr: float) -> str:
    """Which step, what is left on disk, and what to do."""
    metrics = (f"{out / 'metrics.jsonl'} holds steps 1..{step - 1}" if step > 1
               else f"{out / 'metrics.jsonl'} holds no step")
    kept = (f"{out / CHECKPOINT} still holds step {saved_step}; {metrics}" if saved_step is not None
            else f"no checkpoint in {out}; {metrics}")
    if resumed:
        return (f"step {step}: the loss is {loss} (non-finite) on the first step after resuming: the checkpoint's "
                f"weights are damaged; nothing was written ({kept}). Go back to {out / PREVIOUS} if it is an "
                "older good one, or start again with --overwrite (or into another --out)")
    return (f"step {step}: the loss is {loss} (non-finite): the run diverged; nothing was written for it ({kept}). "
            f"Start again (--overwrite) with a lower --lr (the peak was {peak_lr:g}) or a longer --warmup")


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
