"""OUTPUT/report.html: the pictures a data engineer looks at before training, in one file.

    python -m pipeline.report OUT          (pipeline.run writes it at the end of every run)

Self-contained (inline SVG from matplotlib, no script, no external link); the same folder gives the
same bytes (SVG ids salted; the only times are the run's own, from run.json). Sections: a run header
(command, date, inputs, models; `NOTICES` first, then a "nothing kept" alert when the run kept no
document), each source's funnel in step order with documents and bytes (stats.json `steps`,
pipeline/funnel.py), document lengths, the whole perplexity distribution with the bucket cutoffs,
language shares before and after the language step, the Wikipedia-reference classifier, what dedup
removed (documents, and text cut from the documents kept), tokenizer bytes per token, the mixture.
It reads what is there: stats.json, mixture.json, run.json (or the run's record, when pipeline.run
writes the report before run.json), the curated Parquet shards (meta fields from typed columns
where the sink writes them, else from the `meta` JSON), dropped documents under rejects/ when the
run wrote them (`reason` column), and any further section in `SECTIONS` (e.g. `contamination.json`).
"""
from __future__ import annotations

import argparse
import glob
import html
import io
import json
import os
import re
import sys
from typing import Callable, Dict, List, Optional

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from common import atomic

REPORT = "report.html"
MAX_ROWS = 200_000        # per source: the report samples the first rows of big outputs
META_FIELDS = ("language", "language_score", "lang", "perplexity", "bucket", "wikiref_score", "wikiref_applied")
DEDUP_REASON = re.compile(r"dup|duplicate|contain|overlap")


def _read_json(path: str) -> Optional[dict]:
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_docs(folder: str, max_rows: int = MAX_ROWS) -> List[dict]:
    """Per document: chars, bytes, reason (rejects) and the common meta fields, from typed columns
    when the shard has them, else from the meta JSON."""
    rows: List[dict] = []
    for path in sorted(glob.glob(os.path.join(folder, "*.parquet"))):
        if len(rows) >= max_rows:
            break
        schema = pq.read_schema(path)
        typed = [f for f in META_FIELDS if f in schema.names]
        cols = ["text"] + [c for c in ("meta", "reason") if c in schema.names] + typed
        table = pq.read_table(path, columns=cols).slice(0, max_rows - len(rows))
        chars = pc.utf8_length(table.column("text")).to_pylist()
        nbytes = pc.binary_length(table.column("text").cast("binary")).to_pylist()
        metas = table.column("meta").to_pylist() if "meta" in cols else [None] * len(chars)
        reasons = table.column("reason").to_pylist() if "reason" in cols else [None] * len(chars)
        typed_values = {f: table.column(f).to_pylist() for f in typed}
        for i in range(len(chars)):
            try:
                meta = json.loads(metas[i]) if metas[i] else {}
            except ValueError:
                meta = {}
            row = {"chars": chars[i], "bytes": nbytes[i], "reason": reasons[i]}
            for f in META_FIELDS:
                value = typed_values[f][i] if f in typed_values else meta.get(f)
                if value is not None:
                    row[f] = value
            rows.append(row)
    return rows


class Data:
    """Everything the report draws, read once. `run`: the run's record (run.json's content) when
    the caller has it before run.json is written; else OUT/run.json, if any."""

    def __init__(self, out: str, run: Optional[dict] = None):
        self.out = out
        self.stats = _read_json(os.path.join(out, "stats.json")) or {"sources": {}}
        self.mixture = _read_json(os.path.join(out, "mixture.json"))
        self.run = run if run is not None else _read_json(os.path.join(out, "run.json"))
        self.sources = sorted(self.stats["sources"])
        self.kept = {s: read_docs(os.path.join(out, "curated", s)) for s in self.sources}
        self.rejects = {s: read_docs(os.path.join(out, "rejects", s)) for s in self.sources
                        if os.path.isdir(os.path.join(out, "rejects", s))}
        self.recipe = (self.run or {}).get("recipe") or _default_recipe()

    def source(self, name: str) -> dict:
        return self.stats["sources"][name]

    @property
    def docs_in(self) -> int:
        return sum(s["docs_in"] for s in self.stats["sources"].values())

    @property
    def docs_out(self) -> int:
        return sum(s["docs_out"] for s in self.stats["sources"].values())


def _default_recipe() -> dict:
    from pipeline import recipe

    return recipe.load()


# ---------- figures ----------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "llamadata", "svg.fonttype": "none", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]  # inline: no XML prolog or DOCTYPE


_NUMBER = re.compile(r"^[-−+]?[\d,.]+%?$|^-$")


def _td(v) -> str:
    """A cell: numbers right-aligned (the default), text left-aligned."""
    text = _fmt(v)
    cls = ' class="t"' if isinstance(v, str) and not _NUMBER.match(text) else ""
    return f"<td{cls}>{html.escape(text)}</td>"


def _th(header: List[str], first_row: Optional[List]) -> str:
    """Header cells, left-aligned over a column of text (as its cells are)."""
    def cls(i):
        text = first_row is not None and i < len(first_row) and isinstance(first_row[i], str) and \
            not _NUMBER.match(_fmt(first_row[i]))
        return ' class="t"' if text else ""
    return "".join(f"<th{cls(i)}>{html.escape(str(h))}</th>" for i, h in enumerate(header))


def _table(header: List[str], rows: List[List], cls: str = "") -> str:
    th = _th(header, rows[0] if rows else None)
    body = "".join("<tr>" + "".join(_td(v) for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _mb(n: int) -> str:
    """A size as people read it: 512 B, 12.7 kB, 1.84 MB, 3.20 GB."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:,.{1 if unit == 'kB' else 2}f} {unit}"
    return f"{n:,} B"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


# ---------- the run header ----------

def _command(run: dict) -> str:
    import shlex

    command = list(run.get("command") or [])
    if command[1:3] == ["-m", "pipeline.run"]:
        command[0] = "python"  # the interpreter's path says nothing a reader needs
    return shlex.join(command)


def _inputs(run: dict) -> List[str]:
    lines = []
    for name, files in sorted((run.get("inputs") or {}).items()):
        if not files:
            continue
        size = sum(f.get("bytes") or 0 for f in files)
        first = files[0]["path"]
        lines.append(f"{name}: {len(files):,} file(s), {_mb(size)}: {first}" + (f" and {len(files) - 1:,} more" if len(files) > 1 else ""))
    return lines


def _models(d: Data) -> List[str]:
    lines = [f"{k}: {v}" for k, v in sorted(((d.run or {}).get("models") or {}).items())]
    lines += [f"reference LM {n}" for n in _lm_notes(d)]
    for lang, cut in sorted(_cutoffs(d).items()):
        if cut.get("head") is not None:
            lines.append(f"perplexity cutoffs{'' if lang == 'all' else ' ' + lang}: head < {cut['head']:g}, middle < "
                         f"{cut.get('middle'):g} ({cut.get('mode')})")
    training = (d.stats.get("models") or {}).get("wikiref_training") or {}
    if training.get("reason"):
        lines.append(f"wikiref classifier: {training['reason']}")
    return lines


def header_section(d: Data) -> str:
    """What ran: command, date, recipe, inputs, models, and the totals."""
    run = d.run or {}
    version = d.recipe.get("version", {})
    rows = []
    if run.get("command"):
        rows.append(("command", f"<code>{html.escape(_command(run))}</code>"))
    if run.get("started"):  # what the run knows when it writes the report: a later render draws the same
        rows.append(("date", html.escape(f"started {run['started']} (UTC)")))
    recipe = f"<b>{html.escape(str(version.get('name')))}</b> v{html.escape(str(version.get('version')))}"
    if run.get("overrides"):
        recipe += "; --set " + html.escape(" ".join(run["overrides"]))
    digest = (d.stats.get("recipe") or {}).get("sha256")
    if digest:
        recipe += f"; sha256 {digest[:12]}…"
    rows.append(("recipe", recipe))
    for label, lines in (("inputs", _inputs(run)), ("models", _models(d))):
        if lines:
            rows.append((label, "<br>".join(html.escape(x) for x in lines)))
    bytes_in = sum(s["bytes_in"] for s in d.stats["sources"].values())
    bytes_out = sum(s["bytes_out"] for s in d.stats["sources"].values())
    checks = "conservation " + ("holds" if d.stats.get("conserved") else "FAILED")
    if any("bytes_conserved" in s for s in d.stats["sources"].values()):
        failed = [n for n, s in d.stats["sources"].items() if s.get("bytes_conserved") is False]
        checks += "; bytes " + (f"not conserved in {', '.join(failed)}" if failed else "conserved step by step")
    rows.append(("totals", html.escape(f"{len(d.sources)} source(s); {d.docs_in:,} documents in ({_mb(bytes_in)}), "
                                       f"{d.docs_out:,} kept ({_mb(bytes_out)}); {checks}")))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="run">{body}</table>'


def nothing_kept_section(d: Data) -> str:
    """A run that kept no document says so first, and where its documents went."""
    if not d.sources or d.docs_out:
        return ""
    parts = []
    for name in d.sources:
        s = d.source(name)
        steps = [st for st in s.get("steps", []) if st["dropped"]]
        if steps:
            worst = max(steps, key=lambda st: sum(st["dropped"].values()))
            top = max(worst["dropped"].items(), key=lambda kv: (kv[1], kv[0]))
            parts.append(f"{name}: {s['docs_in']:,} in, the {worst['step']} step dropped "
                         f"{sum(worst['dropped'].values()):,} ({top[0]} {top[1]:,})")
        else:
            top = sorted(s["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))[:1]
            parts.append(f"{name}: {s['docs_in']:,} in" + (f", {top[0][0]} {top[0][1]:,}" if top else ", nothing read"))
    return ('<p class="alert"><b>Nothing kept.</b> ' + html.escape(f"Every one of the {d.docs_in:,} documents read was "
            f"dropped: {'; '.join(parts)}. The funnel below shows each step; loosen the recipe (--set …) "
            "or check the inputs.") + "</p>")


# ---------- the funnel ----------

STEP_COLORS = {"docs": "#2a9d8f", "bytes": "#264653"}


def _funnel_figure(name: str, steps: List[dict]) -> str:
    plt = _plt()
    first = steps[0]
    fig, ax = plt.subplots(figsize=(8, 0.36 * len(steps) + 0.9))
    y = np.arange(len(steps))
    docs = [st["docs_out"] / first["docs_in"] if first["docs_in"] else 0 for st in steps]
    nbytes = [st["bytes_out"] / first["bytes_in"] if first["bytes_in"] else 0 for st in steps]
    ax.barh(y - 0.19, docs, height=0.38, color=STEP_COLORS["docs"], label="documents left")
    ax.barh(y + 0.19, nbytes, height=0.38, color=STEP_COLORS["bytes"], label="bytes left")
    for i, st in enumerate(steps):
        notes = [f"{st['docs_out']:,} docs, {_mb(st['bytes_out'])}"]
        if st["dropped"]:
            notes.append("−" + ", ".join(f"{n:,} {r}" for r, n in sorted(st["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))[:3])
                         + (" …" if len(st["dropped"]) > 3 else ""))
        if st["trimmed"]["bytes"]:
            notes.append(f"−{_mb(st['trimmed']['bytes'])} cut from kept")
        ax.text(1.02, i, "; ".join(notes), va="center", fontsize=7.5, transform=ax.get_yaxis_transform())
    ax.set_yticks(y, [st["step"] for st in steps])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of {name}'s input left after each step")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False, fontsize=8)
    return svg(fig)


TEXT_COLUMNS = {0, 1, 4, 8}  # the funnel table's columns of words; the others are counts


def _funnel_table(name: str, steps: List[dict]) -> str:
    header = ["step", "what it does", "docs in", "docs out", "dropped (reason: documents)", "bytes in", "bytes out",
              "bytes dropped", "cut from kept docs"]
    rows = []
    for st in steps:
        drops = ", ".join(f"{r}: {n:,}" for r, n in sorted(st["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))) or "-"
        t = st["trimmed"]
        cut = f"{t['bytes']:,} B / {t['chars']:,} chars / {t['docs']:,} docs" if t["docs"] else "-"
        cells = [st["step"], st.get("what", ""), st["docs_in"], st["docs_out"], drops, st["bytes_in"], st["bytes_out"],
                 st["dropped_bytes"], cut]
        tds = "".join(f'<td class="t">{html.escape(_fmt(v))}</td>' if i in TEXT_COLUMNS else _td(v)
                      for i, v in enumerate(cells))
        rows.append(f'<tr data-source="{html.escape(name)}" data-step="{html.escape(st["step"])}">{tds}</tr>')
    th = "".join(("<th class=\"t\">" if i in TEXT_COLUMNS else "<th>") + f"{html.escape(h)}</th>" for i, h in enumerate(header))
    return f'<table class="funnel"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _reasons_table(d: Data) -> str:
    """The funnel of a stats.json without steps (written before they existed): reasons per source."""
    rows = []
    for s in d.sources:
        st = d.source(s)
        drops = ", ".join(f"{r} {n:,}" for r, n in sorted(st["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))) or "-"
        rows.append([s, st["docs_in"], st["docs_out"], _share(st["docs_out"], st["docs_in"]), st["bytes_in"], st["bytes_out"], drops])
    return _table(["source", "docs in", "docs out", "kept", "bytes in", "bytes out", "dropped (reason count)"], rows)


def funnel_section(d: Data) -> str:
    intro = ("<h2>Funnel: each source's steps in order</h2><p>Documents and UTF-8 bytes entering and leaving "
             "each step, as stats.json's <code>steps</code> count them (pipeline/funnel.py). <i>Cut from kept "
             "docs</i> is text a step removed from documents it kept (line dedup's repeated lines, a cleaner's "
             "markup). Bytes read are as each reader counts them (a page's text; an arXiv e-print as served; a "
             "StackExchange thread's HTML).</p>")
    if not any("steps" in d.source(s) for s in d.sources):
        return intro + _reasons_table(d)
    parts = [intro]
    for name in d.sources:
        st = d.source(name)
        if "steps" not in st:
            continue
        head = (f"{name}: {st['docs_in']:,} → {st['docs_out']:,} documents ({_share(st['docs_out'], st['docs_in'])}), "
                f"{_mb(st['bytes_in'])} → {_mb(st['bytes_out'])} ({_share(st['bytes_out'], st['bytes_in'])})")
        if st.get("bytes_conserved") is False:
            head += "; bytes NOT conserved: a step rewrote text without counting it"
        parts.append(f"<h3>{html.escape(head)}</h3>" + (_funnel_figure(name, st["steps"]) if st["docs_in"] else "")
                     + _funnel_table(name, st["steps"]))
    return "".join(parts)


def length_section(d: Data) -> str:
    lengths = {s: [r["chars"] for r in d.kept[s]] for s in d.sources if d.kept[s]}
    if not lengths:
        return "<h2>Document lengths</h2><p>No kept document: nothing to measure.</p>"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    every = [c for chars in lengths.values() for c in chars]
    low, high = max(1, min(every)), max(every)
    # The axis spans the kept lengths (a log axis from 1 character would leave most of it empty).
    bins = np.logspace(np.log10(low) - 0.05, np.log10(max(high, low * 10)) + 0.05, 40)
    rows = []
    for s, chars in lengths.items():
        ax.hist(chars, bins=bins, histtype="step", linewidth=1.4, label=s)
        rows.append([s, len(chars), int(np.median(chars)), int(np.percentile(chars, 10)),
                     int(np.percentile(chars, 90)), min(chars), max(chars)])
    ax.set_xscale("log")
    ax.set_xlim(bins[0], bins[-1])
    _plain_log_ticks(ax.xaxis)
    ax.set_xlabel("document length (characters, kept documents)")
    ax.set_ylabel("documents")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=7, frameon=False, fontsize=8)
    return ("<h2>Document lengths</h2>" + svg(fig) +
            _table(["source", "documents", "median chars", "p10", "p90", "min", "max"], rows))


def _cutoffs(d: Data) -> Dict[str, dict]:
    """{lang: {"head", "middle", "mode", "documents"}}: computed ones from stats.json's notes (per
    language, or one set); given ones (the recipe's, cc_net's cutoff.csv values) for every language."""
    cut = (d.stats.get("models") or {}).get("perplexity_cutoffs") or {}
    if "head" in cut or "mode" in cut:
        return {"all": cut}
    found = {lang: c for lang, c in cut.items() if isinstance(c, dict)}
    if found:
        return found
    given = ((d.recipe.get("quality") or {}).get("perplexity") or {}).get("cutoffs") or {}
    uses_quality = any("perplexity" in d.source(s) or any(st["step"] == "quality" for st in d.source(s).get("steps", []))
                       for s in d.sources)
    if not uses_quality or given.get("mode") not in ("given", "auto"):
        return {}
    if isinstance(given.get("given"), dict):  # per language [head, middle] (cc_net's cutoff.csv)
        langs = ((d.recipe.get("commoncrawl") or {}).get("language") or {}).get("languages") or []
        return {lang: {"head": v[0], "middle": v[1], "mode": "given"} for lang, v in given["given"].items()
                if lang in langs and isinstance(v, list) and len(v) == 2}
    if given.get("mode") == "given":
        return {"all": {"head": given.get("head"), "middle": given.get("middle"), "mode": "given"}}
    return {}


def _lm_notes(d: Data) -> List[str]:
    lm = (d.stats.get("models") or {}).get("reference_lm") or {}
    if not isinstance(lm, dict):
        return []
    per_lang = lm.values() if all(isinstance(v, dict) for v in lm.values()) else [lm]
    return [(f"{n['lang']}: " if n.get("lang") else "")
            + (n["reason"] if n.get("reason") else ("applied" if n.get("applied", True) else "not applied"))
            for n in per_lang if isinstance(n, dict)]


BUCKET_COLORS = {"head": "#2a9d8f", "middle": "#e9c46a", "tail": "#e76f51"}


def _perplexity_from_stats(d: Data) -> Dict[str, Dict[str, Dict[str, int]]]:
    """lang → bucket → bin → pages, summed over the sources (stats.json `perplexity`)."""
    out: Dict[str, Dict[str, Dict[str, int]]] = {}
    for s in d.sources:
        for lang, buckets in (d.source(s).get("perplexity") or {}).items():
            if not isinstance(buckets, dict):
                continue
            for bucket, bins in buckets.items():
                for b, n in bins.items():
                    target = out.setdefault(lang, {}).setdefault(bucket, {})
                    target[b] = target.get(b, 0) + n
    return out


def _cutoff_lines(ax, d: Data, lang: Optional[str]) -> List[str]:
    """The bucket cutoffs of `lang` (every language's when None) drawn on `ax`; their provenance."""
    modes = []
    for name, cut in sorted(_cutoffs(d).items()):
        if lang is not None and name not in ("all", lang):
            continue
        for key, height in (("head", 0.95), ("middle", 0.84)):  # two heights: close cutoffs stay legible
            if isinstance(cut.get(key), (int, float)):
                prefix = "" if name == "all" else f"{name} "
                ax.axvline(cut[key], color="black", linestyle="--", linewidth=1)
                ax.text(cut[key], ax.get_ylim()[1] * height, f" {prefix}{key} < {cut[key]:g}", fontsize=8,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8})
        modes.append(f"cutoffs {cut.get('mode')}" + (f" from {cut['documents']} documents" if cut.get("documents") else ""))
    return modes


def perplexity_section(d: Data) -> str:
    notes = _lm_notes(d)
    text = ""
    if notes:
        text += "<p>Reference LM: " + html.escape("; ".join(notes)) + ".</p>"
    hist = _perplexity_from_stats(d)
    if hist:
        return "<h2>Perplexity</h2>" + text + _perplexity_distribution(d, hist)
    return "<h2>Perplexity</h2>" + text + _perplexity_of_documents(d)


def _perplexity_distribution(d: Data, hist: Dict[str, Dict[str, Dict[str, int]]]) -> str:
    """Every page the quality step scored (the tail it drops included), per language, by bucket."""
    per_decade = next((d.source(s)["perplexity"]["bins_per_decade"] for s in d.sources
                       if isinstance(d.source(s).get("perplexity"), dict)), 20)
    plt = _plt()
    out = []
    for lang, buckets in sorted(hist.items()):
        order = [b for b in ("head", "middle", "tail") if b in buckets] + sorted(set(buckets) - {"head", "middle", "tail"})
        finite = sorted({int(b) for bins in buckets.values() for b in bins if b != "inf"})
        total = sum(n for bins in buckets.values() for n in bins.values())
        unscorable = sum(bins.get("inf", 0) for bins in buckets.values())
        counts = {b: sum(buckets[b].values()) for b in order}
        summary = (f"{lang}: all {total:,} pages the quality step scored, the dropped tail included: "
                   + ", ".join(f"{b} {counts[b]:,}" for b in order)
                   + (f"; {unscorable:,} unscorable (tail)" if unscorable else ""))
        if not finite:
            out.append(f"<p>{html.escape(summary)}.</p>")
            continue
        fig, ax = plt.subplots(figsize=(8, 3.0))
        edges = 10.0 ** (np.arange(finite[0], finite[-1] + 2) / per_decade)
        bottom = np.zeros(len(edges) - 1)
        for bucket in order:
            heights = np.array([buckets[bucket].get(str(i), 0) for i in range(finite[0], finite[-1] + 1)], dtype=float)
            ax.bar(edges[:-1], heights, width=np.diff(edges), bottom=bottom, align="edge", label=bucket,
                   color=BUCKET_COLORS.get(bucket, "#888888"), edgecolor="white", linewidth=0.3)
            bottom += heights
        ax.set_xscale("log")
        ax.set_xlim(edges[0], edges[-1])
        _plain_log_ticks(ax.xaxis)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, fontsize=8)
        modes = _cutoff_lines(ax, d, lang)
        ax.set_xlabel(f"perplexity of {lang} pages under the reference LM (lower = closer to Wikipedia)")
        ax.set_ylabel("pages")
        out.append(f"<p>{html.escape(summary + ('; ' + '; '.join(modes) if modes else ''))}.</p>" + svg(fig))
    return "".join(out)


def _plain_log_ticks(axis) -> None:
    """Log-axis ticks as plain numbers (300, 500, 1000), not 3×10²."""
    from matplotlib import ticker

    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def _perplexity_of_documents(d: Data) -> str:
    """Without the stats' distribution (an older stats.json): the written documents' perplexities."""
    docs = [(s, r) for s in d.sources for r in d.kept[s] + d.rejects.get(s, [])
            if isinstance(r.get("perplexity"), (int, float))]
    buckets: Dict[str, int] = {}
    for s in d.sources:
        for r in d.kept[s]:
            if r.get("bucket") is not None:
                buckets[str(r["bucket"])] = buckets.get(str(r["bucket"]), 0) + 1
    text = ""
    if buckets:
        text += "<p>Kept documents by bucket: " + html.escape(", ".join(f"{b} {n:,}" for b, n in sorted(buckets.items()))) + ".</p>"
    if not docs:
        return text + "<p>No document carries a perplexity: none was scored.</p>"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    values = np.array([float(r["perplexity"]) for _, r in docs])
    bins = np.linspace(values.min(), values.max() + 1e-9, 30)
    by_bucket: Dict[str, list] = {}
    for _, r in docs:
        by_bucket.setdefault(str(r.get("bucket", "?")), []).append(float(r["perplexity"]))
    order = [b for b in ("head", "middle", "tail") if b in by_bucket] + sorted(set(by_bucket) - {"head", "middle", "tail"})
    ax.hist([by_bucket[b] for b in order], bins=bins, stacked=True, label=order,
            color=[BUCKET_COLORS.get(b, "#888888") for b in order])
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, fontsize=8)
    modes = _cutoff_lines(ax, d, None)
    ax.set_xlabel("perplexity under the reference LM (lower = closer to Wikipedia)")
    ax.set_ylabel("documents")
    kept = sum(1 for s, r in docs if r.get("reason") is None)
    note = (f"{kept} kept documents" + (f" and {len(docs) - kept} dropped ones from rejects/" if len(docs) > kept else
                                        "; the tail bucket's dropped documents are shown when the run writes rejects/"))
    return (text + f"<p>{html.escape(note)}" + (f"; {html.escape('; '.join(modes))}" if modes else "") + ".</p>" + svg(fig))


def _stacked_shares(rows: List[tuple], xlabel: str) -> str:
    """rows: (label, {key: count}) → one stacked bar of shares per row, the legend above the plot."""
    plt = _plt()
    keys = sorted({k for _, c in rows for k in c}, key=lambda k: (-sum(c.get(k, 0) for _, c in rows), k))
    top = keys[:12]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(rows) + 1.0))
    colors = plt.get_cmap("tab20").colors
    for i, (_, counts) in enumerate(rows):
        if not sum(counts.values()):
            ax.text(0.01, i, "none", va="center", fontsize=8)
        total, left = max(1, sum(counts.values())), 0.0
        parts = [(k, counts.get(k, 0)) for k in top] + [("other", sum(n for k, n in counts.items() if k not in top))]
        for j, (k, n) in enumerate(parts):
            if not n:
                continue
            ax.barh(i, n / total, left=left, color="#bbbbbb" if k == "other" else colors[j % 20],
                    label=k if k not in ax.get_legend_handles_labels()[1] else None, edgecolor="white")
            left += n / total
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # top to bottom, a row without documents kept in place
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=8, frameon=False, fontsize=8)
    return svg(fig)


def _top(counts: Dict[str, int], n: int = 8) -> str:
    total = sum(counts.values())
    return ", ".join(f"{k} {v:,} ({v / max(1, total):.0%})" for k, v in
                     sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]) or "-"


def language_section(d: Data) -> str:
    measured = {s: d.source(s)["languages"] for s in d.sources if d.source(s).get("languages")}
    parts = []
    if measured:
        rows = []
        for s, lang in measured.items():
            rows += [(f"{s} before", lang["seen"]), (f"{s} after", lang["kept"])]
        table = [[s, sum(l["seen"].values()), _top(l["seen"]), _top(l["dropped"]), _top(l["kept"])] for s, l in measured.items()]
        parts.append("<p>The top fastText lid.176 language of every document entering the language step (before) "
                     "and of those it kept (after), from the step's counters: the dropped languages are counted "
                     "without --write_rejects.</p>" + _stacked_shares(rows, "share of documents by language") +
                     _table(["source", "documents seen", "before the language step", "dropped", "after"], table))
    rows, shares = [], {}
    for s in d.sources:
        rejected = d.rejects.get(s, [])
        if s in measured and not rejected:
            continue
        counts: Dict[str, int] = {}
        for r in d.kept[s] + rejected:
            lang = r.get("language") or r.get("lang")
            if lang is not None and not isinstance(lang, (int, float)):
                key = str(lang) + ("" if r.get("reason") is None else " (dropped)")
                counts[key] = counts.get(key, 0) + 1
        if counts:
            shares[s] = counts
            rows.append([s, sum(counts.values()), _top(counts, 6)])
    if rows:
        parts.append("<p>Languages of the documents written (curated/, and rejects/ where the run wrote them): "
                     "Wikipedia's is the dump's language; github's the programming language.</p>"
                     + _table(["source", "documents with a language", "shares"], rows))
    if not parts:
        return "<h2>Languages</h2><p>No document carries a language.</p>"
    return "<h2>Languages</h2>" + "".join(parts)


def classifier_section(d: Data) -> str:
    scores = [(r.get("reason") is None, float(r["wikiref_score"])) for s in d.sources
              for r in d.kept[s] + d.rejects.get(s, []) if isinstance(r.get("wikiref_score"), (int, float))]
    training = (d.stats.get("models") or {}).get("wikiref_training") or {}
    wcfg = (d.recipe.get("quality") or {}).get("wikiref") or {}
    threshold = training.get("threshold", wcfg.get("threshold"))
    flags = [r.get("wikiref_applied") for s in d.sources for r in d.kept[s] + d.rejects.get(s, [])
             if r.get("wikiref_applied") is not None]
    dropped = sum(st["dropped"].get("wikiref_below_threshold", 0) for st in d.stats["sources"].values())
    if "applied" in training:
        applied = ("applied" if training["applied"] else "not applied") + (
            f": {training['reason']}" if training.get("reason") and not str(training["reason"]).startswith(
                ("applied", "not applied")) else (f" ({training['reason']})" if training.get("reason") else ""))
        if str(training.get("reason", "")).startswith(("applied", "not applied")):
            applied = str(training["reason"])
    elif scores:
        applied = f"applied: documents below {threshold} dropped"
    else:
        applied = "not applied: no document carries a wikiref_score"
    facts = []
    if flags:
        facts.append(f"{sum(bool(f) for f in flags):,} of {len(flags):,} documents scored")
    if scores or dropped:
        facts.append(f"{dropped:,} dropped below {threshold}")
    if training.get("positives_source"):
        facts.append(f"positives: {training['positives_source']}")
    if training.get("auc") is not None:
        facts.append(f"held-out AUC {training['auc']:.3f}")
    text = f"<p>{html.escape(applied)}" + (f" ({html.escape('; '.join(facts))})" if facts else "") + ".</p>"
    if not scores:
        return "<h2>Wikipedia-reference classifier</h2>" + text
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.0))
    bins = np.linspace(0, 1, 41)
    ax.hist([s for k, s in scores if k], bins=bins, label="kept", color="#2a9d8f")
    if any(not k for k, _ in scores):
        ax.hist([s for k, s in scores if not k], bins=bins, label="dropped", color="#e76f51", alpha=0.7)
    if isinstance(threshold, (int, float)):
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1)
        ax.text(threshold, ax.get_ylim()[1] * 0.9, f" threshold {threshold:g}", fontsize=8)
    ax.set_xlabel("P(page is cited by Wikipedia)")
    ax.set_ylabel("documents")
    ax.legend(frameon=False)
    return "<h2>Wikipedia-reference classifier</h2>" + text + svg(fig)


def dedup_section(d: Data) -> str:
    rows, bars = [], []
    for s in d.sources:
        for st in d.source(s).get("steps", []):
            if "dedup" not in st["step"]:
                continue
            t = st["trimmed"]
            removed = st["dropped_bytes"] + t["bytes"]
            rows.append([s, st["step"], st["docs_in"], sum(st["dropped"].values()), _share(sum(st["dropped"].values()), st["docs_in"]),
                         st["bytes_in"], st["dropped_bytes"], t["bytes"], t["chars"], t["docs"], _share(removed, st["bytes_in"])])
            if st["bytes_in"] and removed:
                bars.append((f"{s} {st['step']}", st["dropped_bytes"] / st["bytes_in"], t["bytes"] / st["bytes_in"]))
    if not rows and not any("steps" in d.source(s) for s in d.sources):
        return _dedup_by_reason(d)
    fig_html = ""
    if bars:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(8, 0.4 * len(bars) + 1))
        y = np.arange(len(bars))
        ax.barh(y, [b[1] for b in bars], color="#264653", label="bytes of documents removed")
        ax.barh(y, [b[2] for b in bars], left=[b[1] for b in bars], color="#e9c46a", label="text cut from kept documents")
        ax.set_yticks(y, [b[0] for b in bars])
        ax.invert_yaxis()
        ax.set_xlim(0, max(0.1, max(b[1] + b[2] for b in bars) * 1.15))
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        ax.set_xlabel("share of the bytes entering the step")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False, fontsize=8)
        fig_html = svg(fig)
    return ("<h2>Deduplication</h2><p>Every dedup step of the funnel: documents it removed, and the text it cut "
            "from the documents it kept (cc_net's line dedup removes repeated lines and keeps the page).</p>" + fig_html +
            _table(["source", "step", "docs in", "docs removed", "rate", "bytes in", "bytes of docs removed",
                    "bytes cut from kept", "chars cut from kept", "docs cut", "bytes removed"], rows))


def _dedup_by_reason(d: Data) -> str:
    """Without steps in stats.json: the reasons that read like dedup."""
    rows = []
    for s in d.sources:
        st = d.source(s)
        dd = {r: n for r, n in st["dropped"].items() if DEDUP_REASON.search(r)}
        rows.append([s, st["docs_in"], sum(dd.values()), _share(sum(dd.values()), st["docs_in"]),
                     ", ".join(f"{r} {n:,}" for r, n in sorted(dd.items())) or "-"])
    return ("<h2>Deduplication</h2><p>Reasons counted as dedup: those matching "
            f"<code>{html.escape(DEDUP_REASON.pattern)}</code>.</p>" +
            _table(["source", "docs in", "removed by dedup", "rate", "by reason"], rows))


def tokenizer_section(d: Data) -> str:
    if not d.mixture:
        return "<h2>Tokenizer</h2><p>No mixture.json: the tokenize and mixture stages have not run.</p>"
    rows, bpt = [], {}
    for s, m in sorted(d.mixture["sources"].items()):
        text_bytes = d.stats["sources"].get(s, {}).get("bytes_out", 0)
        tokens = m["unique_tokens"] - m["documents"]  # each document ends with one EOS
        if tokens > 0:
            bpt[s] = text_bytes / tokens
        rows.append([s, text_bytes, tokens, m["documents"], bpt.get(s, "-")])
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(bpt) + 1))
    ax.barh(list(bpt), list(bpt.values()), color="#e9c46a")
    ax.invert_yaxis()
    ax.set_xlabel("UTF-8 bytes per token (higher = the tokenizer compresses the source better)")
    return (f"<h2>Tokenizer: bytes per token</h2><p>vocabulary {d.mixture['vocab_size']:,} pieces "
            f"({html.escape(d.mixture['tokenizer'])}). Measured on this run's curated text, the text the tokenizer "
            "was trained on (its training sample is drawn from it): text it has seen, so expect fewer bytes per "
            "token on other text.</p>" + svg(fig) +
            _table(["source", "text bytes", "tokens (without EOS)", "documents", "bytes/token"], rows))


def mixture_section(d: Data) -> str:
    if not d.mixture:
        return ""
    src = d.mixture["sources"]
    names = sorted(src, key=lambda s: -src[s]["share"])
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 0.4 * len(names) + 1.2))
    a1.barh(names, [src[s]["share"] for s in names], color="#2a9d8f")
    a1.set_xlabel("share of training tokens")
    a1.invert_yaxis()
    a2.barh(names, [src[s]["epochs"] for s in names], color="#264653")
    a2.set_xlabel("planned epochs")
    a2.invert_yaxis()
    a2.set_yticks([])
    rows = [[s, src[s]["share"], src[s]["unique_tokens"], src[s]["documents"], src[s]["epochs"],
             src[s]["planned_tokens"]] for s in names]
    rows.append(["total", sum(src[s]["share"] for s in names), sum(src[s]["unique_tokens"] for s in names),
                 sum(src[s]["documents"] for s in names), "", sum(src[s]["planned_tokens"] for s in names)])
    left = d.mixture.get("sources_without_tokens") or {}
    note = (f"<p>Left out (no tokens): {html.escape(', '.join(f'{s} (share {v:g})' for s, v in left.items()))}; "
            "the other shares rescaled.</p>" if left else "")
    return (f"<h2>Mixture</h2><p>Training budget {d.mixture['total_tokens']:,} tokens "
            "(<code>total_tokens</code> in mixture.json; the planned tokens of the sources sum to it).</p>" + note +
            svg(fig) + _table(["source", "share", "unique tokens", "documents", "epochs", "planned tokens"], rows))


def contamination_section(d: Data) -> str:
    """OUTPUT/contamination.json (the decontamination stage): per benchmark its n and leaked items,
    per source the documents checked and flagged, and the first flagged documents."""
    from filters.decontam import report_section

    data = _read_json(os.path.join(d.out, "contamination.json"))
    if data is None:
        return ""
    rows = report_section(data)
    bench = _table(["benchmark", "n", "items", "leaked items"],
                   [[b["name"], b["n"], b["items"], b["leaked_items"]] for b in rows["benchmarks"]])
    src = _table(["source", "documents checked", "flagged", "matched n-grams"],
                 [[s["name"], s["documents_checked"], s["flagged"], s["matched_ngrams"]] for s in rows["sources"]])
    flagged = [[name, doc["id"], doc["url"] or "", ", ".join(f"{b}: {', '.join(m['items'][:5])}"
                                                            for b, m in doc["benchmarks"].items())]
               for name, v in sorted(data["sources"].items()) for doc in v["documents"]][:50]
    docs = _table(["source", "document", "url", "benchmark: items"], flagged) if flagged else \
        "<p>No document shares an n-gram with a benchmark item.</p>"
    return (f"<h2>Benchmark contamination</h2><p>Mode <code>{html.escape(data['mode'])}</code>; "
            f"{data['ngrams_indexed']:,} benchmark n-grams indexed ({html.escape(data['normalisation'])}); "
            f"{data['flagged']} documents flagged (contamination.json lists them all).</p>" + bench + src + docs)


def evaluation_section(d: Data) -> str:
    """OUTPUT/eval.json when `python -m train_hooks.eval --out=OUTPUT/eval.json` wrote one: accuracy
    per task beside chance, and held-out perplexity per source."""
    data = _read_json(os.path.join(d.out, "eval.json"))
    if data is None:
        return ""
    tasks = _table(["task", "n", "acc", "± stderr", "chance", "normalisation"],
                   [[k, v["n"], v["acc"], v["acc_stderr"], v["chance"], v["norm"]]
                    for k, v in sorted(data.get("tasks", {}).items())])
    held = data.get("heldout") or {}
    ppl = _table(["source", "held-out documents", "tokens", "perplexity"],
                 [[k, v["documents"], v["tokens"], v["perplexity"]] for k, v in sorted(held.items())]) if held else ""
    return (f"<h2>Zero-shot evaluation</h2><p>Model <code>{html.escape(str(data.get('checkpoint')))}</code> "
            "(LLaMA §3 protocol, train_hooks/eval.py).</p>" + tasks + ppl)


# Lines at the very top of the report, before the run header (each takes the Data, returns HTML or
# ""): the place for a run-level verdict such as whether the recipe ran as written.
def completeness_notice(d: Data) -> str:
    from pipeline import completeness

    return completeness.report_html(d.stats)  # first: the steps of the recipe that did not apply


NOTICES: List[Callable[[Data], str]] = [completeness_notice, nothing_kept_section]

# The report's sections in order; each takes the Data and returns HTML ("" to leave it out).
SECTIONS: List[Callable[[Data], str]] = [funnel_section, length_section, perplexity_section, language_section,
                                         classifier_section, dedup_section, tokenizer_section, mixture_section,
                                         contamination_section, evaluation_section]

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:64rem;margin:2rem auto;
padding:0 1rem;color:#222}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
h3{font-size:.95rem;margin:1.4rem 0 .2rem}table{border-collapse:collapse;font-size:.8rem;margin:.6rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}
td:first-child,th:first-child,td.t,th.t{text-align:left}th{vertical-align:bottom}
table.run th{text-align:left;vertical-align:top;background:#f6f6f6;width:6rem}table.run td{text-align:left}
.alert{background:#fdecea;border-left:4px solid #e76f51;padding:.6rem .8rem}
svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:0 .2rem}
.incomplete{border:2px solid #e76f51;background:#fff4f0;padding:.2rem 1rem;margin:1rem 0}"""


def render(out: str, run: Optional[dict] = None) -> str:
    d = Data(out, run)
    notices = "".join(notice(d) for notice in NOTICES)
    sections = "".join(section(d) for section in SECTIONS)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>llamadata report</title>'
            f"<style>{CSS}</style></head><body><h1>llamadata run report</h1>{notices}{header_section(d)}"
            f"{sections}</body></html>\n")


def write(out: str, run: Optional[dict] = None) -> str:
    """Write OUT/report.html; `run`: the run's record when run.json is not written yet."""
    path = os.path.join(out, REPORT)
    atomic.write_text(path, render(out, run))
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipeline.report", description="Write OUT/report.html.")
    p.add_argument("out", help="a pipeline.run output directory (with stats.json)")
    args = p.parse_args(argv)
    out = args.out.rstrip("/") or args.out
    if not os.path.exists(os.path.join(out, "stats.json")):
        print(f"pipeline.report: error: {not_a_run(args.out, 'python -m pipeline.report')}", file=sys.stderr)
        return 2
    print(write(out))
    return 0


def not_a_run(path: str, command: str) -> str:
    """Why `path` is not a run's output folder, and the command that points at one."""
    inside = os.path.dirname(os.path.abspath(path.rstrip("/") or path))
    for _ in range(3):  # out/curated, out/curated/commoncrawl, out/curated/commoncrawl/CC-MAIN-…
        if os.path.exists(os.path.join(inside, "stats.json")):
            return f"{path} is inside a run's output; point at the output folder: {command} {inside}"
        inside = os.path.dirname(inside)
    return (f"{path}/stats.json not found; give the --output folder of a pipeline.run "
            f"(python -m pipeline.run --output={path} makes one)")


if __name__ == "__main__":
    sys.exit(main())
