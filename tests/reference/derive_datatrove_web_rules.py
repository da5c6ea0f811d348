"""Derives tests/data/datatrove_web_rules.json: datatrove 0.10.1's Gopher and FineWeb rule code on the
291 pages of tests/web_pages.py and the rewrites of one of them, in two modes. Not a test; it runs
in a scratch venv, never in the project's:

    python3 -m venv /tmp/ref24 && /tmp/ref24/bin/pip install datatrove==0.10.1 spacy regex nltk
    PYTHONPATH=. .venv/bin/python tests/reference/dump_pages.py --with-rewrites > /tmp/pages.json
    PYTHONPATH=. /tmp/ref24/bin/python tests/reference/derive_datatrove_web_rules.py /tmp/pages.json \
        > tests/data/datatrove_web_rules.json

Modes: `spacy`, datatrove as shipped (spaCy's blank English tokenizer, its own punctuation and
sentence-terminal tables); `ours_tokenizer`, datatrove's rule code fed this project's tokens
(`filters.word_tokens.words`, which needs only `regex`) and its punctuation (Unicode categories P*,
Sm, Sc, Sk, Cc) and sentence-terminal (Unicode Sentence_Terminal) sets: that isolates the rules,
which must then match exactly. `decisions` = [repetition, quality, fineweb] in datatrove's reason
names. `measures`: datatrove's values in the ours_tokenizer mode for the first page (by key) of
each reason met and every rewrite. `pii_changed_sha1`: SHA-1 of PIIFormatter()'s output (a fresh
formatter per page) for the pages it changes.
"""
from __future__ import annotations

import hashlib
import json
import sys
import unicodedata

import numpy as np
import regex
from datatrove.data import Document
from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.filters import fineweb_quality_filter, gopher_quality_filter, gopher_repetition_filter
from datatrove.pipeline.filters.gopher_repetition_filter import (find_all_duplicate, find_duplicates,
                                                                 find_top_duplicate, get_n_grams)
from datatrove.pipeline.formatters.pii import PIIFormatter
from datatrove.utils.text import PUNCTUATION_SET, split_into_words

from filters.word_tokens import words as our_words

OUR_PUNCT = frozenset(chr(c) for c in range(0x110000)
                      if unicodedata.category(chr(c)) in {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "Cc"})
OUR_TERMINAL = tuple(regex.findall(r"\p{Sentence_Terminal}", "".join(map(chr, range(0x20, 0x30000)))))
SPACY_PUNCT = PUNCTUATION_SET


def decide(f, text: str) -> str:
    out = f.filter(Document(text=text, id="x"))
    return "keep" if out is True else out[1]


def decisions(text: str, ours: bool) -> list:
    split = (lambda t, language="en": our_words(t)) if ours else split_into_words
    for module in (gopher_quality_filter, gopher_repetition_filter, fineweb_quality_filter):
        module.split_into_words = split
    gopher_quality_filter.PUNCTUATION_SET = OUR_PUNCT if ours else SPACY_PUNCT
    fineweb = FineWebQualityFilter(stop_chars=OUR_TERMINAL) if ours else FineWebQualityFilter()
    return [decide(GopherRepetitionFilter(), text), decide(GopherQualityFilter(), text), decide(fineweb, text)]


def measures(text: str) -> dict:
    """Every GopherStats / FineWebStats field, computed with datatrove's own functions."""
    words = our_words(text)
    n = len(words)
    content = [w for w in words if any(ch not in OUR_PUNCT for ch in w)]
    lines = text.splitlines()
    paragraphs = gopher_repetition_filter.re.compile(r"\n{2,}").split(text.strip())
    para_dups, para_chars = find_duplicates(paragraphs)
    split_lines = gopher_repetition_filter.re.compile("\n+").split(text)
    line_dups, line_chars = find_duplicates(split_lines)
    out = {"token_count": n, "word_count": len(content),
           "mean_word_length": float(np.mean([len(w) for w in content])) if content else 0.0,
           "hash_ratio": text.count("#") / n, "ellipsis_ratio": (text.count("...") + text.count("…")) / n,
           "bullet_lines_ratio": sum(s.lstrip().startswith("•") or s.lstrip().startswith("-") for s in lines) / len(lines),
           "ellipsis_lines_ratio": sum(s.rstrip().endswith("...") or s.rstrip().endswith("…") for s in lines) / len(lines),
           "alpha_words_ratio": sum(any(c.isalpha() for c in w) for w in words) / n,
           "stop_words": len(set(gopher_quality_filter.STOP_WORDS) & set(words)),
           "dup_para_frac": para_dups / len(paragraphs), "dup_para_char_frac": para_chars / len(text),
           "dup_line_frac": line_dups / len(split_lines), "dup_line_char_frac": line_chars / len(text)}
    for k in (2, 3, 4):
        grams = get_n_grams(words, k)
        out[f"top_{k}_gram_frac"] = find_top_duplicate(grams) / len(text) if grams else 0.0
    for k in range(5, 11):
        out[f"dup_{k}_gram_frac"] = find_all_duplicate(words, k) / len(text)
    kept = [line for line in text.split("\n") if line.strip()]
    out.update({"fineweb_line_count": len(kept),
                "fineweb_line_punct_ratio": sum(1 for line in kept if line.endswith(OUR_TERMINAL)) / len(kept),
                "fineweb_short_line_ratio": sum(1 for line in kept if len(line) <= 30) / len(kept),
                "fineweb_char_dup_ratio": find_duplicates(kept)[1] / len(text.replace("\n", "")),
                "fineweb_list_ratio": text.count("\n") / n})
    return out


def main(path: str) -> None:
    data = json.load(open(path, encoding="utf-8"))
    pages, rewrites = data["web_pages"], data["rewrites"]
    out = {"_doc": " ".join(__doc__.split("\n\n")[2:]).replace("\n", " "), "pages": {}, "rewrites": {},
           "measures": {}, "pii_changed_sha1": {}}
    first = {}
    for key, text in sorted(pages):
        ours = decisions(text, True)
        spacy_words = split_into_words(text)
        out["pages"][key] = {"ours_tokenizer": ours, "spacy": decisions(text, False), "spacy_tokens": len(spacy_words),
                             "spacy_words": sum(1 for w in spacy_words if any(ch not in SPACY_PUNCT for ch in w))}
        for reason in ours:
            if reason != "keep":
                first.setdefault(reason, key)
        scrubbed = PIIFormatter().format(text)
        if scrubbed != text:
            out["pii_changed_sha1"][key] = hashlib.sha1(scrubbed.encode("utf-8")).hexdigest()
    texts = dict(pages)
    for key in sorted(set(first.values())):
        out["measures"][key] = measures(texts[key])
    for name, text in sorted(rewrites):
        out["rewrites"][name] = {"ours_tokenizer": decisions(text, True), "spacy": decisions(text, False)}
        out["measures"]["rewrite:" + name] = measures(text)
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
