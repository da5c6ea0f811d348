"""C4's steps through Beam on real C4 pages: released JSON taken as released by default; with
`c4.released_json.clean=true` (and always for WET input) URL dedup, the rules, TFDS's line dedup
and the sentence count re-checked on what the dedup left."""
from __future__ import annotations

import gzip
import json

from common import events as ev
from common.record import make_id
from dedup.repeats import doc_key
from pipeline import recipe as recipes
from pipeline.sources.c4 import normalize_url
from tests.quality_fixtures import c4_records
from tests.test_c4 import _run_source

CLEAN = "c4.released_json.clean=true"


def write_jsonl(path, records):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return str(path)


def pages(n):
    """Real C4 pages of at least four lines."""
    return [r for r in c4_records() if len(r["text"].split("\n")) >= 4][:n]


def drops(events):
    return sorted(e.reason for e in events if e.kind == ev.DROP)


def test_released_json_is_taken_as_released_by_default(tmp_path):
    a, b = pages(2)
    menu = dict(b, url=b["url"] + "#menu", text=b["text"] + "\nHome\nContact us")
    path = write_jsonl(tmp_path / "c4-train.json.gz", [a, a, menu])
    docs, events = _run_source([path])
    assert sorted(d.text for d in docs) == sorted([a["text"], a["text"], menu["text"]])  # nothing cleaned
    assert drops(events) == []
    # Asked for, C4's steps run on it: the repeated URL goes, the menu lines go.
    docs, events = _run_source([path], recipes.load(overrides=[CLEAN]))
    assert sorted(d.text for d in docs) == sorted([a["text"], b["text"]])
    assert drops(events) == ["c4_duplicate_url"]


def test_sentences_recounted_after_the_line_dedup(tmp_path):
    a, = pages(1)
    lines = a["text"].split("\n")
    own = next(l for r in c4_records() for l in r["text"].split("\n")
               if l not in a["text"] and l.count(".") == 1 and l.endswith(".") and len(l.split()) > 6)
    # b: two lines of a and one sentence of its own — three sentences, so it passes the rules; it
    # must lose the shared lines to a, so a needs the smaller document key.
    b_text = "\n".join(lines[:2] + [own])
    name = "c4-train.json.gz"
    url_b = next(f"https://example.org/{i}" for i in range(100)
                 if doc_key(make_id("c4", name, "2", f"https://example.org/{i}")) > doc_key(make_id("c4", name, "1", a["url"])))
    path = write_jsonl(tmp_path / name, [a, dict(a, url=url_b, text=b_text)])
    docs, events = _run_source([path], recipes.load(overrides=[CLEAN]))
    assert [d.text for d in docs] == [a["text"]]
    assert drops(events) == ["c4_too_few_sentences_after_dedup"]
    # The dedup is what took b's sentences: without it, b stays whole.
    docs, events = _run_source([path], recipes.load(overrides=[CLEAN, "c4.span_dedup.enabled=false"]))
    assert sorted(d.text for d in docs) == sorted([a["text"], b_text]) and drops(events) == []


def test_line_dedup_keeps_each_line_once(tmp_path):
    a, b = pages(2)
    shared = a["text"].split("\n")[0]
    b2 = dict(b, text=b["text"] + "\n" + shared.upper())  # compared lowercased, as TFDS does
    path = write_jsonl(tmp_path / "c4-train.json.gz", [a, b2])
    docs, _ = _run_source([path], recipes.load(overrides=[CLEAN]))
    texts = "\n".join(d.text for d in docs).lower().split("\n")
    assert texts.count(shared.lower()) == 1 and len(docs) == 2


def test_newest_page_of_a_normalised_url_kept(tmp_path):
    a, b = pages(2)
    assert normalize_url("https://www.example.org/a/?utm_source=x") == normalize_url("http://example.org/a") == "example.org/a"
    assert normalize_url("https://example.org/a?id=3") == "example.org/a?id=3"
    old = dict(a, url="http://www.example.org/page/", timestamp="2019-04-18T10:00:00Z")
    new = dict(b, url="https://example.org/page?ref=feed", timestamp="2019-04-25T10:00:00Z")
    path = write_jsonl(tmp_path / "c4-train.json.gz", [new, old])
    docs, events = _run_source([path], recipes.load(overrides=[CLEAN]))
    assert [d.text for d in docs] == [b["text"]] and drops(events) == ["c4_duplicate_url"]
