"""The bundled CommonCrawl sample (samples/commoncrawl/*.warc.wet.gz, written by
scripts/make_cc_samples.py): WET layout and digests, the intended language mix, and line repeats
for CCNet line dedup."""
from __future__ import annotations

import base64
import hashlib
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from dedup.line_dedup import dedup_in_memory, line_hashes, normalize_line
from filters.langid import LanguageId
from pipeline.sources.warc_io import BadUnit, iter_records

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SAMPLES = REPO / "samples" / "commoncrawl"
MIN_CHARS = 300  # pipeline/recipes/llama/commoncrawl.json min_chars
# WET's ISO 639-3 codes → fastText lid.176 labels.
LID_CODE = {"eng": "en", "fra": "fr", "deu": "de", "spa": "es", "ita": "it"}
CONVERSION_HEADERS = [
    "WARC-Type", "WARC-Target-URI", "WARC-Date", "WARC-Record-ID", "WARC-Refers-To", "WARC-Block-Digest",
    "WARC-Identified-Content-Language", "Content-Type", "Content-Length", "WARC-Payload-Digest",
]


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_cc_samples", REPO / "scripts" / "make_cc_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _read(path: Path):
    with open(path, "rb") as f:
        return list(iter_records(f))


@pytest.fixture(scope="module")
def records():
    out = []
    for name in gen.FILE_NAMES:
        out.extend(_read(SAMPLES / name))
    return out


@pytest.fixture(scope="module")
def pages(records):
    return [r for r in records if r.type == "conversion"]


@pytest.fixture(scope="module")
def kind_of():
    return {p.url: p.kind for p in gen.ALL_PAGES}


def test_committed_files_are_what_the_generator_writes_today():
    built = gen.build()
    assert [name for name, _ in built] == list(gen.FILE_NAMES)
    for name, data in built:
        assert (SAMPLES / name).read_bytes() == data, f"{name} is stale: run scripts/make_cc_samples.py"
    assert [d for _, d in gen.build()] == [d for _, d in built]  # same bytes on a second build


def test_wet_layout_and_digests(records, pages):
    assert not [r for r in records if isinstance(r, BadUnit)]
    for name in gen.FILE_NAMES:
        recs = _read(SAMPLES / name)
        assert recs[0].type == "warcinfo" and recs[0].headers["WARC-Filename"] == name
        assert {r.type for r in recs[1:]} == {"conversion"}
        data = (SAMPLES / name).read_bytes()
        assert data.count(b"\x1f\x8b\x08") >= len(recs)  # one gzip member per record
    ids = [r.headers["WARC-Record-ID"] for r in records]
    assert len(set(ids)) == len(ids)
    for r in pages:
        assert list(r.headers) == CONVERSION_HEADERS
        digest = "sha1:" + base64.b32encode(hashlib.sha1(r.payload).digest()).decode("ascii")
        assert r.headers["WARC-Block-Digest"] == digest
        assert r.headers["WARC-Payload-Digest"] == digest
        assert int(r.headers["Content-Length"]) == len(r.payload)
        assert r.headers["Content-Type"] == "text/plain"
        r.payload.decode("utf-8")
    assert 60_000 <= sum(len(r.payload) for r in pages) <= 120_000


def test_page_kinds_are_as_intended(pages, kind_of):
    kinds = Counter(kind_of[r.headers["WARC-Target-URI"]] for r in pages)
    assert kinds == {gen.PROSE: 28, gen.FOREIGN: 4, gen.SHORT: 2, gen.DUPLICATE: 2, gen.BOILERPLATE: 2, gen.SPAM: 1}
    for r in pages:
        n = len(r.payload.decode("utf-8"))
        kind = kind_of[r.headers["WARC-Target-URI"]]
        assert (n < MIN_CHARS) == (kind == gen.SHORT), r.headers["WARC-Target-URI"]
    dups = [r for r in pages if kind_of[r.headers["WARC-Target-URI"]] == gen.DUPLICATE]
    assert dups[0].payload == dups[1].payload and dups[0].headers["WARC-Target-URI"] != dups[1].headers["WARC-Target-URI"]
    urls = {r.headers["WARC-Target-URI"] for r in pages if kind_of[r.headers["WARC-Target-URI"]] == gen.PROSE}
    assert set(gen.CITABLE_URLS) <= urls


def test_language_mix_matches_fasttext(pages):
    lid = LanguageId(str(DATA / "models" / "lid.176.ftz"))
    predicted = Counter()
    for r in pages:
        text = r.payload.decode("utf-8")
        if len(text) < MIN_CHARS:
            continue
        lang, score = lid.predict(text)
        assert lang == LID_CODE[r.headers["WARC-Identified-Content-Language"]], r.headers["WARC-Target-URI"]
        assert score >= 0.5
        predicted[lang] += 1
    assert predicted == {"en": 33, "fr": 1, "de": 1, "es": 1, "it": 1}


def test_normalised_lines_repeat_across_pages(pages, kind_of):
    texts = [r.payload.decode("utf-8") for r in pages]
    docs_per_hash = Counter()
    for text in texts:
        hashes, _ = line_hashes(text)
        docs_per_hash.update(set(hashes.tolist()))
    assert sum(1 for n in docs_per_hash.values() if n >= 2) >= 40
    # Dates differ, digits normalise to 0: "Posted on 14/01/2023 by …" is one line for dedup.
    posted = {line for t in texts for line in t.split("\n") if line.startswith("Posted on ") and "Marta" in line}
    assert len(posted) >= 3 and len({normalize_line(line) for line in posted}) == 1

    after = dict(zip((r.headers["WARC-Target-URI"] for r in pages), dedup_in_memory(texts)))
    for url, text in after.items():
        kind = kind_of[url]
        if kind == gen.PROSE:
            assert len(text) >= 1000, url  # the body survives, the site furniture goes
            assert "All rights reserved" not in text and "Skip to main content" not in text
        elif kind == gen.DUPLICATE:
            assert text == ""  # both copies: every line occurs twice
        elif kind == gen.BOILERPLATE:
            assert len(text) < 400, url
