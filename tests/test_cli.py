"""A user's mistakes: one line on stderr naming the option and the fix, exit code 2, no traceback
(--debug shows it); Ctrl-C stops within seconds. Each case runs the real command in a subprocess."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from pipeline import recipe

from tests.conftest import ROOT

PIPELINE = [sys.executable, "-m", "pipeline.run", "--runner=DirectRunner"]
TRAIN = [sys.executable, "train_hooks/train.py"]


def usage_error(cmd, *args, timeout=600) -> str:
    proc = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-4000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].split(": error: ", 1)[0] in ("pipeline.run", "train_hooks/train.py"), lines[-3:]
    return lines[-1]


@pytest.mark.parametrize("args, expected", [
    (["--set", "foo.bar=1"], ["--set foo.bar", "unknown key 'foo'", "commoncrawl"]),
    (["--set", "commoncrawl.min_char=1"], ["--set commoncrawl.min_char", "did you mean commoncrawl.min_chars?"]),
    (["--set", "c4.min_chrs=1"], ["--set c4.min_chrs", "unknown key 'min_chrs' in c4; c4 has: "
                                  + ", ".join(sorted(k for k in recipe.load()["c4"] if not k.startswith("_")))]),
    (["--set", "commoncrawl.min_chars=abc"], ["--set commoncrawl.min_chars=abc", "expected an integer"]),
    (["--recipe=/nonexistent"], ["--recipe=/nonexistent", "bundled recipes: llama"]),
    (["--c4-input=/data/c4/*.json.gz"], ["--c4-input=/data/c4/*.json.gz: unknown option",
                                         "did you mean --c4_input=/data/c4/*.json.gz?"]),
    (["--ouput=/tmp/x"], ["--ouput=/tmp/x: unknown option", "did you mean --output=/tmp/x?"]),
    (["--sources="], ["--sources is empty", "commoncrawl,c4"]),
    (["--sources=c4,wikipdia"], ["--sources: unknown source 'wikipdia'", "did you mean wikipedia?"]),
    (["--stages=curate,tokenise"], ["--stages: unknown stage 'tokenise'", "did you mean tokenize?"]),
    (["--target_tokens=lots"], ["--target_tokens: 'lots' is not a positive number of tokens", "1.4T, 10M"]),
    (["--target_tokens=10Q"], ["'10Q' is not a positive number of tokens", "(k, M, B or G, T"]),
    # issue 25: each mistake a newcomer made, one line naming the fix
    (["--runner=DirectRuner"], ["--runner=DirectRuner: unknown runner; did you mean --runner=DirectRunner?"]),
    (["--stages=mixture,curate"], ["--stages=mixture,curate: stages run in the order curate,tokenizer,tokenize,mixture",
                                   "give --stages=curate,tokenizer,tokenize,mixture"]),
    (["--stages=curate,mixture"], ["--stages=curate,mixture: tokenizer,tokenize missing between them",
                                   "give --stages=curate,tokenizer,tokenize,mixture"]),
    (["--stages=curate,curate"], ["curate given twice", "--stages=curate"]),
    (["--sources", "commoncrawl", "c4"], ["--sources commoncrawl c4: a list is one value with commas, no spaces: "
                                          "--sources=commoncrawl,c4"]),
    (["--stages", "curate", "tokenizer"], ["--stages=curate,tokenizer"]),
    (["--c4_input", "/data/a.json.gz", "/data/b.json.gz"],
     ["2 values after one --c4_input (a glob the shell expanded?)", "--c4_input=/data/a.json.gz,/data/b.json.gz"]),
    (["--set", "commoncrawl.language.threshold=1.5"],
     ["--set commoncrawl.language.threshold=1.5: commoncrawl.language.threshold must be a number in [0, 1] "
      "(the recipe has 0.5)"]),
    (["--set", "commoncrawl.min_chars=-5"], ["--set commoncrawl.min_chars=-5: commoncrawl.min_chars must be an integer >= 0"]),
    (["--set", "commoncrawl.line_dedup.scope=shard"], ["must be one of global, groups"]),
    (["--sources=c4", "--c4_input=/nonexistent/dir/*.json.gz"],
     ["--c4_input=/nonexistent/dir/*.json.gz: matches no file", "quote a glob"]),
])
def test_command_line_mistake_is_one_line_and_exit_2(args, expected):
    line = usage_error(PIPELINE, *args)
    for part in expected:
        assert part in line, line


def test_later_stage_on_an_empty_folder(tmp_path):
    line = usage_error(PIPELINE, "--stages=tokenize", f"--output={tmp_path}")
    assert "--stages=tokenize" in line and "no curated Parquet" in line and "--stages=curate,tokenizer,tokenize" in line
    line = usage_error(PIPELINE, "--stages=mixture", f"--output={tmp_path}")
    assert "--stages=mixture" in line and "tokenizer" in line


def test_target_tokens_takes_suffixes():
    from pipeline.options import token_count

    assert [token_count(v) for v in ("10M", "1.4T", "500k", "2B", "3G", "1_000", "1400000000000")] == [
        10 ** 7, 14 * 10 ** 11, 500_000, 2 * 10 ** 9, 3 * 10 ** 9, 1000, 14 * 10 ** 11]
    for bad in ("0", "-5", "1.5", "lots", "10Q"):
        with pytest.raises(Exception, match="positive number of tokens"):
            token_count(bad)


def test_report_or_inspect_pointed_inside_a_run(default_run_out):
    for module in ("pipeline.report", "pipeline.inspect"):
        proc = subprocess.run([sys.executable, "-m", module, str(default_run_out / "curated")], cwd=ROOT,
                              capture_output=True, text=True)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == (
            f"{module}: error: {default_run_out / 'curated'} is inside a run's output; point at the output folder: "
            f"python -m {module} {default_run_out}")


def test_a_path_inside_a_run_is_answered_with_the_absolute_output_folder(tmp_path, monkeypatch):
    from pipeline.report import not_a_run

    out = tmp_path / "out"
    (out / "curated" / "c4").mkdir(parents=True)
    (out / "stats.json").write_text("{}")
    monkeypatch.chdir(ROOT)  # the suggestion must not depend on where the command runs
    assert not_a_run(str(out / "curated" / "c4"), "python -m pipeline.report") == (
        f"{out / 'curated' / 'c4'} is inside a run's output; point at the output folder: python -m pipeline.report {out}")


def test_tokenize_without_a_tokenizer_says_so_plainly(tmp_path):
    from common.cli import UsageError
    from pipeline import preflight

    (tmp_path / "curated" / "c4").mkdir(parents=True)
    (tmp_path / "curated" / "c4" / "part-00000-of-00001.parquet").write_bytes(b"")
    with pytest.raises(UsageError) as e:
        preflight.require(str(tmp_path), "tokenize", ["tokenize"])
    assert str(e.value) == (f"--stages=tokenize: --output={tmp_path} holds no tokenizer (tokenizer/tokenizer.model); "
                            "run --stages=tokenizer,tokenize")


CONSOLE = [sys.executable, "-c", "import sys; from pipeline.console import main; sys.exit(main())"]


def test_console_command_runs_each_module(default_run_out, tmp_path):
    """`llamadata COMMAND` (pyproject [project.scripts] → pipeline.console:main, called as the
    installed script calls it) runs the module as `python -m` does."""
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"llamadata": "pipeline.console:main"}
    proc = subprocess.run(CONSOLE, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0
    for name in ("run", "report", "inspect", "train", "eval", "export", "ablate"):
        assert f"\n  {name} " in proc.stdout, name
    proc = subprocess.run([*CONSOLE, "reprot"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip() == "llamadata: error: unknown command 'reprot'; did you mean llamadata report?"
    proc = subprocess.run([*CONSOLE, "run", "--stages=mixture,curate"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "give --stages=curate,tokenizer,tokenize,mixture" in proc.stderr
    out = tmp_path / "out"
    shutil.copytree(default_run_out, out, ignore=shutil.ignore_patterns("tokens", "models", "report.html"))
    proc = subprocess.run([*CONSOLE, "report", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == str(out / "report.html")
    proc = subprocess.run([*CONSOLE, "data", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "--audit" in proc.stdout
    import importlib.util

    proc = subprocess.run([*CONSOLE, "ablate", "--help"], cwd=ROOT, capture_output=True, text=True)
    if importlib.util.find_spec("train_hooks.ablate") is None:  # the forwarding name before its module exists
        assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
            "llamadata: error: llamadata ablate runs python -m train_hooks.ablate, which this checkout does not have "
            "yet; update the checkout (then rerun set-up) to get it"]
    else:
        assert proc.returncode == 0, proc.stderr


def test_debug_shows_the_traceback():
    proc = subprocess.run([*PIPELINE, "--set", "foo.bar=1", "--debug"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" in proc.stderr and "UsageError" in proc.stderr


def test_a_source_curated_to_zero_documents(tmp_path):
    # Every book is shorter than the minimum: curation runs and counts them, then the tokenizer stage
    # has nothing to train on; that is said in one line with the counts, not a FileNotFoundError.
    line = usage_error(PIPELINE, "--sources=books", "--set", "books.min_chars=100000000", f"--output={tmp_path}")
    assert "no document survived curation" in line and "books 4 in, 0 out" in line and "too_short" in line
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["status"].startswith("failed: UsageError") and run["stats"]["sources"]["books"]["docs_out"] == 0


def test_ctrl_c_stops_within_seconds_and_says_how_to_finish(tmp_path):
    proc = subprocess.Popen([*PIPELINE, f"--output={tmp_path}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    seen = ""
    while "  stages " not in seen and time.monotonic() < deadline:  # the banner: the run has started
        seen += proc.stderr.readline()
    time.sleep(3)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("still running 30 s after Ctrl-C")
    assert time.monotonic() - t0 < 15
    assert proc.returncode == 130, err[-3000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == "interrupted; rerun the same command to finish"
    assert "Traceback" not in err
    assert json.loads((tmp_path / "run.json").read_text())["status"] == "interrupted"
    # Nothing half-written under a final name: every Parquet shard there reads whole.
    import pyarrow.parquet as pq
    for path in tmp_path.glob("curated/*/*.parquet"):
        pq.read_table(path)


@pytest.mark.skipif(torch.cuda.is_available() or torch.version.cuda is not None,
                    reason="the CPU build of torch is what this checks")
def test_trainer_cuda_on_a_cpu_build(mixture_dir, tmp_path):
    line = usage_error(TRAIN, "--data", str(mixture_dir), "--device", "cuda", "--out", str(tmp_path))
    assert "--device cuda" in line and "CPU build" in line and "download.pytorch.org/whl/cu" in line
    assert "--device cpu" in line


def test_trainer_resume_with_another_model(mixture_dir, tmp_path):
    subprocess.run([*TRAIN, "--data", str(mixture_dir), "--out", str(tmp_path), "--device", "cpu",
                    "--model", "tiny", "--max_steps", "1"], cwd=ROOT, check=True, capture_output=True)
    line = usage_error(TRAIN, "--data", str(mixture_dir), "--out", str(tmp_path), "--device", "cpu",
                       "--model", "small", "--resume")
    assert "--resume" in line and "--model tiny" in line and "another --out" in line


def test_trainer_without_a_mixture(tmp_path):
    line = usage_error(TRAIN, "--data", str(tmp_path), "--device", "cpu")
    assert f"--data {tmp_path}: no mixture.json" in line and "pipeline.run --output=" in line
    line = usage_error(TRAIN, "--data", str(tmp_path), "--model", "huge")
    assert "--model" in line and "invalid choice" in line


def test_trainer_ctrl_c(mixture_dir, tmp_path):
    proc = subprocess.Popen([*TRAIN, "--data", str(mixture_dir), "--out", str(tmp_path), "--device", "cpu",
                             "--model", "tiny", "--log_every", "1"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    line = ""
    while not line.startswith("step ") and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
    assert proc.poll() is None, "training ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("still running 30 s after Ctrl-C")
    assert proc.returncode == 130 and "Traceback" not in err, err[-3000:]
    assert err.strip().splitlines()[-1].startswith("interrupted; rerun the same command with --resume")
