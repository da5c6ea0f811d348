"""Zero-shot evaluation: log-likelihoods and both normalisations on hand-computed numbers, task
readers, the trainer's checkpoint and its Hugging Face export scored alike, and the same per-item
choices as EleutherAI's lm-eval on a slice of ARC-Easy and PIQA."""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
import torch

from train_hooks import eval as E
from tests.conftest import ROOT, SHARED

TOKENIZER = SHARED / "models" / "llama_tokenizer.model"
ARC_EASY = ROOT / "filters" / "benchmarks" / "arc_easy.llmfoundry.jsonl.gz"
PIQA = ROOT / "filters" / "benchmarks" / "piqa_val.llmfoundry.jsonl.gz"


class Bigram:
    """logits[b, t] = table[token[b, t]]: every log-likelihood is a sum of table entries (the table
    is low-rank, A·B, so that a 32000-token vocabulary stays small)."""

    def __init__(self, vocab=6, seed=0, rank=8):
        g = torch.Generator().manual_seed(seed)
        self.a = torch.randn(vocab, rank, generator=g)
        self.b = torch.randn(rank, vocab, generator=g)
        self.calls = []

    def __call__(self, tokens):
        self.calls.append(tuple(tokens.shape))
        return self.a[tokens] @ self.b

    def by_hand(self, ctx, cont):
        seq = ctx + cont
        return sum(float(torch.log_softmax(self.a[seq[i - 1]] @ self.b, dim=-1)[seq[i]])
                   for i in range(len(ctx), len(seq)))


def test_loglikelihoods_equal_the_hand_sum_in_any_batch():
    m = Bigram()
    pairs = [([1, 2], [3]), ([4], [5, 0, 1]), ([2, 2, 2, 2], [1, 1]), ([0], [3, 4])]
    want = [m.by_hand(c, k) for c, k in pairs]
    for batch in (1, 2, 4):
        assert E.loglikelihoods(E.at_positions(m), pairs, max_len=16, batch_size=batch) == pytest.approx(want, abs=1e-5)
    assert m.calls[-1] == (4, 5)   # one padded batch of the longest input (6 tokens - 1)
    # Longer than the context: the first tokens go, as in lm-eval (the bigram does not care).
    assert E.loglikelihoods(E.at_positions(m), [([1, 2, 3, 4, 5], [0, 1])], max_len=3) == pytest.approx(
        [m.by_hand([4, 5], [0, 1])], abs=1e-5)


def test_char_normalisation_can_overturn_the_raw_likelihood():
    r = E.Request("ctx", ("a b", "a much longer completion"), 1)
    raw = [-3.0, -12.0]
    assert E.choose(r, raw, None, "none") == 0
    assert E.choose(r, raw, None, "char") == 1      # -3/3 = -1.0 < -12/24 = -0.5


def test_unconditional_normalisation_divides_out_the_answer_prior():
    r = E.Request("Question: is it?\nAnswer:", ("no", "yes"), 1)
    conditional = [math.log(0.6), math.log(0.4)]     # "no" more likely given the question ...
    unconditional = [math.log(0.9), math.log(0.1)]   # ... but far more likely after "Answer:" alone
    assert E.choose(r, conditional, None, "char") == 0
    assert E.choose(r, conditional, unconditional, "unconditional") == 1


def test_score_choices_end_to_end_on_the_bigram():
    """Prompt and completions through a real tokenizer, scores through the bigram, by hand."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(TOKENIZER))
    vocab = sp.get_piece_size()
    m = Bigram(vocab=vocab, seed=1)
    r = E.Request("Passage: x.\nQuestion: is it?\nAnswer:", ("no", "yes"), 0)
    picks = E.score_choices(E.at_positions(m), sp.encode, [r], "unconditional", max_len=64)
    scores = []
    for c in r.choices:
        ctx, cont = E.split_pair(sp.encode, r.context, " " + c)
        assert ctx + cont == sp.encode(r.context + " " + c) and cont
        uctx, ucont = E.split_pair(sp.encode, "Answer:", " " + c)
        scores.append(m.by_hand(ctx, cont) - m.by_hand(uctx, ucont))
    assert picks == [int(scores[1] > scores[0])]
    # A trailing space of the prompt moves to the completion (lm-eval's rule).
    assert E.split_pair(sp.encode, "Answer: ", "yes") == E.split_pair(sp.encode, "Answer:", " yes")


def test_accuracy_and_its_standard_error():
    reqs = [E.Request("", ("a", "b"), g) for g in (0, 0, 1, 1)]
    r = E.accuracy([0, 1, 1, 1], reqs)
    assert r["n"] == 4 and r["acc"] == 0.75
    assert r["acc_stderr"] == pytest.approx(0.25)   # sample std 0.5 of [1, 0, 1, 1], over sqrt(4)


def test_task_readers_and_prompts(tmp_path):
    arc = E.read_task("arc_easy", str(ARC_EASY), limit=3)
    assert arc[0].context.startswith("Question: Which statement") and arc[0].context.endswith("?\nAnswer:")
    assert arc[0].gold == 0 and len(arc[0].choices) == 4
    piqa = E.read_task("piqa", str(PIQA), limit=2)
    assert piqa[1] == E.Request("Question: dresser\nAnswer:", ("replace drawer with bobby pin",
                                                               "finish, woodgrain with  bobby pin"), 1)
    boolq = E.read_task("boolq", str(SHARED / "benchmarks" / "boolq_val.llmfoundry.jsonl.gz"), limit=1)[0]
    assert boolq.context.endswith("produces?\nAnswer:") and boolq.choices == ("no", "yes")
    assert E.task_spec("boolq")["norm"] == E.task_spec("openbookqa")["norm"] == "unconditional"
    assert E.task_spec("arc_challenge")["norm"] == E.task_spec("hellaswag")["norm"] == "char"
    ors = SHARED / "benchmarks" / "original_schema"
    hs = E.read_task("hellaswag", str(ors / "hellaswag_val.head.jsonl"))[0]
    assert hs.context == "Roof shingle removal: A man is sitting on a roof. He" and hs.gold == 3
    arc_c = E.read_task("arc_challenge", str(ors / "ARC-Challenge-Test.head.jsonl"))[0]
    assert arc_c.gold == 2 and arc_c.context.endswith("increase in rotation?\nAnswer:")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": 1}\n')
    from common.cli import UsageError

    with pytest.raises(UsageError, match=r"--tasks x=.*bad.jsonl: line 1: x: unknown record schema \['text'\]"):
        E.read_task("x", str(bad))


HELLASWAG_WIKIHOW = ROOT / "tests" / "data" / "hellaswag_wikihow.train.jsonl"


def test_hellaswag_released_schema_preprocessed_as_lm_eval():
    """Five real WikiHow items of HellaSwag's released schema ("[header]", "[title]", "[step]",
    "[substeps]" markup; train split records quoted by allenai/olmes and a public eval script) and
    the two ActivityNet items of the shared head: prompts and choices equal lm-eval's. The expected
    file was written by lm-eval 0.4.13 itself:
        HF_DATASETS_OFFLINE=1 .venv/bin/python -c "import json, datasets; from lm_eval.tasks.hellaswag import utils;
        rows = [json.loads(l) for f in ('tests/data/hellaswag_wikihow.train.jsonl',
        '../shared/data/benchmarks/original_schema/hellaswag_val.head.jsonl') for l in open(f)];
        ds = datasets.Dataset.from_list([{k: r[k] for k in ('activity_label', 'ctx_a', 'ctx_b', 'endings', 'label')} for r in rows]);
        [print(json.dumps({'query': o['query'], 'choices': o['choices'], 'gold': o['gold']})) for o in utils.process_docs(ds)]"
        > tests/data/hellaswag_wikihow.lm_eval.jsonl"""
    want = [json.loads(line) for line in (ROOT / "tests" / "data" / "hellaswag_wikihow.lm_eval.jsonl").open()]
    ours = E.read_task("hellaswag", str(HELLASWAG_WIKIHOW)) + E.read_task(
        "hellaswag", str(SHARED / "benchmarks" / "original_schema" / "hellaswag_val.head.jsonl"))
    assert [E.Request(w["query"], tuple(w["choices"]), w["gold"]) for w in want] == ours
    assert not any("[" in r.context or any("[" in c for c in r.choices) for r in ours)
    assert ours[3].context.endswith("refrigerator.. Leave the water there for several hours or overnight.. Remove "
                                    "from the freezer and note what has occurred.")   # lm-eval's ". " after a "."
    assert E.hellaswag_clean(" a [title] b [step] c ") == "a. b c"


def test_an_answer_longer_than_the_context_is_not_scored_and_counted():
    """lm-eval asserts len(continuation) <= max_length (models/huggingface.py) and stops; here the
    item is left out of the accuracy and counted, never scored on its cut tail."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(TOKENIZER))
    m = Bigram(vocab=sp.get_piece_size(), seed=2)
    long = "a very long answer " * 10
    reqs = [E.Request("Question: q?\nAnswer:", ("yes", "no"), 0),
            E.Request("Question: r?\nAnswer:", ("short", long), 1),
            E.Request("Question: s?\nAnswer:", ("no", "yes"), 1)]
    assert len(E.split_pair(sp.encode, reqs[1].context, " " + long)[1]) > 16
    for norm in ("char", "unconditional"):
        picks = E.score_choices(E.at_positions(m), sp.encode, reqs, norm, max_len=16)
        assert picks[1] is None and picks[0] in (0, 1) and picks[2] in (0, 1)
        # the other items are scored as they would be alone
        assert [picks[0], picks[2]] == E.score_choices(E.at_positions(m), sp.encode, [reqs[0], reqs[2]], norm, 16)
        result = E.accuracy(picks, reqs)
        assert result["n"] == 2 and result["skipped_too_long"] == 1 and result["skipped_items"] == [1]
        assert result["acc"] == ((picks[0] == 0) + (picks[2] == 1)) / 2
    assert E.score_choices(E.at_positions(m), sp.encode, reqs, "char", max_len=64)[1] is not None


# ------------------------------------------------------------------------------------------------
# A real model: the trainer's checkpoint format, its HF export, and lm-eval on the export.
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trainer_dir(tmp_path_factory):
    """A tiny LLaMA in the trainer's checkpoint layout (DATA/train/tiny), with weights drawn wide
    enough that choices differ by clear margins (a 0.02-init model scores every choice alike)."""
    from train_hooks.model import Llama, get_config

    data = tmp_path_factory.mktemp("evaldata")
    (data / "tokenizer").mkdir()
    (data / "tokenizer" / "tokenizer.model").write_bytes(TOKENIZER.read_bytes())
    (data / "mixture.json").write_text(json.dumps({"format": "llamadata-mixture/1", "tokenizer": "tokenizer/tokenizer.model",
                                                   "vocab_size": 32000, "bos_id": 1, "eos_id": 2, "sources": {}}))
    torch.manual_seed(0)
    cfg = get_config("tiny", vocab_size=32000, context=256)
    model = Llama(cfg)
    for name, p in model.named_parameters():
        with torch.no_grad():
            p.copy_(torch.ones_like(p) if p.dim() == 1 else torch.randn_like(p) * (0.5 if "emb" in name or "head" in name else 0.1))
    out = data / "train" / "tiny"
    out.mkdir(parents=True)
    from train_hooks import checkpoint as C   # sealed with its SHA-256 and naming its data, as train.py writes it

    C.save(out / "checkpoint.pt", {"config": cfg.to_dict(), "model": model.state_dict(),
                                   "data": {**C.data_record(data), "context": 256}})
    return out


@pytest.fixture(scope="module")
def hf_dir(trainer_dir, tmp_path_factory):
    from train_hooks.export import export

    return export(trainer_dir, trainer_dir.parent.parent, tmp_path_factory.mktemp("hf") / "model")


SLICE = 24


def test_cli_on_trainer_folder_and_hf_export_agree(trainer_dir, hf_dir, tmp_path):
    tasks = f"arc_easy={ARC_EASY},piqa={PIQA}"
    for name, ckpt in (("trainer", trainer_dir), ("hf", hf_dir)):
        assert E.main([f"--checkpoint={ckpt}", f"--tasks={tasks}", f"--limit={SLICE}", "--device=cpu",
                       "--batch_size=8", f"--out={tmp_path / name}.json"]) == 0
    ours, hf = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("trainer", "hf"))
    for task in ("arc_easy", "piqa"):
        assert ours["tasks"][task]["n"] == SLICE and set(ours["tasks"][task]) >= {"acc", "acc_stderr", "n"}
        assert ours["tasks"][task]["predictions"] == hf["tasks"][task]["predictions"]
        assert ours["tasks"][task]["acc"] == hf["tasks"][task]["acc"]
    assert ours["model"] == "trainer" and hf["model"] == "hf"
    from pipeline import report

    (tmp_path / "eval.json").write_text((tmp_path / "trainer.json").read_text())
    page = report.render(str(tmp_path))
    assert "Zero-shot evaluation" in page and "arc_easy" in page and "piqa" in page
    rows = E.report_section(ours)["tasks"]
    assert [(r["name"], r["n"], r["chance"]) for r in rows] == [("arc_easy", SLICE, 0.25), ("piqa", SLICE, 0.5)]


def test_bfloat16_on_cpu_makes_the_float32_choices(trainer_dir, hf_dir, tmp_path):
    """The GPU path's compute type, run on CPU torch: the trainer's model under bf16 autocast and
    the export loaded in bf16 choose as float32 does (the log-likelihoods move, not the picks; the
    export's float32 choices are the trainer's, test_cli_on_trainer_folder_and_hf_export_agree)."""
    tasks = {"arc_easy": ARC_EASY, "piqa": PIQA}
    runs = {}
    for dtype in ("float32", "bfloat16"):
        loaded = E.load(str(trainer_dir), None, "cpu", dtype)
        assert loaded.dtype == dtype
        for name, src in tasks.items():
            requests = E.read_task(name, str(src), SLICE)
            pairs = [E.split_pair(loaded.encode, r.context, " " + c) for r in requests[:2] for c in r.choices]
            runs[dtype, name] = (E.score_choices(loaded.logits_fn, loaded.encode, requests, "char", loaded.max_len, 8),
                                 E.loglikelihoods(loaded.logits_fn, pairs, loaded.max_len, 8))
    for name in tasks:
        (picks32, ll32), (picks16, ll16) = runs["float32", name], runs["bfloat16", name]
        assert picks16 == picks32, name
        assert ll16 != ll32 and ll16 == pytest.approx(ll32, rel=1e-2)   # bf16 did run
    assert E.main([f"--checkpoint={hf_dir}", f"--tasks=arc_easy={ARC_EASY},piqa={PIQA}", f"--limit={SLICE}",
                   "--device=cpu", "--dtype=bfloat16", "--batch_size=8", f"--out={tmp_path / 'bf16.json'}"]) == 0
    result = json.loads((tmp_path / "bf16.json").read_text())
    assert result["dtype"] == "bfloat16"   # the weights as loaded
    for name in tasks:
        assert result["tasks"][name]["predictions"] == runs["float32", name][0], name


def _lm_eval_task(tmp_path, name, source, limit):
    rows = [json.loads(l) for l in gzip.open(source, "rt", encoding="utf-8")][:limit]
    data = tmp_path / f"{name}.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # lm-eval's own prompt for ARC/PIQA: "Question: …\nAnswer:" and " " + choice; acc_norm divides
    # the log-likelihood by the choice's characters: LLaMA's rule for these tasks.
    (tmp_path / f"{name}.yaml").write_text(
        f"task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n"
        "test_split: test\noutput_type: multiple_choice\n"
        "doc_to_text: \"{{query.rstrip()}}\\nAnswer:\"\ndoc_to_choice: \"{{choices}}\"\ndoc_to_target: gold\n"
        "target_delimiter: \" \"\nmetric_list:\n  - metric: acc_norm\n")
    return rows


def test_lm_eval_makes_the_same_choices(hf_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    lm_eval = pytest.importorskip("lm_eval")
    from lm_eval.tasks import TaskManager

    tasks = {"llamadata_arc_easy": ARC_EASY, "llamadata_piqa": PIQA}
    for name, src in tasks.items():
        _lm_eval_task(tmp_path, name, src, SLICE)
    res = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={hf_dir},dtype=float32",
                                  tasks=list(tasks), task_manager=TaskManager(include_path=str(tmp_path)),
                                  device="cpu", batch_size=8, log_samples=True)
    loaded = E.load(str(hf_dir), None, "cpu")
    for name, src in tasks.items():
        theirs = {}
        for s in res["samples"][name]:
            lls = [float(r[0]) for r in s["filtered_resps"]]
            choices = s["doc"]["choices"]
            norm = [ll / len(c) for ll, c in zip(lls, choices)]
            theirs[s["doc_id"]] = (max(range(len(norm)), key=norm.__getitem__), lls)
        requests = E.read_task(name.removeprefix("llamadata_"), str(src), SLICE)
        picks = E.score_choices(loaded.logits_fn, loaded.encode, requests, "char", loaded.max_len, 8)
        assert len(theirs) == SLICE
        assert picks == [theirs[i][0] for i in range(SLICE)], name
        # and the log-likelihoods themselves, choice by choice
        pairs = [E.split_pair(loaded.encode, r.context, " " + c) for r in requests for c in r.choices]
        ours = E.loglikelihoods(loaded.logits_fn, pairs, loaded.max_len, 8)
        assert ours == pytest.approx([ll for i in range(SLICE) for ll in theirs[i][1]], abs=2e-3)
        assert res["results"][name]["acc_norm,none"] == pytest.approx(
            sum(p == r.gold for p, r in zip(picks, requests)) / SLICE)


# ------------------------------------------------------------------------------------------------
# Held-out text per source: reserved by the mixture plan, never trained on, scored by eval.
# ------------------------------------------------------------------------------------------------
def test_heldout_slice_is_deterministic_and_bounded():
    from tokenizer import mixture

    cfg = {"fraction": 0.01, "min_documents": 1, "max_documents": 1000}
    assert mixture.heldout_documents("c4", 5000, cfg) == mixture.heldout_documents("c4", 5000, cfg)
    assert len(mixture.heldout_documents("c4", 5000, cfg)) == 50
    assert len(mixture.heldout_documents("c4", 3, cfg)) == 1            # at least one ...
    assert mixture.heldout_documents("c4", 1, cfg) == []                 # ... never the whole source
    assert len(mixture.heldout_documents("c4", 10 ** 6, cfg)) == 1000    # at most max_documents
    assert mixture.heldout_documents("c4", 500, cfg) != mixture.heldout_documents("books", 500, cfg)
    assert mixture.heldout_documents("c4", 500, dict(cfg, fraction=0.0, min_documents=0)) == []


def test_heldout_documents_are_never_trained_on_and_scored_per_source(mixture_dir, tmp_path):
    import shutil

    from pipeline import recipe as recipes
    from tokenizer.stages import mixture_stage
    from train_hooks import data as D
    from train_hooks import train as T

    work = tmp_path / "mix"
    shutil.copytree(mixture_dir, work, ignore=shutil.ignore_patterns("train", "models"))
    plan = mixture_stage(str(work), recipes.load("llama-plus"), None)
    held = {s: e["heldout_documents"] for s, e in plan["sources"].items() if e.get("heldout_documents")}
    assert held and all(len(v) >= 1 for v in held.values())
    from tokenizer import verify

    assert verify.verify(str(work)) == []          # training totals exclude the held-out documents
    report = D.audit(work, context=64, global_batch=8)
    assert report["ok"], report["problems"]
    for s in held:
        assert report["sources"][s]["heldout_tokens"] > 0 and report["sources"][s]["heldout_tokens_used"] == 0
    T.main(["--data", str(work), "--out", str(tmp_path / "run"), "--model", "tiny", "--device", "cpu",
            "--max_steps", "4", "--warmup", "1", "--batch_tokens", str(4 * 64), "--micro_batch", "2"])
    assert E.main([f"--checkpoint={tmp_path / 'run'}", "--heldout", "--device=cpu",   # the data: as recorded
                   f"--out={tmp_path / 'eval.json'}"]) == 0
    result = json.loads((tmp_path / "eval.json").read_text())["heldout"]
    assert sorted(result) == sorted(held)
    vocab = plan["vocab_size"]
    for s, r in result.items():
        assert r["documents"] == len(held[s]) and r["tokens"] > 0
        assert 1 < r["perplexity"] < 3 * vocab and math.isclose(r["perplexity"], math.exp(r["nll"]))
