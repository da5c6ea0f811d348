"""OUT/ablation.html: an ablation's answer on one self-contained page.

Verdicts and notes first, then the metrics (mean ± standard error per arm, each difference with its
interval), training loss against tokens per arm (inline SVG from matplotlib, imported here only;
SVG ids salted and no dates, so the page is the same bytes for the same ablation.json), what each
arm trained on, and every model's numbers. A plain function of ablation.json; no script, no link.
"""
from __future__ import annotations

import html
import io
from typing import Dict, List

from train_hooks.ablate_stats import optional

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:62rem;margin:2rem auto;
padding:0 1rem;color:#222}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;
text-align:right;vertical-align:top}td:first-child,th:first-child,.setup td,.setup th{text-align:left}.note{background:#fff4d6;
padding:.4rem .6rem}.noise{color:#777}svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:0 .2rem}"""


def _e(x) -> str:
    return html.escape(str(x))


def _table(header: List[str], rows: List[List], cls: str = "") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table{f' class={cls}' if cls else ''}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def metric_order(name: str):
    """bits per byte (all, then per source), core, then each task's accuracy."""
    return ({"bpb": 0, "core": 2}.get(name, 1 if name.startswith("bpb:") else 3), name)


def _pm(stat: Dict) -> str:
    return f"{stat['mean']:.4f} ± {optional(stat['se'], '.4f')}"


def loss_svg(curves: Dict[str, Dict]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "llamadata-ablation", "svg.fonttype": "none", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for i, (arm, c) in enumerate(sorted(curves.items())):
        color = f"C{i}"
        for seed_losses in c["per_seed"]:
            ax.plot(c["tokens"], seed_losses, color=color, alpha=0.25, linewidth=0.7)
        ax.plot(c["tokens"], c["loss_mean"], color=color, linewidth=1.6, label=f"{arm} (mean of {len(c['per_seed'])} seeds)")
        if all(se is not None for se in c["loss_se"]):
            lo = [m - s for m, s in zip(c["loss_mean"], c["loss_se"])]
            hi = [m + s for m, s in zip(c["loss_mean"], c["loss_se"])]
            ax.fill_between(c["tokens"], lo, hi, color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("tokens trained")
    ax.set_ylabel("training loss (nats/token)")
    ax.legend(frameon=False)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def render(r: Dict) -> str:
    s = r["settings"]
    arms = list(r["arms"])
    parts = [f"<h1>Ablation: {' vs '.join(_e(a) for a in arms)}</h1>"]
    for note in r["notes"]:
        parts.append(f"<p class=note>Note: {_e(note)}</p>")
    parts.append("<h2>Verdicts</h2><ul>" + "".join(f"<li>{_e(v)}</li>" for v in r["verdicts"]) + "</ul>")

    p = r["model"]["params"]
    tok = r["tokenizer"]
    ref = r["reference"]
    parts.append("<h2>Set-up</h2>" + _table(["what", "value"], [
        ["preset", _e(s["preset"])],
        ["model", f"{_e(s['model'])}: {p['total']:,} parameters ({p['matmul']:,} in matrix multiplies), "
                  f"{r['model']['flops_per_token']:.3g} training FLOPs/token"],
        ["tokens per arm and seed", f"{s['tokens']:,} (steps of {s['batch_tokens']:,}, context {s['context']})"],
        ["seeds per arm", f"{s['seeds']} (weight init and data order; the documents are the same for every seed)"],
        ["device", f"{_e(s['device'])}" + (f", {s['threads']} thread(s)" if s["device"] == "cpu" and s["threads"] else "")],
        ["tokenizer", (f"given: {_e(tok['given'])}" if tok.get("given") else
                       f"trained on {sum(d['bytes'] for d in tok['drawn'].values()):,} bytes sampled from the arms' union "
                       f"({tok['union_bytes']:,} bytes; rate {tok['rate']:.4g})") + f"; {tok['vocab_size']:,} pieces"],
        ["reference text", f"{', '.join(_e(k) for k in sorted(ref['sources']))}: {ref['passages']:,} passages, "
                           f"{ref['bytes']:,} bytes, {ref['tokens']:,} tokens. Why: {_e(ref['why'])}. Exclusion: {_e(ref['exclusion'])}"],
        ["tasks", ", ".join(f"{_e(n)}" for n, _ in s["tasks"]) + (f" (first {s['task_limit']} items)" if s["task_limit"] else "")
                  or "none"],
        ["baseline arm", _e(s["baseline"])],
    ], cls="setup"))

    others = [a for a in arms if a != s["baseline"]]
    rows = []
    for name, m in sorted(r["metrics"].items(), key=lambda kv: metric_order(kv[0])):
        row = [f"{_e(name)} ({'lower' if m['lower_is_better'] else 'higher'} is better)"]
        row += [_pm(m["arms"][a]) for a in arms]
        for a in others:
            d = m["differences"][f"{a} - {s['baseline']}"]
            seeds = "—" if d["ci"] is None else f"[{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}]"
            items = "—" if not d["items"] else f"[{d['items']['ci'][0]:+.4f}, {d['items']['ci'][1]:+.4f}]"
            cls = " class=noise" if d["within_noise"] in (True, None) else ""
            word = {True: "within noise", None: "no seed interval"}.get(d["within_noise"], "outside noise")
            row.append(f"<span{cls}>{d['diff']:+.4f}; seeds {seeds}; items {items}: <b>{word}</b></span>")
        rows.append(row)
    parts.append("<h2>Metrics (mean ± standard error over seeds)</h2>"
                 + _table(["metric"] + arms + [f"{a} − {s['baseline']} (95% intervals)" for a in others], rows)
                 + "<p>Two intervals for each difference: over seeds (Welch), and over the test's own units, "
                   "paired (the same reference passages and task items score both arms). Within noise when "
                   "either holds 0.</p>"
                 + "<p>bits per byte: −Σ log₂ P over the reference passages' UTF-8 bytes (lm-eval's rolling windows); "
                   "core: DCLM's aggregation (centred accuracy (acc − baseline)/(1 − baseline), averaged) over the tasks "
                   "run, not DCLM's 22-task CORE.</p>")

    parts.append("<h2>Training loss against tokens</h2><p>Each arm's loss on its own training data (thin: each seed; "
                 "band: ± standard error). Arms see different text, so this curve shows training went well, "
                 "not which data is better: the metrics above do that.</p>" + loss_svg(r["curves"]))

    rows = []
    for a in arms:
        for src, acc in sorted(r["arms"][a]["sources"].items()):
            rows.append([_e(a), _e(src), f"{acc['documents']:,}", f"{acc['reference_overlap']:,}",
                         f"{acc['documents_written']:,}", f"{acc['share']:.4f}", f"{acc['unique_tokens']:,}",
                         f"{acc['planned_tokens']:,}", f"{acc['epochs']:.2f}"])
    parts.append("<h2>What each arm trained on</h2>" + _table(
        ["arm", "source", "documents", "overlap the reference (left out)", "written", "share", "unique tokens",
         "planned tokens", "epochs"], rows))

    task_names = sorted(next(iter(next(iter(r["runs"].values())).values()))["tasks"])
    ref_keys = sorted(k for k in ref["sources"])
    rows = []
    for a in arms:
        for seed, run in sorted(r["runs"][a].items(), key=lambda kv: int(kv[0])):
            rows.append([_e(a), _e(seed), f"{run['final_train_loss']:.4f}", f"{run['bpb']['all']['bpb']:.4f}"]
                        + [f"{run['bpb'][k]['bpb']:.4f}" for k in ref_keys]
                        + [f"{run['tasks'][t]['acc']:.4f}" for t in task_names]
                        + [f"{run['core']['core']:+.4f}" if run["core"] else "—"])
    parts.append("<h2>Every model</h2>" + _table(
        ["arm", "seed", "final training loss", "bits/byte"] + [f"bits/byte {k}" for k in ref_keys]
        + [f"acc {t}" for t in task_names] + ["core"], rows))
    body = "".join(parts)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>llamadata ablation</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")
