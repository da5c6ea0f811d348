"""The benchmark tables of docs/benchmarks.md, rendered from bench/results/*.json (`make bench` ends with it).

    python -m bench.tables            # rewrite every marked table in docs/benchmarks.md from the results
    python -m bench.tables --check    # exit 1, naming the tables, when the page and the results differ

A table sits between `<!-- bench:NAME begin -->` and `<!-- bench:NAME end -->` (NAME: the
results file's `bench`); everything between the markers is generated, the prose around it is not.
Each table says which command measured it, when, on what machine and at what load (with a warning
when the load was above the stated bound), then one row per figure: the best run, the median run,
the target. tests/test_bench_tables.py fails when a table and its JSON disagree.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"
BLOCK = re.compile(r"(<!-- bench:(?P<name>[\w-]+) begin -->\n)(?P<body>.*?)(<!-- bench:(?P=name) end -->)", re.S)


def load_results(folder: Path = RESULTS) -> Dict[str, dict]:
    """bench name → its results document (only files with figures: fuzz.json has its own renderer)."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "figures" in doc:
            out[doc["bench"]] = doc
    return out


def number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.10g}"
    return str(value)


def cell(value, unit: str) -> str:
    text = number(value)
    return f"{text} {unit}".strip() if text and unit and not isinstance(value, str) else text


def render(doc: dict) -> str:
    """The Markdown between one table's markers."""
    m, load = doc["machine"], doc["load"]
    warn = f" — **above the bound of {number(load['bound'])}: not a quiet machine**" if load["above_bound"] else ""
    runs = doc.get("repeats")
    lines = [f"`{doc['command']}` — measured {doc['measured_at']} on {m['cpu_model']}, {m['cores']} cores; "
             f"load average {number(load['start'][0])} at start, {number(load['end'][0])} at the end{warn}"
             + (f"; {runs} runs per timed figure" if runs else ""),
             "", "| figure | best run | median run | target |", "|---|---:|---:|---|"]
    for f in doc["figures"]:
        lines.append(f"| {f['label']} | {cell(f['best'], f['unit'])} | {cell(f['median'], f['unit'])} | {f['target']} |")
    return "\n".join(lines) + "\n"


COST = "cost"  # the table `python -m pipeline.cost` prints from the same results, with its defaults


def render_cost(folder: Path = RESULTS) -> str:
    from pipeline import cost

    result, prices = cost.estimate_from(cost.parser().parse_args([f"--results={folder}"]))
    lines = ["`python -m pipeline.cost` (its defaults; from the tables above) — the LLaMA build: five dumps × 24 TB of "
             "WET text, a quarter of it reaching the quality stage, the other sources at their Table 1 sizes", "",
             "| stage | reads | input TB | CPU s per MB | CPU-hours per TB | CPU-hours | measured by |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in result["stages"]:
        lines.append(f"| {r['stage']} | {r['reads']} | {r['input_tb']:,.3f} | {r['cpu_s_per_mb']:.4f} | "
                     f"{r['cpu_hours_per_tb']:,.1f} | {r['cpu_hours']:,.0f} | {r['measured']} |")
    for name in result["not_measured"]:
        lines.append(f"| {name} | not measured: left out of the totals | | | | | |")
    b = result["bill_usd"]
    lines += ["", f"**{result['cpu_hours']:,.0f} CPU-hours**; on {result['workers']} workers ({result['vcpus']} vCPUs) "
              f"{result['wall_hours']:,.1f} h of wall time, perfectly parallel; Dataflow at ${prices['vcpu']}/vCPU-h, "
              f"${prices['memory']}/GB-h, ${prices['shuffle']}/shuffle GB: **${b['total']:,.0f}** (vCPU ${b['vcpu']:,.0f}, "
              f"memory ${b['memory']:,.0f}, shuffle ${b['shuffle']:,.0f} at one shuffled byte per input byte)"]
    return "\n".join(lines) + "\n"


FUZZ = "fuzz"  # bench/results/fuzz.json: the fuzzing campaigns (fuzz/run.py), inputs and CPU per harness


def render_fuzz(folder: Path = RESULTS) -> str:
    """The fuzzing campaigns (`python -m fuzz.run`): one row per harness, inputs per CPU second."""
    doc = json.loads((folder / "fuzz.json").read_text(encoding="utf-8"))
    lines = [f"`{doc['command']}` — {doc['measured']}", "",
             "| harness | inputs run | CPU s | inputs per CPU s | crashes / hangs / memory | measured, when not as above |",
             "|---|---:|---:|---:|---:|---|"]
    for t in doc["targets"]:
        found = str(t["crashes"]) + (f" ({', '.join(t['kinds'])})" if t["kinds"] else "")
        lines.append(f"| `{t['target']}` | {t['inputs_run']:,} | {t['cpu_s']:,.1f} | {t['inputs_run'] / t['cpu_s']:,.0f} | "
                     f"{found} | {t.get('measured', '')} |")
    return "\n".join(lines) + "\n"


GENERATED = {COST: render_cost, FUZZ: render_fuzz}  # tables rendered from something other than `figures`


def rewrite(text: str, results: Dict[str, dict]) -> tuple:
    """(page text with every marked table rendered, [names whose table changed], [names marked
    on the page with no results file])."""
    changed: List[str] = []
    missing: List[str] = []

    def sub(match):
        name = match.group("name")
        doc = results.get(name)
        if name in GENERATED:
            body = GENERATED[name]()
        elif doc is None:
            missing.append(name)
            return match.group(0)
        else:
            body = render(doc)
        if body != match.group("body"):
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(sub, text), changed, missing


def marked(text: str) -> List[str]:
    return [m.group("name") for m in BLOCK.finditer(text)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when a table is out of date")
    ap.add_argument("--page", default=str(PAGE), help="the Markdown page holding the tables (default: %(default)s)")
    args = ap.parse_args(argv)
    path = Path(args.page)
    text = path.read_text(encoding="utf-8")
    results = load_results()
    new, changed, missing = rewrite(text, results)
    unplaced = sorted(set(results) - set(marked(text)))
    for name in missing:
        print(f"{path.name}: table {name!r} has no bench/results/{name}.json (run its benchmark)", file=sys.stderr)
    for name in unplaced:
        print(f"bench/results/{name}.json has no table in {path.name}: add <!-- bench:{name} begin/end --> markers",
              file=sys.stderr)
    if args.check:
        for name in changed:
            print(f"{path.name}: table {name!r} differs from bench/results/{name}.json (python -m bench.tables)",
                  file=sys.stderr)
        return 1 if changed or missing or unplaced else 0
    if new != text:
        from common import atomic

        atomic.write_text(str(path), new)
    print(f"{path.name}: {len(changed)} table(s) rewritten ({', '.join(changed) or 'none changed'})")
    return 1 if missing or unplaced else 0


if __name__ == "__main__":
    sys.exit(main())
