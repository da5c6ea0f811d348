"""The recipe as data: LLaMA's values by default, overridable from the command line.

A recipe is a folder of JSON files, one per section (`commoncrawl.json`, `mixture.json`, …);
the section name is the file's stem. `--recipe DIR` picks another folder; `--set a.b=VALUE`
(repeatable, VALUE parsed as JSON where it parses, else taken as a string) overrides one key.
"""
from __future__ import annotations

import copy
import glob
import json
import os
from typing import Any, Iterable, Optional

DEFAULT_RECIPE_DIR = os.path.join(os.path.dirname(__file__), "recipes", "llama")


def load(recipe_dir: Optional[str] = None, overrides: Iterable[str] = ()) -> dict:
    recipe_dir = recipe_dir or DEFAULT_RECIPE_DIR
    recipe: dict[str, Any] = {}
    for path in sorted(glob.glob(os.path.join(recipe_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            recipe[os.path.splitext(os.path.basename(path))[0]] = json.load(f)
    for item in overrides:
        apply_override(recipe, item)
    return recipe


def apply_override(recipe: dict, item: str) -> None:
    if "=" not in item:
        raise ValueError(f"--set expects KEY.PATH=VALUE, got {item!r}")
    key, raw = item.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    parts = key.split(".")
    node = recipe
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"--set {key}: {part} is not a section")
    node[parts[-1]] = value


def section(recipe: dict, name: str) -> dict:
    return copy.deepcopy(recipe.get(name, {}))
