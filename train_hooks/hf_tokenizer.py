"""A Hugging Face `tokenizer.json` for a SentencePiece BPE model, built without protobuf.

transformers 5 reads a bare `tokenizer.model` through sentencepiece's generated protobuf module,
which needs protobuf >= 7 and fails beside Beam's protobuf 6. So the export also writes the fast
tokenizer itself, from what `SentencePieceProcessor` tells (pieces, scores, piece kinds):
- BPE over the same vocabulary with byte fallback; the merges are every split of a piece into two
  vocabulary pieces, ordered by the merged piece's score (the order SentencePiece merges in), as
  transformers' own SentencePiece extractor orders them;
- the normaliser SentencePiece applies to LLaMA-style models (dummy prefix, spaces as "▁", no
  whitespace folding), and the matching decoder.
`tests/test_train.py` checks token ids and decoded text against sentencepiece on real text.
"""
from __future__ import annotations

from pathlib import Path


def build(model_path: str):
    """The `tokenizers.Tokenizer` equivalent of the SentencePiece BPE model at `model_path`."""
    import sentencepiece as spm
    from tokenizers import Tokenizer, decoders, models, normalizers

    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    merges = []
    for piece, pid in vocab.items():
        if sp.is_unknown(pid) or sp.is_control(pid) or sp.is_byte(pid):
            continue
        splits = [(piece[:k], piece[k:]) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
        splits.sort(key=lambda lr: (vocab[lr[0]], vocab[lr[1]]))
        merges += [(-sp.get_score(pid), pid, left, right) for left, right in splits]
    merges.sort(key=lambda m: (m[0], m[1]))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[(left, right) for _, _, left, right in merges],
                               unk_token=sp.id_to_piece(sp.unk_id()), fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return tok


def write(model_path: str, hf_dir: Path) -> Path:
    from common import atomic

    path = Path(hf_dir) / "tokenizer.json"
    atomic.write_text(str(path), build(model_path).to_str(pretty=True))
    return path
