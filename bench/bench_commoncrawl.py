"""The CommonCrawl chain in CPU seconds per MB at the margin, beside its floor measured in the same
run; its linearity on real pages; its peak memory per MB.

    python bench/bench_commoncrawl.py [--corpus real|sidebar] [--copies 1,4,20] [--margin 4,20] [--repeats 5]

Corpus (WET files in Common Crawl's layout; MB = 10^6 bytes of the conversion records' payloads):
- `real` (the default): the 264 real crawled pages of ../shared/data (tests/real_pages.py:
  trafilatura's 250 evaluation pages with every visible line, the CC-MAIN-2020-34 excerpt, dolma's
  WARC sample; English, German, a few others; 3.0 MB), in 1, 4 and 20 copies made distinct
  (`cc_corpus.distinct_copy`: inner spaces, which line dedup keeps and the models ignore), so that
  k copies are k times the work and line dedup does not saturate (20 copies: 66 MB);
- `sidebar`: bench/cc_corpus.py's pages of real C4 and Gutenberg sentences with their sites' menus,
  sidebars and footers (line dedup removes about half the characters), `--megabytes` per copy.
Floors and quality-off runs at the two --margin sizes only.
Chain: `python -m pipeline.run --stages=curate --sources=commoncrawl`, DirectRunner, one worker,
each run in its own process: read → line dedup (whole run) → language id → quality (the reference
LM trained in the run from the real enwiki sample, `--wikipedia_input`; cutoffs at the run's 30th
and 60th percentiles; the classifier trained from a file of real prose, `min_auc` 0 so that it is
applied) → Parquet, stats; decontamination off (bench_decontam.py measures it). Also with
`commoncrawl.quality=false` (read → line dedup → language id → Parquet): the quality stage's share.
Floor: each step as a bare library loop over the pages the chain's step sees (found with the
project's reference functions beforehand, not timed), in this process, in the same rounds:
read (warcio, payload decoded), line hash (cc_net's: SHA-1 of every non-empty line after its dedup
normalisation, `dedup.line_dedup.normalized_line_bytes`, the fastest exact form), language id (fastText lid.176 on
each deduplicated page), perplexity (normalize_document + SentencePiece + KenLM on each English
page, with the run's own LM), classifier (fastText on each head/middle page, the run's own models),
Parquet (pyarrow, zstd, the kept pages). The floor's kept pages are checked equal to the chain's.
Margin: the CPU of the 20-copy run minus the 4-copy run, per MB (a run's fixed work, start-up,
graph, training the LM and the classifier, cancels; ~50 MB apart, so that the added work is several
times the fixed part and its noise: at 4 → 10 copies, 19 MB apart, the ratio moved 1.4-1.8 from run to
run), for the chain and for the floor. `best` takes each side's least CPU over the rounds (the least
disturbed run), `median` its median; the rounds' own ratios (chain and floor measured back to back)
are printed and recorded beside them. Linearity: the CPU per MB added from 4 to 20 copies
over that from 1 to 4 (1.0 = linear), and the 20-copy run predicted from the 1- and 4-copy runs (at
1, 2 and 4 copies the steps were 3 and 6 MB, a second or two of CPU, and the figure read 0.67 to 5.3).
Memory: each run's peak RSS (`os.wait4`), its slope from the smaller margin size to the larger
(below a few MB the peak is the fixed part's: training the reference LM, not the pages). Every size runs --repeats times,
interleaved; the best and the median run go to bench/results/commoncrawl.json.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cc_corpus, record  # noqa: E402
from bench.cputime import cpu, run_child  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LID = DATA / "models" / "lid.176.ftz"
ENWIKI = DATA / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SOURCE = "commoncrawl"
# Every setting the measured chain depends on, named: the llama recipe's defaults may move (cc_net's
# published models, per-language cutoffs, line dedup in shard groups) without moving this benchmark.
PINNED = ["commoncrawl.min_chars=300", 'commoncrawl.line_dedup.scope="global"', "commoncrawl.language.threshold=0.5",
          'quality.lm.sp_model="auto"', 'quality.lm.kenlm_model="auto"', 'quality.perplexity.mode="document"',
          'quality.perplexity.cutoffs.mode="computed"', "quality.perplexity.cutoffs.head_percentile=30",
          "quality.perplexity.cutoffs.middle_percentile=60", "quality.wikiref.enabled=true",
          "quality.wikiref.model=null", 'quality.wikiref.cited_texts="cited.jsonl"',
          "quality.wikiref.min_positives=20", "quality.wikiref.min_auc=0", "quality.wikiref.threshold=0.25",
          "quality.wikiref.folds=2", "quality.wikiref.max_chars=20000", 'decontamination.mode="off"']
MIN_CHARS, THRESHOLD, FOLDS, MAX_CHARS, LID_THRESHOLD = 300, 0.25, 2, 20000, 0.5


# ---------------------------------------------------------------- the chain ------------------
def chain(work: Path, corpus: Path, out: Path, quality: bool):
    """(CPU seconds, peak RSS MiB) of one run of the chain, in its own process."""
    shutil.rmtree(out, ignore_errors=True)
    sets = PINNED + ([] if quality else ["commoncrawl.quality=false"])
    cmd = [sys.executable, "-m", "pipeline.run", "--runner=DirectRunner", "--direct_num_workers=1",
           f"--sources={SOURCE}", f"--commoncrawl_input={corpus}/*.wet.gz", f"--output={out}", "--stages=curate",
           f"--wikipedia_input={ENWIKI}"] + [a for s in sets for a in ("--set", s)]
    # From the work folder: the cited-texts file is named relatively (its name orders the training).
    usage = run_child(cmd, cwd=work, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if quality:
        notes = json.loads((out / "stats.json").read_text()).get("models", {})
        if not (notes.get("reference_lm", {}).get("en", {}).get("applied") and notes.get("wikiref_training", {}).get("applied")):
            raise SystemExit("the quality stage's LM or classifier was not applied: its cost would not be measured")
    return usage.cpu_s, usage.peak_rss_mb


def docs_out(out: Path) -> int:
    return json.loads((out / "stats.json").read_text())["sources"][SOURCE]["docs_out"]


# ---------------------------------------------------------------- the floor ------------------
class Pages:
    """A corpus as the floor's loops see it: the WET files, and per page (id, url, body) with the
    bodies line dedup leaves (the project's reference semantics), found once, untimed."""

    def __init__(self, corpus: Path):
        import warcio

        from common.record import make_id
        from dedup.line_dedup import dedup_in_memory
        from pipeline.sources.webtext import wet_title_and_body

        self.files = sorted(glob.glob(str(corpus / "*.wet.gz")))
        self.payload_bytes = 0
        ids, urls, bodies = [], [], []
        for path in self.files:
            with open(path, "rb") as f:
                for rec in warcio.ArchiveIterator(f):
                    if rec.rec_type != "conversion":
                        continue
                    payload = rec.content_stream().read()
                    self.payload_bytes += len(payload)
                    body = wet_title_and_body(payload.decode("utf-8"))[1]
                    if len(body) < MIN_CHARS:
                        continue
                    url = rec.rec_headers.get_header("WARC-Target-URI")
                    ids.append(make_id(SOURCE, rec.rec_headers.get_header("WARC-Record-ID"), url))
                    urls.append(url)
                    bodies.append(body)
        self.bodies = bodies
        self.deduped = [(i, u, t) for i, u, t in zip(ids, urls, dedup_in_memory(bodies)) if t]

    @property
    def mb(self) -> float:
        return self.payload_bytes / 1e6


def floor(pages: Pages, models: Path, quality: bool) -> tuple:
    """({step: CPU seconds}, pages kept, bytes of text language id keeps) of the bare loops over the
    pages each step sees."""
    import fasttext
    import kenlm
    import pyarrow as pa
    import pyarrow.parquet as pq
    import sentencepiece as spm
    import warcio

    from dedup.line_dedup import normalized_line_bytes
    from filters import perplexity as ppl
    from filters.text_normalizer import normalize_document
    from filters.wikiref import POSITIVE
    from pipeline.quality import fold_of

    lid = fasttext.load_model(str(LID))
    steps = {}

    start = cpu()
    for path in pages.files:
        with open(path, "rb") as f:
            for rec in warcio.ArchiveIterator(f):
                if rec.rec_type == "conversion":
                    rec.content_stream().read().decode("utf-8")
    steps["read"] = cpu() - start

    # cc_net's line hash: SHA-1 of each line after its dedup normalisation (strip, lowercase, digits
    # to 0, punctuation deleted), in the fastest form we have (whole-text passes, exact per line).
    sha1 = hashlib.sha1
    start = cpu()
    for body in pages.bodies:
        for line in normalized_line_bytes(body):
            if line:
                sha1(line).digest()[:8]
    steps["line hash"] = cpu() - start

    start = cpu()
    predictions = [lid.predict([t.replace("\n", " ")], k=1) for _, _, t in pages.deduped]
    steps["language id"] = cpu() - start
    kept = [p for p, (labels, scores) in zip(pages.deduped, predictions)
            if labels[0] and labels[0][0] == "__label__en" and scores[0][0] >= LID_THRESHOLD]
    reach = sum(len(t.encode("utf-8")) for _, _, t in kept)

    if quality:
        sp = spm.SentencePieceProcessor(model_file=str(models / "en.sp.model"))
        lm = kenlm.Model(str(models / "en.arpa.bin"))
        start = cpu()
        scores = []
        for _, _, text in kept:
            line = " ".join(sp.encode(normalize_document(text), out_type=str))
            scores.append(lm.score(line, bos=True, eos=True) / (len(line.split()) + 1))
        steps["perplexity"] = cpu() - start
        values = [round(10.0 ** -s, 1) for s in scores]
        cutoffs = ppl.exact_cutoffs(values, 30, 60)
        kept = [p for p, v in zip(kept, values) if ppl.bucket_of(v, cutoffs) in ("head", "middle")]

        classifiers = [fasttext.load_model(str(models / f"wikiref.fold{f}.bin")) for f in range(FOLDS)]
        start = cpu()
        probs = [classifiers[fold_of(i, FOLDS)].predict([" ".join(t[:MAX_CHARS].lower().split())], k=2)
                 for i, _, t in kept]
        steps["classifier"] = cpu() - start
        kept = [p for p, (labels, ps) in zip(kept, probs)
                if dict(zip(labels[0], ps[0])).get(POSITIVE, 0.0) >= THRESHOLD]

    start = cpu()
    table = pa.table({"id": [i for i, _, _ in kept], "text": [t for _, _, t in kept],
                      "url": [u for _, u, _ in kept], "meta": ["{}"] * len(kept)})
    pq.write_table(table, io.BytesIO(), compression="zstd")
    steps["Parquet"] = cpu() - start
    return steps, len(kept), reach


# ---------------------------------------------------------------- figures --------------------
def slope(xs, ys) -> tuple:
    """(slope, intercept) of the least-squares line."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return b, my - b * mx


def per_round_ratios(runs, floors, margin, d_mb) -> list:
    """chain ÷ floor at the margin of each round, from that round's runs alone."""
    lo, hi = margin
    out = []
    for r in range(len(runs[(True, hi)])):
        chain = (runs[(True, hi)][r] - runs[(True, lo)][r]) / d_mb
        floor_ = (sum(floors[(True, hi)][r].values()) - sum(floors[(True, lo)][r].values())) / d_mb
        out.append(chain / floor_)
    return out


def sizes_arg(text: str) -> list:
    return sorted({int(c) for c in text.split(",")})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=("real", "sidebar"), default="real")
    ap.add_argument("--copies", default="1,4,20", help="sizes (copies of the corpus) of the linearity check")
    ap.add_argument("--margin", default="4,20", help="the two sizes whose difference is the margin")
    ap.add_argument("--megabytes", type=float, default=3.0, help="sidebar corpus: MB per copy")
    ap.add_argument("--repeats", type=int, default=5, help="rounds; each runs every size, interleaved")
    args = ap.parse_args(argv)
    copies, margin = sizes_arg(args.copies), sizes_arg(args.margin)
    if len(margin) != 2:
        raise SystemExit("--margin: two sizes (e.g. 4,20)")
    sizes = sorted(set(copies) | set(margin))
    session = record.Session("commoncrawl" if args.corpus == "real" else "commoncrawl_sidebar", argv)
    work = Path(tempfile.mkdtemp(prefix="bench-cc-"))
    try:
        from tests.quality_fixtures import web_prose

        (work / "cited.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in web_prose()), encoding="utf-8")
        pages = {}
        for k in sizes:
            if args.corpus == "real":
                cc_corpus.build_real(str(work / f"c{k}"), k)
            else:
                cc_corpus.build(str(work / f"c{k}"), args.megabytes * k, files=4, seed=k, sidebar=True)
            pages[k] = Pages(work / f"c{k}")
        mb = {k: pages[k].mb for k in sizes}
        runs = {(q, k): [] for q in (True, False) for k in sizes}
        rss = {k: [] for k in sizes}
        floors = {(q, k): [] for q in (True, False) for k in margin}
        kept, reach = {}, {}
        for r in range(args.repeats):  # interleaved: a busy spell of the machine hurts every side alike
            for k in sizes:
                for q in ((True, False) if k in margin else (True,)):
                    out = work / f"out-{int(q)}-{k}"
                    cpu_s, peak = chain(work, work / f"c{k}", out, q)
                    runs[(q, k)].append(cpu_s)
                    if q:
                        rss[k].append(peak)
                    if k in margin:
                        steps, n, reach[k] = floor(pages[k], work / f"out-1-{k}" / "models", q)
                        floors[(q, k)].append(steps)
                        kept[(q, k)] = (n, docs_out(out))
            print(f"round {r + 1}: chain CPU s {[round(runs[(True, k)][-1], 2) for k in sizes]} (sizes {sizes}), "
                  f"quality off {[round(runs[(False, k)][-1], 2) for k in margin]}, floor "
                  f"{[round(sum(floors[(True, k)][-1].values()), 2) for k in margin]} (sizes {margin})", flush=True)
        for (q, k), (n, chained) in sorted(kept.items()):
            if n != chained:
                print(f"WARNING: the floor kept {n} pages, the chain {chained} ({k} copies, quality {q}): "
                      "the floor does not walk the chain's pages")
        result = report(session, args, copies, margin, mb, runs, rss, floors, kept, reach)
        session.write(stages=result.pop("stages"), repeats=args.repeats, **result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def report(session, args, copies, margin, mb, runs, rss, floors, kept, reach) -> dict:
    lo, hi = margin
    d_mb = mb[hi] - mb[lo]
    pick = {"best": min, "median": statistics.median}
    fig = {}
    for name, f in pick.items():
        total = lambda q, k: f([sum(s.values()) for s in floors[(q, k)]])  # noqa: E731
        chain_q = (f(runs[(True, hi)]) - f(runs[(True, lo)])) / d_mb
        fig[name] = {
            "chain": chain_q, "chain_nq": (f(runs[(False, hi)]) - f(runs[(False, lo)])) / d_mb,
            "floor": (total(True, hi) - total(True, lo)) / d_mb, "floor_nq": (total(False, hi) - total(False, lo)) / d_mb,
            "steps": {s: (f([x[s] for x in floors[(True, hi)]]) - f([x[s] for x in floors[(True, lo)]])) / d_mb
                      for s in floors[(True, hi)][0]},
            "fixed": f(runs[(True, lo)]) - chain_q * mb[lo],
            "cost": {k: f(runs[(True, k)]) for k in mb}, "rss": slope([mb[lo], mb[hi]], [f(rss[lo]), f(rss[hi])])}
    b, m = fig["best"], fig["median"]
    r2 = lambda v: round(v, 2)  # noqa: E731
    r3 = lambda v: round(v, 3)  # noqa: E731
    r4 = lambda v: round(v, 4)  # noqa: E731
    tb = lambda s: round(s * 1e6 / 3600)  # CPU s per MB → CPU-hours per TB  # noqa: E731
    what = ("the 264 real pages of ../shared/data" if args.corpus == "real" else
            f"bench/cc_corpus.py's sidebar pages, {args.megabytes:g} MB")
    listed = ", ".join(f"{k} ({mb[k]:.1f} MB)" for k in sorted(mb))
    session.figure("corpus", "corpus × copies (MB of WET text)", f"{what} × {listed}")
    session.figure("chain_margin", f"chain at the margin ({lo} → {hi} copies), CPU s per MB", r4(b["chain"]),
                   r4(m["chain"]))
    session.figure("chain_tb", "the same in CPU-hours per TB of WET text", tb(b["chain"]), tb(m["chain"]))
    session.figure("floor_margin", "floor at the margin (the bare loops summed), CPU s per MB", r4(b["floor"]),
                   r4(m["floor"]))
    for step in b["steps"]:
        session.figure(f"floor_{step}", f"  floor: {step}, CPU s per MB", r4(b["steps"][step]), r4(m["steps"][step]))
    session.figure("ratio", "**chain ÷ floor at the margin**", r2(b["chain"] / b["floor"]), r2(m["chain"] / m["floor"]),
                   target="≤ 1.5")
    rounds = per_round_ratios(runs, floors, margin, d_mb)
    session.figure("ratio_rounds", "the same, each round's own (chain and floor back to back): median (least–most)",
                   f"{statistics.median(rounds):.2f} ({min(rounds):.2f}–{max(rounds):.2f})")
    session.figure("ratio_off", "quality off (read → line dedup → language id → Parquet) ÷ its floor, at the margin",
                   r2(b["chain_nq"] / b["floor_nq"]), r2(m["chain_nq"] / m["floor_nq"]))
    session.figure("fixed", "chain's fixed CPU s a run (start-up, graph, the LM's and the classifier's training)",
                   r2(b["fixed"]), r2(m["fixed"]))
    for k in sorted(mb):
        session.figure(f"run_{k}", f"chain, whole run on {k} cop{'y' if k == 1 else 'ies'} ({mb[k]:.1f} MB), CPU s",
                       r2(b["cost"][k]), r2(m["cost"][k]))
    if len(copies) >= 3:
        k1, k2, k3 = copies[:3]
        for name in pick:
            c = fig[name]["cost"]
            step1 = (c[k2] - c[k1]) / (mb[k2] - mb[k1])
            step2 = (c[k3] - c[k2]) / (mb[k3] - mb[k2])
            fig[name]["linear"] = step2 / step1
            fig[name]["predicted"] = (c[k1] + step1 * (mb[hi] - mb[k1])) / c[hi]
        session.figure("linearity", f"**linearity**: CPU per MB added from {k2} to {k3} copies ÷ from {k1} to {k2}",
                       r2(b["linear"]), r2(m["linear"]), target="1.0 = linear")
        session.figure("predicted", f"the {hi}-copy run predicted from the {k1}- and {k2}-copy runs ÷ measured",
                       r2(b["predicted"]), r2(m["predicted"]), target="1.0")
    session.figure("rss_per_mb", f"**peak RSS per MB of WET text** (from {lo} to {hi} copies), MiB", r3(b["rss"][0]),
                   r3(m["rss"][0]))
    session.figure("rss_fixed", "peak RSS, fixed part (that line at 0 MB), MiB", round(b["rss"][1]), round(m["rss"][1]))
    n, chained = kept[(True, hi)]
    session.figure("kept", f"pages kept on {hi} copies: chain (floor)", f"{chained:,} ({n:,})")
    print("each round's ratio: " + ", ".join(f"{v:.2f}" for v in rounds))
    for name in pick:
        x = fig[name]
        print(f"{name}: chain {x['chain']:.4f} CPU s/MB ({tb(x['chain'])} CPU-h/TB) + {x['fixed']:.2f} s a run; floor "
              f"{x['floor']:.4f} ({', '.join(f'{s} {v:.4f}' for s, v in x['steps'].items())}); ratio "
              f"{x['chain'] / x['floor']:.2f} (target <= 1.5); quality off: chain {x['chain_nq']:.4f}, floor "
              f"{x['floor_nq']:.4f}; linearity {x.get('linear', float('nan')):.2f}; peak RSS {x['rss'][1]:.0f} MiB + "
              f"{x['rss'][0]:.3f} MiB per MB")
    # For python -m pipeline.cost: read → line dedup → language id per MB of WET text, and the
    # quality stage per MB that reaches it (the text language id keeps), as the cost model scales them.
    share = reach[hi] / (mb[hi] * 1e6)
    basis = f"bench/bench_commoncrawl.py --corpus {args.corpus}: the chain's CPU from {lo} to {hi} copies, per MB"
    stages = {
        "commoncrawl_read_dedup_lid": record.rate(b["chain_nq"], m["chain_nq"], basis + " of WET text, quality off"),
        "commoncrawl_quality": record.rate(
            (b["chain"] - b["chain_nq"]) / share, (m["chain"] - m["chain_nq"]) / share,
            basis + f" of the text language id keeps ({share:.1%} of the input), quality on minus off"),
    }
    session.figure("quality_share", "share of the WET text that reaches the quality stage", f"{share:.1%}")
    if args.corpus != "real":  # the cost model's rates come from the real pages only
        stages = {}
    return {"stages": stages, "rss_mb_per_input_mb": round(b["rss"][0], 3),
            "rss_mb_per_input_mb_median": round(m["rss"][0], 3),
            "series": {"mb": {str(k): round(mb[k], 4) for k in sorted(mb)},
                       "chain_cpu_s": {str(k): runs[(True, k)] for k in sorted(mb)},
                       "chain_off_cpu_s": {str(k): runs[(False, k)] for k in margin},
                       "peak_rss_mib": {str(k): rss[k] for k in sorted(mb)},
                       "floor_cpu_s": {str(k): floors[(True, k)] for k in margin},
                       "floor_off_cpu_s": {str(k): floors[(False, k)] for k in margin}}}


if __name__ == "__main__":
    sys.exit(main())
