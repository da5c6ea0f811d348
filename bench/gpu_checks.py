"""Every GPU check of the model stage in one command, for the few minutes a GPU machine is lent.

    .venv/bin/python bench/gpu_checks.py --out DIR [--data MIXTURE_DIR] [--full]   # on a CUDA machine
    .venv/bin/python bench/gpu_checks.py --device cpu --quick --data DIR --out DIR   # the same path on CPU

1. throughput: bench/gpu_train.py on the 1B config (context 2048, micro-batch 8, torch.compile, bf16
   autocast): tokens/s and MFU of the trainer's step beside the plain compiled loop (the floor) in
   the same process, THROUGHPUT_STEPS timed steps after the warm-up ones that compile (--full: more);
   the target is MFU ≥ 0.50 on an H100/H200 (reported, not a pass condition).
2. train: train.py on CUDA (bf16 autocast, --compile) on the mixture in --data: finite losses, a
   checkpoint that verifies, the device in summary.json.
3. eval: that CUDA-trained checkpoint scored by train_hooks.eval in bfloat16 on CUDA and in float32
   on CPU on the bundled ARC-Easy and PIQA slices: log-likelihoods within 2% (the choices' agreement
   is reported: a barely trained model has narrow margins), and the command line in bf16 on CUDA.
4. export: that checkpoint exported (train_hooks.export, no --data); LlamaForCausalLM on the device,
   float32 without TF32, gives our model's logits on a planned sample (max |Δ| ≤ 1e-3).

Without --data the demo's data is built first (python -m pipeline.run --output=DIR/data, about a
minute; bench/gpu_check.sh passes the mixture folder it prepared on a CPU machine instead). Writes
DIR/gpu_checks.json (`--only` adds its checks to the ones there) and one line per check; exit 1
when a check fails, 2 on a usage mistake. The two 1B compilations dominate: bench/gpu_check.sh
gives the throughput check its own time limit.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from common import atomic  # noqa: E402
from common.cli import Parser, UsageError, guarded  # noqa: E402

EVAL_TASKS = ("arc_easy", "piqa")
# (timed steps, untimed warm-up steps) of the throughput check: short, and --full's.
THROUGHPUT_STEPS = {"short": (5, 2), "full": (20, 5)}


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(prog="bench/gpu_checks.py", description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="folder for the run, the export and gpu_checks.json")
    p.add_argument("--data", default=None, help="mixture folder (default: build the demo's into OUT/data)")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--quick", action="store_true", help="tiny sizes everywhere (the CPU test of this script)")
    p.add_argument("--full", action="store_true",
                   help="the longer sizes: 20 timed throughput steps, 100 training steps, 500 items per task")
    p.add_argument("--bench_model", default=None, help="config for the throughput check (default 1B; tiny with --quick)")
    p.add_argument("--train_steps", type=int, default=None,
                   help="steps of the CUDA training (default 30; 100 with --full; 2 with --quick)")
    p.add_argument("--eval_limit", type=int, default=None, help="items per task (default 200; 500 with --full; 8 with --quick)")
    p.add_argument("--only", default=None, help="comma-separated subset of: throughput,train,eval,export")
    p.add_argument("--debug", action="store_true")
    args = p.parse_args(argv)
    if args.quick and args.full:
        raise UsageError("--quick and --full: choose one")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device cuda: torch {torch.__version__} sees no CUDA device; "
                         "--device cpu --quick runs the same checks on CPU")
    for flag in ("train_steps", "eval_limit"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise UsageError(f"--{flag} {getattr(args, flag)}: must be at least 1")
    wanted = set((args.only or "throughput,train,eval,export").split(","))
    unknown = wanted - {"throughput", "train", "eval", "export"}
    if unknown:
        raise UsageError(f"--only: unknown check(s) {', '.join(sorted(unknown))}; choose from throughput,train,eval,export")
    if wanted & {"eval", "export"} and "train" not in wanted and not (Path(args.out) / "run" / "checkpoint.pt").exists():
        raise UsageError("--only eval/export need the train check's checkpoint in OUT/run; add train")
    args.wanted = wanted
    return args


def gpu_train_module():
    spec = importlib.util.spec_from_file_location("gpu_train", ROOT / "bench" / "gpu_train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_throughput(args, data: Path) -> dict:
    if args.quick:
        argv = ["--model", args.bench_model or "tiny", "--context", "64", "--micro_batch", "2", "--steps", "2",
                "--warmup_steps", "1", "--peak_tflops", "1", "--data", str(data)]
    else:
        steps, warmup = THROUGHPUT_STEPS["full" if args.full else "short"]
        argv = ["--model", args.bench_model or "1B", "--context", "2048", "--micro_batch", "8", "--steps", str(steps),
                "--warmup_steps", str(warmup)]
    result = gpu_train_module().main(["--device", args.device, "--reference", *argv])
    ok = all(math.isfinite(r["loss_last"]) for r in (result, result["reference"])) and result["tokens_per_s"] > 0
    return {"ok": ok, **result, "mfu_target": 0.5}


def check_train(args, data: Path, run: Path) -> dict:
    from train_hooks import checkpoint as C
    from train_hooks import train as T

    steps = args.train_steps or (2 if args.quick else 100 if args.full else 30)
    argv = ["--data", str(data), "--out", str(run), "--model", "tiny", "--device", args.device,
            "--max_steps", str(steps), "--log_every", "10", "--overwrite"]   # a rerun starts the check again
    if args.device == "cuda":
        argv.append("--compile")
    summary = T.main(argv)
    losses = [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    ckpt = C.load(run / C.CHECKPOINT)
    ok = (summary["step"] == len(losses) == ckpt["step"] and all(math.isfinite(x) for x in losses)
          and summary["device"] == (torch.cuda.get_device_name() if args.device == "cuda" else "cpu"))
    return {"ok": ok, "steps": summary["step"], "loss_first": losses[0], "loss_last": losses[-1],
            "device": summary["device"], "tokens": summary["tokens"]}


def check_eval(args, run: Path) -> dict:
    from train_hooks import eval as E

    limit = args.eval_limit or (8 if args.quick else 500 if args.full else 200)
    low, ref = E.load(str(run), None, args.device, "bfloat16"), E.load(str(run), None, "cpu", "float32")
    out = {"limit": limit, "dtype": low.dtype, "tasks": {}}
    worst = 0.0
    for name in EVAL_TASKS:
        path = str(E.DEFAULT_TASKS[name])
        requests = E.read_task(name, path, limit)
        pairs = [E.split_pair(ref.encode, r.context, " " + c) for r in requests for c in r.choices]
        ll16 = E.loglikelihoods(low.logits_fn, pairs, low.max_len, 32, args.device)
        ll32 = E.loglikelihoods(ref.logits_fn, pairs, ref.max_len, 32, "cpu")
        rel = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(ll16, ll32))
        picks16 = E.score_choices(low.logits_fn, low.encode, requests, "char", low.max_len, 32, args.device)
        picks32 = E.score_choices(ref.logits_fn, ref.encode, requests, "char", ref.max_len, 32, "cpu")
        out["tasks"][name] = {"items": len(requests), "max_rel_loglik_diff": rel, "differs": ll16 != ll32,
                              "choice_agreement": sum(a == b for a, b in zip(picks16, picks32)) / len(requests)}
        worst = max(worst, rel)
    cli = E.main([f"--checkpoint={run}", f"--tasks={','.join(f'{n}={E.DEFAULT_TASKS[n]}' for n in EVAL_TASKS)}",
                  f"--limit={limit}", f"--device={args.device}", "--dtype=bfloat16", f"--out={run / 'eval_bf16.json'}"])
    written = json.loads((run / "eval_bf16.json").read_text())
    out["cli"] = {"rc": cli, "device": written["device"], "dtype": written["dtype"]}
    out["ok"] = worst <= 0.02 and cli == 0 and written["dtype"] == "bfloat16"
    return out


def check_export(args, data: Path, run: Path, hf: Path) -> dict:
    from transformers import LlamaForCausalLM

    from train_hooks import checkpoint as C
    from train_hooks.data import MixturePlan
    from train_hooks.export import export
    from train_hooks.model import Llama, ModelConfig

    if args.device == "cuda":          # compare in true float32
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    export(run, None, hf)
    ckpt = C.load(run / C.CHECKPOINT)
    ours = Llama(ModelConfig(**ckpt["config"]))
    ours.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()})
    ours.to(args.device).eval()
    theirs = LlamaForCausalLM.from_pretrained(str(hf), dtype=torch.float32).to(args.device).eval()
    plan = MixturePlan(data, ckpt["data"]["context"])  # one plan: each build reads and hashes every .idx
    x, _ = plan.tokens(plan.samples(0, 2))
    tokens = torch.from_numpy(x).to(args.device)
    with torch.no_grad():
        diff = float((ours(tokens) - theirs(tokens).logits).abs().max())
    return {"ok": diff <= 1e-3, "max_abs_logit_diff": diff, "hf_dir": str(hf), "step": ckpt["step"]}


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else out / "data"
    if not (data / "mixture.json").exists():
        if args.data:
            raise UsageError(f"--data {args.data}: no mixture.json there")
        print(f"gpu_checks: building the demo's data into {data} (python -m pipeline.run)", flush=True)
        proc = subprocess.run([sys.executable, "-m", "pipeline.run", f"--output={data}"], cwd=ROOT)
        if proc.returncode:
            raise UsageError(f"python -m pipeline.run --output={data} failed (exit {proc.returncode}); pass --data")
    run, hf = out / "run", out / "hf"
    steps = {"throughput": lambda: check_throughput(args, data), "train": lambda: check_train(args, data, run),
             "eval": lambda: check_eval(args, run), "export": lambda: check_export(args, data, run, hf)}
    results = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
               "torch": torch.__version__, "quick": args.quick, "full": args.full, "checks": {}}
    previous = out / "gpu_checks.json"
    if args.only and previous.exists():     # a subset adds to the checks an earlier call recorded
        results["checks"] = {k: v for k, v in json.loads(previous.read_text()).get("checks", {}).items()
                             if k not in args.wanted}
    for name, fn in steps.items():
        if name not in args.wanted:
            continue
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as e:          # one failing check must not hide the others' results
            result = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}
        result["wall_s"] = round(time.perf_counter() - t0, 1)
        results["checks"][name] = result
        atomic.write_text(str(out / "gpu_checks.json"), json.dumps(results, indent=2) + "\n")
        shown = {k: v for k, v in result.items() if k in ("tokens_per_s", "mfu", "ratio_to_reference", "steps",
                                                          "loss_last", "max_abs_logit_diff", "error", "wall_s")}
        if name == "throughput" and "reference" in result:
            shown["reference_tokens_per_s"] = result["reference"]["tokens_per_s"]
            shown["reference_mfu"] = result["reference"]["mfu"]
        if name == "eval" and "tasks" in result:
            shown.update({f"{t}_max_rel_loglik_diff": r["max_rel_loglik_diff"] for t, r in result["tasks"].items()})
        print(f"gpu_checks: {name}: {'ok' if result['ok'] else 'FAILED'} {json.dumps(shown)}", flush=True)
    results["ok"] = all(r["ok"] for r in results["checks"].values())
    atomic.write_text(str(out / "gpu_checks.json"), json.dumps(results, indent=2) + "\n")
    print(f"gpu_checks: {'all ok' if results['ok'] else 'FAILED'}; {out / 'gpu_checks.json'}", flush=True)
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    guarded(main, sys.argv[1:], "bench/gpu_checks.py")
