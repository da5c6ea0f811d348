"""A trainer output folder that stands on its own: checkpoints that prove their integrity, the one
before kept, and what the model was trained on.

    OUT/checkpoint.pt        torch.save's zip; its zip comment is `llamadata-sha256:<hex>`, the SHA-256
                             of every byte before it (any zip reader and torch.load still read it)
    OUT/checkpoint.prev.pt   the checkpoint it replaced (one previous checkpoint is kept)
    OUT/train.json           the record: data folder, mixture.json and tokenizer SHA-256, model, plan

`load` verifies the checksum before torch reads a byte: a corrupt or truncated checkpoint is
refused in one line that names the previous checkpoint when that one verifies. `data_folder` gives
eval and export the folder a checkpoint was trained on, or checks that the one given is it (same
mixture.json, same tokenizer). torch and common/ only: train.py, eval.py and export.py share it.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Optional

import torch

from common import atomic
from common.cli import UsageError
from common.digest import CHUNK, file_sha256  # noqa: F401  (file_sha256: also this module's API)

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
RECORD = "train.json"
RECORD_FORMAT = "llamadata-train/1"
MAGIC = b"llamadata-sha256:"
TRAILER = len(MAGIC) + 64            # the zip comment: MAGIC + 64 hex digits
EOCD = b"PK\x05\x06"                 # zip end-of-central-directory record, 22 bytes + comment
EOCD_SIZE = 22


class CheckpointError(UsageError):
    """A checkpoint that does not verify: one line, exit 2 (what to do is in the message)."""


def _seal(f) -> str:
    """Make torch.save's zip in the open file `f` carry its checksum as the zip comment; returns the digest."""
    f.flush()
    f.seek(-EOCD_SIZE, os.SEEK_END)
    eocd = f.read(EOCD_SIZE)
    if eocd[:4] != EOCD or eocd[20:22] != b"\0\0":
        raise RuntimeError(f"{f.name}: torch.save did not end with a comment-free zip record")
    f.seek(-2, os.SEEK_END)
    f.write(struct.pack("<H", TRAILER))
    f.seek(0)
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(CHUNK), b""):
        h.update(chunk)
    f.seek(0, os.SEEK_END)
    f.write(MAGIC + h.hexdigest().encode())
    f.flush()
    os.fsync(f.fileno())
    return h.hexdigest()


def save(path, obj: dict, keep_previous: bool = True) -> str:
    """torch.save `obj` to `path` through common.atomic's temporary name, sealed with its SHA-256;
    the file it replaces becomes PREVIOUS (a hard link first, so `path` is never missing). Returns
    the digest."""
    path = os.fspath(path)
    with atomic.writing(path, "w+b") as f:
        torch.save(obj, f)
        digest = _seal(f)
        if keep_previous and os.path.exists(path):
            prev = os.path.join(os.path.dirname(path), PREVIOUS)
            link = atomic.temp_name(prev)
            try:
                os.link(path, link)
            except OSError:           # no hard links here: rename (path is briefly absent)
                os.replace(path, prev)
            else:
                os.replace(link, prev)
    return digest


def sealed_digest(path) -> tuple[Optional[str], str]:
    """(the SHA-256 the checkpoint at `path` was sealed with, as its trailer says; or None and why
    it has none). Read from its last bytes: cheap, and not a verification (`problem` is)."""
    path = Path(path)
    if not path.is_file():
        return None, "missing"
    size = path.stat().st_size
    if size < EOCD_SIZE + TRAILER:
        return None, f"truncated ({size} bytes)"
    with open(path, "rb") as f:
        f.seek(size - TRAILER - EOCD_SIZE)
        tail = f.read()
    eocd, comment = tail[:EOCD_SIZE], tail[EOCD_SIZE:]
    if not comment.startswith(MAGIC) or eocd[:4] != EOCD or struct.unpack("<H", eocd[20:22])[0] != TRAILER:
        return None, "truncated, or not written by this trainer (no checksum at its end)"
    return comment[len(MAGIC):].decode("ascii", "replace"), ""


def problem(path) -> Optional[str]:
    """Why the checkpoint at `path` cannot be trusted, or None when its checksum verifies."""
    want, why = sealed_digest(path)
    if want is None:
        return why
    if file_sha256(path, Path(path).stat().st_size - TRAILER) != want:
        return "corrupt (its bytes do not match the SHA-256 it was saved with)"
    return None


def step_of(path) -> Optional[int]:
    """The step a checkpoint holds, read without loading its tensors (None when torch cannot read it)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False, mmap=True).get("step")
    except Exception:
        return None


def _previous_hint(path: Path) -> str:
    prev = path.with_name(PREVIOUS)
    if prev == path or problem(prev) is not None:
        return "no good previous checkpoint is kept beside it"
    step = step_of(prev)
    return f"the previous checkpoint {prev} (step {'?' if step is None else step}) verifies: copy it over {path.name} to go back to it"


def load(path, flag: str = "checkpoint") -> dict:
    """The verified checkpoint at `path` (CPU tensors); a CheckpointError naming the fix otherwise."""
    path = Path(path)
    why = problem(path)
    if why is not None:
        raise CheckpointError(f"{flag}: {path} is {why}; {_previous_hint(path)}")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:      # verified bytes that torch cannot read: not ours to guess why
        raise CheckpointError(f"{flag}: {path} verifies but torch cannot read it ({type(e).__name__}: "
                              f"{str(e).splitlines()[0] if str(e) else ''})") from None


def folder_files(folder) -> list[str]:
    """Relative names of every file under `folder` (a sharded FSDP checkpoint), sorted."""
    folder = Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def folder_digests(folder) -> dict:
    """{relative name: SHA-256} of every file under `folder`."""
    return {name: file_sha256(Path(folder) / name) for name in folder_files(folder)}


# --------------------------------------------------------------------------------------------
# What a checkpoint was trained on
# --------------------------------------------------------------------------------------------
def data_record(data_dir) -> dict:
    """The data folder's identity: where it is, its mixture.json's and tokenizer's SHA-256."""
    data_dir = Path(data_dir)
    mixture = json.loads((data_dir / "mixture.json").read_text())
    tokenizer = data_dir / mixture["tokenizer"]
    return {"folder": str(data_dir.resolve()), "mixture_sha256": file_sha256(data_dir / "mixture.json"),
            "tokenizer": mixture["tokenizer"], "tokenizer_sha256": file_sha256(tokenizer) if tokenizer.is_file() else None,
            "vocab_size": int(mixture["vocab_size"])}


def write_record(out, record: dict) -> None:
    atomic.write_text(str(Path(out) / RECORD), json.dumps({"format": RECORD_FORMAT, **record}, indent=2) + "\n")


def read_record(out) -> Optional[dict]:
    path = Path(out) / RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def data_folder(trained_on: dict, given: Optional[str], source: Path, flag: str = "--data") -> Path:
    """The data folder a checkpoint was trained on: `given` when its mixture.json and tokenizer are
    the recorded ones, else the recorded folder; one line naming the fix when neither holds."""
    recorded = trained_on.get("folder")
    if not trained_on.get("mixture_sha256"):
        raise UsageError(f"{source} records no data folder (written by an older trainer); retrain, or export "
                         "from a checkpoint that does")
    folder = Path(given) if given else Path(recorded)
    if not (folder / "mixture.json").is_file():
        if given:
            raise UsageError(f"{flag} {given}: no mixture.json there; {source} was trained on {recorded} "
                             f"(leave {flag} out to use it)")
        raise UsageError(f"the data folder {source} was trained on, {recorded}, is gone (no mixture.json); "
                         f"pass {flag} with the folder that holds that mixture.json "
                         f"(SHA-256 {trained_on['mixture_sha256'][:16]}…)")
    why = _differs(folder, trained_on, source)
    if why is None:
        return folder
    elsewhere = f"pass {flag} with a folder that holds the ones it was trained on"
    if not given:
        raise UsageError(f"the data folder {source} was trained on, {recorded}: {why}: it changed since; restore it, "
                         f"or {elsewhere}")
    if folder.resolve() == Path(recorded).resolve():
        raise UsageError(f"{flag} {given}: {why}: the folder changed since; restore it, or {elsewhere}")
    fix = (f"leave {flag} out to use {recorded}" if (Path(recorded) / "mixture.json").is_file()
           and _differs(Path(recorded), trained_on, source) is None else elsewhere)
    raise UsageError(f"{flag} {given}: {why} (trained in {recorded}); {fix}")


def _differs(folder: Path, trained_on: dict, source: Path) -> Optional[str]:
    """How `folder`'s mixture.json or tokenizer differs from the recorded ones (None: they match)."""
    ours = data_record(folder)
    for what, key in (("mixture.json", "mixture_sha256"), ("tokenizer", "tokenizer_sha256")):
        if ours[key] != trained_on.get(key):
            shown = (f"{ours['tokenizer']} " if key == "tokenizer_sha256" else "")
            return (f"its {what} {shown}is not the one {source} was trained on (SHA-256 "
                    f"{str(ours[key])[:16]}…, trained on {str(trained_on.get(key))[:16]}…)")
    return None


def locate(path, flag: str) -> tuple[Path, Path]:
    """(output folder, checkpoint file) from a trainer --out folder or a checkpoint file in one."""
    path = Path(path)
    if path.is_file():
        return path.parent, path
    if not path.exists():
        raise UsageError(f"{flag} {path}: no such folder; give train.py's --out folder")
    if (path / CHECKPOINT).is_file() or (path / PREVIOUS).is_file():
        return path, path / CHECKPOINT
    raise UsageError(f"{flag} {path}: no {CHECKPOINT} there; give train.py's --out folder")
