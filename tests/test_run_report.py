"""What the default run says about itself: banner, summary, run.json, report.html, pipeline.inspect."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import funnel, report
from pipeline.sources import SOURCE_NAMES
from tests.conftest import ROOT


def stderr_of(out: Path) -> str:
    return (out.parent / "run.stderr").read_text()


def test_banner_and_summary(default_run_out):
    err = stderr_of(default_run_out)
    banner = err[:err.index("\n  stages") + 200]
    assert "recipe llama v1; runner DirectRunner" in banner and f"output  {default_run_out}" in banner
    assert "stages  curate → tokenizer → tokenize → mixture" in err
    for name in SOURCE_NAMES:
        assert re.search(rf"  {name} +\d+ file\(s\) +[\d.,]+ MB  \(bundled sample\)", err), name
    assert re.search(r"model   lid: .*lid\.176\.ftz", err)
    stats = json.loads((default_run_out / "stats.json").read_text())
    summary = err[err.index("source          docs in"):]
    for name, s in stats["sources"].items():
        assert re.search(rf"^{name} +{s['docs_in']:,} +{s['docs_out']:,} ", summary, re.M), name
    cc = stats["sources"]["commoncrawl"]["dropped"]
    top = max(cc, key=lambda r: (cc[r], r))
    assert re.search(rf"^commoncrawl .* {top} {cc[top]}", summary, re.M)
    for path in ("stats.json", "quarantine.jsonl", "mixture.json", "report.html", "run.json"):
        assert str(default_run_out / path) in summary, path
    assert "CPU s per stage: curate" in summary
    # The per-counter tokenize lines and the duplicated wikiref warning are gone.
    assert err.count("Wikipedia article") <= 1


def test_run_json_records_the_run(default_run_out):
    run = json.loads((default_run_out / "run.json").read_text())
    assert run["status"] == "ok" and run["started"] <= run["ended"]
    assert run["command"][1:3] == ["-m", "pipeline.run"] and f"--output={default_run_out}" in run["command"]
    assert run["recipe"]["version"]["name"] == "llama" and run["overrides"] == []
    assert run["recipe"]["commoncrawl"]["min_chars"] == 300
    assert run["packages"]["apache-beam"] and run["packages"]["pyarrow"]
    for name in SOURCE_NAMES:
        files = run["inputs"][name]
        assert files, name
        for f in files:
            assert f["bytes"] == os.path.getsize(f["path"]), f
    assert set(run["cpu_seconds"]) == {"curate", "tokenizer", "tokenize", "mixture", "report"}
    assert run["cpu_seconds"]["curate"] > 0
    assert "lid" in run["models"]


def test_report_is_self_contained_and_shows_the_run(default_run_out):
    page = (default_run_out / "report.html").read_text()
    stats = json.loads((default_run_out / "stats.json").read_text())
    mixture = json.loads((default_run_out / "mixture.json").read_text())
    # One file: no script, no stylesheet link, no image or frame fetched from anywhere.
    assert "<script" not in page and "<link" not in page and "<iframe" not in page
    assert not re.search(r'(src|href)="(https?:|//|file:)', page)
    for heading in ("Funnel", "Document lengths", "Perplexity", "Languages", "Wikipedia-reference classifier",
                    "Deduplication", "Tokenizer: bytes per token", "Mixture"):
        assert f"<h2>{heading}" in page, heading
    assert page.count("<svg") >= 6
    for name, s in stats["sources"].items():  # each source's funnel: its steps in order, in and out
        assert s["bytes_conserved"], name
        for st in s["steps"]:
            assert (f'<tr data-source="{name}" data-step="{st["step"]}"><td class="t">{st["step"]}</td>'
                    f'<td class="t">{html.escape(st["what"])}</td><td>{st["docs_in"]:,}</td><td>{st["docs_out"]:,}</td>') in page
    assert funnel.unassigned(stats) == {}  # every drop reason of the run's seven sources has its step
    # The quality models: applied or not, and why, as the run's notes say (stats.json → models).
    notes = stats["models"]
    for lang, lm in notes["reference_lm"].items():
        assert html.escape(f"{lang}: {lm['reason']}") in page, lang
    wikiref = notes["wikiref_training"]
    assert html.escape(wikiref["reason"]) in page
    if not wikiref["applied"]:
        assert "<h2>Wikipedia-reference classifier</h2><p>not applied" in page
    for lang, cut in notes["perplexity_cutoffs"].items():
        if isinstance(cut.get("head"), (int, float)):
            assert f"{lang} head &lt; {cut['head']:g}" in page, lang
    assert f"Training budget {mixture['total_tokens']:,} tokens" in page
    total_planned = sum(s["planned_tokens"] for s in mixture["sources"].values())
    assert total_planned == mixture["total_tokens"] and f"<td>{total_planned:,}</td>" in page
    # Bytes per token of a source, from its curated bytes and tokens.
    c4 = mixture["sources"]["c4"]
    bpt = stats["sources"]["c4"]["bytes_out"] / (c4["unique_tokens"] - c4["documents"])
    assert f"<td>{bpt:.3g}</td>" in page
    # Deterministic: rendering again gives the same bytes.
    assert report.render(str(default_run_out)) == page


def _with_rejects(default_run_out: Path, tmp_path: Path) -> Path:
    """A copy of the run with a rejects/ folder as --write_rejects writes it: the curated columns plus
    `reason`, here two real CommonCrawl documents under a reason the run's stats.json counts."""
    out = tmp_path / "out"
    shutil.copytree(default_run_out, out, ignore=shutil.ignore_patterns("tokens", "models"))
    table = pq.read_table(next((out / "curated" / "commoncrawl").glob("*.parquet"))).slice(0, 2)
    table = table.append_column("reason", pa.array(["language_not_kept"] * table.num_rows))
    (out / "rejects" / "commoncrawl").mkdir(parents=True)
    pq.write_table(table, out / "rejects" / "commoncrawl" / "part-00000-of-00001.parquet")
    return out


def test_report_and_inspect_read_rejects(default_run_out, tmp_path):
    out = _with_rejects(default_run_out, tmp_path)
    page = report.render(str(out))
    assert "en (dropped)" in page  # the language shares count dropped documents where they were written
    first = pq.read_table(next((out / "rejects" / "commoncrawl").glob("*.parquet"))).to_pylist()[0]
    proc = subprocess.run([sys.executable, "-m", "pipeline.inspect", str(out), "--reason", "language_not_kept",
                           "--source", "commoncrawl", "-n", "1"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"── {first['id']}  [language_not_kept]" in proc.stdout and first["url"] in proc.stdout


def test_inspect_kept_documents_and_mistakes(default_run_out):
    inspect = [sys.executable, "-m", "pipeline.inspect", str(default_run_out)]
    proc = subprocess.run([*inspect, "--source", "commoncrawl", "-n", "2"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = [r for p in sorted((default_run_out / "curated" / "commoncrawl").glob("*.parquet"))
            for r in pq.read_table(p).to_pylist()]
    assert proc.stdout.count("  ── commoncrawl/") == 2 and f"── {rows[0]['id']}" in proc.stdout
    assert "language=en" in proc.stdout and "bucket=" in proc.stdout
    # Dropped documents not written: counted, and the flag that writes them named.
    proc = subprocess.run([*inspect, "--reason", "language_not_kept"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "dropped for language_not_kept; not written" in proc.stdout
    assert "--write_rejects" in proc.stderr
    proc = subprocess.run([*inspect, "--reason", "language_not_kpt"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().endswith("did you mean language_not_kept?")
    proc = subprocess.run([*inspect, "--source", "wikipeda"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "did you mean wikipedia?" in proc.stderr


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(default_run_out, tmp_path):
    proc = subprocess.run(["bash", "scripts/render_report.sh", str(default_run_out), str(tmp_path / "report.png")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHON": sys.executable})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert int(re.search(r"(\d+) figures", proc.stdout).group(1)) >= 6
