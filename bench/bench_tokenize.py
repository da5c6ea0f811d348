"""Tokenizer benchmark on real text from ../shared/data (about 9 MB: Wikipedia wikitext, Stack
Exchange posts, Gutenberg books, C4, CCNet, arXiv LaTeX, Python sources).

    .venv/bin/python bench/bench_tokenize.py [--rounds 3] [--workdir bench/corpus]

Prints, all measured in the same run so the ratios compare run to run:
1. Tokenization throughput per core (one thread, one process), MB of UTF-8 text per second:
   bare `SentencePieceProcessor.encode` of every document (batched, num_threads=1) beside the
   pipeline's own DoFn (Parquet read + DocumentEncoder + shard write + SHA-256) on the same
   documents, and the whole Beam stage on the DirectRunner with one worker (start-up included).
   The ratio pipeline / bare is the figure to watch (target >= 0.8).
   Every figure is CPU seconds of this process and its children (bench/cputime.py; the tokenizer
   trains in threads and the Beam stage runs in-process), each side --rounds times, interleaved:
   the best and the median run go to bench/results/tokenize.json (`python -m pipeline.cost` reads
   the DoFn's, per MB).
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
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import sentencepiece as spm  # noqa: E402
import xxhash  # noqa: E402

from bench import record  # noqa: E402
from bench.cputime import cpu, spread, timed  # noqa: E402
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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default=str(ROOT / "bench" / "corpus"))
    args = parser.parse_args(argv)
    session = record.Session("tokenize", argv)
    out = Path(args.workdir)
    shutil.rmtree(out, ignore_errors=True)
    recipe = recipe_mod.load()
    enc_settings = recipe["tokenizer"]["encode"]

    docs = list(real_documents())
    train_docs = [d for d in docs if not held_apart(d.id)]
    test_docs = [d for d in docs if held_apart(d.id)]
    write_curated(out, train_docs)
    t = cpu()
    model_path = stages.train_tokenizer_stage(str(out), recipe)
    train_s = cpu() - t
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

    def beam_stage():
        stages.tokenize_stage(str(out), recipe, ["--runner=DirectRunner", "--direct_num_workers=1"])

    timings = {"bare": [], "dofn": [], "beam": []}
    for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits every side alike
        for name, f in (("bare", bare), ("dofn", dofn), ("beam", beam_stage)):
            timings[name].append(timed(f))

    long_texts = [x for x in texts if len(x) > int(enc_settings["max_chunk_chars"])]
    held = [d.text for d in test_docs]
    held_bytes = sum(len(x.encode("utf-8")) for x in held)
    llama = spm.SentencePieceProcessor(model_file=str(LLAMA))
    ours_tokens = sum(len(x) for x in sp.encode(held))
    llama_tokens = sum(len(x) for x in llama.encode(held))

    b = {k: spread(v) for k, v in timings.items()}
    rate = lambda s: round(mb / s, 2)  # noqa: E731
    print(f"corpus: {len(texts)} documents, {mb:.2f} MB ({len(long_texts)} longer than "
          f"{enc_settings['max_chunk_chars']} chars); tokenizer trained in {train_s:.1f} CPU s, vocab {sp.get_piece_size()}")
    for name, label in (("bare", "bare SentencePieceProcessor.encode"), ("dofn", "pipeline DoFn (read+encode+write)"),
                        ("beam", "Beam DirectRunner, 1 worker, whole stage")):
        print(f"per core  {label:40s} {rate(b[name]['min']):7.2f} MB/s (median {rate(b[name]['median']):.2f}), "
              f"CPU s {b[name]['runs']}")
    print(f"pipeline DoFn / bare: {b['bare']['min'] / b['dofn']['min']:.2f} (median "
          f"{b['bare']['median'] / b['dofn']['median']:.2f}; target >= 0.8)")
    print(f"held-apart {held_bytes / 1e6:.2f} MB: bytes/token trained {held_bytes / ours_tokens:.3f}, "
          f"LLaMA {held_bytes / llama_tokens:.3f}")
    session.figure("corpus", "corpus: curated real text (documents, MB)", f"{len(texts):,} documents, {mb:.2f} MB")
    session.figure("bare", "bare `SentencePieceProcessor.encode`, MB/s per core", rate(b["bare"]["min"]),
                   rate(b["bare"]["median"]))
    session.figure("dofn", "the pipeline's DoFn (read Parquet + encode + write shards), MB/s per core",
                   rate(b["dofn"]["min"]), rate(b["dofn"]["median"]))
    session.figure("ratio", "**DoFn ÷ bare encode** (throughput)", round(b["bare"]["min"] / b["dofn"]["min"], 2),
                   round(b["bare"]["median"] / b["dofn"]["median"], 2), target="≥ 0.8")
    session.figure("beam", "the whole tokenize stage on the DirectRunner (start-up included), MB/s per core",
                   rate(b["beam"]["min"]), rate(b["beam"]["median"]))
    session.figure("train", "tokenizer training (LLaMA settings), CPU s", round(train_s, 1))
    session.figure("bpt_ours", "bytes per token on held-apart text: the tokenizer trained here",
                   round(held_bytes / ours_tokens, 3))
    session.figure("bpt_llama", "bytes per token on held-apart text: LLaMA's tokenizer", round(held_bytes / llama_tokens, 3))
    session.write(stages={"tokenize": record.stage(
        mb, timings["dofn"], "bench/bench_tokenize.py: the pipeline's DoFn (read Parquet + encode + write shards)")},
        repeats=args.rounds)


if __name__ == "__main__":
    main()
