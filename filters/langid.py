"""Language identification with fastText lid.176, the CCNet way.

- The model sees the text with newlines replaced by spaces (fastText predicts one line at a time).
- Keep a document when its top-1 language is one of `languages` and the score ≥ `threshold`
  (cc_net / LLaMA: English, 0.5). Language and score go into `meta`.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

from common.record import Document

SEEN = "language_seen:"  # tally prefixes: + the top language
DROPPED = "language_dropped:"


class LanguageId:
    """fastText lid.176 (`.bin` or `.ftz`). Load once per process; the model is not picklable."""

    def __init__(self, model_path: str):
        import fasttext  # imported here so modules importing this one stay light

        self.model = fasttext.load_model(model_path)

    def predict(self, text: str) -> Tuple[str, float]:
        return self.predict_many([text])[0]

    def predict_many(self, texts: List[str]) -> List[Tuple[str, float]]:
        """(language, score) of each text: one fastText call for the list (fastText predicts each
        line on its own, so the results are those of one call per text)."""
        # A list, not a string: fastText 0.9.3's single-string predict breaks under numpy 2.
        labels, scores = self.model.predict([text.replace("\n", " ") for text in texts], k=1)
        return [(lab[0].replace("__label__", ""), round(float(sc[0]), 4)) if len(lab) else ("unknown", 0.0)
                for lab, sc in zip(labels, scores)]


class LanguageFilter:
    """doc → doc with meta language/language_score, or a drop reason.

    Reasons: `language_not_kept` (top language not asked for), `language_low_score` (asked-for
    language, score below the threshold). `tallies`: the top language of every document seen
    (`language_seen:<lang>`) and of every one dropped (`language_dropped:<lang>`), so a run tells
    which languages it left out without writing them (pipeline.stages drains them into counters).
    """

    def __init__(self, model_path: str, languages: Iterable[str] = ("en",), threshold: float = 0.5):
        self.lid = LanguageId(model_path)
        self.languages = frozenset(languages)
        self.threshold = threshold
        self.tallies: dict = {}

    def _tally(self, name: str) -> None:
        self.tallies[name] = self.tallies.get(name, 0) + 1

    def predict_many(self, docs: Sequence[Document]) -> List[Tuple[str, float]]:
        """The predictions of many documents at once (pipeline.stages batches them)."""
        return self.lid.predict_many([doc.text for doc in docs])

    def __call__(self, doc: Document, prediction: Optional[Tuple[str, float]] = None):
        lang, score = self.lid.predict(doc.text) if prediction is None else prediction
        self._tally(SEEN + lang)
        if lang not in self.languages:
            self._tally(DROPPED + lang)
            return "language_not_kept"
        if score < self.threshold:
            self._tally(DROPPED + lang)
            return "language_low_score"
        return doc.with_meta(language=lang, language_score=score)
