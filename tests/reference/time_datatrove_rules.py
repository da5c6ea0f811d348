"""CPU seconds of datatrove 0.10.1's FineWeb rule chain (GopherRepetitionFilter, GopherQualityFilter,
C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter; spaCy words and sentences) over
the texts of a JSON list, best of --repeat; prints {"mb", "cpu_s"}. Run by bench/bench_rules.py
--datatrove_python /tmp/ref24/bin/python (a scratch venv with datatrove==0.10.1 spacy regex nltk);
never imported by the project.
"""
from __future__ import annotations

import json
import sys
import time

from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.utils.text import split_into_words


def main(path: str, repeat: int) -> None:
    texts = json.load(open(path, encoding="utf-8"))
    steps = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
             FineWebQualityFilter()]
    split_into_words("warm up the tokenizer")
    best = None
    for _ in range(repeat):
        start = time.process_time()
        for text in texts:
            doc = Document(text=text, id="x")
            for f in steps:
                if f.filter(doc) is not True:
                    break
        took = time.process_time() - start
        best = took if best is None else min(best, took)
    print(json.dumps({"mb": sum(len(t.encode("utf-8")) for t in texts) / 1e6, "cpu_s": best}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
