"""What every proxy model of an ablation is measured on: bits per byte on reference text, and the
zero-shot tasks aggregated as DCLM's CORE aggregates them.

Bits per byte (tokenizer-independent: the bits are the model's, the bytes the text's UTF-8 bytes):
each reference passage is encoded as the training shards are (tokenizer/encode.py, its closing EOS
dropped) and scored with lm-eval's `loglikelihood_rolling` windows with `context_len` 1
(lm_eval.utils.get_rolling_token_windows + make_disjoint_window): the first window is predicted
from EOS, the document separator the model saw in training; every later window predicts the next
`max_len` tokens from the token before them, and the last, shorter one from as many earlier tokens
as fit. Every token is predicted once. bpb = −Σ log P / ln 2 / Σ bytes, lm-eval's `bits_per_byte`
aggregation, per reference source and over all of them.

Zero-shot tasks: train_hooks/eval.py (LLaMA's protocol). Aggregation as DCLM's
`eval/aggregated_metrics.py`: centred accuracy (acc − b)/(1 − b) with b the task's "Random
baseline" of DCLM's `eval/eval_meta_data.csv` (ARC 25%, PIQA 50%, HellaSwag 25%, BoolQ 62% — the
majority answer —, OpenBookQA 25%, COPA 50%, Winogrande 50%, CommonsenseQA 20%, SIQA 33.3%), or
1/choices for a task it does not list; the score is the mean of the centred accuracies over the tasks
run. It is CORE's aggregation over these zero-shot tasks, not DCLM's CORE score (22 tasks, most of
them few-shot).
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

# Task-name prefix → DCLM's random baseline (eval/eval_meta_data.csv, percent / 100).
DCLM_BASELINES = {
    "arc": 0.25, "piqa": 0.50, "hellaswag": 0.25, "boolq": 0.62, "openbookqa": 0.25, "openbook_qa": 0.25,
    "obqa": 0.25, "copa": 0.50, "winogrande": 0.50, "winograd": 0.50, "commonsense_qa": 0.20, "siqa": 0.333,
}


def rolling_windows(tokens: Sequence[int], prefix: int, max_len: int) -> List[Tuple[List[int], List[int]]]:
    """(context, continuation) pairs that predict every token once (see the module docstring)."""
    tokens = list(tokens)
    n = len(tokens)
    if not n:
        return []
    first = min(max_len, n)
    pairs = [([prefix], tokens[:first])]
    done = first
    while done < n:
        end = done + min(n - done, max_len)
        pairs.append((tokens[max(0, end - max_len - 1):done], tokens[done:end]))
        done = end
    return pairs


def bits_per_byte(logits_fn, passages: Sequence[Dict], eos_id: int, max_len: int, batch_size: int = 32,
                  device: str = "cpu") -> Tuple[Dict, List[float]]:
    """(per reference source and `all`: passages, tokens, bytes, bits, bpb; the bits of each
    passage, in order). `passages`: dicts with `source`, `bytes` (UTF-8 bytes of the text) and
    `tokens` (ids without the closing EOS)."""
    from train_hooks.eval import loglikelihoods

    pairs, owner = [], []
    for i, p in enumerate(passages):
        windows = rolling_windows(p["tokens"], eos_id, max_len)
        pairs += windows
        owner += [i] * len(windows)
    lls = loglikelihoods(logits_fn, pairs, max_len, batch_size, device) if pairs else []
    per_passage = [0.0] * len(passages)
    for i, ll in zip(owner, lls):
        per_passage[i] += ll
    out: Dict[str, Dict] = {}
    for key in sorted({p["source"] for p in passages}) + ["all"]:
        idx = [i for i, p in enumerate(passages) if key == "all" or p["source"] == key]
        bits = -math.fsum(per_passage[i] for i in idx) / math.log(2)
        nbytes = sum(int(passages[i]["bytes"]) for i in idx)
        out[key] = {"passages": len(idx), "tokens": sum(len(passages[i]["tokens"]) for i in idx),
                    "bytes": nbytes, "bits": bits, "bpb": bits / nbytes if nbytes else float("nan")}
    return out, [-ll / math.log(2) for ll in per_passage]


def random_baseline(task: str, chance: float) -> Tuple[float, str]:
    """(baseline, where it comes from) for a task name: DCLM's table by the longest matching prefix,
    else the task's own chance (mean of 1/choices)."""
    keys = [k for k in DCLM_BASELINES if task.lower().startswith(k)]
    if keys:
        return DCLM_BASELINES[max(keys, key=len)], "DCLM eval_meta_data.csv"
    return float(chance), "1/choices"


def centred(acc: float, baseline: float) -> float:
    return (acc - baseline) / (1.0 - baseline)


def core_score(tasks: Dict[str, Dict]) -> Optional[Dict]:
    """DCLM's aggregation over `tasks` ({name: {"acc", "chance"}}): per task the baseline and the
    centred accuracy, and their mean; None without tasks."""
    if not tasks:
        return None
    per = {}
    for name in sorted(tasks):
        b, origin = random_baseline(name, tasks[name]["chance"])
        per[name] = {"acc": tasks[name]["acc"], "baseline": b, "baseline_from": origin,
                     "centred": centred(tasks[name]["acc"], b)}
    return {"tasks": per, "core": math.fsum(v["centred"] for v in per.values()) / len(per)}
