"""The seven sources. Each module `pipeline/sources/<name>.py` defines:

- `class Source(beam.PTransform)`: `Source(inputs, recipe, options)`; `expand(pbegin)` returns a
  tuple `(docs, events)`: the curated `Document`s of that source (already cleaned, filtered and
  exactly deduplicated by the source's own rules, one per id: `dedup.unique_ids.UniqueIds`) and
  every accounting `Event` it produced; its inputs matched by `pipeline.inputs.MatchInputs`, which
  reads each input once (`duplicate_input`);
- `SAMPLES`: glob(s) of the project's bundled samples under `samples/<name>/`, the default input.
"""
from __future__ import annotations

import importlib
import os

SOURCE_NAMES = ("commoncrawl", "c4", "github", "wikipedia", "books", "arxiv", "stackexchange")

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def module_for(name: str):
    if name not in SOURCE_NAMES:
        raise ValueError(f"unknown source {name!r}; choose from {', '.join(SOURCE_NAMES)}")
    return importlib.import_module(f"pipeline.sources.{name}")


def sample_inputs(name: str) -> list:
    return [os.path.join(PROJECT_ROOT, pattern) for pattern in module_for(name).SAMPLES]
