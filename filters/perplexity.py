"""Per-document perplexity under the reference language model, and cc_net's buckets.

The reference LM is a 5-gram KenLM model over SentencePiece pieces, trained on the opening text
of Wikipedia articles normalised by `filters.text_normalizer` (see `filters.lm_train`).

`document` mode (the default) is what cc_net's `mine.py` computes: `MultiSentencePiece(
normalize=True)` normalises the *whole* document with `text_normalizer.normalize` (which deletes
the newline with the other control characters, so the lines are glued), encodes it, and
`DocLM(normalize=False)` scores that one line of pieces:

    pieces = SentencePiece(normalize(document))          # one string, lines glued
    perplexity = 10 ** (-KenLM.score(" ".join(pieces), bos=True, eos=True) / (len(pieces) + 1))

rounded to 0.1. `lines` mode is DocLM's per-line loop (what it does when it normalises itself):
each normalised non-empty line is scored on its own, Σ log10 scores over Σ (pieces + 1).

Low perplexity = text that reads like Wikipedia. Buckets by perplexity percentiles: `head` (< 30th),
`middle` (< 60th), `tail` (the rest); cc_net keeps head and middle. cc_net does not compute the
percentiles per run: it reads them per language from its `cutoff.csv`, made once from a sample under
its published models (`cutoffs_from_config`); `cutoffs_from_histogram` computes them from a run's own
perplexities (for an LM the run trained itself, which has no published table).
"""
from __future__ import annotations

import math
from typing import Dict, Mapping, NamedTuple, Sequence, Tuple

from filters.text_normalizer import normalize_document, normalized_lines

BUCKETS = ("head", "middle", "tail")
# cc_net's bucket for documents it has no model for (PerplexityBucket.get_bucket).
UNSCORED_BUCKET = "all"
MODES = ("document", "lines")


class PerplexityScorer:
    """SentencePiece + KenLM, loaded once (neither is picklable: build it on the worker)."""

    def __init__(self, sp_model: str, kenlm_model: str, mode: str = "document"):
        import kenlm
        import sentencepiece as spm

        if mode not in MODES:
            raise ValueError(f"perplexity mode must be one of {MODES}, not {mode!r}")
        self.sp = spm.SentencePieceProcessor(model_file=sp_model)
        self.lm = kenlm.Model(kenlm_model)
        self.mode = mode

    def log_score(self, text: str) -> Tuple[float, int]:
        """(Σ log10 probability, Σ tokens incl. one end-of-sentence each) of the document."""
        encode, score = self.sp.encode, self.lm.score
        if self.mode == "document":
            normalized = normalize_document(text)
            if not normalized:
                return 0.0, 0
            # cc_net joins the pieces with spaces and DocLM counts `len(line.split()) + 1`.
            line = " ".join(encode(normalized, out_type=str))
            return score(line, bos=True, eos=True), len(line.split()) + 1
        total = 0.0
        length = 0
        for line in normalized_lines(text):  # one call per line: the batched call pays for a thread pool
            pieces = " ".join(encode(line, out_type=str))
            total += score(pieces, bos=True, eos=True)
            length += len(pieces.split()) + 1
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


# The run report's distribution: a coarser grid of the same kind, small enough for stats.json.
REPORT_BINS_PER_DECADE = 20  # 12% relative width
TALLY = "perplexity:"  # the tally of a scored page: + lang + ":" + bucket + ":" + report_bin(perplexity)


def report_bin(perplexity: float) -> str:
    """The report grid's bin of a perplexity: floor(log10 · 20) as a string; "inf" when unscorable."""
    if not math.isfinite(perplexity) or perplexity <= 0:
        return "inf"
    return str(math.floor(math.log10(perplexity) * REPORT_BINS_PER_DECADE))


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


def cutoffs_from_config(cfg: Mapping, lang: str) -> Cutoffs:
    """Given cutoffs of `lang` from the recipe's `cutoffs` block: `given` maps a language to
    [head, middle] (cc_net's cutoff.csv rows 30 and 60 by default). KeyError for a language
    the table lacks (the launcher refuses such a run before curating)."""
    head, middle = cfg["given"][lang]
    return Cutoffs(float(head), float(middle))


def drop_reason(bucket: str) -> str:
    return f"perplexity_{bucket}"

