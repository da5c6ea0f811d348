"""The recipe as data: LLaMA's values by default, overridable from the command line.

A recipe is a folder of JSON files, one per section (`commoncrawl.json`, `mixture.json`, …);
the section name is the file's stem. Bundled recipes live in `pipeline/recipes/<name>/`:

- `llama` (the default): LLaMA's recipe as published (§2.1, Table 1; RedPajama v1 where the paper
  is silent). No MinHash near-dedup anywhere.
- `llama-plus`: `llama` plus what later pipelines add (MinHash near-dedup per source, …).

A recipe folder may extend another: its `version.json` names `"extends": NAME_OR_DIR`, and each of
its section files is deep-merged over the base's (dicts merge key by key, anything else replaces).

`--recipe NAME` picks a bundled recipe, `--recipe DIR` a user's folder. `--set a.b=VALUE`
(repeatable; VALUE parsed as JSON where it parses, else taken as a string) overrides one key that
the recipe already has, with a value of the same type: a misspelt key or a wrong type is a
`RecipeError` that names the key (nanoGPT's configurator refuses strangers the same way).

`recipes/schema.json` declares every value's type and range (`commoncrawl.language.threshold`: a
number in [0, 1]); `load` checks the resolved recipe against it, then the rules that tie two values
together (`CROSS_CHECKS`: head below middle, a preset that exists), so `--set` of an out-of-range
value, or a folder recipe holding one, is refused in one line before anything runs. A rule with
`values` is a map whose keys the user names (a language's cutoffs): `--set` may add a key there.
"""
from __future__ import annotations

import copy
import difflib
import fnmatch
import functools
import glob
import json
import os
from typing import Any, Iterable, List, Optional, Tuple

RECIPES_DIR = os.path.join(os.path.dirname(__file__), "recipes")
DEFAULT_RECIPE = "llama"
DEFAULT_RECIPE_DIR = os.path.join(RECIPES_DIR, DEFAULT_RECIPE)
MAX_EXTENDS_DEPTH = 8
SCHEMA = os.path.join(RECIPES_DIR, "schema.json")


class RecipeError(ValueError):
    """A user's mistake in --recipe or --set; the message names the option and the fix."""


def bundled() -> List[str]:
    return sorted(n for n in os.listdir(RECIPES_DIR) if os.path.isdir(os.path.join(RECIPES_DIR, n)))


def resolve_dir(name_or_dir: Optional[str]) -> str:
    """A bundled recipe's name, or a folder holding section files."""
    name_or_dir = name_or_dir or DEFAULT_RECIPE
    if os.path.isdir(os.path.join(RECIPES_DIR, name_or_dir)) and os.sep not in name_or_dir:
        return os.path.join(RECIPES_DIR, name_or_dir)
    if os.path.isdir(name_or_dir) and glob.glob(os.path.join(name_or_dir, "*.json")):
        return name_or_dir
    raise RecipeError(f"--recipe={name_or_dir}: no bundled recipe of that name and no folder of <section>.json "
                      f"files there; bundled recipes: {', '.join(bundled())}")


def _read_sections(recipe_dir: str) -> dict:
    sections: dict[str, Any] = {}
    for path in sorted(glob.glob(os.path.join(recipe_dir, "*.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                sections[os.path.splitext(os.path.basename(path))[0]] = json.load(f)
        except (OSError, ValueError) as e:
            raise RecipeError(f"--recipe: cannot read {path}: {e}") from None
    return sections


def merge(base: Any, overlay: Any) -> Any:
    """Deep merge: dicts key by key, anything else replaced by the overlay."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(overlay)


def _load_dir(recipe_dir: str, depth: int = 0) -> dict:
    if depth > MAX_EXTENDS_DEPTH:
        raise RecipeError(f"--recipe: 'extends' chain deeper than {MAX_EXTENDS_DEPTH} at {recipe_dir}")
    sections = _read_sections(recipe_dir)
    base_name = sections.get("version", {}).get("extends")
    if not base_name:
        return sections
    base_dir = base_name if os.path.isabs(base_name) else (
        os.path.join(RECIPES_DIR, base_name) if os.path.isdir(os.path.join(RECIPES_DIR, base_name))
        else os.path.join(recipe_dir, base_name))
    base = _load_dir(resolve_dir(base_dir), depth + 1)
    merged = merge(base, {k: v for k, v in sections.items() if k != "version"})
    merged["version"] = {k: v for k, v in sections["version"].items()}
    return merged


def load(recipe: Optional[str] = None, overrides: Iterable[str] = ()) -> dict:
    """The resolved recipe: bundled name or folder, its base merged under it, then the --set overrides."""
    resolved = _load_dir(resolve_dir(recipe))
    if "version" not in resolved:
        raise RecipeError(f"--recipe={recipe}: the folder has no version.json (name the recipe and its version)")
    for item in overrides:
        apply_override(resolved, item)
    for path, value in leaves(resolved):
        problem = out_of_range(path, value)
        if problem:
            raise RecipeError(f"--recipe={recipe or DEFAULT_RECIPE}: {path}={json.dumps(value)}: {problem}")
    for check in CROSS_CHECKS:
        problem = check(resolved)
        if problem:
            raise RecipeError(f"--recipe={recipe or DEFAULT_RECIPE}: {problem}")
    return resolved


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a JSON list",
            dict: "a JSON object"}.get(type(value), type(value).__name__)


def _coerce(key: str, old: Any, new: Any, raw: str) -> Any:
    """The new value if it has the old value's type (ints widen to floats); else a RecipeError."""
    if old is None or new is None:
        return new
    if isinstance(old, str) and not isinstance(new, str):
        return raw  # --set a.path=123 where the recipe holds a string: the string the user typed
    if isinstance(old, bool) or isinstance(new, bool):
        if isinstance(old, bool) and isinstance(new, bool):
            return new
    elif isinstance(old, float) and isinstance(new, (int, float)):
        return float(new)
    elif isinstance(old, int) and isinstance(new, int):
        return new
    elif isinstance(old, int) and isinstance(new, float) and new.is_integer():
        return int(new)
    elif type(old) is type(new):
        return new
    raise RecipeError(f"--set {key}={raw}: expected {_type_name(old)} (the recipe has {json.dumps(old)})")


def apply_override(recipe: dict, item: str) -> None:
    if "=" not in item:
        raise RecipeError(f"--set expects KEY.PATH=VALUE, got {item!r}")
    key, raw = item.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    parts = key.split(".")
    node: Any = recipe
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            raise RecipeError(f"--set {key}: {'.'.join(parts[:i])} is a value, not a section")
        new_key = part not in node and i == len(parts) - 1 and "values" in (rule_for(".".join(parts[:i])) or {})
        if part not in node and not new_key:
            known = [k for k in node if not k.startswith("_")]
            close = difflib.get_close_matches(part, known, n=1)
            where = ".".join(parts[:i]) or "the recipe"
            hint = f"; did you mean {'.'.join(parts[:i] + close)}?" if close else \
                f"; {where} has: {', '.join(sorted(known))}"
            raise RecipeError(f"--set {key}: unknown key {part!r} in {where}{hint}")
        if i == len(parts) - 1:
            # A new key of a map (a language's cutoffs) takes what the map's values are.
            new = value if new_key else _coerce(key, node[part], value, raw)
            problem = out_of_range(key, new)
            if problem:
                had = "no such key yet" if new_key else f"the recipe has {json.dumps(node[part])}"
                raise RecipeError(f"--set {key}={raw}: {problem} ({had})")
            node[part] = new
        else:
            node = node[part]


@functools.lru_cache(maxsize=1)
def ccnet_cutoff_table() -> dict:
    """cc_net's cutoff.csv (rows 30 and 60 per language) as it ships: the llama recipe's
    `quality.perplexity.cutoffs.given`, read from its file (never a --set or another recipe's copy)."""
    with open(os.path.join(DEFAULT_RECIPE_DIR, "quality.json"), encoding="utf-8") as f:
        given = json.load(f)["perplexity"]["cutoffs"]["given"]
    return {lang: pair for lang, pair in given.items() if not lang.startswith("_")}


def section(recipe: dict, name: str) -> dict:
    return copy.deepcopy(recipe.get(name, {}))


# ---------------------------------------------------------------- types and ranges (schema.json)
@functools.lru_cache(maxsize=1)
def schema() -> Tuple[Tuple[str, dict], ...]:
    with open(SCHEMA, encoding="utf-8") as f:
        return tuple((k, v) for k, v in json.load(f).items() if not k.startswith("_"))


def rule_for(path: str) -> Optional[dict]:
    """The first rule of schema.json whose pattern matches the dotted `path` (None: unchecked)."""
    return next((spec for pattern, spec in schema() if fnmatch.fnmatchcase(path, pattern)), None)


def leaves(node: Any, prefix: str = ""):
    """(dotted path, value) of every value of a recipe, `_doc` keys left out."""
    for key, value in node.items():
        if key.startswith("_"):
            continue
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and (rule_for(path) or {}).get("type") != "object":
            yield from leaves(value, path)
        else:
            yield path, value


_TYPES = {"int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          "bool": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str),
          "list": lambda v: isinstance(v, list), "object": lambda v: isinstance(v, dict)}
_NAMES = {"int": "an integer", "number": "a number", "bool": "true/false", "string": "a string",
          "list": "a JSON list", "object": "a JSON object"}


def describe(spec: dict) -> str:
    """A rule in words: 'a number in [0, 1]', 'an integer >= 1 or null', 'one of global, groups'."""
    kinds = spec["type"].split("|")
    text = " or ".join(_NAMES[k] for k in kinds if k != "null")
    if "choices" in spec:
        text = "one of " + ", ".join(map(str, spec["choices"]))
    lo = spec.get("min")
    above, hi = spec.get("above"), spec.get("max")
    if lo is not None and hi is not None:
        text += f" in [{lo:g}, {hi:g}]"
    elif above is not None and hi is not None:
        text += f" in ({above:g}, {hi:g}]"
    elif lo is not None:
        text += f" >= {lo:g}"
    elif above is not None:
        text += f" > {above:g}"
    elif hi is not None:
        text += f" <= {hi:g}"
    if "length" in spec:
        text += f" of {spec['length']} items"
    if "min_length" in spec:
        text += f" of at least {spec['min_length']} item{'s' if spec['min_length'] != 1 else ''}"
    sized = "length" in spec or "min_length" in spec
    if "items" in spec:
        text += f"{',' if sized else ''} whose items are each {describe(spec['items'])}"
    if "values" in spec:
        text += f" whose values are each {describe(spec['values'])}"
    return text + (" or null" if "null" in kinds else "")


def _violates(spec: dict, value: Any) -> bool:
    kinds = spec["type"].split("|")
    if value is None:
        return "null" not in kinds
    if not any(_TYPES[k](value) for k in kinds if k != "null"):
        return True
    if "choices" in spec and value not in spec["choices"]:
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if ("min" in spec and value < spec["min"]) or ("max" in spec and value > spec["max"]) or \
                ("above" in spec and value <= spec["above"]):
            return True
    if isinstance(value, list) and "length" in spec and len(value) != spec["length"]:
        return True
    if isinstance(value, list) and len(value) < spec.get("min_length", 0):
        return True
    if "items" in spec and isinstance(value, list):
        return any(_violates(spec["items"], item) for item in value)
    if "values" in spec and isinstance(value, dict):
        return any(_violates(spec["values"], v) for k, v in value.items() if not k.startswith("_"))
    return False


def out_of_range(path: str, value: Any) -> Optional[str]:
    """What is wrong with `value` at `path` ("must be a number in [0, 1]"), or None."""
    spec = rule_for(path)
    if spec is None or not _violates(spec, value):
        return None
    return f"{path} must be {describe(spec)}"


# ---------------------------------------------------------------- values that depend on each other
def _percentiles_in_order(recipe: dict) -> Optional[str]:
    c = recipe.get("quality", {}).get("perplexity", {}).get("cutoffs", {})
    head, middle = c.get("head_percentile"), c.get("middle_percentile")
    if head is not None and middle is not None and not head < middle:
        return (f"quality.perplexity.cutoffs.head_percentile={head:g} must be below middle_percentile={middle:g} "
                "(head: perplexity under the first, middle: under the second)")
    return None


def _given_cutoffs_in_order(recipe: dict) -> Optional[str]:
    given = recipe.get("quality", {}).get("perplexity", {}).get("cutoffs", {}).get("given", {})
    for lang, pair in sorted(given.items()):
        if not lang.startswith("_") and isinstance(pair, list) and len(pair) == 2 and not pair[0] < pair[1]:
            return (f"quality.perplexity.cutoffs.given.{lang}={json.dumps(pair)}: [HEAD, MIDDLE] with HEAD below "
                    "MIDDLE (head: perplexity < HEAD, middle: < MIDDLE)")
    return None


def _preset_exists(recipe: dict) -> Optional[str]:
    w = recipe.get("quality", {}).get("wikiref", {})
    if "settings" in w and w["settings"] not in w.get("presets", {}):
        return (f"quality.wikiref.settings={w['settings']}: not a preset; one of "
                f"{', '.join(sorted(w.get('presets', {})))} (quality.wikiref.presets)")
    return None


# Each: recipe → the one line that says what is wrong, or None.
CROSS_CHECKS = (_percentiles_in_order, _given_cutoffs_in_order, _preset_exists)
