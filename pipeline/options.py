"""Command-line options of `python -m pipeline.run` (every Beam option is accepted too), and the
checks that turn a mistake in them into one line naming the fix (`check_flags`, `check_runner`)."""
from __future__ import annotations

import argparse
import re
from typing import List, Optional

from apache_beam.options.pipeline_options import PipelineOptions

from common.cli import UsageError, closest

from pipeline.sources import SOURCE_NAMES

STAGES = ("curate", "tokenizer", "tokenize", "mixture")
# Options whose value is one comma-separated list (a space-separated one is a mistake to name).
LIST_OPTIONS = ("--sources", "--stages")
INPUT_OPTIONS = tuple(f"--{name}_input" for name in SOURCE_NAMES) + ("--benchmarks", "--commoncrawl_dump")
_SUFFIXES = {"": 1, "k": 10 ** 3, "m": 10 ** 6, "b": 10 ** 9, "g": 10 ** 9, "t": 10 ** 12}
_TOKENS = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([kKmMbBgGtT]?)\s*$")
TOKENS_ACCEPTED = "a positive number of tokens: 1400000000000, 1.4T, 10M, 500k (k, M, B or G, T: 10^3, 10^6, 10^9, 10^12)"


def token_count(value: str) -> int:
    """`--target_tokens`: an integer, or a number with a k/M/B/G/T suffix (10M, 1.4T)."""
    from decimal import Decimal

    m = _TOKENS.match(value.replace("_", "").replace(",", ""))
    n = Decimal(m.group(1)) * _SUFFIXES[m.group(2).lower()] if m else Decimal(0)
    if n < 1 or n != n.to_integral_value():
        raise argparse.ArgumentTypeError(f"{value!r} is not {TOKENS_ACCEPTED}")
    return int(n)


class LlamaDataOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--output", default="out",
                            help="Output directory (local or gs://): curated/, stats.json, tokenizer/, tokens/, mixture.json.")
        parser.add_argument("--sources", default=",".join(SOURCE_NAMES),
                            help="Comma-separated sources to run. Default: all seven.")
        for name in SOURCE_NAMES:
            parser.add_argument(f"--{name}_input", action="append", default=None,
                                help=f"Input glob, gs:// path or https:// URL for {name} (repeatable). "
                                     f"Default: the samples bundled under samples/{name}/.")
        parser.add_argument("--commoncrawl_dump", action="append", default=None,
                            help="Curate one CommonCrawl dump into curated/commoncrawl/DUMP/ (repeatable; cc_net's "
                                 "per-dump dedup; other dumps already there are kept): CC-MAIN-YYYY-WW (its "
                                 "wet.paths.gz under commoncrawl.base_url) or CC-MAIN-YYYY-WW=PATTERN[,PATTERN].")
        parser.add_argument("--recipe", default=None,
                            help="Recipe folder of <section>.json files. Default: pipeline/recipes/llama (LLaMA's values).")
        parser.add_argument("--set", dest="recipe_overrides", action="append", default=[],
                            help="Override one recipe value: --set commoncrawl.min_chars=500 (repeatable; value parsed as JSON).")
        parser.add_argument("--stages", default=",".join(STAGES),
                            help="Stages to run, in order: curate, tokenizer (train SentencePiece), tokenize (token "
                                 "shards), mixture (mixture.json). A later stage alone reruns on an earlier output.")
        parser.add_argument("--fresh", action="store_true", default=False,
                            help="Run every stage asked for, even one OUTPUT/run_state.json records as done for the same "
                                 "inputs, recipe and code (by default a rerun after an interruption skips those).")
        parser.add_argument("--target_tokens", type=token_count, default=None,
                            help="Training token budget for mixture.json: an integer or a number with a suffix k, M, "
                                 "B (or G), T (10M, 1.4T). Default: the total at which CommonCrawl's planned epochs "
                                 "equal Table 1's.")
        parser.add_argument("--write_rejects", action="store_true", default=False,
                            help="Also write the documents the rule stages and decontamination dropped, with their reason (and, in "
                                 "llama-plus, their signals), to OUTPUT/rejects/<source>/*.parquet.")
        parser.add_argument("--benchmarks", action="append", default=None,
                            help="Benchmark file or glob to decontaminate against, added to the recipe's "
                                 "decontamination.benchmarks (repeatable; .jsonl[.gz] in llm-foundry or released "
                                 "schema, or .txt one item per line). Report: OUTPUT/contamination.json.")
        parser.add_argument("--models_dir", default=None,
                            help="Where models trained by the run go (KenLM, wikiref classifier). Default: OUTPUT/models.")
        parser.add_argument("--debug", action="store_true", default=False,
                            help="Show the traceback behind a usage error or an interrupt.")
        parser.add_argument("--progress_every", type=float, default=10.0,
                            help="Seconds between progress lines while curating (0: none).")


class _ErrorRaisingParser:
    """Mixin: argparse's error() (usage text + exit 2) becomes a UsageError, printed as one line."""

    def error(self, message):
        raise UsageError(message)


def all_options_parser():
    """Every option `pipeline.run` accepts: this job's and every Beam options view's, as Beam
    gathers them (PipelineOptions subclasses), without abbreviations."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    class Parser(_ErrorRaisingParser, _BeamArgumentParser):
        pass

    parser = Parser(allow_abbrev=False, add_help=False)
    seen = {}
    for cls in PipelineOptions.__subclasses__():
        seen.setdefault(str(cls), cls)
    for cls in seen.values():
        cls._add_argparse_args(parser)
    return parser


def check_flags(argv: List[str]) -> None:
    """Refuse what Beam would discard with a warning: unknown or misspelt flags (closest suggested),
    values argparse cannot parse, and words a list option left behind (`--sources commoncrawl c4`)."""
    parser = all_options_parser()
    _, unknown = parser.parse_known_args(argv)
    flags = [a for a in unknown if a.startswith("-")]
    if flags:
        bad = flags[0]
        name, _, value = bad.partition("=")
        known = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
        hint = closest(name, known)
        fix = f"did you mean {hint}{'=' + value if value else ''}?" if hint else \
            "python -m pipeline.run --help lists every option"
        raise UsageError(f"{bad}: unknown option; {fix}")
    if unknown:
        raise UsageError(_stray_words(argv, unknown[0]))


def _stray_words(argv: List[str], stray: str) -> str:
    """The one line for a word no option took: what it trails, and how to give it."""
    i = argv.index(stray)
    j = i - 1
    while j >= 0 and not argv[j].startswith("-"):
        j -= 1
    if j < 0:
        return f"{stray!r}: unexpected argument (options are --name=value)"
    option, eq, first = argv[j].partition("=")
    values = ([first] if eq else []) + argv[j + 1:i + 1]
    given = " ".join([argv[j]] + argv[j + 1:i + 1])
    if option in LIST_OPTIONS:
        return f"{given}: a list is one value with commas, no spaces: {option}={','.join(values)}"
    if option in INPUT_OPTIONS:
        return (f"{given}: {len(values)} values after one {option} (a glob the shell expanded?); quote the glob "
                f"({option}='DIR/*.gz'), join the paths with commas ({option}={','.join(values)}) or repeat the option")
    return f"{given}: {stray!r} is not a value of {option} (options are --name=value)"


def check_runner(runner: Optional[str]) -> None:
    """A runner Beam cannot make (`--runner=DirectRuner`) is one line with the closest known name."""
    from apache_beam.options.pipeline_options import StandardOptions

    if not runner:
        return
    if "." in runner:  # a runner class by its full name: Beam imports it
        import importlib

        module, _, cls = runner.rpartition(".")
        try:
            getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError) as e:
            raise UsageError(f"--runner={runner}: cannot import it ({type(e).__name__}: {e}); give a runner "
                             f"name such as {', '.join(StandardOptions.KNOWN_RUNNER_NAMES[:4])}") from None
        return
    names = [path.rsplit(".", 1)[-1] for path in StandardOptions.ALL_KNOWN_RUNNERS]
    lowered = {n.lower() for n in names}
    if runner.lower() in lowered or runner.lower() + "runner" in lowered:
        return
    hint = closest(runner, names)
    fix = f"did you mean --runner={hint}?" if hint else f"known runners: {', '.join(StandardOptions.KNOWN_RUNNER_NAMES)}"
    raise UsageError(f"--runner={runner}: unknown runner; {fix}")
