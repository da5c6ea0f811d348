"""Entry point: `python -m pipeline.run [--runner=…] [--output=DIR] [--sources=a,b] [--<source>_input=…]`.

With no input flags every source runs on the samples bundled under samples/, on the DirectRunner,
through every stage: curate → tokenizer → tokenize → mixture, then OUTPUT/report.html.
A mistake on the command line is one line on stderr and exit code 2 (--debug: with the traceback);
Ctrl-C stops within seconds (exit 130). OUTPUT/run.json records what ran.
"""
from __future__ import annotations

import argparse
import json
import logging
import posixpath
import sys
from typing import Dict, List, Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (DebugOptions, PipelineOptions, SetupOptions, StandardOptions,
                                                  TestOptions)
from apache_beam.runners.runner import PipelineState

from common.cli import UsageError, guarded, interrupted
from pipeline import completeness, dumps, output_lock, preflight, progress, quality_models, runinfo
from pipeline import recipe as recipes
from pipeline.decontam import decontaminate
from pipeline.inputs import remove_downloads_on_sigterm
from pipeline.options import LlamaDataOptions, check_flags, check_runner
from common.record import META_COLUMNS, Column
from pipeline import web_rules
from filters import models
from common import atomic, fetch
from pipeline import funnel, run_state
from pipeline.sinks import WriteCurated
from pipeline.sources import SOURCE_NAMES, module_for, sample_inputs
from pipeline.stages import REJECT_REASON, collect_rejects, collected_rejects, flatten
from pipeline.stats import WriteStats

log = logging.getLogger("pipeline")


def source_inputs(opts: LlamaDataOptions, name: str) -> List[str]:
    given = getattr(opts, f"{name}_input")
    if not given:
        return sample_inputs(name)
    return [p for item in given for p in item.split(",") if p]


def selected_sources(opts: LlamaDataOptions) -> List[str]:
    names = preflight.sources(opts.sources)
    # Fixed order: a stable graph, and Wikipedia first (its text trains the quality models).
    order = ["wikipedia"] + [s for s in SOURCE_NAMES if s != "wikipedia"]
    return [s for s in order if s in names]


def _clear(directory: str) -> None:
    if FileSystems.exists(directory):
        FileSystems.delete([directory])


def curation_units(opts: LlamaDataOptions, recipe: dict, sources: List[str]) -> List[tuple]:
    """(name in stats.json and curated/, source module name, inputs, dump or None) for each composite
    the run builds: one per source, but one per dump for CommonCrawl with --commoncrawl_dump."""
    units = []
    for name in sources:
        if name == "commoncrawl" and opts.commoncrawl_dump:
            if opts.commoncrawl_input:
                raise UsageError("--commoncrawl_dump and --commoncrawl_input: give the inputs of each dump as "
                                 "--commoncrawl_dump=CC-MAIN-YYYY-WW=PATTERN instead")
            try:
                parsed = dumps.parse(opts.commoncrawl_dump, recipe["commoncrawl"]["base_url"])
            except dumps.DumpError as e:
                raise UsageError(str(e)) from None
            units += [(dumps.source_name(d), name, inputs, d) for d, inputs in parsed]
        else:
            units.append((name, name, source_inputs(opts, name), None))
    return units


def build_curation(p: beam.Pipeline, opts: LlamaDataOptions, recipe: dict, sources: List[str],
                   quality_plan: Optional[quality_models.Plan] = None) -> None:
    """The curation graph: every source's composite, the web rules (llama-plus), near-dedup, the
    Parquet sink, the stats; with --write_rejects, the rule stages' drops under OUT/rejects/."""
    output = opts.output
    models_dir = opts.models_dir or posixpath.join(output, "models")
    if opts.write_rejects:
        collect_rejects(p)
    docs_by_source: Dict[str, beam.PCollection] = {}
    events = []
    units = curation_units(opts, recipe, sources)
    for unit, name, inputs, dump in units:
        module = module_for(name)
        kwargs = {}
        if name == "commoncrawl":
            # A dump's quality models (cutoffs, classifier) are its own, as cc_net's are per dump.
            unit_models = posixpath.join(models_dir, unit) if dump else models_dir
            kwargs["quality"] = quality_stage(recipe, unit_models, opts, quality_plan)
            if dump:
                kwargs["dump"] = dump
        label = unit.replace("/", ":")
        docs, e = p | f"Source:{label}" >> module.Source(inputs, recipe, opts, **kwargs)
        events.append(e)
        if web_rules.enabled_for(recipe, name):
            # The rules are the source's (recipe section `name`); the label is the unit's, one per dump.
            docs, e = docs | f"WebRules:{label}" >> web_rules.web_rules_stage(recipe, name)
            events.append(e)
        docs_by_source[unit] = docs
    sources = [unit for unit, _, _, _ in units]  # stats.json and the sink: one entry per dump
    curated = []
    near = recipe.get("neardup", {})
    if near.get("enabled", True) and near.get("scope", "per_source") == "cross_source":
        docs, e = flatten("AllDocs", docs_by_source.values()) | "NearDedup:all" >> near_dedup(near, "all")
        curated.append(docs)
        events.append(e)
    else:
        for name, docs in docs_by_source.items():
            if near.get("enabled", True):
                docs, e = docs | f"NearDedup:{name.replace('/', ':')}" >> near_dedup(near, name)
                events.append(e)
            curated.append(docs)
    if recipe["decontamination"]["mode"] != "off":  # off: no index is built, no document checked
        curated, e = tuple(curated) | "Decontaminate" >> decontaminate(recipe, opts)
        events.append(e)
    columns = sink_columns(recipe)
    written = tuple(curated) | "WriteCurated" >> WriteCurated(
        posixpath.join(output, "curated"), recipe["sink"]["target_shard_bytes"], columns)
    steps = {unit: funnel.steps_for(recipe, unit) for unit in sources}  # stats.json's funnel
    flatten("Events", events + [written]) | "Stats" >> WriteStats(output, sources, recipe, steps)
    rejected = collected_rejects(p)
    if rejected:
        # Its `written` events are not accounts: these documents are already counted as drops.
        # Only the run's sources: the CommonCrawl quality stage may read Wikipedia for its own models.
        _ = (flatten("AllRejects", rejected)
             | "RejectsOfRunSources" >> beam.Filter(lambda d, names: d.source in names, frozenset(sources))
             | "WriteRejects" >> WriteCurated(
            posixpath.join(output, "rejects"), recipe["sink"]["target_shard_bytes"],
            columns + [Column(REJECT_REASON, "string", in_meta=False)]))


def sink_columns(recipe: dict) -> List[Column]:
    """Typed Parquet columns: the common meta fields, then the enabled rules' signals."""
    return list(META_COLUMNS) + web_rules.signal_columns(recipe)


def near_dedup(config: dict, label: str):
    from dedup.lsh import NearDedup

    return NearDedup(config, label)


def quality_plan(opts: LlamaDataOptions, recipe: dict, download: bool) -> quality_models.Plan:
    """Where the reference LMs come from (pipeline/quality_models.py): a user's Wikipedia input,
    never the bundled sample, trains what scores a user's pages."""
    wikipedia = source_inputs(opts, "wikipedia") if opts.wikipedia_input else []
    bundled = not (opts.commoncrawl_input or opts.commoncrawl_dump)
    return quality_models.plan(recipe, wikipedia, bundled, download)


def quality_stage(recipe: dict, models_dir: str, opts, plan: Optional[quality_models.Plan] = None):
    if not recipe["commoncrawl"]["quality"]:
        return None
    from pipeline.quality import CCNetQuality

    plan = plan or quality_plan(opts, recipe, download=False)
    # The dumps mark cited pages and, when the plan trains the LMs, give their articles' opening text.
    return CCNetQuality(recipe, models_dir, wikipedia_dumps=plan.dumps, lms=plan.lms)


def is_dry_run(pipeline_args: List[str]) -> bool:
    return bool(PipelineOptions(pipeline_args).view_as(TestOptions).dry_run)


def is_direct_runner(pipeline_args: List[str]) -> bool:
    from apache_beam.options.pipeline_options import StandardOptions

    runner = PipelineOptions(pipeline_args).view_as(StandardOptions).runner or "DirectRunner"
    return runner.split(".")[-1] in ("DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner", "FnApiRunner")


def capacity_warning(opts: LlamaDataOptions, recipe: dict) -> Optional[str]:
    """pipeline.capacity's warning for this run's local inputs, before it starts (None: it fits)."""
    from pipeline import capacity

    units = curation_units(opts, recipe, selected_sources(opts))
    patterns = [p for _, _, inputs, _ in units for p in inputs]
    whole = []
    if recipe["commoncrawl"]["max_files"] is None:
        whole = [dump or p for _, name, inputs, dump in units if name == "commoncrawl"
                 for p in inputs if p.endswith(".paths.gz")]
    text_bytes, unsized = capacity.local_text_bytes(patterns)
    return capacity.direct_runner_warning(text_bytes, unsized, sorted(set(whole)), capacity.machine_memory_bytes())


def translate_curation(opts: LlamaDataOptions, recipe: dict, pipeline_args: List[str]):
    """`--dry_run=True`: build the curation job and hand it to the runner without running it (the
    DataflowRunner translates it, offline); touches no input or output. `--dataflow_job_file=F`
    (a Beam option Beam itself skips on a dry run) gets the job and its pipeline proto as JSON."""
    options = PipelineOptions(pipeline_args)
    options.view_as(SetupOptions).save_main_session = False
    p = beam.Pipeline(options=options)
    build_curation(p, opts, recipe, selected_sources(opts))
    if type(p.runner).__name__ != "DataflowRunner":  # only Dataflow honours --dry_run: others would run
        log.info("dry run: the curation job was built (%s does not translate without running)", type(p.runner).__name__)
        return None
    result = p.run()
    job = getattr(result, "job", None)
    job_file = options.view_as(DebugOptions).dataflow_job_file
    if job is not None and job_file:
        from google.protobuf import json_format

        spec = {"job": json.loads(job.json()), "pipeline": json_format.MessageToDict(job.proto_pipeline)}
        with open(job_file, "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=1, sort_keys=True)
    log.info("dry run: the curation job was built and translated by %s; nothing ran",
             type(p.runner).__name__)
    return result


def _clear_unit(output: str, unit: str) -> None:
    """Remove what an earlier run curated for `unit`: a source's folder (its dumps included), or
    one dump's folder and any un-dumped CommonCrawl shards beside it (that run is replaced)."""
    _clear(posixpath.join(output, "curated", unit))
    if dumps.is_dump_source(unit):
        top = [m.path for r in FileSystems.match([posixpath.join(output, "curated", dumps.SOURCE, "*.parquet")])
               for m in r.metadata_list]
        if top:
            FileSystems.delete(top)


def _read_json(path: str):
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as f:
        return json.loads(f.read().decode("utf-8"))


def _curated_present(output: str, unit: str) -> bool:
    pattern = posixpath.join(output, "curated", unit, "*.parquet")
    return any(r.metadata_list for r in FileSystems.match([pattern]))


def _write_json(path: str, value: dict) -> None:
    atomic.write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def run_curation(opts: LlamaDataOptions, recipe: dict, pipeline_args: List[str],
                 plan: Optional[quality_models.Plan] = None) -> dict:
    sources = selected_sources(opts)
    units = [unit for unit, _, _, _ in curation_units(opts, recipe, sources)]
    stats_path = posixpath.join(opts.output, "stats.json")
    previous = _read_json(stats_path)
    contamination_path = posixpath.join(opts.output, "contamination.json")
    previous_contamination = _read_json(contamination_path)
    models_dir = opts.models_dir or posixpath.join(opts.output, "models")
    for unit in units:
        _clear_unit(opts.output, unit)
        _clear(posixpath.join(opts.output, "rejects", unit))
        clear_model_notes(models_dir, unit)
    if recipe["decontamination"]["mode"] == "off":
        _drop_contamination_of(opts.output, units, previous_contamination)
    options = PipelineOptions(pipeline_args)
    options.view_as(SetupOptions).save_main_session = False
    p = beam.Pipeline(options=options)
    build_curation(p, opts, recipe, sources, plan)
    try:
        with progress.Reporter(opts.progress_every) as reporter:
            result = p.run()  # the DirectRunner returns when done (the reporter thread prints meanwhile)
            if opts.progress_every > 0 and not PipelineState.is_terminal(result.state):
                reporter.poll_result(result)
            result.wait_until_finish()
    except Exception as e:  # a kept language left without a reference LM: one line, exit 2
        line = quality_models.lm_missing_line(e)
        if line:
            raise quality_models.QualityUnavailable(line) from None
        raise
    stats = preflight.read_stats(opts.output)
    merged = dumps.keep_earlier_entries(stats, previous, lambda unit: _curated_present(opts.output, unit))
    if merged is not stats:
        kept = set(merged["sources"]) - set(stats["sources"])
        stats = merged
        _write_json(stats_path, stats)
        now = _read_json(contamination_path)
        if now and previous_contamination:  # the earlier dumps' findings stay beside their shards
            from filters.decontam import merge_sources

            _write_json(contamination_path, merge_sources(now, previous_contamination, kept))
    stats = attach_model_notes(stats, opts.output, models_dir)
    return completeness.attach(stats, opts.output, recipe)


def _drop_contamination_of(output: str, units: List[str], earlier: Optional[dict]) -> None:
    """decontamination.mode=off: no contamination.json is written, and an earlier run's entries for
    the units curated now go (those of dumps this run leaves alone stay, as their shards do)."""
    if earlier is None:
        return
    path = posixpath.join(output, "contamination.json")
    keep = [name for name in earlier.get("sources", {}) if name not in units]
    if not keep:
        FileSystems.delete([path])
        return
    from filters.decontam import merge_sources

    _write_json(path, merge_sources(dict(earlier, sources={}), earlier, keep))


def print_help() -> None:
    """--help: this job's options, then the Beam options most runs need."""
    from apache_beam.options import pipeline_options as po

    parser = po._BeamArgumentParser(prog="python -m pipeline.run", description=__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    LlamaDataOptions._add_argparse_args(parser.add_argument_group("llamadata"))
    for view in (po.StandardOptions, po.DirectOptions, po.GoogleCloudOptions, po.WorkerOptions, po.SetupOptions):
        view._add_argparse_args(parser.add_argument_group(f"Beam {view.__name__}"))
    parser.print_help()


MODEL_NOTES = {"reference_lm": "reference_lm.json", "perplexity_cutoffs": "perplexity_cutoffs.json",
               "wikiref_training": "wikiref_training.json"}


def _notes_dir(models_dir: str, unit: str) -> Optional[str]:
    """Where the quality stage of `unit` writes its model notes (None: a source without them)."""
    if unit == dumps.SOURCE:
        return models_dir
    return posixpath.join(models_dir, unit) if dumps.is_dump_source(unit) else None


def clear_model_notes(models_dir: str, unit: str) -> None:
    """Remove the notes an earlier run's quality stage wrote for `unit` before it is curated again:
    a run that trains nothing (quality off, a given classifier) must not report an earlier run's
    models. Only the notes: a model file (trained, or a user's own put there) stays."""
    folders = [_notes_dir(models_dir, unit)]
    if dumps.is_dump_source(unit):  # the un-dumped CommonCrawl shards beside it go too (_clear_unit)
        folders.append(models_dir)
    for folder in filter(None, folders):
        stale = [posixpath.join(folder, name) for name in MODEL_NOTES.values()]
        stale = [path for path in stale if FileSystems.exists(path)]
        if stale:
            FileSystems.delete(stale)


def _model_notes(models_dir: str) -> dict:
    notes = {}
    for key, name in MODEL_NOTES.items():
        path = posixpath.join(models_dir, name)
        if FileSystems.exists(path):
            with FileSystems.open(path) as f:
                notes[key] = json.loads(f.read().decode("utf-8"))
    return notes


def _log_model_notes(notes: dict, where: str = "") -> None:
    for lang, lm in sorted(notes.get("reference_lm", {}).items()):
        (log.info if lm.get("applied") else log.warning)("quality%s: reference LM %s %s", where, lang, lm.get("reason"))
    wikiref = notes.get("wikiref_training")
    if wikiref:
        (log.info if wikiref.get("applied") else log.warning)("quality%s: wikiref classifier %s", where,
                                                               wikiref.get("reason"))


def attach_model_notes(stats: dict, output: str, models_dir: str) -> dict:
    """Copy what the run learned about its own models into stats.json (`models`), and say in the
    log, one line each, whether each quality model was applied and why. A CommonCrawl dump's models
    are its own (models/commoncrawl/<dump>/): their notes go under `models.dumps.<source>`, for every
    dump in the stats (those of earlier runs too: their models stay beside their shards)."""
    # The root's notes are the undumped CommonCrawl run's (a dump's are in its own folder).
    notes = _model_notes(models_dir) if dumps.SOURCE in stats.get("sources", {}) else {}
    _log_model_notes(notes)
    per_dump = {}
    for unit in sorted(stats.get("sources", {})):
        if dumps.is_dump_source(unit):
            unit_notes = _model_notes(posixpath.join(models_dir, unit))
            if unit_notes:
                per_dump[unit] = unit_notes
                _log_model_notes(unit_notes, f" ({unit.split('/', 1)[1]})")
    if per_dump:
        notes["dumps"] = per_dump
    if not notes:
        return stats
    stats = dict(stats, models=notes)
    atomic.write_text(posixpath.join(output, "stats.json"), json.dumps(stats, indent=2, sort_keys=True) + "\n")
    return stats


def run(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print_help()
        return 0
    check_flags(argv)
    remove_downloads_on_sigterm()  # SIGTERM leaves no half-downloaded input behind
    opts = PipelineOptions(argv).view_as(LlamaDataOptions)
    try:
        recipe = recipes.load(opts.recipe, opts.recipe_overrides)
    except recipes.RecipeError as e:
        raise UsageError(str(e)) from None
    stages = preflight.stages(opts.stages)
    if opts.benchmarks and recipe["decontamination"]["mode"] == "off":
        raise UsageError("--benchmarks: decontamination.mode=off checks no benchmark; drop --benchmarks or "
                         "--set decontamination.mode=report")
    if not any(a.startswith("--runner") for a in argv):
        argv.append("--runner=DirectRunner")
    runner = PipelineOptions(argv).view_as(StandardOptions).runner or "DirectRunner"
    check_runner(runner)
    if "curate" in stages and is_direct_runner(argv):
        warning = capacity_warning(opts, recipe)
        if warning:
            log.warning("%s", warning)
    if is_dry_run(argv):  # nothing is read or written: no run.json, no banner of inputs
        if "curate" in stages:
            translate_curation(opts, recipe, argv)
        log.info("dry run: the launcher's stages (%s) need the curated output and were not run",
                 ", ".join(s for s in stages if s != "curate") or "none")
        return 0
    record = runinfo.RunRecord(argv, opts.output, recipe, opts.recipe_overrides, stages)
    sources: List[str] = []
    if "curate" in stages:
        sources = selected_sources(opts)
        for unit, name, inputs, _ in curation_units(opts, recipe, sources):
            record.data["inputs"][unit] = preflight.input_files(
                name, inputs, bool(getattr(opts, f"{name}_input")) or unit != name)
        record.data["models"] = {k: models.locate(v)[1] for k, v in recipe["models"].items()
                                 if isinstance(v, dict) and v.get("role") != "reference_text"}
    else:
        preflight.require(opts.output, stages[0], stages)  # before the banner: one line if it is missing
    plan = None
    if "curate" in stages and "commoncrawl" in sources and recipe["commoncrawl"]["quality"]:
        # Before anything is written: a reference LM that cannot be had stops the run here, exit 2.
        # Before `resume` too: the curate stage's key includes the reference LMs' files.
        plan = quality_plan(opts, recipe, download=is_direct_runner(argv))
        record.data["quality_models"] = quality_models.training_files(plan, recipe)
    # One run at a time in OUT; an unwritable OUT or a full disk is one line (pipeline/output_lock.py)
    with output_lock.held(opts.output):
        # OUT/run_state.json: skips what an interrupted run finished, refuses to mix runs, clears what this
        # command rewrites (pipeline/run_state.py)
        skipped = resume(opts, recipe, record, stages)
        todo = [s for s in stages if s not in skipped]
        if todo:
            run_state.begin(opts.output, todo, sources if "curate" in todo else None, record.data["stage_keys"],
                            stages)
        banner = runinfo.banner(record, runner, sources, {n: bool(getattr(opts, f"{n}_input")) for n in sources})
        if plan is not None:
            banner += "".join("\n" + line for line in quality_models.banner_lines(record.data["quality_models"]))
        print(banner, file=sys.stderr, flush=True)
        for stage in skipped:
            log.info("%s: skipped: %s records it done for the same inputs, recipe and code (--fresh reruns it)",
                     stage, run_state.FILE)
        try:
            code = run_stages(opts, recipe, argv, todo, record, plan)
        except BaseException as e:
            record.write("interrupted" if isinstance(e, KeyboardInterrupt) or interrupted() else
                         f"failed: {type(e).__name__}: {str(e)[:300]}")
            raise
        record.data.update(completeness.fields(record.data.get("stats")))
        record.write("ok" if code == 0 else f"failed: exit {code}")
        print(runinfo.summary(opts.output, record.data.get("stats"), record, runinfo.outputs_of(opts.output, stages)),
              file=sys.stderr, flush=True)
    return code


def stage_facts(opts: LlamaDataOptions, recipe: dict, record) -> dict:
    """What each stage reads beside the previous stage's outputs (run_state.stage_keys digests it)."""
    from pipeline.stats import recipe_identity

    common = {"recipe": recipe_identity(recipe)["sha256"], "code": record.data["code_sha256"],
              "packages": record.data["packages"]}
    curate = {**common, "inputs": record.data["inputs"], "models": record.data["models"],
              "quality_models": record.data.get("quality_models"),  # the reference LMs' files, where recorded
              # Sizes and times of every file that trains or is a quality model: a changed dump reruns.
              "quality_files": file_fingerprints(quality_file_paths(record.data.get("quality_models"))),
              "options": {k: getattr(opts, k) for k in ("write_rejects", "benchmarks", "models_dir", "commoncrawl_dump")}}
    return {"curate": curate, "tokenizer": common, "tokenize": common,
            "mixture": {**common, "target_tokens": opts.target_tokens}}


def quality_file_paths(files: Optional[dict]) -> List[str]:
    """The paths `quality_models.training_files` names: dumps, given models, cited texts."""
    if not files:
        return []
    lm, w = files["reference_lm"], files["wikiref"]
    paths = list(lm.get("trained_from", []))
    paths += [d[k] for d in lm.get("models", {}).values() for k in ("sp_model", "kenlm_model")]
    paths += list(w.get("cited_urls_from", [])) + [w[k] for k in ("model", "cited_texts") if w.get(k)]
    return sorted(set(paths))


def file_fingerprints(paths: List[str]) -> List[dict]:
    """(path, bytes, mtime) of each local or remote file a pattern matches; URLs by name only."""
    out = []
    for pattern in paths:
        if fetch.is_url(pattern):
            out.append({"path": pattern})
            continue
        try:
            matched = [m for r in FileSystems.match([pattern]) for m in r.metadata_list]
        except Exception as e:  # unreachable now: recorded as such, so the key differs from a readable run
            out.append({"path": pattern, "error": type(e).__name__})
            continue
        out += [{"path": m.path, "bytes": m.size_in_bytes, "mtime": m.last_updated_in_seconds}
                for m in sorted(matched, key=lambda m: m.path)] or [{"path": pattern, "bytes": None}]
    return out


def resume(opts: LlamaDataOptions, recipe: dict, record, stages: List[str]) -> List[str]:
    """The stages this command skips: those an earlier, interrupted run of the same command finished."""
    keys = run_state.stage_keys(stages, stage_facts(opts, recipe, record), run_state.read(opts.output))
    record.data["stage_keys"] = keys
    units = list(record.data["inputs"]) if "curate" in stages else None
    # A URL or remote input is in the key by name only (no size or time read at launch): whether it
    # changed is unknown, so curation is not skipped on its account (fail closed).
    remote = [f["path"] for files in record.data["inputs"].values() for f in files if f.get("bytes") is None]
    if remote and "curate" in stages and not opts.fresh:
        log.warning("curate: runs (no resume): %s is a remote input whose size and time are not read here, so "
                    "%s cannot tell whether it changed", remote[0], run_state.FILE)
        skipped = []
    else:
        skipped = [] if opts.fresh else run_state.resumable(opts.output, stages, units, keys)
    record.data["skipped"] = skipped
    return skipped


def run_stages(opts: LlamaDataOptions, recipe: dict, argv: List[str], stages: List[str], record,
               plan: Optional[quality_models.Plan] = None) -> int:
    """Each asked-for stage in order, timed into run.json; a stage's missing input is a UsageError.
    `stages`: those this command runs (a resumed command's skipped stages left out)."""
    stats = None
    if "curate" in stages:
        with record.stage("curate"):
            stats = run_curation(opts, recipe, argv, plan)
        record.data["stats"] = stats
        if not stats["conserved"]:
            log.error("conservation check failed: see %s/stats.json", opts.output)
            return 1
        run_state.finish(opts.output, "curate")
    if "tokenizer" in stages:
        if stats is not None and not any(s["docs_out"] for s in stats["sources"].values()):
            write_report(opts, record)  # the report says where the documents went, then the run stops
            preflight.require_documents(opts.output, stats)
        preflight.require(opts.output, "tokenizer", stages)
        from tokenizer.stages import train_tokenizer_stage

        run_state.require(opts.output, "tokenizer")
        with record.stage("tokenizer"):
            train_tokenizer_stage(opts.output, recipe)
        run_state.finish(opts.output, "tokenizer")
    if "tokenize" in stages:
        preflight.require(opts.output, "tokenize", stages)
        from tokenizer.stages import tokenize_stage

        run_state.require(opts.output, "tokenize")
        with record.stage("tokenize"), progress.Reporter(opts.progress_every):
            tokenize_stage(opts.output, recipe, argv)
        run_state.finish(opts.output, "tokenize")
    if "mixture" in stages:
        preflight.require(opts.output, "mixture", stages)
        from tokenizer.stages import mixture_stage

        run_state.require(opts.output, "mixture")
        with record.stage("mixture"):
            mixture = mixture_stage(opts.output, recipe, opts.target_tokens)
        run_state.finish(opts.output, "mixture")
        log.info("mixture: %d training tokens planned", mixture["total_tokens"])
    if record.data.get("stats") is None and FileSystems.exists(posixpath.join(opts.output, "stats.json")):
        record.data["stats"] = preflight.read_stats(opts.output)
    write_report(opts, record)
    run_state.complete(opts.output)  # last: every output of the command is in place
    return 0


def write_report(opts: LlamaDataOptions, record) -> None:
    """OUT/report.html for a local output (run.json is written after it: the record is passed)."""
    if record.data.get("stats") is not None and "://" not in opts.output:
        from pipeline import report

        with record.stage("report"):
            report.write(opts.output, record.data)
    elif "://" in opts.output:
        log.info("report: copy %s locally and run python -m pipeline.report DIR for report.html", opts.output)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    guarded(run, sys.argv[1:], "pipeline.run")


if __name__ == "__main__":
    main()
