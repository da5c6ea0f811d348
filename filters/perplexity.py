"""Per-document perplexity under the reference language model, and cc_net's buckets.

The reference LM is a 5-gram KenLM model over SentencePiece pieces, trained on Wikipedia text
normalised by `filters.text_normalizer` (see `filters.lm_train`). cc_net's formula:

    for each (normalised, non-empty) line: pieces = SentencePiece(line)
        log10 score += KenLM.score(" ".join(pieces), bos=True, eos=True)
        length      += len(pieces) + 1          # the +1 is the end-of-sentence token
    perplexity = 10 ** (-Σ score / Σ length), rounded to 0.1

Low perplexity = text that reads like Wikipedia. Buckets by the corpus' perplexity percentiles:
`head` (< 30th), `middle` (< 60th), `tail` (the rest); cc_net keeps head and middle.
"""
from __future__ import annotations

import math
from typing import Dict, Mapping, NamedTuple, Sequence, Tuple

from filters.text_normalizer import normalized_lines

BUCKETS = ("head", "middle", "tail")


class PerplexityScorer:
    """SentencePiece + KenLM, loaded once (neither is picklable: build it on the worker)."""

    def __init__(self, sp_model: str, kenlm_model: str):
        import kenlm
        import sentencepiece as spm

        self.sp = spm.SentencePieceProcessor(model_file=sp_model)
        self.lm = kenlm.Model(kenlm_model)

    def log_score(self, text: str) -> Tuple[float, int]:
        """(Σ log10 probability, Σ tokens incl. one end-of-line each) over the document's lines."""
        lines = normalized_lines(text)
        if not lines:
            return 0.0, 0
        score = self.lm.score
        total = 0.0
        length = 0
        encode = self.sp.encode
        for line in lines:  # one call per line: the batched call pays for a thread pool
            pieces = encode(line, out_type=str)
            total += score(" ".join(pieces), bos=True, eos=True)
            length += len(pieces) + 1
        return total, length

    def perplexity(self, text: str) -> float:
        total, length = self.log_score(text)
        if length == 0:
            return math.inf  # nothing to score: worse than any real text
        return round(10.0 ** (-total / length), 1)


class Cutoffs(NamedTuple):
    """Perplexity thresholds: head is ppl < head, middle is ppl < middle, tail the rest."""

    head: float
    middle: float


def bucket_of(perplexity: float, cutoffs: Cutoffs) -> str:
    if perplexity < cutoffs.head:
        return "head"
    if perplexity < cutoffs.middle:
        return "middle"
    return "tail"


# Computed cutoffs come from a histogram of log10(perplexity) on a fixed grid, so that the shuffle
# can sum it per bin (order-independent, bounded size) and every run gets the same cutoffs.
HISTOGRAM_RESOLUTION = 1000  # bins per decade: 0.23% relative width


def histogram_bin(perplexity: float) -> int:
    if not math.isfinite(perplexity) or perplexity <= 0:
        return 10 ** 9  # unscorable documents sort last
    return int(round(math.log10(perplexity) * HISTOGRAM_RESOLUTION))


def bin_value(bin_index: int) -> float:
    if bin_index >= 10 ** 9:
        return math.inf
    return round(10.0 ** (bin_index / HISTOGRAM_RESOLUTION), 1)


def quantile_from_histogram(histogram: Mapping[int, int], q: float) -> float:
    """The value below which a fraction `q` of the documents lie (nearest bin on the grid).

    The cutoff is the first bin whose cumulative count exceeds q·N; `bucket_of`'s strict `<`
    then puts (about) q·N documents below it.
    """
    items = sorted(histogram.items())
    total = sum(count for _, count in items)
    if total == 0:
        return math.inf
    target = q * total
    cumulative = 0
    for bin_index, count in items:
        cumulative += count
        if cumulative > target:
            return bin_value(bin_index)
    return bin_value(items[-1][0])


def cutoffs_from_histogram(histogram: Mapping[int, int], head_pct: float, middle_pct: float) -> Cutoffs:
    return Cutoffs(quantile_from_histogram(histogram, head_pct / 100.0),
                   quantile_from_histogram(histogram, middle_pct / 100.0))


def exact_cutoffs(perplexities: Sequence[float], head_pct: float, middle_pct: float) -> Cutoffs:
    """The same cutoffs from a plain list (tests, the bench, small corpora outside Beam)."""
    histogram: Dict[int, int] = {}
    for ppl in perplexities:
        b = histogram_bin(ppl)
        histogram[b] = histogram.get(b, 0) + 1
    return cutoffs_from_histogram(histogram, head_pct, middle_pct)


def cutoffs_from_config(cfg: Mapping) -> Cutoffs:
    """Given cutoffs from the recipe's `cutoffs` block (mode "given")."""
    return Cutoffs(float(cfg["head"]), float(cfg["middle"]))


def drop_reason(bucket: str) -> str:
    return f"perplexity_{bucket}"

