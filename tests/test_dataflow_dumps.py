"""Per-dump incremental CommonCrawl runs (`--commoncrawl_dump`): two dumps, the second added later,
give the same bytes as curating both per dump in one run; the earlier dump is not reprocessed."""
import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from pipeline import dumps
from tests.conftest import ROOT, run_pipeline
from tests.quality_fixtures import ENWIKI

A, B = "CC-MAIN-2023-06", "CC-MAIN-2023-14"


def _files(out):
    # run.json, report.html's header and run_state.json's stage keys record the commands that made the
    # folder (one run of both dumps, or two runs of one each): by design not the same.
    return {str(p.relative_to(out)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file() and p.name not in ("run.json", "report.html", "run_state.json")}


@pytest.fixture(scope="module")
def dump_runs(tmp_path_factory):
    """(incremental OUT, files after its first run, files after its second, both-at-once OUT)."""
    tmp = tmp_path_factory.mktemp("dumps")
    wet = sorted((ROOT / "samples" / "commoncrawl").glob("*.warc.wet.gz"))
    for name, path in ((A, wet[0]), (B, wet[1])):
        (tmp / name).mkdir()
        shutil.copy(path, tmp / name / path.name)
    arg = {d: f"--commoncrawl_dump={d}={tmp / d}/*.warc.wet.gz" for d in (A, B)}
    # The dumps are the user's pages: their reference LM is trained from a Wikipedia dump given with them.
    wiki = f"--wikipedia_input={ENWIKI}"
    later, once = tmp / "later", tmp / "once"
    run_pipeline(f"--output={later}", "--sources=commoncrawl", arg[A], wiki)
    first = _files(later)
    run_pipeline(f"--output={later}", "--sources=commoncrawl", arg[B], wiki)
    second = _files(later)
    run_pipeline(f"--output={once}", "--sources=commoncrawl", arg[A], arg[B], wiki)
    return later, first, second, once


def test_dump_added_later_is_byte_identical_to_both_at_once(dump_runs):
    later, _, second, once = dump_runs
    digests = {k: v[0] for k, v in second.items()}
    assert digests == {k: v[0] for k, v in _files(once).items()}
    for d in (A, B):
        assert f"curated/commoncrawl/{d}/part-00000-of-00001.parquet" in digests
        assert f"tokens/commoncrawl/{d}/part-00000-of-00001.bin" in digests


def test_second_run_processes_only_the_new_dump(dump_runs):
    _, first, second, _ = dump_runs
    for path, (digest, mtime) in first.items():
        # The first dump's curated shards and its quality models were not rewritten; the tokenizer
        # is retrained on both dumps, so token shards and the mixture are redone.
        if path.startswith((f"curated/commoncrawl/{A}/", f"models/commoncrawl/{A}/")):
            assert second[path] == (digest, mtime), path
    assert not any(p.startswith(f"curated/commoncrawl/{B}") for p in first)


def test_stats_keep_one_entry_per_dump_and_mixture_covers_both(dump_runs):
    later, first, _, once = dump_runs
    stats = json.loads((later / "stats.json").read_text())
    assert sorted(stats["sources"]) == [dumps.source_name(A), dumps.source_name(B)] and stats["conserved"]
    for d in (A, B):
        s = stats["sources"][dumps.source_name(d)]
        assert s["docs_in"] == s["docs_out"] + sum(s["dropped"].values()) and s["docs_out"] > 0
    mixture = json.loads((later / "mixture.json").read_text())
    assert sorted(mixture["sources"]) == ["commoncrawl"]
    bins = json.dumps(mixture["sources"]["commoncrawl"])
    assert f"tokens/commoncrawl/{A}/" in bins and f"tokens/commoncrawl/{B}/" in bins
    verify = subprocess.run([sys.executable, "-m", "tokenizer.verify", "--data", str(later)], cwd=ROOT,
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_stats_say_per_dump_whether_its_quality_models_were_applied(dump_runs):
    # Each dump's models are its own (models/commoncrawl/<dump>/); the first dump's notes stay when
    # the second is added.
    later, _, _, _ = dump_runs
    notes = json.loads((later / "stats.json").read_text())["models"]["dumps"]
    assert sorted(notes) == [dumps.source_name(A), dumps.source_name(B)]
    for d in (A, B):
        lm = notes[dumps.source_name(d)]["reference_lm"]["en"]
        wikiref = notes[dumps.source_name(d)]["wikiref_training"]
        # The LM trained from the given dump's openings; no page of the samples is cited: not applied, and why.
        assert lm["applied"] is True and lm["source"] == "trained" and lm["documents"] > 100
        assert wikiref["applied"] is False and wikiref["reason"].startswith("not applied")
    stats = json.loads((later / "stats.json").read_text())
    assert stats["recipe_complete"] is False
    assert [(s["source"], s["step"], s["by"]) for s in stats["incomplete"]] == [
        (dumps.source_name(d), "quality.wikiref", "run") for d in (A, B)]


def test_bad_dump_name_is_one_line_naming_the_option(tmp_path):
    proc = run_pipeline(f"--output={tmp_path}", "--sources=commoncrawl", "--commoncrawl_dump=2023-06", check=False)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()  # one line, no traceback (common.cli)
    assert "--commoncrawl_dump=2023-06: a dump is named CC-MAIN-YYYY-WW" in line, proc.stderr[-2000:]


def test_dump_names_and_default_listing():
    assert dumps.parse([f"{B}", f"{A}=gs://b/a/*.wet.gz,gs://b/a2/*.wet.gz"], "https://data.commoncrawl.org/") == [
        (A, ["gs://b/a/*.wet.gz", "gs://b/a2/*.wet.gz"]),
        (B, [f"https://data.commoncrawl.org/crawl-data/{B}/wet.paths.gz"])]
    with pytest.raises(dumps.DumpError):
        dumps.parse([A, A], "")
