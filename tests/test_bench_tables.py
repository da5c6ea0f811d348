"""The benchmark tables of docs/benchmarks.md are the committed bench/results/*.json, figure for figure
(`python -m bench.tables` renders them; `make bench` reruns every benchmark, then renders), every
timed figure comes from at least three runs, and the DirectRunner's memory warning assumes no less
memory per MB than the benchmarks measured."""
from __future__ import annotations

import copy
import json

from bench import tables
from bench.cputime import MIN_REPEATS
from pipeline import capacity
from tests.conftest import ROOT


def _doc(**load) -> dict:
    return {"bench": "demo", "command": "python bench/bench_demo.py --mb 2", "measured_at": "2026-12-07 16:00 UTC",
            "machine": {"cores": 2, "cpu_model": "AMD EPYC", "arch": "x86_64", "python": "3.11.7"},
            "clock": "CPU seconds (user+system) of the process and its reaped children (bench/cputime.py)",
            "load": {"start": [0.4, 0.5, 0.6], "end": [1.1, 0.7, 0.6], "bound": 2.0, "above_bound": False, **load},
            "repeats": 3, "stages": {},
            "figures": [{"key": "rate", "label": "rate, MB/s per core", "best": 3.25, "median": 3.1, "unit": "",
                         "target": "≥ 3"},
                        {"key": "docs", "label": "documents", "best": 12345, "median": None, "unit": "", "target": ""}]}


def test_every_documented_table_is_its_results_file():
    text = tables.PAGE.read_text(encoding="utf-8")
    results = tables.load_results()
    _, changed, missing = tables.rewrite(text, results)
    assert not missing, f"tables with no bench/results file: {missing}"
    assert not changed, f"docs/benchmarks.md tables differ from bench/results (run python -m bench.tables): {changed}"
    assert set(results) == set(tables.marked(text)) - set(tables.GENERATED), "a results file without its table, or the reverse"
    assert set(tables.GENERATED) <= set(tables.marked(text)), "the cost or fuzz table is missing"


def test_no_generated_table_outside_the_benchmarks_page():
    """One place holds the generated tables: a marker elsewhere would never be rewritten."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        if page != tables.PAGE:
            assert "<!-- bench:" not in page.read_text(encoding="utf-8"), page


def test_the_fuzz_table_is_fuzz_json():
    doc = json.loads((ROOT / "bench" / "results" / "fuzz.json").read_text())
    table = tables.render_fuzz()
    for t in doc["targets"]:
        assert f"| `{t['target']}` | {t['inputs_run']:,} | {t['cpu_s']:,.1f} |" in table


def test_timed_figures_come_from_at_least_three_runs():
    for name, doc in tables.load_results().items():
        assert doc["clock"].startswith("CPU seconds"), name
        if "repeats" in doc:  # deterministic benchmarks (counts, sizes, shares) run once and say none
            assert doc["repeats"] >= MIN_REPEATS, f"{name}: {doc['repeats']} runs"


def test_a_table_says_when_where_and_at_what_load():
    quiet = tables.render(_doc())
    assert quiet.startswith("`python bench/bench_demo.py --mb 2` — measured 2026-12-07 16:00 UTC on AMD EPYC, 2 cores; "
                            "load average 0.4 at start, 1.1 at the end; 3 runs per timed figure")
    assert "| rate, MB/s per core | 3.25 | 3.1 | ≥ 3 |" in quiet and "| documents | 12,345 |  |  |" in quiet
    assert "not a quiet machine" not in quiet
    busy = tables.render(_doc(start=[7.5, 7.0, 6.0], above_bound=True))
    assert "load average 7.5 at start" in busy and "**above the bound of 2: not a quiet machine**" in busy


def test_a_figure_that_moves_fails_the_check():
    doc = _doc()
    readme = f"intro\n<!-- bench:demo begin -->\n{tables.render(doc)}<!-- bench:demo end -->\noutro\n"
    assert tables.rewrite(readme, {"demo": doc})[1:] == ([], [])
    moved = copy.deepcopy(doc)
    moved["figures"][0]["best"] = 3.5
    new, changed, _ = tables.rewrite(readme, {"demo": moved})
    assert changed == ["demo"] and "| 3.5 |" in new and new.startswith("intro\n") and new.endswith("outro\n")
    assert tables.rewrite(readme, {})[2] == ["demo"]  # a table whose results file is gone


def test_the_memory_warning_assumes_no_less_than_measured():
    for name, key in (("commoncrawl", "rss_mb_per_input_mb"), ("scale", "rss_mb_per_input_mb")):
        path = ROOT / "bench" / "results" / f"{name}.json"
        measured = json.loads(path.read_text())[key]
        assert capacity.RSS_MB_PER_TEXT_MB >= measured, (name, measured)
