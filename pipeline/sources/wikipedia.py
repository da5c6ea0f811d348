"""Wikipedia: articles of the 20 LLaMA languages, wikitext turned into plain text.

    dump files ─ ReadPages ─ CleanPages ─ docs
                 (`wikipedia_dump.iter_pages`: streaming, entity-safe, one `read` per page)
                              (namespace 0 only, no redirects, kept languages; `wikitext`)

Inputs (`--wikipedia_input`): `*-pages-articles*.xml[.bz2|.gz]` files; each file is read by one
worker as a stream (Wikimedia splits the big wikis into dozens of `pages-articles<N>` parts,
which is the parallelism). The language is the dump's: `<siteinfo><dbname>` (or `<base>`), else
the root's `xml:lang`, else the file name's `<lang>wiki-` prefix; a dump with none of them is one
`bad_input:unknown_language`, not a `language_not_kept` of every page.

Thresholds: `pipeline/recipes/llama/wikipedia.json` (languages, namespaces, min_chars).
`meta`: title, page_id, lang. `id`: from language and page id; `url`: the article's.
Drop reasons: `non_article_namespace`, `redirect`, `language_not_kept`, `too_short` (after
cleaning), `duplicate_id` (a page id twice), and `bad_input:{truncated_dump, malformed_xml, xml_entities_forbidden,
bad_compression, unknown_language}` (one per file, after the pages before the break, which are kept).
"""
from __future__ import annotations

import functools
from typing import Iterator, Sequence, Union
from urllib.parse import quote

import apache_beam as beam

from common import events as ev
from common.events import Event
from common.record import Document, make_id
from dedup.unique_ids import UniqueIds
from pipeline import inputs as pipeline_inputs
from pipeline.recipe import section
from pipeline.sources.wikipedia_dump import DumpError, Page, iter_pages
from pipeline.sources.wikitext import wikitext_to_text
from pipeline.stages import ApplyFilter, ReadFileOutcomes

SOURCE = "wikipedia"
SAMPLES = ["samples/wikipedia/*.xml.bz2"]


def page_doc(page: Page) -> Document:
    """The raw page as a Document (text = wikitext); cleaning decides whether it stays."""
    lang = page.lang or "unknown"
    url = f"https://{lang}.wikipedia.org/wiki/{quote(page.title.replace(' ', '_'))}" if page.lang else None
    meta = {"title": page.title, "page_id": page.page_id, "lang": page.lang, "ns": page.ns, "redirect": page.redirect}
    return Document(make_id(SOURCE, lang, str(page.page_id)), SOURCE, page.text, url, meta)


def read_dump(path: str, stream, max_page_bytes: int = 4_000_000) -> Iterator[Union[Document, Event]]:
    """Every page of one dump file, then one bad-input event if the file broke off. A page whose
    wikitext is over `max_page_bytes` (MediaWiki itself refuses pages over 2 MB) is one
    `bad_input:page_too_large`, never held (the reader counts its characters past the limit)."""
    try:
        for page in iter_pages(stream, path.split("?")[0], require_language=True, max_text_chars=max_page_bytes):
            if page.text_chars > max_page_bytes:
                yield ev.bad_input(SOURCE, "page_too_large", f"{path}#page_id={page.page_id}",
                                   f"{page.text_chars} characters of wikitext, over max_page_bytes={max_page_bytes}")
                continue
            yield page_doc(page)
    except DumpError as e:
        yield ev.bad_input(SOURCE, e.kind, path, e.detail)


class WikipediaPageCleaner:
    """raw page doc → article doc with plain text, or the drop reason."""

    def __init__(self, cfg: dict):
        self.languages = frozenset(cfg["languages"])
        self.namespaces = frozenset(cfg.get("namespaces", [0]))
        self.min_chars = int(cfg.get("min_chars", 1))

    def __call__(self, doc: Document):
        meta = doc.meta
        if meta["ns"] not in self.namespaces:
            return "non_article_namespace"
        if meta["redirect"] is not None:
            return "redirect"
        if meta["lang"] not in self.languages:
            return "language_not_kept"
        text = wikitext_to_text(doc.text)
        if len(text) < self.min_chars:
            return "too_short"
        return Document(doc.id, doc.source, text, doc.url, {"title": meta["title"], "page_id": meta["page_id"], "lang": meta["lang"]})


class Source(beam.PTransform):
    def __init__(self, inputs: Sequence[str], recipe: dict, options=None):
        super().__init__()
        self.cfg = section(recipe, "wikipedia")
        self.recipe = recipe
        self.inputs = list(inputs)

    def expand(self, pbegin):
        files, input_events = pbegin | "DumpFiles" >> pipeline_inputs.MatchInputs(self.inputs, SOURCE)
        pages = (
            files
            | "ReadPages" >> beam.ParDo(ReadFileOutcomes(
                SOURCE, functools.partial(read_dump, max_page_bytes=int(self.cfg["max_page_bytes"])), "wikipedia_read",
                pipeline_inputs.DownloadLimits.from_recipe(self.recipe)))
            .with_outputs(ev.EVENTS, main="docs")
        )
        # Parsing wikitext costs far more than reading it: spread pages before cleaning.
        spread = pages.docs | "SpreadPages" >> beam.Reshuffle()
        articles, clean_events = spread | "CleanPages" >> ApplyFilter(
            functools.partial(WikipediaPageCleaner, self.cfg), label="wikipedia_clean"
        )
        articles, id_events = articles | "UniqueIds" >> UniqueIds()
        events = (input_events, pages[ev.EVENTS], clean_events, id_events) | "WikipediaEvents" >> beam.Flatten()
        return articles, events
