"""MinHash signatures: the vectorised path equals the plain definition, and agrees with datasketch."""
import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from dedup import minhash as mh

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def real_texts():
    texts = []
    for path in sorted((DATA / "c4").glob("olmo-c4-sample.*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f]
    with gzip.open(DATA / "books" / "clean" / "pg10089.txt.gz", "rt", encoding="utf-8") as f:
        paragraphs = [p for p in re.split(r"\n\s*\n", f.read()) if len(p) > 300]
    return texts + paragraphs[:40]


def exact_jaccard(a: str, b: str, k: int = 5) -> float:
    sa = set(mh.shingles(mh.normalize_words(a), k))
    sb = set(mh.shingles(mh.normalize_words(b), k))
    return len(sa & sb) / len(sa | sb)


def edit_every(text: str, n: int) -> str:
    """Replace every n-th word by a marker: a small, real edit of real text."""
    words = text.split()
    return " ".join(f"edited{i}" if i % n == n // 2 else w for i, w in enumerate(words))


def test_normalisation_rule():
    assert mh.normalize_words("Hello, World!  It’s “fine” — really…ok_then") == [
        "hello", "world", "it", "s", "fine", "really", "ok", "then"]
    assert mh.normalize_words("Straße ÇAĞ 中文。日本 x\u00a0y ¿qué?") == ["straße", "çağ", "中文", "日本", "x", "y", "qué"]
    assert mh.normalize_words(" \n\t.,;") == []
    assert mh.shingles(["a", "b"], 5) == [("a", "b")]
    assert mh.shingles(list("abcdef"), 5) == [tuple("abcde"), tuple("bcdef")]


def test_vectorised_signatures_equal_the_definition():
    texts = real_texts()[:25] + [
        "", "   ...   ", "One.", "two words", "exactly five words right here", "A “quoted” — dash… x¡y",
        "İstanbul ÇAĞ 中文。日本語のテキスト", "snake_case_identifier and more words to make shingles",
    ]
    hasher = mh.MinHasher(num_perm=64, seed=7, shingle_size=5)
    sigs, has = hasher.signatures(texts)
    for i, text in enumerate(texts):
        assert has[i] == bool(mh.normalize_words(text))
        np.testing.assert_array_equal(sigs[i], mh.reference_signature(text, 64, 7, 5), err_msg=repr(text[:60]))


def test_lone_surrogates_are_word_characters_in_both_paths():
    # json.loads accepts a "\ud800" escape: such text must hash the same way by the definition (where a
    # lone surrogate is a word character) and by the vectorised path (it was a "?" separator there).
    texts = [json.loads('"caf\\ud800e au lait with five words"'), "a \udfff b c d e f g"]
    sigs, _ = mh.MinHasher(num_perm=32, seed=3, shingle_size=5).signatures(texts)
    for sig, text in zip(sigs, texts):
        np.testing.assert_array_equal(sig, mh.reference_signature(text, 32, 3, 5))


def test_signatures_do_not_depend_on_batching_or_slicing(monkeypatch):
    texts = real_texts()[:12]
    hasher = mh.MinHasher(num_perm=32, seed=3)
    together, _ = hasher.signatures(texts)
    alone = np.stack([hasher.signatures([t])[0][0] for t in texts])
    np.testing.assert_array_equal(together, alone)
    monkeypatch.setattr(mh, "_SLICE_BYTES", 97)  # many slices, each cut at a word end
    monkeypatch.setattr(mh, "_ROWS_PER_CHUNK", 50)  # documents split across matrix chunks
    sliced, _ = hasher.signatures(texts)
    np.testing.assert_array_equal(together, sliced)


def test_jaccard_estimates_agree_with_datasketch():
    num_perm = 256
    hasher = mh.MinHasher(num_perm=num_perm, seed=1)
    texts = [t for t in real_texts() if len(t.split()) >= 150][:12]
    assert len(texts) >= 8
    pairs = []
    for i, text in enumerate(texts):
        for every in (3, 10, 100):  # heavy, medium and light edits
            pairs.append((text, edit_every(text, every)))
        pairs.append((text, texts[(i + 1) % len(texts)]))  # unrelated: about 0
    ours_diff, ds_diff = [], []
    for a, b in pairs:
        truth = exact_jaccard(a, b)
        (sa, sb), _ = hasher.signatures([a, b])
        ours = mh.jaccard(sa, sb)
        da, db = MinHash(num_perm=num_perm, seed=1), MinHash(num_perm=num_perm, seed=1)
        da.update_batch([" ".join(s).encode() for s in mh.shingles(mh.normalize_words(a))])
        db.update_batch([" ".join(s).encode() for s in mh.shingles(mh.normalize_words(b))])
        theirs = da.jaccard(db)
        sigma = math.sqrt(max(truth * (1 - truth), 0.01) / num_perm)
        assert abs(ours - truth) < 4 * sigma + 0.01, (truth, ours, theirs)
        assert abs(ours - theirs) < 4 * math.sqrt(2) * sigma + 0.01, (truth, ours, theirs)
        ours_diff.append(abs(ours - truth))
        ds_diff.append(abs(theirs - truth))
    # Same estimator quality as the reference implementation, on average.
    assert np.mean(ours_diff) < 0.03 and np.mean(ds_diff) < 0.03
    assert abs(np.mean(ours_diff) - np.mean(ds_diff)) < 0.015
    assert min(exact_jaccard(a, b) for a, b in pairs) < 0.05
    assert max(exact_jaccard(a, b) for a, b in pairs) > 0.85


def test_band_hashes_and_s_curve():
    hasher = mh.MinHasher(num_perm=112, seed=42)
    text = real_texts()[0]
    sigs, _ = hasher.signatures([text, text, edit_every(text, 4)])
    bands = mh.band_hashes(sigs, 14, 8)
    assert bands.shape == (3, 14) and bands.dtype == np.uint64
    np.testing.assert_array_equal(bands[0], bands[1])
    for j in range(14):  # a band hash matches exactly when the band's 8 values match
        same = np.array_equal(sigs[0, j * 8:(j + 1) * 8], sigs[2, j * 8:(j + 1) * 8])
        assert (bands[0, j] == bands[2, j]) == same
    with pytest.raises(ValueError):
        mh.band_hashes(sigs, 15, 8)
    assert abs(mh.s_curve_midpoint(14, 8) - 0.719) < 1e-3
    assert mh.candidate_probability(0.9, 14, 8) > 0.999
    assert mh.candidate_probability(0.5, 14, 8) < 0.06
