"""stats.json's funnel on a real-page run, and the report drawing it (issue 25).

Input: the 250 real pages of trafilatura's evaluation set as crawled (WARC, main text extracted)
and the real enwiki sample as --wikipedia_input (the reference LM trains on its openings). Checked:
each step's documents and bytes follow from the one before (conservation step by step, and the
bytes written are the bytes read less those dropped and cut); what line dedup cut from the pages
it kept, and the languages the language step saw, equal what cc_net's plain line dedup
(`dedup_in_memory`) and fastText lid.176 give on the same pages; the report's funnel table is
stats.json's, step by step; a run that keeps nothing says so instead of drawing empty axes.
"""
from __future__ import annotations

import collections
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from dedup.line_dedup import dedup_in_memory
from pipeline import funnel, recipe, report
from tests.conftest import LID_MODEL, ROOT, SHARED, run_pipeline
from tests.quality_fixtures import ENWIKI
from tests.real_pages import TRAFILATURA

MIN_CHARS = 300  # commoncrawl.min_chars in the llama recipe


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("funnel") / "out"
    run_pipeline(f"--output={out}", "--sources=commoncrawl", f"--commoncrawl_input={TRAFILATURA}",
                 f"--wikipedia_input={ENWIKI}")
    return out, json.loads((out / "stats.json").read_text())["sources"]["commoncrawl"]


def pages_entering_line_dedup():
    """The pages the reader passes on (main text extracted, at least min_chars): what line dedup reads."""
    from common.record import Document
    from pipeline.sources.commoncrawl import WebArchiveReader

    with open(TRAFILATURA, "rb") as f:
        return [d.text for d in WebArchiveReader("commoncrawl", MIN_CHARS, {})(str(TRAFILATURA), f)
                if isinstance(d, Document)]


def test_each_step_follows_from_the_one_before(real_run):
    _, s = real_run
    steps = s["steps"]
    names = [st["step"] for st in steps]
    assert names == funnel.steps_for(recipe.load(), "commoncrawl")  # the recipe's steps, in the graph's order
    assert names[:7] == ["read", "length", "unique_ids", "line_dedup", "language", "quality", "classifier"]
    assert names[-2:] == ["decontamination", "sink"]
    assert (steps[0]["docs_in"], steps[0]["bytes_in"]) == (s["docs_in"], s["bytes_in"]) == (250, s["bytes_in"])
    for before, st in zip([None] + steps, steps):
        if before is not None:
            assert (st["docs_in"], st["bytes_in"]) == (before["docs_out"], before["bytes_out"]), st["step"]
        if st["step"] != "sink":
            assert st["docs_out"] == st["docs_in"] - sum(st["dropped"].values()), st["step"]
            assert st["bytes_out"] == st["bytes_in"] - st["dropped_bytes"] - st["trimmed"]["bytes"], st["step"]
    assert (steps[-1]["docs_out"], steps[-1]["bytes_out"]) == (s["docs_out"], s["bytes_out"])
    assert steps[-1]["docs_in"] == s["docs_out"] and s["bytes_conserved"]
    # every reason in the step that makes it, and only there
    assert {r: n for st in steps for r, n in st["dropped"].items()} == s["dropped"]
    assert funnel.unassigned({"sources": {"commoncrawl": s}}) == {}
    by_step = {st["step"]: st for st in steps}
    assert set(by_step["length"]["dropped"]) == {"too_short"}
    assert set(by_step["language"]["dropped"]) <= {"language_not_kept", "language_low_score"}
    assert set(by_step["quality"]["dropped"]) == {"perplexity_tail"}


def test_line_dedup_and_language_counts_equal_the_reference(real_run):
    """cc_net's plain line dedup on the same pages gives the step's emptied pages and the characters
    it cut from the pages it kept; fastText on what it kept gives the languages the next step saw."""
    import fasttext

    _, s = real_run
    long_enough = pages_entering_line_dedup()
    by_step = {st["step"]: st for st in s["steps"]}
    assert len(long_enough) == by_step["line_dedup"]["docs_in"]
    after = dedup_in_memory(long_enough)
    kept = [(b, a) for b, a in zip(long_enough, after) if a]
    ld = by_step["line_dedup"]
    assert ld["dropped"] == {"line_dedup_empty": len(long_enough) - len(kept)}
    assert ld["trimmed"]["chars"] == sum(len(b) - len(a) for b, a in kept) > 0
    assert ld["trimmed"]["bytes"] == sum(len(b.encode()) - len(a.encode()) for b, a in kept)
    assert ld["trimmed"]["docs"] == sum(b != a for b, a in kept)
    lid = fasttext.load_model(str(LID_MODEL))
    seen = collections.Counter(lid.predict([a.replace("\n", " ")], k=1)[0][0][0].replace("__label__", "") for _, a in kept)
    assert s["languages"]["seen"] == dict(sorted(seen.items()))
    assert sum(s["languages"]["dropped"].values()) == sum(by_step["language"]["dropped"].values())
    assert s["languages"]["kept"] == {"en": by_step["language"]["docs_out"]}


def test_perplexity_distribution_holds_every_scored_page(real_run):
    _, s = real_run
    quality = next(st for st in s["steps"] if st["step"] == "quality")
    en = s["perplexity"]["en"]
    assert s["perplexity"]["bins_per_decade"] == 20
    assert sum(sum(bins.values()) for bins in en.values()) == quality["docs_in"]
    assert sum(en["tail"].values()) == quality["dropped"]["perplexity_tail"]
    assert sum(en["head"].values()) + sum(en["middle"].values()) == quality["docs_out"]


class _FunnelRows(html.parser.HTMLParser):
    """The rows of the report's funnel tables: (source, step) → cell texts."""

    def __init__(self):
        super().__init__()
        self.rows, self.key, self.cell = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-step" in attrs:
            self.key = (attrs["data-source"], attrs["data-step"])
            self.rows[self.key] = []
        elif tag == "td" and self.key:
            self.cell = ""

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self.key and self.cell is not None:
            self.rows[self.key].append(self.cell)
            self.cell = None
        elif tag == "tr":
            self.key = None


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_report_funnel_is_stats_json_step_by_step(real_run):
    out, s = real_run
    page = (out / "report.html").read_text()
    parser = _FunnelRows()
    parser.feed(page)
    assert [step for (source, step) in parser.rows] == [st["step"] for st in s["steps"]]
    for st in s["steps"]:
        step, what, docs_in, docs_out, dropped, bytes_in, bytes_out, dropped_bytes, cut = parser.rows[("commoncrawl", st["step"])]
        assert (step, what) == (st["step"], st["what"])
        assert [_number(x) for x in (docs_in, docs_out, bytes_in, bytes_out, dropped_bytes)] == [
            st["docs_in"], st["docs_out"], st["bytes_in"], st["bytes_out"], st["dropped_bytes"]]
        assert {r: _number(n) for r, n in (x.split(": ") for x in dropped.split(", ") if x != "-")} == st["dropped"]
        t = st["trimmed"]
        assert cut == (f"{t['bytes']:,} B / {t['chars']:,} chars / {t['docs']:,} docs" if t["docs"] else "-")
    assert "commoncrawl: 250 → " in page and "bytes conserved step by step" in page
    # the header: the command, the date, the input, the models
    run = json.loads((out / "run.json").read_text())
    assert "python -m pipeline.run --runner=DirectRunner" in page and f"started {run['started']}" in page
    assert "commoncrawl: 1 file(s), 8.32 MB: " in page and "reference LM en: trained on" in page
    # languages before and after the language step; every page the quality step scored
    assert "de 69 (29%)" in page and "before the language step" in page
    assert re.search(r"en: all [\d,]+ pages the quality step scored, the dropped tail included: head [\d,]+, "
                     r"middle [\d,]+, tail [\d,]+", page)
    assert "Measured on this run's curated text, the text the tokenizer was trained on" in page
    assert report.render(str(out)) == page  # drawn again from the folder (run.json): the same bytes


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_real_page_report_renders_in_headless_chromium(real_run, tmp_path):
    out, _ = real_run
    proc = subprocess.run(["bash", "scripts/render_report.sh", str(out), str(tmp_path / "report.png")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert int(re.search(r"(\d+) figures", proc.stdout).group(1)) >= 7


def test_a_run_that_keeps_nothing_says_so(tmp_path):
    out = tmp_path / "out"
    run_pipeline(f"--output={out}", "--stages=curate", "--sources=c4", "--set", 'c4.language.languages=["xx"]')
    stats = json.loads((out / "stats.json").read_text())["sources"]["c4"]
    assert stats["docs_out"] == 0 and stats["docs_in"] > 0
    page = (out / "report.html").read_text()
    n = stats["docs_in"]
    language = next(st for st in stats["steps"] if st["step"] == "language")
    assert (f'<p class="alert"><b>Nothing kept.</b> Every one of the {n:,} documents read was dropped: c4: {n:,} in, '
            f"the language step dropped {sum(language['dropped'].values()):,} (language_not_kept") in page
    assert "<h2>Document lengths</h2><p>No kept document: nothing to measure.</p>" in page
    assert page.index("Nothing kept") < page.index("<h2>")  # first, before any section


def test_a_record_read_twice_is_dropped_at_the_unique_ids_step_before_line_dedup(tmp_path):
    """Two copies of one real WARC: the second copy's records go at `unique_ids` (their place in the
    composite: before line dedup, which would otherwise empty both copies), never `unassigned`."""
    dolma = SHARED / "commoncrawl" / "dolma-sample-0001.warc.gz"
    for name in ("a", "b"):
        shutil.copyfile(dolma, tmp_path / f"{name}.warc.gz")
    out = tmp_path / "out"
    run_pipeline(f"--output={out}", "--stages=curate", "--sources=commoncrawl",
                 f"--commoncrawl_input={tmp_path}/*.warc.gz", "--set", "commoncrawl.quality=false")
    steps = json.loads((out / "stats.json").read_text())["sources"]["commoncrawl"]["steps"]
    names = [s["step"] for s in steps]
    assert "unassigned" not in names
    assert names.index("length") + 1 == names.index("unique_ids") == names.index("line_dedup") - 1
    unique = steps[names.index("unique_ids")]
    assert unique["dropped"] == {"duplicate_id": unique["docs_in"] // 2} and unique["docs_in"] > 0
    assert steps[names.index("line_dedup")]["docs_in"] == unique["docs_out"] == unique["docs_in"] // 2
