"""Recipe ablations (train_hooks/ablate.py) on the real samples: the llama recipe's CommonCrawl output
against the same pages with the quality stage off, CPU preset at equal tokens, two seeds; the
report's fields, exact budgets, a byte-identical rerun, resuming, refusal of other settings; and
the parts against their references: lm-eval's rolling windows and a direct forward for bits per
byte, scipy's Welch interval and t quantiles, DCLM's centred aggregation."""
from __future__ import annotations

import gzip
import html
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from common.cli import UsageError
from tests.conftest import BEAM_ARGS, ROOT, SHARED
from train_hooks import ablate as A
from train_hooks import ablate_data as D
from train_hooks import ablate_eval as AE
from train_hooks import ablate_stats as S

ENWIKI = SHARED / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
CC = str(SHARED / "commoncrawl" / "*.warc.gz")
BOOKS = str(SHARED / "books" / "raw" / "*.txt.gz")
TOKENS, SEEDS, TASK_ITEMS = 16384, 2, 40
SAMPLES = -(-TOKENS // 65)            # one source: its samples are context + 1 = 65 tokens
STEPS = -(-SAMPLES // 32)              # 32 samples a step (2,048 tokens)
# The CPU preset with fewer tokens, task items and reference bytes, so that the test stays short.
OPTIONS = ["--preset", "cpu", "--sources", "commoncrawl", "--reference_sources", "wikipedia,books",
           "--tokens", str(TOKENS), "--seeds", str(SEEDS), "--task_limit", str(TASK_ITEMS), "--reference_bytes", "20000"]


def ablate(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "train_hooks.ablate", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def arms(tmp_path_factory) -> Path:
    """Two pipeline runs at once: `llama` on the real CommonCrawl samples (+ curated Wikipedia and
    books, the reference text), and the same pages with `--set commoncrawl.quality=false`."""
    base = tmp_path_factory.mktemp("ablate_arms")
    common = [sys.executable, "-m", "pipeline.run", *BEAM_ARGS, f"--commoncrawl_input={CC}",
              f"--wikipedia_input={ENWIKI}", "--stages=curate"]
    procs = {
        "curated": subprocess.Popen(common + ["--sources=commoncrawl,wikipedia,books", f"--books_input={BOOKS}",
                                              f"--output={base / 'curated'}"], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True),
        "raw": subprocess.Popen(common + ["--sources=commoncrawl", "--set", "commoncrawl.quality=false",
                                          f"--output={base / 'raw'}"], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True),
    }
    for name, proc in procs.items():
        log, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, f"{name}: {log[-4000:]}"
    return base


def arm_args(arms: Path, out: Path):
    return [f"curated={arms / 'curated'}", f"raw={arms / 'raw'}", "--reference", str(arms / "curated"),
            *OPTIONS, "--out", str(out)]


@pytest.fixture(scope="module")
def first(arms, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ablation") / "first"
    proc = ablate(*arm_args(arms, out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_the_report_has_every_field(first, arms):
    r = json.loads((first / "ablation.json").read_text())
    assert r["format"] == A.FORMAT and r["settings"]["tokens"] == TOKENS and r["settings"]["seeds"] == SEEDS
    assert r["model"]["params"]["total"] == sum(p.numel() for p in
                                                A.Llama(A.get_config("tiny", vocab_size=r["tokenizer"]["vocab_size"])).parameters())
    # One tokenizer for both arms, trained on their union (the curated pages are raw pages: drawn once).
    tok = r["tokenizer"]
    assert 256 < tok["vocab_size"] <= 4096 and tok["rate"] == 1.0
    raw_docs = pq.read_table(next((arms / "raw" / "curated" / "commoncrawl").glob("*.parquet"))).num_rows
    assert tok["drawn"]["curated"]["documents"] + tok["drawn"]["raw"]["documents"] == raw_docs
    model = (first / "tokenizer" / "tokenizer.model").read_bytes()
    for arm in ("curated", "raw"):
        assert (first / "data" / arm / "tokenizer" / "tokenizer.model").read_bytes() == model
        mixture = json.loads((first / "data" / arm / "mixture.json").read_text())
        assert mixture["total_tokens"] == TOKENS and list(mixture["sources"]) == ["commoncrawl"]
        acc = r["arms"][arm]["sources"]["commoncrawl"]
        assert acc["planned_tokens"] == TOKENS and acc["share"] == 1.0
        assert acc["unique_tokens"] >= TOKENS and acc["documents_written"] <= acc["eligible"] <= acc["documents"]
    # The quality stage dropped pages: the curated arm had fewer to choose from.
    assert r["arms"]["curated"]["sources"]["commoncrawl"]["documents"] < r["arms"]["raw"]["sources"]["commoncrawl"]["documents"]
    assert set(r["reference"]["sources"]) == {"books", "wikipedia"} and r["reference"]["why"] and r["reference"]["exclusion"]
    assert any("Wikipedia" in n and "curated" in n for n in r["notes"])
    want = {"bpb", "bpb:books", "bpb:wikipedia", "core", "acc:arc_easy", "acc:arc_challenge", "acc:piqa"}
    assert set(r["metrics"]) == want
    for name, m in r["metrics"].items():
        for arm in ("curated", "raw"):
            st = m["arms"][arm]
            assert st["n"] == SEEDS and st["se"] is not None and math.isfinite(st["mean"])
            assert st["mean"] == pytest.approx(np.mean(st["values"]))
        d = m["differences"]["raw - curated"]
        assert d["diff"] == pytest.approx(m["arms"]["raw"]["mean"] - m["arms"]["curated"]["mean"])
        assert d["ci"][0] <= d["diff"] <= d["ci"][1]
        # The paired interval over the same passages / task items: its difference is the same one.
        assert d["items"]["n"] > 1 and d["items"]["diff"] == pytest.approx(d["diff"], abs=1e-9)
        holds = [ci[0] <= 0 <= ci[1] for ci in (d["ci"], d["items"]["ci"])]
        assert d["within_noise"] == any(holds) or d["df"] is None
        assert ("within noise" in d["verdict"]) == d["within_noise"], d["verdict"]
        assert d["verdict"] in r["verdicts"]
    for arm in ("curated", "raw"):
        assert set(r["runs"][arm]) == {"0", "1"}
        for run in r["runs"][arm].values():
            assert run["tokens"] == TOKENS and run["steps"] == STEPS
            assert set(run["bpb"]) == {"all", "books", "wikipedia"} and 0 < run["bpb"]["all"]["bpb"] < 20
            # Items with a choice longer than the context may be left out (train_hooks/eval.py), never lost.
            assert all(0 < t["n"] <= TASK_ITEMS and t["n"] + t.get("skipped_too_long", 0) == TASK_ITEMS
                       for t in run["tasks"].values())
            assert run["core"]["core"] == pytest.approx(np.mean([v["centred"] for v in run["core"]["tasks"].values()]))
        c = r["curves"][arm]
        assert len(c["per_seed"]) == SEEDS and c["tokens"][-1] == TOKENS and len(c["tokens"]) == STEPS
    page = (first / "ablation.html").read_text()
    assert page.count("<svg") == 1 and "<script" not in page and "Verdicts" in page
    for v in r["verdicts"] + r["notes"]:
        assert html.escape(v) in page


def test_every_model_trained_on_exactly_the_budget(first):
    for summary in sorted((first / "runs").glob("*/seed*/summary.json")):
        s = json.loads(summary.read_text())
        assert s["tokens"] == TOKENS and s["plan_done"] and s["padding_samples"] >= 0, summary
    assert len(list((first / "runs").glob("*/seed*/summary.json"))) == 2 * SEEDS


def test_a_rerun_is_identical_byte_for_byte(first, arms, tmp_path):
    proc = ablate(*arm_args(arms, tmp_path / "again"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("ablation.json", "ablation.html", "tokenizer/tokenizer.model", "data/raw/tokens/commoncrawl/part-00000-of-00001.bin"):
        assert (tmp_path / "again" / name).read_bytes() == (first / name).read_bytes(), name


def test_a_rerun_finishes_what_is_missing_and_refuses_other_settings(first, arms, tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(first, out)
    for name in (f"runs/raw/seed1/{A.EVAL_CACHE}", "runs/raw/seed1/summary.json", "ablation.json", "ablation.html"):
        (out / name).unlink()
    # train_hooks.eval's own result beside a run (its default --out, RUN/eval.json) is not the ablation's
    # cache: the ablation neither reads it nor breaks on it; a cache made with other settings is redone.
    proc = subprocess.run([sys.executable, "-m", "train_hooks.eval", f"--checkpoint={out / 'runs' / 'curated' / 'seed0'}",
                           f"--tasks=piqa={ROOT / 'filters' / 'benchmarks' / 'piqa_val.llmfoundry.jsonl.gz'}",
                           "--limit=4", "--device=cpu"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and (out / "runs" / "curated" / "seed0" / "eval.json").exists(), proc.stderr[-2000:]
    cache = out / "runs" / "curated" / "seed1" / A.EVAL_CACHE
    stale = json.loads(cache.read_text())
    stale["key"]["task_limit"] = 7
    cache.write_text(json.dumps(stale))
    proc = ablate(*arm_args(arms, out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "reusing OUT/reference" in proc.stdout and "train raw seed 1" in proc.stdout
    assert "train curated seed 0" not in proc.stdout          # finished runs are not trained again
    assert f"evaluate {cache.parent}: {A.EVAL_CACHE} was made from another checkpoint or settings" in proc.stdout
    assert proc.stdout.count("was made from another checkpoint or settings") == 1   # the other caches are used
    assert (out / "ablation.json").read_bytes() == (first / "ablation.json").read_bytes()
    assert json.loads(cache.read_text())["key"] == json.loads((first / cache.relative_to(out)).read_text())["key"]

    args = arm_args(arms, out)
    args[args.index("--tokens") + 1] = str(2 * TOKENS)
    proc = ablate(*args)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "settings.tokens" in proc.stderr and "another --out" in proc.stderr


def test_bits_per_byte_equal_a_direct_forward_over_lm_evals_windows(first):
    from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

    from tokenizer.encode import DocumentEncoder
    from train_hooks import eval as E
    from train_hooks.model import Llama, ModelConfig

    run, data = first / "runs" / "curated" / "seed0", first / "data" / "curated"
    ckpt = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = Llama(ModelConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    ctx = ckpt["data"]["context"]
    enc = DocumentEncoder((data / "tokenizer" / "tokenizer.model").read_bytes())
    passages = [json.loads(l) for l in (first / "reference" / "passages.jsonl").read_text().splitlines()][:4]
    for p in passages:
        p["tokens"] = [int(i) for i in enc.encode(p["text"])[:-1]]
    assert max(len(p["tokens"]) for p in passages) > 2 * ctx   # several windows per passage
    loaded = E.load(str(run), str(data), "cpu", "float32")
    ours, per_passage = AE.bits_per_byte(loaded.logits_fn, passages, enc.eos_id, loaded.max_len, batch_size=7)
    assert sum(per_passage) == pytest.approx(ours["all"]["bits"])
    nats = 0.0
    with torch.no_grad():
        for p in passages:
            for window in get_rolling_token_windows(p["tokens"], enc.eos_id, ctx, 1):
                context, cont = make_disjoint_window(window)
                full = list(context) + list(cont)
                logp = torch.log_softmax(model(torch.tensor([full[:-1]])).double(), dim=-1)[0]
                nats += sum(float(logp[len(context) - 1 + i, t]) for i, t in enumerate(cont))
    want = -nats / math.log(2) / sum(len(p["text"].encode("utf-8")) for p in passages)
    assert ours["all"]["bpb"] == pytest.approx(want, rel=1e-5)
    assert ours["all"]["bytes"] == sum(p["bytes"] for p in passages)


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 9, 17])
def test_rolling_windows_are_lm_evals(n):
    from lm_eval.utils import get_rolling_token_windows, make_disjoint_window

    tokens = list(range(10, 10 + n))
    want = [tuple(map(list, make_disjoint_window(w))) for w in get_rolling_token_windows(tokens, 2, 4, 1)]
    assert [tuple(p) for p in AE.rolling_windows(tokens, 2, 4)] == want
    assert sum(len(c) for _, c in AE.rolling_windows(tokens, 2, 4)) == n


def test_student_t_and_welch_interval_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (0.7, 1, 1.9, 2, 5.5, 30, 1e4):
        for p in (0.6, 0.975, 0.995):
            assert S.t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-8)
    a, b = [1.0, 1.25, 0.9], [2.0, 2.2]
    d = S.difference(S.mean_se(a), S.mean_se(b))
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert d["ci"] == pytest.approx([ci.low, ci.high], rel=1e-8) and d["df"] == pytest.approx(ref.df)
    assert d["within_noise"] is False
    assert "excludes 0: raw is better" in S.verdict("bpb", "cur", "raw", S.difference(S.mean_se(b), S.mean_se(a)), True)


def test_verdicts_say_plainly_when_there_is_no_difference_to_read():
    close = S.compare({"a": [3.0, 3.1], "b": [3.02, 3.12]}, "a", "bpb", True, "bits/byte")
    assert close["differences"]["b - a"]["within_noise"] is True
    assert "within noise" in close["differences"]["b - a"]["verdict"]
    one = S.compare({"a": [3.0], "b": [2.0]}, "a", "bpb", True)["differences"]["b - a"]
    assert one["ci"] is None and one["within_noise"] is None and "no seed interval" in one["verdict"]
    flat = S.compare({"a": [0.25, 0.25], "b": [0.3, 0.3]}, "a", "acc", False)["differences"]["b - a"]
    assert flat["within_noise"] is True and "cannot size the noise" in flat["verdict"]
    # Seeds agree closely, but the difference is a few items of a small test: within noise.
    right_a, right_b = [1] * 20 + [0] * 20, [1] * 22 + [0] * 18
    items = S.paired_items(right_a, right_b)
    seeds = S.compare({"a": [0.500, 0.501], "b": [0.550, 0.551]}, "a", "acc", False, "", {"b": items})["differences"]["b - a"]
    assert seeds["ci"][0] > 0 and items["ci"][0] < 0 < items["ci"][1]
    assert seeds["within_noise"] is True and "the interval over items includes 0" in seeds["verdict"]
    # A difference clear of both intervals is called.
    items = S.paired_items([0] * 30 + [1] * 10, [1] * 30 + [1] * 10)
    clear = S.compare({"a": [0.25, 0.26], "b": [1.0, 0.99]}, "a", "acc", False, "", {"b": items})["differences"]["b - a"]
    assert clear["within_noise"] is False and "exclude 0: b is better" in clear["verdict"]


def test_paired_item_interval_by_hand():
    a, b = [1.0, 2.0, 4.0, 3.0], [2.0, 2.5, 4.0, 5.0]
    x = np.array(b) - np.array(a)
    mean = S.paired_items(a, b)
    assert mean["diff"] == pytest.approx(x.mean()) and mean["se"] == pytest.approx(x.std(ddof=1) / 2)
    assert mean["ci"][1] - mean["diff"] == pytest.approx(S.t_ppf(0.975, 3) * x.std(ddof=1) / 2)
    # Bits per byte: a ratio of sums, the same bytes for both arms.
    total = S.paired_items(a, b, scale=1 / 100, mean=False)
    assert total["diff"] == pytest.approx(x.sum() / 100) and total["se"] == pytest.approx(x.std(ddof=1) * 2 / 100)
    assert S.paired_items([1.0], [2.0]) is None


def test_core_is_dclms_centred_aggregation():
    # DCLM eval/eval_meta_data.csv "Random baseline": arc_easy 25, boolq 62, piqa 50 (percent).
    tasks = {"arc_easy": {"acc": 0.40, "chance": 0.25}, "boolq": {"acc": 0.55, "chance": 0.5},
             "piqa": {"acc": 0.60, "chance": 0.5}, "mytask": {"acc": 0.5, "chance": 1 / 3}}
    want = {"arc_easy": (0.40 - 0.25) / 0.75, "boolq": (0.55 - 0.62) / 0.38, "piqa": 0.2, "mytask": (0.5 - 1 / 3) / (2 / 3)}
    got = AE.core_score(tasks)
    for name, v in want.items():
        assert got["tasks"][name]["centred"] == pytest.approx(v)
    assert got["tasks"]["mytask"]["baseline_from"] == "1/choices"
    assert got["core"] == pytest.approx(np.mean(list(want.values())))


def test_shared_sources_get_the_same_share_in_every_arm():
    table = {"commoncrawl": 0.67, "c4": 0.15, "wikipedia": 0.045}
    same, notes = D.arm_shares({"a": ["commoncrawl", "c4"], "b": ["c4", "commoncrawl"]}, table)
    assert same["a"] == same["b"] == pytest.approx({"commoncrawl": 0.67 / 0.82, "c4": 0.15 / 0.82}) and not notes
    mixed, notes = D.arm_shares({"a": ["commoncrawl", "c4"], "b": ["commoncrawl", "wikipedia"]}, table)
    assert mixed["a"]["commoncrawl"] == mixed["b"]["commoncrawl"] == pytest.approx(0.67 / 0.865) and not notes
    assert sum(mixed["a"].values()) == pytest.approx(1) == sum(mixed["b"].values())
    lacking, notes = D.arm_shares({"a": ["commoncrawl", "c4"], "b": ["commoncrawl"]}, table)
    assert lacking["b"] == {"commoncrawl": pytest.approx(1.0)} and "arm b lacks c4" in notes[0]
    with pytest.raises(UsageError, match="--shares"):
        D.arm_shares({"a": ["github"], "b": ["github"]}, table)


def _parquet(path: Path, rows):
    pq.write_table(pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows]}), path)
    return D.DocSource(path.stem, parquet=[str(path)])


def test_reference_text_is_kept_out_of_the_arms(arms, tmp_path):
    ref_inputs = D.reference_inputs([str(arms / "curated")], ["wikipedia", "books"])
    ref = D.Reference(ref_inputs, 20000, 0)
    wiki = D.discover(str(arms / "curated"), "arm x=", ["wikipedia", "commoncrawl"])
    scan, _ = D.scan(wiki["wikipedia"], ref, 0, set())
    assert scan.excluded.all() and len(scan.excluded) > 50          # a Wikipedia arm would train on nothing
    cc, _ = D.scan(wiki["commoncrawl"], ref, 0, set())
    assert not cc.excluded.any()                                    # web pages share no line with them
    article = next(iter(ref_inputs["wikipedia"]))[1]
    line = next(l for l in article.split("\n") if len(l) > 120)
    page = next(iter(wiki["commoncrawl"]))[1]
    planted = _parquet(tmp_path / "commoncrawl.parquet", [("a", page), ("b", page + "\n" + line.upper()), ("c", line[:40])])
    got, _ = D.scan(planted, ref, 0, set())
    assert got.excluded.tolist() == [False, True, False]            # a quoted line counts, case and spacing aside


def test_documents_are_the_shortest_ranked_prefix_reaching_the_budget(tmp_path, monkeypatch):
    from tokenizer.encode import DocumentEncoder

    enc = DocumentEncoder((SHARED / "models" / "llama_tokenizer.model").read_bytes())
    texts = []
    for f in sorted((SHARED / "c4").glob("olmo-c4-sample.*.json.gz")):
        texts += [json.loads(l)["text"] for l in gzip.decompress(f.read_bytes()).decode().splitlines()]
    ds = _parquet(tmp_path / "c4.parquet", [(f"d{i}", t) for i, t in enumerate(texts)])
    ref = D.Reference({"x": _parquet(tmp_path / "x.parquet", [("r", "unrelated reference text " * 5)])}, 0, 0)
    sc, _ = D.scan(ds, ref, 7, set())
    order = sc.included
    lengths = np.cumsum([len(enc.encode(texts[i])) for i in order])
    budget = int(lengths[len(lengths) // 2]) - 1
    want = int(np.searchsorted(lengths, budget)) + 1
    docs, account = D.select(ds, sc, budget, enc)
    assert account["documents_written"] == want and sum(map(len, docs)) >= budget > sum(map(len, docs[:-1]))
    assert [d.tolist() for d in docs] == [enc.encode(texts[i]).tolist() for i in order[:want]]
    monkeypatch.setattr(D, "FIRST_GUESS_BYTES_PER_TOKEN", 0.01)   # start far too small: same answer
    again, _ = D.select(ds, sc, budget, enc)
    assert [d.tolist() for d in again] == [d.tolist() for d in docs]
    everything, account = D.select(ds, sc, int(lengths[-1]) * 3, enc)
    assert len(everything) == len(texts) and account["documents_written"] == len(texts)


def test_usage_mistakes_are_one_line(tmp_path):
    with pytest.raises(UsageError, match="two or more arms"):
        A.settings_from(A.parse_args(["only=/x", "--reference", "/y", "--out", str(tmp_path)]))
    with pytest.raises(UsageError, match="--reference"):
        A.settings_from(A.parse_args(["a=/x", "b=/y", "--out", str(tmp_path)]))
    with pytest.raises(UsageError, match="given twice"):
        A.settings_from(A.parse_args(["a=/x", "a=/y", "--reference", "/r", "--out", str(tmp_path)]))
    with pytest.raises(UsageError, match="neither curated"):
        D.discover(str(tmp_path), "arm a=")


@pytest.mark.parametrize("extra, expected", [
    (["--task_limit", "-1"], "--task_limit -1: must be at least 0"),
    (["--batch_size", "0"], "--batch_size 0: must be at least 1"),
    (["--context", "0"], "--context 0: must be at least 1"),
    (["--seeds", "0"], "--seeds 0: must be at least 1"),
    (["--sample_seed", "-3"], "--sample_seed -3: must be at least 0"),
    (["--vocab_size", "100"], "--vocab_size 100: must be at least 260"),
    (["--lr", "-1"], "--lr -1.0: must be a positive number"),
    (["--batch_tokens", "32"], "--batch_tokens 32: holds no sequence of --context 64"),
    (["--tokens", "100"], "--tokens 100: less than one step (2048 tokens)"),
    (["--tokenizer", "/nonexistent.model"], "--tokenizer /nonexistent.model: no such file"),
    (["--tokenizer", str(ROOT / "README.md")], "not a SentencePiece model"),
    (["--tokenizer_recipe", "/nonexistent/tokenizer.json"], "no /nonexistent/tokenizer.json"),
    (["--tasks", "arc_easy=/etc/passwd"], "--tasks arc_easy=/etc/passwd: line 1: "),
    (["--tasks", "arc_easy=/nonexistent.jsonl"], "--tasks arc_easy: no file /nonexistent.jsonl"),
    (["--tasks", "arc_easy"], "--tasks: expected NAME=FILE, got 'arc_easy'"),
    (["--shares", "commoncrawl=-1"], "--shares commoncrawl=-1: a weight is a positive number"),
])
def test_every_option_is_checked_before_anything_is_written(tmp_path, extra, expected):
    """Each range, file and model is checked first: one line naming the option, and no OUT (so no
    plan.json that the corrected command would then be refused by)."""
    out = tmp_path / "out"
    with pytest.raises(UsageError) as e:
        A.main(["a=/nonexistent/a", "b=/nonexistent/b", "--reference", "/nonexistent/r", "--out", str(out), *extra])
    assert expected in str(e.value) and "\n" not in str(e.value), str(e.value)
    assert not out.exists()


def test_a_refused_command_corrected_is_not_refused_by_its_plan(tmp_path):
    """plan.json that nothing was built from yet is replaced; once data or models exist it holds."""
    A.check_plan(tmp_path, {"settings": {"tokens": 1}})
    A.check_plan(tmp_path, {"settings": {"tokens": 2}})
    assert json.loads((tmp_path / "plan.json").read_text()) == {"settings": {"tokens": 2}}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "prepared.json").write_text("{}")
    with pytest.raises(UsageError, match=r"holds an ablation made with other settings or inputs \(settings.tokens differ\)"):
        A.check_plan(tmp_path, {"settings": {"tokens": 3}})


def test_a_tokenized_arm_with_a_changed_shard_is_one_line(first, tmp_path):
    data = tmp_path / "arm"
    shutil.copytree(first / "data" / "raw", data)
    shard = data / "tokens" / "commoncrawl" / "part-00000-of-00001.bin"
    raw = bytearray(shard.read_bytes())
    raw[100] ^= 1
    shard.write_bytes(bytes(raw))
    with pytest.raises(UsageError) as e:
        D.discover(str(data), "arm t=")
    assert str(e.value).startswith(f"arm t={data}: source commoncrawl: {shard}: its SHA-256 is not the one mixture.json "
                                   "lists") and "\n" not in str(e.value)
    assert f"restore it from where {data} was made" in str(e.value)    # no curated/ there to tokenize again


def test_ablate_imports_neither_beam_nor_pipeline():
    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('apache_beam', 'pipeline'):\n"
            "            raise ImportError('blocked: ' + name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import train_hooks.ablate, train_hooks.ablate_data, train_hooks.ablate_eval, train_hooks.ablate_report\n"
            "import tokenizer.encode, tokenizer.train, tokenizer.mixture, train_hooks.train, train_hooks.eval\n"
            "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_a_tokenized_output_is_an_arm_too(first, arms):
    """A mixture folder without curated/ (here: the ablation's own data/raw) is read by decoding its
    shards with its tokenizer: every document comes back as the curated text it was made from."""
    found = D.discover(str(first / "data" / "raw"), "arm t=")
    assert list(found) == ["commoncrawl"] and found["commoncrawl"].describe()["kind"] == "tokens"
    decoded = [text for _, text in found["commoncrawl"]]
    curated = set(pq.read_table(next((arms / "raw" / "curated" / "commoncrawl").glob("*.parquet"))).column("text").to_pylist())
    r = json.loads((first / "ablation.json").read_text())
    assert len(decoded) == r["arms"]["raw"]["sources"]["commoncrawl"]["documents_written"]
    assert all(text in curated for text in decoded)


def test_gpu_check_script_runs_its_cpu_path(arms, tmp_path):
    """bench/gpu_check.sh, the one device call: `--prepare` does the CPU work (arms, the ablation's
    data) beforehand; the call itself runs every check under its time limit, budget first. Here its
    CPU path with tiny sizes, on the arms this module curated (the script curates only when absent)."""
    import os

    out = tmp_path / "gc"
    out.mkdir()
    for name in ("curated", "raw"):
        (out / name).symlink_to(arms / name)
    env = {**os.environ, "PY": sys.executable, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}

    def script(*args):
        return subprocess.run(["bash", "bench/gpu_check.sh", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=900)

    proc = script("--device", "cpu", "--quick", str(out))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert f"{out}/ablation_quick is not prepared; run bench/gpu_check.sh --prepare --device cpu --quick {out}" in proc.stderr
    proc = script("--prepare", "--device", "cpu", "--quick", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "pipeline.run" not in proc.stderr and (out / "ablation_quick" / "data" / "prepared.json").exists()
    assert not (out / "ablation_quick" / "runs").exists()            # prepared, nothing trained
    proc = script("--device", "cpu", "--quick", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    said = [line for line in proc.stdout.splitlines() if line.startswith("gpu_check: ")]
    assert said[0] == ("gpu_check: budget: throughput ≤ 300 s, train/eval/export ≤ 300 s, ablation (2 arms × 2 seeds) "
                       "≤ 300 s: at most 900 s in all")
    for phase in ("throughput", "train/eval/export", "ablation"):
        assert any(line.startswith(f"gpu_check: {phase}: done in ") for line in said), said
    assert said[-1] == "gpu_check: all ok" and "data: reusing OUT/reference" in proc.stdout
    checks = json.loads((out / "checks" / "gpu_checks.json").read_text())
    assert checks["ok"] and sorted(checks["checks"]) == ["eval", "export", "throughput", "train"]
    r = json.loads((out / "ablation_quick" / "ablation.json").read_text())
    assert set(r["runs"]) == {"curated", "raw"} and all(len(v) == 2 for v in r["runs"].values())
