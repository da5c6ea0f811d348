"""Project Gutenberg plain texts: the book without the Gutenberg header and footer.

`strip_gutenberg(text)` returns the body, with the line endings of the input, or None when the
text has no start marker. The body is:
- after the start marker (`*** START OF THE/THIS PROJECT GUTENBERG EBOOK …`, possibly wrapped
  over several lines, or the old `*END*THE SMALL PRINT!…` line), and after the production notes
  that follow it: paragraphs of credits ("Produced by …", "E-text prepared by …", proofreading
  teams, scan sources, notes on the Gutenberg edition). The body starts on the line just after
  the last of them, so the book's own leading blank lines stay;
- before the first end marker (`*** END OF THE/THIS PROJECT GUTENBERG …`, `End of (the)
  Project Gutenberg…`), which begins the footer and the licence.
The reference outputs in ../shared/data/books/clean (c-w/gutenberg's) are the test oracle.

`decode_book(data)`: UTF-8 first; else the encoding the header declares ("Character set
encoding: ISO-8859-1"); else None (the caller counts the file as bad input).
"""
from __future__ import annotations

import codecs
import re
from typing import List, Optional

_START = re.compile(
    r"^\W*(\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG|\*{3}\s*START OF THE COPYRIGHTED PROJECT GUTENBERG"
    r"|\*END\*THE SMALL PRINT)",
    re.IGNORECASE,
)
_END = re.compile(
    r"^\W*(\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG|END OF (THE |THIS )?PROJECT GUTENBERG"
    r"|\*{3}\s*END OF THE COPYRIGHTED PROJECT GUTENBERG)",
    re.IGNORECASE,
)
# Paragraphs right after the start marker that describe the e-text, not the book.
_CREDIT = re.compile(
    r"prepared by|produced by|proofread|pgdp\.net|internet archive|archive\.org|project gutenberg"
    r"|transcribed by|scanned by|html version|gallica|google (print|books)|page images|e-?text",
    re.IGNORECASE,
)
_CREDIT_WINDOW = 80  # lines after the marker where credit paragraphs are looked for
_HEADER_HINT = re.compile(r"project gutenberg", re.IGNORECASE)
_DECLARED = re.compile(r"^Character set encoding:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_EBOOK_NO = re.compile(r"\[E(?:Book|text) #(\d+)\]", re.IGNORECASE)
_TITLE = re.compile(r"^Title:\s*(.+?)\s*$", re.MULTILINE)


def looks_like_gutenberg(text: str) -> bool:
    return bool(_HEADER_HINT.search(text[:3000]))


def _paragraph_end(lines: List[str], i: int) -> int:
    while i < len(lines) and lines[i].strip():
        i += 1
    return i


def strip_gutenberg(text: str) -> Optional[str]:
    lines = text.splitlines(keepends=True)
    starts = []
    for i, line in enumerate(lines):
        if _START.match(line):
            starts.append(i)
        elif starts and _END.match(line):
            end = i
            break
    else:
        end = len(lines)
    if not starts:
        return None
    marker = starts[-1]
    body_start = _paragraph_end(lines, marker)  # the marker may wrap over several lines
    i = body_start
    while i < min(end, marker + _CREDIT_WINDOW):
        while i < end and not lines[i].strip():
            i += 1
        para_end = _paragraph_end(lines, i)
        if i >= end or not _CREDIT.search("".join(lines[i:para_end])):
            break
        body_start = i = para_end
    return "".join(lines[body_start:end])


def decode_book(data: bytes) -> Optional[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        m = _DECLARED.search(data[:5000].decode("ascii", "replace"))
        if not m:
            return None
        try:
            codec = codecs.lookup(m.group(1).strip("()").lower())
            text = data.decode(codec.name)
        except (LookupError, UnicodeDecodeError):
            return None
    return text[1:] if text.startswith("\ufeff") else text


def ebook_number(text: str) -> Optional[str]:
    m = _EBOOK_NO.search(text[:5000])
    return m.group(1) if m else None


def title_of(text: str) -> Optional[str]:
    m = _TITLE.search(text[:5000])
    return m.group(1) if m else None
