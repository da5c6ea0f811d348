"""Check OUT's token shards against the curated text and mixture.json; exit 1 on any mismatch.

    python -m tokenizer.verify --data OUT

Every document of every token shard is decoded and compared with its curated text, in order; the
index layout (first 0, last = tokens, EOS ending every document and nowhere else), the ids' range,
each shard's counts and SHA-256s, each source's totals and the plan's arithmetic are checked
against mixture.json, and no token file may lie outside the plan.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from typing import List

import numpy as np
import sentencepiece as spm

from tokenizer import mixture, sample, shards

DECODE_BATCH = 256


def _check_shard(ref: shards.ShardRef, sp, eos: int, vocab: int, errors: List[str]) -> None:
    tokens, offsets = shards.load_shard(ref.bin, ref.idx)
    name = ref.rel_bin
    if len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != len(tokens):
        errors.append(f"{name}: index must start at 0 and end at {len(tokens)} tokens")
        return
    if np.any(np.diff(offsets.astype(np.int64)) < 1):
        errors.append(f"{name}: a document is empty or offsets decrease")
        return
    if len(tokens) and int(tokens.max()) >= vocab:
        errors.append(f"{name}: token id {int(tokens.max())} outside the vocabulary of {vocab}")
    ends = offsets[1:].astype(np.int64) - 1
    if len(ends) and np.any(tokens[ends] != eos):
        errors.append(f"{name}: a document does not end with EOS {eos}")
    if int(np.count_nonzero(tokens == eos)) != len(ends):
        errors.append(f"{name}: EOS {eos} inside a document")
    docs = shards.iter_documents(tokens, offsets)
    n_curated = 0
    texts: List[str] = []

    def flush():
        batch = [next(docs, None) for _ in texts]
        if any(d is None for d in batch):
            return
        decoded = sp.decode([d[:-1].tolist() for d in batch])
        for k, (want, got) in enumerate(zip(texts, decoded)):
            if want != got:
                errors.append(f"{name}: document {n_curated - len(texts) + k} decodes to different text "
                              f"({len(got)} vs {len(want)} characters)")
        texts.clear()

    for row in sample.iter_documents(ref.curated, columns=("text",)):
        texts.append(row["text"])
        n_curated += 1
        if len(texts) >= DECODE_BATCH:
            flush()
    flush()
    if n_curated != len(offsets) - 1:
        errors.append(f"{name}: {len(offsets) - 1} documents, curated file has {n_curated}")


def verify(out_dir: str) -> List[str]:
    errors: List[str] = []
    plan = json.loads(shards.read_bytes(shards.join(out_dir, "mixture.json")).decode("utf-8"))
    sp = spm.SentencePieceProcessor(model_proto=shards.read_bytes(shards.join(out_dir, plan["tokenizer"])))
    eos, vocab = sp.eos_id(), sp.get_piece_size()
    for key, want in (("vocab_size", vocab), ("bos_id", sp.bos_id()), ("eos_id", eos), ("dtype", "uint16"),
                      ("format", mixture.FORMAT)):
        if plan.get(key) != want:
            errors.append(f"mixture.json {key} = {plan.get(key)!r}, expected {want!r}")

    refs = shards.all_shard_refs(out_dir)
    by_source = {}
    for ref in refs:
        by_source.setdefault(ref.source, []).append(ref)
    planned = plan.get("sources", {})
    for source in sorted(set(by_source) - set(planned)):
        errors.append(f"source {source} has curated files but is not in mixture.json")
    for source in sorted(set(planned) - set(by_source)):
        errors.append(f"mixture.json lists source {source} with no curated files")

    total = plan.get("total_tokens", 0)
    share_sum = 0.0
    for source, entry in planned.items():
        share_sum += entry["share"]
        listed = {e["bin"]: e for e in entry["shards"]}
        expected = by_source.get(source, [])
        if sorted(listed) != sorted(r.rel_bin for r in expected):
            errors.append(f"{source}: shard list differs from the curated files")
        for ref in expected:
            e = listed.get(ref.rel_bin)
            if e is None:
                continue
            stats = shards.shard_stats(ref.bin, ref.idx)
            for key in ("tokens", "documents", "sha256_bin", "sha256_idx"):
                if e.get(key) != stats[key]:
                    errors.append(f"{ref.rel_bin}: {key} {e.get(key)!r} in mixture.json, {stats[key]!r} on disk")
            if e.get("idx") != ref.rel_idx:
                errors.append(f"{ref.rel_bin}: idx path {e.get('idx')!r}, expected {ref.rel_idx!r}")
            _check_shard(ref, sp, eos, vocab, errors)
        # Held-out documents (tokenizer/mixture.py) are in the shards but not in the training totals.
        unique = sum(e["tokens"] for e in entry["shards"]) - int(entry.get("heldout_tokens", 0))
        docs = sum(e["documents"] for e in entry["shards"]) - len(entry.get("heldout_documents", []))
        if entry["unique_tokens"] != unique or entry["documents"] != docs:
            errors.append(f"{source}: totals {entry['unique_tokens']} tokens / {entry['documents']} documents, "
                          f"shards sum to {unique} / {docs}")
        if unique and not math.isclose(entry["epochs"], entry["share"] * total / unique,
                                       rel_tol=1e-9, abs_tol=10.0 ** -mixture.EPOCHS_DIGITS):
            errors.append(f"{source}: epochs {entry['epochs']} != share × total / unique tokens")
        if abs(entry["planned_tokens"] - entry["share"] * total) >= 1:
            errors.append(f"{source}: planned_tokens {entry['planned_tokens']} is not share × total to a whole token")
    if planned and sum(e["planned_tokens"] for e in planned.values()) != total:
        errors.append(f"planned_tokens sum to {sum(e['planned_tokens'] for e in planned.values())}, "
                      f"not total_tokens {total}")
    if planned and not math.isclose(share_sum, 1.0, abs_tol=1e-9):
        errors.append(f"shares sum to {share_sum}, not 1")

    planned_files = {shards.join(out_dir, e[k]) for entry in planned.values() for e in entry["shards"] for k in ("bin", "idx")}
    for path in shards.match(shards.join(out_dir, "tokens", "*", "*.bin")) + shards.match(shards.join(out_dir, "tokens", "*", "*.idx")):
        if path not in planned_files:
            errors.append(f"token file outside the plan: {path}")
    return errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the pipeline's output directory (OUT)")
    args = parser.parse_args(argv)
    errors = verify(args.data)
    for err in errors:
        print("MISMATCH", err)
    print(f"tokenizer.verify: {'FAILED, ' + str(len(errors)) + ' mismatches' if errors else 'ok'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
