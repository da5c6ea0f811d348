"""Token shards: where they live, how they are written, how they are read back.

Layout (docs/ARCHITECTURE.md): `tokens/<source>/part-NNNNN-of-MMMMM.bin` holds little-endian uint16
token ids; the `.idx` beside it holds n_docs + 1 little-endian uint64 offsets into the `.bin`
(first 0, last = tokens in the `.bin`); every document ends with the EOS id. Both memory-map with
`numpy.memmap`. Token shard i of n of a source is made from the i-th of its n curated Parquet files
in sorted order, so names depend on the curated input alone.

Paths go through Beam's `FileSystems`, so OUT may be local or `gs://`.
"""
from __future__ import annotations

import hashlib
import posixpath
from typing import Dict, Iterator, List, NamedTuple, Tuple

import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from common import atomic

TOKEN_DTYPE = np.dtype("<u2")
OFFSET_DTYPE = np.dtype("<u8")
_HASH_CHUNK = 1 << 22


class ShardRef(NamedTuple):
    """One unit of tokenization: curated Parquet file → token shard (paths absolute; rel* relative to OUT)."""
    source: str
    curated: str
    bin: str
    idx: str
    rel_bin: str
    rel_idx: str


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts)


def open_read(path: str):
    """A binary stream of any Beam FileSystem path, never decompressed by extension."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def create(path: str):
    return FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)


def shard_name(index: int, count: int) -> str:
    return f"part-{index:05d}-of-{count:05d}"


def match(pattern: str) -> List[str]:
    return sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)


def _rel_parts(out_dir: str, path: str) -> List[str]:
    """`path` below OUT/curated/, as its parts."""
    base = join(out_dir, "curated").replace("\\", "/").rstrip("/") + "/"
    return path.replace("\\", "/")[len(base):].split("/")


def curated_sources(out_dir: str) -> List[str]:
    """Names of the sources with at least one curated Parquet file (in their folder, or in a
    partition folder below it: `curated/commoncrawl/<dump>/`), sorted."""
    paths = match(join(out_dir, "curated", "*", "*.parquet")) + match(join(out_dir, "curated", "*", "*", "*.parquet"))
    return sorted({_rel_parts(out_dir, p)[0] for p in paths})


def _refs(out_dir: str, source: str, rel: str) -> List[ShardRef]:
    """Shard i of n of a folder `curated/<rel>/` → `tokens/<rel>/part-i-of-n`."""
    curated = match(join(out_dir, "curated", *rel.split("/"), "*.parquet"))
    refs = []
    for i, path in enumerate(curated):
        name = shard_name(i, len(curated))
        rel_bin, rel_idx = f"tokens/{rel}/{name}.bin", f"tokens/{rel}/{name}.idx"
        refs.append(ShardRef(source, path, join(out_dir, rel_bin), join(out_dir, rel_idx), rel_bin, rel_idx))
    return refs


def shard_refs(out_dir: str, source: str) -> List[ShardRef]:
    """A source's shards: its folder's, then each partition folder's (a CommonCrawl dump), sorted."""
    nested = match(join(out_dir, "curated", source, "*", "*.parquet"))
    partitions = sorted({_rel_parts(out_dir, p)[1] for p in nested})
    return _refs(out_dir, source, source) + [r for part in partitions for r in _refs(out_dir, source, f"{source}/{part}")]


def all_shard_refs(out_dir: str) -> List[ShardRef]:
    return [ref for source in curated_sources(out_dir) for ref in shard_refs(out_dir, source)]


def token_files(out_dir: str, source: str) -> List[str]:
    """Every .bin/.idx now under tokens/<source>/ or a partition of it (stale shards of an earlier run)."""
    return [p for folder in (("tokens", source), ("tokens", source, "*")) for ext in ("*.bin", "*.idx")
            for p in match(join(out_dir, *folder, ext))]


class _HashingWriter:
    def __init__(self, path: str):
        self.path = path
        self.f = create(path)
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.f.write(data)

    def close(self) -> None:
        self.f.close()


class ShardWriter:
    """Writes one token shard, streaming: documents go to a temporary .bin as they come; offsets
    (8 bytes a document) are kept and written at the end; both files are renamed into place only
    when complete, so a retried or failed bundle never leaves a half shard under the final name."""

    def __init__(self, bin_path: str, idx_path: str):
        self.bin_path, self.idx_path = bin_path, idx_path
        self._bin = _HashingWriter(atomic.temp_name(bin_path))
        self._idx_tmp = atomic.temp_name(idx_path)
        self.offsets = [0]

    def add(self, ids: np.ndarray) -> None:
        """One document's ids (EOS included), any integer dtype."""
        self.add_many([ids])

    def add_many(self, docs: List[np.ndarray]) -> None:
        if not docs:
            return
        total = self.offsets[-1]
        for ids in docs:
            total += len(ids)
            self.offsets.append(total)
        self._bin.write(np.concatenate(docs).astype(TOKEN_DTYPE, copy=False).tobytes())

    def finish(self) -> Dict:
        self._bin.close()
        idx = _HashingWriter(self._idx_tmp)
        idx.write(np.asarray(self.offsets, dtype=OFFSET_DTYPE).tobytes())
        idx.close()
        atomic.replace(self._bin.path, self.bin_path)
        atomic.replace(self._idx_tmp, self.idx_path)
        return {"tokens": int(self.offsets[-1]), "documents": len(self.offsets) - 1,
                "sha256_bin": self._bin.sha.hexdigest(), "sha256_idx": idx.sha.hexdigest()}

    def abort(self) -> None:
        self._bin.close()
        FileSystems.delete([p for p in (self._bin.path, self._idx_tmp) if FileSystems.exists(p)])


def read_bytes(path: str) -> bytes:
    with open_read(path) as f:
        return f.read()


def sha256_file(path: str) -> str:
    sha = hashlib.sha256()
    with open_read(path) as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def load_shard(bin_path: str, idx_path: str) -> Tuple[np.ndarray, np.ndarray]:
    """(tokens, offsets): memory-mapped when local, read whole otherwise."""
    if "://" not in bin_path:
        tokens = np.memmap(bin_path, dtype=TOKEN_DTYPE, mode="r") if _size(bin_path) else np.zeros(0, TOKEN_DTYPE)
        offsets = np.memmap(idx_path, dtype=OFFSET_DTYPE, mode="r")
        return tokens, offsets
    return (np.frombuffer(read_bytes(bin_path), dtype=TOKEN_DTYPE),
            np.frombuffer(read_bytes(idx_path), dtype=OFFSET_DTYPE))


def _size(path: str) -> int:
    return FileSystems.match([path])[0].metadata_list[0].size_in_bytes


def shard_stats(bin_path: str, idx_path: str) -> Dict:
    """Counts and checksums of a written shard, read from the files themselves."""
    idx_size, bin_size = _size(idx_path), _size(bin_path)
    if idx_size < 8 or idx_size % 8 or bin_size % 2:
        raise ValueError(f"malformed token shard {bin_path}: .idx {idx_size} bytes, .bin {bin_size} bytes")
    with open_read(idx_path) as f:
        f.seek(idx_size - 8)
        last = int(np.frombuffer(f.read(8), dtype=OFFSET_DTYPE)[0])
    if last * 2 != bin_size:
        raise ValueError(f"token shard {bin_path}: index ends at {last} tokens, .bin holds {bin_size // 2}")
    return {"tokens": last, "documents": idx_size // 8 - 1,
            "sha256_bin": sha256_file(bin_path), "sha256_idx": sha256_file(idx_path)}


def iter_documents(tokens: np.ndarray, offsets: np.ndarray) -> Iterator[np.ndarray]:
    for start, end in zip(offsets[:-1], offsets[1:]):
        yield tokens[int(start):int(end)]
