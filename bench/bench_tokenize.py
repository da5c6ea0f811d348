"""Tokenizer benchmark on real text from ../shared/data (about 9 MB: Wikipedia wikitext, Stack
Exchange posts, Gutenberg books, C4, CCNet, arXiv LaTeX, Python sources).

    .venv/bin/python bench/bench_tokenize.py [--rounds 3] [--workdir bench/corpus]

Prints, all measured in the same run so the ratios compare run to run:
1. Tokenization throughput per core (one thread, one process), MB of UTF-8 text per second:
   bare `SentencePieceProcessor.encode` of every document (batched, num_threads=1) beside the
   pipeline's own DoFn (Parquet read + DocumentEncoder + shard write + SHA-256) on the same
   documents, and the whole Beam stage on the DirectRunner with one worker (start-up included).
   The ratio pipeline / bare is the figure to watch (target >= 0.8).
2. Bytes per token of the tokenizer trained here (LLaMA settings) beside the released LLaMA
   tokenizer, on the same held-apart documents (one in ten by a hash of the id, never trained on).
"""
from __future__ import annotations

import argparse
import bz2
import gzip
import html
import json
import shutil
import statistics
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyarrow as pa  # noqa: E402
import record  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import sentencepiece as spm  # noqa: E402
import xxhash  # noqa: E402

from common.record import ARROW_SCHEMA, Document, make_id, to_row  # noqa: E402
from pipeline import recipe as recipe_mod  # noqa: E402
from tokenizer import shards, stages  # noqa: E402
from tokenizer.beam_tokenize import TokenizeShardFn, _SharedEncoder  # noqa: E402
from tokenizer.encode import DocumentEncoder  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
LLAMA = DATA / "models" / "llama_tokenizer.model"


def real_documents():
    def doc(source, key, text):
        return Document(make_id(source, key), source, text, None, {})

    with bz2.open(DATA / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2") as f:
        for n, (_, el) in enumerate(ET.iterparse(f)):
            if el.tag.endswith("}text") and el.text and not el.text.startswith("#REDIRECT"):
                yield doc("wikipedia", str(n), el.text)
            el.clear()
    with gzip.open(DATA / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz") as f:
        for _, el in ET.iterparse(f):
            if el.tag == "row" and el.get("Body"):
                yield doc("stackexchange", el.get("Id"), html.unescape(el.get("Body")))
            el.clear()
    for path in sorted((DATA / "books" / "clean").glob("*.txt.gz")):
        yield doc("books", path.name, gzip.open(path, "rt", encoding="utf-8").read())
    for path in sorted((DATA / "c4").glob("*.json.gz")):
        for n, line in enumerate(gzip.open(path, "rt", encoding="utf-8")):
            yield doc("c4", f"{path.name}:{n}", json.loads(line)["text"])
    for n, line in enumerate(gzip.open(DATA / "ccnet" / "cc_en_head-0091.jsonl.gz", "rt", encoding="utf-8")):
        yield doc("commoncrawl", str(n), json.loads(line)["text"])
    for path in sorted((DATA / "github").glob("*.tar.gz")):
        with tarfile.open(path) as tf:
            for m in sorted(tf.getmembers(), key=lambda m: m.name):
                if m.isfile() and m.name.endswith((".py", ".rst", ".txt", ".cfg")):
                    yield doc("github", m.name, tf.extractfile(m).read().decode("utf-8", "replace"))
    with tarfile.open(DATA / "arxiv" / "1911.02782.gz") as tf:
        yield doc("arxiv", "1911.02782", tf.extractfile("main.tex").read().decode("utf-8"))


def held_apart(doc_id: str) -> bool:
    return xxhash.xxh64_intdigest(doc_id.encode(), seed=1) % 10 == 0


def write_curated(out: Path, docs) -> None:
    by_source = {}
    for d in docs:
        by_source.setdefault(d.source, []).append(d)
    for source, items in by_source.items():
        path = out / "curated" / source / "part-00000-of-00001.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([to_row(d) for d in items], schema=ARROW_SCHEMA), path, compression="zstd")


def best_of(rounds: int, fn) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "corpus"))
    args = parser.parse_args(argv)
    out = Path(args.workdir)
    shutil.rmtree(out, ignore_errors=True)
    recipe = recipe_mod.load()
    enc_settings = recipe["tokenizer"]["encode"]

    docs = list(real_documents())
    train_docs = [d for d in docs if not held_apart(d.id)]
    test_docs = [d for d in docs if held_apart(d.id)]
    write_curated(out, train_docs)
    t = time.perf_counter()
    model_path = stages.train_tokenizer_stage(str(out), recipe)
    train_s = time.perf_counter() - t
    model = Path(model_path).read_bytes()
    sp = spm.SentencePieceProcessor(model_proto=model)

    texts = [d.text for d in train_docs]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    batch = int(enc_settings["batch_size"])

    def bare():
        for i in range(0, len(texts), batch):
            sp.encode(texts[i:i + batch], num_threads=1)

    fn = TokenizeShardFn(model_path, enc_settings, None)
    fn.encoder = _SharedEncoder(DocumentEncoder(model, int(enc_settings["max_chunk_chars"]), 1)).encoder
    refs = shards.all_shard_refs(str(out))

    def dofn():
        for ref in refs:
            for _ in fn.process(ref):
                pass

    rounds = max(1, args.rounds)
    timings = {"bare": [], "dofn": []}
    for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
        for name, f in (("bare", bare), ("dofn", dofn)):
            t = time.perf_counter()
            f()
            timings[name].append(time.perf_counter() - t)
    t = time.perf_counter()
    stages.tokenize_stage(str(out), recipe, ["--runner=DirectRunner", "--direct_num_workers=1"])
    beam_s = time.perf_counter() - t

    long_texts = [x for x in texts if len(x) > int(enc_settings["max_chunk_chars"])]
    held = [d.text for d in test_docs]
    held_bytes = sum(len(x.encode("utf-8")) for x in held)
    llama = spm.SentencePieceProcessor(model_file=str(LLAMA))
    ours_tokens = sum(len(x) for x in sp.encode(held))
    llama_tokens = sum(len(x) for x in llama.encode(held))

    bare_s, dofn_s = min(timings["bare"]), min(timings["dofn"])
    result = {
        "corpus_mb": round(mb, 3), "documents": len(texts), "documents_over_max_chunk": len(long_texts),
        "vocab_size": sp.get_piece_size(), "train_seconds": round(train_s, 2),
        "bare_encode_mb_s": round(mb / bare_s, 3), "pipeline_dofn_mb_s": round(mb / dofn_s, 3),
        "pipeline_over_bare": round(bare_s / dofn_s, 3),
        "beam_direct_runner_mb_s_incl_startup": round(mb / beam_s, 3),
        "held_apart_mb": round(held_bytes / 1e6, 3), "held_apart_documents": len(held),
        "bytes_per_token_trained": round(held_bytes / ours_tokens, 3),
        "bytes_per_token_llama": round(held_bytes / llama_tokens, 3),
    }
    print(f"corpus: {len(texts)} documents, {mb:.2f} MB ({len(long_texts)} longer than "
          f"{enc_settings['max_chunk_chars']} chars); tokenizer trained in {train_s:.1f}s, vocab {sp.get_piece_size()}")
    print(f"per core  bare SentencePieceProcessor.encode  {mb / bare_s:7.2f} MB/s")
    print(f"per core  pipeline DoFn (read+encode+write)   {mb / dofn_s:7.2f} MB/s   ratio {bare_s / dofn_s:.2f}")
    print(f"          Beam DirectRunner, 1 worker, total  {mb / beam_s:7.2f} MB/s   (start-up included)")
    print(f"held-apart {held_bytes / 1e6:.2f} MB: bytes/token trained {held_bytes / ours_tokens:.3f}, "
          f"LLaMA {held_bytes / llama_tokens:.3f}")
    print(json.dumps(result, sort_keys=True))
    record.write("tokenize", {"tokenize": record.stage(
        mb, dofn_s, "bench/bench_tokenize.py: the pipeline's DoFn (read Parquet + encode + write shards)")})


if __name__ == "__main__":
    main()
