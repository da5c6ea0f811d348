"""Train the SentencePiece BPE model with the LLaMA tokenizer's settings, from a stream of lines.

Settings come from the recipe's `tokenizer` section (`trainer` + `normalizer`: every TrainerSpec and
NormalizerSpec value of the released LLaMA model). The model is written to memory
(`model_writer`), so `model_prefix` and `input` stay empty and the bytes depend only on the lines
and the settings: the random seed is fixed, and `num_threads` comes from the recipe (its value is
recorded in the model; the pieces do not depend on it).
"""
from __future__ import annotations

import io
import logging
import re
from typing import Iterable, Optional

import sentencepiece as spm

_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")


def trainer_kwargs(tokenizer_recipe: dict, vocab_size: Optional[int] = None) -> dict:
    kwargs = {k: v for k, v in tokenizer_recipe["trainer"].items() if not k.startswith("_")}
    kwargs.update({k: v for k, v in tokenizer_recipe["normalizer"].items() if not k.startswith("_")})
    if vocab_size is not None:
        kwargs["vocab_size"] = vocab_size
    return kwargs


def train_from_lines(lines: Iterable[str], kwargs: dict, seed: int) -> bytes:
    """One SentencePiece training run; the serialized ModelProto."""
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, minloglevel=1, **kwargs)
    return model.getvalue()


def fitted_vocab_size(error: Exception, round_to: int) -> Optional[int]:
    """The largest vocabulary SentencePiece said the sample supports, rounded down; None if not that error."""
    match = _TOO_HIGH.search(str(error))
    if not match:
        return None
    fitted = int(match.group(2)) // round_to * round_to
    return fitted if fitted > 0 else None


def train(make_lines, tokenizer_recipe: dict) -> bytes:
    """Train on `make_lines()` (a fresh iterable each call: a refit reads the sample again)."""
    kwargs = trainer_kwargs(tokenizer_recipe)
    seed = int(tokenizer_recipe["sample"]["seed"])
    try:
        return train_from_lines(make_lines(), kwargs, seed)
    except RuntimeError as err:
        fit = tokenizer_recipe.get("fit_vocab_to_sample", {})
        fitted = fitted_vocab_size(err, int(fit.get("round_to", 1))) if fit.get("enabled") else None
        if fitted is None:
            raise
        logging.warning("tokenizer: sample supports at most %s pieces; training %d instead of %d",
                        _TOO_HIGH.search(str(err)).group(2), fitted, kwargs["vocab_size"])
        return train_from_lines(make_lines(), dict(kwargs, vocab_size=fitted), seed)


def write_vocab(model_bytes: bytes) -> str:
    """The `.vocab` text SentencePiece's own trainer writes: piece<TAB>score per line."""
    sp = spm.SentencePieceProcessor(model_proto=model_bytes)
    lines = []
    for i in range(sp.get_piece_size()):
        # C++ ostream's default float format, as in SentencePiece's own .vocab files.
        lines.append(f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}")
    return "\n".join(lines) + "\n"
