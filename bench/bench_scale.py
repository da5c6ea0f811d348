"""Scale figures of the CommonCrawl path on the DirectRunner: peak RSS per MB of input, CPU per MB
per stage, and the cost model's own check (predict a 50 MB run from a 12 MB run).

    python bench/bench_scale.py [--small 12] [--large 50]

Corpora: WET files built by bench/cc_corpus.py from real C4 and Gutenberg sentences with per-site
menus (--small and --large MB of page text, 8 files each), and a one-page corpus for the fixed
cost. Each run is `python -m pipeline.run --stages=curate` in its own process, one worker; its CPU
time (user+sys) and peak RSS come from `os.wait4` on that process. Runs:
  - commoncrawl, the LLaMA recipe (read → line dedup → language id → quality → Parquet, stats),
    the quality models trained as bench/bench_commoncrawl.py trains them (reference LM from the
    real enwiki sample, classifier from a cited-texts file), so that quality is applied:
    one page, --small, --large;
  - commoncrawl with `commoncrawl.quality=false`: one page, --small (the quality stage's share);
  - c4 on the --small pages as C4 JSON lines, and on one page.
Floors, measured in the same run: a bare streaming loop over the same WET files (warcio read, SHA-1
of every line, one fastText predict per page) for CPU per MB and for RSS (the interpreter, Beam
imported, the model loaded: what any worker process holds).

Writes bench/results/scale.json: per-stage CPU s per MB (what `python -m pipeline.cost` scales),
the fixed CPU of a run, RSS per MB, and the 50-from-12 prediction with its ratio.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import cc_corpus  # noqa: E402
import record  # noqa: E402
from pipeline import cost  # noqa: E402

FLOOR = r"""
import hashlib, sys, warcio, fasttext, apache_beam
model = fasttext.load_model(sys.argv[1])
sha1 = hashlib.sha1
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        for rec in warcio.ArchiveIterator(f):
            if rec.rec_type != "conversion":
                continue
            text = rec.content_stream().read().decode("utf-8")
            for line in text.split("\n"):
                sha1(line.encode("utf-8")).digest()[:8]
            model.predict([text.replace("\n", " ")], k=1)
"""


def measured(cmd) -> tuple:
    """(CPU seconds, peak RSS MB) of one child process (and the children it waited for)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, cmd[:6]))}… failed ({proc.returncode}):\n{err[-3000:]}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def pipeline(source: str, inputs: str, out: Path, *sets: str, extra=()) -> tuple:
    cmd = [sys.executable, "-m", "pipeline.run", "--runner=DirectRunner", "--direct_num_workers=1",
           f"--sources={source}", f"--{source}_input={inputs}", f"--output={out}", "--stages=curate", *extra]
    for s in sets:
        cmd += ["--set", s]
    return measured(cmd)


def applied_quality(work: Path) -> list:
    """bench/bench_commoncrawl.py's quality arguments (the reference LM trained from the real enwiki
    sample, the classifier from a cited-texts file, `min_auc` 0), so the quality stage is applied
    and its cost measured; the recipe's bundled samples are under the LM floor (not applied, nearly
    free). Decontamination stays as the recipe has it."""
    from bench_commoncrawl import quality_args

    args = quality_args(work)
    i = args.index("decontamination.mode=off")
    return args[:i - 1] + args[i + 1:]


def quality_applied(out: Path) -> bool:
    notes = json.loads((out / "stats.json").read_text()).get("models", {})
    return bool(notes.get("reference_lm", {}).get("en", {}).get("applied"))


def c4_json(pages, path: Path) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for url, text in pages:
            f.write(json.dumps({"url": url, "text": text, "timestamp": "2023-03-01T00:00:00Z"}) + "\n")


def corpus(work: Path, name: str, mb: float, seed: int):
    paths, texts, nbytes = cc_corpus.build(str(work / name), mb, files=8 if mb > 1 else 1, seed=seed)
    return paths, texts, nbytes / 1e6


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=float, default=12.0)
    ap.add_argument("--large", type=float, default=50.0)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    lid = str(ROOT.parent / "shared" / "data" / "models" / "lid.176.ftz")
    try:
        one, _, one_mb = corpus(work, "one", 0.000001, 1)
        small, small_texts, small_mb = corpus(work, "small", args.small, 0)
        large, _, large_mb = corpus(work, "large", args.large, 2)
        glob = lambda name: str(work / name / "*.wet.gz")  # noqa: E731
        no_quality = "commoncrawl.quality=false"

        floor_small = measured([sys.executable, "-c", FLOOR, lid, *small])
        floor_large = measured([sys.executable, "-c", FLOOR, lid, *large])
        quality = applied_quality(work)
        cc_one = pipeline("commoncrawl", glob("one"), work / "o1", extra=quality)
        cc_small = pipeline("commoncrawl", glob("small"), work / "o2", extra=quality)
        cc_large = pipeline("commoncrawl", glob("large"), work / "o3", extra=quality)
        if not (quality_applied(work / "o2") and quality_applied(work / "o3")):
            raise SystemExit("the quality stage's reference LM was not applied: its cost would not be measured")
        nq_one = pipeline("commoncrawl", glob("one"), work / "o4", no_quality)
        nq_small = pipeline("commoncrawl", glob("small"), work / "o5", no_quality)
        # The same pages as C4 JSON lines (C4's own rules, span dedup, language id).
        pages = []
        for i, text in enumerate(small_texts):
            pages.append((f"https://site.example.com/{i}", text))
        (work / "c4").mkdir()
        c4_json(pages, work / "c4" / "c4-train.00000-of-00001.json.gz")
        (work / "c4one").mkdir()
        c4_json(pages[:1], work / "c4one" / "c4-train.00000-of-00001.json.gz")
        c4_small = pipeline("c4", str(work / "c4" / "*.json.gz"), work / "o6")
        c4_one = pipeline("c4", str(work / "c4one" / "*.json.gz"), work / "o7")

        fixed = cc_one[0]
        per_mb = (cc_small[0] - fixed) / small_mb
        predicted = cost.predict_run_cpu_s(fixed, per_mb, large_mb)  # the cost model's own rule
        ratio = max(predicted, cc_large[0]) / min(predicted, cc_large[0])
        rss_per_mb = (cc_large[1] - cc_small[1]) / (large_mb - small_mb)
        floor_rss_per_mb = (floor_large[1] - floor_small[1]) / (large_mb - small_mb)
        read_dedup_lid = (nq_small[0] - nq_one[0]) / small_mb
        quality = per_mb - read_dedup_lid
        c4_per_mb = (c4_small[0] - c4_one[0]) / small_mb
        floor_per_mb = (floor_large[0] - floor_small[0]) / (large_mb - small_mb)  # the model load cancels

        print(f"corpora: {small_mb:.1f} MB and {large_mb:.1f} MB of WET page text (8 files each), one page ({one_mb * 1e6:.0f} B)")
        print(f"floor (warcio + SHA-1 per line + fastText per page): {floor_per_mb:.3f} CPU s/MB, "
              f"peak RSS {floor_small[1]:.0f} MB at {small_mb:.0f} MB, {floor_large[1]:.0f} MB at {large_mb:.0f} MB")
        print(f"commoncrawl (LLaMA recipe): fixed {fixed:.1f} CPU s; {per_mb:.3f} CPU s/MB "
              f"({1 / per_mb:.2f} MB/s/core; floor {1 / floor_per_mb:.2f}; ratio {floor_per_mb / per_mb:.2f})")
        print(f"  read + line dedup + language id {read_dedup_lid:.3f} CPU s/MB (ratio to floor "
              f"{floor_per_mb / read_dedup_lid:.2f}), quality {quality:.3f} CPU s/MB")
        print(f"c4 (rules, span dedup, language id): {c4_per_mb:.3f} CPU s/MB")
        print(f"peak RSS: one page {cc_one[1]:.0f} MB, {small_mb:.0f} MB → {cc_small[1]:.0f} MB, "
              f"{large_mb:.0f} MB → {cc_large[1]:.0f} MB: {rss_per_mb:.2f} MB of RSS per MB of WET text "
              f"(floor {floor_rss_per_mb:.2f})")
        print(f"cost model check: {large_mb:.0f} MB predicted from {small_mb:.0f} MB = {predicted:.1f} CPU s, "
              f"measured {cc_large[0]:.1f} CPU s, ratio {ratio:.2f} (target <= 1.3)")
        basis = "bench/bench_scale.py: (CPU of the corpus run - CPU of a one-page run) / MB of WET page text"
        path = record.write(
            "scale",
            {"commoncrawl_read_dedup_lid": record.stage(small_mb, nq_small[0] - nq_one[0], basis),
             "commoncrawl_quality": record.stage(small_mb, quality * small_mb, "difference of the runs with and without quality"),
             "c4": record.stage(small_mb, c4_small[0] - c4_one[0], basis.replace("WET page text", "C4 JSON text"))},
            fixed_cpu_s=round(fixed, 2),
            rss_mb_per_input_mb=round(rss_per_mb, 3), floor_rss_mb_per_input_mb=round(floor_rss_per_mb, 3),
            rss_mb={"one_page": round(cc_one[1]), f"{small_mb:.0f}MB": round(cc_small[1]), f"{large_mb:.0f}MB": round(cc_large[1])},
            validation={"small_mb": round(small_mb, 2), "large_mb": round(large_mb, 2), "predicted_cpu_s": round(predicted, 2),
                        "measured_cpu_s": round(cc_large[0], 2), "ratio": round(ratio, 3)})
        print(f"wrote {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
