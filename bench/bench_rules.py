"""Web rules throughput (CPU time): each rule set against a bare-Python floor of the same rules,
and the llama-plus stage in Beam against the sum of the floors, all in the same run.

    .venv/bin/python bench/bench_rules.py [--mb 8] [--repeat 3] [--datatrove_python /tmp/ref24/bin/python]

Text: the 291 real pages of tests/web_pages.py (C4, CCNet, crawled boilerplate and trafilatura's
evaluation pages, ~2 MB) repeated to --mb. Each side is timed by CPU time (this process plus reaped
children), --repeat runs: the best and the median go to bench/results/rules.json.
- floors: the rules written plainly, one measure after another, over the same tokens (the same
  `words` regular expression: the tokenizer is the rules' library call, as SentencePiece is the
  perplexity floor's): per token class tests, n-gram tuples through zip, sets and Counters, no
  caches or shortcuts; PII: the three patterns' `sub` with the `ipaddress` check on every page.
- ours: `gopher_stats` + `GopherRules.reason`, `fineweb_stats` + `FineWebRules.reason`,
  `PIIScrubber.scrub`, as the stage calls them;
- stage: `WebRules` through `stages.ApplyFilter` in a one-worker FnApiRunner pipeline (documents
  from a per-process cache → stage → count), minus the same pipeline with a pass-through step.
- c4 step: FineWeb's C4 line rules (`FineWebC4.clean`) against the same rules written plainly.
- datatrove (with --datatrove_python): its Gopher repetition, Gopher quality, C4 and FineWeb
  filters as FineWeb chains them, spaCy words and sentences, on the distinct pages, CPU time of its
  own process; beside ours, the same rule sets (Gopher + FineWeb + C4 step) here.
Targets: each ratio ours/floor >= 0.6; ours >= 10x datatrove's.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import unicodedata
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import record  # noqa: E402
from bench.cputime import cpu, spread  # noqa: E402
import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from common.record import Document, make_id  # noqa: E402
from filters import pii as pii_mod  # noqa: E402
from filters.c4_rules import CITATION, POLICY_PHRASES  # noqa: E402
from filters.fineweb import TERMINAL_PUNCTUATION, FineWebC4, FineWebRules, fineweb_stats  # noqa: E402
from filters.gopher import STOP_WORDS, GopherRules, gopher_stats, is_symbol, words  # noqa: E402
from filters.pii import PIIScrubber  # noqa: E402
from pipeline import recipe as recipes  # noqa: E402
from pipeline.stages import ApplyFilter  # noqa: E402
from pipeline.web_rules import _Factory  # noqa: E402
from tests.web_pages import real_pages  # noqa: E402


def runs_of(repeat: int, fn, setup=None) -> list:
    """CPU seconds of each of `repeat` runs (`setup` before each, outside the timing)."""
    times = []
    for _ in range(repeat):
        if setup:
            setup()   # outside the timing
        start = cpu()
        fn()
        times.append(cpu() - start)
    return times


# --- floors: the same rules, written plainly ------------------------------------------------

PARA = re.compile(r"\n{2,}")
LINES = re.compile(r"\n+")


def floor_gopher(texts) -> int:
    kept = 0
    stop = set(STOP_WORDS)
    for text in texts:
        toks = words(text)
        n = len(toks) or 1
        content = [w for w in toks if not is_symbol(w)]
        mean = sum(map(len, content)) / len(content) if content else 0.0
        alpha = sum(1 for w in toks if any(c.isalpha() for c in w)) / n
        lines = text.splitlines() or [""]
        bullets = sum(1 for s in lines if s.lstrip().startswith(("•", "-"))) / len(lines)
        ellipsis = sum(1 for s in lines if s.rstrip().endswith(("...", "…"))) / len(lines)
        stops = len(stop & set(toks))
        size = len(text) or 1
        fracs = []
        for parts in (PARA.split(text.strip()), LINES.split(text)):
            seen, dup, chars = set(), 0, 0
            for p in parts:
                if p in seen:
                    dup += 1
                    chars += len(p)
                else:
                    seen.add(p)
            fracs += [dup / len(parts), chars / size]
        for k in (2, 3, 4):
            grams = Counter(zip(*(toks[i:] for i in range(k))))
            if grams:
                g, c = grams.most_common(1)[0]
                fracs.append((sum(map(len, g)) + k - 1) * c / size)
        for k in range(5, 11):
            grams = list(zip(*(toks[i:] for i in range(k))))
            seen, i, rep = set(), 0, 0
            while i < len(grams):
                if grams[i] in seen:
                    rep += sum(map(len, grams[i]))
                    i += k
                else:
                    seen.add(grams[i])
                    i += 1
            fracs.append(rep / size)
        ok = (50 <= len(content) <= 100_000 and 3 <= mean <= 10 and text.count("#") / n <= 0.1
              and bullets <= 0.9 and ellipsis <= 0.3 and alpha >= 0.8 and stops >= 2 and max(fracs) <= 0.3)
        kept += ok
    return kept


def floor_fineweb(texts) -> int:
    kept = 0
    for text in texts:
        lines = [line for line in text.split("\n") if line.strip()]
        if not lines:
            continue
        punct = sum(1 for line in lines if line[-1] in TERMINAL_PUNCTUATION) / len(lines)
        short = sum(1 for line in lines if len(line) <= 30) / len(lines)
        seen, chars = set(), 0
        for line in lines:
            if line in seen:
                chars += len(line)
            else:
                seen.add(line)
        dup = chars / (len(text.replace("\n", "")) or 1)
        toks = words(text)
        kept += punct >= 0.12 and short <= 0.67 and dup <= 0.01 and text.count("\n") / (len(toks) or 1) <= 0.3
    return kept


def floor_c4(texts) -> int:
    """FineWeb's C4 step written plainly: the line rules, then spaCy-style sentences per kept line
    from the same tokens, every token's punctuation test made afresh."""
    kept_pages = 0
    for text in texts:
        kept, sentences, dropped = [], 0, False
        for raw in text.splitlines():
            line = raw.strip()
            split = line.split()
            if any(len(w) > 1000 for w in split):
                continue
            line = CITATION.sub("", line)
            if len(split) < 3:
                continue
            lower = line.lower()
            if "lorem ipsum" in lower or "{" in line:
                dropped = True
                break
            if "javascript" in lower or any(p in lower for p in POLICY_PHRASES):
                continue
            toks = words(line)
            count, seen = (1 if toks else 0), False
            for t in toks:
                end = t in TERMINAL_PUNCTUATION
                if seen and not end and not all(unicodedata.category(c).startswith("P") for c in t):
                    count, seen = count + 1, False
                elif end:
                    seen = True
            sentences += count
            kept.append(line)
        kept_pages += not dropped and sentences >= 5 and bool("\n".join(kept))
    return kept_pages


def floor_pii(texts) -> int:
    n = 0
    for text in texts:
        text = pii_mod._EMAIL.sub("email@example.com", text)
        text = pii_mod._IPV4.sub(lambda m: "22.214.171.124" if pii_mod.public_ip(m.group(0)) else m.group(0), text)
        text = pii_mod._IPV6.sub(lambda m: "2001:db8::1" if pii_mod.public_ip(m.group(0)) else m.group(0), text)
        n += len(text)
    return n


# --- ours -----------------------------------------------------------------------------------

def ours_gopher(texts, rules) -> int:
    return sum(rules.reason(gopher_stats(t)) is None for t in texts)


def ours_fineweb(texts, rules) -> int:
    return sum(rules.reason(fineweb_stats(t)) is None for t in texts)


def ours_c4(texts, c4) -> int:
    return sum(c4.clean(t).reason is None for t in texts)


def empty_caches(warm_on=()) -> None:
    """The token and token-kind caches emptied, then filled from `warm_on` (other pages), as a
    worker's are after other pages."""
    from filters import gopher as gopher_module, word_tokens

    word_tokens._CHUNKS.clear()
    gopher_module._KINDS.clear()
    for text in warm_on:
        gopher_stats(text)


def ours_chain(texts, gopher, c4, fineweb) -> int:
    """Gopher, the C4 step and FineWeb chained as datatrove runs them."""
    kept = 0
    for text in texts:
        if gopher.reason(gopher_stats(text)) is not None:
            continue
        cleaned = c4.clean(text)
        if cleaned.reason is None:
            kept += fineweb.reason(fineweb_stats(cleaned.text, cleaned.tokens)) is None
    return kept


def ours_pii(texts, scrubber) -> int:
    return sum(len(scrubber.scrub(t)[0]) for t in texts)


_CORPUS: dict = {}


def _cached(key: str):
    return _CORPUS[key]


def stage_run(recipe: dict, docs, apply: bool = True) -> None:
    """Documents from a per-process cache through a FlatMap of a function of this module imported by
    name (as a script it is `__main__`, pickled by value with its globals: `beam.Create(docs)` or
    that would put the corpus into the graph, several times the cost of the stage)."""
    feed = importlib.import_module("bench.bench_rules")
    feed._CORPUS["docs"] = docs
    options = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with beam.Pipeline(runner="FnApiRunner", options=options) as p:
        docs_in = p | "Key" >> beam.Create(["docs"]) | "FromCache" >> beam.FlatMap(feed._cached)
        if apply:
            out, _ = docs_in | ApplyFilter(_Factory(recipe, "commoncrawl"), label="WebRules:commoncrawl")
        else:
            out = docs_in | beam.Map(lambda d: d)
        out | beam.combiners.Count.Globally()


def datatrove_run(python: str, texts, repeat: int) -> dict:
    """CPU seconds of datatrove's chain in its own process (its CPU time, measured there)."""
    import json
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(list(texts), f)
    script = os.path.join(ROOT, "tests", "reference", "time_datatrove_rules.py")
    out = subprocess.run([python, script, f.name, str(repeat)], capture_output=True, text=True, check=True)
    os.unlink(f.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=8.0, help="Megabytes of text per measurement.")
    parser.add_argument("--repeat", type=int, default=3, help="Measurements per side; the best counts.")
    parser.add_argument("--datatrove_python", default="",
                        help="a Python with datatrove 0.10.1 and spaCy (a scratch venv, never the project's): "
                             "also time datatrove's chain on the same pages (tests/reference/time_datatrove_rules.py)")
    args = parser.parse_args()
    session = record.Session("rules")

    base = [t for _, t in real_pages()]
    texts, size = [], 0
    while size < args.mb * 1e6:
        t = base[len(texts) % len(base)]
        texts.append(t)
        size += len(t.encode("utf-8"))
    mb = size / 1e6
    recipe = recipes.load("llama-plus")
    gopher, fineweb = GopherRules.from_config(recipe["gopher"]), FineWebRules.from_config(recipe["fineweb"])
    c4 = FineWebC4.from_config(recipe["fineweb"]["c4"])
    scrubber = PIIScrubber.from_config(recipe["pii"])
    docs = [Document(make_id("commoncrawl", str(i)), "commoncrawl", t, None, {}) for i, t in enumerate(texts)]

    ours_gopher(texts[:300], gopher)  # warm the token cache and the regex engine
    rows = []
    for name, floor, mine in (("gopher", lambda: floor_gopher(texts), lambda: ours_gopher(texts, gopher)),
                              ("fineweb", lambda: floor_fineweb(texts), lambda: ours_fineweb(texts, fineweb)),
                              ("c4 step", lambda: floor_c4(texts), lambda: ours_c4(texts, c4)),
                              ("pii", lambda: floor_pii(texts), lambda: ours_pii(texts, scrubber))):
        rows.append((name, runs_of(args.repeat, floor), runs_of(args.repeat, mine)))
    t_stage = runs_of(args.repeat, lambda: stage_run(recipe, docs))
    t_base = runs_of(args.repeat, lambda: stage_run(recipe, docs, apply=False))

    print(f"{len(texts)} pages, {mb:.2f} MB of text, 1 core, CPU time, best / median of {args.repeat}")
    r2 = lambda v: round(v, 2)  # noqa: E731
    session.figure("corpus", "text: the 291 real pages of tests/web_pages.py repeated, MB", f"{mb:.2f}")
    for name, t_floor, t_ours in rows:
        f, o = spread(t_floor), spread(t_ours)
        print(f"{name:8s} floor {mb / f['min']:6.2f} MB/s/core   ours {mb / o['min']:6.2f} MB/s/core   "
              f"ratio {f['min'] / o['min']:.2f} / {f['median'] / o['median']:.2f} (target >= 0.60)")
        session.figure(f"{name}_floor", f"{name}: plain-Python floor, MB/s per core", r2(mb / f["min"]), r2(mb / f["median"]))
        session.figure(f"{name}_ours", f"{name}: ours, MB/s per core", r2(mb / o["min"]), r2(mb / o["median"]))
        session.figure(f"{name}_ratio", f"**{name}: ours ÷ floor** (throughput)", r2(f["min"] / o["min"]),
                       r2(f["median"] / o["median"]), target="≥ 0.6")
    floors = [sum(r[1][i] for r in rows) for i in range(args.repeat)]
    steps = [max(1e-9, a - b) for a, b in zip(t_stage, t_base)]
    fl, st, bs = spread(floors), spread(steps), spread(t_base)
    print(f"stage    floor {mb / fl['min']:6.2f} MB/s/core   ours {mb / st['min']:6.2f} MB/s/core   "
          f"ratio {fl['min'] / st['min']:.2f} / {fl['median'] / st['median']:.2f} (target >= 0.60): WebRules in Beam "
          f"(FnApiRunner), minus the same pipeline without it ({bs['min']:.2f} CPU s)")
    session.figure("stage", "the WebRules stage in Beam (FnApiRunner, minus a pass-through pipeline), MB/s per core",
                   r2(mb / st["min"]), r2(mb / st["median"]))
    session.figure("stage_ratio", "**stage ÷ the three floors summed** (throughput)", r2(fl["min"] / st["min"]),
                   r2(fl["median"] / st["median"]), target="≥ 0.6")
    session.figure("base", "pass-through pipeline, CPU s", r2(bs["min"]), r2(bs["median"]))
    if args.datatrove_python:
        distinct = texts[:len(base)]
        dmb = sum(len(t.encode("utf-8")) for t in distinct) / 1e6
        from tests.real_pages import real_pages as wet_pages

        other = [p.text for p in wet_pages()]
        chain = lambda: ours_chain(distinct, gopher, c4, fineweb)  # noqa: E731
        t_cold = min(runs_of(args.repeat, chain, setup=empty_caches))
        t_unseen = min(runs_of(args.repeat, chain, setup=lambda: empty_caches(other)))
        dt = datatrove_run(args.datatrove_python, distinct, args.repeat)
        dt_speed = dt["mb"] / dt["cpu_s"]
        print(f"datatrove (spaCy) Gopher + C4 + FineWeb chain {dt_speed:6.2f} MB/s/core on the {dt['mb']:.2f} MB of "
              f"distinct pages; ours, the same chain, the token cache emptied first {dmb / t_cold:6.2f} MB/s/core "
              f"({(dmb / t_cold) / dt_speed:.1f}x), the cache warmed on 264 other real pages {dmb / t_unseen:6.2f} "
              f"MB/s/core ({(dmb / t_unseen) / dt_speed:.1f}x; target >= 10x)")
        session.figure("datatrove", "datatrove 0.10.1 (spaCy) Gopher + C4 + FineWeb chain, MB/s per core", r2(dt_speed))
        session.figure("vs_datatrove_cold", "**ours ÷ datatrove, the token cache emptied first**",
                       r2((dmb / t_cold) / dt_speed), target="≥ 10")
        session.figure("vs_datatrove_warm", "ours ÷ datatrove, the cache warmed on 264 other real pages",
                       r2((dmb / t_unseen) / dt_speed), target="≥ 10")
    session.write(repeats=args.repeat)


if __name__ == "__main__":
    main()
