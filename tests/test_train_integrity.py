"""The model stage fails closed: a trainer output folder records what it was trained on and eval and
export hold it to that; checkpoints verify their SHA-256 (one previous kept); changed token shards
are caught; a non-finite loss stops the run before anything is written; the trainer's guidance and
every usage mistake is one line (exit 2 from the command line)."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from common.cli import UsageError
from train_hooks import checkpoint as C
from train_hooks import data as D
from train_hooks import eval as E
from train_hooks import export as X
from train_hooks import train as T

from tests.conftest import ROOT, SHARED

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}   # one thread: 2 shared cores
FAST = ["--model", "tiny", "--device", "cpu", "--batch_tokens", str(4 * 64), "--micro_batch", "2", "--warmup", "1"]


def train(data, out, *extra):
    return T.main(["--data", str(data), "--out", str(out), *FAST, *extra])


def command(args, cwd=ROOT, timeout=600):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def usage_line(args, prog, cwd=ROOT) -> str:
    """Run a command that must fail as a usage error: exit 2, one line, no traceback."""
    proc = command(args, cwd)
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), lines
    return lines[0]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def run2(mixture_dir, tmp_path_factory):
    """Two steps with a checkpoint after each: checkpoint.pt (step 2) and checkpoint.prev.pt (step 1)."""
    out = tmp_path_factory.mktemp("run2") / "run"
    train(mixture_dir, out, "--max_steps", "2", "--ckpt_every", "1")
    return out


def copy_run(run: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    shutil.copytree(run, out)
    return out


# ------------------------------------------------------------------------------------------------
# The record and the checksum
# ------------------------------------------------------------------------------------------------
def test_output_folder_records_what_it_was_trained_on(run2, mixture_dir):
    record = json.loads((run2 / C.RECORD).read_text())
    mixture = json.loads((mixture_dir / "mixture.json").read_text())
    assert record["data"]["folder"] == str(mixture_dir.resolve())
    assert record["data"]["mixture_sha256"] == C.file_sha256(mixture_dir / "mixture.json")
    assert record["data"]["tokenizer_sha256"] == C.file_sha256(mixture_dir / mixture["tokenizer"])
    assert record["model"]["name"] == "tiny" and record["model"]["config"]["vocab_size"] == mixture["vocab_size"]
    plan = D.MixturePlan(mixture_dir, 64)
    assert record["plan"]["samples"] == plan.n_samples and record["plan"]["global_batch"] == 4
    assert record["plan"]["steps"] == -(-plan.n_samples // 4) and record["checkpoint"]["step"] == 2
    # The checkpoint carries the same record, and its checksum as the zip comment: any zip reader
    # and torch.load still read it; one previous checkpoint is kept.
    ckpt = C.load(run2 / C.CHECKPOINT)
    assert ckpt["step"] == 2 and ckpt["data"]["mixture_sha256"] == record["data"]["mixture_sha256"]
    with zipfile.ZipFile(run2 / C.CHECKPOINT) as zf:
        assert zf.comment.startswith(C.MAGIC) and zf.testzip() is None
    body = (run2 / C.CHECKPOINT).read_bytes()[:-C.TRAILER]
    import hashlib

    assert zf.comment[len(C.MAGIC):].decode() == hashlib.sha256(body).hexdigest()
    assert torch.load(run2 / C.CHECKPOINT, weights_only=False)["step"] == 2
    assert C.load(run2 / C.PREVIOUS)["step"] == 1
    # Every token file the two steps read was checked against mixture.json, and that is recorded.
    verified = json.loads((run2 / "summary.json").read_text())["shards_verified"]
    assert verified == record["shards_verified"] and 1 <= verified["checked"] <= verified["of"] == len(mixture["sources"])


def largest_member_offset(path: Path) -> tuple[int, int]:
    """(offset of the data of the checkpoint's largest tensor in the file, its size)."""
    with zipfile.ZipFile(path) as zf:
        info = max(zf.infolist(), key=lambda i: i.file_size)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.file_size


def test_corrupt_checkpoint_is_refused_naming_the_previous_one(run2, mixture_dir, tmp_path):
    out = copy_run(run2, tmp_path)
    path = out / C.CHECKPOINT
    start, size = largest_member_offset(path)
    assert size > 3 * 4096
    raw = bytearray(path.read_bytes())
    raw[start + 4096:start + 8192] = b"\xff" * 4096         # 4 KiB of 0xFF inside a tensor
    path.write_bytes(raw)
    # What the issue saw: torch reads it without a word, and the weights are NaN.
    damaged = torch.load(path, weights_only=False)
    assert any(torch.isnan(t).any() for t in damaged["model"].values()) or \
        any(torch.isnan(v).any() for s in damaged["optimizer"]["state"].values() for v in s.values()
            if torch.is_tensor(v) and v.is_floating_point())
    before = snapshot(out)
    with pytest.raises(C.CheckpointError) as e:
        train(mixture_dir, out, "--max_steps", "4", "--resume")
    line = str(e.value)
    assert "\n" not in line and f"{path} is corrupt" in line
    assert f"the previous checkpoint {out / C.PREVIOUS} (step 1) verifies" in line
    assert snapshot(out) == before                            # nothing written
    # eval and export refuse it too, in one line with exit 2.
    line = usage_line(["-m", "train_hooks.eval", f"--checkpoint={out}", "--tasks=x=README.md"],
                      "python -m train_hooks.eval")
    assert "is corrupt" in line and "previous checkpoint" in line
    line = usage_line(["-m", "train_hooks.export", "--ckpt", str(out), "--hf", str(tmp_path / "hf")],
                      "python -m train_hooks.export")
    assert "is corrupt" in line and not (tmp_path / "hf").exists()
    # The previous one, named, is good: copied over, the run resumes from step 1.
    shutil.copyfile(out / C.PREVIOUS, path)
    assert train(mixture_dir, out, "--max_steps", "3", "--resume")["step"] == 3


def test_truncated_checkpoint_and_no_good_previous(run2, mixture_dir, tmp_path):
    out = copy_run(run2, tmp_path)
    for name in (C.CHECKPOINT, C.PREVIOUS):
        raw = (out / name).read_bytes()
        (out / name).write_bytes(raw[:len(raw) // 2])
    with pytest.raises(C.CheckpointError) as e:
        train(mixture_dir, out, "--max_steps", "4", "--resume")
    assert str(e.value) == (f"--resume: {out / C.CHECKPOINT} is truncated, or not written by this trainer (no checksum "
                            "at its end); no good previous checkpoint is kept beside it")
    line = usage_line(["-m", "train_hooks.export", "--ckpt", str(out / C.CHECKPOINT), "--hf", str(tmp_path / "hf")],
                      "python -m train_hooks.export")
    assert "truncated" in line


# ------------------------------------------------------------------------------------------------
# Non-finite loss: stop before anything is written
# ------------------------------------------------------------------------------------------------
def test_non_finite_loss_after_resume_writes_nothing(run2, mixture_dir, tmp_path):
    out = copy_run(run2, tmp_path)
    ckpt = C.load(out / C.CHECKPOINT)
    ckpt["model"]["blocks.0.attn.wq.weight"][0, 0] = float("inf")   # damaged weights, checksum recomputed
    C.save(out / C.CHECKPOINT, ckpt, keep_previous=False)
    before = snapshot(out)
    with pytest.raises(T.Diverged) as e:
        train(mixture_dir, out, "--max_steps", "5", "--resume")
    assert str(e.value).startswith("step 3: the loss is nan (non-finite) on the first step after resuming")
    assert f"{out / C.CHECKPOINT} still holds step 2" in str(e.value) and str(out / C.PREVIOUS) in str(e.value)
    assert snapshot(out) == before          # checkpoint, previous, metrics, summary, record: untouched


def test_huge_learning_rate_stops_at_the_first_non_finite_loss(mixture_dir, tmp_path):
    out = tmp_path / "run"
    train(mixture_dir, out, "--max_steps", "1")              # an earlier run: checkpoint, summary, record, metrics
    (out / "eval.json").write_text("{}")
    before = snapshot(out)
    # A fresh start into it is refused (it would mix two runs in one folder), the folder untouched.
    with pytest.raises(UsageError) as e:
        train(mixture_dir, out, "--max_steps", "8", "--lr", "1e30")
    assert str(e.value) == (f"--out {out} holds a checkpoint of step 1: --resume to continue it, or --overwrite to "
                            "start again (or another --out)")
    assert snapshot(out) == before
    line = usage_line([str(ROOT / "train_hooks" / "train.py"), "--data", str(mixture_dir), "--out", str(out), *FAST],
                      "train_hooks/train.py")
    assert line.endswith(str(e.value)) and snapshot(out) == before
    # --overwrite: the earlier run's files go first, so what the diverged run leaves is its own alone.
    with pytest.raises(T.Diverged) as e:
        train(mixture_dir, out, "--max_steps", "8", "--lr", "1e30", "--overwrite")
    line = str(e.value)
    assert line.startswith("step 3: the loss is nan (non-finite): the run diverged")
    assert (f"nothing was written for it (no checkpoint in {out}; {out / 'metrics.jsonl'} holds steps 1..2)" in line
            and "lower --lr (the peak was 1e+30)" in line)
    rows = [json.loads(r) for r in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all(np.isfinite(r["loss"]) for r in rows)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.jsonl"]      # no old checkpoint to --resume by mistake
    # With a checkpoint every step, the one holding non-finite weights is never written.
    out = tmp_path / "every"
    with pytest.raises(T.Diverged, match=r"after step 2 the weights are not finite .* is as it was\)"):
        train(mixture_dir, out, "--max_steps", "8", "--lr", "1e30", "--ckpt_every", "1")
    assert C.load(out / C.CHECKPOINT)["step"] == 1 and not (out / "summary.json").exists()


# ------------------------------------------------------------------------------------------------
# Token shards against mixture.json's SHA-256
# ------------------------------------------------------------------------------------------------
def test_tampered_shard_is_refused_by_the_trainer_and_the_audit(mixture_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(mixture_dir, data)
    mixture = json.loads((data / "mixture.json").read_text())
    shard = data / mixture["sources"]["commoncrawl"]["shards"][0]["bin"]
    tokens = np.fromfile(shard, dtype="<u2")
    where = np.flatnonzero(tokens > 3)[100:124]              # 24 ordinary tokens, no EOS among them
    tokens[where] = (tokens[where] + 7) % mixture["vocab_size"]
    tokens.tofile(shard)
    with pytest.raises(UsageError) as e:
        train(data, tmp_path / "run", "--max_steps", "2")
    assert str(e.value).startswith(f"--data {data}: step 1: {shard}: its SHA-256 is not the one mixture.json lists")
    advice = f"tokenize again: python -m pipeline.run --output={data} --stages=tokenize,mixture --fresh"
    assert str(e.value).endswith(f"{advice}; nothing was written for this step")
    assert not (tmp_path / "run" / C.CHECKPOINT).exists()
    report = D.audit(data, 64)
    assert not report["ok"] and any(str(shard) in p and "SHA-256" in p for p in report["problems"])
    proc = command(["-m", "train_hooks.data", "--audit", "--data", str(data), "--context", "64"])
    assert proc.returncode == 1 and "its SHA-256 is not the one mixture.json lists" in proc.stdout
    # The untouched folder passes, and says how many files it checked.
    assert D.audit(mixture_dir, 64)["shards_checked"] == 2 * len(mixture["sources"])
    # The advice works: the shard is made again from curated/, the audit passes, training runs.
    redo = advice.split("tokenize again: python ")[1].split()
    proc = command(redo)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert D.audit(data, 64)["ok"] and train(data, tmp_path / "run", "--max_steps", "1")["step"] == 1
    # Without --fresh too: run_state.json recorded what tokenize left, so the changed shard reruns it.
    tokens[where] = (tokens[where] + 7) % mixture["vocab_size"]
    tokens.tofile(shard)
    proc = command(redo[:-1])
    assert proc.returncode == 0 and "tokenize: runs again: its output changed since run_state.json recorded it " \
        f"done: {shard.relative_to(data)} changed (its SHA-256 is not the recorded one)" in proc.stderr, proc.stderr[-3000:]
    assert D.audit(data, 64)["ok"]


# ------------------------------------------------------------------------------------------------
# Eval and export take the data folder from the checkpoint, and refuse another
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wrong_data(mixture_dir, tmp_path_factory):
    """Two folders that are not the one run2 trained on: another mixture.json; another tokenizer."""
    root = tmp_path_factory.mktemp("wrong")
    other_mixture, other_tokenizer = root / "other_mixture", root / "other_tokenizer"
    for folder in (other_mixture, other_tokenizer):
        shutil.copytree(mixture_dir, folder, ignore=shutil.ignore_patterns("curated", "models", "report.html"))
    meta = json.loads((other_mixture / "mixture.json").read_text())
    meta["total_tokens"] += 1
    (other_mixture / "mixture.json").write_text(json.dumps(meta))
    tokenizer = json.loads((other_tokenizer / "mixture.json").read_text())["tokenizer"]
    shutil.copyfile(SHARED / "models" / "llama_tokenizer.model", other_tokenizer / tokenizer)  # 32,000 pieces
    return other_mixture, other_tokenizer


def test_export_and_eval_refuse_another_data_folder(run2, wrong_data, mixture_dir, tmp_path):
    other_mixture, other_tokenizer = wrong_data
    ckpt = run2 / C.CHECKPOINT
    for tool, args in (("export", ["--ckpt", str(run2), "--hf", str(tmp_path / "hf")]),
                       ("eval", [f"--checkpoint={run2}", "--tasks=x=README.md"])):
        line = usage_line(["-m", f"train_hooks.{tool}", *args, "--data", str(other_mixture)],
                          f"python -m train_hooks.{tool}")
        assert f"--data {other_mixture}: its mixture.json is not the one {ckpt} was trained on" in line
        assert str(mixture_dir.resolve()) in line and "leave --data out" in line
        line = usage_line(["-m", f"train_hooks.{tool}", *args, "--data", str(other_tokenizer)],
                          f"python -m train_hooks.{tool}")
        assert f"--data {other_tokenizer}: its tokenizer tokenizer/tokenizer.model is not the one" in line
    assert not (tmp_path / "hf").exists()
    # Without --data: the recorded folder; the export carries the record on.
    hf = X.export(run2, None, tmp_path / "hf")
    record = json.loads((hf / C.RECORD).read_text())
    assert record["data"]["folder"] == str(mixture_dir.resolve()) and record["exported_from"]["step"] == 2
    assert json.loads((hf / "config.json").read_text())["vocab_size"] == record["model"]["config"]["vocab_size"]
    # A checkpoint file in the folder is accepted as well.
    assert X.export(run2 / C.PREVIOUS, None, tmp_path / "hf1")


def test_moved_data_folder_is_named_and_found_by_its_checksums(mixture_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(mixture_dir, data, ignore=shutil.ignore_patterns("curated", "models", "report.html"))
    train(data, tmp_path / "run", "--max_steps", "1")
    data.rename(tmp_path / "moved")
    with pytest.raises(UsageError, match=rf"the data folder {tmp_path / 'run' / C.CHECKPOINT} was trained on, "
                                         rf"{data}, is gone \(no mixture.json\); pass --data"):
        E.load(str(tmp_path / "run"), None, "cpu")
    assert E.load(str(tmp_path / "run"), str(tmp_path / "moved"), "cpu").data_dir == tmp_path / "moved"
    # The recorded folder itself changed: said so, with and without --data (no "--data" that was not given,
    # no "leave --data out" that would lead back to it).
    (tmp_path / "moved").rename(data)
    meta = json.loads((data / "mixture.json").read_text())
    (data / "mixture.json").write_text(json.dumps({**meta, "total_tokens": meta["total_tokens"] + 1}))
    ckpt = tmp_path / "run" / C.CHECKPOINT
    with pytest.raises(UsageError) as e:
        E.load(str(tmp_path / "run"), None, "cpu")
    assert str(e.value).startswith(f"the data folder {ckpt} was trained on, {data}: its mixture.json is not the one "
                                   f"{ckpt} was trained on (SHA-256 ")
    assert str(e.value).endswith("…): it changed since; restore it, or pass --data with a folder that holds the ones "
                                 "it was trained on")
    with pytest.raises(UsageError) as e:
        E.load(str(tmp_path / "run"), str(data), "cpu")
    assert str(e.value).startswith(f"--data {data}: its mixture.json is not the one {ckpt} was trained on")
    assert "the folder changed since; restore it" in str(e.value) and "leave --data out" not in str(e.value)


def test_eval_with_no_other_flag_after_a_default_training(mixture_dir, tmp_path):
    """`train.py --data OUT` with its defaults, then `eval --checkpoint=runs/<OUT>-tiny` and nothing else."""
    proc = command([str(ROOT / "train_hooks" / "train.py"), "--data", str(mixture_dir)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = Path("runs") / f"{mixture_dir.resolve().name}-tiny"
    assert (tmp_path / out / C.CHECKPOINT).exists()
    proc = command(["-m", "train_hooks.eval", f"--checkpoint={out}"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tasks arc_easy, arc_challenge, piqa (the bundled benchmarks" in proc.stdout
    assert "no held-out documents in the mixture" in proc.stdout
    result = json.loads((tmp_path / out / "eval.json").read_text())
    # Every item is scored or counted out (a choice longer than the tiny model's context is not scored).
    assert {k: v["n"] + v["skipped_too_long"] for k, v in result["tasks"].items()} == {
        "arc_easy": 2376, "arc_challenge": 1172, "piqa": 1838}
    assert all(v["n"] > 0.8 * (v["n"] + v["skipped_too_long"]) for v in result["tasks"].values())
    assert result["data"] == str(mixture_dir.resolve()) and "heldout" not in result
    # --heldout on data that holds none out: said, not an empty result.
    line = usage_line(["-m", "train_hooks.eval", f"--checkpoint={out}", "--heldout", "--out=h.json"],
                      "python -m train_hooks.eval", cwd=tmp_path)
    assert "holds no held-out documents" in line and "--recipe=llama-plus" in line
    assert not (tmp_path / "h.json").exists()


@pytest.mark.parametrize("tool, args, expected", [
    ("eval", ["--checkpoint=/nonexistent/run"], "--checkpoint=/nonexistent/run: no such file or folder"),
    ("eval", ["--checkpoint=README.md", "--tasks=arc"], "--tasks: expected NAME=FILE, got 'arc'"),
    ("eval", ["--checkpoint=README.md", "--limit=0"], "--limit 0: must be at least 1"),
    ("eval", ["--checkpoint=README.md", "--dtype=float16"], "argument --dtype: invalid choice: 'float16'"),
    ("eval", [], "the following arguments are required: --checkpoint"),
    ("export", ["--ckpt", "/nonexistent/run", "--hf", "/tmp/x"], "--ckpt /nonexistent/run: no such folder"),
    ("export", ["--ckpt", "train_hooks", "--hf", "/tmp/x"], "--ckpt train_hooks: no checkpoint.pt there"),
    ("export", ["--ckpt", "x"], "the following arguments are required: --hf"),
    ("data", ["--data", "/nonexistent"], "--data /nonexistent: no mixture.json there"),
])
def test_eval_export_data_usage_errors_exit_2(tool, args, expected):
    line = usage_line(["-m", f"train_hooks.{tool}", *args], f"python -m train_hooks.{tool}")
    assert expected in line, line


# ------------------------------------------------------------------------------------------------
# Guidance
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra, expected", [
    (["--max_steps", "0"], "--max_steps 0: must be at least 1 (leave it out to run the whole plan)"),
    (["--context", "100000"], "--context: a step of 256 tokens (--batch_tokens) holds no sequence of --context "
                              "100,000; raise --batch_tokens to at least 100000 or lower --context"),
    (["--context", "100000", "--batch_tokens", "200000"], "--context 100,000: longer than the whole plan"),
    (["--micro_batch", "3"], "--micro_batch 3: does not divide the 4 sequences a rank takes a step "
                             "(--batch_tokens 256 / --context 64 / 1 rank(s)); use one of 1, 2, 4"),
    (["--batch_tokens", "32"], "--batch_tokens: a step of 32 tokens (--batch_tokens) holds no sequence of --context 64"),
    (["--lr", "nan"], "--lr nan: must be a positive number"),
    (["--lr", "0"], "--lr 0.0: must be a positive number"),
    (["--warmup", "-1"], "--warmup -1: must be 0 or more"),
    (["--min_lr_ratio", "2"], "--min_lr_ratio 2.0: must be between 0 and 1"),
    (["--ckpt_every", "-5"], "--ckpt_every -5: must be 0 or more"),
    (["--grad_clip", "0"], "--grad_clip 0.0: must be a positive number"),
    (["--fsdp", "on"], "--fsdp on: shards the model over the ranks torchrun starts, and this is one process; run it "
                       "under torchrun --nproc_per_node N (N ≥ 2), or leave --fsdp out"),
    (["--resume", "--overwrite"], "--resume and --overwrite: choose one"),
    (["--total_steps", "2", "--max_steps", "5"], "--total_steps 2: shorter than this run (5 steps: --max_steps): "
                                                 "steps 3..5 would run at the final rate; raise --total_steps to 5, "
                                                 "or lower --max_steps to 2"),
    (["--total_steps", "2"], "--total_steps 2: shorter than this run ("),
    (["--warmup", "100", "--total_steps", "50", "--max_steps", "3"],
     "--warmup 100: not shorter than the schedule's 50 step(s) (--total_steps, default the plan's): the rate would "
     "never decay from its peak; use at most 49"),
])
def test_bad_flag_is_one_line_naming_it(mixture_dir, tmp_path, extra, expected):
    with pytest.raises(UsageError) as e:
        train(mixture_dir, tmp_path / "run", *extra)
    assert expected in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "run").exists()          # refused before anything was created


@pytest.mark.parametrize("extra, expected", [
    (["--lr", "1e30"], "was made with --lr 0.001, and a resumed run keeps its checkpoint's schedule; leave --lr out "
                       "(or pass 0.001), or start again with --overwrite (or into another --out)"),
    (["--warmup", "5"], "was made with --warmup 1,"),
    (["--total_steps", "9"], "was made with --total_steps "),
    (["--min_lr_ratio", "0.2"], "was made with --min_lr_ratio 0.1,"),
    (["--batch_tokens", "512"], "was made with 4 sequences a step (--batch_tokens 256), this command asks for 8 "
                                "(--batch_tokens 512): its plan position and schedule count steps of 4; rerun with "
                                "--batch_tokens 256, or start again with --overwrite"),
])
def test_resume_refuses_another_schedule_or_batch(run2, mixture_dir, tmp_path, extra, expected):
    """A resumed run continues the checkpoint's schedule and steps: a flag asking otherwise is one
    line, not silently ignored (--lr 1e30 used to train at 1e-3)."""
    out = copy_run(run2, tmp_path)
    before = snapshot(out)
    argv = ["--data", str(mixture_dir), "--out", str(out), *FAST, "--max_steps", "3", "--resume"]
    if "--batch_tokens" in extra:
        argv = argv[:argv.index("--batch_tokens")] + argv[argv.index("--batch_tokens") + 2:]
    with pytest.raises(UsageError) as e:
        T.main(argv + extra)
    assert str(e.value).startswith(f"--resume: {out / C.CHECKPOINT} ") and expected in str(e.value), str(e.value)
    assert snapshot(out) == before


def test_resume_with_the_checkpoints_values_and_stale_temporaries_cleaned(run2, mixture_dir, tmp_path, capsys):
    out = copy_run(run2, tmp_path)
    stale = out / f".{C.CHECKPOINT}.tmp-{'ab' * 16}"          # what a save killed part-way leaves
    stale.write_bytes(b"\0" * 4096)
    summary = train(mixture_dir, out, "--max_steps", "3", "--resume", "--lr", "0.001", "--min_lr_ratio", "0.1")
    assert summary["step"] == 3 and not stale.exists()
    said = capsys.readouterr()
    assert f"note: removed 1 temporary file(s) a killed run left in {out}: {stale.name}" in said.err
    plan = json.loads((out / C.RECORD).read_text())["plan"]
    assert (f"peak lr 0.001, warm-up 1, schedule {plan['schedule']['total']} steps (the checkpoint's); "
            in said.out) and plan["schedule"]["total"] == plan["steps"]


def test_out_inside_data_is_refused(mixture_dir, tmp_path):
    for out in (mixture_dir, mixture_dir / "train" / "tiny"):
        with pytest.raises(UsageError, match=rf"--out {out} is inside --data {mixture_dir}: checkpoints would "
                                             "join the data they train on; choose a folder outside it"):
            train(mixture_dir, out)
    assert not (mixture_dir / "train").exists()
    line = usage_line([str(ROOT / "train_hooks" / "train.py"), "--data", str(mixture_dir), "--out",
                       str(mixture_dir / "runs")], "train_hooks/train.py")
    assert f"--out {mixture_dir / 'runs'} is inside --data {mixture_dir}" in line
    assert not (mixture_dir / "runs").exists()
    # From inside the data folder with no --out: the default is what lands inside; said so, not blamed on --out.
    line = usage_line([str(ROOT / "train_hooks" / "train.py"), "--data", "."], "train_hooks/train.py", cwd=mixture_dir)
    default = Path("runs") / f"{mixture_dir.resolve().name}-tiny"
    assert line == (f"train_hooks/train.py: error: --data .: the default --out, {default} under the current directory, "
                    "is inside it (checkpoints would join the data they train on); run from outside the data folder "
                    "or pass --out with a folder outside it")
    assert not (mixture_dir / "runs").exists()


def test_plan_padding_max_steps_and_estimate_are_said_before_step_1(mixture_dir, tmp_path):
    """The demo's case in small: a plan smaller than one step, and --max_steps beyond it."""
    n = D.MixturePlan(mixture_dir, 64).n_samples
    # One step of B sequences, more than the plan holds and padding > 10% whatever the demo's size.
    B = 100 * (n // 100 + 2)
    proc = command([str(ROOT / "train_hooks" / "train.py"), "--data", str(mixture_dir), "--out", str(tmp_path / "run"),
                    "--model", "tiny", "--device", "cpu", "--batch_tokens", str(B * 64), "--micro_batch", "100",
                    "--max_steps", "30"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (B - n) / B > 0.1
    out = proc.stdout.splitlines()
    plan = next(i for i, line in enumerate(out) if line.startswith("train: plan "))
    estimate = next(i for i, line in enumerate(out) if line.startswith("train: estimate: "))
    first = next(i for i, line in enumerate(out) if line.startswith("step 1/1 "))
    assert plan < estimate < first
    assert f"= 1 steps; this run: steps 1..1 = {B} sequences, {B - n} of them padding ({(B - n) / B:.0%})" in out[plan]
    assert f"({B // 100} a step): about " in out[estimate] and "for this run's 1 step(s)" in out[estimate]
    err = proc.stderr
    assert ("warning: --max_steps 30 is beyond the plan's 1 step(s): the run ends with the plan, at step 1; "
            "for more steps plan more tokens (pipeline.run --target_tokens) or take fewer tokens a step "
            "(--batch_tokens)") in err
    fit = T.suggested_batch(n, 1)
    assert (f"warning: {B - n} of the {B} sequences this run computes are padding ({(B - n) / B:.0%} > 10%): "
            f"the plan's {n} samples do not fill its steps of {B}; --batch_tokens {fit * 64} ({fit} sequences) "
            f"would run {-(-n // fit)} steps with less than a tenth padding") in err
    # The suggestion keeps its promise.
    assert T.plan_padding(D.MixturePlan(mixture_dir, 64), fit, 0, -(-n // fit))[0] < 0.1 * fit * -(-n // fit)


def test_fsdp_shards_are_checked_before_resuming(mixture_dir, tmp_path):
    """Sharded (FSDP2, two CPU ranks under torchrun): checkpoint.pt records every shard file's SHA-256."""
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                str(ROOT / "train_hooks" / "train.py"), "--data", str(mixture_dir), "--out", str(tmp_path / "run"),
                "--fsdp", "on", *FAST[:4], "--batch_tokens", str(4 * 64), "--max_steps"]
    proc = subprocess.run([*torchrun, "1"], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = C.load(tmp_path / "run" / C.CHECKPOINT)
    shards = tmp_path / "run" / T.FSDP_CHECKPOINT
    assert "model" not in meta and meta["fsdp_files"] == C.folder_digests(shards) and len(meta["fsdp_files"]) >= 2
    victim = next(p for p in sorted(shards.iterdir()) if p.suffix == ".distcp")
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(raw)
    proc = subprocess.run([*torchrun, "2", "--resume"], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert (f"train_hooks/train.py: error: --resume: {shards} does not match the checksums "
            f"{tmp_path / 'run' / C.CHECKPOINT} recorded") in proc.stderr
    assert C.load(tmp_path / "run" / C.CHECKPOINT)["step"] == 1
