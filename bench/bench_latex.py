"""LaTeX brace matching: CPU seconds of `latex.clean_eprint` with the brace match table (the
default) and with scans only (the table never built), on unbalanced input (`\\a{` × N unclosed,
the fuzzers' slowest case) and on the real e-prints in ../shared/data/arxiv (the table must not
cost them anything). `python bench/bench_latex.py`"""
from __future__ import annotations

import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cputime import cpu  # noqa: E402
from pipeline import recipe  # noqa: E402
from pipeline.sources import latex  # noqa: E402

HEAD = "\\documentclass{article}\n\\newcommand\\a[1]{x#1}\n\\begin{document}\n\\section{Intro}\nSome words.\n"


def timed(files, table: bool, repeat: int) -> float:
    cfg = latex.CleanConfig.from_recipe(recipe.load("llama")["arxiv"])
    saved = latex._TABLE_AFTER
    latex._TABLE_AFTER = saved if table else 10**12
    try:
        start = cpu()
        for _ in range(repeat):
            latex.clean_eprint(dict(files), cfg)
        return (cpu() - start) / repeat
    finally:
        latex._TABLE_AFTER = saved


def real_papers():
    for path in sorted((ROOT.parent / "shared" / "data" / "arxiv").glob("*.gz")):
        with tarfile.open(path) as tar:
            yield path.name, {m.name: tar.extractfile(m).read().decode("utf-8", "replace")
                              for m in tar.getmembers() if m.isfile() and m.name.endswith(".tex")}


def main() -> None:
    print("case                                  scans only   with table   ratio")
    for n in (2000, 8000):
        files = {"main.tex": HEAD + "\\a{" * n}
        scan, table = timed(files, False, 3), timed(files, True, 3)
        print(f"unclosed \\a{{ x {n:<6d} ({len(files['main.tex']):6d} chars) {1e3 * scan:9.1f} ms {1e3 * table:9.1f} ms "
              f"{scan / table:7.1f}x")
    for name, files in real_papers():
        size = sum(len(t) for t in files.values())
        scan, table = timed(files, False, 20), timed(files, True, 20)
        print(f"real e-print {name:16s} ({size:7d} chars) {1e3 * scan:9.1f} ms {1e3 * table:9.1f} ms {scan / table:7.2f}x")


if __name__ == "__main__":
    main()
