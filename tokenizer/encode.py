"""Documents → token ids, losslessly, in batches, with long documents cut into safe chunks.

Three things plain `SentencePieceProcessor.encode(text)` does not give:
- Speed on long documents: one encode call is superlinear in its length (a 3 MB book encodes
  about 3x slower whole than in 16 KB pieces), so a document longer than `max_chunk_chars` is cut,
  after a newline where there is one, else just before a space that follows a non-space, else at
  `max_chunk_chars` (a code point boundary). No piece of a LLaMA-style model (split_by_whitespace,
  trained line by line) contains a newline or a non-space followed by `▁`, so at those cuts the ids
  equal whole-document encoding exactly. Only the chunk at position 0 gets the dummy prefix, as in
  whole-document encoding; later chunks go through a copy of the model with add_dummy_prefix off.
- Losslessness: SentencePiece writes a space as U+2581 `▁`, so a literal `▁` in the text would
  decode as a space. A literal `▁` is emitted as its three UTF-8 byte-fallback pieces instead
  (they decode to `▁`), and the text around it is encoded as separate chunks.
- The end-of-sequence id after every document.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import sentencepiece as spm

from tokenizer import spec

SPACE_MARK = "\u2581"


def split_chunks(text: str, max_chars: int) -> List[str]:
    """`text` cut into pieces of at most `max_chars` characters at token-safe points (see module doc)."""
    if len(text) <= max_chars:
        return [text]
    chunks, start, n = [], 0, len(text)
    while n - start > max_chars:
        end = start + max_chars
        cut = text.rfind("\n", start, end) + 1
        if cut <= start:
            cut = _space_cut(text, start, end)
        if cut <= start:
            cut = end
        chunks.append(text[start:cut])
        start = cut
    chunks.append(text[start:])
    return chunks


def _space_cut(text: str, start: int, end: int) -> int:
    """The last j in (start, end) with text[j] == ' ' and text[j-1] != ' ', else -1."""
    j = text.rfind(" ", start + 1, end)
    while j > start:
        if text[j - 1] != " ":
            return j
        j = text.rfind(" ", start + 1, j)
    return -1


def segments(text: str, max_chars: int) -> List[Tuple[bool, "str | None"]]:
    """[(at_start, chunk)] in order; chunk None stands for one literal `▁`."""
    out: List[Tuple[bool, "str | None"]] = []
    for k, part in enumerate(text.split(SPACE_MARK)):
        if k:
            out.append((False, None))
        for chunk in split_chunks(part, max_chars):
            at_start = not out
            if chunk or at_start:
                out.append((at_start, chunk))
    return out


class DocumentEncoder:
    """Encodes batches of documents to uint16 id arrays, each ending with EOS."""

    def __init__(self, model_bytes: bytes, max_chunk_chars: int = 16384, num_threads: int = 1):
        self.sp = spm.SentencePieceProcessor(model_proto=model_bytes)
        self.sp_cont = spm.SentencePieceProcessor(model_proto=spec.without_dummy_prefix(model_bytes))
        self.max_chunk_chars = max_chunk_chars
        self.num_threads = num_threads
        self.eos_id = self.sp.eos_id()
        if self.eos_id < 0:
            raise ValueError("the tokenizer has no EOS piece")
        if self.sp.get_piece_size() > 1 << 16:
            raise ValueError(f"vocabulary of {self.sp.get_piece_size()} does not fit uint16 ids")
        self.space_mark_ids = [self.sp.piece_to_id(f"<0x{b:02X}>") for b in SPACE_MARK.encode("utf-8")]
        if not all(self.sp.is_byte(i) for i in self.space_mark_ids):
            raise ValueError("the tokenizer has no byte-fallback pieces: literal U+2581 cannot round-trip")

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def encode_batch(self, texts: Sequence[str]) -> List[np.ndarray]:
        plans: List[List[Tuple[int, int]]] = []  # per document: (list 0 first/1 cont/2 mark, position)
        firsts: List[str] = []
        conts: List[str] = []
        for text in texts:
            if len(text) <= self.max_chunk_chars and SPACE_MARK not in text:
                plans.append([(0, len(firsts))])
                firsts.append(text)
                continue
            plan = []
            for at_start, chunk in segments(text, self.max_chunk_chars):
                if chunk is None:
                    plan.append((2, 0))
                elif at_start:
                    plan.append((0, len(firsts)))
                    firsts.append(chunk)
                else:
                    plan.append((1, len(conts)))
                    conts.append(chunk)
            plans.append(plan)
        encoded = (
            self.sp.encode(firsts, num_threads=self.num_threads) if firsts else [],
            self.sp_cont.encode(conts, num_threads=self.num_threads) if conts else [],
            [self.space_mark_ids],
        )
        out = []
        for plan in plans:
            if len(plan) == 1:
                ids = encoded[plan[0][0]][plan[0][1]]
                arr = np.empty(len(ids) + 1, dtype=np.uint16)
                arr[:-1] = ids
            else:
                parts = [encoded[which][pos] for which, pos in plan]
                arr = np.empty(sum(map(len, parts)) + 1, dtype=np.uint16)
                at = 0
                for part in parts:
                    arr[at:at + len(part)] = part
                    at += len(part)
            arr[-1] = self.eos_id
            out.append(arr)
        return out

    def encode(self, text: str) -> np.ndarray:
        return self.encode_batch([text])[0]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of one document's ids (a trailing EOS is dropped)."""
        ids = [int(i) for i in ids]
        if ids and ids[-1] == self.eos_id:
            ids = ids[:-1]
        return self.sp.decode(ids)
