"""Licences of code: which licence a licence file's text is, and stripping licence headers.

- `detect_license(text)` names the licence of one licence file's text (an SPDX-like id, or None):
  it looks for the wording each licence cannot do without (MIT's grant, BSD's redistribution
  conditions, Apache's title), checking copyleft titles first because GPL texts mention the LGPL.
- `is_license_file(path)`: LICENSE, LICENCE, COPYING (any case, any extension) at a repo's root.
- `repo_license(texts)`: one verdict for a repo from its root licence files: every file must be
  recognised, and every recognised licence must be kept (a dual MIT/GPL repo is not kept: the
  conservative reading of "Apache, BSD and MIT only").
- `strip_license_header(code)`: removes the leading comment blocks that carry a licence or a
  copyright (RP1 stripped these with regular expressions); a shebang or a coding line stays.
"""
from __future__ import annotations

import posixpath
import re
from typing import Iterable, List, Optional, Tuple

# LLaMA keeps "Apache, BSD and MIT" (the paper); RP1's BigQuery ids for them.
DEFAULT_KEPT = ("apache-2.0", "bsd-2-clause", "bsd-3-clause", "mit")

_WS = re.compile(r"[\s*#/>|-]+")  # comment leaders and wrapping do not change a licence's words


def _norm(text: str) -> str:
    return _WS.sub(" ", text.lower()).strip()


def detect_license(text: str) -> Optional[str]:
    t = _norm(text)
    head = t[:400]
    if "gnu affero general public license" in head:
        return "agpl-3.0"
    if "gnu lesser general public license" in head or "gnu library general public license" in head:
        return "lgpl-3.0" if "version 3" in head else "lgpl-2.1"
    if "gnu general public license" in t:
        if "version 3" in head:
            return "gpl-3.0"
        if "version 2" in head:
            return "gpl-2.0"
        return "gpl"
    if "mozilla public license" in head:
        return "mpl-2.0"
    if "eclipse public license" in head:
        return "epl"
    if "apache license" in t and "version 2.0" in t:
        return "apache-2.0"
    if "redistribution and use in source and binary forms" in t:
        if "all advertising materials mentioning" in t:
            return "bsd-4-clause"
        if "may be used to endorse or promote products" in t or "neither the name" in t:
            return "bsd-3-clause"
        return "bsd-2-clause"
    if "permission is hereby granted, free of charge, to any person obtaining a copy" in t:
        return "mit"
    if "permission to use, copy, modify, and/or distribute this software for any purpose" in t or (
        "permission to use, copy, modify, and distribute this software for any purpose" in t
    ):
        return "isc"
    if "this is free and unencumbered software released into the public domain" in t:
        return "unlicense"
    if "creative commons" in head:
        return "cc"
    return None


_LICENSE_NAME = re.compile(r"^(licen[cs]e|copying)([._-].*)?$", re.IGNORECASE)


def is_license_file(path: str) -> bool:
    """A licence file at the repository root (`path` relative to the root)."""
    return "/" not in path.strip("/") and bool(_LICENSE_NAME.match(posixpath.basename(path)))


def repo_license(texts: Iterable[str], kept: Iterable[str] = DEFAULT_KEPT) -> Tuple[Optional[str], Optional[str]]:
    """(licence, None) when the repo is kept, else (licence or None, drop reason).

    Reasons: `license_not_found` (no root licence file), `license_unrecognized` (a licence file
    whose text names no licence we know), `license_not_kept:<id>`.
    """
    kept = set(kept)
    found: List[str] = []
    any_file = False
    for text in texts:
        any_file = True
        lic = detect_license(text)
        if lic is None:
            return None, "license_unrecognized"
        if lic not in found:
            found.append(lic)
    if not any_file:
        return None, "license_not_found"
    found.sort()
    for lic in found:
        if lic not in kept:
            return lic, "license_not_kept:" + lic
    return "+".join(found), None


def normalize_declared(license_id: Optional[str]) -> Optional[str]:
    """A BigQuery `licenses.license` value (already an id like `mit`), lowercased."""
    return license_id.strip().lower() if license_id else None


# --- header stripping ---------------------------------------------------------------------

_LICENSE_WORDS = re.compile(
    r"copyright|\(c\)|©|licen[cs]e|spdx-license-identifier|all rights reserved|permission is hereby granted"
    r"|redistribution and use|warranty",
    re.IGNORECASE,
)
_LINE_COMMENT = re.compile(r"^\s*(#|//|--|;|%|')")
# `#include` and friends start with the shell comment leader but are code.
_PREPROCESSOR = re.compile(r"^\s*#\s*(include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|error|import)\b")
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=]")
_BLOCKS = (("/*", "*/"), ("<!--", "-->"), ('"""', '"""'), ("'''", "'''"), ("{-", "-}"), ("(*", "*)"))


def _leading_block(lines: List[str], i: int) -> int:
    """End index (exclusive) of the comment block that starts at line i, or i if none starts there."""
    stripped = lines[i].lstrip()
    for open_, close in _BLOCKS:
        if stripped.startswith(open_):
            rest = stripped[len(open_):]
            if close in rest:
                return i + 1
            for j in range(i + 1, len(lines)):
                if close in lines[j]:
                    return j + 1
            return i  # unterminated: not a header we understand, leave the file alone
    m = _LINE_COMMENT.match(lines[i])
    if not m or _PREPROCESSOR.match(lines[i]):
        return i
    leader = m.group(1)
    j = i
    while j < len(lines) and lines[j].lstrip().startswith(leader) and not _PREPROCESSOR.match(lines[j]):
        j += 1
    return j


def strip_license_header(code: str) -> str:
    """`code` without its leading licence/copyright comment blocks (other comments are kept)."""
    lines = code.split("\n")
    keep_head: List[str] = []
    i = 0
    # A shebang and a PEP 263 coding line are instructions, not boilerplate.
    while i < len(lines) and i < 2 and (lines[i].startswith("#!") or _CODING.match(lines[i])):
        keep_head.append(lines[i])
        i += 1
    changed = False
    while True:
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines):
            break
        end = _leading_block(lines, j)
        if end == j or not _LICENSE_WORDS.search("\n".join(lines[j:end])):
            break
        i = end
        changed = True
    if not changed:
        return code
    while i < len(lines) and not lines[i].strip():
        i += 1
    return "\n".join(keep_head + lines[i:])
