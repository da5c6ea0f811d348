"""The Dataflow worker image checked without a Docker engine (`make check-image`).

    python scripts/check_image.py          parse the Dockerfile, then build its builder stage's
                                           install in a fresh virtualenv standing in for the image's
                                           Python (minutes: every pip package + the KenLM build)
    python scripts/check_image.py --parse  only the parse (what tests/test_dataflow_image.py runs)

The install step copies the files the Dockerfile COPYs into a scratch /opt/llamadata, runs the
same `scripts/setup.sh --system` with the fresh environment's python3 first on PATH, then runs
what the image's last RUN runs (`build_binary --help`) and, from outside the tree with
PYTHONPATH as the image sets it, imports every stage a worker runs and translates one source's
graph, so a missing COPY or dependency shows.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_dockerfile(path: str) -> List[Dict]:
    """Instructions as {"op", "args", "stage"}: line continuations joined, comments dropped, ARG
    defaults substituted into FROM (as docker does for ARGs declared before the first FROM)."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"\\\n", " ", f.read())
    args: Dict[str, str] = {}
    out, stage = [], -1
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        op = op.upper()
        if op == "ARG" and stage < 0:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        if op == "FROM":
            stage += 1
            rest = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), rest)
        out.append({"op": op, "args": rest.strip(), "stage": stage, "global_args": dict(args)})
    return out


def copies(instructions: List[Dict], stage: int) -> List[tuple]:
    """(sources, destination) of each COPY of the build context (not --from) in `stage`."""
    result = []
    for ins in instructions:
        if ins["op"] == "COPY" and ins["stage"] == stage and "--from" not in ins["args"]:
            parts = shlex.split(ins["args"])
            result.append((parts[:-1], parts[-1]))
    return result


def workdir(instructions: List[Dict], stage: int) -> str:
    dirs = [i["args"] for i in instructions if i["op"] == "WORKDIR" and i["stage"] == stage]
    return dirs[-1] if dirs else "/"


def stage_context(instructions: List[Dict], stage: int, dest_root: str) -> str:
    """Copy what `stage` COPYs from the build context under `dest_root` (its WORKDIR inside)."""
    wd = workdir(instructions, stage)
    for sources, dest in copies(instructions, stage):
        target = os.path.join(dest_root, os.path.join(wd, dest).lstrip("/"))
        for src in sources:
            full = os.path.join(ROOT, src)
            if os.path.isdir(full):
                shutil.copytree(full, os.path.join(target, "") if dest.endswith("/") else target,
                                dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                os.makedirs(target if dest.endswith("/") else os.path.dirname(target), exist_ok=True)
                shutil.copy2(full, os.path.join(target, os.path.basename(src)) if dest.endswith("/") else target)
    return os.path.join(dest_root, wd.lstrip("/"))


WORKER_SMOKE = """
import apache_beam as beam, sys
from pipeline import recipe, inputs, stages, sinks, stats, quality
from pipeline.sources import SOURCE_NAMES, module_for
from filters import langid, perplexity, wikiref
from tokenizer import beam_tokenize
import kenlm, fasttext, sentencepiece
for name in SOURCE_NAMES:
    module_for(name)
p = beam.Pipeline(runner="FnApiRunner")
docs, events = p | module_for("books").Source([sys.argv[1]], recipe.load())
p.run().wait_until_finish()
print("worker smoke: ok")
"""


def install_check() -> int:
    instructions = parse_dockerfile(os.path.join(ROOT, "Dockerfile"))
    scratch = tempfile.mkdtemp(prefix="llamadata-image-")
    try:
        subprocess.run([sys.executable, "-m", "venv", os.path.join(scratch, "python")], check=True)
        bin_dir = os.path.join(scratch, "python", "bin")
        ctx = stage_context(instructions, 0, os.path.join(scratch, "root"))
        env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])
        env.pop("VIRTUAL_ENV", None)
        run = [i["args"] for i in instructions if i["op"] == "RUN" and i["stage"] == 0][0]
        setup = run.split("&&")[0].strip()
        print(f"check-image: {setup} in {ctx} (python3 = {bin_dir}/python3)", flush=True)
        subprocess.run(setup, shell=True, cwd=ctx, env=env, check=True)
        usage = subprocess.run([os.path.join(bin_dir, "build_binary"), "--help"], capture_output=True, text=True)
        assert "Usage" in usage.stdout + usage.stderr, "build_binary does not run"
        assert os.access(os.path.join(bin_dir, "lmplz"), os.X_OK), "lmplz missing beside python3"
        book = os.path.join(ROOT, "samples", "books", "pg90001.txt")
        subprocess.run([os.path.join(bin_dir, "python"), "-c", WORKER_SMOKE, book], cwd="/",
                       env=dict(env, PYTHONPATH=ctx), check=True)
        print("check-image: ok")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    parsed = parse_dockerfile(os.path.join(ROOT, "Dockerfile"))
    for ins in parsed:
        if ins["op"] in ("FROM", "RUN", "ENTRYPOINT"):
            print(ins["stage"], ins["op"], ins["args"][:100])
    if "--parse" not in sys.argv:
        sys.exit(install_check())
