"""Where model files come from: a local path, a URL (downloaded once, SHA-256 checked), or "auto".

"auto" looks in $LLAMADATA_MODELS, then in the `models/` folder of the `shared/data` checkout beside
the project (present on developer machines and in CI), then falls back to the official URL.
"""
from __future__ import annotations

import os
from typing import Optional

from common import fetch

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEARCH_DIRS = (
    os.environ.get("LLAMADATA_MODELS", ""),
    os.path.join(PROJECT_ROOT, "..", "shared", "data", "models"),
)


def resolve(spec: dict) -> str:
    """`spec`: {"path": path|URL|"auto", "filename": name for auto, "url": fallback, "sha256": hex|null}."""
    path: str = spec.get("path", "auto")
    sha256: Optional[str] = spec.get("sha256")
    if path == "auto":
        for folder in SEARCH_DIRS:
            candidate = os.path.join(folder, spec["filename"]) if folder else ""
            if candidate and os.path.exists(candidate):
                return fetch.cached(os.path.normpath(candidate), sha256=sha256)
        path = spec["url"]
    return fetch.cached(path, sha256=sha256)
