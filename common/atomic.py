"""Every output file appears whole or not at all: written under a temporary name beside its final
one, then renamed over it (`os.replace` locally: atomic; on object stores delete + rename, the
final name never holds a partial file). A killed run leaves only temporary names, which
`clean_stale` removes at the start of the next run.

The one tmp-and-rename of the project: `pipeline/`, `tokenizer/`, `filters/` and `train_hooks/` all
write through it. Beam is imported only for paths that are not local, so the trainer runs where
Beam is not installed.
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import uuid
from typing import List

TMP_TAG = ".tmp-"
# Temporary names this project (and Beam's file sinks) leave when killed.
_STALE = re.compile(r"(^\..*\.tmp(-[0-9a-f]+)?$)|(\.tmp-[0-9a-f]{32}$)|(^beam-temp-)")


def is_local(path: str) -> bool:
    return "://" not in path


def temp_name(path: str) -> str:
    """A unique temporary name in the same folder (a rename never crosses file systems)."""
    folder, base = posixpath.split(path) if not is_local(path) else os.path.split(path)
    return (posixpath.join if not is_local(path) else os.path.join)(folder, f".{base}{TMP_TAG}{uuid.uuid4().hex}")


def _filesystems():
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def replace(tmp: str, path: str) -> None:
    """Move the finished `tmp` onto `path`."""
    if is_local(path):
        os.replace(tmp, path)
        return
    FileSystems = _filesystems()
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


def write_bytes(path: str, data: bytes) -> None:
    if is_local(path):
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
    tmp = temp_name(str(path))
    if is_local(str(path)):
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return
    from apache_beam.io.filesystem import CompressionTypes

    FileSystems = _filesystems()
    try:
        with FileSystems.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            f.write(data)
        replace(tmp, path)
    except BaseException:
        if FileSystems.exists(tmp):
            FileSystems.delete([tmp])
        raise


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def writing(path, mode: str = "wb", **open_kw):
    """`with writing(path) as f:` a local file opened under a temporary name, renamed onto `path`
    when the block ends without an exception; removed when it raises (torch.save, json.dump...)."""
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, mode, **open_kw) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def copy_file(src, dst) -> None:
    """Copy a local file onto `dst` through a temporary name."""
    with open(src, "rb") as fin, writing(dst) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


def is_stale(name: str) -> bool:
    return bool(_STALE.search(name))


def clean_stale(out_dir: str) -> List[str]:
    """Remove the temporary files and folders a killed run left under `out_dir`; returns them."""
    found: List[str] = []
    if is_local(out_dir):
        if not os.path.isdir(out_dir):
            return found
        for folder, dirs, files in os.walk(out_dir):
            for d in list(dirs):
                if is_stale(d):
                    found.append(os.path.join(folder, d))
                    dirs.remove(d)
            found.extend(os.path.join(folder, f) for f in files if is_stale(f))
        for path in found:
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        return sorted(found)
    FileSystems = _filesystems()
    for depth in range(1, 4):
        pattern = posixpath.join(out_dir, *(["*"] * depth))
        for result in FileSystems.match([pattern]):
            found.extend(m.path for m in result.metadata_list if is_stale(posixpath.basename(m.path)))
    if found:
        FileSystems.delete(found)
    return sorted(found)
