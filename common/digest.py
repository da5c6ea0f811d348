"""SHA-256 of a file, read in chunks: the one file digest of train_hooks/ and bench/ (local files)."""
from __future__ import annotations

import hashlib
import os
from typing import Optional

CHUNK = 1 << 22


def file_sha256(path, upto: Optional[int] = None) -> str:
    """SHA-256 of a file's first `upto` bytes (all by default)."""
    h = hashlib.sha256()
    left = os.path.getsize(path) if upto is None else upto
    with open(path, "rb") as f:
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()
