"""Did the run do what its recipe says? One machine-readable answer, shown first everywhere.

    "recipe_complete": false,
    "incomplete": [{"source": "commoncrawl", "step": "quality.wikiref", "by": "run",
                    "reason": "not applied: 0 cited pages found (< min_positives=50); ..."}]

in stats.json and run.json, and at the top of the closing summary and of report.html. `by` is
`user` for a step the recipe or a --set turned off on purpose (recorded as the user's choice) and
`run` for a step that was asked for and did not apply.

The policy per CommonCrawl step (RECIPE.md CommonCrawl; recipes `commoncrawl.json`, `quality.json`):

| step | does not apply when | then |
|---|---|---|
| quality (reference LM, buckets) | no LM can be had: cc_net's models unreachable, too little Wikipedia text, no cutoffs for a kept language | the run stops before curating, one line, exit 2 (`pipeline.quality_models`) |
| quality | `commoncrawl.quality=false` | runs without it; listed, by user |
| quality.wikiref (classifier) | `quality.wikiref.enabled=false` | listed, by user |
| quality.wikiref | fewer cited pages than `min_positives`, or held-out AUC under `min_auc` | pages pass unclassified (`wikiref_applied: false`); listed, by run |
| exact_dedup | `commoncrawl.exact_dedup=false` | listed, by user |

The other sources' recipes have no step that can silently not apply.
"""
from __future__ import annotations

import html
import json
import posixpath
from typing import List, Optional

from common import atomic

CC = "commoncrawl"


def _is_cc(unit: str) -> bool:
    return unit == CC or unit.startswith(CC + "/")


def _wikiref_note(models: dict, unit: str) -> Optional[dict]:
    if unit == CC:
        return models.get("wikiref_training")
    return ((models.get("dumps") or {}).get(unit) or {}).get("wikiref_training")


def incomplete_steps(stats: dict, recipe: dict) -> List[dict]:
    """The steps of `recipe` that did not apply in the run that wrote `stats` (with its model notes)."""
    out: List[dict] = []
    models = stats.get("models") or {}
    for unit in sorted(u for u in stats.get("sources", {}) if _is_cc(u)):
        cc = recipe[CC]  # read only for a run that curated CommonCrawl (the recipe is the only default)
        if not cc["quality"]:
            out.append({"source": unit, "step": "quality", "by": "user",
                        "reason": "skipped on purpose: commoncrawl.quality=false (no perplexity buckets, no "
                                  "Wikipedia-reference classifier)"})
        elif not recipe["quality"]["wikiref"]["enabled"]:
            out.append({"source": unit, "step": "quality.wikiref", "by": "user",
                        "reason": "skipped on purpose: quality.wikiref.enabled=false"})
        else:
            note = _wikiref_note(models, unit)
            if note is None:  # e.g. an earlier dump's models folder moved: unknown is not applied
                out.append({"source": unit, "step": "quality.wikiref", "by": "run",
                            "reason": "no note of the classifier's training in stats.json (models.wikiref_training): "
                                      "whether it applied is unknown"})
            elif not note.get("applied"):
                out.append({"source": unit, "step": "quality.wikiref", "by": "run", "reason": note.get("reason", "not applied")})
        if not cc["exact_dedup"]:
            out.append({"source": unit, "step": "exact_dedup", "by": "user",
                        "reason": "skipped on purpose: commoncrawl.exact_dedup=false"})
    return out


def fields(stats: Optional[dict]) -> dict:
    """The two fields run.json copies from stats.json (nothing before a curation ran)."""
    if not stats or "recipe_complete" not in stats:
        return {}
    return {"recipe_complete": stats["recipe_complete"], "incomplete": stats["incomplete"]}


def attach(stats: dict, output: str, recipe: dict) -> dict:
    """stats.json with `recipe_complete` and `incomplete`, written back."""
    steps = incomplete_steps(stats, recipe)
    stats = dict(stats, recipe_complete=not steps, incomplete=steps)
    atomic.write_text(posixpath.join(output, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def _line(step: dict) -> str:
    who = "the user's choice" if step["by"] == "user" else "did not apply"
    return f"{step['source']}: {step['step']} ({who}): {step['reason']}"


def summary_lines(stats: Optional[dict]) -> List[str]:
    """The lines that open the closing summary: none when the recipe ran whole."""
    if not stats or stats.get("recipe_complete", True):
        return []
    steps = stats.get("incomplete", [])
    name = (stats.get("recipe") or {}).get("name") or "the recipe"
    return [f"RECIPE INCOMPLETE: {len(steps)} step(s) of {name} did not run as written:"] + \
        [f"  - {_line(s)}" for s in steps] + [""]


def report_html(stats: Optional[dict]) -> str:
    """The paragraph under the report's title: empty when the recipe ran whole."""
    lines = summary_lines(stats)
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(_line(s))}</li>" for s in stats["incomplete"])
    return (f'<div class="incomplete"><p><b>Recipe incomplete</b>: {html.escape(lines[0].split(": ", 1)[1])}</p>'
            f"<ul>{items}</ul></div>")
