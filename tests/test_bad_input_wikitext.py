"""Wikipedia cleaning in linear time (issue 13): nested or unclosed links and a page of headings
cost time in proportion to their size (16 KB of nested `[[` took 25 s, 50k headings > 30 s), and a
page over `max_page_bytes` is one quarantined `bad_input:page_too_large`."""
from __future__ import annotations

import bz2
import io
import time

from common import events as ev
from pipeline.sources import wikipedia, wikitext


def _cpu(fn, *args):
    start = time.process_time()
    out = fn(*args)
    return out, time.process_time() - start


def test_nested_and_unclosed_links_are_linear():
    _, small = _cpu(wikitext.wikitext_to_text, "[[a " * 2000 + "text")
    out, big = _cpu(wikitext.wikitext_to_text, "[[a " * 8000 + "text")
    assert out.endswith("text") and big < 1.0 and big < 8 * small + 0.1  # 4x the input, not 16x the time
    out, cpu = _cpu(wikitext.wikitext_to_text, "Intro words. [[File:x.jpg|thumb|" + "[[" * 8000)
    assert out == "Intro words." and cpu < 1.0  # an unclosed media link runs to the end of the page


def test_remove_balanced_keeps_the_old_meaning():
    drop_media = wikitext._is_media_or_category
    text = "a [[File:x|[[b]] c]] d [[e|f]] [[Category:g]] h [[unclosed"
    assert wikitext._remove_balanced(text, "[[", "]]", drop_media) == "a  d [[e|f]]  h [[unclosed"
    assert wikitext._remove_balanced("x {{a {{b}} c}} y {{z", "{{", "}}", lambda inner: True) == "x  y "


def test_many_headings_are_linear():
    src = "\n".join(f"== Heading {i} ==" for i in range(5_000)) + "\nThe only text.\n== Empty =="
    out, _ = _cpu(wikitext.wikitext_to_text, src)
    assert out == "Heading 4999\n\nThe only text."
    lines = [wikitext._HEADING + f"H{i}" for i in range(50_000)] + ["", "text"]
    kept, cpu = _cpu(wikitext._drop_empty_sections, lines)
    assert kept == ["H49999", "", "text"] and cpu < 0.5  # copied the tail for every heading: ~5 s


def _dump(texts):
    pages = "".join(f"<page><title>P{i}</title><ns>0</ns><id>{i + 1}</id><revision><text>{t}</text></revision></page>"
                    for i, t in enumerate(texts))
    xml = ("<mediawiki><siteinfo><dbname>enwiki</dbname></siteinfo>" + pages + "</mediawiki>").encode()
    return bz2.compress(xml)


def test_page_over_max_page_bytes_is_quarantined():
    data = _dump(["small page text", "x" * 5000, "another page"])
    out = list(wikipedia.read_dump("dump.xml.bz2", io.BytesIO(data), max_page_bytes=1000))
    assert [o.meta["title"] if not isinstance(o, ev.Event) else o.reason for o in out] == [
        "P0", "bad_input:page_too_large", "P2"]
    assert out[1].path == "dump.xml.bz2#page_id=2"
