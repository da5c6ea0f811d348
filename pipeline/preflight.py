"""Checks before any stage starts, and between stages: a user's mistake as a `UsageError` that names
the option and the fix, instead of a traceback from deep inside Beam or the tokenizer.
"""
from __future__ import annotations

import json
import posixpath
from typing import Dict, List

from apache_beam.io.filesystems import FileSystems

from common import fetch
from common.cli import UsageError, closest
from pipeline.options import STAGES
from pipeline.sources import SOURCE_NAMES

SPECIAL_INPUTS = ("bigquery",)  # --github_input=bigquery[:dataset]: not a file


def split_list(value: str) -> List[str]:
    return [s.strip() for s in (value or "").split(",") if s.strip()]


def check_choices(option: str, given: List[str], choices) -> None:
    if not given:
        raise UsageError(f"--{option} is empty; choose one or more of {','.join(choices)}")
    for name in given:
        if name not in choices:
            hint = closest(name, choices)
            fix = f"did you mean {hint}?" if hint else f"choose from {','.join(choices)}"
            raise UsageError(f"--{option}: unknown {option[:-1]} {name!r}; {fix}")


def sources(value: str) -> List[str]:
    names = split_list(value)
    check_choices("sources", names, SOURCE_NAMES)
    return names


def stages(value: str) -> List[str]:
    """The stages asked for, checked before anything runs: known names, each once, in pipeline order
    and without a gap (each stage reads the one before it: `curate,mixture` would plan tokens
    that were never made)."""
    names = split_list(value)
    check_choices("stages", names, STAGES)
    given = ",".join(names)
    twice = sorted({n for n in names if names.count(n) > 1}, key=STAGES.index)
    if twice:
        raise UsageError(f"--stages={given}: {', '.join(twice)} given twice; "
                         f"give each stage once: --stages={','.join(s for s in STAGES if s in names)}")
    first, last = STAGES.index(min(names, key=STAGES.index)), STAGES.index(max(names, key=STAGES.index))
    whole = list(STAGES[first:last + 1])
    if names != sorted(names, key=STAGES.index):
        raise UsageError(f"--stages={given}: stages run in the order {','.join(STAGES)}; "
                         f"give --stages={','.join(whole)}")
    missing = [s for s in whole if s not in names]
    if missing:
        raise UsageError(f"--stages={given}: {','.join(missing)} missing between them (each stage reads the "
                         f"one before it); give --stages={','.join(whole)}")
    return names


def is_special(pattern: str) -> bool:
    return any(pattern == s or pattern.startswith(s + ":") for s in SPECIAL_INPUTS)


def check_scheme(option: str, pattern: str) -> None:
    """A path with a scheme no Beam filesystem reads (`file://`, `s3://` without Beam's aws extra)
    is the user's mistake: one line now, not a traceback from every worker later."""
    if fetch.is_url(pattern) or "://" not in pattern:
        return
    scheme = pattern.split("://", 1)[0]
    try:
        FileSystems.get_filesystem(pattern)
    except ValueError:
        fix = (f"give the local path itself ({pattern[len('file://'):]})" if scheme == "file" else
               "use a local path, http(s)://, gs:// or install the Beam extra that reads it (e.g. apache-beam[aws] for s3://)")
        raise UsageError(f"{option}={pattern}: no filesystem here reads {scheme}:// paths; {fix}") from None


def check_regular(option: str, pattern: str, path: str) -> None:
    """A FIFO, device or socket matched by a local pattern would block or never end: refused."""
    from pipeline.inputs import special_kind

    kind = special_kind(path)
    if kind:
        raise UsageError(f"{option}={pattern}: {path} is {kind}, not a regular file (reading it could wait or run "
                         f"forever); remove it or narrow the pattern")


def input_files(name: str, patterns: List[str], given: bool) -> List[Dict]:
    """Every file the patterns match, with its size: a local pattern that matches nothing, a
    FIFO or device it matches, a scheme no filesystem reads, are the user's mistakes (a typo, an
    unquoted glob); URLs and remote filesystems are checked by the readers, which count what they
    cannot read as `bad_input:*`."""
    files = []
    for pattern in patterns:
        check_scheme(f"--{name}_input", pattern)
        if fetch.is_url(pattern) or is_special(pattern) or "://" in pattern:
            # gs:// and other remote file systems are matched on the workers (pipeline.inputs): the
            # launcher of a Dataflow job need not reach the bucket.
            files.append({"path": pattern, "bytes": None})
            continue
        local = True
        try:
            matched = [m for r in FileSystems.match([pattern]) for m in r.metadata_list]
        except Exception as e:  # an unreachable filesystem: the readers will count it
            if local:
                raise UsageError(f"--{name}_input={pattern}: cannot list it ({e})") from None
            files.append({"path": pattern, "bytes": None, "error": f"{type(e).__name__}: {e}"})
            continue
        if not matched and local:
            where = f"--{name}_input={pattern}" if given else f"the bundled sample {pattern}"
            raise UsageError(f"{where}: matches no file; check the path (quote a glob so the shell leaves it "
                             f"alone) or leave the flag out to read samples/{name}/")
        for m in sorted(matched, key=lambda m: m.path):
            check_regular(f"--{name}_input", pattern, m.path)
        # The time too: a rerun skips curation only for unchanged inputs (pipeline/run_state.py).
        files.extend({"path": m.path, "bytes": m.size_in_bytes, "mtime": m.last_updated_in_seconds}
                     for m in sorted(matched, key=lambda m: m.path))
    return files


def curated_files(output: str) -> List[str]:
    # curated/<source>/ and a source's partitions, curated/commoncrawl/<dump>/ (pipeline/dumps.py)
    patterns = [posixpath.join(output, "curated", "*", "*.parquet"), posixpath.join(output, "curated", "*", "*", "*.parquet")]
    return sorted(m.path for r in FileSystems.match(patterns) for m in r.metadata_list)


def require(output: str, stage: str, earlier: List[str]) -> None:
    """What `stage` reads must be in OUTPUT: else name the earlier stage to run."""
    needs = {"tokenizer": ("curated Parquet shards (curated/<source>/*.parquet)", "curate"),
             "tokenize": ("tokenizer (tokenizer/tokenizer.model)", "tokenizer"),
             "mixture": ("token shards (tokens/<source>/*.bin)", "tokenize")}
    what, before = needs[stage]
    if stage == "tokenizer" or stage == "tokenize":
        if not curated_files(output):
            raise UsageError(f"--stages={stage}: --output={output} holds no curated Parquet shards; run the curate "
                             f"stage first (--stages={','.join(STAGES[:STAGES.index(stage) + 1])}) or point --output "
                             f"at a finished run")
    if stage == "tokenize" and not FileSystems.exists(posixpath.join(output, "tokenizer", "tokenizer.model")):
        raise UsageError(f"--stages=tokenize: --output={output} holds no {what}; run --stages=tokenizer,tokenize")
    if stage == "mixture":
        if not FileSystems.exists(posixpath.join(output, "tokenizer", "tokenizer.model")):
            raise UsageError(f"--stages=mixture: --output={output} holds no tokenizer (tokenizer/tokenizer.model); "
                             "run --stages=tokenizer,tokenize,mixture")
        bins = [m for r in FileSystems.match([posixpath.join(output, "tokens", "*", "*.bin"),
                                              posixpath.join(output, "tokens", "*", "*", "*.bin")]) for m in r.metadata_list]
        if not bins:
            raise UsageError(f"--stages=mixture: --output={output} holds no {what}; run --stages=tokenize,mixture")


def require_documents(output: str, stats: dict) -> None:
    """After curation: a run where every document was dropped has nothing to train a tokenizer on."""
    kept = sum(s["docs_out"] for s in stats["sources"].values())
    if kept:
        return
    parts = []
    for name, s in sorted(stats["sources"].items()):
        top = sorted(s["dropped"].items(), key=lambda kv: -kv[1])[:2]
        parts.append(f"{name} {s['docs_in']} in, 0 out" + (f" ({', '.join(f'{r} {n}' for r, n in top)})" if top else ""))
    raise UsageError(f"no document survived curation ({'; '.join(parts)}): nothing to tokenize; loosen the recipe "
                     f"(--set …) or check the inputs, then rerun (see {posixpath.join(output, 'stats.json')})")


def read_stats(output: str) -> dict:
    with FileSystems.open(posixpath.join(output, "stats.json")) as f:
        return json.loads(f.read().decode("utf-8"))
