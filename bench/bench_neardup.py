"""Near-dedup benchmark on real text: signatures/s/core beside datasketch, the stage's MB/s per core
on the DirectRunner, peak memory at two corpus sizes, and recall / false removals on a corpus of
at least 50 MB with planted copies of known Jaccard (`bench/neardup_corpus.py`), beside
datasketch's MinHash (`MinHash.bulk`, the floor) and MinHashLSH on the same corpus.

    .venv/bin/python bench/bench_neardup.py [--docs 3000] [--small 1500] [--large 6000] [--accuracy_mb 30] [--repeat 3]
        [--duplicates both|jaccard|band_collision] [--datatrove_removed FILE]

Accuracy, under each `neardup.duplicates` semantics on the same corpus (jaccard: the true-Jaccard
cut; band_collision: datatrove's, every pair sharing a band), and for datatrove's own MinHash dedup
when its removed ids are given (tests/reference/datatrove_neardup.py): recall is the share of
planted pairs with true 5-gram Jaccard >= 0.8 of which at most one document survives; a false
removal is a removed document whose largest true Jaccard with any other document of the corpus is
< 0.5 (computed exactly with an inverted index of its shingles), out of the documents not in a
planted pair of Jaccard >= 0.5; per band of true Jaccard, the planted pairs caught; and of the
pairs that kept one document, how many kept the longer (the survivor rule) and the original.

Documents are C4 pages, Project Gutenberg book passages, Stack Exchange posts and HellaSwag lines
from ../shared/data, plus near copies made by small word edits (about a fifth of the corpus).
Every figure is measured in the same run; "per core" means divided by the CPU seconds of the
process that did the work (the benchmark and DirectRunner's in-process worker are single-threaded).

The stage's documents come from a per-process cache, read by a FlatMap, not from `beam.Create(docs)`:
Create pickles and bz2-compresses its values into the pipeline, several times, which costs more CPU
than the stage itself (`--feed create` measures that way, as this benchmark once did). The stage
figure includes the pipeline's fixed cost (construction, about a second); "marginal" is the
difference between the two sizes, the cost per further MB. Signatures and stage runs: --repeat runs
each, the best and the median in bench/results/neardup.json; the accuracy run is deterministic (one).
"""
from __future__ import annotations

import argparse
import hashlib
import functools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from bench import real_text, record  # noqa: E402
from bench.cputime import spread  # noqa: E402
from common.record import Document, make_id  # noqa: E402
from dedup import minhash as mh  # noqa: E402
from dedup.lsh import byte_batches  # noqa: E402


def base_texts() -> list:
    texts = list(real_text.c4_texts())
    for book in real_text.book_texts():
        words = book.split()
        texts += [" ".join(words[i:i + 400]) for i in range(0, len(words) - 400, 400)]
    texts += list(real_text.stackexchange_bodies(30))
    texts += [line for line in (DATA / "benchmarks" / "hellaswag_val_correct.first400.txt").read_text().splitlines() if line]
    return texts


def near_copy(text: str, rng: random.Random) -> str:
    """A small edit: about 2% of the words replaced, one sentence-sized span deleted."""
    words = text.split()
    for _ in range(max(1, len(words) // 50)):
        words[rng.randrange(len(words))] = f"w{rng.randrange(10**6)}"
    if len(words) > 60:
        cut = rng.randrange(len(words) - 10)
        del words[cut:cut + 5]
    return " ".join(words)


def corpus(n_docs: int, seed: int = 0) -> list:
    """n_docs Documents: real texts and near copies of about a quarter of them.

    When n_docs exceeds the real texts, later laps suffix every word with the lap number: new
    shingles (not duplicates of the first lap) with the same length distribution, so corpus
    sizes differ in count only.
    """
    rng = random.Random(seed)
    texts = base_texts()
    docs = []
    i = 0
    while len(docs) < n_docs:
        text = texts[i % len(texts)]
        lap = i // len(texts)
        if lap:
            text = " ".join(w + str(lap) for w in text.split())
        docs.append(Document(make_id("bench", str(i)), "bench", text, None, {}))
        if rng.random() < 0.25 and len(docs) < n_docs:
            docs.append(Document(make_id("bench", str(i), "copy"), "bench", near_copy(text, rng), None, {}))
        i += 1
    return docs


@functools.lru_cache(maxsize=None)
def cached_corpus(n_docs: int) -> list:
    """`corpus(n_docs)`, built once per process: what the stage run reads (see the module docstring)."""
    return corpus(n_docs)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_signatures(docs: list, num_perm: int, repeat: int = 3) -> dict:
    from datasketch import MinHash

    texts = [d.text for d in docs]
    hasher = mh.MinHasher(num_perm=num_perm, seed=42)
    hasher.signatures(texts[:50])
    ours, theirs, shingling = [], [], []
    for _ in range(repeat):  # interleaved
        start = time.process_time()
        for lo in range(0, len(texts), 256):
            hasher.signatures(texts[lo:lo + 256])
        ours.append(time.process_time() - start)
        start = time.process_time()
        shingled = [[" ".join(s).encode("utf-8") for s in mh.shingles(mh.normalize_words(t))] or [b""] for t in texts]
        shingling.append(time.process_time() - start)
        start = time.process_time()
        MinHash.bulk(shingled, num_perm=num_perm)
        theirs.append(time.process_time() - start)
    n = len(texts)
    out = {"docs": n}
    for name, pick in (("", min), ("_median", statistics.median)):
        o, t, sh = pick(ours), pick(theirs), pick(shingling)
        out.update({f"ours_sig_per_s{name}": n / o, f"datasketch_bulk_sig_per_s{name}": n / t,
                    f"datasketch_with_shingling_sig_per_s{name}": n / (t + sh), f"ratio_vs_bulk{name}": t / o,
                    f"ratio_vs_bulk_with_shingling{name}": (t + sh) / o})
    return out


def run_stage(n_docs: int, feed: str = "memory") -> dict:
    """The whole NearDedup stage on the DirectRunner (in-process worker), in this process."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    import bench_neardup as this  # by module name, so the pipeline refers to its cache, not a pickled copy
    from dedup.lsh import NearDedup

    docs = this.cached_corpus(n_docs)
    from pipeline import recipe

    config = recipe.load("llama-plus")["neardup"]  # llama has near-dedup off
    start_cpu, start_wall = cpu_seconds(), time.perf_counter()
    p = beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1"]))
    if feed == "create":
        source = p | beam.Create(docs, reshuffle=False)
    else:
        source = p | beam.Create([n_docs]) | "FromCache" >> beam.FlatMap(this.cached_corpus)
    _ = source | NearDedup(config, "NearDedup")
    result = p.run()
    result.wait_until_finish()
    cpu, wall = cpu_seconds() - start_cpu, time.perf_counter() - start_wall
    if feed != "create" and this.cached_corpus.cache_info().hits < 1:
        raise RuntimeError("the pipeline built its own corpus: the timing would include it")
    counters = {c.key.metric.name: c.committed for c in result.metrics().query()["counters"]}
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    return {"docs": len(docs), "mb": mb, "cpu_s": cpu, "wall_s": wall, "mb_per_s_per_core": mb / cpu,
            "kept": counters.get("kept"), "near_duplicate": counters.get("removed"),
            "cc_last_round_changed": counters.get("cc_last_round_changed", 0),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


KEPT_IDS: list = []


def collect_kept(doc_id: str) -> None:
    KEPT_IDS.append(doc_id)


@functools.lru_cache(maxsize=None)
def accuracy_corpus(mb: float) -> tuple:
    import neardup_corpus

    return neardup_corpus.build(mb)


def accuracy_docs(mb: float) -> list:
    return accuracy_corpus(mb)[0]


def score(docs: list, planted: list, removed: set, sets: dict) -> dict:
    """recall at J >= 0.8, false removals (J < 0.5) and what was removed in between; of the planted
    pairs that kept one document, how many kept the longer and how many the original (unedited)."""
    import neardup_corpus

    high = [(a, b) for a, b, j in planted if j >= 0.8]
    caught = sum(1 for a, b in high if a in removed or b in removed)
    length = {d.id: len(d.text) for d in docs}
    one_kept = [(a, b) for a, b, _ in planted if (a in removed) != (b in removed)]
    kept_longer = sum(1 for a, b in one_kept if length[b if a in removed else a] >= length[a if a in removed else b])
    kept_original = sum(1 for a, b in one_kept if b in removed)
    all_planted = [(a, b, j) for a, b, j in planted]
    by_band = {}
    for lo, hi in ((0.5, 0.7), (0.7, 0.8), (0.8, 1.01)):
        band = [(a, b) for a, b, j in all_planted if lo <= j < hi]
        by_band[f"{lo:.1f}-{min(hi, 1.0):.1f}"] = [sum(1 for a, b in band if a in removed or b in removed), len(band)]
    in_pairs = {x for a, b, j in planted if j >= 0.5 for x in (a, b)}
    suspects = sorted(removed - in_pairs)
    best = neardup_corpus.max_jaccard_to_others(suspects, sets)
    false = [d for d in suspects if best[d] < 0.5]
    distinct = len(docs) - len(in_pairs)
    return {"pairs_j_ge_0.8": len(high), "recall": caught / max(len(high), 1),
            "false_removals": len(false), "distinct_docs": distinct, "false_removal_rate": len(false) / max(distinct, 1),
            "removed": len(removed), "natural_near_dups_removed": len(suspects) - len(false),
            "planted_removed_by_jaccard": by_band, "pairs_one_kept": len(one_kept), "kept_longer": kept_longer,
            "kept_original": kept_original}


def run_accuracy(mb: float, hot_key_size: int = 0, duplicates: str = "") -> dict:
    """NearDedup (llama-plus's config; `duplicates` overriding its semantics) on the accuracy corpus,
    timed in CPU seconds, then scored."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    import bench_neardup as this
    import neardup_corpus
    from dedup.lsh import NearDedup
    from pipeline import recipe

    docs, planted = this.accuracy_corpus(mb)
    config = recipe.load("llama-plus")["neardup"]
    if hot_key_size:
        config = dict(config, hot_key_size=hot_key_size)
    if duplicates:
        config = dict(config, duplicates=duplicates)
    start = cpu_seconds()
    p = beam.Pipeline(options=PipelineOptions(["--runner=DirectRunner", "--direct_num_workers=1"]))
    kept, _ = p | beam.Create([mb]) | "FromCache" >> beam.FlatMap(this.accuracy_docs) | NearDedup(config, "NearDedup")
    _ = kept | beam.Map(lambda d: this.collect_kept(d.id))
    p.run().wait_until_finish()
    cpu = cpu_seconds() - start
    if this.accuracy_corpus.cache_info().hits < 1:
        raise RuntimeError("the pipeline built its own corpus: the timing would include it")
    removed = {d.id for d in docs} - set(this.KEPT_IDS)
    sets = neardup_corpus.shingle_sets(docs)
    mb_real = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    out = {"docs": len(docs), "mb": mb_real, "cpu_s": cpu, "mb_per_s_per_core": mb_real / cpu,
           "hot_key_size": config["hot_key_size"], "duplicates": config["duplicates"],
           "removed_sha1": hashlib.sha1("\n".join(sorted(removed)).encode()).hexdigest()}
    out.update(score(docs, planted, removed, sets))
    if config["duplicates"] == "jaccard":
        out["datasketch"] = run_datasketch(docs, planted, sets, config)
    return out


def run_datasketch(docs: list, planted: list, sets: dict, config: dict) -> dict:
    """datasketch on the same corpus: MinHash.bulk from ready shingles (the floor of signing), then
    MinHashLSH at the same threshold and permutations, components by union-find, smallest id kept."""
    from datasketch import MinHash, MinHashLSH

    shingled = [[" ".join(s).encode("utf-8") for s in mh.shingles(mh.normalize_words(d.text))] or [b""] for d in docs]
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    start = time.process_time()
    sigs = MinHash.bulk(shingled, num_perm=config["num_perm"])
    bulk = time.process_time() - start
    start = time.process_time()
    lsh = MinHashLSH(threshold=config["jaccard_threshold"], num_perm=config["num_perm"])
    for d, m in zip(docs, sigs):
        lsh.insert(d.id, m)
    parent: dict = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for d, m in zip(docs, sigs):
        for other in lsh.query(m):
            if other != d.id:
                a, b = find(d.id), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    lsh_cpu = time.process_time() - start
    removed = {x for x in parent if find(x) != x}
    out = {"bulk_mb_per_s_per_core": mb / bulk, "lsh_cpu_s": lsh_cpu,
           "with_lsh_mb_per_s_per_core": mb / (bulk + lsh_cpu)}
    out.update(score(docs, planted, removed, sets))
    return out


def signature_stream_peak(n_docs: int) -> float:
    """Peak traced Python/numpy memory (MB) of signing a corpus batch by batch, as the DoFn does."""
    docs = corpus(n_docs)
    hasher = mh.MinHasher(112, 42)  # allocates the per-process power tables before tracing
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for lo in range(0, len(docs), 256):  # as the DoFn: 256 documents, cut at 4 MiB of text
        for batch in byte_batches(docs[lo:lo + 256], 4 << 20):
            sigs, _ = hasher.signatures([d.text for d in batch])
            mh.band_hashes(sigs, 14, 8)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000, help="documents for the signature benchmark")
    parser.add_argument("--small", type=int, default=1500, help="smaller corpus for the stage / memory runs")
    parser.add_argument("--large", type=int, default=6000, help="larger corpus for the stage / memory runs")
    parser.add_argument("--num_perm", type=int, default=112)
    parser.add_argument("--feed", choices=("memory", "create"), default="memory",
                        help="documents into the stage from a per-process cache, or by beam.Create (pickled)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed side (best and median)")
    parser.add_argument("--accuracy_mb", type=float, default=30.0,
                        help="size of the corpus with planted copies for recall / false removals (0: skip)")
    parser.add_argument("--hot_key_size", type=int, default=0,
                        help="the accuracy run's neardup.hot_key_size (default: the recipe's); the removed ids' "
                             "SHA-1 is printed, to compare settings")
    parser.add_argument("--accuracy_only", action="store_true", help="skip the signature and stage runs")
    parser.add_argument("--duplicates", choices=("both", "jaccard", "band_collision"), default="both",
                        help="the accuracy run's neardup.duplicates semantics (both: one run each, same corpus)")
    parser.add_argument("--datatrove_removed", default="",
                        help="a file of ids removed by datatrove's MinHash dedup on the same corpus "
                             "(tests/reference/datatrove_neardup.py): scored beside ours")
    parser.add_argument("--stage", type=int, default=0, help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--accuracy_child", type=float, default=0, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)

    if args.stage:
        print(json.dumps(run_stage(args.stage, args.feed)))
        return
    if args.accuracy_child:
        print(json.dumps(run_accuracy(args.accuracy_child, args.hot_key_size, args.duplicates)))
        return
    if args.accuracy_only:
        print_accuracy(args.accuracy_mb, args.hot_key_size, args.duplicates, args.datatrove_removed)
        return

    session = record.Session("neardup", argv)
    docs = corpus(args.docs)
    sig = bench_signatures(docs, args.num_perm, args.repeat)
    print(f"signatures ({sig['docs']} docs, num_perm={args.num_perm}, 1 core; best / median of {args.repeat}):")
    print(f"  ours                         {sig['ours_sig_per_s']:10.0f} / {sig['ours_sig_per_s_median']:.0f} sig/s")
    print(f"  datasketch MinHash.bulk      {sig['datasketch_bulk_sig_per_s']:10.0f} sig/s"
          f"   ratio {sig['ratio_vs_bulk']:.1f}x / {sig['ratio_vs_bulk_median']:.1f}x (datasketch given ready shingles)")
    print(f"  datasketch incl. shingling   {sig['datasketch_with_shingling_sig_per_s']:10.0f} sig/s"
          f"   ratio {sig['ratio_vs_bulk_with_shingling']:.1f}x (both from text)")
    session.figure("sig_ours", f"signatures per second per core ({sig['docs']:,} docs, num_perm {args.num_perm})",
                   round(sig["ours_sig_per_s"]), round(sig["ours_sig_per_s_median"]))
    session.figure("sig_bulk", "datasketch `MinHash.bulk` (given ready shingles), signatures per second",
                   round(sig["datasketch_bulk_sig_per_s"]), round(sig["datasketch_bulk_sig_per_s_median"]))
    session.figure("sig_ratio", "**ours ÷ datasketch `MinHash.bulk`**", round(sig["ratio_vs_bulk"], 1),
                   round(sig["ratio_vs_bulk_median"], 1))
    session.figure("sig_ratio_sh", "ours ÷ datasketch counting its shingling", round(sig["ratio_vs_bulk_with_shingling"], 1),
                   round(sig["ratio_vs_bulk_with_shingling_median"], 1))

    print(f"near-dedup whole stage on the DirectRunner (one worker, each size in a fresh process, feed {args.feed}):")
    runs = {}
    for n in (args.small, args.large):
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--stage", str(n), "--feed", args.feed],
                                 capture_output=True, text=True,
                                 cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)))
            if out.returncode != 0:
                print(out.stderr[-3000:])
                raise SystemExit(out.returncode)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            runs.setdefault(n, []).append(r)
            print(f"  {r['docs']:6d} docs {r['mb']:6.1f} MB: {r['mb_per_s_per_core']:.2f} MB/s per core "
                  f"(cpu {r['cpu_s']:.1f}s, wall {r['wall_s']:.1f}s), kept {r['kept']}, near_duplicate {r['near_duplicate']}, "
                  f"cc_last_round_changed {r['cc_last_round_changed']}, peak RSS {r['peak_rss_mb']:.0f} MB")
    small, large = runs[args.small], runs[args.large]
    for n, rs in runs.items():
        cpu = spread([r["cpu_s"] for r in rs])
        session.figure(f"stage_{n}", f"whole stage on the DirectRunner, {n:,} docs ({rs[0]['mb']:.1f} MB, construction "
                       "included), MB/s per core", round(rs[0]["mb"] / cpu["min"], 2), round(rs[0]["mb"] / cpu["median"], 2))
    for name, pick in (("best", min), ("median", statistics.median)):
        d_cpu = pick([r["cpu_s"] for r in large]) - pick([r["cpu_s"] for r in small])
        sig[f"marginal_{name}"] = (large[0]["mb"] - small[0]["mb"]) / d_cpu if d_cpu > 0 else None
    print(f"  marginal, {small[0]['docs']} -> {large[0]['docs']} docs: {sig['marginal_best']} MB/s per core (best runs)")
    session.figure("stage_marginal", f"**whole stage at the margin** ({args.small:,} → {args.large:,} docs), MB/s per core",
                   round(sig["marginal_best"], 2) if sig["marginal_best"] else None,
                   round(sig["marginal_median"], 2) if sig["marginal_median"] else None)
    print("signing memory, batch by batch (tracemalloc peak):")
    for n in (args.small, args.large):
        peak = signature_stream_peak(n)
        print(f"  {n:6d} docs: {peak:.1f} MB")
        session.figure(f"sig_mem_{n}", f"signing memory, batch by batch (tracemalloc peak), {n:,} docs, MB", round(peak, 1))
    if args.accuracy_mb:
        print_accuracy(args.accuracy_mb, args.hot_key_size, args.duplicates, args.datatrove_removed, session)
    session.write(repeats=args.repeat)


def score_removed_file(mb: float, path: str) -> dict:
    """`score` of an id list another tool removed from the same corpus."""
    import neardup_corpus

    docs, planted = neardup_corpus.build(mb)
    removed = {line.strip() for line in open(path, encoding="utf-8") if line.strip()}
    return score(docs, planted, removed, neardup_corpus.shingle_sets(docs))


def print_accuracy(mb: float, hot_key_size: int = 0, duplicates: str = "both", datatrove_removed: str = "",
                   session=None) -> None:
    runs = []
    for mode in (("jaccard", "band_collision") if duplicates == "both" else (duplicates,)):
        out = subprocess.run([sys.executable, __file__, "--accuracy_child", str(mb), "--hot_key_size", str(hot_key_size),
                              "--duplicates", mode], capture_output=True, text=True,
                             cwd=str(ROOT), env=dict(os.environ, PYTHONPATH=str(ROOT)))
        if out.returncode != 0:
            print(out.stderr[-3000:])
            raise SystemExit(out.returncode)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    r = runs[0]
    print(f"accuracy on {r['mb']:.1f} MB ({r['docs']} docs, {r['pairs_j_ge_0.8']} planted pairs with true Jaccard >= 0.8; "
          f"llama-plus near-dedup config; targets recall >= 0.95, false removals <= 0.2%):")
    rows = [(f"ours, duplicates={x['duplicates']} (whole stage)", x,
             f"{x['mb_per_s_per_core']:.2f} MB/s/core (cpu {x['cpu_s']:.1f}s)") for x in runs]
    rows += [("datasketch MinHashLSH", x["datasketch"], f"{x['datasketch']['with_lsh_mb_per_s_per_core']:.2f} MB/s/core "
              f"(MinHash.bulk alone, the floor: {x['datasketch']['bulk_mb_per_s_per_core']:.2f})")
             for x in runs if "datasketch" in x]
    if datatrove_removed:
        rows.append(("datatrove MinHash (14 x 8, its own run)", score_removed_file(mb, datatrove_removed), ""))
    for name, x, speed in rows:
        print(f"  {name:44s} recall {x['recall']:.4f}  false removals {x['false_removals']}/{x['distinct_docs']} "
              f"= {100 * x['false_removal_rate']:.3f}%  removed {x['removed']} "
              f"(natural near-dups {x['natural_near_dups_removed']})  {speed}")
        print(f"  {'':44s} planted pairs caught by true Jaccard band: "
              + ", ".join(f"{k}: {v[0]}/{v[1]}" for k, v in x["planted_removed_by_jaccard"].items())
              + f"; of {x['pairs_one_kept']} pairs that kept one, the longer {x['kept_longer']}, the original {x['kept_original']}")
    for x in runs:
        print(f"  ours ({x['duplicates']}): hot_key_size {x['hot_key_size']}, removed ids SHA-1 {x['removed_sha1']}")
    if session is not None:  # deterministic: one run
        session.figure("acc_corpus", f"accuracy corpus (bench/neardup_corpus.py, real samples with planted copies): MB, "
                       "docs, planted pairs with Jaccard ≥ 0.8", f"{r['mb']:.1f} MB, {r['docs']:,} docs, {r['pairs_j_ge_0.8']:,}")
        named = [(f"ours, {x['duplicates']}", x) for x in runs]
        named += [("datasketch MinHashLSH", x["datasketch"]) for x in runs[:1] if "datasketch" in x]
        for name, x in named:
            session.figure(f"acc_{name}", f"**{name}: recall at Jaccard ≥ 0.8; false removals**",
                           f"{x['recall']:.4f}; {x['false_removals']} of {x['distinct_docs']:,}",
                           target="≥ 0.95; ≤ 0.2%" if name.startswith("ours") else "")
        for x in runs:
            session.figure(f"acc_sha1_{x['duplicates']}", f"ours ({x['duplicates']}): removed ids' SHA-1 "
                           f"(hot_key_size {x['hot_key_size']})", x["removed_sha1"][:12])


if __name__ == "__main__":
    main()
