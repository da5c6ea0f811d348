"""Training throughput and MFU of the bundled trainer's step, beside a plain compiled loop.

    python bench/gpu_train.py                       # 1B, context 2048, micro-batch 8, compiled, bf16, CUDA
    python bench/gpu_train.py --reference           # ... and the plain compiled reference in the same run
    python bench/gpu_train.py --device cpu --model tiny --context 64 --micro_batch 2 --steps 3
                                                    # smoke test of the same code path on CPU

Runs `train_hooks.train.train_step` (the step train.py runs: bf16 autocast, fused AdamW, clipping)
on one device and reports tokens/s and MFU = FLOPs/token × tokens/s ÷ peak, with FLOPs/token =
6N + 12·L·d·T (train_hooks.model.flops_per_token) and peak 989 TFLOP/s bf16 for H100/H200.
`--reference` then times the floor on the same model, batch and device: a plain loop of the
compiled model under the same autocast, mean cross-entropy, backward, fused AdamW step (no
clipping, accumulation or loss bookkeeping), and reports it under "reference" with the ratio.
Warm-up steps (compilation, autotuning) are excluded from the timing. Token ids come from `--data`'s
plan when given, otherwise from a seeded generator: throughput does not depend on token values.
Prints one JSON object. bench/gpu_checks.py runs it with every other GPU check.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import torch.nn.functional as F  # noqa: E402

from train_hooks.data import IGNORE, MixturePlan  # noqa: E402
from train_hooks.model import Llama, count_params, flops_per_token, get_config  # noqa: E402
from train_hooks.train import make_optimizer, peak_flops, train_step  # noqa: E402

_PLANS: dict = {}


def batch(args, vocab: int, device: torch.device, step: int):
    n = args.micro_batch * args.accum
    if args.data:
        key = (args.data, args.context)
        plan = _PLANS.setdefault(key, MixturePlan(args.data, args.context))   # shards checked once
        start = (step * n) % max(1, plan.n_samples - n)
        x, y = plan.tokens(plan.samples(start, n))
        return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    g = torch.Generator().manual_seed(step)
    seq = torch.randint(3, vocab, (n, args.context + 1), generator=g)
    return seq[:, :-1].contiguous().to(device), seq[:, 1:].contiguous().to(device)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="1B")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--context", type=int, default=2048)
    p.add_argument("--micro_batch", type=int, default=8)
    p.add_argument("--accum", type=int, default=1, help="micro-batches per optimiser step")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup_steps", type=int, default=5, help="untimed steps first (compilation)")
    p.add_argument("--no_compile", action="store_true")
    p.add_argument("--act_ckpt", action="store_true")
    p.add_argument("--reference", action="store_true", help="also time the plain compiled loop (the floor)")
    p.add_argument("--data", default=None, help="take tokens from this mixture's plan")
    p.add_argument("--peak_tflops", type=float, default=None)
    args = p.parse_args(argv)
    for name in ("context", "micro_batch", "accum", "steps"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup_steps < 0:
        p.error("--warmup_steps must be 0 or more")
    return args


def build(args, cfg, device):
    torch.manual_seed(0)
    raw = Llama(cfg)
    raw.init_weights()
    raw.to(device)
    raw.activation_checkpointing = args.act_ckpt
    compiled = not args.no_compile and device.type == "cuda"
    return (torch.compile(raw) if compiled else raw), raw, compiled


def timed(args, cfg, device, step_fn) -> tuple[list, list]:
    """(seconds of each timed step, mean loss of every step) of `step_fn(x, y) → summed loss`."""
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    times, losses = [], []
    tokens_per_step = args.micro_batch * args.accum * args.context
    for step in range(args.warmup_steps + args.steps):
        x, y = batch(args, cfg.vocab_size, device, step)
        sync()
        t0 = time.perf_counter()
        loss = step_fn(x, y)
        losses.append(float(loss) / tokens_per_step)   # float() syncs too
        sync()
        if step >= args.warmup_steps:
            times.append(time.perf_counter() - t0)
    return times, losses


def reference_loop(args, cfg, device, autocast) -> dict:
    """The floor: the same compiled model, batch and optimiser in a bare loop."""
    model, raw, compiled = build(args, cfg, device)
    opt = torch.optim.AdamW(raw.parameters(), lr=cfg.peak_lr, betas=(0.9, 0.95), weight_decay=0.1,
                            fused=device.type == "cuda")

    def step(x, y):
        total = torch.zeros((), device=device)
        for m in range(args.accum):
            xs = x[m * args.micro_batch:(m + 1) * args.micro_batch]
            ys = y[m * args.micro_batch:(m + 1) * args.micro_batch]
            with autocast:
                logits = model(xs)
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), ys.reshape(-1), ignore_index=IGNORE)
            loss.backward()
            total += loss.detach().float() * ys.numel()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return total

    times, losses = timed(args, cfg, device, step)
    del model, raw, opt
    return {"compiled": compiled, "timed_steps": len(times), "step_s_median": statistics.median(times),
            "tokens_per_s": args.micro_batch * args.accum * args.context * len(times) / sum(times),
            "loss_first": losses[0], "loss_last": losses[-1]}


def main(argv=None) -> dict:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    cfg = get_config(args.model, context=max(args.context, get_config(args.model).context))
    model, raw, compiled = build(args, cfg, device)
    opt = make_optimizer(raw, cfg.peak_lr, 0.1, device)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())
    tokens_per_step = args.micro_batch * args.accum * args.context
    times, losses = timed(args, cfg, device, lambda x, y: train_step(
        model, raw, opt, x, y, args.micro_batch, tokens_per_step, 1, False, autocast, 1.0))
    params = count_params(raw)["total"]
    max_mem = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    del model, raw, opt
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()

    fpt = flops_per_token(cfg, args.context)
    tokens_per_s = tokens_per_step * len(times) / sum(times)
    peak = peak_flops(device, args.peak_tflops)
    result = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "model": args.model, "params": params,
        "context": args.context, "micro_batch": args.micro_batch, "accum": args.accum,
        "compiled": compiled, "act_ckpt": args.act_ckpt, "timed_steps": len(times),
        "step_s_median": statistics.median(times), "tokens_per_s": tokens_per_s,
        "flops_per_token": fpt, "peak_tflops": peak / 1e12 if peak else None,
        "mfu": fpt * tokens_per_s / peak if peak else None,
        "max_mem_gib": max_mem,
        "loss_first": losses[0], "loss_last": losses[-1],
    }
    if args.reference:
        ref = reference_loop(args, cfg, device, autocast)
        ref["mfu"] = fpt * ref["tokens_per_s"] / peak if peak else None
        result["reference"] = ref
        result["ratio_to_reference"] = tokens_per_s / ref["tokens_per_s"]
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
