"""Derives tests/data/datatrove_fineweb.json: datatrove 0.10.1's FineWeb rules (its
examples/fineweb.py order: GopherRepetitionFilter, GopherQualityFilter,
C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter, then PIIFormatter), as
shipped (words and sentences by spaCy's blank English pipeline), on the real pages of
tests/reference/dump_pages.py. Not a test; it runs in a scratch venv, never in the project's:

    python3 -m venv /tmp/ref24 && /tmp/ref24/bin/pip install datatrove==0.10.1 spacy regex nltk
    PYTHONPATH=. .venv/bin/python tests/reference/dump_pages.py > /tmp/pages.json
    /tmp/ref24/bin/python tests/reference/derive_datatrove_fineweb.py /tmp/pages.json > tests/data/datatrove_fineweb.json

Per page key: `chain`, the step that drops it and datatrove's reason ("keep" when none), and
`c4_sha1`, the SHA-1 of the text the C4 step leaves when the page reaches FineWeb's quality step;
`c4_alone`: the C4 step on the page as it came ("drop:<reason>" or the SHA-1 of its text);
`spacy`: token count, non-punctuation words, share of tokens holding a letter (the alpha rule's
measure) and the quality filter's decision; `pii`: SHA-1 of PIIFormatter's output where it
changes the page.
"""
from __future__ import annotations

import hashlib
import json
import sys

from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.pipeline.formatters.pii import PIIFormatter
from datatrove.utils.text import PUNCTUATION_SET, split_into_words


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def decide(f, doc):
    out = f.filter(doc)
    if out is True:
        return "keep"
    return out[1] if isinstance(out, tuple) else "drop"


def main(path: str) -> None:
    pages = json.load(open(path, encoding="utf-8"))
    steps = [("repetition", GopherRepetitionFilter()), ("quality", GopherQualityFilter()),
             ("c4", C4QualityFilter(filter_no_terminal_punct=False)), ("fineweb", FineWebQualityFilter())]
    out = {}
    for group in ("web_pages", "wet_pages"):
        for key, text in pages[group]:
            row = {}
            doc = Document(text=text, id=key)
            row["chain"] = ["keep", "keep"]
            for name, f in steps:
                reason = decide(f, doc)
                if reason != "keep":
                    row["chain"] = [name, reason]
                    break
                if name == "c4":
                    row["c4_sha1"] = sha1(doc.text)
            alone = Document(text=text, id=key)
            reason = decide(steps[2][1], alone)
            row["c4_alone"] = sha1(alone.text) if reason == "keep" else "drop:" + reason
            words = split_into_words(text)
            n = len(words)
            row["spacy"] = {"tokens": n,
                            "words": sum(1 for w in words if any(ch not in PUNCTUATION_SET for ch in w)),
                            "alpha_ratio": sum(any(c.isalpha() for c in w) for w in words) / n if n else 0.0,
                            "quality": decide(GopherQualityFilter(), Document(text=text, id=key))}
            scrubbed = PIIFormatter().format(text)
            if scrubbed != text:
                row["pii"] = sha1(scrubbed)
            out[key] = row
    json.dump({"_doc": __doc__.split("\n\n")[0].replace("\n", " "), "pages": out}, sys.stdout, indent=0, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
