"""Throughput of the ArXiv and StackExchange readers + cleaners, per core, on the real samples.

Runs the plain code each Beam DoFn wraps (no runner overhead), single-threaded, and reports CPU
time (`time.process_time`) so the figure is per core; the best and the median of --repeat runs. Each figure is also given as a ratio to
gzip decompression of the same inputs measured in the same run, which is comparable run to run
and machine to machine. MB = 10^6 bytes of uncompressed input (TeX members / Posts.xml).

    python bench/bench_sources_b.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import record  # noqa: E402
from bench.cputime import repeat as repeat_runs, spread  # noqa: E402
from pipeline.sources import arxiv, se_posts  # noqa: E402
from pipeline import recipe as recipes  # noqa: E402

ARXIV_CFG = recipes.load("llama")["arxiv"]

DATA = ROOT.parent / "shared" / "data"
EPRINTS = [DATA / "arxiv" / "2004.14974.gz", DATA / "arxiv" / "1911.02782.gz"]
POSTS = DATA / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"


def cpu(fn, repeat):
    """{"min", "median", "runs"} CPU seconds of `repeat` runs (the readers run in this process)."""
    return spread(repeat_runs(fn, repeat))


def arxiv_run(blobs):
    out = 0
    for path, blob in blobs:
        for unit in arxiv.read_input(path, io.BytesIO(blob), arxiv.ReadConfig()):
            if isinstance(unit, arxiv.EPrint):
                cleaned = arxiv.decode_and_clean(unit, ARXIV_CFG)
                out += cleaned.doc.nbytes if cleaned.doc else 0
    return out


def se_run(blob):
    threads = {}
    for item in se_posts.iter_posts(gzip.GzipFile(fileobj=io.BytesIO(blob)), "beer.stackexchange.com"):
        if isinstance(item, se_posts.Post):
            threads.setdefault(item.thread_id, []).append(item)
    out = 0
    for posts in threads.values():
        thread = se_posts.assemble_thread(posts)
        if thread.question is not None:
            out += len(se_posts.format_thread(thread.question, thread.answers).encode("utf-8"))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    session = record.Session("sources_b", argv)

    blobs = [(str(p), p.read_bytes()) for p in EPRINTS]
    tex_bytes = 0
    for path, blob in blobs:
        for unit in arxiv.read_input(path, io.BytesIO(blob), arxiv.ReadConfig()):
            if isinstance(unit, arxiv.EPrint):
                tex_bytes += sum(len(v) for v in unit.files.values())
    se_blob = POSTS.read_bytes()
    xml_bytes = len(gzip.decompress(se_blob))

    gunzip_arxiv = cpu(lambda: [gzip.decompress(b) for _, b in blobs], args.repeat)
    gunzip_se = cpu(lambda: gzip.decompress(se_blob), args.repeat)
    t_arxiv = cpu(lambda: arxiv_run(blobs), args.repeat)
    t_se = cpu(lambda: se_run(se_blob), args.repeat)
    out_arxiv, out_se = arxiv_run(blobs), se_run(se_blob)

    gz_arxiv_bytes = sum(len(gzip.decompress(b)) for _, b in blobs)
    print(f"{'source':<14} {'input MB':>9} {'CPU s':>7} {'MB/s/core':>10} {'out MB':>7} {'x gunzip':>9}  (best run; median)")
    measured = {}
    for name, mb, secs, out, ref in (
        ("arxiv", tex_bytes / 1e6, t_arxiv, out_arxiv, (gz_arxiv_bytes / 1e6) / gunzip_arxiv["min"]),
        ("stackexchange", xml_bytes / 1e6, t_se, out_se, (xml_bytes / 1e6) / gunzip_se["min"]),
    ):
        rate = mb / secs["min"]
        print(f"{name:<14} {mb:>9.3f} {secs['min']:>7.3f} {rate:>10.2f} {out / 1e6:>7.3f} {rate / ref:>9.4f}"
              f"  ({mb / secs['median']:.2f})")
        session.figure(name, f"{name}: reader + cleaner on {mb:.3f} MB, MB/s per core", round(rate, 2),
                       round(mb / secs["median"], 2))
        session.figure(f"{name}_x", f"{name}: its rate ÷ gzip -d's rate on the same input", round(rate / ref, 4))
        measured[name] = record.stage(mb, secs["runs"], "bench/bench_sources_b.py: reader + cleaner, no Beam")
    session.write(stages=measured, repeats=args.repeat)  # for python -m pipeline.cost
    print("arxiv input = TeX members of 2 real e-prints (the gunzip/tar of all members incl. figures is in the time);")
    print("stackexchange input = beer.stackexchange Posts.xml (2354 rows); 'x gunzip' = rate / gzip -d rate, same run.")


if __name__ == "__main__":
    main()
