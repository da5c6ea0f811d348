"""Look at what a run kept and dropped: `python -m pipeline.inspect OUT [--source S] [--reason R] [-n N]`.

Without --reason: per source, the counts of stats.json and N kept documents from
`OUT/curated/<source>/*.parquet`. With --reason R: N documents dropped for R (a reason of
stats.json, e.g. `perplexity_tail`, or a prefix such as `bad_input`) from `OUT/rejects/<source>/`,
which the run writes when asked (`--write_rejects`: the curated columns plus `reason`). Documents are
spread evenly over the shards (rows are sorted by id, so the same run shows the same documents).
"""
from __future__ import annotations

import glob
import json
import os
import sys
import textwrap
from typing import List, Optional

import pyarrow.compute as pc
import pyarrow.parquet as pq

from common.cli import Parser, UsageError, closest, guarded

SHOWN_META = ("language", "language_score", "lang", "perplexity", "bucket", "wikiref_score", "wikiref_applied",
              "license", "repo", "path", "title", "site", "timestamp")


def parse_args(argv):
    p = Parser(prog="python -m pipeline.inspect", description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="a pipeline.run output directory")
    p.add_argument("--source", default=None, help="one source (default: every source of the run)")
    p.add_argument("--reason", default=None, help="show documents dropped for this reason (or reason prefix)")
    p.add_argument("-n", type=int, default=3, help="documents to show per source (default 3)")
    p.add_argument("--chars", type=int, default=400, help="characters of each text to show (default 400)")
    p.add_argument("--debug", action="store_true", help="tracebacks for usage errors")
    return p.parse_args(argv)


def sample(paths: List[str], n: int, reason: Optional[str] = None) -> List[dict]:
    """n rows spread evenly over the shards (only rows whose reason matches, for rejects)."""
    tables = []
    for path in paths:
        t = pq.read_table(path)
        if reason is not None:
            col = t.column("reason")
            t = t.filter(pc.or_(pc.equal(col, reason), pc.starts_with(col, reason + ":")))
        if t.num_rows:
            tables.append(t)
    total = sum(t.num_rows for t in tables)
    if not total or n <= 0:
        return []
    wanted = sorted({int(i * total / min(n, total)) for i in range(min(n, total))})
    rows, offset, k = [], 0, 0
    for t in tables:
        while k < len(wanted) and wanted[k] < offset + t.num_rows:
            rows.append(t.slice(wanted[k] - offset, 1).to_pylist()[0])
            k += 1
        offset += t.num_rows
    return rows


def show(row: dict, chars: int) -> str:
    try:
        meta = json.loads(row.get("meta") or "{}")
    except ValueError:
        meta = {}
    for key in SHOWN_META:  # typed columns, where the sink writes them, win over the JSON
        if row.get(key) is not None:
            meta[key] = row[key]
    fields = ", ".join(f"{k}={meta[k]}" for k in SHOWN_META if meta.get(k) is not None)
    text = row.get("text") or ""
    excerpt = text[:chars].replace("\n", " ⏎ ")
    lines = [f"  ── {row.get('id')}" + (f"  [{row['reason']}]" if row.get("reason") else ""),
             f"     url: {row.get('url') or '-'}; {len(text):,} chars" + (f"; {fields}" if fields else "")]
    lines += textwrap.wrap(excerpt + (" …" if len(text) > chars else ""), 100, initial_indent="     ",
                           subsequent_indent="     ") or ["     (empty)"]
    return "\n".join(lines)


def run(argv: List[str]) -> int:
    args = parse_args(argv)
    stats_path = os.path.join(args.out, "stats.json")
    if not os.path.exists(stats_path):
        from pipeline.report import not_a_run

        raise UsageError(not_a_run(args.out, "python -m pipeline.inspect"))
    with open(stats_path, encoding="utf-8") as f:
        stats = json.load(f)
    sources = sorted(stats["sources"])
    if args.source is not None and args.source not in sources:
        hint = closest(args.source, sources)
        raise UsageError(f"--source={args.source}: not a source of this run; "
                         + (f"did you mean {hint}?" if hint else f"choose from {','.join(sources)}"))
    chosen = [args.source] if args.source else sources
    reasons = sorted({r for s in chosen for r in stats["sources"][s]["dropped"]})
    if args.reason is not None and not any(r == args.reason or r.startswith(args.reason + ":") for r in reasons):
        hint = closest(args.reason, reasons)
        raise UsageError(f"--reason={args.reason}: no document of {','.join(chosen)} was dropped for it; "
                         + (f"did you mean {hint}?" if hint else f"reasons: {', '.join(reasons) or 'none'}"))
    missing_rejects = []
    for s in chosen:
        st = stats["sources"][s]
        n_dropped = sum(n for r, n in st["dropped"].items() if r == args.reason or r.startswith(f"{args.reason}:"))
        if args.reason is not None and not n_dropped:
            continue
        top = ", ".join(f"{r} {n:,}" for r, n in sorted(st["dropped"].items(), key=lambda kv: (-kv[1], kv[0])))
        print(f"{s}: {st['docs_in']:,} in, {st['docs_out']:,} kept; dropped: {top or 'none'}")
        if args.reason is None:
            for row in sample(sorted(glob.glob(os.path.join(args.out, "curated", s, "*.parquet"))), args.n):
                print(show(row, args.chars))
            continue
        paths = sorted(glob.glob(os.path.join(args.out, "rejects", s, "*.parquet")))
        if not paths:
            missing_rejects.append(s)
            print(f"  {n_dropped:,} dropped for {args.reason}; not written (no {args.out}/rejects/{s}/)")
            continue
        for row in sample(paths, args.n, args.reason):
            print(show(row, args.chars))
    if missing_rejects:
        print(f"pipeline.inspect: dropped documents are written only when the run is given --write_rejects; "
              f"rerun it with that flag to see them", file=sys.stderr)
    return 0


def main() -> None:
    guarded(run, sys.argv[1:], "pipeline.inspect")


if __name__ == "__main__":
    main()
