"""Throughput of the GitHub, Wikipedia and Books readers + cleaners on the real samples.

    python bench/bench_sources_a.py [--repeat 3]

For each source: MB/s per core = uncompressed input MB / CPU seconds (process time, one
process, no Beam), the best and the median of --repeat runs (bench/results/sources_a.json). To make figures comparable across machines, each is
also given as a ratio to plain decompression of the same files measured in the same run
("x decompress": how many times slower than just reading the bytes).
Inputs: ../shared/data/github/*.tar.gz, the enwiki pages-articles sample, ../shared/data/books/raw.
"""
from __future__ import annotations

import argparse
import bz2
import gzip
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from bench import record  # noqa: E402
from bench.cputime import repeat as repeat_runs, spread  # noqa: E402
from common.events import Event  # noqa: E402
from dedup.book_overlap import shingles  # noqa: E402
from pipeline import inputs, recipe  # noqa: E402
from pipeline.sources.books import BookCleaner, read_books  # noqa: E402
from pipeline.sources.github import GithubFileCleaner  # noqa: E402
from pipeline.sources.github_read import Admission, read_unit  # noqa: E402
from pipeline.sources.wikipedia import WikipediaPageCleaner, read_dump  # noqa: E402


def bench_github(cfg):
    paths = sorted(str(p) for p in (DATA / "github").glob("*.tar.gz"))
    adm, cleaner = Admission.from_recipe(cfg), GithubFileCleaner(cfg)
    nbytes = 0
    for p in paths:
        with tarfile.open(p) as tf:
            nbytes += sum(m.size for m in tf if m.isfile())

    def run():
        for p in paths:
            for o in read_unit(p, inputs.open_binary, adm):
                if not isinstance(o, Event):
                    cleaner(o)

    def decompress():
        for p in paths:
            with gzip.open(p) as f:
                while f.read(1 << 20):
                    pass

    return nbytes, run, decompress


def bench_wikipedia(cfg):
    path = str(next((DATA / "wikipedia").glob("*.bz2")))
    nbytes = len(bz2.decompress(Path(path).read_bytes()))
    cleaner = WikipediaPageCleaner(cfg)

    def run():
        with open(path, "rb") as f:
            for o in read_dump(path, f):
                if not isinstance(o, Event):
                    cleaner(o)

    def decompress():
        with bz2.open(path) as f:
            while f.read(1 << 20):
                pass

    return nbytes, run, decompress


def bench_books(cfg):
    paths = sorted(str(p) for p in (DATA / "books" / "raw").glob("*.txt.gz"))
    nbytes = sum(len(gzip.open(p).read()) for p in paths)
    cleaner = BookCleaner(cfg)

    def run():
        for p in paths:
            with open(p, "rb") as f:
                for o in read_books(p, f):
                    doc = cleaner(o)
                    shingles(doc.text, cfg["shingle_words"], cfg["shingle_sample_mod"])  # dedup's map side

    def decompress():
        for p in paths:
            gzip.open(p).read()

    return nbytes, run, decompress


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    session = record.Session("sources_a", argv)
    rec = recipe.load()
    print(f"{'source':<10} {'input MB':>9} {'CPU s':>7} {'MB/s/core':>10} {'x decompress':>13}  (best run; median)")
    measured = {}
    for name, make in (("github", bench_github), ("wikipedia", bench_wikipedia), ("books", bench_books)):
        nbytes, run, decompress = make(rec[name])
        t_run = spread(repeat_runs(run, args.repeat))
        t_dec = spread(repeat_runs(decompress, args.repeat))
        mb = nbytes / 1e6
        print(f"{name:<10} {mb:>9.2f} {t_run['min']:>7.2f} {mb / t_run['min']:>10.2f} {t_run['min'] / t_dec['min']:>13.1f}"
              f"  ({mb / t_run['median']:.2f}; {t_run['median'] / t_dec['median']:.1f})")
        session.figure(f"{name}", f"{name}: reader + cleaner on {mb:.2f} MB, MB/s per core", round(mb / t_run["min"], 2),
                       round(mb / t_run["median"], 2))
        session.figure(f"{name}_x", f"{name}: × the CPU of decompressing the same files", round(t_run["min"] / t_dec["min"], 1),
                       round(t_run["median"] / t_dec["median"], 1))
        measured[name] = record.stage(mb, t_run["runs"], "bench/bench_sources_a.py: reader + cleaner, no Beam")
    session.write(stages=measured, repeats=args.repeat)  # for python -m pipeline.cost


if __name__ == "__main__":
    main()
