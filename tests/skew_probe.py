"""The largest key group of every GroupByKey inside a stage, measured in a real Beam run.

`probe(p, prefix, out_dir)` (after the stage is applied, before `p.run()`) finds each GroupByKey
whose label starts with `prefix` (CoGroupByKey is one inside) and taps its input: per key, the
values and their bytes are summed, and the largest key, the number of keys and the total are
written as one JSON line per GroupByKey. `read(out_dir)` returns {label: stats}. The stage itself
is not changed; its own keys are what is measured.
"""
from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.pipeline import PipelineVisitor

from pipeline.stats import sum_pairs


def size_of(value) -> int:
    """Bytes of a shuffled value, roughly as a coder writes it (strings and bytes by length)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(size_of(k) + size_of(v) for k, v in value.items())
    if isinstance(value, (tuple, list, set, frozenset)):
        return sum(size_of(v) for v in value) + 1
    return 8


def _summary(groups):
    groups = list(groups)
    if not groups:
        return {"keys": 0, "total_bytes": 0, "max_values": 0, "max_bytes": 0}
    return {"keys": len(groups), "total_bytes": sum(b for _, b in groups),
            "max_values": max(n for n, _ in groups), "max_bytes": max(b for _, b in groups)}


class _FindGroupByKeys(PipelineVisitor):
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.found = []

    def visit_transform(self, node):
        if isinstance(node.transform, beam.GroupByKey) and node.full_label.startswith(self.prefix):
            self.found.append((node.full_label, node.main_inputs["None"] if "None" in node.main_inputs
                               else next(iter(node.inputs))))


def probe(p: beam.Pipeline, prefix: str, out_dir: Path) -> list:
    finder = _FindGroupByKeys(prefix)
    p.visit(finder)
    labels = []
    for i, (label, pcoll) in enumerate(finder.found):
        (pcoll
         | f"Probe{i}:Size" >> beam.Map(lambda kv: (kv[0], (1, size_of(kv[1]))))
         | f"Probe{i}:PerKey" >> beam.CombinePerKey(sum_pairs)
         | f"Probe{i}:Values" >> beam.Values()
         | f"Probe{i}:All" >> beam.combiners.ToList()
         | f"Probe{i}:Json" >> beam.Map(lambda groups, label=label: json.dumps(dict(_summary(groups), label=label)))
         | f"Probe{i}:Write" >> beam.io.WriteToText(str(out_dir / f"probe{i}"), shard_name_template=""))
        labels.append(label)
    return labels


def read(out_dir: Path) -> dict:
    stats = {}
    for path in sorted(out_dir.glob("probe*")):
        for line in path.read_text().splitlines():
            s = json.loads(line)
            stats[s.pop("label")] = s
    return stats


# ------------------------------------------------------------- synthetic skew on real text ------------
def real_sentences(limit: int = 4000) -> list:
    """Sentences of the real C4 sample (../shared/data), for lines that are not all alike."""
    import gzip
    import re

    from tests.conftest import SHARED

    out = []
    for path in sorted((SHARED / "c4").glob("olmo-c4-sample.*.json.gz")):
        with gzip.open(path, "rt") as f:
            for line in f:
                out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", json.loads(line)["text"]) if len(s.strip()) > 30]
    return out[:limit]


def tag(k: int) -> str:
    """A word naming k in letters: cc_net's line normalisation turns digits to 0, not letters."""
    out = ""
    while True:
        k, r = divmod(k, 26)
        out += chr(97 + r)
        if not k:
            return "q" + out


def docs_with_lines(n_docs: int, lines_per_doc: int, hot_per_doc: int, hot_line: str = None, source: str = "skew",
                    start: int = 0):
    """n_docs documents of `lines_per_doc` unique lines (real sentences, numbered) plus
    `hot_per_doc` copies of `hot_line` each (or, for the baseline, as many more unique lines);
    line tags start at `start` (corpora meant to share no line use far apart starts)."""
    from common.record import Document, make_id

    sentences = real_sentences()
    docs, k = [], start
    for d in range(n_docs):
        lines = []
        for _ in range(lines_per_doc + (0 if hot_line else hot_per_doc)):
            lines.append(f"{sentences[k % len(sentences)]} {tag(k)}")
            k += 1
        if hot_line:
            lines += [hot_line] * hot_per_doc
        docs.append(Document(make_id(source, str(d)), source, "\n".join(lines), f"https://s{d}.example.org/", {}))
    return docs


def near_copies(n: int, source: str = "skew"):
    """n pages that differ from one real page by one word each: one MinHash bucket of n members."""
    from common.record import Document, make_id

    base = " ".join(real_sentences(60))
    words = base.split()
    docs = []
    for i in range(n):
        w = list(words)
        w[i % len(w)] = tag(i)
        docs.append(Document(make_id(source, "near", str(i)), source, " ".join(w), f"https://n{i}.example.org/", {}))
    return docs


def distinct_pages(n: int, source: str = "skew"):
    """n pages of different real sentences (the baseline for `near_copies`)."""
    from common.record import Document, make_id

    sentences = real_sentences()
    return [Document(make_id(source, "page", str(i)), source,
                     " ".join(f"{sentences[(i * 7 + j) % len(sentences)]} {tag(i)}" for j in range(30)),
                     f"https://p{i}.example.org/", {}) for i in range(n)]


def run_probed(stage, docs, out_dir: Path) -> dict:
    """Run `stage` (docs → (docs, events)) on `docs` in a real pipeline; its GroupByKeys' stats."""
    out_dir.mkdir(parents=True, exist_ok=True)
    p = beam.Pipeline(runner="FnApiRunner")
    kept, events = p | "Docs" >> beam.Create(docs, reshuffle=False) | "Stage" >> stage
    (kept | "Count" >> beam.combiners.Count.Globally()
          | "WriteCount" >> beam.io.WriteToText(str(out_dir / "kept"), shard_name_template=""))
    probe(p, "Stage/", out_dir)
    p.run().wait_until_finish()
    stats = read(out_dir)
    stats["kept"] = int((out_dir / "kept").read_text().strip())
    return stats
