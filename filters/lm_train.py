"""Train the reference language model the way cc_net makes it (its Makefile's `lm_sp` targets):
a SentencePiece unigram model (vocabulary 65,536, character coverage 0.9995) and a 5-gram KenLM
model (`lmplz -o 5 --discount_fallback`) over its pieces, both on the opening text of Wikipedia
articles of one language, each opening normalised whole by `text_normalizer.normalize`
(`get_wiki_cirrus.py opening`): one line per article, its own lines glued.

    python -m filters.lm_train --out DIR --name en (--parquet GLOB | --text FILE...) [--vocab_size N]

`--parquet` reads the `text` column of Parquet shards; `--text` reads plain text files (`.gz` too;
one document per file). Give it opening texts (the pipeline takes them from the dumps itself).
Writes `DIR/<name>.sp.model` and `DIR/<name>.arpa.bin` (cc_net's file names, so its published
models and these are interchangeable) plus `<name>.lm.json` describing how they were made. KenLM's `lmplz` and `build_binary` come from
`scripts/build_kenlm.sh` (found in $KENLM_BIN, next to the Python executable, or on PATH).

Deterministic: texts are taken in the order given, SentencePiece runs with a fixed seed and thread
count, and lmplz counts n-grams (order-free); same inputs, same model bytes.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Iterable, Iterator, Optional

from common import atomic
from common.fetch import sha256_of
from filters.text_normalizer import normalize_document

DEFAULTS = {
    "vocab_size": 65536,  # an upper bound: small corpora get the vocabulary they can support
    "order": 5,
    "character_coverage": 0.9995,
    "sp_max_sentences": 2_000_000,
    "sp_threads": 1,
    "max_sentence_length": 4192,  # SentencePiece's default, as cc_net trained: longer lines are skipped
    "seed": 0,
    "lmplz_memory": "20%",
}


class LMTrainError(RuntimeError):
    pass


def find_tool(name: str) -> str:
    """lmplz / build_binary: $KENLM_BIN, the folder of this Python (the venv's bin), then PATH."""
    for folder in (os.environ.get("KENLM_BIN", ""), os.path.dirname(sys.executable)):
        if folder and os.access(os.path.join(folder, name), os.X_OK):
            return os.path.join(folder, name)
    found = shutil.which(name)
    if not found:
        raise LMTrainError(f"KenLM's {name} not found: run scripts/build_kenlm.sh (or set KENLM_BIN)")
    return found


def _run(cmd, **kw) -> None:
    proc = subprocess.run(cmd, capture_output=True, **kw)
    if proc.returncode != 0:
        raise LMTrainError(f"{os.path.basename(cmd[0])} failed ({proc.returncode}): {proc.stderr.decode('utf-8', 'replace')[-2000:]}")


def train_reference_lm(texts: Iterable[str], out_dir: str, name: str = "en", **params) -> dict:
    """Train `<name>.sp.model` and `<name>.arpa.bin` in `out_dir` from documents `texts`.

    Returns {"sp_model", "kenlm_model", "documents", "lines", "sha256": {...}}.
    """
    import sentencepiece as spm

    cfg = {**DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="lm-train-")
    try:
        normalized = os.path.join(work, "normalized.txt")
        documents = chars = 0
        with open(normalized, "w", encoding="utf-8") as f:
            for text in texts:
                line = normalize_document(text)
                if line:
                    documents += 1
                    chars += len(line)
                    f.write(line)
                    f.write("\n")
        lines = documents
        if lines == 0:
            raise LMTrainError("no text to train the reference language model on")

        # The model is written to memory and the input streamed in: the trainer spec stored inside
        # the model then names no temporary path, so its bytes depend on the text alone.
        sp_bytes = io.BytesIO()
        spm.set_random_generator_seed(int(cfg["seed"]))
        with open(normalized, encoding="utf-8") as sentences:
            if not any(len(line.rstrip("\n").encode("utf-8")) <= int(cfg["max_sentence_length"]) for line in sentences):
                raise LMTrainError(f"every text is longer than max_sentence_length={cfg['max_sentence_length']} bytes once "
                                   "normalised: SentencePiece skips such lines (give opening texts, as cc_net does)")
            sentences.seek(0)
            spm.SentencePieceTrainer.train(
                sentence_iterator=(line.rstrip("\n") for line in sentences), model_writer=sp_bytes,
                model_type="unigram",
                vocab_size=int(cfg["vocab_size"]), hard_vocab_limit=False,
                character_coverage=float(cfg["character_coverage"]),
                input_sentence_size=int(cfg["sp_max_sentences"]), shuffle_input_sentence=True,
                max_sentence_length=int(cfg["max_sentence_length"]),
                num_threads=int(cfg["sp_threads"]), minloglevel=2,
            )
        sp = spm.SentencePieceProcessor(model_proto=sp_bytes.getvalue())

        pieces_path = os.path.join(work, "pieces.txt")
        with open(normalized, encoding="utf-8") as src, open(pieces_path, "w", encoding="utf-8") as dst:
            batch = []
            for line in src:
                batch.append(line.rstrip("\n"))
                if len(batch) == 4096:
                    dst.writelines(" ".join(p) + "\n" for p in sp.encode(batch, out_type=str))
                    batch = []
            if batch:
                dst.writelines(" ".join(p) + "\n" for p in sp.encode(batch, out_type=str))

        arpa = os.path.join(work, "lm.arpa")
        with open(pieces_path, "rb") as stdin, open(arpa, "wb") as stdout:
            # --discount_fallback: small corpora lack the count-of-counts Kneser-Ney needs.
            proc = subprocess.run(
                [find_tool("lmplz"), "-o", str(int(cfg["order"])), "-S", str(cfg["lmplz_memory"]),
                 "-T", work, "--discount_fallback"],
                stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise LMTrainError(f"lmplz failed ({proc.returncode}): {proc.stderr.decode('utf-8', 'replace')[-2000:]}")
        binary = os.path.join(work, "lm.arpa.bin")
        _run([find_tool("build_binary"), "-S", str(cfg["lmplz_memory"]), arpa, binary])

        sp_out = os.path.join(out_dir, f"{name}.sp.model")
        lm_out = os.path.join(out_dir, f"{name}.arpa.bin")
        # Temporary names, then renames: a killed run never leaves a model cut short under its name.
        atomic.write_bytes(sp_out, sp_bytes.getvalue())
        atomic.copy_file(binary, lm_out)
        info = {
            "sp_model": sp_out, "kenlm_model": lm_out, "documents": documents, "lines": lines, "chars": chars,
            "vocab_size": sp.get_piece_size(), "order": int(cfg["order"]),
            "sha256": {"sp_model": sha256_of(sp_out), "kenlm_model": sha256_of(lm_out)},
        }
        note = os.path.join(out_dir, f"{name}.lm.json")
        with atomic.writing(note, "w", encoding="utf-8") as f:
            json.dump({k: v for k, v in info.items() if k not in ("sp_model", "kenlm_model")}, f, indent=1, sort_keys=True)
        return info
    finally:
        shutil.rmtree(work, ignore_errors=True)


def texts_from_parquet(pattern: str) -> Iterator[str]:
    import pyarrow.parquet as pq

    paths = sorted(glob.glob(pattern))
    if not paths:
        raise LMTrainError(f"--parquet {pattern}: no file matched")
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(columns=["text"], batch_size=1024):
            yield from batch.column(0).to_pylist()


def texts_from_files(paths: Iterable[str]) -> Iterator[str]:
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            yield f.read()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="Folder for <name>.sp.model and <name>.arpa.bin.")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--parquet", help="Glob of curated Parquet shards (their `text` column).")
    src.add_argument("--text", nargs="+", help="Plain text files (.gz allowed), one document each.")
    parser.add_argument("--name", default="en", help="File name stem: the language, as cc_net names its models (en.sp.model).")
    parser.add_argument("--vocab_size", type=int, default=DEFAULTS["vocab_size"], help="SentencePiece vocabulary (upper bound).")
    parser.add_argument("--order", type=int, default=DEFAULTS["order"], help="n-gram order of the KenLM model.")
    parser.add_argument("--sp_threads", type=int, default=DEFAULTS["sp_threads"], help="SentencePiece trainer threads.")
    args = parser.parse_args(argv)
    texts = texts_from_parquet(args.parquet) if args.parquet else texts_from_files(args.text)
    info = train_reference_lm(texts, args.out, args.name, vocab_size=args.vocab_size, order=args.order,
                              sp_threads=args.sp_threads)
    print(json.dumps(info, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
