"""LaTeX brace matching: CPU seconds of `latex.clean_eprint` with the brace match table (the
default) and with scans only (the table never built), on unbalanced input (`\\a{` × N unclosed,
the fuzzers' slowest case) and on the real e-prints in ../shared/data/arxiv (the table must not
cost them anything). `python bench/bench_latex.py`; each case 3 runs (the real e-prints 20),
the best and the median in bench/results/latex.json."""
from __future__ import annotations

import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import record  # noqa: E402
from bench.cputime import repeat as repeat_runs, spread  # noqa: E402
from pipeline import recipe  # noqa: E402
from pipeline.sources import latex  # noqa: E402

HEAD = "\\documentclass{article}\n\\newcommand\\a[1]{x#1}\n\\begin{document}\n\\section{Intro}\nSome words.\n"


def timed(files, table: bool, repeat: int) -> dict:
    """{"min", "median", "runs"} CPU seconds of one `clean_eprint`, over `repeat` runs."""
    cfg = latex.CleanConfig.from_recipe(recipe.load("llama")["arxiv"])
    saved = latex._TABLE_AFTER
    latex._TABLE_AFTER = saved if table else 10**12
    try:
        return spread(repeat_runs(lambda: latex.clean_eprint(dict(files), cfg), repeat))
    finally:
        latex._TABLE_AFTER = saved


def real_papers():
    for path in sorted((ROOT.parent / "shared" / "data" / "arxiv").glob("*.gz")):
        with tarfile.open(path) as tar:
            yield path.name, {m.name: tar.extractfile(m).read().decode("utf-8", "replace")
                              for m in tar.getmembers() if m.isfile() and m.name.endswith(".tex")}


def main() -> None:
    session = record.Session("latex")
    print("case                                  scans only   with table   ratio   (best run; median)")
    cases = [(f"unclosed `\\a{{` × {n:,}", {"main.tex": HEAD + "\\a{" * n}, 3) for n in (2000, 8000)]
    cases += [(f"real e-print {name}", files, 20) for name, files in real_papers()]
    for label, files, repeat in cases:
        size = sum(len(t) for t in files.values())
        scan, table = timed(files, False, repeat), timed(files, True, repeat)
        print(f"{label:32s} ({size:7d} chars) {1e3 * scan['min']:9.1f} ms {1e3 * table['min']:9.1f} ms "
              f"{scan['min'] / table['min']:7.2f}x   ({1e3 * scan['median']:.1f}; {1e3 * table['median']:.1f})")
        key = label.split()[-1]
        runs = "" if repeat == 3 else f", {repeat} runs"
        session.figure(f"{key}_scan", f"{label} ({size:,} chars{runs}): scans only, ms", round(1e3 * scan["min"], 1),
                       round(1e3 * scan["median"], 1))
        session.figure(f"{key}_table", f"  with the brace table, ms", round(1e3 * table["min"], 1),
                       round(1e3 * table["median"], 1))
    session.write(repeats=3)  # at least; the real e-prints, a few ms each, run 20 times (their labels say so)


if __name__ == "__main__":
    main()
