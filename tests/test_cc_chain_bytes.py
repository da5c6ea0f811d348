"""The CommonCrawl chain's curated output, byte for byte, on a fixed input: the SHA-256 of every
curated shard, and the accounts in stats.json, as the chain wrote them before issue 27 made it
cheaper (commit beb3e24). Speed-ups must not move a byte; an intended change of the output updates
these hashes in the same commit and says why.

Input: the 264 real pages of tests/real_pages.py as one WET file (every visible line, as Common
Crawl's extractor writes it; English, German, a few other languages; navigation and bullets).
Every setting the output depends on is pinned here, so that a change of the llama recipe's
defaults does not read as a change of the code: the reference LM trained in the run from the real
enwiki sample, cutoffs at this run's 30th/60th percentiles, the classifier trained from a file of
real prose with the settings below, line dedup over the whole run, decontamination off.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.quality_fixtures import ENWIKI, web_prose
from tests.real_pages import real_pages, write_wet

PINNED = [
    "commoncrawl.min_chars=300", "commoncrawl.line_dedup.scope=\"global\"", "commoncrawl.language.threshold=0.5",
    "commoncrawl.quality=true", "quality.lm.sp_model=\"auto\"", "quality.lm.kenlm_model=\"auto\"",
    "quality.perplexity.mode=\"document\"", "quality.perplexity.cutoffs.mode=\"computed\"",
    "quality.perplexity.cutoffs.head_percentile=30", "quality.perplexity.cutoffs.middle_percentile=60",
    "quality.wikiref.enabled=true", "quality.wikiref.model=null", "quality.wikiref.min_positives=20",
    "quality.wikiref.min_auc=0", "quality.wikiref.threshold=0.25", "quality.wikiref.folds=2",
    "quality.wikiref.max_chars=20000", "quality.wikiref.settings=\"tutorial\"",
    "quality.wikiref.positive_min_chars=0", "decontamination.mode=\"off\"",
]

# Written by the chain on this input and these settings without issue 27's optimisations (d1e060c
# with 1eef154 and 3789839 reverted) and with them: the same bytes. (At beb3e24 the shard was
# 04977e88…: issues 21-25 since changed what a shard holds, the accounts stayed the same.)
EXPECTED_SHARDS = {
    "part-00000-of-00001.parquet": "578f247b5925455916303d347bef7b216e50b2e15e378c00454a29d3eca15807",
}
EXPECTED_ACCOUNTS = {"bytes_in": 2893644, "bytes_out": 997040, "docs_in": 264, "docs_out": 96,
                     "dropped": {"language_low_score": 2, "language_not_kept": 97, "line_dedup_empty": 3,
                                 "perplexity_tail": 65, "too_short": 1}}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def chain_out(tmp_path_factory):
    d = tmp_path_factory.mktemp("chain_bytes")
    write_wet(real_pages(), d / "real.warc.wet.gz")
    cited = d / "cited.jsonl"
    cited.write_text("".join(json.dumps({"text": t}) + "\n" for t in web_prose()), encoding="utf-8")
    out = d / "out"
    # Run from the input's folder with the cited-texts file named relatively: the classifier's
    # training order derives from that file's name as given, which must not vary with tmp paths.
    sets = [a for s in PINNED + ["quality.wikiref.cited_texts=\"cited.jsonl\""] for a in ("--set", s)]
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.run", "--runner=DirectRunner", f"--output={out}", "--stages=curate",
         "--sources=commoncrawl", f"--commoncrawl_input={d}/real.warc.wet.gz", f"--wikipedia_input={ENWIKI}", *sets],
        cwd=d, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def accounts(out) -> dict:
    """stats.json's accounts of the source: what went in, out, and why."""
    stats = json.loads((out / "stats.json").read_text())["sources"]["commoncrawl"]
    return {k: stats[k] for k in ("docs_in", "docs_out", "bytes_in", "bytes_out", "dropped")}


def test_curated_shards_are_byte_identical(chain_out):
    shards = {p.name: sha256(p.read_bytes()) for p in sorted((chain_out / "curated" / "commoncrawl").glob("*.parquet"))}
    assert shards == EXPECTED_SHARDS


def test_accounts_are_identical(chain_out):
    assert accounts(chain_out) == EXPECTED_ACCOUNTS
