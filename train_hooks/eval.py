"""Zero-shot evaluation as in LLaMA §3, and perplexity on held-out text per source.

    python -m train_hooks.eval --checkpoint=DIR --tasks=NAME=FILE[,NAME=FILE…] [--heldout] --out=FILE

DIR is the trainer's `--out` folder (or a checkpoint file in it) or a Hugging Face
`LlamaForCausalLM` directory (config.json + weights + tokenizer). A trainer checkpoint is verified
against its SHA-256 and names the data folder it was trained on (train_hooks/checkpoint.py): the
tokenizer and the held-out documents come from there; `--data` may name it elsewhere, and is
refused when its mixture.json or tokenizer is not the one the model was trained on. With no
`--tasks` and no `--heldout` it scores the bundled benchmarks (DEFAULT_TASKS) and, when the mixture
holds held-out documents, their perplexity; `--out` defaults to DIR/eval.json. A usage mistake is
one line on stderr and exit 2.

Scoring rule (Touvron et al. 2023, §3, after Brown et al. 2020 and Gao et al. 2021): each choice is
a completion of the prompt; its score is the sum of the log-probabilities of its tokens given the
prompt, divided by the number of characters of the completion ("char" normalisation), except for
OpenBookQA and BoolQ, whose score is log P(completion | prompt) − log P(completion | "Answer:")
("unconditional"). The highest score is the model's choice; accuracy is the share of items where
it is the gold one, with the standard error of that mean. Tokens: the prompt and prompt+completion
are encoded whole (no BOS: the training shards have none) and the completion is what the longer
encoding adds, as lm-eval does; sequences longer than the model's context lose their first tokens.
An item with a choice of more tokens than the context is not scored (lm-eval stops with an
assertion there): it is left out of the accuracy and counted in the result (`skipped_too_long`,
`skipped_items`), never scored on a cut tail.

Tasks are data (`TASKS`, by name prefix): the prompt template and the normalisation. Records are
llm-foundry ICL `{"query","choices","gold"}` or a released schema (ARC/OpenBookQA, BoolQ with
"answer", HellaSwag with lm-eval's preprocessing of its WikiHow markup, PIQA with "label").

`--heldout`: perplexity of every source's held-out documents (mixture.json `heldout_documents`,
documents the plan never schedules; see tokenizer/mixture.py), exp of the mean token negative
log-likelihood.

Imports `model.py`, torch and the tokenizer only (not train.py, pipeline/ or Beam).
"""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import re
import sys
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
import torch.nn.functional as F

from common import atomic
from common.cli import Parser, UsageError, guarded
from train_hooks import checkpoint as ckpt_io

UNCONDITIONAL_CONTEXT = "Answer:"

# Prompt per task, by the task name's prefix (the longest prefix that matches wins).
# suffix: what follows the query of an llm-foundry record; norm: "char" or "unconditional".
TASKS = {
    "arc": {"suffix": "\nAnswer:", "norm": "char"},
    "piqa": {"suffix": "\nAnswer:", "norm": "char"},
    "siqa": {"suffix": "\nAnswer:", "norm": "char"},
    "hellaswag": {"suffix": "", "norm": "char"},
    "boolq": {"suffix": "\nAnswer:", "norm": "unconditional"},
    "openbookqa": {"suffix": "\nAnswer:", "norm": "unconditional"},
    "obqa": {"suffix": "\nAnswer:", "norm": "unconditional"},
}
DEFAULT_TASK = {"suffix": "\nAnswer:", "norm": "char"}
BENCHMARKS = Path(__file__).resolve().parents[1] / "filters" / "benchmarks"
# What `--tasks` defaults to (with no --heldout either): the benchmarks the repository ships.
DEFAULT_TASKS = {"arc_easy": BENCHMARKS / "arc_easy.llmfoundry.jsonl.gz",
                 "arc_challenge": BENCHMARKS / "arc_challenge.llmfoundry.jsonl.gz",
                 "piqa": BENCHMARKS / "piqa_val.llmfoundry.jsonl.gz"}


class Request(NamedTuple):
    context: str
    choices: Tuple[str, ...]   # completions, without the space that joins them to the context
    gold: int


def task_spec(name: str) -> dict:
    keys = [k for k in TASKS if name.lower().startswith(k)]
    return TASKS[max(keys, key=len)] if keys else DEFAULT_TASK


_WIKIHOW_MARK = re.compile(r"\[.*?\]")


def hellaswag_clean(text: str) -> str:
    """lm-eval's HellaSwag `preprocess`: the WikiHow half of the set carries markup in brackets
    ("[header] How to … [title] Format your letter. [step] Set it up …", "[substeps]"). Stripped;
    " [title]" becomes ". " (a heading ends a sentence), every other bracketed mark goes, and each
    double space left behind becomes one."""
    text = text.strip().replace(" [title]", ". ")
    return _WIKIHOW_MARK.sub("", text).replace("  ", " ")


def to_request(name: str, record: dict) -> Request:
    """One record of any supported schema → prompt, choices and gold index."""
    spec = task_spec(name)
    if {"query", "choices", "gold"} <= record.keys():
        query = record["query"].rstrip()
        return Request(query + spec["suffix"], tuple(str(c) for c in record["choices"]), int(record["gold"]))
    if isinstance(record.get("question"), dict):                    # ARC, OpenBookQA
        labels = [c["label"] for c in record["question"]["choices"]]
        return Request(f"Question: {record['question']['stem']}\nAnswer:",
                       tuple(c["text"] for c in record["question"]["choices"]), labels.index(record["answerKey"]))
    if "passage" in record and "answer" in record:                  # BoolQ
        return Request(f"{record['passage']}\nQuestion: {record['question']}?\nAnswer:", ("no", "yes"),
                       int(bool(record["answer"])))
    if "ctx_a" in record and "endings" in record:                   # HellaSwag, lm-eval's preprocessing
        ctx = record["ctx_a"] + " " + record["ctx_b"].capitalize()
        return Request(hellaswag_clean(f"{record['activity_label']}: {ctx}"),
                       tuple(hellaswag_clean(e) for e in record["endings"]), int(record["label"]))
    if "goal" in record and "label" in record:                      # PIQA (labels joined in)
        return Request(f"Question: {record['goal']}\nAnswer:", (record["sol1"], record["sol2"]), int(record["label"]))
    raise ValueError(f"{name}: unknown record schema {sorted(record)}")


def read_task(name: str, path: str, limit: Optional[int] = None) -> List[Request]:
    """The first `limit` requests of a task file (all by default); a file that is not one is a
    UsageError naming it."""
    try:
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise UsageError(f"--tasks {name}={path}: not a readable JSON-lines task file ({type(e).__name__}: {e})") from None
    out = []
    for number, line in enumerate(io.StringIO(text), 1):
        if not line.strip():
            continue
        try:
            out.append(to_request(name, json.loads(line)))
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise UsageError(f"--tasks {name}={path}: line {number}: {e}") from None
        if limit and len(out) >= limit:
            break
    return out


# --------------------------------------------------------------------------------------------
# Log-likelihoods
# --------------------------------------------------------------------------------------------
def split_pair(encode: Callable[[str], List[int]], context: str, continuation: str) -> Tuple[List[int], List[int]]:
    """(context tokens, continuation tokens): the continuation is what encoding the pair whole adds."""
    spaces = len(context) - len(context.rstrip(" "))
    if spaces:  # a trailing space belongs to the continuation (lm-eval's rule)
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = encode(context + continuation)
    ctx = encode(context)
    return whole[:len(ctx)], whole[len(ctx):]


def at_positions(logits_fn: Callable[[torch.Tensor], torch.Tensor]):
    """A scorer `(tokens, rows, positions) → logits there` from a plain `tokens → logits` function."""
    return lambda tokens, rows, pos: logits_fn(tokens)[rows, pos]


def loglikelihoods(score_fn, pairs: Sequence[Tuple[List[int], List[int]]], max_len: int, batch_size: int = 32,
                   device: str = "cpu") -> List[float]:
    """Σ log P(continuation tokens | context tokens) for each (context, continuation) pair, in batches
    of similar length; the first tokens of a pair longer than max_len + 1 are cut.

    `score_fn(tokens, rows, positions)` returns the logits at those (row, position)s only: the
    output head and the softmax run where a continuation token is predicted, not everywhere."""
    seqs = []
    for ctx, cont in pairs:
        if not cont:
            raise ValueError("empty continuation")
        full = (list(ctx) + list(cont))[-(max_len + 1):]
        seqs.append((full, min(len(cont), len(full) - 1)))
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
    out = [0.0] * len(seqs)
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        width = max(len(seqs[i][0]) for i in idx) - 1
        inputs = torch.zeros((len(idx), width), dtype=torch.long)
        rows, pos, targets, owner = [], [], [], []
        for row, i in enumerate(idx):
            full, n_cont = seqs[i]
            t = len(full) - 1          # positions t-n_cont..t-1 predict the continuation's tokens
            inputs[row, :t] = torch.tensor(full[:-1], dtype=torch.long)
            rows += [row] * n_cont
            pos += range(t - n_cont, t)
            targets += full[t + 1 - n_cont:]
            owner += [i] * n_cont
        rows_t, pos_t = torch.tensor(rows, device=device), torch.tensor(pos, device=device)
        with torch.no_grad():
            logits = score_fn(inputs.to(device), rows_t, pos_t)
            logp = F.log_softmax(logits.float(), dim=-1)
            picked = logp.gather(1, torch.tensor(targets, device=device)[:, None])[:, 0].double().cpu().numpy()
        sums = np.zeros(len(seqs))
        np.add.at(sums, np.asarray(owner), picked)
        for i in idx:
            out[i] = float(sums[i])
    return out


def choose(request: Request, conditional: Sequence[float], unconditional: Optional[Sequence[float]],
           norm: str) -> int:
    """The model's choice under the task's normalisation (see the module docstring)."""
    if norm == "char":
        scores = [ll / max(1, len(c)) for ll, c in zip(conditional, request.choices)]
    elif norm == "unconditional":
        scores = [ll - u for ll, u in zip(conditional, unconditional)]
    else:
        scores = list(conditional)
    return int(np.argmax(scores))


def score_choices(logits_fn, encode, requests: Sequence[Request], norm: str, max_len: int,
                  batch_size: int = 32, device: str = "cpu") -> List[Optional[int]]:
    """The chosen index of every request, or None for one that is not scored: an item with a choice
    of more tokens than the context (`max_len`) cannot have that choice's log-likelihood computed
    whole; lm-eval refuses such a request (an assertion stops the run), scoring its cut tail
    against the full length would bias the pick, so the item is left out and counted (`accuracy`).
    All log-likelihoods of a task are computed in one batched pass."""
    pairs, unc, scored = [], [], []
    for r in requests:
        cond_r = [split_pair(encode, r.context, " " + c) for c in r.choices]
        unc_r = [split_pair(encode, UNCONDITIONAL_CONTEXT, " " + c) for c in r.choices] if norm == "unconditional" else []
        fits = all(len(cont) <= max_len for _, cont in cond_r + unc_r)
        scored.append(fits)
        if fits:
            pairs += cond_r
            unc += unc_r
    lls = loglikelihoods(logits_fn, pairs + unc, max_len, batch_size, device)
    cond, uncond = lls[:len(pairs)], lls[len(pairs):]
    picks, at = [], 0
    for r, fits in zip(requests, scored):
        if not fits:
            picks.append(None)
            continue
        k = len(r.choices)
        picks.append(choose(r, cond[at:at + k], uncond[at:at + k] if uncond else None, norm))
        at += k
    return picks


def accuracy(picks: Sequence[Optional[int]], requests: Sequence[Request]) -> dict:
    """Accuracy over the scored items (`n`); `skipped_too_long`: items left out because a choice is
    longer than the context (see `score_choices`), their positions in `skipped_items`."""
    skipped = [i for i, p in enumerate(picks) if p is None]
    correct = np.array([p == r.gold for p, r in zip(picks, requests) if p is not None], dtype=np.float64)
    n = len(correct)
    acc = float(correct.mean()) if n else 0.0
    stderr = float(correct.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0   # lm-eval's mean stderr
    return {"n": n, "acc": acc, "acc_stderr": stderr, "skipped_too_long": len(skipped), "skipped_items": skipped}


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------
class Loaded(NamedTuple):
    logits_fn: Callable   # (tokens, rows, positions) → logits at those positions (see loglikelihoods)
    encode: Callable[[str], List[int]]
    max_len: int
    kind: str
    data_dir: Optional[Path]
    dtype: str = "float32"


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def load(checkpoint: str, data: Optional[str], device: str, dtype: str = "auto") -> Loaded:
    """`dtype` auto: bfloat16 on cuda, float32 on cpu. The trainer's model runs under autocast (its
    weights stay float32, as it trained), a Hugging Face one is loaded in `dtype`. A trainer
    checkpoint is verified and brings its data folder (`--data` is checked against it)."""
    path = Path(checkpoint)
    if dtype == "auto":
        dtype = "bfloat16" if device == "cuda" else "float32"
    if dtype not in DTYPES:
        raise UsageError(f"--dtype={dtype}: choose auto, {', '.join(DTYPES)}")
    low = dtype == "bfloat16"
    dtype = DTYPES[dtype]
    if path.is_dir() and (path / "config.json").exists() and not (path / ckpt_io.CHECKPOINT).exists():
        from transformers import AutoTokenizer, LlamaForCausalLM

        data_dir = Path(data) if data else None
        record = ckpt_io.read_record(path)       # export copies the trainer's record beside the weights
        if record is not None and record.get("data"):
            data_dir = heldout_folder(record["data"], data, path)
        model = LlamaForCausalLM.from_pretrained(str(path), dtype=dtype).to(device).eval()
        tok = AutoTokenizer.from_pretrained(str(path))
        def score_fn(tokens, rows, pos):
            hidden = model.model(input_ids=tokens).last_hidden_state
            return model.lm_head(hidden[rows, pos])

        return Loaded(score_fn,
                      lambda s: tok(s, add_special_tokens=False)["input_ids"],
                      int(model.config.max_position_embeddings), "hf", data_dir,
                      str(next(model.parameters()).dtype).removeprefix("torch."))   # as loaded
    if path.is_dir() and not ((path / ckpt_io.CHECKPOINT).exists() or (path / ckpt_io.PREVIOUS).exists()):
        raise UsageError(f"--checkpoint={path}: neither a trainer folder (checkpoint.pt) nor a Hugging Face "
                         "directory (config.json)")
    from train_hooks.model import Llama, ModelConfig
    import sentencepiece as spm

    folder, file = ckpt_io.locate(path, "--checkpoint")
    ckpt = ckpt_io.load(file, "--checkpoint")
    if "model" not in ckpt:
        raise UsageError(f"--checkpoint={path}: sharded (FSDP) checkpoint; convert it with "
                         "torch.distributed.checkpoint.format_utils.dcp_to_torch_save first")
    data_dir = ckpt_io.data_folder(ckpt.get("data", {}), data, file)
    mixture = json.loads((data_dir / "mixture.json").read_text())
    sp = spm.SentencePieceProcessor(model_file=str(data_dir / mixture["tokenizer"]))
    model = Llama(ModelConfig(**ckpt["config"]))
    model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ckpt["model"].items()})
    model.to(device).eval()
    ctx = int(ckpt.get("data", {}).get("context", model.cfg.context))

    def score_fn(tokens, rows, pos):
        with torch.autocast(device, dtype=torch.bfloat16) if low else contextlib.nullcontext():
            return model.head(model.hidden(tokens)[rows, pos])

    return Loaded(score_fn, lambda s: sp.encode(s), min(ctx, model.cfg.context), "trainer", data_dir,
                  str(dtype).removeprefix("torch."))


def heldout_folder(trained_on: dict, given: Optional[str], source: Path) -> Optional[Path]:
    """An exported model's data folder, as its record names it (None when that folder is gone and
    none is given: only --heldout needs it)."""
    if given is None and not (Path(trained_on.get("folder", "")) / "mixture.json").is_file():
        return None
    return ckpt_io.data_folder(trained_on, given, source)


# --------------------------------------------------------------------------------------------
# Held-out perplexity
# --------------------------------------------------------------------------------------------
def heldout_perplexity(logits_fn, data_dir: Path, max_len: int, batch_size: int = 32, device: str = "cpu",
                       max_tokens: int = 0) -> dict:
    """Per source: documents and tokens scored, mean NLL and its exp (perplexity) over the source's
    held-out documents (mixture.json `heldout_documents`), each document cut into windows of
    max_len + 1 tokens so that every token but a document's first is scored once; at most
    `max_tokens` tokens per source (0: all)."""
    from train_hooks.data import SourceTokens

    mixture = json.loads((data_dir / "mixture.json").read_text())
    out = {}
    for name in sorted(mixture["sources"]):
        entry = mixture["sources"][name]
        if not entry.get("heldout_documents"):
            continue
        src = SourceTokens(data_dir, name, entry)
        windows, n_tokens, docs = [], 0, 0
        for start, length in zip(src.heldout_start, src.heldout_len):
            if max_tokens and n_tokens >= max_tokens:
                break
            doc = src.read(int(start), int(length)).astype(np.int64).tolist()
            docs += 1
            for s in range(0, len(doc) - 1, max_len):
                piece = doc[s:s + max_len + 1]
                if len(piece) > 1:
                    windows.append(([piece[0]], piece[1:]))
                    n_tokens += len(piece) - 1
        lls = loglikelihoods(logits_fn, windows, max_len, batch_size, device)
        nll = -sum(lls) / n_tokens if n_tokens else float("nan")
        out[name] = {"documents": docs, "tokens": n_tokens, "nll": nll,
                     "perplexity": math.exp(nll) if n_tokens else float("nan")}
    return out


# --------------------------------------------------------------------------------------------
def parse_tasks(items: Sequence[str]) -> List[Tuple[str, str]]:
    """`--tasks NAME=FILE[,NAME=FILE…]` (repeatable) → [(name, file)], each file there."""
    tasks = []
    for item in items:
        for part in item.split(","):
            if not part:
                continue
            if "=" not in part:
                raise UsageError(f"--tasks: expected NAME=FILE, got {part!r} (e.g. "
                                 "--tasks=arc_easy=filters/benchmarks/arc_easy.llmfoundry.jsonl.gz)")
            name, file = part.split("=", 1)
            if not Path(file).exists():
                raise UsageError(f"--tasks {name}: no file {file}")
            tasks.append((name, file))
    return tasks


def evaluate(loaded: Loaded, tasks, limit: Optional[int] = None, batch_size: int = 32, device: str = "cpu") -> dict:
    results = {}
    for name, file in tasks:
        requests = read_task(name, file, limit)
        norm = task_spec(name)["norm"]
        picks = score_choices(loaded.logits_fn, loaded.encode, requests, norm, loaded.max_len, batch_size, device)
        scores = accuracy(picks, requests)
        if scores["skipped_too_long"]:
            print(f"{name}: {scores['skipped_too_long']} of {len(requests)} items not scored: a choice is longer "
                  f"than the context ({loaded.max_len} tokens); see skipped_items", file=sys.stderr)
        results[name] = {**scores, "norm": norm, "file": file,
                         "chance": float(np.mean([1 / len(r.choices) for r in requests])) if requests else 0.0,
                         "predictions": picks,   # per item: right 1, wrong 0, not scored None (paired comparisons)
                         "correct": [None if p is None else int(p == r.gold) for p, r in zip(picks, requests)]}
    return results


def report_section(result: dict) -> dict:
    """The run report's rows from a loaded result JSON: per task n, acc, stderr, chance; per
    source held-out perplexity (for pipeline/report.py's report.html)."""
    return {"tasks": [{"name": k, "n": v["n"], "acc": v["acc"], "acc_stderr": v["acc_stderr"], "chance": v["chance"],
                       "norm": v["norm"]} for k, v in sorted(result.get("tasks", {}).items())],
            "heldout": [{"source": k, "tokens": v["tokens"], "perplexity": v["perplexity"]}
                        for k, v in sorted(result.get("heldout", {}).items())]}


def check_at_least(*checks: Tuple[str, Optional[int], int]) -> None:
    """Each (flag, value, least): a value below its least is one line naming the flag (None: left out)."""
    for flag, value, least in checks:
        if value is not None and value < least:
            raise UsageError(f"{flag} {value}: must be at least {least}")


def has_heldout(data_dir: Optional[Path]) -> bool:
    if data_dir is None or not (data_dir / "mixture.json").is_file():
        return False
    mixture = json.loads((data_dir / "mixture.json").read_text())
    return any(e.get("heldout_documents") for e in mixture["sources"].values())


def main(argv=None) -> int:
    p = Parser(prog="python -m train_hooks.eval", description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True,
                   help="trainer --out folder (or a checkpoint file in it) or Hugging Face LlamaForCausalLM directory")
    p.add_argument("--tasks", action="append", default=[],
                   help="NAME=FILE[,NAME=FILE…] (repeatable; default, with no --heldout either: "
                        + ", ".join(DEFAULT_TASKS) + " from filters/benchmarks/)")
    p.add_argument("--data", default=None,
                   help="mixture folder (tokenizer, held-out shards); default: the one the checkpoint was trained on")
    p.add_argument("--heldout", action="store_true", help="also perplexity on each source's held-out documents")
    p.add_argument("--heldout_tokens", type=int, default=0, help="at most this many held-out tokens per source (0: all)")
    p.add_argument("--limit", type=int, default=None, help="first N items of each task")
    p.add_argument("--batch_size", type=int, default=32, help="sequences per forward pass")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cpu", "cuda"])
    p.add_argument("--dtype", default="auto", choices=["auto", *DTYPES],
                   help="compute type (auto: bfloat16 on cuda, float32 on cpu)")
    p.add_argument("--out", default=None, help="result JSON file (default: CHECKPOINT/eval.json)")
    p.add_argument("--debug", action="store_true", help="tracebacks for usage errors")
    args = p.parse_args(argv)
    check_at_least(("--limit", args.limit, 1), ("--batch_size", args.batch_size, 1),
                   ("--heldout_tokens", args.heldout_tokens, 0))
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device cuda: torch {torch.__version__} sees no CUDA device; use --device cpu")
    checkpoint = Path(args.checkpoint)
    if not checkpoint.exists():
        raise UsageError(f"--checkpoint={checkpoint}: no such file or folder; give train.py's --out folder or a "
                         "Hugging Face directory")
    tasks = parse_tasks(args.tasks)
    defaults = not tasks and not args.heldout
    if defaults:
        tasks = [(name, str(path)) for name, path in DEFAULT_TASKS.items()]
    loaded = load(args.checkpoint, args.data, args.device, args.dtype)
    heldout = args.heldout or (defaults and has_heldout(loaded.data_dir))
    if args.heldout and not has_heldout(loaded.data_dir):
        raise UsageError("--heldout: " + (f"{loaded.data_dir / 'mixture.json'} holds no held-out documents (the "
                                           "llama recipe trains on all its data); plan them with --recipe=llama-plus "
                                           "(python -m pipeline.run --stages=mixture) and train again, or leave "
                                           "--heldout out" if loaded.data_dir else "name the mixture folder with --data"))
    out = Path(args.out) if args.out else (checkpoint if checkpoint.is_dir() else checkpoint.parent) / "eval.json"
    if defaults:
        print(f"eval: tasks {', '.join(DEFAULT_TASKS)} (the bundled benchmarks; --tasks to choose)"
              + ("; held-out perplexity" if heldout else "; no held-out documents in the mixture")
              + (f"; data {loaded.data_dir}" if loaded.data_dir else "") + f"; result {out}", flush=True)
    result = {"checkpoint": str(args.checkpoint), "model": loaded.kind, "context": loaded.max_len,
              "device": args.device, "dtype": loaded.dtype,
              "data": str(loaded.data_dir) if loaded.data_dir else None,
              "tasks": evaluate(loaded, tasks, args.limit, args.batch_size, args.device)}
    if heldout:
        try:
            result["heldout"] = heldout_perplexity(loaded.logits_fn, loaded.data_dir, loaded.max_len,
                                                   args.batch_size, args.device, args.heldout_tokens)
        except ValueError as e:     # a held-out shard that is not the one mixture.json lists
            raise UsageError(f"--heldout: {e}") from None
    atomic.write_text(str(out), json.dumps(result, indent=2, sort_keys=True) + "\n")
    for name, r in result["tasks"].items():
        print(f"{name}: n={r['n']} acc={r['acc']:.4f} ± {r['acc_stderr']:.4f} (chance {r['chance']:.3f}, {r['norm']})")
    for name, r in result.get("heldout", {}).items():
        print(f"heldout {name}: {r['tokens']} tokens, perplexity {r['perplexity']:.2f}")
    print(f"eval: {out}")
    return 0


if __name__ == "__main__":
    guarded(main, sys.argv[1:], "python -m train_hooks.eval")
