"""Tokenizer stages on real text: LLaMA settings, digits, byte fallback, lossless round trip,
token shards, mixture.json, verify, determinism.

One module-scoped run builds OUT/curated from real documents in ../shared/data, then runs the three
stages exactly as `pipeline.run` does (default recipe: the sample is too small for 32000 pieces, so
the vocabulary is fitted to it, which is the one trainer field allowed to differ from LLaMA's).
"""
from __future__ import annotations

import bz2
import gzip
import html
import inspect
import json
import shutil
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sentencepiece as spm

from common.record import ARROW_SCHEMA, Document, make_id, to_row
from pipeline import recipe as recipe_mod
from tokenizer import encode, sample, shards, spec, stages, train, verify

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LLAMA = DATA / "models" / "llama_tokenizer.model"
RUNNER = ["--runner=DirectRunner"]
# Fields that name where the text came from and where the trainer wrote, not how it trained.
PROVENANCE = {f"trainer_spec.{name}" for name in spec.PROVENANCE_FIELDS}


# ---------------------------------------------------------------- real documents, as curated Parquet

def _doc(source: str, key: str, text: str, url=None) -> Document:
    return Document(make_id(source, key), source, text, url, {"origin": key})


def _c4():
    for path in sorted((DATA / "c4").glob("*.json.gz")):
        for n, line in enumerate(gzip.open(path, "rt", encoding="utf-8")):
            rec = json.loads(line)
            yield _doc("c4", f"{path.name}:{n}", rec["text"], rec.get("url"))


def _ccnet():
    for n, line in enumerate(gzip.open(DATA / "ccnet" / "cc_en_head-0091.jsonl.gz", "rt", encoding="utf-8")):
        yield _doc("commoncrawl", f"ccnet:{n}", json.loads(line)["text"])


def _books():
    for name in ("pg33956", "pg10089"):
        yield _doc("books", name, gzip.open(DATA / "books" / "clean" / f"{name}.txt.gz", "rt", encoding="utf-8").read())


def _github():
    with tarfile.open(DATA / "github" / "six-1.16.0.tar.gz") as tf:
        for member in sorted(tf.getmembers(), key=lambda m: m.name):
            if member.isfile() and member.name.endswith(("Makefile", ".cfg", ".py", ".rst")):
                yield _doc("github", member.name, tf.extractfile(member).read().decode("utf-8"))


def _arxiv():
    with tarfile.open(DATA / "arxiv" / "1911.02782.gz") as tf:
        yield _doc("arxiv", "1911.02782/main.tex", tf.extractfile("main.tex").read().decode("utf-8"))


def _stackexchange(limit=60):
    with gzip.open(DATA / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz") as f:
        for n, (_, el) in enumerate(ET.iterparse(f)):
            if el.tag == "row":
                yield _doc("stackexchange", el.get("Id"), html.unescape(el.get("Body", "")))
                if n >= limit:
                    return


def _wikipedia(limit=8):
    count = 0
    with bz2.open(DATA / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2") as f:
        for _, el in ET.iterparse(f):
            if el.tag.endswith("}text") and el.text and not el.text.startswith("#REDIRECT"):
                yield _doc("wikipedia", f"page{count}", el.text)
                count += 1
                if count >= limit:
                    return


def write_curated(out_dir: Path, source: str, docs, files: int = 1) -> None:
    docs = list(docs)
    for i in range(files):
        part = docs[i::files]
        table = pa.Table.from_pylist([to_row(d) for d in part], schema=ARROW_SCHEMA)
        path = out_dir / "curated" / source / f"part-{i:05d}-of-{files:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")


def build_curated(out_dir: Path) -> None:
    write_curated(out_dir, "commoncrawl", _ccnet(), files=2)
    write_curated(out_dir, "c4", _c4())
    write_curated(out_dir, "books", _books())
    write_curated(out_dir, "github", _github())
    write_curated(out_dir, "arxiv", _arxiv())
    write_curated(out_dir, "stackexchange", _stackexchange())
    write_curated(out_dir, "wikipedia", _wikipedia())


def run_all(out_dir: Path, recipe: dict) -> dict:
    stages.train_tokenizer_stage(str(out_dir), recipe)
    stages.tokenize_stage(str(out_dir), recipe, RUNNER)
    return stages.mixture_stage(str(out_dir), recipe, None)


@pytest.fixture(scope="module")
def recipe():
    return recipe_mod.load()


@pytest.fixture(scope="module")
def out(tmp_path_factory, recipe):
    out_dir = tmp_path_factory.mktemp("out")
    build_curated(out_dir)
    plan = run_all(out_dir, recipe)
    return out_dir, plan


@pytest.fixture(scope="module")
def model(out):
    return (out[0] / "tokenizer" / "tokenizer.model").read_bytes()


@pytest.fixture(scope="module")
def sp(model):
    return spm.SentencePieceProcessor(model_proto=model)


def curated_texts(out_dir: Path, source: str):
    return [row["text"] for ref in shards.shard_refs(str(out_dir), source) for row in sample.iter_documents(ref.curated)]


# ---------------------------------------------------------------- settings

def test_llama_settings_readable_under_protobuf_6():
    s = spec.settings(str(LLAMA))
    t, n = s["trainer_spec"], s["normalizer_spec"]
    assert (t["model_type"], t["vocab_size"], t["split_digits"], t["byte_fallback"]) == ("BPE", 32000, True, True)
    assert (n["name"], n["add_dummy_prefix"], n["remove_extra_whitespaces"]) == ("identity", True, False)


def test_recipe_holds_llama_values(recipe):
    llama = spec.settings(str(LLAMA))
    tok = recipe["tokenizer"]
    for key, value in tok["trainer"].items():
        want = llama["trainer_spec"][key]
        got = value.upper() if key == "model_type" else value
        assert got == pytest.approx(want) if isinstance(want, float) else got == want, key
    assert tok["normalizer"]["normalization_rule_name"] == llama["normalizer_spec"]["name"]
    for key in ("add_dummy_prefix", "remove_extra_whitespaces", "escape_whitespaces"):
        assert tok["normalizer"][key] == llama["normalizer_spec"][key], key


def test_trained_model_settings_equal_llama_field_by_field(model, sp):
    ours, llama = spec.settings(model), spec.settings(str(LLAMA))
    assert spec.diff_settings(ours, llama, ignore=PROVENANCE) == []
    # Every field was compared, not a chosen few.
    assert len(ours["trainer_spec"]) >= 40 and len(ours["normalizer_spec"]) == 6
    assert ours["trainer_spec"]["vocab_size"] == sp.get_piece_size() == 32000
    # Same id layout as LLaMA's: <unk> <s> </s>, then the 256 byte pieces.
    llama_sp = spm.SentencePieceProcessor(model_file=str(LLAMA))
    for i in range(3 + 256):
        assert sp.id_to_piece(i) == llama_sp.id_to_piece(i)
    assert not spec.parse_model(model).HasField("denormalizer_spec")


def test_small_sample_fits_the_vocabulary_and_keeps_every_other_setting(out, recipe):
    lines = [line for t in curated_texts(out[0], "c4") for line in t.split("\n") if line]
    model = train.train(lambda: iter(lines), recipe["tokenizer"])
    size = spm.SentencePieceProcessor(model_proto=model).get_piece_size()
    assert 259 < size < 32000 and size % recipe["tokenizer"]["fit_vocab_to_sample"]["round_to"] == 0
    diffs = spec.diff_settings(spec.settings(model), spec.settings(str(LLAMA)), ignore=PROVENANCE)
    assert diffs == [("trainer_spec.vocab_size", size, 32000)]
    no_fit = dict(recipe["tokenizer"], fit_vocab_to_sample={"enabled": False})
    with pytest.raises(RuntimeError, match="Vocabulary size too high"):
        train.train(lambda: iter(lines), no_fit)


def test_vocab_file_lists_every_piece(out, sp):
    lines = (out[0] / "tokenizer" / "tokenizer.vocab").read_text(encoding="utf-8").splitlines()
    assert len(lines) == sp.get_piece_size()
    assert lines[3] == "<0x00>\t0" and lines[0].startswith("<unk>\t")


# ---------------------------------------------------------------- behaviour of the trained tokenizer

def test_numbers_split_into_digits(sp):
    pieces = sp.encode("In 1987 the 3,250 barrels cost $12.50 each", out_type=str)
    digit_pieces = [p for p in pieces if any(c.isdigit() for c in p)]
    assert digit_pieces and all(sum(c.isdigit() for c in p) == 1 and len(p.strip("\u2581")) == 1 for p in digit_pieces)


def test_byte_fallback_for_rare_characters(sp, model):
    text = "Zeichen \U0001D518 und \u4e2d\u6587"
    ids = sp.encode(text)
    assert sp.unk_id() not in ids
    assert any(sp.is_byte(i) for i in ids)
    assert encode.DocumentEncoder(model).decode(sp.encode(text)) == text


def test_real_documents_round_trip_losslessly(out, model):
    out_dir = out[0]
    enc = encode.DocumentEncoder(model)
    docs = curated_texts(out_dir, "github") + curated_texts(out_dir, "commoncrawl") + curated_texts(out_dir, "books")
    joined = "".join(docs)
    assert "\t" in joined and "   " in joined and "\n\n" in joined
    for text in docs:
        ids = enc.encode(text)
        assert ids[-1] == enc.eos_id and enc.eos_id not in ids[:-1]
        assert enc.decode(ids) == text


def test_long_documents_chunk_to_the_same_ids(out, model, sp):
    book = max(curated_texts(out[0], "books"), key=len)
    assert len(book) > 40000
    whole = sp.encode(book)
    for max_chars in (300, 4096):
        enc = encode.DocumentEncoder(model, max_chunk_chars=max_chars)
        assert len(encode.split_chunks(book, max_chars)) > 5
        assert enc.encode(book)[:-1].tolist() == whole
    # Why the cuts are safe: no piece holds a newline or a non-space followed by a space mark.
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        assert "\n" not in piece and not any(a != "\u2581" and b == "\u2581" for a, b in zip(piece, piece[1:]))


def test_literal_space_mark_and_hard_cuts_round_trip(model):
    enc = encode.DocumentEncoder(model, max_chunk_chars=7)
    for text in ["\u2581", "a\u2581b", "\u2581 lead", "x" * 40 + " \u2581\u2581 y\n\n  z", "", " ", "\t\n"]:
        assert enc.decode(enc.encode(text)) == text, repr(text)


def test_training_is_deterministic_and_streamed(out, recipe):
    tok = recipe["tokenizer"]
    drawn = sample.TrainingSample(str(out[0]), {s: v["share"] for s, v in recipe["mixture"].items() if s[0] != "_"},
                                  1_000_000_000, tok["sample"]["seed"])
    assert inspect.isgenerator(iter(drawn))  # lines are produced on demand, never listed
    a = train.train_from_lines(iter(drawn), train.trainer_kwargs(tok, 800), tok["sample"]["seed"])
    b = train.train_from_lines(iter(drawn), train.trainer_kwargs(tok, 800), tok["sample"]["seed"])
    assert a == b and spm.SentencePieceProcessor(model_proto=a).get_piece_size() == 800


def test_sample_draws_by_share_and_id():
    rates = sample.keep_rates({"commoncrawl": 10_000, "wikipedia": 10_000}, {"commoncrawl": 0.67, "wikipedia": 0.045}, 10_000)
    assert rates == {"commoncrawl": pytest.approx(0.67), "wikipedia": pytest.approx(0.045)}
    ids = [make_id("c4", str(i)) for i in range(4000)]
    kept = [i for i in ids if sample.keep(i, 0.25, 7)]
    assert 800 < len(kept) < 1200 and kept == [i for i in ids if sample.keep(i, 0.25, 7)]


# ---------------------------------------------------------------- shards, mixture.json, verify

def test_token_shards_layout_and_counts(out, sp):
    out_dir, plan = out
    assert sorted(plan["sources"]) == sorted(shards.curated_sources(str(out_dir)))
    cc = plan["sources"]["commoncrawl"]["shards"]
    assert [s["bin"] for s in cc] == ["tokens/commoncrawl/part-00000-of-00002.bin", "tokens/commoncrawl/part-00001-of-00002.bin"]
    for source, entry in plan["sources"].items():
        texts = curated_texts(out_dir, source)
        assert entry["documents"] == len(texts)
        total = 0
        for s in entry["shards"]:
            tokens = np.memmap(out_dir / s["bin"], dtype="<u2", mode="r")
            offsets = np.fromfile(out_dir / s["idx"], dtype="<u8")
            assert offsets[0] == 0 and offsets[-1] == len(tokens) == s["tokens"]
            assert len(offsets) - 1 == s["documents"]
            assert np.all(tokens[offsets[1:] - 1] == 2)
            total += s["tokens"]
        assert entry["unique_tokens"] == total
        # Tokens equal a fresh, independent encoding of the curated text.
        assert total == sum(len(sp.encode(t)) + 1 for t in texts)
    assert plan["vocab_size"] == sp.get_piece_size() and plan["eos_id"] == 2 and plan["bos_id"] == 1


def test_mixture_json_arithmetic(out, recipe):
    plan = out[1]
    cc = plan["sources"]["commoncrawl"]
    assert cc["epochs"] == pytest.approx(recipe["mixture"]["commoncrawl"]["epochs"], abs=1e-5)
    for source, entry in plan["sources"].items():
        assert entry["share"] == recipe["mixture"][source]["share"]
        assert entry["epochs"] == pytest.approx(entry["share"] * plan["total_tokens"] / entry["unique_tokens"], abs=1e-6)
        assert abs(entry["planned_tokens"] - entry["share"] * plan["total_tokens"]) < 1
    # Whole tokens by largest remainder: the sources' planned tokens sum to the budget exactly.
    assert sum(e["planned_tokens"] for e in plan["sources"].values()) == plan["total_tokens"]
    assert json.loads((out[0] / "mixture.json").read_text()) == plan


def test_verify_passes_then_catches_tampering(out, tmp_path):
    out_dir = out[0]
    assert verify.verify(str(out_dir)) == []
    assert verify.main(["--data", str(out_dir)]) == 0
    bad = tmp_path / "bad"
    shutil.copytree(out_dir, bad)
    path = bad / "tokens" / "books" / "part-00000-of-00001.bin"
    data = bytearray(path.read_bytes())
    data[100:102] = (int.from_bytes(data[100:102], "little") % 200 + 300).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    errors = verify.verify(str(bad))
    assert any("decodes to different text" in e for e in errors) and any("sha256_bin" in e for e in errors)
    assert verify.main(["--data", str(bad)]) == 1


def test_rerun_is_byte_identical(out, recipe, tmp_path):
    again = tmp_path / "again"
    shutil.copytree(out[0] / "curated", again / "curated")
    plan = run_all(again, recipe)
    assert plan == out[1]
    for rel in ["tokenizer/tokenizer.model", "tokenizer/tokenizer.vocab", "mixture.json"] + \
            [s[k] for e in plan["sources"].values() for s in e["shards"] for k in ("bin", "idx")]:
        assert (again / rel).read_bytes() == (out[0] / rel).read_bytes(), rel


def test_unreadable_curated_file_is_quarantined_not_fatal(out, recipe, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(out[0] / "curated" / "arxiv", work / "curated" / "arxiv")
    shutil.copytree(out[0] / "tokenizer", work / "tokenizer")
    broken = work / "curated" / "c4" / "part-00000-of-00001.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PAR1 this is not parquet")
    stages.tokenize_stage(str(work), recipe, RUNNER)
    lines = [json.loads(line) for line in (work / "tokens" / "quarantine.jsonl").read_text().splitlines()]
    assert [(q["source"], q["reason"], q["path"]) for q in lines] == [("c4", "bad_input:curated_parquet", str(broken))]
    plan = stages.mixture_stage(str(work), recipe, None)
    assert list(plan["sources"]) == ["arxiv"] and plan["sources"]["arxiv"]["share"] == 1.0
    assert any("c4" in e for e in verify.verify(str(work)))
