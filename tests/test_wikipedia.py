"""Wikipedia: the streaming dump reader, wikitext → text on the real enwiki sample, and the
Source end to end in Beam, with truncated, entity-bomb, non-UTF-8 and other-language dumps."""
import bz2
import collections
import io
import json
import re
from pathlib import Path

import pytest

from tests import source_harness as harness

from pipeline import recipe as recipe_mod
from pipeline.sources import wikipedia
from pipeline.sources.wikipedia_dump import DumpError, DumpReader, dump_language, iter_pages
from pipeline.sources.wikitext import wikitext_to_text

ROOT = Path(__file__).resolve().parents[1]
ENWIKI = ROOT.parent / "shared" / "data" / "wikipedia" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SAMPLE = ROOT / "samples" / "wikipedia" / "enwiki-sample-pages-articles.xml.bz2"
RECIPE = recipe_mod.load()
MARKUP = re.compile(r"\{\{|\}\}|\[\[|\]\]|\{\||\|\}|''|<ref|</ref|<!--|-->|&nbsp;|&amp;|\[https?:|<[a-z]+[ />]|__[A-Z]+__")


def run_source(inputs, tmp_path, name="run"):
    return harness.run_source(wikipedia.Source, inputs, tmp_path / name, RECIPE)


def accounting(docs, events):
    return harness.accounting(docs, events)[1]

def test_dump_language():
    assert dump_language("enwiki") == "en"
    assert dump_language("zh_yuewiki") == "zh-yue"
    assert dump_language("enwiktionary") is None
    assert dump_language(None, "https://sv.wikipedia.org/wiki/Huvudsida") == "sv"


def test_iter_pages_real_enwiki():
    with open(ENWIKI, "rb") as f:
        reader = DumpReader(f)
        pages = list(reader)
    assert len(pages) == 206
    assert reader.site["dbname"] == "enwiki" and reader.site["namespaces"][14] == "Category"
    assert {p.lang for p in pages} == {"en"}
    assert sum(p.redirect is not None for p in pages) == 100
    assert pages[0].title == "AccessibleComputing" and pages[0].redirect == "Computer accessibility"


def test_enwiki_sample_has_no_markup_left():
    with open(ENWIKI, "rb") as f:
        articles = [p for p in iter_pages(f) if p.ns == 0 and p.redirect is None]
    assert len(articles) == 106
    for page in articles:
        text = wikitext_to_text(page.text)
        assert text, page.title
        m = MARKUP.search(text)
        assert m is None, (page.title, text[max(0, m.start() - 80): m.end() + 80])
    anarchism = wikitext_to_text(next(p for p in articles if p.title == "Anarchism").text)
    assert anarchism.startswith("Anarchism is a political philosophy")


def test_wikitext_rules():
    src = (
        "{{Infobox x\n| a = b\n}}\n'''Bold''' [[Target|shown text]] and [[Plain link]].<ref>{{cite web |url=http://a.example/x}}</ref>"
        " See [https://b.example labelled] [https://c.example].<!-- hidden -->\n"
        "[[File:P.jpg|thumb|caption [[inner]]]]\n{| class=\"wikitable\"\n| cell\n|}\n== Empty ==\n[[Category:Things]]\n[[de:Ding]]"
    )
    assert wikitext_to_text(src) == "Bold shown text and Plain link. See labelled."


def test_source_on_sample(tmp_path):
    docs, events = run_source([SAMPLE], tmp_path)
    drops = accounting(docs, events)
    assert len(docs) == 10
    assert drops == {"redirect": 1, "non_article_namespace": 1}
    titles = {json.loads(d["meta"])["title"] for d in docs}
    assert "Sourdough" in titles and "Sour dough" not in titles
    sourdough = next(d for d in docs if json.loads(d["meta"])["title"] == "Sourdough")
    assert sourdough["url"] == "https://en.wikipedia.org/wiki/Sourdough"
    assert "Sourdough is a bread made by the fermentation of dough using wild yeast" in sourdough["text"]
    assert "Flour" not in sourdough["text"]  # the table went
    for d in docs:
        assert MARKUP.search(d["text"]) is None and "http" not in d["text"], d["text"]
    again, _ = run_source([SAMPLE], tmp_path, "again")
    assert again == docs


def test_bad_dumps_counted_and_quarantined(tmp_path):
    cut = tmp_path / "enwiki-cut-pages-articles.xml.bz2"
    real = ENWIKI.read_bytes()
    cut.write_bytes(real[: len(real) // 3])  # a real dump whose download broke off (bz2 blocks before it are whole)
    bomb = tmp_path / "bomb-pages-articles.xml"
    bomb.write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE mediawiki [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<mediawiki><siteinfo><dbname>enwiki</dbname></siteinfo>'
        b"<page><title>Bomb</title><ns>0</ns><id>1</id><revision><text>&c;</text></revision></page></mediawiki>"
    )
    page = "<page><title>{t}</title><ns>0</ns><id>{i}</id><revision><text>{x}</text></revision></page>"
    head = "<mediawiki><siteinfo><dbname>dewiki</dbname></siteinfo>"
    latin_undeclared = tmp_path / "dewiki-undeclared-pages-articles.xml"
    latin_undeclared.write_bytes(
        (head + page.format(t="Erster", i=1, x="Ein Artikel ohne Umlaute.") + page.format(t="Köln", i=2, x="Grüße aus Köln.") + "</mediawiki>").encode("latin-1")
    )
    latin_declared = tmp_path / "dewiki-latin1-pages-articles.xml"
    latin_declared.write_bytes(
        ('<?xml version="1.0" encoding="ISO-8859-1"?>' + head + page.format(t="Köln", i=2, x="Grüße aus Köln.") + "</mediawiki>").encode("latin-1")
    )
    japanese = tmp_path / "jawiki-pages-articles.xml.gz"
    import gzip

    japanese.write_bytes(gzip.compress(("<mediawiki><siteinfo><dbname>jawiki</dbname></siteinfo>" + page.format(t="東京", i=3, x="東京は日本の首都である。") + "</mediawiki>").encode("utf-8"), mtime=0))
    inputs = [SAMPLE, cut, bomb, latin_undeclared, latin_declared, japanese]
    docs, events = run_source(inputs, tmp_path)
    drops = accounting(docs, events)
    bad = {(e["reason"], Path(e["path"]).name) for e in events if e["reason"].startswith("bad_input:")}
    assert bad == {
        ("bad_input:truncated_dump", cut.name),
        ("bad_input:xml_entities_forbidden", bomb.name),
        ("bad_input:malformed_xml", latin_undeclared.name),
    }
    assert drops["language_not_kept"] == 1
    by_title = collections.Counter(json.loads(d["meta"])["title"] for d in docs)
    assert by_title["Sourdough"] == 1  # the whole sample survives beside the bad files
    assert by_title["Anarchism"] == 1  # the cut dump's first pages are kept
    assert any(d["text"] == "Grüße aus Köln." and json.loads(d["meta"])["lang"] == "de" for d in docs)
    assert any(json.loads(d["meta"])["title"] == "Erster" for d in docs)  # pages before the bad bytes kept
    assert not any("aaaa" in d["text"] for d in docs)


def test_iter_pages_raises_after_good_pages():
    xml = bz2.decompress(SAMPLE.read_bytes())
    got = []
    with pytest.raises(DumpError) as err:
        for p in iter_pages(io.BytesIO(xml[: len(xml) // 2])):
            got.append(p)
    assert err.value.kind == "truncated_dump" and len(got) >= 3


def test_self_closing_ref_with_slash_in_name_keeps_following_prose():
    src = 'Bread is old.<ref name="BBC/2010"/> Sourdough is older. It rises slowly.<ref>Smith, p. 4</ref> The end.'
    assert wikitext_to_text(src) == "Bread is old. Sourdough is older. It rises slowly. The end."


def test_non_numeric_namespace_is_malformed_xml_not_a_crash(tmp_path):
    dump = tmp_path / "enwiki-badns-pages-articles.xml"
    page = "<page><title>{t}</title><ns>{ns}</ns><id>{i}</id><revision><text>{x}</text></revision></page>"
    dump.write_text("<mediawiki><siteinfo><dbname>enwiki</dbname></siteinfo>"
                    + page.format(t="First", ns=0, i=1, x="A first article.")
                    + page.format(t="Second", ns="zero", i=2, x="A second article.") + "</mediawiki>")
    docs, events = run_source([dump], tmp_path)
    assert accounting(docs, events) == {"bad_input:malformed_xml": 1}
    assert [json.loads(d["meta"])["title"] for d in docs] == ["First"]


def _real_dump_head(pages=4, siteinfo=True, xml_lang=True):
    """The real enwiki sample's first `pages` pages, closed, optionally without its <siteinfo> and
    without the root's xml:lang."""
    xml = bz2.decompress(ENWIKI.read_bytes()).decode("utf-8")
    end = 0
    for _ in range(pages):
        end = xml.index("</page>", end) + len("</page>")
    head = xml[:end] + "\n</mediawiki>\n"
    if not siteinfo:
        head = re.sub(r"<siteinfo>.*?</siteinfo>", "", head, flags=re.S)
    if not xml_lang:
        head = head.replace(' xml:lang="en"', "", 1)
    return head.encode("utf-8")


def test_language_from_xml_lang_then_file_name_without_siteinfo():
    reader = DumpReader(io.BytesIO(_real_dump_head(siteinfo=False)), "dump.xml")
    pages = list(reader)
    assert {p.lang for p in pages} == {"en"} and reader.site["lang_from"] == "xml:lang"
    pages = list(iter_pages(io.BytesIO(_real_dump_head(siteinfo=False, xml_lang=False)),
                            "dewiki-20220601-pages-articles1.xml-p1p297012.bz2"))
    assert len(pages) == 4 and {p.lang for p in pages} == {"de"}
    # siteinfo, when there, decides (also that a dump is of no Wikipedia).
    reader = DumpReader(io.BytesIO(_real_dump_head()), "dewiki-x.xml")
    assert {p.lang for p in reader} == {"en"} and reader.site["lang_from"] == "siteinfo"
    with pytest.raises(DumpError) as err:
        list(iter_pages(io.BytesIO(_real_dump_head(siteinfo=False, xml_lang=False)), "pages-articles.xml", True))
    assert err.value.kind == "unknown_language"
    # A reader that needs no language (the <ref> URL collector) still gets the pages.
    pages = list(iter_pages(io.BytesIO(_real_dump_head(siteinfo=False, xml_lang=False)), "pages-articles.xml"))
    assert len(pages) == 4 and {p.lang for p in pages} == {None}


def test_dump_of_unknown_language_is_bad_input_not_every_page_dropped(tmp_path):
    by_lang = tmp_path / "pages-articles-a.xml"
    by_lang.write_bytes(_real_dump_head(siteinfo=False))
    unknown = tmp_path / "pages-articles-b.xml"
    unknown.write_bytes(_real_dump_head(siteinfo=False, xml_lang=False))
    docs, events = run_source([by_lang, unknown], tmp_path)
    drops = accounting(docs, events)
    assert [(e["reason"], Path(e["path"]).name) for e in events if e["reason"].startswith("bad_input:")] == [
        ("bad_input:unknown_language", unknown.name)]
    assert "language_not_kept" not in drops
    assert docs and {json.loads(d["meta"])["lang"] for d in docs} == {"en"}


def test_streaming_reader_keeps_elementtree_semantics():
    """The parser target reads fields as ElementTree did: a field's text is what precedes its first
    child, the first <title>/<dbname> wins, the last revision's text wins (none: ""), every child
    of <namespaces> counts, pages not directly under the root are not pages, and a second
    <siteinfo> speaks only for the pages after it, wherever the read chunks end."""
    page = "<page><title>{t}</title><ns>0</ns><id>{i}</id><revision><text>x{i}</text></revision></page>"
    two = ("<mediawiki><siteinfo><dbname>dewiki</dbname></siteinfo>" + page.format(t="A", i=1)
           + "<siteinfo><dbname>frwiki</dbname></siteinfo>" + page.format(t="B", i=2) + "</mediawiki>")
    assert [(p.title, p.lang) for p in iter_pages(io.BytesIO(two.encode()))] == [("A", "de"), ("B", "fr")]
    odd = ("<mediawiki><siteinfo><dbname>enwiki</dbname><dbname>dewiki</dbname><namespaces>"
           "<namespace key='1'>Talk</namespace><ns key='2'>User</ns></namespaces></siteinfo>"
           "<x><page><title>Deep</title><ns>0</ns><id>3</id></page></x>"
           "<page><title>A<b/>tail</title><title>Second</title><ns>0</ns><id>5</id>"
           "<revision><text>one</text></revision><revision><id>9</id></revision></page></mediawiki>")
    reader = DumpReader(io.BytesIO(odd.encode()))
    assert [tuple(p)[:6] for p in reader] == [(5, "A", 0, None, "", "en")]
    assert reader.site["namespaces"] == {1: "Talk", 2: "User"} and reader.site["dbname"] == "enwiki"
