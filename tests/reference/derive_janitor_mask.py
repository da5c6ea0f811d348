"""Derives tests/data/janitor_mask.json: what lm-eval 0.4.13's decontamination Janitor (GPT-3's
filter: 200-character window around each matched n-gram, pieces under 200 characters dropped, more
than 10 matched windows drop the document) makes of real C4 pages with benchmark items planted in
them. Not a test; run from the project root with the project's venv (lm-eval is installed there):

    PYTHONPATH=. .venv/bin/python tests/reference/derive_janitor_mask.py > tests/data/janitor_mask.json

The plants are built by `tests.test_decontam.janitor_cases()`; each is registered with the Janitor
at the n this project chooses for its benchmark (the Janitor takes n as given). Recorded per case:
the Janitor's pieces (lengths, and the SHA-1 of the pieces joined by a blank line, this project's
separator), or "dropped"; and for the edited HumanEval plant, the plant's words and 8-grams left.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    from lm_eval.decontamination.janitor import Janitor  # noqa: E402  (warns: no C++ module)

from tests.test_decontam import janitor_cases, residue  # noqa: E402


def main() -> None:
    out = {"_doc": __doc__.split("\n\n")[0], "cases": {}}
    for name, (doc, item_text, n, plant) in janitor_cases().items():
        janitor = Janitor(ngram_n=n, window_to_remove=200, too_dirty_cutoff=10, minimum_slice_length=200)
        with contextlib.redirect_stdout(io.StringIO()):
            janitor.register_contaminant(item_text)
            chunks = janitor.clean(doc)
        joined = "\n\n".join(chunks)
        out["cases"][name] = {"n": n, "dropped": not chunks, "pieces": [len(c) for c in chunks],
                              "sha1": hashlib.sha1(joined.encode("utf-8")).hexdigest(),
                              "residue": residue(joined, plant, item_text)}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
