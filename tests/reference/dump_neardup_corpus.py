"""Writes bench/neardup_corpus.py's corpus as JSON lines {"id", "text"} plus its planted pairs, for
tests/reference/datatrove_neardup.py (datatrove's MinHash dedup on the same documents):

    PYTHONPATH=. .venv/bin/python tests/reference/dump_neardup_corpus.py 50 /tmp/ndc
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench import neardup_corpus  # noqa: E402

if __name__ == "__main__":
    mb, out = float(sys.argv[1]), Path(sys.argv[2])
    (out / "input").mkdir(parents=True, exist_ok=True)
    docs, planted = neardup_corpus.build(mb)
    with open(out / "input" / "corpus.jsonl", "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d.id, "text": d.text}) + "\n")
    (out / "planted.json").write_text(json.dumps(planted))
