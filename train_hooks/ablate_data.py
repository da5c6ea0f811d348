"""An ablation's training sets and reference text, built from curated or tokenized outputs.

Arms. An arm is a pipeline output folder. Its documents are its curated Parquet shards
(`curated/<source>/*.parquet`, then each partition folder's, as tokenizer/shards.py orders them)
when it has them; otherwise its token shards (mixture.json), decoded to text with its own tokenizer
(lossless, tokenizer/encode.py), held-out documents left out. `--sources` keeps some sources.

Reference text (what bits per byte is measured on): documents of reference folders or files, cut
into passages of at most PASSAGE_CHARS characters at line ends; per source the passages ranked by
a seeded hash, taken until `reference_bytes`. Excluded from every arm, before anything else: a
document whose text equals a reference document's, or that shares a line of at least
MIN_SHARED_LINE characters (casefolded, whitespace collapsed) with one (`reference_overlap`).

Tokenizer: one for all arms, SentencePiece with the recipe's settings (tokenizer/train.py; the
vocabulary size from the preset), trained on a sample of the arms' union: distinct texts (by
content hash), arms in the order given, each kept when a seeded hash of its text falls under
rate = min(1, tokenizer_bytes / bytes of the union), fed line by line as tokenizer/sample.py does.

Budget and shares: every arm gets exactly `tokens` planned tokens. Shares are the recipe's Table 1
shares renormalised over the union of the arms' sources, so a source every arm has gets the same
share in every arm; the share of a source an arm lacks goes to that arm's sources that not every arm
has, in proportion (when it has none, to all its sources, and `notes` says which shares then
differ). A source's tokens are apportioned by largest remainder (tokenizer/mixture.py).

Documents: per arm and source, ranked by a seeded hash of (source, id) — the same page has the same
rank in every arm that holds it — and the shortest prefix of that ranking whose tokens reach the
source's budget is written (every document when they do not: the plan then repeats them, epochs > 1).
Shards and mixture.json are the pipeline's formats, so the trainer's plan (train_hooks/data.py)
consumes exactly the budget. Nothing here imports Beam or pipeline/.
"""
from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import xxhash

from common.cli import UsageError
from common.digest import file_sha256

PASSAGE_CHARS = 2000
MIN_SHARED_LINE = 50
READ_BATCH_ROWS = 1024
FIRST_GUESS_BYTES_PER_TOKEN = 8   # how much text to encode first; the result does not depend on it
RECIPES = Path(__file__).resolve().parents[1] / "pipeline" / "recipes"


# --------------------------------------------------------------------------------------------
# Documents of one source of one input
# --------------------------------------------------------------------------------------------
class DocSource:
    """(id, text) pairs of one source, in a fixed order: Parquet rows, decoded token shards, or
    whole text files (one document each, id = file name)."""

    def __init__(self, name: str, parquet: Sequence[str] = (), texts: Sequence[str] = (),
                 tokenized: Optional[Tuple[Path, dict, Path]] = None):
        self.name = name
        self.parquet, self.texts, self.tokenized = list(parquet), list(texts), tokenized

    def __iter__(self) -> Iterator[Tuple[str, str]]:
        """The documents; an input that cannot be read as its kind (a changed token shard, a damaged
        Parquet or gzip file, text that is not UTF-8) is a UsageError naming it."""
        try:
            yield from self._documents()
        except (ValueError, OSError, EOFError) as e:    # ShardMismatch, ArrowInvalid, UnicodeDecodeError, ...
            raise UsageError(f"source {self.name} ({self.describe()['kind']}): {e}") from None

    def _documents(self) -> Iterator[Tuple[str, str]]:
        if self.tokenized is not None:
            yield from self._decoded()
        for path in self.parquet:
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=READ_BATCH_ROWS, columns=["id", "text"]):
                for doc_id, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist()):
                    yield str(doc_id), text or ""
        for path in self.texts:
            raw = Path(path).read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"{path}: not UTF-8 text ({e})") from None
            yield os.path.basename(path), text.replace("\r\n", "\n")

    def check(self) -> None:
        """Token shards against their mixture.json's SHA-256, before anything is built from them."""
        if self.tokenized is None:
            return
        from train_hooks.data import SourceTokens

        root, entry, _ = self.tokenized
        try:
            problems = SourceTokens(root, self.name, entry, verify=False).shard_problems()
        except (ValueError, OSError) as e:
            problems = [str(e)]
        if problems:
            raise UsageError(f"source {self.name}: {problems[0]}")

    def _decoded(self) -> Iterator[Tuple[str, str]]:
        import sentencepiece as spm

        from train_hooks.data import SourceTokens

        root, entry, model = self.tokenized
        sp = spm.SentencePieceProcessor(model_file=str(model))
        src = SourceTokens(root, self.name, entry)
        for k, (start, length) in enumerate(zip(src.doc_start, src.doc_len)):
            ids = src.read(int(start), int(length))
            if len(ids) and int(ids[-1]) == sp.eos_id():
                ids = ids[:-1]
            yield f"{self.name}:{k}", sp.decode([int(i) for i in ids])

    def describe(self) -> Dict:
        if self.tokenized is not None:
            root, entry, model = self.tokenized
            return {"kind": "tokens", "mixture": str(root / "mixture.json"), "tokenizer": str(model),
                    "shards": [s["bin"] for s in entry["shards"]]}
        if self.parquet:
            return {"kind": "parquet", "files": self.parquet}
        return {"kind": "text", "files": self.texts}

    def fingerprint(self) -> str:
        """SHA-256 over the input's bytes (shards' own checksums for token shards)."""
        h = hashlib.sha256()
        if self.tokenized is not None:
            root, entry, model = self.tokenized
            h.update(json.dumps(entry, sort_keys=True).encode())
            h.update(Path(model).read_bytes())
        for path in self.parquet + self.texts:
            h.update(file_sha256(path).encode())  # content only: a moved input is the same input
        return h.hexdigest()


def _parquet_files(folder: Path) -> List[str]:
    own = sorted(str(p) for p in folder.glob("*.parquet"))
    parts = sorted(p for p in folder.iterdir() if p.is_dir())
    return own + [str(p) for part in parts for p in sorted(part.glob("*.parquet"))]


def discover(path: str, option: str, keep: Optional[Sequence[str]] = None) -> Dict[str, DocSource]:
    """Sources of a pipeline output folder: curated Parquet if any, else token shards. `option`
    prefixes the folder in messages ("arm raw=", "--reference ")."""
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"{option}{path}: no such folder; give a pipeline --output folder")
    found: Dict[str, DocSource] = {}
    if (root / "curated").is_dir():
        for folder in sorted(p for p in (root / "curated").iterdir() if p.is_dir()):
            files = _parquet_files(folder)
            if files:
                found[folder.name] = DocSource(folder.name, parquet=files)
    elif (root / "mixture.json").exists():
        mixture = json.loads((root / "mixture.json").read_text())
        model = root / mixture["tokenizer"]
        if not model.is_file():
            raise UsageError(f"{option}{path}: mixture.json names the tokenizer {mixture['tokenizer']}, which is not there")
        for name in sorted(mixture["sources"]):
            found[name] = DocSource(name, tokenized=(root, mixture["sources"][name], model))
    else:
        raise UsageError(f"{option}{path}: neither curated/<source>/*.parquet nor mixture.json there; "
                         "give a pipeline --output folder (python -m pipeline.run --stages=curate …)")
    if keep:
        missing = [s for s in keep if s not in found]
        if missing and not option.startswith("--reference"):
            raise UsageError(f"{option}{path}: no source {', '.join(missing)} there (it has {', '.join(found) or 'none'})")
        found = {s: d for s, d in found.items() if s in keep}
    if not found:
        raise UsageError(f"{option}{path}: no documents of the sources asked for")
    for ds in found.values():
        try:
            ds.check()
        except UsageError as e:
            raise UsageError(f"{option}{path}: {e}") from None
    return found


def reference_inputs(specs: Sequence[str], sources: Optional[Sequence[str]]) -> Dict[str, DocSource]:
    """`--reference [NAME=]PATH`: a pipeline output folder (its curated sources, or `sources`), or
    Parquet / .txt[.gz] files or globs (source NAME, default the files' folder name)."""
    out: Dict[str, DocSource] = {}
    for spec in specs:
        name, _, path = spec.rpartition("=") if "=" in spec else ("", "", spec)
        if os.path.isdir(path):
            found = discover(path, "--reference ", sources)
            if name:
                if len(found) != 1:
                    raise UsageError(f"--reference {spec}: NAME= takes one source, {path} has {', '.join(found)}")
                found = {name: next(iter(found.values()))}
        else:
            files = sorted(glob.glob(path))
            if not files:
                raise UsageError(f"--reference {spec}: no file matches {path}")
            src = name or os.path.basename(os.path.dirname(os.path.abspath(files[0])))
            parquet = [f for f in files if f.endswith(".parquet")]
            texts = [f for f in files if f.endswith((".txt", ".txt.gz"))]
            if len(parquet) + len(texts) != len(files):
                raise UsageError(f"--reference {spec}: only .parquet, .txt and .txt.gz files are read")
            found = {src: DocSource(src, parquet=parquet, texts=texts)}
        for src, ds in found.items():
            if src in out:
                raise UsageError(f"--reference: source {src} given twice; name one of them with NAME=PATH")
            out[src] = ds
    return out


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------
def norm_line(line: str) -> str:
    return " ".join(line.casefold().split())


def content_key(text: str) -> int:
    return xxhash.xxh3_64_intdigest(text.encode("utf-8"))


def rank_key(source: str, doc_id: str, seed: int) -> int:
    return xxhash.xxh64_intdigest(f"{source}\0{doc_id}".encode("utf-8"), seed=seed)


def kept(text: str, rate: float, seed: int) -> bool:
    return rate >= 1.0 or xxhash.xxh64_intdigest(text.encode("utf-8"), seed=seed) < rate * 2.0 ** 64


# --------------------------------------------------------------------------------------------
# Reference text
# --------------------------------------------------------------------------------------------
def passages(text: str, max_chars: int = PASSAGE_CHARS) -> List[str]:
    """`text` cut at line ends into pieces of at most `max_chars` (a longer line stays whole)."""
    out, cur, size = [], [], 0
    for line in text.split("\n"):
        if cur and size + len(line) + 1 > max_chars:
            out.append("\n".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line) + 1
    if cur:
        out.append("\n".join(cur))
    return [p for p in out if p.strip()]


class Reference:
    """The reference passages, and what an arm document must not share with the reference documents."""

    def __init__(self, inputs: Dict[str, DocSource], max_bytes: int, seed: int):
        self.line_keys: set = set()
        self.text_keys: set = set()
        self.sources: Dict[str, Dict] = {}
        self.passages: List[Dict] = []
        for src in sorted(inputs):
            ranked, docs, total = [], 0, 0
            for doc_id, text in inputs[src]:
                docs += 1
                total += len(text.encode("utf-8"))
                self.text_keys.add(content_key(text))
                for line in text.split("\n"):
                    n = norm_line(line)
                    if len(n) >= MIN_SHARED_LINE:
                        self.line_keys.add(xxhash.xxh3_64_intdigest(n.encode("utf-8")))
                for k, piece in enumerate(passages(text)):
                    ranked.append((rank_key(src, f"{doc_id}#{k}", seed), doc_id, k, piece))
            ranked.sort()
            taken = 0
            for _, doc_id, k, piece in ranked:
                if max_bytes and taken >= max_bytes:
                    break
                nbytes = len(piece.encode("utf-8"))
                self.passages.append({"source": src, "id": doc_id, "index": k, "bytes": nbytes, "text": piece})
                taken += nbytes
            self.sources[src] = {"documents": docs, "bytes": total, "passages_available": len(ranked),
                                 "passages": sum(1 for p in self.passages if p["source"] == src), "passage_bytes": taken,
                                 "input": inputs[src].describe()}
        if not self.passages:
            raise UsageError("--reference: no text in the reference inputs")

    def overlaps(self, text: str) -> bool:
        if content_key(text) in self.text_keys:
            return True
        for line in text.split("\n"):
            if len(line) >= MIN_SHARED_LINE:
                n = norm_line(line)
                if len(n) >= MIN_SHARED_LINE and xxhash.xxh3_64_intdigest(n.encode("utf-8")) in self.line_keys:
                    return True
        return False


# --------------------------------------------------------------------------------------------
# Arms: scan, shares, tokenizer sample, selection
# --------------------------------------------------------------------------------------------
@dataclass
class Scan:
    """Per document of one arm source, in iteration order: its rank key, UTF-8 bytes, exclusion."""
    rank: np.ndarray
    nbytes: np.ndarray
    excluded: np.ndarray

    @property
    def included(self) -> np.ndarray:
        """Document numbers in rank order, reference overlaps left out."""
        order = np.lexsort((np.arange(len(self.rank)), self.rank))
        return order[~self.excluded[order]]


def scan(ds: DocSource, reference: Reference, seed: int, union: set) -> Tuple[Scan, int]:
    """(Scan, bytes this source adds to the union of the arms' distinct texts)."""
    ranks, sizes, excluded, added = [], [], [], 0
    for doc_id, text in ds:
        nbytes = len(text.encode("utf-8"))
        ranks.append(rank_key(ds.name, doc_id, seed))
        sizes.append(nbytes)
        out = reference.overlaps(text)
        excluded.append(out)
        key = content_key(text)
        if not out and key not in union:
            union.add(key)
            added += nbytes
    return Scan(np.asarray(ranks, dtype=np.uint64), np.asarray(sizes, dtype=np.int64),
                np.asarray(excluded, dtype=bool)), added


def recipe_json(name: str, path: Optional[str] = None) -> Dict:
    """A section of the llama recipe, read as a JSON file (train_hooks does not import pipeline/)."""
    target = Path(path) if path else RECIPES / "llama" / name
    if not target.exists():
        raise UsageError(f"no {target}: give the file with --{Path(name).stem}_recipe (a pipeline/recipes/<name>/{name})")
    return json.loads(target.read_text())


def table_shares(mixture_recipe: Dict) -> Dict[str, float]:
    return {k: float(v["share"]) for k, v in mixture_recipe.items() if not k.startswith("_")}


def arm_shares(arm_sources: Dict[str, List[str]], table: Dict[str, float]) -> Tuple[Dict[str, Dict[str, float]], List[str]]:
    """Per arm {source: share}, and notes on shares that differ between arms (module docstring)."""
    union = sorted(set().union(*map(set, arm_sources.values())))
    unknown = [s for s in union if table.get(s, 0.0) <= 0.0]
    if unknown:
        raise UsageError(f"--shares: no share for source {', '.join(unknown)}; give --shares "
                         + ",".join(f"{s}=W" for s in union))
    total = sum(table[s] for s in union)
    base = {s: table[s] / total for s in union}
    common = set.intersection(*map(set, arm_sources.values()))
    out, notes = {}, []
    for arm, srcs in arm_sources.items():
        shares = {s: base[s] for s in sorted(srcs)}
        lacking = [s for s in union if s not in srcs]
        if lacking:
            own = [s for s in sorted(srcs) if s not in common]
            receivers = own or sorted(srcs)
            weight = sum(base[s] for s in receivers)
            for s in receivers:
                shares[s] += sum(base[x] for x in lacking) * base[s] / weight
            if not own:
                notes.append(f"arm {arm} lacks {', '.join(lacking)} and has no source of its own: its shares of "
                             f"{', '.join(sorted(common))} differ from the other arms'")
        out[arm] = shares
    return out, notes


def tokenizer_lines(arms: Dict[str, Dict[str, DocSource]], scans: Dict[str, Dict[str, Scan]], rate: float,
                    seed: int, drawn: Dict[str, Dict[str, int]]) -> Iterator[str]:
    """Lines of the tokenizer's sample (module docstring); `drawn` gets documents and bytes per arm."""
    seen: set = set()
    for arm, sources in arms.items():
        drawn[arm] = {"documents": 0, "bytes": 0}
        for src in sorted(sources):
            excluded = scans[arm][src].excluded
            for k, (_, text) in enumerate(sources[src]):
                if excluded[k]:
                    continue
                key = content_key(text)
                if key in seen or not kept(text, rate, seed):
                    continue
                seen.add(key)
                drawn[arm]["documents"] += 1
                drawn[arm]["bytes"] += len(text.encode("utf-8"))
                for line in text.split("\n"):
                    if line:
                        yield line


def _encode_some(ds: DocSource, wanted: set, encoder, batch: int, into: Dict[int, np.ndarray]) -> None:
    pending_k, pending_t = [], []
    for k, (_, text) in enumerate(ds):
        if k in wanted and k not in into:
            pending_k.append(k)
            pending_t.append(text)
            if len(pending_k) >= batch:
                into.update(zip(pending_k, encoder.encode_batch(pending_t)))
                pending_k, pending_t = [], []
    if pending_k:
        into.update(zip(pending_k, encoder.encode_batch(pending_t)))


def select(ds: DocSource, sc: Scan, budget: int, encoder, batch: int = 256) -> Tuple[List[np.ndarray], Dict]:
    """The shortest rank prefix of included documents whose tokens (EOS included) reach `budget`
    (all of them when they do not), encoded; and its account."""
    order = sc.included
    encoded: Dict[int, np.ndarray] = {}
    cum_bytes = np.cumsum(sc.nbytes[order]) if len(order) else np.zeros(0, np.int64)
    want_bytes = budget * FIRST_GUESS_BYTES_PER_TOKEN
    take = min(len(order), int(np.searchsorted(cum_bytes, want_bytes, side="left")) + 1)
    chosen = len(order)
    while True:
        _encode_some(ds, {int(k) for k in order[:take]}, encoder, batch, encoded)
        lengths = np.cumsum([len(encoded[int(k)]) for k in order[:take]])
        hit = int(np.searchsorted(lengths, budget, side="left")) if len(lengths) else 0
        if hit < take:
            chosen = hit + 1
            break
        if take >= len(order):
            chosen = take
            break
        take = min(len(order), 2 * take)
    docs = [encoded[int(k)] for k in order[:chosen]]
    account = {"documents": int(len(sc.rank)), "reference_overlap": int(sc.excluded.sum()),
               "eligible": int(len(order)), "documents_written": chosen,
               "documents_encoded": len(encoded), "bytes_written": int(sc.nbytes[order[:chosen]].sum())}
    return docs, account


def write_shard(data_dir: Path, source: str, docs: List[np.ndarray]) -> Dict:
    """tokens/<source>/part-00000-of-00001.{bin,idx}, written by the tokenize stage's own ShardWriter,
    and its mixture entry."""
    from tokenizer import shards  # Beam's FileSystems: imported only when an ablation writes its data
    rel = f"tokens/{source}/{shards.shard_name(0, 1)}"
    os.makedirs(data_dir / "tokens" / source, exist_ok=True)
    writer = shards.ShardWriter(str(data_dir / f"{rel}.bin"), str(data_dir / f"{rel}.idx"))
    writer.add_many(docs)
    return {"bin": f"{rel}.bin", "idx": f"{rel}.idx", **writer.finish()}
