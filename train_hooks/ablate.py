"""Does the data make a better model? Train proxy models on two or more data recipes and compare them.

    python -m train_hooks.ablate [NAME=]DIR [NAME=]DIR … --reference DIR_OR_FILES --out OUT
        [--preset cpu|gpu] [--sources commoncrawl] [--reference_sources wikipedia,books]
        [--tokens N] [--seeds N] [--model M] [--device cpu|cuda] [--tasks NAME=FILE,…]

Each DIR is a pipeline output (curated Parquet, or token shards + mixture.json): different recipes,
or one recipe with a `--set` change. Steps (each resumable: rerun the same command to continue):

1. Comparable training sets (train_hooks/ablate_data.py): reference text excluded from every arm;
   one tokenizer for all arms, trained on a seeded sample of their union (or `--tokenizer`); the
   same token budget per arm (`--tokens`), the same share for a source the arms share; each arm's
   documents chosen by a seeded hash of their id. OUT/data/<arm>/ is a mixture folder.
2. One proxy model per arm and seed, by train_hooks/train.py itself (`train.main`: LLaMA's AdamW
   β 0.9/0.95, wd 0.1, warm-up then cosine to 10%, clipping 1.0), seed = weight init and data order;
   the documents are the same for every seed. OUT/runs/<arm>/seed<k>/.
3. The same evaluation of every model (train_hooks/ablate_eval.py): bits per byte on the reference
   passages (tokenizer-independent), and the zero-shot tasks with LLaMA's protocol
   (train_hooks/eval.py), aggregated as DCLM's CORE (centred accuracy, averaged). Kept in
   RUN/ablation_eval.json with what it was made from (the checkpoint's SHA-256, the passages, the
   task files, --task_limit, --batch_size, --device): evaluated again when any differs. (Not
   RUN/eval.json: that is train_hooks.eval's own result.)
4. Per metric and arm the mean ± standard error over seeds; each arm against the baseline (the first
   arm, or `--baseline`): the difference with its 95% interval over seeds (Welch) and over the
   test's own items (paired: the same passages and task items score both arms), and a plain
   sentence when either interval holds 0 — within noise (train_hooks/ablate_stats.py). OUT/ablation.json and a self-contained
   OUT/ablation.html (train_hooks/ablate_report.py).

Presets (each overridable option by option):
- `cpu`, CPU minutes: model `tiny` (d 64, 2 layers) with a 4,096-piece vocabulary = 655,680
  parameters (393,536 in matrix multiplies), context 64, 2,048 tokens a step, 262,144 tokens per arm
  and seed (127 steps: a sample is context + 1 tokens), 3 seeds; reference 100 kB per source; 500 items per task; one CPU thread
  (tiny models run fastest so, and the numbers are then reproducible byte for byte).
- `gpu`, about one GPU-hour for two arms: model `small` (d 512, 8 layers) with 32,000 pieces =
  60,039,680 parameters, context 1,024, 65,536 tokens a step, 268,435,456 tokens per arm and seed
  (4,093 steps), 3 seeds: 1.61e9 tokens × 3.1e8 FLOPs/token = 5.0e17 FLOPs, 42 minutes on an H100 at
  20% MFU (an estimate: no GPU measured it yet), plus evaluation; torch.compile; every task item.

Determinism: same inputs and options → the same ablation.json and ablation.html, byte for byte, on
CPU (same thread count); timings go to OUT/timing.json, apart (CPU and wall seconds per step, summed
over the invocations of a resumed ablation). OUT/plan.json records the options and
the inputs' SHA-256: a rerun with other ones is refused (exit 2) rather than mixing two ablations
(a plan.json nothing was built from yet is replaced). Every option is checked before anything is
written (`settings_from`: ranges, the trainer's checks on each model's command, the tokenizer and
task files opened, token-shard arms against their mixture.json); a mistake is one line, exit 2.
`--prepare_only` stops after step 1 (a CPU machine's part of bench/gpu_check.sh; `--device cuda`
is not checked then): the same command without it on the GPU machine reuses OUT's data.
Imports train_hooks/, tokenizer/ (its Beam-free modules) and common/, never pipeline/ or Beam.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from common import atomic
from common.cli import Parser, UsageError, guarded
from common.digest import file_sha256
from train_hooks import ablate_data as D
from train_hooks import ablate_eval as AE
from train_hooks import ablate_stats as S
from train_hooks import checkpoint as C
from train_hooks import eval as E
from train_hooks.model import CONFIGS, Llama, count_params, flops_per_token, get_config

FORMAT = "llamadata-ablation/1"
EVAL_FORMAT = "llamadata-ablation-eval/1"
EVAL_CACHE = "ablation_eval.json"   # per run; not eval.json, which train_hooks.eval writes by default
PROG = "python -m train_hooks.ablate"
CURVE_POINTS = 200

PRESETS = {
    "cpu": {"model": "tiny", "vocab_size": 4096, "context": 64, "batch_tokens": 2048, "tokens": 262_144,
            "seeds": 3, "tokenizer_bytes": 4_000_000, "reference_bytes": 100_000, "task_limit": 500,
            "threads": 1, "compile": False},
    "gpu": {"model": "small", "vocab_size": 32000, "context": 1024, "batch_tokens": 65_536, "tokens": 268_435_456,
            "seeds": 3, "tokenizer_bytes": 200_000_000, "reference_bytes": 1_000_000, "task_limit": 0,
            "threads": 0, "compile": True},
}


def parse_args(argv=None) -> argparse.Namespace:
    p = Parser(prog=PROG, description=__doc__.split("\n")[0])
    p.add_argument("arms", nargs="+", metavar="[NAME=]DIR", help="pipeline output folders, one per arm (two or more)")
    p.add_argument("--out", required=True, help="output folder: data/, runs/, ablation.json, ablation.html")
    p.add_argument("--preset", default="cpu", choices=sorted(PRESETS), help="cpu: CPU minutes; gpu: about one GPU-hour")
    p.add_argument("--sources", default=None, help="comma-separated sources of each arm to train on (default: all)")
    p.add_argument("--reference", action="append", default=[], metavar="[NAME=]PATH",
                   help="reference text for bits per byte: a pipeline output folder or Parquet/.txt[.gz] files (repeatable)")
    p.add_argument("--reference_sources", default=None, help="sources of a reference folder to use (default: all)")
    p.add_argument("--reference_bytes", type=int, default=None, help="reference text per source (0: all)")
    p.add_argument("--baseline", default=None, help="arm the others are compared with (default: the first)")
    p.add_argument("--model", default=None, choices=sorted(CONFIGS))
    p.add_argument("--tokens", type=int, default=None, help="planned tokens per arm and seed")
    p.add_argument("--seeds", type=int, default=None, help="models per arm (seeds 0..N-1)")
    p.add_argument("--vocab_size", type=int, default=None, help="pieces of the shared tokenizer")
    p.add_argument("--context", type=int, default=None)
    p.add_argument("--batch_tokens", type=int, default=None, help="tokens per optimiser step")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the model's)")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile the models")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (0: torch's default)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    p.add_argument("--tokenizer", default=None, help="a SentencePiece .model to use instead of training one")
    p.add_argument("--tokenizer_bytes", type=int, default=None, help="text the shared tokenizer is trained on")
    p.add_argument("--tokenizer_recipe", default=None, help="tokenizer.json of a recipe (default: llama's)")
    p.add_argument("--mixture_recipe", default=None, help="mixture.json of a recipe, for shares (default: llama's)")
    p.add_argument("--shares", default=None, help="SOURCE=WEIGHT,… instead of the recipe's Table 1 shares")
    p.add_argument("--sample_seed", type=int, default=0, help="seed of the document and reference-passage choice")
    p.add_argument("--tasks", default=None,
                   help="NAME=FILE,… zero-shot tasks (default: ARC-Easy, ARC-Challenge, PIQA from filters/benchmarks/; 'none')")
    p.add_argument("--task_limit", type=int, default=None, help="first N items of each task (0: all)")
    p.add_argument("--batch_size", type=int, default=32, help="sequences per evaluation forward pass")
    p.add_argument("--prepare_only", action="store_true",
                   help="build OUT's plan, reference text, tokenizer and training sets, then stop (e.g. on a CPU "
                        "machine, for a GPU run of the same command; --device cuda is not checked then)")
    p.add_argument("--debug", action="store_true", help="tracebacks for usage errors")
    return p.parse_args(argv)


# --------------------------------------------------------------------------------------------
# Options → settings
# --------------------------------------------------------------------------------------------
def _csv(value: Optional[str]) -> Optional[List[str]]:
    return [x for x in value.split(",") if x] if value else None


def _arm_specs(items: List[str]) -> List[Dict]:
    arms, names = [], set()
    for item in items:
        name, _, path = item.partition("=") if "=" in item else (Path(item.rstrip("/")).name, "", item)
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            raise UsageError(f"arm {item!r}: a NAME is letters, digits, '-', '_' or '.'; write NAME=DIR")
        if name in names:
            raise UsageError(f"arm name {name} given twice; name them NAME=DIR")
        names.add(name)
        arms.append({"name": name, "path": path})
    if len(arms) < 2:
        raise UsageError("give two or more arms ([NAME=]DIR …) to compare")
    return arms


def _tasks(value: Optional[str], limit: int) -> List[List[str]]:
    """--tasks as [[name, file]] (eval's parsing and defaults), each file read now: a file that is no
    task is refused before anything is built."""
    if value == "none":
        return []
    tasks = [[n, str(f)] for n, f in (E.DEFAULT_TASKS.items() if value is None else E.parse_tasks([value]))]
    for name, file in tasks:
        if not E.read_task(name, file, limit or None):
            raise UsageError(f"--tasks {name}={file}: no items in it")
    return tasks


def _shares(args) -> Dict[str, float]:
    if args.shares:
        out = {}
        for part in _csv(args.shares):
            name, _, w = part.partition("=")
            try:
                out[name] = float(w)
            except ValueError:
                raise UsageError(f"--shares: expected SOURCE=WEIGHT, got {part!r}") from None
            if not (math.isfinite(out[name]) and out[name] > 0):
                raise UsageError(f"--shares {part}: a weight is a positive number")
        return out
    return D.table_shares(D.recipe_json("mixture.json", args.mixture_recipe))


def _tokenizer(path: Optional[str]) -> Optional[int]:
    """The pieces of a given --tokenizer (None when none is given); one line when it is not a model."""
    if path is None:
        return None
    import sentencepiece as spm

    if not Path(path).is_file():
        raise UsageError(f"--tokenizer {path}: no such file; give a SentencePiece .model, or leave it out to train one")
    try:
        return spm.SentencePieceProcessor(model_file=str(path)).get_piece_size()
    except (RuntimeError, OSError) as e:
        raise UsageError(f"--tokenizer {path}: not a SentencePiece model ({str(e).splitlines()[0] if str(e) else e})") from None


def train_argv(s: Dict, data_dir: Path, run_dir: Path, seed: int) -> List[str]:
    """train_hooks/train.py's command line for one proxy model (checked up front by `settings_from`)."""
    samples = -(-s["tokens"] // (s["context"] + 1))           # about: the plan's samples are context + 1 tokens
    steps = -(-samples // max(1, s["batch_tokens"] // s["context"]))
    argv = ["--data", str(data_dir), "--out", str(run_dir), "--model", s["model"], "--device", s["device"],
            "--seed", str(seed), "--context", str(s["context"]), "--batch_tokens", str(s["batch_tokens"]),
            "--ckpt_every", str(max(1, steps // 10)), "--power_w", "400" if s["device"] == "cuda" else "65"]
    if s["lr"] is not None:
        argv += ["--lr", str(s["lr"])]
    if s["compile"]:
        argv.append("--compile")
    return argv


def check_ranges(args, pick: Dict) -> None:
    """Every number within its range, before anything is read or written: the trainer's own checks
    (train.check_args) on the command each model will get, eval's on the evaluation's."""
    from train_hooks import train as T

    E.check_at_least(("--task_limit", pick["task_limit"], 0), ("--batch_size", args.batch_size, 1),
                     ("--seeds", pick["seeds"], 1), ("--tokens", pick["tokens"], 1),
                     ("--reference_bytes", pick["reference_bytes"], 0), ("--tokenizer_bytes", pick["tokenizer_bytes"], 1),
                     ("--threads", pick["threads"], 0), ("--sample_seed", args.sample_seed, 0),
                     ("--context", pick["context"], 1), ("--batch_tokens", pick["batch_tokens"], 1))
    if args.tokenizer is None:
        # SentencePiece needs room for its 256 byte pieces and <unk>, <s>, </s> beside the learnt ones.
        E.check_at_least(("--vocab_size", pick["vocab_size"], 260))
    T.check_args(T.parse_args(train_argv({**pick, "lr": args.lr, "device": args.device}, Path("DATA"), Path("RUN"), 0)))
    if pick["batch_tokens"] < pick["context"]:
        raise UsageError(f"--batch_tokens {pick['batch_tokens']}: holds no sequence of --context {pick['context']}; "
                         f"raise --batch_tokens to at least {pick['context']} or lower --context")
    if pick["tokens"] < pick["batch_tokens"]:
        raise UsageError(f"--tokens {pick['tokens']}: less than one step ({pick['batch_tokens']} tokens); raise it")


def settings_from(args) -> Dict:
    """The ablation's settings from its options, every option checked (ranges, files, models) before
    anything is written."""
    preset = PRESETS[args.preset]
    pick = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in preset.items()}
    check_ranges(args, pick)
    reference_bytes, tokenizer_bytes = pick.pop("reference_bytes"), pick.pop("tokenizer_bytes")
    if args.device == "cuda" and not torch.cuda.is_available() and not args.prepare_only:
        from train_hooks.train import check_device
        check_device("cuda")
    if not args.reference:
        raise UsageError("--reference: give the text bits per byte is measured on (e.g. a pipeline output with "
                         "curated wikipedia and books, --reference_sources wikipedia,books)")
    arms = _arm_specs(args.arms)
    _tokenizer(args.tokenizer)
    if args.tokenizer is None:
        D.recipe_json("tokenizer.json", args.tokenizer_recipe)     # there and readable, before it is needed
    baseline = args.baseline or arms[0]["name"]
    if baseline not in {a["name"] for a in arms}:
        raise UsageError(f"--baseline {baseline}: no such arm ({', '.join(a['name'] for a in arms)})")
    return {**pick, "preset": args.preset, "device": args.device, "lr": args.lr, "arms": arms, "baseline": baseline,
            "sources": _csv(args.sources), "reference": {"inputs": args.reference,
                                                         "sources": _csv(args.reference_sources),
                                                         "bytes": reference_bytes},
            "tokenizer": {"given": args.tokenizer, "bytes": tokenizer_bytes, "recipe": args.tokenizer_recipe},
            "shares": _shares(args), "sample_seed": args.sample_seed, "tasks": _tasks(args.tasks, pick["task_limit"]),
            "batch_size": args.batch_size}


def built_from_plan(out: Path) -> bool:
    """OUT holds something made from its plan.json: the training sets, or a model."""
    return (out / "data" / "prepared.json").exists() or any((out / "runs").glob("*/seed*/*"))


def check_plan(out: Path, plan: Dict) -> None:
    """OUT/plan.json: written on the first run; a rerun must have the same settings and inputs (a
    plan nothing was built from yet is replaced)."""
    path = out / "plan.json"
    plan = json.loads(json.dumps(plan))
    if path.exists() and built_from_plan(out):
        old = json.loads(path.read_text())
        if old != plan:
            keys = [k for k in sorted(set(old) | set(plan)) if old.get(k) != plan.get(k)]
            sub = [f"{k}.{s}" for k in keys if isinstance(plan.get(k), dict) and isinstance(old.get(k), dict)
                   for s in sorted(set(old[k]) | set(plan[k])) if old[k].get(s) != plan[k].get(s)]
            raise UsageError(f"--out {out}: holds an ablation made with other settings or inputs "
                             f"({', '.join(sub or keys)} differ); use another --out, or delete it to start afresh")
        return
    atomic.write_text(str(path), json.dumps(plan, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------
class Clock:
    """CPU seconds (this process: torch's and SentencePiece's threads included) and wall seconds per
    step, for OUT/timing.json (kept out of ablation.json, which must not change from run to run)."""

    def __init__(self):
        self.steps: Dict[str, Dict[str, float]] = {}

    def __call__(self, name: str):
        clock = self

        class _Timer:
            def __enter__(self):
                self.cpu, self.wall = time.process_time(), time.perf_counter()

            def __exit__(self, *exc):
                step = clock.steps.setdefault(name, {"cpu_s": 0.0, "wall_s": 0.0})
                step["cpu_s"] += time.process_time() - self.cpu
                step["wall_s"] += time.perf_counter() - self.wall

        return _Timer()

    def added_to(self, path: Path) -> Dict:
        """These seconds plus those of earlier invocations on the same OUT (a resumed ablation)."""
        total = json.loads(path.read_text()) if path.exists() else {"invocations": 0, "steps": {}}
        total["invocations"] += 1
        for name, t in self.steps.items():
            step = total["steps"].setdefault(name, {"cpu_s": 0.0, "wall_s": 0.0})
            step["cpu_s"] += t["cpu_s"]
            step["wall_s"] += t["wall_s"]
        return total


def log(msg: str) -> None:
    print(f"ablate: {msg}", flush=True)


def prepare_data(out: Path, s: Dict, arms: Dict[str, Dict[str, D.DocSource]], ref_inputs, clock: Clock) -> Dict:
    """Reference passages, the shared tokenizer and every arm's mixture folder (skipped when there)."""
    ref_path, tok_dir = out / "reference" / "passages.jsonl", out / "tokenizer"
    data_done = all((out / "data" / a / "mixture.json").exists() for a in arms) and (tok_dir / "tokenizer.model").exists()
    prep_path = out / "data" / "prepared.json"
    if data_done and ref_path.exists() and prep_path.exists():
        log("data: reusing OUT/reference, OUT/tokenizer and OUT/data")
        return json.loads(prep_path.read_text())
    with clock("reference"):
        ref = D.Reference(ref_inputs, s["reference"]["bytes"], s["sample_seed"])
        atomic.write_text(str(ref_path), "".join(json.dumps(p, sort_keys=True, ensure_ascii=False) + "\n"
                                                 for p in ref.passages))
    log(f"reference: {len(ref.passages)} passages, {sum(p['bytes'] for p in ref.passages):,} bytes from "
        + ", ".join(f"{k} ({v['passages']} of {v['passages_available']})" for k, v in ref.sources.items()))
    with clock("scan"):
        union: set = set()
        union_bytes = 0
        scans: Dict[str, Dict[str, D.Scan]] = {}
        for arm, sources in arms.items():
            scans[arm] = {}
            for src in sorted(sources):
                scans[arm][src], added = D.scan(sources[src], ref, s["sample_seed"], union)
                union_bytes += added
    notes: List[str] = []
    with clock("tokenizer"):
        tokenizer_info = train_tokenizer(tok_dir, s, arms, scans, union_bytes)
    model_bytes = (tok_dir / "tokenizer.model").read_bytes()
    from tokenizer.encode import DocumentEncoder
    encoder = DocumentEncoder(model_bytes)
    arm_sources = {a: sorted(src for src in arms[a] if len(scans[a][src].included)) for a in arms}
    for a, srcs in arm_sources.items():
        if not srcs:
            raise UsageError(f"arm {a}: every document overlaps the reference text; nothing to train on")
    shares, share_notes = D.arm_shares(arm_sources, s["shares"])
    notes += share_notes
    from tokenizer import mixture as M
    accounts = {}
    with clock("select_and_encode"):
        for arm in arms:
            data_dir = out / "data" / arm
            budgets = M.apportion(shares[arm], s["tokens"])
            entries, accounts[arm] = {}, {}
            for src in arm_sources[arm]:
                docs, account = D.select(arms[arm][src], scans[arm][src], budgets[src], encoder)
                entries[src] = [D.write_shard(data_dir, src, docs)]
                accounts[arm][src] = account
            atomic.write_bytes(str(data_dir / "tokenizer" / "tokenizer.model"), model_bytes)
            table = {src: {"share": shares[arm][src], "epochs": 1.0} for src in arm_sources[arm]}
            mixture = M.build(table, entries, encoder.vocab_size, encoder.sp.bos_id(), encoder.eos_id,
                              target_tokens=s["tokens"], tokenizer_path="tokenizer/tokenizer.model")
            atomic.write_text(str(data_dir / "mixture.json"), json.dumps(mixture, indent=2, sort_keys=True) + "\n")
            for src, entry in mixture["sources"].items():
                accounts[arm][src].update(share=entry["share"], unique_tokens=entry["unique_tokens"],
                                          planned_tokens=entry["planned_tokens"], epochs=entry["epochs"])
            log(f"data {arm}: " + "; ".join(
                f"{src} {a['documents_written']} of {a['eligible']} documents ({a['reference_overlap']} overlap the "
                f"reference), {a['unique_tokens']:,} unique tokens, epochs {a['epochs']:.2f}" for src, a in accounts[arm].items()))
    prepared = {"reference": {"sources": ref.sources, "passages": len(ref.passages),
                              "bytes": sum(p["bytes"] for p in ref.passages),
                              "exclusion": f"an arm document equal to a reference document, or sharing a line of "
                                           f"≥ {D.MIN_SHARED_LINE} characters with one (casefolded, whitespace "
                                           "collapsed), is left out of the arm and of the tokenizer's sample"},
                "tokenizer": tokenizer_info, "arms": accounts, "notes": notes}
    atomic.write_text(str(prep_path), json.dumps(prepared, indent=2, sort_keys=True) + "\n")
    return prepared


def train_tokenizer(tok_dir: Path, s: Dict, arms, scans, union_bytes: int) -> Dict:
    from tokenizer import train as TT

    path = tok_dir / "tokenizer.model"
    if s["tokenizer"]["given"]:
        atomic.copy_file(s["tokenizer"]["given"], str(path))
        return {"given": s["tokenizer"]["given"], "sha256": file_sha256(path), "vocab_size": _tokenizer(str(path))}
    recipe = json.loads(json.dumps(D.recipe_json("tokenizer.json", s["tokenizer"].get("recipe"))))
    recipe["trainer"]["vocab_size"] = s["vocab_size"]
    rate = min(1.0, s["tokenizer"]["bytes"] / union_bytes) if union_bytes else 1.0
    seed = int(recipe["sample"]["seed"])
    drawn: Dict[str, Dict[str, int]] = {}
    model = TT.train(lambda: D.tokenizer_lines(arms, scans, rate, seed, drawn), recipe)
    atomic.write_bytes(str(path), model)
    atomic.write_text(str(tok_dir / "tokenizer.vocab"), TT.write_vocab(model))
    import sentencepiece as spm
    vocab = spm.SentencePieceProcessor(model_proto=model).get_piece_size()
    log(f"tokenizer: {vocab} pieces from {sum(d['bytes'] for d in drawn.values()):,} bytes "
        f"(rate {rate:.4g} of the arms' union, {union_bytes:,} bytes)")
    return {"trained": True, "sha256": hashlib.sha256(model).hexdigest(), "vocab_size": vocab,
            "asked_vocab_size": s["vocab_size"], "union_bytes": union_bytes, "rate": rate, "seed": seed,
            "drawn": drawn, "settings": "the recipe's tokenizer.json (LLaMA's SentencePiece settings)"}


def train_run(out: Path, s: Dict, arm: str, seed: int) -> Path:
    """One proxy model: train_hooks/train.py's own main, resumed from its checkpoint if there."""
    from train_hooks import train as T

    run_dir = out / "runs" / arm / f"seed{seed}"
    summary = run_dir / "summary.json"
    if summary.exists() and json.loads(summary.read_text()).get("plan_done"):
        return run_dir
    argv = train_argv(s, out / "data" / arm, run_dir, seed)
    if (run_dir / C.CHECKPOINT).exists():
        argv.append("--resume")
    log(f"train {arm} seed {seed}: python train_hooks/train.py {' '.join(argv)}")
    T.main(argv)
    return run_dir


def eval_key(run_dir: Path, s: Dict, passages_path: Path) -> Dict:
    """What an evaluation of the run's model depends on: its checkpoint (the SHA-256 it is sealed
    with), the reference passages, the task files and the evaluation settings."""
    digest, why = C.sealed_digest(run_dir / C.CHECKPOINT)
    return {"checkpoint_sha256": digest or why, "passages_sha256": file_sha256(passages_path),
            "tasks": [[name, file_sha256(file)] for name, file in s["tasks"]], "task_limit": s["task_limit"],
            "batch_size": s["batch_size"], "device": s["device"]}


def evaluate_run(run_dir: Path, data_dir: Path, s: Dict, passages: List[Dict], eos_id: int, key: Dict) -> Dict:
    """The run's evaluation, from RUN/ablation_eval.json when it was made with the same `key`
    (`eval_key`), else computed and written there."""
    path = run_dir / EVAL_CACHE
    if path.exists():
        cached = json.loads(path.read_text())
        if cached.get("format") == EVAL_FORMAT and cached.get("key") == key:
            return cached["result"]
        log(f"evaluate {run_dir}: {EVAL_CACHE} was made from another checkpoint or settings; evaluating again")
    loaded = E.load(str(run_dir), str(data_dir), s["device"], "auto")
    bpb, passage_bits = AE.bits_per_byte(loaded.logits_fn, passages, eos_id, loaded.max_len, s["batch_size"],
                                         s["device"])
    # Per item right (1), wrong (0) or not scored (None): `correct`, for the paired intervals.
    tasks = E.evaluate(loaded, [tuple(t) for t in s["tasks"]], s["task_limit"] or None, s["batch_size"], s["device"])
    result = {"bpb": bpb, "passage_bits": passage_bits, "tasks": tasks, "core": AE.core_score(tasks),
              "dtype": loaded.dtype, "context": loaded.max_len}
    atomic.write_text(str(path), json.dumps({"format": EVAL_FORMAT, "key": key, "result": result}, indent=2,
                                            sort_keys=True) + "\n")
    return result


def curve(run_dirs: List[Path]) -> Dict:
    """Training loss against tokens, per seed and its mean ± se at every logged step (≤ CURVE_POINTS)."""
    rows = [[json.loads(l) for l in (d / "metrics.jsonl").read_text().splitlines() if l.strip()] for d in run_dirs]
    n = min(len(r) for r in rows)
    keep = sorted({round(i * (n - 1) / (CURVE_POINTS - 1)) for i in range(CURVE_POINTS)}) if n > CURVE_POINTS else range(n)
    out = {"tokens": [rows[0][i]["tokens"] for i in keep], "loss_mean": [], "loss_se": [], "per_seed": [[] for _ in rows]}
    for i in keep:
        st = S.mean_se([r[i]["loss"] for r in rows])
        out["loss_mean"].append(st["mean"])
        out["loss_se"].append(st["se"])
        for k, r in enumerate(rows):
            out["per_seed"][k].append(r[i]["loss"])
    return out


def _seed_mean(rows: List[List[Optional[float]]]) -> List[Optional[float]]:
    """Per unit, the mean over seeds; None where any seed did not score it."""
    return [None if any(v is None for v in col) else float(np.mean(col)) for col in zip(*rows)]


def _paired(units: Dict[str, List[Optional[float]]], baseline: str, arm: str, **kw) -> Optional[Dict]:
    pairs = [(a, b) for a, b in zip(units[baseline], units[arm]) if a is not None and b is not None]
    return S.paired_items([a for a, _ in pairs], [b for _, b in pairs], **kw)


def metrics_of(evals: Dict[str, Dict[int, Dict]], passages: List[Dict], baseline: str) -> Dict[str, Dict]:
    """Every metric's comparison across arms (train_hooks/ablate_stats.compare), with the paired
    interval over the reference passages or the task items beside the seeds'."""
    arms = list(evals)
    seeds = {a: sorted(evals[a]) for a in arms}
    first = evals[arms[0]][seeds[arms[0]][0]]
    others = [a for a in arms if a != baseline]
    out = {}
    bits = {a: _seed_mean([evals[a][sd]["passage_bits"] for sd in seeds[a]]) for a in arms}
    for key in ["all"] + sorted(k for k in first["bpb"] if k != "all"):
        idx = [i for i, p in enumerate(passages) if key == "all" or p["source"] == key]
        nbytes = sum(passages[i]["bytes"] for i in idx)
        units = {a: [bits[a][i] for i in idx] for a in arms}
        items = {a: _paired(units, baseline, a, scale=1.0 / nbytes, mean=False, unit="reference passages")
                 for a in others}
        metric = "bpb" if key == "all" else f"bpb:{key}"
        out[metric] = S.compare({a: [evals[a][sd]["bpb"][key]["bpb"] for sd in seeds[a]] for a in arms},
                                baseline, metric, True, "bits/byte", items)
    if first["core"] is None:
        return out
    task_items = {}
    for task in sorted(first["tasks"]):
        units = {a: _seed_mean([evals[a][sd]["tasks"][task]["correct"] for sd in seeds[a]]) for a in arms}
        task_items[task] = {a: _paired(units, baseline, a, unit="task items") for a in others}
        out[f"acc:{task}"] = S.compare({a: [evals[a][sd]["tasks"][task]["acc"] for sd in seeds[a]] for a in arms},
                                       baseline, f"acc:{task}", False, "", task_items[task])
    core_items = {}
    for a in others:   # core is a mean of centred accuracies: its item noise adds up per task
        per = [(task_items[t][a], first["core"]["tasks"][t]["baseline"]) for t in sorted(first["tasks"])]
        if any(it is None for it, _ in per):
            core_items[a] = None
            continue
        k = len(per)
        diff = math.fsum(it["diff"] / (1 - b) for it, b in per) / k
        se = math.sqrt(math.fsum((it["se"] / (1 - b)) ** 2 for it, b in per)) / k
        n = sum(it["n"] for it, _ in per)
        half = S.t_ppf(0.5 + S.CONFIDENCE / 2, max(1, n - k)) * se
        core_items[a] = {"n": n, "unit": "task items", "diff": diff, "se": se, "ci": [diff - half, diff + half],
                         "within": diff - half <= 0.0 <= diff + half}
    out["core"] = S.compare({a: [evals[a][sd]["core"]["core"] for sd in seeds[a]] for a in arms},
                            baseline, "core (centred accuracy)", False, "", core_items)
    return out


def reference_notes(s: Dict, ref_sources: List[str]) -> List[str]:
    """A caveat a reader needs: an arm curated with a Wikipedia-trained LM is judged partly on Wikipedia."""
    notes = []
    if "wikipedia" not in ref_sources:
        return notes
    for arm in s["arms"]:
        stats = Path(arm["path"]) / "stats.json"
        if not stats.exists():
            continue
        lms = json.loads(stats.read_text()).get("models", {}).get("reference_lm", {})
        if any(isinstance(v, dict) and v.get("applied") for v in lms.values()):
            notes.append(f"arm {arm['name']}: its quality stage ranked pages with a language model trained on Wikipedia "
                         "(stats.json models.reference_lm), so bits per byte on Wikipedia favours it by construction; "
                         "read the other reference sources too")
    return notes


def run(args) -> Dict:
    clock = Clock()
    s = settings_from(args)
    if s["threads"] and s["device"] == "cpu":
        torch.set_num_threads(s["threads"])
    out = Path(args.out)
    arms = {a["name"]: D.discover(a["path"], f"arm {a['name']}=", s["sources"]) for a in s["arms"]}
    ref_inputs = D.reference_inputs(s["reference"]["inputs"], s["reference"]["sources"])
    if str(out.resolve()) in {str(Path(a["path"]).resolve()) for a in s["arms"]}:
        raise UsageError(f"--out {out}: is an arm's folder; write the ablation elsewhere")
    inputs = {"arms": {a: {src: ds.fingerprint() for src, ds in arms[a].items()} for a in arms},
              "reference": {src: ds.fingerprint() for src, ds in ref_inputs.items()},
              "tasks": {name: file_sha256(file) for name, file in s["tasks"]},
              "tokenizer": file_sha256(s["tokenizer"]["given"]) if s["tokenizer"]["given"] else None}
    out.mkdir(parents=True, exist_ok=True)
    atomic.clean_stale(str(out))
    # Tasks by name in the plan, by content in its inputs: the bundled files' paths differ between
    # checkouts (an ablation prepared on one machine and run on another).
    check_plan(out, {"format": FORMAT, "settings": {**s, "tasks": [name for name, _ in s["tasks"]]}, "inputs": inputs})

    prepared = prepare_data(out, s, arms, ref_inputs, clock)
    if args.prepare_only:
        log(f"prepared {out / 'data'}; the same command without --prepare_only trains and evaluates")
        return prepared
    from tokenizer.encode import DocumentEncoder
    encoder = DocumentEncoder((out / "tokenizer" / "tokenizer.model").read_bytes())
    passages = [json.loads(l) for l in (out / "reference" / "passages.jsonl").read_text().splitlines() if l]
    for p, ids in zip(passages, encoder.encode_batch([p["text"] for p in passages])):
        p["tokens"] = [int(i) for i in ids[:-1]]   # without the closing EOS: the text's own tokens
    cfg = get_config(s["model"], vocab_size=encoder.vocab_size, context=max(s["context"], get_config(s["model"]).context))
    with torch.device("meta"):
        params = count_params(Llama(cfg))

    runs: Dict[str, Dict[int, Dict]] = {}
    evals: Dict[str, Dict[int, Dict]] = {}
    curves = {}
    for arm in arms:
        runs[arm], evals[arm] = {}, {}
        for seed in range(s["seeds"]):
            with clock("train"):
                run_dir = train_run(out, s, arm, seed)
            with clock("evaluate"):
                key = eval_key(run_dir, s, out / "reference" / "passages.jsonl")
                ev = evals[arm][seed] = evaluate_run(run_dir, out / "data" / arm, s, passages, encoder.eos_id, key)
            summary = json.loads((run_dir / "summary.json").read_text())
            last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
            runs[arm][seed] = {"steps": summary["step"], "tokens": summary["tokens"], "final_train_loss": last["loss"],
                               "bpb": ev["bpb"], "core": ev["core"],
                               "tasks": {t: {k: v[k] for k in ("n", "acc", "acc_stderr", "chance", "norm",
                                                                "skipped_too_long") if k in v}
                                         for t, v in ev["tasks"].items()}}
            log(f"{arm} seed {seed}: bits per byte {ev['bpb']['all']['bpb']:.4f}"
                + (f", core {ev['core']['core']:+.4f}" if ev["core"] else ""))
        curves[arm] = curve([out / "runs" / arm / f"seed{sd}" for sd in range(s["seeds"])])

    from train_hooks import ablate_report

    metrics = metrics_of(evals, passages, s["baseline"])
    ref_sources = sorted(prepared["reference"]["sources"])
    result = {
        "format": FORMAT, "settings": s,
        "model": {"name": s["model"], "config": cfg.to_dict(), "params": params,
                  "flops_per_token": flops_per_token(cfg, s["context"])},
        "tokenizer": prepared["tokenizer"],
        "reference": {**prepared["reference"], "tokens": sum(len(p["tokens"]) for p in passages),
                      "why": ("real text that no arm trained on: the reference inputs' documents, cut into passages "
                              "and sampled by a seeded hash, and every arm document that shares text with them "
                              "left out; bits per byte does not depend on the tokenizer")},
        "arms": {a["name"]: {"path": a["path"], "sources": prepared["arms"][a["name"]]} for a in s["arms"]},
        "notes": prepared["notes"] + reference_notes(s, ref_sources),
        "runs": {a: {str(sd): r for sd, r in v.items()} for a, v in runs.items()},
        "metrics": metrics,
        "verdicts": [d["verdict"] for _, m in sorted(metrics.items(), key=lambda kv: ablate_report.metric_order(kv[0]))
                     for d in m["differences"].values()],
        "curves": curves,
    }
    text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic.write_text(str(out / "ablation.json"), text)
    atomic.write_text(str(out / "ablation.html"), ablate_report.render(json.loads(text)))
    atomic.write_text(str(out / "timing.json"), json.dumps(clock.added_to(out / "timing.json"), indent=2,
                                                           sort_keys=True) + "\n")
    for line in result["notes"]:
        log(f"note: {line}")
    for line in result["verdicts"]:
        log(line)
    log(f"wrote {out / 'ablation.json'} and {out / 'ablation.html'}; CPU s per step "
        + ", ".join(f"{k} {v['cpu_s']:.1f}" for k, v in clock.steps.items()))
    return result


def main(argv=None) -> int:
    run(parse_args(argv))
    return 0


def cli(argv=None) -> int:
    """Entry point for `llamadata ablate`: UsageError → one line and exit 2."""
    guarded(main, sys.argv[1:] if argv is None else argv, PROG,
            "interrupted; rerun the same command to continue (finished steps and checkpoints are kept)")
    return 0


if __name__ == "__main__":
    cli()
