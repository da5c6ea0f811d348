"""Benchmark decontamination of the curated documents (rules in filters/decontam.py).

    benchmark files ─ReadBenchmarks─ToList─┐ (side input: a few MB of item text; each worker
                                           │  process builds the n-gram index once, via Shared)
    docs (per source) ──────Check──────────┴─→ docs (kept / masked), drop events,
                                                findings ─┐
                                                checked ──┼─ WriteContamination → OUT/contamination.json
    index info (n, n-grams per benchmark) ────────────────┘

Documents stream through `Check`; only flagged documents' findings (id, url, benchmarks, items)
and, per bundle, the number of documents checked per source leave it.
With `--write_rejects` (`stages.collect_rejects`), its drops (`drop` mode, `mask` mode's
`decontam_too_dirty:<benchmark>` and `decontam_masked_empty`) also go to OUT/rejects/<source>/ with
their reason, as they came in.
"""
from __future__ import annotations

import collections
import glob
import json
import logging
import os
import posixpath
from typing import List, Sequence

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils import shared
from apache_beam.utils.windowed_value import WindowedValue

from common import events as ev
from common.cli import UsageError
from filters import decontam
from common import atomic
from pipeline.stages import REJECTS, Counters, add_rejects, collecting_rejects, rejected

log = logging.getLogger("pipeline")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTAMINATION_JSON = "contamination.json"
FINDINGS = "findings"
CHECKED = "checked"


def resolve_benchmarks(recipe_paths: Sequence[str], cli_paths: Sequence[str] = (), read: bool = True) -> List[str]:
    """The recipe's benchmark files (relative to the project, and kept so: each worker resolves
    them against its own copy of the project, where `filters/benchmarks/` ships) and --benchmarks
    (relative to the working directory; globs, comma-separated or repeated), each checked to exist
    and, with `read` (a local run, whose launcher is its worker), to parse."""
    found: List[tuple] = []   # (path, named by the recipe)
    for where, items in (("decontamination.benchmarks", [(p, PROJECT_ROOT) for p in recipe_paths]),
                         ("--benchmarks", [(p, None) for item in cli_paths for p in item.split(",") if p])):
        for pattern, base in items:
            if "://" in pattern:
                found.append((pattern, base is not None))
                continue
            full = pattern if os.path.isabs(pattern) or base is None else os.path.join(base, pattern)
            matches = sorted(glob.glob(full))
            if not matches:
                raise UsageError(f"{where}: no benchmark file matches {pattern!r}; give a path or glob of "
                                 ".jsonl[.gz] (llm-foundry or released schema) or .txt files")
            if base is not None and not os.path.isabs(pattern):
                matches = [os.path.relpath(m, base) for m in matches]
            else:
                matches = [os.path.abspath(m) for m in matches]
            found.extend((m, base is not None) for m in matches)
    seen, paths = set(), []
    for p, from_recipe in found:  # the same file named twice (relative in the recipe, absolute on the command line)
        key = p if "://" in p else os.path.realpath(worker_path(p))
        if key not in seen:
            seen.add(key)
            paths.append((p, from_recipe))
    paths = _user_files_replace_recipe_files(paths)
    for p in paths if read else ():
        try:
            decontam.read_benchmark(worker_path(p))
        except decontam.BenchmarkError as e:
            raise UsageError(str(e)) from None
    return paths


def _user_files_replace_recipe_files(paths: List[tuple]) -> List[str]:
    """A --benchmarks file named like a recipe's (a benchmark is named by its file name up to the first
    dot) takes its place, in the recipe's position, with a log line: the user's copy is what the run
    is meant to check (a newer release, a local mirror). Two files of one name from the same side
    are ambiguous: a usage error."""
    by_name: dict = {}
    for p, from_recipe in paths:
        by_name.setdefault(decontam.benchmark_name(p), []).append((p, from_recipe))
    replaced = {}
    for name, group in sorted(by_name.items()):
        for side, label in ((True, "decontamination.benchmarks"), (False, "--benchmarks")):
            same = [p for p, r in group if r is side]
            if len(same) > 1:
                raise UsageError(f"{label}: two files named {name!r} ({same[0]}, {same[1]}; a benchmark is named "
                                 "by its file name up to the first dot); rename one")
        if len(group) == 2:
            recipe_path = next(p for p, r in group if r)
            user_path = next(p for p, r in group if not r)
            log.info("--benchmarks: %s replaces the recipe's %s (benchmark %r)", user_path, recipe_path, name)
            replaced[recipe_path] = user_path
    dropped = set(replaced.values())
    return [replaced.get(p, p) for p, _ in paths if p not in dropped]


def worker_path(path: str) -> str:
    """A benchmark path as the process reading it sees it: project-relative ones under its project."""
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.join(PROJECT_ROOT, path)


def _read_indexed(item):
    index, path = item
    return index, decontam.read_benchmark(worker_path(path))


def _make_index(benchmarks, config):
    return decontam.BenchmarkIndex(benchmarks, decontam.NRule.from_config(config))


class _Holder:
    """A weak-referenceable box for `Shared` (it cannot hold a plain index object's attributes)."""

    def __init__(self, value):
        self.value = value


class _CheckFn(beam.DoFn):
    def __init__(self, config: dict, handle: shared.Shared, namespace: str, rejects: bool = False):
        self.config = config
        self.rejects = rejects
        self.mode = config["mode"]
        self.handle = handle
        self.namespace = namespace
        self.rule = None
        self.counters = Counters(namespace)

    def start_bundle(self):
        self.checked = collections.Counter()
        self.totals = ev.Totals()  # the spans `mask` cut from kept documents (stats.json's funnel)

    def finish_bundle(self):
        # Documents checked, summed per bundle: one element per source, not one per document.
        for source, n in sorted(self.checked.items()):
            yield beam.pvalue.TaggedOutput(CHECKED, WindowedValue((source, n), GlobalWindow().max_timestamp(),
                                                                  [GlobalWindow()]))
        for event in self.totals.events():
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.windowed(event))

    def process(self, doc, benchmarks):
        if self.rule is None:
            index = self.handle.acquire(lambda: _Holder(_make_index(benchmarks, self.config))).value
            self.rule = decontam.Decontaminator(index, self.mode, decontam.MaskRule.from_config(self.config))
        self.checked[doc.source] += 1
        result, finding = self.rule(doc)
        if finding is not None:
            self.counters.inc("decontam_flagged")
            if finding.masked_spans:
                self.counters.inc("decontam_masked_docs")
                self.counters.inc("decontam_masked_spans", finding.masked_spans)
            yield beam.pvalue.TaggedOutput(FINDINGS, finding)
        if isinstance(result, str):
            self.counters.inc("drop:" + result)
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, result, doc.nbytes))
            if self.rejects:  # as it came in (a masked-empty one with its text, not the empty rest)
                yield beam.pvalue.TaggedOutput(REJECTS, rejected(result, doc))
        else:
            self.totals.trim_between(doc, result, "decontam_mask")
            yield result


def write_contamination(output: str, info: dict, mode: str, checked, findings) -> None:
    doc = decontam.report(info, mode, dict(checked), findings)
    atomic.write_text(posixpath.join(output, CONTAMINATION_JSON), json.dumps(doc, indent=2, sort_keys=True) + "\n")


class Decontaminate(beam.PTransform):
    """(docs, …) → ([docs, …], drop events); writes OUTPUT/contamination.json. See the docstring."""

    def __init__(self, config: dict, paths: Sequence[str], output: str, label=None):
        super().__init__(label)
        if config["mode"] not in decontam.MODES:
            raise UsageError(f"--set decontamination.mode={config['mode']}: choose one of "
                             f"{', '.join(decontam.MODES)}")
        for key in ("min_item_words", "mask_window_chars", "mask_min_piece_chars", "max_matches"):
            if not isinstance(config[key], int) or isinstance(config[key], bool) or config[key] < 0:
                raise UsageError(f"--set decontamination.{key}={config[key]}: give a whole number >= 0")
        self.config = {k: v for k, v in config.items() if not k.startswith("_")}
        self.paths = list(paths)
        self.output = output

    def expand(self, pcolls):
        pcolls = list(pcolls)
        p = pcolls[0].pipeline
        config, mode = self.config, self.config["mode"]
        ns = self.label or "Decontaminate"
        benchmarks = (p | "BenchmarkFiles" >> beam.Create(list(enumerate(self.paths)))
                      | "ReadBenchmarks" >> beam.Map(_read_indexed)
                      | "AllBenchmarks" >> beam.combiners.ToList()
                      | "InRecipeOrder" >> beam.Map(lambda bs: [b for _, b in sorted(bs, key=lambda ib: ib[0])]))
        side = beam.pvalue.AsSingleton(benchmarks)
        handle = shared.Shared()
        rejects = collecting_rejects(p)   # --write_rejects: the drops go to OUT/rejects/ too
        tags = (ev.EVENTS, FINDINGS, CHECKED) + ((REJECTS,) if rejects else ())
        kept, events, findings, checked = [], [], [], []
        for i, docs in enumerate(pcolls):
            out = docs | f"Check{i}" >> beam.ParDo(_CheckFn(config, handle, ns, rejects), side).with_outputs(
                *tags, main="docs")
            if rejects:
                add_rejects(p, out[REJECTS])
            kept.append(out.docs)
            events.append(out[ev.EVENTS])
            findings.append(out[FINDINGS])
            checked.append(out[CHECKED])
        rule = decontam.NRule.from_config(config)
        info = benchmarks | "IndexInfo" >> beam.Map(lambda bs: decontam.benchmark_info(bs, rule))
        per_source = (tuple(checked) | "AllChecked" >> beam.Flatten()
                      | "SumPerSource" >> beam.CombinePerKey(sum))
        all_findings = tuple(findings) | "AllFindings" >> beam.Flatten()
        output = self.output
        (p | "Once" >> beam.Create([None])
         | "WriteContamination" >> beam.Map(
             lambda _, i, c, f: write_contamination(output, i, mode, c, f),
             beam.pvalue.AsSingleton(info), beam.pvalue.AsList(per_source), beam.pvalue.AsList(all_findings)))
        return kept, tuple(events) | "Events" >> beam.Flatten()


def decontaminate(recipe: dict, opts) -> Decontaminate:
    """The stage as the recipe and --benchmarks configure it."""
    from apache_beam.options.pipeline_options import StandardOptions

    config = recipe["decontamination"]
    runner = (opts.view_as(StandardOptions).runner or "DirectRunner").split(".")[-1]
    # A local run reads the files now, to name a bad one before it starts; a remote runner's
    # workers read them (the launcher opens no file a worker needs).
    local = runner in ("DirectRunner", "FnApiRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")
    paths = resolve_benchmarks(config["benchmarks"], getattr(opts, "benchmarks", None) or [], read=local)
    return Decontaminate(config, paths, opts.output)


def main(argv=None) -> int:
    """`python -m pipeline.decontam [FILE ...] [--recipe NAME] [--ids]`: per benchmark (the recipe's
    bundled ones by default), its n and the items no document can ever be found to hold."""
    import argparse

    from pipeline import recipe as recipes  # as the run resolves it: its base, schema and cross-checks

    parser = argparse.ArgumentParser(prog="python -m pipeline.decontam", description=main.__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", help="benchmark files (default: the recipe's)")
    parser.add_argument("--recipe", default="llama", help="the recipe (bundled name or folder) whose decontamination keys choose n")
    parser.add_argument("--ids", action="store_true", help="also print the unmatchable items' ids")
    parser.add_argument("--debug", action="store_true", help="a mistake's traceback too")
    args = parser.parse_args(argv)
    try:
        config = recipes.load(args.recipe)["decontamination"]
    except recipes.RecipeError as e:
        raise UsageError(str(e)) from None
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = args.files or [os.path.join(root, p) for p in config["benchmarks"]]
    rule = decontam.NRule.from_config(config)
    try:
        benchmarks = [decontam.read_benchmark(p) for p in files]
    except decontam.BenchmarkError as e:
        raise UsageError(str(e).replace("--benchmarks: ", "", 1)) from None
    print(f"{'benchmark':24s} {'items':>6s} {'n':>3s} {'never matched':>14s}")
    for row in decontam.unmatchable(benchmarks, rule):
        print(f"{row['name']:24s} {row['items']:6d} {row['n']:3d} {row['unmatchable']:6d} = {100 * row['share']:5.2f}%")
        if args.ids and row["unmatchable_ids"]:
            print("    " + " ".join(row["unmatchable_ids"]))
    return 0


if __name__ == "__main__":
    import sys

    from common.cli import guarded

    guarded(main, sys.argv[1:], "python -m pipeline.decontam")
