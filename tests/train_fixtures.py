"""A small real mixture for the trainer's tests, written exactly per docs/ARCHITECTURE.md.

Real text from ../shared/data (C4 samples, CCNet CommonCrawl output, Gutenberg books) tokenized with
the real LLaMA SentencePiece model; every document ends with EOS (2); .bin uint16, .idx uint64.
The shares are chosen so the plan exercises several full epochs plus a partial one (c4), just over
one epoch (commoncrawl) and a prefix of one epoch (books), and c4 is split over two shards.
Once the lead's `default_run_out` fixture exists, the tests can take that directory instead.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TOKENIZER = SHARED / "models" / "llama_tokenizer.model"
EOS = 2

SHARES = {"commoncrawl": 0.35, "c4": 0.40, "books": 0.25}


def source_texts() -> dict[str, list[str]]:
    def jsonl(paths):
        return [json.loads(line)["text"] for p in paths for line in gzip.open(p, "rt", encoding="utf-8")]
    return {
        "c4": jsonl(sorted((SHARED / "c4").glob("*.json.gz"))),
        "commoncrawl": jsonl([SHARED / "ccnet" / "cc_en_head-0091.jsonl.gz"]),
        "books": [gzip.open(p, "rt", encoding="utf-8").read()
                  for p in sorted((SHARED / "books" / "clean").glob("*.txt.gz"))],
    }


def _write_shard(out: Path, rel_base: str, docs: list[list[int]]) -> dict:
    tokens = np.concatenate([np.asarray(d + [EOS], dtype="<u2") for d in docs])
    idx = np.concatenate([[0], np.cumsum([len(d) + 1 for d in docs])]).astype("<u8")
    bin_path, idx_path = out / f"{rel_base}.bin", out / f"{rel_base}.idx"
    bin_path.parent.mkdir(parents=True, exist_ok=True)
    tokens.tofile(bin_path)
    idx.tofile(idx_path)
    return {"bin": f"{rel_base}.bin", "idx": f"{rel_base}.idx", "tokens": int(len(tokens)),
            "documents": len(docs),
            "sha256_bin": hashlib.sha256(bin_path.read_bytes()).hexdigest(),
            "sha256_idx": hashlib.sha256(idx_path.read_bytes()).hexdigest()}


def build_mixture(out: Path, total_tokens: int = 80_000, shares: dict | None = None,
                  c4_shards: int = 2) -> Path:
    """Write tokens/<source>/part-*.bin/.idx, tokenizer/tokenizer.model and mixture.json."""
    import sentencepiece as spm

    shares = shares or SHARES
    out = Path(out)
    sp = spm.SentencePieceProcessor(model_file=str(TOKENIZER))
    (out / "tokenizer").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TOKENIZER, out / "tokenizer" / "tokenizer.model")
    sources = {}
    for name, texts in source_texts().items():
        if name not in shares:
            continue
        docs = sp.encode(texts)
        n_shards = c4_shards if name == "c4" else 1
        bounds = np.linspace(0, len(docs), n_shards + 1).astype(int)
        shards = [_write_shard(out, f"tokens/{name}/part-{i:05d}-of-{n_shards:05d}",
                               docs[bounds[i]:bounds[i + 1]]) for i in range(n_shards)]
        unique = sum(s["tokens"] for s in shards)
        planned = round(shares[name] * total_tokens)
        sources[name] = {"share": shares[name], "unique_tokens": unique, "documents": len(docs),
                         "epochs": shares[name] * total_tokens / unique, "planned_tokens": planned,
                         "shards": shards}
    mixture = {"format": "llamadata-mixture/1", "tokenizer": "tokenizer/tokenizer.model",
               "vocab_size": sp.get_piece_size(), "bos_id": 1, "eos_id": EOS, "dtype": "uint16",
               "total_tokens": total_tokens, "sources": sources}
    (out / "mixture.json").write_text(json.dumps(mixture, indent=2) + "\n")
    return out


try:
    import pytest

    @pytest.fixture(scope="session")
    def mixture_dir(tmp_path_factory):
        """The mixture the trainer tests run on. To use the default pipeline run instead, make
        this fixture `return default_run_out` (its OUT holds mixture.json and tokens/)."""
        return build_mixture(tmp_path_factory.mktemp("train_mixture"))
except ImportError:  # building a mixture by hand, outside pytest
    pass
