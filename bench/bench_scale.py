"""Scale figures of the CommonCrawl path on the DirectRunner: peak RSS per MB of input at two
sizes, the cost model's own check (a run predicted from a smaller one), and the C4 path's CPU per MB.

    python bench/bench_scale.py [--small 8] [--large 32] [--repeats 3]

Corpora: WET files built by bench/cc_corpus.py from real C4 and Gutenberg sentences with per-site
menus (--small and --large MB of page text, 8 files each), and a one-page corpus for the fixed
cost. Each run is `python -m pipeline.run --stages=curate` in its own process, one worker; its CPU
time (user+sys) and peak RSS come from `os.wait4` on that process. Per round:
  - commoncrawl, the chain bench/bench_commoncrawl.py measures (its PINNED settings: the reference
    LM trained from the real enwiki sample, the classifier from a cited-texts file, applied):
    one page, --small, --large;
  - c4 on the --small pages as C4 JSON lines, and on one page (C4's rules, span dedup, language id).
Floor, in the same rounds: a bare streaming loop over the same WET files (warcio read, SHA-1 of every
line, one fastText predict per page): its RSS (the interpreter, Beam imported, the model loaded)
and its CPU per MB, printed beside the chain's and the C4 path's.
The CommonCrawl chain's own CPU per MB (for `python -m pipeline.cost`) is bench_commoncrawl.py's.

Writes bench/results/scale.json: the C4 path's CPU s per MB, the fixed CPU of a run, RSS per MB,
and the large run predicted from the small one with its ratio; best and median of --repeats rounds.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ENWIKI = ROOT.parent / "shared" / "data" / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

from bench import cc_corpus, record  # noqa: E402
from bench.bench_commoncrawl import PINNED  # noqa: E402
from bench.cputime import run_child, spread  # noqa: E402
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


def measured(cmd, cwd=None) -> tuple:
    """(CPU seconds, peak RSS MiB) of one child process (and the children it waited for)."""
    usage = run_child(cmd, cwd=cwd or ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return usage.cpu_s, usage.peak_rss_mb


def pipeline(source: str, inputs: str, out: Path, sets=(), cwd=None) -> tuple:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "pipeline.run", "--runner=DirectRunner", "--direct_num_workers=1",
           f"--sources={source}", f"--{source}_input={inputs}", f"--output={out}", "--stages=curate"]
    if source == "commoncrawl":
        cmd.append(f"--wikipedia_input={ENWIKI}")
    for s in sets:
        cmd += ["--set", s]
    return measured(cmd, cwd)


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
    ap.add_argument("--small", type=float, default=8.0)
    ap.add_argument("--large", type=float, default=32.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    session = record.Session("scale", argv)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    lid = str(ROOT.parent / "shared" / "data" / "models" / "lid.176.ftz")
    try:
        from tests.quality_fixtures import web_prose

        (work / "cited.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in web_prose()), encoding="utf-8")
        one, _, one_mb = corpus(work, "one", 0.000001, 1)
        small, small_texts, small_mb = corpus(work, "small", args.small, 0)
        large, _, large_mb = corpus(work, "large", args.large, 2)
        glob = lambda name: str(work / name / "*.wet.gz")  # noqa: E731
        pages = [(f"https://site.example.com/{i}", text) for i, text in enumerate(small_texts)]
        (work / "c4").mkdir()
        c4_json(pages, work / "c4" / "c4-train.00000-of-00001.json.gz")
        (work / "c4one").mkdir()
        c4_json(pages[:1], work / "c4one" / "c4-train.00000-of-00001.json.gz")
        keys = ("floor_small", "floor_large", "cc_one", "cc_small", "cc_large", "c4_one", "c4_small")
        runs = {k: [] for k in keys}
        for r in range(args.repeats):  # interleaved: a busy spell of the machine hurts every side alike
            runs["floor_small"].append(measured([sys.executable, "-c", FLOOR, lid, *small]))
            runs["floor_large"].append(measured([sys.executable, "-c", FLOOR, lid, *large]))
            for name in ("one", "small", "large"):
                runs[f"cc_{name}"].append(pipeline("commoncrawl", glob(name), work / f"cc-{name}", PINNED, cwd=work))
            if not (quality_applied(work / "cc-small") and quality_applied(work / "cc-large")):
                raise SystemExit("the quality stage's reference LM was not applied: its cost would not be measured")
            runs["c4_small"].append(pipeline("c4", str(work / "c4" / "*.json.gz"), work / "c4-small"))
            runs["c4_one"].append(pipeline("c4", str(work / "c4one" / "*.json.gz"), work / "c4-one"))
            print(f"round {r + 1}: " + ", ".join(f"{k} {runs[k][-1][0]:.1f} CPU s / {runs[k][-1][1]:.0f} MiB" for k in keys),
                  flush=True)
        report(session, args, runs, one_mb, small_mb, large_mb)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(session, args, runs, one_mb, small_mb, large_mb) -> None:
    cpu = {k: [c for c, _ in v] for k, v in runs.items()}
    rss = {k: [m for _, m in v] for k, v in runs.items()}
    out = {}
    for name, pick in (("best", min), ("median", statistics.median)):
        c = {k: pick(v) for k, v in cpu.items()}
        m = {k: pick(v) for k, v in rss.items()}
        per_mb = (c["cc_small"] - c["cc_one"]) / small_mb
        predicted = cost.predict_run_cpu_s(c["cc_one"], per_mb, large_mb)  # the cost model's own rule
        out[name] = {"fixed": c["cc_one"], "per_mb": per_mb, "predicted": predicted, "large": c["cc_large"],
                     "ratio": max(predicted, c["cc_large"]) / min(predicted, c["cc_large"]),
                     "c4_per_mb": (c["c4_small"] - c["c4_one"]) / small_mb,
                     "rss_per_mb": (m["cc_large"] - m["cc_small"]) / (large_mb - small_mb),
                     "floor_rss_per_mb": (m["floor_large"] - m["floor_small"]) / (large_mb - small_mb),
                     "floor_per_mb": (c["floor_large"] - c["floor_small"]) / (large_mb - small_mb),
                     "rss": {k: m[k] for k in ("cc_one", "cc_small", "cc_large", "floor_small", "floor_large")}}
    b, md = out["best"], out["median"]
    print(f"corpora: {small_mb:.1f} MB and {large_mb:.1f} MB of WET page text (8 files each), one page ({one_mb * 1e6:.0f} B)")
    for name, x in out.items():
        print(f"{name}: commoncrawl fixed {x['fixed']:.1f} CPU s, {x['per_mb']:.3f} CPU s/MB from the small run; "
              f"{large_mb:.0f} MB predicted {x['predicted']:.1f} CPU s, measured {x['large']:.1f}: ratio {x['ratio']:.2f} "
              f"(target <= 1.3); C4 path {x['c4_per_mb']:.3f} CPU s/MB; floor {x['floor_per_mb']:.3f} CPU s/MB; peak RSS {x['rss']['cc_one']:.0f} / "
              f"{x['rss']['cc_small']:.0f} / {x['rss']['cc_large']:.0f} MiB: {x['rss_per_mb']:.2f} MiB per MB "
              f"(floor {x['floor_rss_per_mb']:.2f})")
    r2 = lambda v: round(v, 2)  # noqa: E731
    session.figure("corpus", "corpora: bench/cc_corpus.py pages (real C4 + Gutenberg sentences, site menus), MB",
                   f"one page, {small_mb:.1f}, {large_mb:.1f}")
    session.figure("fixed", "commoncrawl (bench_commoncrawl's chain), one-page run, CPU s", r2(b["fixed"]), r2(md["fixed"]))
    session.figure("per_mb", f"commoncrawl, CPU s per MB from the {small_mb:.0f} MB run (minus the one-page run)",
                   round(b["per_mb"], 3), round(md["per_mb"], 3))
    session.figure("floor_per_mb", f"floor (warcio + SHA-1 + one fastText predict a page), CPU s per MB "
                   f"({small_mb:.0f} → {large_mb:.0f} MB)", round(b["floor_per_mb"], 3), round(md["floor_per_mb"], 3))
    session.figure("predicted", f"cost-model check: the {large_mb:.0f} MB run predicted from the {small_mb:.0f} MB run, "
                   "CPU s", r2(b["predicted"]), r2(md["predicted"]))
    session.figure("measured", f"  measured, CPU s", r2(b["large"]), r2(md["large"]))
    session.figure("ratio", "**predicted vs measured** (larger ÷ smaller)", r2(b["ratio"]), r2(md["ratio"]), target="≤ 1.3")
    for k, label in (("cc_one", "one page"), ("cc_small", f"{small_mb:.0f} MB"), ("cc_large", f"{large_mb:.0f} MB")):
        session.figure(f"rss_{k}", f"commoncrawl peak RSS, {label}, MiB", round(b["rss"][k]), round(md["rss"][k]))
    session.figure("rss_per_mb", f"**peak RSS per MB of WET text** ({small_mb:.0f} → {large_mb:.0f} MB), MiB",
                   r2(b["rss_per_mb"]), r2(md["rss_per_mb"]))
    session.figure("floor_rss", "floor (warcio + SHA-1 + fastText, streaming): peak RSS, MiB",
                   round(b["rss"]["floor_large"]), round(md["rss"]["floor_large"]))
    session.figure("c4", "the C4 path (rules, span dedup, language id), CPU s per MB", round(b["c4_per_mb"], 3),
                   round(md["c4_per_mb"], 3))
    session.write(stages={"c4": record.rate(b["c4_per_mb"], md["c4_per_mb"],
                                            "bench/bench_scale.py: (CPU of the C4 run - CPU of a one-page run) / MB of C4 JSON text")},
                  repeats=args.repeats, rss_mb_per_input_mb=round(b["rss_per_mb"], 3),
                  rss_mb_per_input_mb_median=round(md["rss_per_mb"], 3))


if __name__ == "__main__":
    main()
