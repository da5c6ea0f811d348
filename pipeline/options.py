"""Command-line options of `python -m pipeline.run` (every Beam option is accepted too)."""
from __future__ import annotations

from typing import List

from apache_beam.options.pipeline_options import PipelineOptions

from common.cli import UsageError, closest

from pipeline.sources import SOURCE_NAMES

STAGES = ("curate", "tokenizer", "tokenize", "mixture")


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
        parser.add_argument("--target_tokens", type=int, default=None,
                            help="Training token budget for mixture.json. Default: the total at which CommonCrawl's "
                                 "planned epochs equal Table 1's.")
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
    and values argparse cannot parse."""
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
        raise UsageError(f"{unknown[0]!r}: unexpected argument (options are --name=value)")
