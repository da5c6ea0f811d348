"""Command-line options of `python -m pipeline.run` (every Beam option is accepted too)."""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

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
                            help="Also write the documents the rule stages dropped, with their reason (and, in "
                                 "llama-plus, their signals), to OUTPUT/rejects/<source>/*.parquet.")
        parser.add_argument("--models_dir", default=None,
                            help="Where models trained by the run go (KenLM, wikiref classifier). Default: OUTPUT/models.")
