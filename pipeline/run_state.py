"""OUT/run_state.json: what produced the folder's outputs, and whether that run finished.

    {"state": "running" | "complete", "sources": [...], "stages": [...], "done": [...],
     "keys": {stage: sha256}, "outputs": {stage: {file: {"bytes", "mtime"[, "sha256"]}}}}

`sources`: the sources of the curated output; `stages`: what the latest command asked for;
`done`: the stages finished since `curated/` was made, in pipeline order; `keys`: what each stage
was run from (`stage_keys`: the inputs with their sizes and times, the resolved recipe, the code
and package versions, and the key of the stage before it); `outputs`: what the tokenizer, tokenize
and mixture stages left when they finished, each file's size and time (and SHA-256 for a file under
HASH_BELOW bytes: the tokenizer, mixture.json). No time stamps of its own: two runs of the same
command write the same file but for those output times (and the inputs' times in `keys`).

Resuming (`resumable`): a command whose first stages are recorded done, with the same keys and
their outputs in place and unchanged, skips them (a Ctrl-C during tokenize costs the tokenize, not
hours of curation); the first stage whose key changed (another input, recipe or code) or whose
outputs changed since it finished runs, and so does every stage after it. An output is unchanged
when its size and time are the recorded ones, or, where only its time differs (a copied folder),
when its SHA-256 is the one recorded or the one mixture.json lists for a token shard; a file added
or missing is a change. `--fresh` runs every stage asked for.

Rules (`begin` at the start of every command, `finish` after each stage, `complete` at its end):
- a stage runs only on the outputs of finished earlier stages: `tokenizer` needs `curate` done,
  `tokenize` needs `tokenizer`, `mixture` needs `tokenize`; else it refuses with one line (a
  killed curate leaves `running` with nothing done, so nothing downstream mixes its half output
  with an older run's);
- running a stage first removes its own outputs and every later stage's (they describe the old
  input; stats.json excepted, rewritten whole by curation), then the temporary files a killed run
  left (`common.atomic.clean_stale`);
- a subset run (`--sources=c4`) into a folder whose `curated/` holds other sources refuses: the
  stats, tokenizer, tokens and mixture would describe two runs at once. Rerun every source that is
  there (or more), or use a new `--output`.
A folder without the file (made by hand, or by the stage functions called directly) is not checked.
"""
from __future__ import annotations

import hashlib
import json
import logging
import posixpath
from typing import Dict, List, Optional, Sequence

from apache_beam.io.filesystems import FileSystems

from common.cli import UsageError
from common import atomic
from tokenizer.shards import sha256_file  # FileSystems, the bytes as written (never decompressed)

FILE = "run_state.json"
ORDER = ("curate", "tokenizer", "tokenize", "mixture")
NEEDS = {"tokenizer": "curate", "tokenize": "tokenizer", "mixture": "tokenize"}
# What each stage writes, relative to OUT (curate's per-source folders are cleared by run.py).
OUTPUTS = {
    # stats.json stays until the run rewrites it: a later CommonCrawl dump keeps the earlier dumps'
    # entries from it (pipeline/dumps.py); while the state is `running` nothing downstream reads it.
    "curate": (),
    "tokenizer": ("tokenizer",),
    "tokenize": ("tokens",),
    "mixture": ("mixture.json",),
}
# Files whose size and time `finish` records (glob patterns relative to OUT), per stage.
FINGERPRINTED = {"curate": ("curated/**",), "tokenizer": ("tokenizer/**",), "tokenize": ("tokens/**",),
                 "mixture": ("mixture.json",)}
HASH_BELOW = 16 << 20       # a smaller output's SHA-256 is recorded too (token shards: mixture.json's)
log = logging.getLogger("pipeline")


class RunStateError(UsageError):
    """A one-line refusal (a UsageError: `pipeline.run` prints it as one line and exits 2)."""


def _path(out: str) -> str:
    return posixpath.join(out, FILE)


def read(out: str) -> Optional[Dict]:
    path = _path(out)
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as f:
        try:
            return json.loads(f.read().decode("utf-8"))
        except ValueError:
            return None  # never half-written (atomic), but a hand edit: treat as unknown


def _write(out: str, state: Dict) -> None:
    atomic.write_text(_path(out), json.dumps(state, indent=2, sort_keys=True) + "\n")


def curated_sources(out: str) -> List[str]:
    paths = [m.path for r in FileSystems.match([posixpath.join(out, "curated", "*", "*.parquet")]) for m in r.metadata_list]
    return sorted({posixpath.basename(posixpath.dirname(p.replace("\\", "/"))) for p in paths})


def _remove(out: str, rel: str) -> None:
    path = posixpath.join(out, rel)
    if FileSystems.exists(path):
        FileSystems.delete([path])


def stage_keys(stages: Sequence[str], facts: Dict[str, dict], old: Optional[Dict]) -> Dict[str, str]:
    """The key of each stage of `stages`: a digest of `facts[stage]` (what the stage reads beside
    the outputs of the stage before it) and of that stage's key (this command's, or the folder's
    for a stage this command does not run)."""
    keys: Dict[str, str] = {}
    previous = None
    old_keys = (old or {}).get("keys") or {}
    for stage in ORDER:
        if stage in stages:
            facts_json = json.dumps({"stage": stage, "after": previous, "facts": facts.get(stage, {})},
                                    sort_keys=True, default=str)
            previous = keys[stage] = hashlib.sha256(facts_json.encode("utf-8")).hexdigest()
        else:
            previous = old_keys.get(stage) if not keys else None
    return keys


def _outputs_present(out: str, stage: str, sources: Optional[Sequence[str]]) -> bool:
    if stage == "curate":
        path = posixpath.join(out, "stats.json")
        if not FileSystems.exists(path):
            return False
        with FileSystems.open(path) as f:
            recorded = json.loads(f.read().decode("utf-8")).get("sources", {})
        return set(sources or ()) <= set(recorded)
    where = {"tokenizer": "tokenizer/tokenizer.model", "tokenize": "tokens", "mixture": "mixture.json"}[stage]
    return FileSystems.exists(posixpath.join(out, where))


def fingerprint(out: str, stage: str, hashed: bool = True) -> Dict[str, dict]:
    """{path relative to OUT: {"bytes", "mtime"[, "sha256"]}} of the files `stage` wrote (`hashed`:
    with the SHA-256 of those under HASH_BELOW)."""
    prefix = posixpath.join(out, "")
    found = {}
    for result in FileSystems.match([posixpath.join(out, p) for p in FINGERPRINTED.get(stage, ())]):
        for m in result.metadata_list:
            rel = m.path[len(prefix):] if m.path.startswith(prefix) else m.path
            if atomic.is_stale(posixpath.basename(rel)):
                continue
            found[rel] = {"bytes": m.size_in_bytes, "mtime": m.last_updated_in_seconds}
            if hashed and m.size_in_bytes < HASH_BELOW:
                found[rel]["sha256"] = sha256_file(m.path)
    return dict(sorted(found.items()))


def _listed_digests(out: str) -> Dict[str, str]:
    """{token file relative to OUT: SHA-256} as OUT/mixture.json lists them (empty without it)."""
    path = posixpath.join(out, "mixture.json")
    if not FileSystems.exists(path):
        return {}
    with FileSystems.open(path) as f:
        try:
            mixture = json.loads(f.read().decode("utf-8"))
        except ValueError:
            return {}
    return {shard[kind]: shard[f"sha256_{kind}"] for entry in mixture.get("sources", {}).values()
            for shard in entry.get("shards", []) for kind in ("bin", "idx") if shard.get(f"sha256_{kind}")}


def outputs_changed(out: str, stage: str, recorded: Optional[Dict[str, dict]]) -> Optional[str]:
    """Why `stage`'s outputs are not the ones it left when it finished (None: they are, or nothing
    was recorded: a folder from before the record)."""
    if recorded is None:
        return None
    now = fingerprint(out, stage, hashed=False)  # a file is read only when its time differs
    listed = None
    for rel in sorted(set(recorded) | set(now)):
        if rel not in now:
            return f"{rel} is gone"
        if rel not in recorded:
            return f"{rel} was added"
        old, new = recorded[rel], now[rel]
        if old["bytes"] != new["bytes"]:
            return f"{rel} changed size ({old['bytes']:,} -> {new['bytes']:,} bytes)"
        if old["mtime"] != new["mtime"]:   # a copy keeps the bytes; a rewrite may not
            if old.get("sha256") is None and listed is None:
                listed = _listed_digests(out)
            want = old.get("sha256") or listed.get(rel)
            if want is None:
                return f"{rel} was rewritten (another time, and no SHA-256 recorded to compare)"
            if sha256_file(posixpath.join(out, rel)) != want:
                return f"{rel} changed (its SHA-256 is not the recorded one)"
    return None


def resumable(out: str, stages: Sequence[str], sources: Optional[Sequence[str]], keys: Dict[str, str]) -> List[str]:
    """The first stages of `stages` that OUT records done with these keys, outputs in place and
    unchanged: the ones a rerun after an interruption skips."""
    old = read(out)
    if not old:
        return []
    done, old_keys, outputs = old.get("done", []), old.get("keys") or {}, old.get("outputs") or {}
    skip = []
    for stage in [s for s in ORDER if s in stages]:
        if stage in done and old_keys.get(stage) == keys.get(stage) is not None and _outputs_present(out, stage, sources):
            why = outputs_changed(out, stage, outputs.get(stage))
            if why is None:
                skip.append(stage)
                continue
            log.warning("%s: runs again: its output changed since %s recorded it done: %s", stage, FILE, why)
        break
    return skip


def begin(out: str, stages: Sequence[str], sources: Optional[Sequence[str]], keys: Optional[Dict[str, str]] = None,
          asked: Optional[Sequence[str]] = None) -> Dict:
    """Check the rules above for a command running `stages` (`sources` when it curates), mark
    the folder running, remove what the command will rewrite and stale temporary files.
    `keys` (`stage_keys`) are recorded for `resumable`; `asked`: every stage of the command, the
    ones it skips (`resumable`) included (default `stages`)."""
    stages = [s for s in ORDER if s in stages]
    if not stages:
        return read(out) or {}
    old = read(out)
    if "curate" in stages:
        others = [s for s in curated_sources(out) if s not in set(sources or ())]
        if others:
            raise RunStateError(
                f"--sources={','.join(sources or ())}: {out}/curated already holds {', '.join(others)} from another run, "
                f"and a subset run would leave stats, tokenizer, tokens and mixture describing two runs; "
                f"add them (--sources={','.join(sorted(set(sources or ()) | set(others)))}) or use a new --output")
        done: List[str] = []
        curated = sorted(sources or ())
    else:
        if old is None:
            done, curated = [], curated_sources(out)
        else:
            first = ORDER.index(stages[0])
            done = [s for s in old.get("done", []) if ORDER.index(s) < first]
            curated = old.get("sources", [])
        need = NEEDS.get(stages[0])
        if old is not None and need and need not in done:
            raise RunStateError(
                f"--stages={','.join(stages)}: {out} has no finished '{need}' stage since its curated output was made "
                f"({FILE}: {old.get('state')}, done {old.get('done', [])}); run --stages={need} first "
                f"(or the whole job) so that no stage mixes outputs of two runs")
    first = ORDER.index(stages[0])
    for stage in ORDER[first:]:
        for rel in OUTPUTS[stage]:
            _remove(out, rel)
    stale = atomic.clean_stale(out)
    if stale:
        log.info("removed %d temporary files a killed run left: %s", len(stale), ", ".join(stale[:5]))
    state = {"state": "running", "sources": curated, "stages": [s for s in ORDER if s in (asked or stages)], "done": done}
    if keys is not None:
        old_keys = (old or {}).get("keys") or {}
        state["keys"] = {**{s: old_keys[s] for s in done if s in old_keys}, **{s: keys[s] for s in stages if s in keys}}
    old_outputs = (old or {}).get("outputs") or {}
    if any(s in old_outputs for s in done):
        state["outputs"] = {s: old_outputs[s] for s in done if s in old_outputs}
    _write(out, state)
    return state


def finish(out: str, stage: str) -> Dict:
    """Record `stage` as done, with what it left (`fingerprint`; the folder stays `running` until
    `complete`)."""
    state = read(out) or {"state": "running", "sources": curated_sources(out), "stages": [stage], "done": []}
    done = [s for s in state.get("done", []) if s != stage] + [stage]
    state["done"] = [s for s in ORDER if s in done]
    if stage in FINGERPRINTED:
        outputs = state.get("outputs") or {}
        outputs[stage] = fingerprint(out, stage)
        state["outputs"] = {s: outputs[s] for s in ORDER if s in outputs}
    _write(out, state)
    return state


def complete(out: str) -> Dict:
    """At the very end of a command (after its report too): `complete` if every stage asked for is done."""
    state = read(out) or {}
    if state and all(s in state.get("done", []) for s in state.get("stages", [])):
        state["state"] = "complete"
        _write(out, state)
    return state


def require(out: str, stage: str) -> None:
    """Refuse `stage` unless the stage it reads was finished since the curated output was made."""
    state = read(out)
    need = NEEDS.get(stage)
    if state is None or need is None or need in state.get("done", []):
        return
    raise RunStateError(f"--stages: '{stage}' needs a finished '{need}' stage in {out} ({FILE}: done "
                        f"{state.get('done', [])}); add --stages={need}")
