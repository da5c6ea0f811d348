"""OUT/run_state.json and atomic outputs (issue 13): later stages refuse to mix runs, a subset run
into a folder holding other sources refuses in one line, stale temporary files are removed."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from common import atomic
from pipeline import run_state
from tests.conftest import run_pipeline


def _curated(out, *sources):
    for s in sources:
        d = out / "curated" / s
        d.mkdir(parents=True)
        (d / "part-00000-of-00001.parquet").write_bytes(b"PAR1")


def _done_through_tokenizer(out, stages, keys):
    """A folder whose run finished curate (books) and the tokenizer, with these stage keys."""
    _curated(out, "books")
    (out / "stats.json").write_text(json.dumps({"sources": {"books": {}}}))
    run_state.begin(str(out), stages, ["books"], keys)
    run_state.finish(str(out), "curate")
    (out / "tokenizer").mkdir()
    (out / "tokenizer" / "tokenizer.model").write_bytes(b"x")
    run_state.finish(str(out), "tokenizer")


def test_subset_run_into_a_full_folder_refuses(tmp_path):
    _curated(tmp_path, "arxiv", "books", "c4")
    with pytest.raises(run_state.RunStateError) as e:
        run_state.begin(str(tmp_path), ["curate", "tokenizer"], ["c4"])
    msg = str(e.value)
    assert "\n" not in msg and "arxiv, books" in msg and "--sources=arxiv,books,c4" in msg and "--output" in msg
    state = run_state.begin(str(tmp_path), ["curate"], ["arxiv", "books", "c4", "github"])  # a superset is fine
    assert state == {"state": "running", "sources": ["arxiv", "books", "c4", "github"], "stages": ["curate"], "done": []}


def test_later_stage_refuses_after_a_killed_curate(tmp_path):
    _curated(tmp_path, "books")
    (tmp_path / "mixture.json").write_text("{}")
    (tmp_path / "tokens").mkdir()
    run_state.begin(str(tmp_path), ["curate", "tokenizer", "tokenize", "mixture"], ["books"])
    # the old run's downstream outputs are gone the moment the folder is marked running
    assert not (tmp_path / "mixture.json").exists() and not (tmp_path / "tokens").exists()
    # killed here: nothing finished; a later command for the tokenizer must not train on half a curate
    with pytest.raises(run_state.RunStateError, match="no finished 'curate'"):
        run_state.begin(str(tmp_path), ["tokenizer", "tokenize", "mixture"], None)
    run_state.finish(str(tmp_path), "curate")
    run_state.begin(str(tmp_path), ["tokenizer"], None)
    with pytest.raises(run_state.RunStateError, match="needs a finished 'tokenizer'"):
        run_state.require(str(tmp_path), "tokenize")
    assert run_state.finish(str(tmp_path), "tokenizer")["state"] == "running"  # until the command ends
    assert run_state.complete(str(tmp_path))["state"] == "complete"
    assert run_state.read(str(tmp_path))["done"] == ["curate", "tokenizer"]
    # retraining the tokenizer invalidates the tokens and mixture made with the old one
    run_state.finish(str(tmp_path), "tokenize")
    state = run_state.begin(str(tmp_path), ["tokenizer"], None)
    assert state["done"] == ["curate"]


def test_stale_temporary_files_are_removed_and_real_ones_kept(tmp_path):
    keep = ["curated/books/part-00000-of-00001.parquet", "tokens/books/part-00000-of-00001.bin", "stats.json",
            "tokenizer/tokenizer.model"]
    stale = ["curated/books/.part-00000-of-00001.parquet.tmp", "tokens/books/part-00000-of-00001.bin.tmp-" + "ab" * 16,
             ".stats.json.tmp-" + "cd" * 16, "tokens/beam-temp-quarantine.jsonl-0123/x"]
    for rel in keep + stale:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    removed = atomic.clean_stale(str(tmp_path))
    assert len(removed) == 4
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == sorted(keep)


def test_atomic_write_never_leaves_a_partial_file(tmp_path):
    target = tmp_path / "stats.json"
    atomic.write_text(str(target), "old\n")

    with pytest.raises(TypeError):
        atomic.write_bytes(str(target), object())  # the write fails midway
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["stats.json"]


def test_cli_refusal_is_one_line(tmp_path):
    _curated(tmp_path, "arxiv")
    proc = run_pipeline(f"--output={tmp_path}", "--sources=books", check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert "error: --sources=books:" in last and "arxiv" in last and "Traceback" not in proc.stderr


def test_atomic_writing_leaves_nothing_on_error_and_needs_no_beam(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "sub" / "ckpt.bin"
    with atomic.writing(target) as f:
        f.write(b"first")
    try:
        with atomic.writing(target) as f:
            f.write(b"half")
            raise RuntimeError("killed mid-write")
    except RuntimeError:
        pass
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["ckpt.bin"]
    atomic.copy_file(target, tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == b"first"
    # The trainer's layer writes through common.atomic without Beam: importing it loads no Beam module.
    code = ("import sys; from common import atomic; atomic.write_text(sys.argv[1], 'x'); "
            "assert not any(m.startswith('apache_beam') for m in sys.modules), 'beam imported'")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.txt")], check=True,
                   cwd=str(Path(__file__).resolve().parents[1]))
    assert (tmp_path / "x.txt").read_text() == "x"


def test_a_rerun_skips_only_stages_done_from_the_same_inputs_recipe_and_code(tmp_path):
    """`resumable`: the finished first stages whose keys (inputs with sizes and times, recipe, code,
    the stage before) are unchanged and whose outputs are there; any change reruns that stage and
    every later one."""
    inputs = {"books": [{"path": "/data/pg1.txt", "bytes": 100, "mtime": 1.0}]}
    common = {"recipe": "r1", "code": "c1", "packages": {"pyarrow": "25.0.1"}}
    facts = {"curate": {**common, "inputs": inputs}, "tokenizer": common, "tokenize": common,
             "mixture": {**common, "target_tokens": None}}
    stages = list(run_state.ORDER)
    keys = run_state.stage_keys(stages, facts, None)
    _done_through_tokenizer(tmp_path, stages, keys)  # killed during tokenize
    assert run_state.resumable(str(tmp_path), stages, ["books"], keys) == ["curate", "tokenizer"]

    def changed(stage, **new):
        return run_state.stage_keys(stages, {**facts, stage: {**facts[stage], **new}}, None)

    touched = {"books": [{**inputs["books"][0], "mtime": 2.0}]}
    assert run_state.resumable(str(tmp_path), stages, ["books"], changed("curate", inputs=touched)) == []
    assert run_state.resumable(str(tmp_path), stages, ["books"], changed("curate", recipe="r2")) == []
    # the tokenizer's recipe section changed: curation stands, the tokenizer is trained again
    other = run_state.stage_keys(stages, {**facts, "tokenizer": {**common, "recipe": "r2"}}, None)
    assert other["curate"] == keys["curate"] and other["tokenizer"] != keys["tokenizer"]
    assert run_state.resumable(str(tmp_path), stages, ["books"], other) == ["curate"]
    # a later command for the tokenizer alone chains to the folder's curate key
    assert run_state.stage_keys(["tokenizer", "tokenize"], facts, run_state.read(str(tmp_path)))["tokenizer"] == keys["tokenizer"]
    # outputs gone (removed by hand): run again
    (tmp_path / "tokenizer" / "tokenizer.model").unlink()
    assert run_state.resumable(str(tmp_path), stages, ["books"], keys) == ["curate"]
    assert run_state.resumable(str(tmp_path), stages, ["books", "arxiv"], keys) == []  # another source set


def test_a_changed_wikipedia_dump_that_trains_the_reference_lm_reruns_curation(tmp_path):
    """The dump is no input of a CommonCrawl-only run, but it trains the model that scores its pages:
    its size and time are in the curate key (pipeline/run.py `stage_facts`)."""
    import shutil

    from tests.conftest import SHARED
    from tests.quality_fixtures import ENWIKI

    dump = tmp_path / "enwiki-x-pages-articles.xml.bz2"
    shutil.copyfile(ENWIKI, dump)
    args = (f"--output={tmp_path / 'out'}", "--stages=curate", "--sources=commoncrawl",
            f"--commoncrawl_input={SHARED / 'commoncrawl' / 'dolma-sample-0001.warc.gz'}", f"--wikipedia_input={dump}")
    run_pipeline(*args)
    again = run_pipeline(*args)
    assert "curate: skipped: run_state.json records it done" in again.stderr
    os.utime(dump, (1_000_000_000, 1_000_000_000))  # the dump replaced (same bytes here: its time changed)
    third = run_pipeline(*args)
    assert "curate: skipped" not in third.stderr
    assert json.loads((tmp_path / "out" / "run.json").read_text())["skipped"] == []


def test_a_stage_whose_outputs_changed_since_it_finished_runs_again(tmp_path):
    """`finish` records each output's size and time (SHA-256 for small ones; token shards have
    mixture.json's): a changed token shard reruns tokenize and mixture even with the same keys; a
    copied folder (new times, same bytes) still skips; an added or removed file reruns."""
    import shutil

    facts = {s: {"recipe": "r1"} for s in run_state.ORDER}
    stages = list(run_state.ORDER)
    keys = run_state.stage_keys(stages, facts, None)
    out = tmp_path / "out"
    _done_through_tokenizer(out, stages, keys)
    shard = out / "tokens" / "books" / "part-00000-of-00001.bin"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(bytes(range(200)))
    run_state.finish(str(out), "tokenize")
    import hashlib
    (out / "mixture.json").write_text(json.dumps({"sources": {"books": {"shards": [
        {"bin": "tokens/books/part-00000-of-00001.bin", "sha256_bin": hashlib.sha256(bytes(range(200))).hexdigest()}]}}}))
    run_state.finish(str(out), "mixture")
    state = run_state.read(str(out))
    assert set(state["outputs"]) == {"curate", "tokenizer", "tokenize", "mixture"}
    assert state["outputs"]["tokenize"]["tokens/books/part-00000-of-00001.bin"]["bytes"] == 200
    assert "sha256" in state["outputs"]["tokenizer"]["tokenizer/tokenizer.model"]
    assert run_state.resumable(str(out), stages, ["books"], keys) == stages

    copy = tmp_path / "copy"          # new times, same bytes: nothing to redo
    shutil.copytree(out, copy, copy_function=shutil.copyfile)
    assert os.stat(copy / "tokenizer" / "tokenizer.model").st_mtime != os.stat(out / "tokenizer" / "tokenizer.model").st_mtime
    assert run_state.resumable(str(copy), stages, ["books"], keys) == stages

    tampered = bytearray(shard.read_bytes())      # the same size, other bytes, another time
    tampered[10] ^= 0xFF
    shard.write_bytes(bytes(tampered))
    os.utime(shard, (1_000_000_000, 1_000_000_000))
    assert run_state.resumable(str(out), stages, ["books"], keys) == ["curate", "tokenizer"]
    shard.write_bytes(bytes(range(200)))          # restored (another time, the recorded bytes)
    assert run_state.resumable(str(out), stages, ["books"], keys) == stages
    (out / "tokens" / "books" / "extra.bin").write_bytes(b"x")
    assert run_state.resumable(str(out), stages, ["books"], keys) == ["curate", "tokenizer"]
    (out / "tokens" / "books" / "extra.bin").unlink()
    (out / "tokenizer" / "tokenizer.model").write_bytes(b"retrained")
    assert run_state.resumable(str(out), stages, ["books"], keys) == ["curate"]
    (out / "tokenizer" / "tokenizer.model").write_bytes(b"x")
    # a curated shard removed or rewritten by hand: curation runs again, and every stage after it
    parquet = out / "curated" / "books" / "part-00000-of-00001.parquet"
    parquet.unlink()
    assert run_state.resumable(str(out), stages, ["books"], keys) == []
    parquet.write_bytes(b"PAR2")
    os.utime(parquet, (1_000_000_000, 1_000_000_000))
    assert run_state.resumable(str(out), stages, ["books"], keys) == []
    parquet.write_bytes(b"PAR1")
    assert run_state.resumable(str(out), stages, ["books"], keys) == stages
    (out / "tokenizer" / "tokenizer.model").write_bytes(b"retrained")
    # a new command from the tokenizer on keeps the record of the stage before it
    state = run_state.begin(str(out), ["tokenizer", "tokenize", "mixture"], None, keys)
    assert state["done"] == ["curate"] and set(state["outputs"]) == {"curate"}  # the later stages' records dropped
