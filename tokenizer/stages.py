"""The three tokenizer stages `pipeline.run` calls, each runnable alone on an earlier OUT.

    train_tokenizer_stage(out_dir, recipe) -> model path    OUT/curated → OUT/tokenizer/
    tokenize_stage(out_dir, recipe, pipeline_args)           OUT/curated + model → OUT/tokens/
    mixture_stage(out_dir, recipe, target_tokens) -> dict    OUT/tokens + model → OUT/mixture.json
"""
from __future__ import annotations

import json
import logging
from typing import Dict, List, Optional

import apache_beam as beam
import numpy as np
import sentencepiece as spm
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from common import atomic
from tokenizer import mixture, shards, train
from tokenizer.beam_tokenize import NAMESPACE, TokenizeShards
from tokenizer.sample import TrainingSample

MODEL_REL = "tokenizer/tokenizer.model"
VOCAB_REL = "tokenizer/tokenizer.vocab"
MIXTURE_REL = "mixture.json"
QUARANTINE_REL = "tokens/quarantine.jsonl"


def model_path(out_dir: str) -> str:
    return shards.join(out_dir, MODEL_REL)


def _write(path: str, data: bytes) -> None:
    atomic.write_bytes(path, data)  # whole or not at all: a kill never leaves half a model


def train_tokenizer_stage(out_dir: str, recipe: dict) -> str:
    tok = recipe["tokenizer"]
    shares = {s: v["share"] for s, v in mixture.recipe_shares(recipe["mixture"]).items()}
    sample = TrainingSample(out_dir, shares, int(tok["sample"]["max_bytes"]), int(tok["sample"]["seed"]))
    if not sample.files:
        raise FileNotFoundError(f"no curated Parquet files under {shards.join(out_dir, 'curated')}")
    model = train.train(lambda: iter(sample), tok)
    for source in sorted(sample.files):
        logging.info("tokenizer sample %s: keep rate %.4g, %d documents, %d bytes", source,
                     sample.rates[source], sample.drawn_docs.get(source, 0), sample.drawn_bytes.get(source, 0))
    path = model_path(out_dir)
    _write(path, model)
    _write(shards.join(out_dir, VOCAB_REL), train.write_vocab(model).encode("utf-8"))
    return path


def _remove_stale_shards(out_dir: str, refs: List[shards.ShardRef]) -> None:
    """Token files an earlier run left that this curated input does not produce."""
    expected = {p for ref in refs for p in (ref.bin, ref.idx)}
    found = [p for parts in (("*",), ("*", "*")) for ext in ("*.bin", "*.idx")
             for p in shards.match(shards.join(out_dir, "tokens", *parts, ext))]
    stale = [p for p in found if p not in expected]
    if stale:
        logging.info("tokenize: removing %d stale token files", len(stale))
        FileSystems.delete(stale)


def tokenize_stage(out_dir: str, recipe: dict, pipeline_args: List[str]) -> None:
    refs = shards.all_shard_refs(out_dir)
    _remove_stale_shards(out_dir, refs)
    with beam.Pipeline(options=PipelineOptions(list(pipeline_args))) as p:
        _, bad = p | "TokenizeCurated" >> TokenizeShards(refs, model_path(out_dir), recipe["tokenizer"]["encode"])
        (bad
         | "QuarantineLine" >> beam.Map(lambda e: json.dumps(
             {"source": e.source, "path": e.path, "reason": e.reason, "detail": e.detail}, sort_keys=True))
         | "AllQuarantined" >> beam.combiners.ToList()
         # one file, sorted, renamed into place (WriteToText left beam-temp-* folders when killed)
         | "WriteQuarantine" >> beam.Map(lambda lines, path: atomic.write_text(
             path, "".join(line + "\n" for line in sorted(lines))), shards.join(out_dir, QUARANTINE_REL)))
    counters = p.result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))["counters"]
    per_source: Dict[str, Dict[str, int]] = {}
    for c in counters:  # "<source>:<what>" counters → one line per source
        source, _, what = c.key.metric.name.rpartition(":")
        per_source.setdefault(source or "all", {})[what] = c.committed
    for source in sorted(per_source):
        logging.info("tokenize %s: %s", source, ", ".join(f"{v:,} {k}" for k, v in sorted(per_source[source].items())))


def shard_lists(out_dir: str) -> Dict[str, List[Dict]]:
    """Per source, the mixture entries of its token shards (counts and checksums read from disk)."""
    lists: Dict[str, List[Dict]] = {}
    for ref in shards.all_shard_refs(out_dir):
        if not (FileSystems.exists(ref.bin) and FileSystems.exists(ref.idx)):
            logging.warning("mixture: no token shard for %s (see %s)", ref.curated, QUARANTINE_REL)
            continue
        stats = shards.shard_stats(ref.bin, ref.idx)
        lists.setdefault(ref.source, []).append({"bin": ref.rel_bin, "idx": ref.rel_idx, **stats})
    return lists


def mixture_stage(out_dir: str, recipe: dict, target_tokens: Optional[int] = None) -> dict:
    sp = spm.SentencePieceProcessor(model_proto=shards.read_bytes(model_path(out_dir)))
    table = mixture.recipe_shares(recipe["mixture"])
    lists = shard_lists(out_dir)
    heldout = recipe["heldout"]
    lengths = None
    if mixture.heldout_count(10 ** 9, heldout) > 0:   # a held-out slice is asked for: document lengths
        lengths = {s: np.concatenate([np.diff(shards.load_shard(shards.join(out_dir, e["bin"]),
                                                                shards.join(out_dir, e["idx"]))[1].astype(np.int64))
                                      for e in entries]) for s, entries in lists.items() if entries}
    plan = mixture.build(table, lists, sp.get_piece_size(), sp.bos_id(), sp.eos_id(),
                         target_tokens, MODEL_REL, lengths, heldout)
    stats_path = shards.join(out_dir, "stats.json")
    ran = set(json.loads(shards.read_bytes(stats_path))["sources"]) if FileSystems.exists(stats_path) else None
    absent = [s for s in plan["sources_without_tokens"] if ran is not None and s not in ran]
    for source, share in plan["sources_without_tokens"].items():
        if source not in absent:  # it ran and kept nothing: worth a warning
            logging.warning("mixture: %s has no tokens (recipe share %g): left out, the other shares rescaled",
                            source, share)
    if absent:  # not part of this run: one line
        logging.info("mixture: %s not in this run: left out, the other shares rescaled", ", ".join(absent))
    _write(shards.join(out_dir, MIXTURE_REL), (json.dumps(plan, indent=2) + "\n").encode("utf-8"))
    return plan
