"""OUTPUT/report.html: the pictures a data engineer looks at before training, in one file.

    python -m pipeline.report OUT          (pipeline.run writes it at the end of every run)

Self-contained (inline SVG from matplotlib, no script, no external link), deterministic (same
outputs → same bytes: SVG ids salted, no dates). Sections: per-source funnel of drop reasons,
document lengths, perplexity with the bucket cutoffs, language shares, the Wikipedia-reference
classifier's scores and whether it was applied, dedup removal rates, tokenizer bytes per token per
source, the mixture. It reads what is there: stats.json, mixture.json, the curated Parquet shards
(meta fields from typed columns where the sink writes them, else from the `meta` JSON), dropped
documents under rejects/ when the run wrote them (`reason` column), run.json's recipe, and any
further section in `SECTIONS` (e.g. `contamination.json`, see `contamination_section`).
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
TOP_REASONS = 6


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
    """Everything the report draws, read once."""

    def __init__(self, out: str):
        self.out = out
        self.stats = _read_json(os.path.join(out, "stats.json")) or {"sources": {}}
        self.mixture = _read_json(os.path.join(out, "mixture.json"))
        self.run = _read_json(os.path.join(out, "run.json"))
        self.sources = sorted(self.stats["sources"])
        self.kept = {s: read_docs(os.path.join(out, "curated", s)) for s in self.sources}
        self.rejects = {s: read_docs(os.path.join(out, "rejects", s)) for s in self.sources
                        if os.path.isdir(os.path.join(out, "rejects", s))}
        self.recipe = (self.run or {}).get("recipe") or _default_recipe()


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


def _table(header: List[str], rows: List[List], cls: str = "") -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def funnel_section(d: Data) -> str:
    plt = _plt()
    sources = d.sources
    reasons: Dict[str, int] = {}
    for s in sources:
        for r, n in d.stats["sources"][s]["dropped"].items():
            reasons[r] = reasons.get(r, 0) + n
    top = [r for r, _ in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(sources) + 1.4))
    colors = plt.get_cmap("tab10").colors
    for i, s in enumerate(sources):
        st = d.stats["sources"][s]
        total = max(1, st["docs_in"])
        left = 0.0
        parts = [("kept", st["docs_out"])] + [(r, st["dropped"].get(r, 0)) for r in top] + \
            [("other drops", sum(n for r, n in st["dropped"].items() if r not in top))]
        for j, (label, n) in enumerate(parts):
            width = n / total
            ax.barh(i, width, left=left, color="#2a9d8f" if j == 0 else colors[(j - 1) % 10],
                    label=label if i == 0 else None, edgecolor="white", linewidth=0.5)
            left += width
    ax.set_yticks(range(len(sources)), sources)
    ax.invert_yaxis()
    ax.set_xlabel("share of input documents")
    ax.set_xlim(0, 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=4, frameon=False)
    rows = []
    for s in sources:
        st = d.stats["sources"][s]
        drops = ", ".join(f"{r} {n:,}" for r, n in sorted(st["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))) or "-"
        rows.append([s, st["docs_in"], st["docs_out"], f"{st['docs_out'] / max(1, st['docs_in']):.1%}",
                     st["bytes_in"], st["bytes_out"], drops])
    return ("<h2>Funnel: where each source's documents went</h2>" + svg(fig) +
            _table(["source", "docs in", "docs out", "kept", "bytes in", "bytes out", "dropped (reason count)"], rows))


def length_section(d: Data) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    longest = max([r["chars"] for s in d.sources for r in d.kept[s]] + [10])
    bins = np.logspace(0, np.log10(longest) + 0.1, 40)
    rows = []
    for s in d.sources:
        chars = [r["chars"] for r in d.kept[s]]
        if chars:
            ax.hist(chars, bins=bins, histtype="step", linewidth=1.4, label=s)
            rows.append([s, len(chars), int(np.median(chars)), int(np.percentile(chars, 10)),
                         int(np.percentile(chars, 90)), max(chars)])
    ax.set_xscale("log")
    ax.set_xlabel("document length (characters, kept documents)")
    ax.set_ylabel("documents")
    ax.legend(frameon=False, ncol=4)
    return ("<h2>Document lengths</h2>" + svg(fig) +
            _table(["source", "documents", "median chars", "p10", "p90", "max"], rows))


def _cutoffs(d: Data) -> Dict[str, dict]:
    """{lang: {"head", "middle", "mode", "documents"}} from stats.json's notes (per language, or one set)."""
    cut = (d.stats.get("models") or {}).get("perplexity_cutoffs") or {}
    if "head" in cut or "mode" in cut:
        return {"all": cut}
    return {lang: c for lang, c in cut.items() if isinstance(c, dict)}


def _lm_notes(d: Data) -> List[str]:
    lm = (d.stats.get("models") or {}).get("reference_lm") or {}
    if not isinstance(lm, dict):
        return []
    per_lang = lm.values() if all(isinstance(v, dict) for v in lm.values()) else [lm]
    return [(f"{n['lang']}: " if n.get("lang") else "")
            + (n["reason"] if n.get("reason") else ("applied" if n.get("applied", True) else "not applied"))
            for n in per_lang if isinstance(n, dict)]


def perplexity_section(d: Data) -> str:
    docs = [(s, r) for s in d.sources for r in d.kept[s] + d.rejects.get(s, [])
            if isinstance(r.get("perplexity"), (int, float))]
    notes = _lm_notes(d)
    buckets: Dict[str, int] = {}
    for s in d.sources:
        for r in d.kept[s]:
            if r.get("bucket") is not None:
                buckets[str(r["bucket"])] = buckets.get(str(r["bucket"]), 0) + 1
    text = ""
    if notes:
        text += "<p>Reference LM: " + html.escape("; ".join(notes)) + ".</p>"
    if buckets:
        text += "<p>Kept documents by bucket: " + html.escape(", ".join(f"{b} {n:,}" for b, n in sorted(buckets.items()))) + ".</p>"
    if not docs:
        return "<h2>Perplexity</h2>" + text + "<p>No document carries a perplexity: none was scored.</p>"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    values = np.array([float(r["perplexity"]) for _, r in docs])
    bins = np.linspace(values.min(), values.max() + 1e-9, 30)
    by_bucket: Dict[str, list] = {}
    for _, r in docs:
        by_bucket.setdefault(str(r.get("bucket", "?")), []).append(float(r["perplexity"]))
    order = [b for b in ("head", "middle", "tail") if b in by_bucket] + sorted(set(by_bucket) - {"head", "middle", "tail"})
    color = {"head": "#2a9d8f", "middle": "#e9c46a", "tail": "#e76f51"}
    ax.hist([by_bucket[b] for b in order], bins=bins, stacked=True, label=order,
            color=[color.get(b, "#888888") for b in order])
    modes = []
    for lang, cut in sorted(_cutoffs(d).items()):
        prefix = "" if lang == "all" else f"{lang} "
        for key in ("head", "middle"):
            if isinstance(cut.get(key), (int, float)):
                ax.axvline(cut[key], color="black", linestyle="--", linewidth=1)
                ax.text(cut[key], ax.get_ylim()[1] * 0.95, f" {prefix}{key} < {cut[key]:g}", fontsize=8)
        modes.append(f"{prefix}cutoffs {cut.get('mode')}" + (f" from {cut['documents']} documents" if cut.get("documents") else ""))
    ax.set_xlabel("perplexity under the reference LM (lower = closer to Wikipedia)")
    ax.set_ylabel("documents")
    ax.legend(frameon=False)
    kept = sum(1 for s, r in docs if r.get("reason") is None)
    note = (f"{kept} kept documents" + (f" and {len(docs) - kept} dropped ones from rejects/" if len(docs) > kept else
                                        "; the tail bucket's dropped documents are shown when the run writes rejects/"))
    return (f"<h2>Perplexity</h2>{text}<p>{html.escape(note)}" + (f"; {html.escape('; '.join(modes))}" if modes else "")
            + ".</p>" + svg(fig))


def language_section(d: Data) -> str:
    rows, shares = [], {}
    for s in d.sources:
        counts: Dict[str, int] = {}
        for r in d.kept[s] + d.rejects.get(s, []):
            lang = r.get("language") or r.get("lang")
            if lang is not None and not isinstance(lang, (int, float)):
                key = str(lang) + ("" if r.get("reason") is None else " (dropped)")
                counts[key] = counts.get(key, 0) + 1
        dropped = {r: n for r, n in d.stats["sources"][s]["dropped"].items() if r.startswith("language_")}
        if counts or dropped:
            total = sum(counts.values())
            shares[s] = counts
            top = ", ".join(f"{k} {v / max(1, total):.0%}" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
            rows.append([s, total, top or "-", ", ".join(f"{r} {n:,}" for r, n in dropped.items()) or "-"])
    if not rows:
        return "<h2>Languages</h2><p>No document carries a language.</p>"
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(shares) + 1.2))
    langs = sorted({k for c in shares.values() for k in c}, key=lambda k: (-sum(c.get(k, 0) for c in shares.values()), k))
    colors = plt.get_cmap("tab20").colors
    for i, s in enumerate(shares):
        total, left = max(1, sum(shares[s].values())), 0.0
        for j, lang in enumerate(langs):
            w = shares[s].get(lang, 0) / total
            ax.barh(i, w, left=left, color=colors[j % 20], label=lang if i == 0 else None, edgecolor="white")
            left += w
    ax.set_yticks(range(len(shares)), list(shares))
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of documents by language (kept; dropped ones where rejects/ exist)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=8, frameon=False)
    return ("<h2>Languages</h2><p>Natural languages by fastText lid.176 (Wikipedia: the dump's language); "
            "for github, the programming language.</p>") + svg(fig) + _table(["source", "documents with a language", "shares",
                                                      "language drops"], rows)


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
    rows, rates = [], {}
    for s in d.sources:
        st = d.stats["sources"][s]
        dd = {r: n for r, n in st["dropped"].items() if DEDUP_REASON.search(r)}
        if dd:
            rates[s] = sum(dd.values()) / max(1, st["docs_in"])
        rows.append([s, st["docs_in"], sum(dd.values()), f"{sum(dd.values()) / max(1, st['docs_in']):.1%}",
                     ", ".join(f"{r} {n:,}" for r, n in sorted(dd.items())) or "-"])
    fig_html = ""
    if rates:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(8, 0.4 * len(rates) + 1))
        ax.barh(list(rates), list(rates.values()), color="#264653")
        ax.invert_yaxis()
        ax.set_xlabel("share of input documents removed by deduplication")
        fig_html = svg(fig)
    return ("<h2>Deduplication</h2><p>Reasons counted as dedup: those matching "
            f"<code>{html.escape(DEDUP_REASON.pattern)}</code>.</p>" + fig_html +
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
            f"({html.escape(d.mixture['tokenizer'])}).</p>" + svg(fig) +
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


# The report's sections in order; each takes the Data and returns HTML ("" to leave it out).
SECTIONS: List[Callable[[Data], str]] = [funnel_section, length_section, perplexity_section, language_section,
                                         classifier_section, dedup_section, tokenizer_section, mixture_section,
                                         contamination_section, evaluation_section]

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#222}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;
text-align:right;vertical-align:top}td:first-child,th:first-child,td:last-child{text-align:left}
svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:0 .2rem}
.incomplete{border:2px solid #e76f51;background:#fff4f0;padding:.2rem 1rem;margin:1rem 0}"""


def render(out: str) -> str:
    d = Data(out)
    version = d.recipe.get("version", {})
    total_in = sum(s["docs_in"] for s in d.stats["sources"].values())
    total_out = sum(s["docs_out"] for s in d.stats["sources"].values())
    head = (f"<h1>llamadata run report</h1><p>Recipe <b>{html.escape(str(version.get('name')))}</b> "
            f"v{html.escape(str(version.get('version')))}; {len(d.sources)} source(s); {total_in:,} documents in, "
            f"{total_out:,} kept; conservation {'holds' if d.stats.get('conserved') else 'FAILED'}.</p>")
    from pipeline import completeness

    head += completeness.report_html(d.stats)  # first: the steps of the recipe that did not apply
    sections = "".join(section(d) for section in SECTIONS)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>llamadata report</title>'
            f"<style>{CSS}</style></head><body>{head}{sections}</body></html>\n")


def write(out: str) -> str:
    path = os.path.join(out, REPORT)
    atomic.write_text(path, render(out))
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pipeline.report", description="Write OUT/report.html.")
    p.add_argument("out", help="a pipeline.run output directory (with stats.json)")
    args = p.parse_args(argv)
    if not os.path.exists(os.path.join(args.out, "stats.json")):
        print(f"pipeline.report: error: {args.out}/stats.json not found; run python -m pipeline.run "
              f"--output={args.out} first", file=sys.stderr)
        return 2
    print(write(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
