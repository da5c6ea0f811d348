"""The training plan: which tokens every sample holds, decided once for the whole run.

Input: `DIR/mixture.json` and the token shards it lists (docs/ARCHITECTURE.md). Nothing else.

Plan semantics (the contract the audit checks):

1. **Per-source stream.** A source with U unique tokens and P = `planned_tokens` (≈ e·U, whole tokens for
   its planned epochs e) contributes exactly P tokens. Its stream is epoch 0, epoch 1, ... where
   epoch k lists the source's documents in the order of a permutation drawn from
   SeedSequence([seed, crc32(source name), k]); the stream is cut after P tokens. So floor(P/U)
   full passes plus a prefix of the next pass's permutation (the prefix may end inside a document).
2. **Sequences.** Samples are non-overlapping runs of context+1 tokens (inputs are the first
   `context`, targets the last `context`), so each streamed token lands in exactly one sample.
   Sequences are cut from each source's *own* stream, not from one interleaved stream: a sample then
   belongs to exactly one source, shares are counted in whole samples, and sample i maps to
   (source, k) and stream offset k·(context+1) in closed form, which is what lets any rank start at
   any sample counter without replaying the plan. Documents are packed across their EOS boundaries
   within a source, as in LLaMA.
3. **Interleaving.** Source s has w_s = floor(P_s/(context+1)) full sequences, N = Σ w_s. Its k-th
   sequence is due at time (k+½)·N/w_s and samples are served in order of due time, ties to the
   source earlier by name. Equivalently each pick takes the source with the largest deficit
   relative to its share, measured at mid-step (the Sainte-Laguë / stride-scheduling order): after
   any n samples every source has had its share of them to within about one sample, and the order
   is computable for any range of samples in O(sources²·log N).
4. **Tails.** The P_s mod (context+1) tokens left at the end of each stream are not dropped: the
   tails of all sources, in name order, form one extra stream appended after the N interleaved
   samples and cut the same way. Only its very last sample may be short; it is padded with EOS and
   the padding is masked out of the loss (target -100). Every planned token is therefore consumed
   exactly once; the mixed tail is at most (#sources)·(context+1) tokens of the whole budget.
5. **Position and ranks.** The only data position is a sample counter c. A step takes the global
   batch [c, c+G); rank r of W takes the contiguous slice [c + r·G/W, c + (r+1)·G/W). Indices past
   the end of the plan are all-padding samples (no targets), so every rank runs the same shapes on
   the last step. Resuming needs c alone, with any W that divides G.

Integrity: every shard's `.idx` and `.bin` must have the SHA-256 that mixture.json lists for it
(`sha256_idx`, `sha256_bin`). An index is checked when the plan is built, a token file the first
time the plan reads from it: once per shard per run, and only shards a run reads. A mismatch raises
`ShardMismatch` naming the file, before any of its tokens reach a batch.

`python -m train_hooks.data --audit --data DIR` checks every shard's SHA-256, walks every batch of
every rank, recomputes per source and per token how often it was consumed, and compares with what
the plan promises (floor(P/U) everywhere plus one on the next epoch's permutation prefix); exit 1 on
any mismatch.
"""
from __future__ import annotations

import hashlib
import json
import shlex
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.cli import Parser, UsageError, guarded
from common.digest import file_sha256

FORMAT = "llamadata-mixture/1"
IGNORE = -100  # target value the loss skips (padding of the last sample, all-padding samples)


class ShardMismatch(ValueError):
    """A token shard that is not the one mixture.json was planned from."""


RECIPE_FLAGS = ("--recipe", "--set", "--target_tokens")   # what a stage rerun must repeat of the first command


def redo(root: Path, stages: str) -> str:
    """How to rewrite `root`'s outputs from `stages` on: `pipeline.run --stages=… --fresh` (a rerun
    without --fresh may skip a stage its run_state.json records done) with the recipe flags of the
    command that made the folder (its run.json); restoring only, for a folder with nothing to redo from."""
    if not (root / "curated").is_dir():
        return f"restore it from where {root} was made (the folder holds no curated/ to tokenize again)"
    try:
        args = json.loads((root / "run.json").read_text())["command"][3:]
    except (OSError, ValueError, KeyError, TypeError):
        args = []
    flags, i = [], 0
    while i < len(args):
        if args[i].split("=", 1)[0] in RECIPE_FLAGS:
            flags += args[i:i + (1 if "=" in args[i] else 2)]
            i += 0 if "=" in args[i] else 1
        i += 1
    return " ".join(["python -m pipeline.run", shlex.quote(f"--output={root}"), *map(shlex.quote, flags),
                     f"--stages={stages}", "--fresh"])


def mismatch(path: Path, root: Path) -> str:
    return (f"{path}: its SHA-256 is not the one mixture.json lists (the shard changed after the mixture "
            f"was planned); restore it, or tokenize again: {redo(root, 'tokenize,mixture')}")


# --------------------------------------------------------------------------------------------
# One source's tokens: shards as one flat token space, documents as (start, length) in it.
# --------------------------------------------------------------------------------------------
class SourceTokens:
    def __init__(self, root: Path, name: str, entry: dict, verify: bool = True):
        """`verify`: check each shard against mixture.json's SHA-256 (see the module docstring);
        the audit turns it off to list every mismatch instead of stopping at the first."""
        self.name = name
        self.root, self.verify = Path(root), verify
        self.share = float(entry["share"])
        self.epochs = float(entry["epochs"])
        self.unique_tokens = int(entry["unique_tokens"])
        self.planned_tokens = int(entry["planned_tokens"])
        self.bins: list[Path] = []
        self.shards: list[dict] = list(entry["shards"])
        self.verified: set[int] = set()         # shards whose .bin matched its SHA-256 this run
        starts, lengths, shard_starts = [], [], []
        offset = 0
        for shard in entry["shards"]:
            bin_path, idx_path = root / shard["bin"], root / shard["idx"]
            raw = idx_path.read_bytes()
            if verify and hashlib.sha256(raw).hexdigest() != self._listed(shard, "sha256_idx"):
                raise ShardMismatch(mismatch(idx_path, self.root))
            idx = np.frombuffer(raw, dtype="<u8").astype(np.int64)
            n_tokens = bin_path.stat().st_size // 2
            if len(idx) < 1 or idx[0] != 0 or idx[-1] != n_tokens or np.any(np.diff(idx) < 0):
                raise ValueError(f"{idx_path}: index does not describe {bin_path} ({n_tokens} tokens)")
            if n_tokens != int(shard["tokens"]) or len(idx) - 1 != int(shard["documents"]):
                raise ValueError(f"{bin_path}: mixture.json says {shard['tokens']} tokens / "
                                 f"{shard['documents']} docs, shard has {n_tokens} / {len(idx) - 1}")
            self.bins.append(bin_path)
            shard_starts.append(offset)
            starts.append(offset + idx[:-1])
            lengths.append(np.diff(idx))
            offset += n_tokens
        doc_start = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        doc_len = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        # Held-out documents (tokenizer/mixture.py) stay in the shards but out of every epoch.
        held = np.asarray(entry.get("heldout_documents", []), dtype=np.int64)
        self.heldout_tokens = int(entry.get("heldout_tokens", 0))
        if len(held) and (held.min() < 0 or held.max() >= len(doc_len)
                          or int(doc_len[held].sum()) != self.heldout_tokens):
            raise ValueError(f"{name}: heldout_documents do not match heldout_tokens={self.heldout_tokens}")
        train = np.ones(len(doc_len), dtype=bool)
        train[held] = False
        self.doc_start, self.doc_len = doc_start[train], doc_len[train]
        self.heldout_start, self.heldout_len = doc_start[held], doc_len[held]
        self.shard_start = np.asarray(shard_starts, dtype=np.int64)
        self.flat_tokens = offset
        if offset != self.unique_tokens + self.heldout_tokens:
            raise ValueError(f"{name}: shards hold {offset} tokens, mixture.json says "
                             f"unique_tokens={self.unique_tokens} (+ {self.heldout_tokens} held out)")
        if self.planned_tokens > 0 and self.unique_tokens == 0:
            raise ValueError(f"{name}: {self.planned_tokens} tokens planned from an empty source")
        self._maps: dict[int, np.memmap] = {}
        self._epochs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_docs(self) -> int:
        return len(self.doc_len)

    def _listed(self, shard: dict, key: str) -> str:
        if not shard.get(key):
            raise ShardMismatch(f"{self.root / 'mixture.json'}: no {key} for {shard['bin']} (written before "
                                f"shards were checksummed); plan it again: {redo(self.root, 'mixture')}")
        return shard[key]

    def shard_map(self, i: int) -> np.ndarray:
        if i not in self._maps:
            if self.verify and i not in self.verified:
                if file_sha256(self.bins[i]) != self._listed(self.shards[i], "sha256_bin"):
                    raise ShardMismatch(mismatch(self.bins[i], self.root))
                self.verified.add(i)
            self._maps[i] = np.memmap(self.bins[i], dtype="<u2", mode="r")
        return self._maps[i]

    def shard_problems(self) -> list[str]:
        """Every shard of this source whose .idx or .bin differs from mixture.json's SHA-256."""
        out = []
        for shard in self.shards:
            for key, kind in (("sha256_idx", "idx"), ("sha256_bin", "bin")):
                path = self.root / shard[kind]
                if not shard.get(key):
                    out.append(f"{path}: mixture.json lists no {key}")
                elif file_sha256(path) != shard[key]:
                    out.append(mismatch(path, self.root))
        return out

    def read(self, start: int, length: int) -> np.ndarray:
        """Tokens [start, start+length) of the flat space; a span never crosses a document."""
        i = int(np.searchsorted(self.shard_start, start, side="right")) - 1
        local = start - int(self.shard_start[i])
        return self.shard_map(i)[local:local + length]

    def epoch_order(self, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(document permutation, cumulative token ends in that order) of one epoch."""
        if epoch not in self._epochs:
            perm = epoch_permutation(seed, self.name, epoch, self.n_docs)
            ends = np.cumsum(self.doc_len[perm])
            if len(self._epochs) >= 2:  # the stream only ever looks at neighbouring epochs
                self._epochs.pop(next(iter(self._epochs)))
            self._epochs[epoch] = (perm, ends)
        return self._epochs[epoch]

    def stream_spans(self, seed: int, pos: int, length: int) -> list[tuple[int, int]]:
        """Flat-space spans (start, length) holding stream positions [pos, pos+length)."""
        spans = []
        while length > 0:
            epoch, offset = divmod(pos, self.unique_tokens)
            perm, ends = self.epoch_order(seed, epoch)
            j = int(np.searchsorted(ends, offset, side="right"))
            doc = int(perm[j])
            in_doc = offset - (int(ends[j - 1]) if j else 0)
            take = min(length, int(self.doc_len[doc]) - in_doc)
            spans.append((int(self.doc_start[doc]) + in_doc, take))
            pos, length = pos + take, length - take
        return spans


def epoch_permutation(seed: int, source: str, epoch: int, n_docs: int) -> np.ndarray:
    seq = np.random.SeedSequence([seed, zlib.crc32(source.encode()), epoch])
    return np.random.Generator(np.random.PCG64(seq)).permutation(n_docs)


# --------------------------------------------------------------------------------------------
# Interleaving: order of due times (k+½)/w_s, ties to the lower source index.
# --------------------------------------------------------------------------------------------
class Interleave:
    def __init__(self, weights: list[int]):
        self.w = [int(w) for w in weights]
        self.n = sum(self.w)
        # (2k+1)·w_other must fit in int64 for the vectorised rank.
        if self.w and 2 * max(self.w) * max(self.w) >= 2 ** 62:
            raise ValueError("too many sequences for int64 interleave arithmetic")

    def rank(self, s: int, k):
        """Position in the interleaved order of source s's k-th sequence (k scalar or array)."""
        k = np.asarray(k, dtype=np.int64)
        x_num = 2 * k + 1
        r = k.copy()
        ws = self.w[s]
        for s2, w2 in enumerate(self.w):
            if s2 == s or w2 == 0:
                continue
            x = x_num * w2       # sequence k' of s2 is before iff (2k'+1)·w_s < (or <=) (2k+1)·w2
            m = x // ws if s2 < s else (x - 1) // ws
            r += np.minimum((m + 1) // 2, w2)
        return r

    def count_before(self, s: int, i: int) -> int:
        """How many of source s's sequences sit at positions < i."""
        lo, hi = 0, self.w[s]
        while lo < hi:
            mid = (lo + hi) // 2
            if int(self.rank(s, mid)) < i:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def range(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """(source, k) of positions a..b-1."""
        src = np.full(b - a, -1, dtype=np.int64)
        seq = np.zeros(b - a, dtype=np.int64)
        for s, w in enumerate(self.w):
            if w == 0:
                continue
            ks = np.arange(self.count_before(s, a), self.count_before(s, b), dtype=np.int64)
            pos = self.rank(s, ks) - a
            src[pos], seq[pos] = s, ks
        if np.any(src < 0):
            raise AssertionError("interleave ranks are not a permutation")  # a bug, never data
        return src, seq


# --------------------------------------------------------------------------------------------
# The plan.
# --------------------------------------------------------------------------------------------
@dataclass
class Sample:
    spans: list[tuple[int, int, int]]   # (source index, flat start, length), in sample order

    @property
    def n_tokens(self) -> int:
        return sum(n for _, _, n in self.spans)


class MixturePlan:
    def __init__(self, data_dir: str | Path, context: int, seed: int = 0, verify: bool = True):
        self.root = Path(data_dir)
        meta = json.loads((self.root / "mixture.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{self.root / 'mixture.json'}: format {meta.get('format')!r}, "
                             f"expected {FORMAT!r}")
        if meta.get("dtype", "uint16") != "uint16":
            raise ValueError(f"unsupported token dtype {meta['dtype']!r}")
        self.meta = meta
        self.context, self.seq_len, self.seed = int(context), int(context) + 1, int(seed)
        self.vocab_size = int(meta["vocab_size"])
        self.eos_id = int(meta.get("eos_id", 2))
        self.sources = [SourceTokens(self.root, name, meta["sources"][name], verify)
                        for name in sorted(meta["sources"])]
        L = self.seq_len
        self.full = [s.planned_tokens // L for s in self.sources]
        self.interleave = Interleave(self.full)
        self.n_full = self.interleave.n
        # The tail stream: (source index, first stream position, length) pieces in name order.
        self.tail_pieces, t = [], 0
        for i, s in enumerate(self.sources):
            rest = s.planned_tokens - self.full[i] * L
            if rest:
                self.tail_pieces.append((i, self.full[i] * L, rest, t))
                t += rest
        self.tail_tokens = t
        self.n_samples = self.n_full + -(-t // L)
        self.planned_tokens = sum(s.planned_tokens for s in self.sources)

    # -- where a sample's tokens come from --------------------------------------------------
    def _stream(self, i: int, pos: int, length: int) -> list[tuple[int, int, int]]:
        src = self.sources[i]
        return [(i, a, n) for a, n in src.stream_spans(self.seed, pos, length)]

    def _tail(self, t0: int, length: int) -> list[tuple[int, int, int]]:
        spans = []
        for i, first, rest, at in self.tail_pieces:
            lo, hi = max(t0, at), min(t0 + length, at + rest)
            if lo < hi:
                spans += self._stream(i, first + lo - at, hi - lo)
        return spans

    def samples(self, start: int, count: int) -> list[Sample]:
        """Samples start..start+count-1 (indices past the plan are empty: all padding)."""
        out: list[Sample] = []
        a, b = min(start, self.n_full), min(start + count, self.n_full)
        if a < b:
            src, seq = self.interleave.range(a, b)
            out += [Sample(self._stream(int(s), int(k) * self.seq_len, self.seq_len))
                    for s, k in zip(src, seq)]
        for i in range(max(start, self.n_full), start + count):
            t0 = (i - self.n_full) * self.seq_len
            length = max(0, min(self.seq_len, self.tail_tokens - t0))
            out.append(Sample(self._tail(t0, length) if length else []))
        return out

    def tokens(self, samples: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets) int64 arrays of shape (n, context); padding targets are IGNORE."""
        n, L = len(samples), self.seq_len
        buf = np.full((n, L), self.eos_id, dtype=np.int64)
        valid = np.zeros(n, dtype=np.int64)
        for row, sample in enumerate(samples):
            at = 0
            for i, start, length in sample.spans:
                buf[row, at:at + length] = self.sources[i].read(start, length)
                at += length
            valid[row] = at
        targets = buf[:, 1:].copy()
        targets[np.arange(L - 1)[None, :] >= (valid[:, None] - 1)] = IGNORE
        return buf[:, :-1], targets

    def n_targets(self, start: int, count: int) -> int:
        """Unmasked targets in samples [start, start+count), without reading any token."""
        full = max(0, min(start + count, self.n_full) - start)
        total = full * self.context
        for i in range(max(start, self.n_full), start + count):
            length = max(0, min(self.seq_len, self.tail_tokens - (i - self.n_full) * self.seq_len))
            total += max(0, length - 1)
        return total

    def n_nonempty(self, start: int, count: int) -> int:
        """Samples in [start, start+count) that hold any plan token (the rest are padding)."""
        return max(0, min(start + count, self.n_samples) - start)

    def shards_verified(self) -> tuple[int, int]:
        """(token files checked against mixture.json so far in this run, token files in all)."""
        return sum(len(s.verified) for s in self.sources), sum(len(s.bins) for s in self.sources)

    def describe(self) -> dict:
        return {
            "context": self.context, "seed": self.seed, "samples": self.n_samples,
            "interleaved_samples": self.n_full, "tail_tokens": self.tail_tokens,
            "planned_tokens": self.planned_tokens,
            "sources": {s.name: {"unique_tokens": s.unique_tokens, "planned_tokens": s.planned_tokens,
                                 "epochs": s.planned_tokens / s.unique_tokens if s.unique_tokens else 0.0,
                                 "sequences": w, "share": s.share}
                        for s, w in zip(self.sources, self.full)},
        }


def rank_slice(start: int, global_batch: int, rank: int, world: int) -> tuple[int, int]:
    """This rank's contiguous part [a, a+n) of the global batch starting at sample `start`."""
    if global_batch % world:
        raise ValueError(f"global batch {global_batch} samples is not divisible by {world} ranks")
    per = global_batch // world
    return start + rank * per, per


# --------------------------------------------------------------------------------------------
# Audit: walk the plan exactly as the trainer does and count every token's uses.
# --------------------------------------------------------------------------------------------
def expected_counts(plan: MixturePlan, s: SourceTokens) -> np.ndarray:
    """What the plan promises: floor(P/U) uses of every token, +1 on the next epoch's prefix."""
    counts = np.zeros(s.flat_tokens + 1, dtype=np.int64)
    if s.unique_tokens == 0:
        return counts[:-1]
    full, rest = divmod(s.planned_tokens, s.unique_tokens)
    np.add.at(counts, s.doc_start, full)                 # held-out documents: never used
    np.add.at(counts, s.doc_start + s.doc_len, -full)
    if rest:
        perm = epoch_permutation(plan.seed, s.name, full, s.n_docs)
        for doc in perm:
            take = min(rest, int(s.doc_len[doc]))
            counts[s.doc_start[doc]] += 1
            counts[s.doc_start[doc] + take] -= 1
            rest -= take
            if not rest:
                break
    return np.cumsum(counts[:-1])


def audit(data_dir, context: int, seed: int = 0, global_batch: int = 8, world: int = 1) -> dict:
    plan = MixturePlan(data_dir, context, seed, verify=False)
    problems: list[str] = []
    for s in plan.sources:
        problems += s.shard_problems()
        if abs(s.epochs * s.unique_tokens - s.planned_tokens) > 1:
            problems.append(f"{s.name}: epochs·unique_tokens = {s.epochs * s.unique_tokens:.1f} "
                            f"but planned_tokens = {s.planned_tokens}")
        if np.any(s.doc_len == 0):
            problems.append(f"{s.name}: {int(np.sum(s.doc_len == 0))} empty documents (no EOS)")
        ends = s.doc_start + np.maximum(s.doc_len, 1) - 1
        for i in range(len(s.bins)):
            in_shard = (ends >= s.shard_start[i]) & (
                ends < (s.shard_start[i + 1] if i + 1 < len(s.bins) else s.unique_tokens))
            last = s.shard_map(i)[ends[in_shard] - s.shard_start[i]]
            if np.any(last != plan.eos_id):
                problems.append(f"{s.bins[i]}: {int(np.sum(last != plan.eos_id))} documents "
                                f"do not end with EOS {plan.eos_id}")
    diffs = [np.zeros(s.flat_tokens + 1, dtype=np.int64) for s in plan.sources]
    steps = -(-plan.n_samples // global_batch)
    mixed = 0
    for step in range(steps):
        for rank in range(world):
            a, n = rank_slice(step * global_batch, global_batch, rank, world)
            samples = plan.samples(a, n)
            inputs, targets = plan.tokens(samples)
            for row, sample in enumerate(samples):
                mixed += len({i for i, _, _ in sample.spans}) > 1
                seen = []
                for i, start, length in sample.spans:
                    diffs[i][start] += 1
                    diffs[i][start + length] -= 1
                    seen.append(np.asarray(plan.sources[i].read(start, length), dtype=np.int64))
                # The batch the trainer gets must hold exactly those tokens, in that order.
                flat = np.concatenate(seen) if seen else np.zeros(0, np.int64)
                got = np.concatenate([inputs[row, :1], targets[row]])[:len(flat)]
                if len(flat) > 1 and not np.array_equal(got, flat):
                    problems.append(f"sample {a + row}: batch tokens differ from its spans")
    report = {"plan": plan.describe(), "steps": steps, "global_batch": global_batch,
              "world_size": world, "mixed_source_samples": mixed,
              "shards_checked": sum(2 * len(s.shards) for s in plan.sources), "sources": {}}
    for s, diff in zip(plan.sources, diffs):
        got = np.cumsum(diff[:-1])
        want = expected_counts(plan, s)
        bad = int(np.sum(got != want))
        report["sources"][s.name] = {"consumed": int(got.sum()), "planned": s.planned_tokens,
                                     "min_uses": int(got.min()) if len(got) else 0,
                                     "max_uses": int(got.max()) if len(got) else 0,
                                     "mismatched_tokens": bad, "heldout_tokens": s.heldout_tokens,
                                     "heldout_tokens_used": int(sum(int(got[a:a + n].sum()) for a, n in
                                                                    zip(s.heldout_start, s.heldout_len)))}
        if bad or int(got.sum()) != s.planned_tokens:
            problems.append(f"{s.name}: {bad} tokens consumed other than planned "
                            f"({int(got.sum())} consumed, {s.planned_tokens} planned)")
    report["problems"] = problems
    report["ok"] = not problems
    return report


def main(argv=None) -> int:
    p = Parser(prog="python -m train_hooks.data", description=__doc__.split("\n")[0])
    p.add_argument("--audit", action="store_true", help="check every shard's SHA-256, walk the whole plan, check every token")
    p.add_argument("--data", required=True, help="directory holding mixture.json and tokens/")
    p.add_argument("--context", type=int, default=None, help="tokens per sample input (default: the model's)")
    p.add_argument("--model", default="tiny", help="model config whose context is the default")
    p.add_argument("--seed", type=int, default=0, help="data-order seed (train.py --seed)")
    p.add_argument("--global_batch", type=int, default=8, help="samples per optimiser step")
    p.add_argument("--world_size", type=int, default=1, help="ranks to split each batch over")
    p.add_argument("--debug", action="store_true", help="tracebacks for usage errors")
    args = p.parse_args(argv)
    if not (Path(args.data) / "mixture.json").is_file():
        raise UsageError(f"--data {args.data}: no mixture.json there")
    context = args.context
    if context is None:
        from train_hooks.model import get_config
        context = get_config(args.model).context
    if context < 1 or args.global_batch < 1 or args.world_size < 1 or args.global_batch % args.world_size:
        raise UsageError("--context, --global_batch and --world_size must be positive, and --world_size must "
                         f"divide --global_batch (got {context}, {args.global_batch}, {args.world_size})")
    if not args.audit:
        try:
            print(json.dumps(MixturePlan(args.data, context, args.seed).describe(), indent=2))
        except ValueError as e:
            raise UsageError(f"--data {args.data}: {e}") from None
        return 0
    try:
        report = audit(args.data, context, args.seed, args.global_batch, args.world_size)
    except ValueError as e:     # the plan cannot even be built from these shards
        report = {"ok": False, "problems": [str(e)]}
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    guarded(main, sys.argv[1:], "python -m train_hooks.data")
