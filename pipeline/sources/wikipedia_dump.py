"""Streaming reader of MediaWiki `pages-articles` XML dumps (raw wikitext, no cleaning).

Public API (also used outside the Wikipedia source, e.g. to collect `<ref>` URLs):

    from pipeline.sources.wikipedia_dump import iter_pages, dump_language, DumpReader, DumpError

    with open("enwiki-…-pages-articles1.xml.bz2", "rb") as f:
        for page in iter_pages(f):          # Page(page_id, title, ns, redirect, text, lang)
            ...                             # text: the last revision's raw wikitext ("" if none)

- `iter_pages(binary_stream)`: a generator of `Page`s, in dump order. The stream may be bzip2,
  gzip or plain XML (sniffed from its first bytes, not the file name). Memory stays flat: each
  page's elements are freed once it is yielded.
- `Page.lang` is the dump's language, from `<siteinfo><dbname>` (`enwiki` → `en`, `zh_yuewiki`
  → `zh-yue`), else from `<base>`'s host; `None` for a dump of no Wikipedia. A dump whose
  `<siteinfo>` names neither (or that has none) says its language by the root's `xml:lang`, else
  by its file name's `<lang>wiki-` prefix (`iter_pages(stream, name)`); with none of them, a
  reader asked to `require_language` raises `DumpError("unknown_language")` at the first page
  instead of guessing (the others leave `lang` None: collecting `<ref>` URLs needs no language).
  `Page.ns` is the namespace number (0 = articles); `Page.redirect` the redirect target or None.
- `dump_language(dbname, base=None)`: that mapping, on its own.
- `DumpReader(stream, name=None, require_language=False)`: the same iteration, plus `.site` (dbname, lang, base, namespaces
  {number: local name}, xml_lang, lang_from: where the language came from) filled once
  `<siteinfo>` has been read.
- Errors: after the pages read so far, the generator raises `DumpError(kind, detail)` with
  kind `truncated_dump` (stream or XML ends early), `malformed_xml` (includes bytes that are not in
  the declared encoding), `xml_entities_forbidden` (any entity declaration: the input is never
  expanded, so an entity-expansion bomb costs nothing), `bad_compression` or `unknown_language`. Callers count the
  pages they got and report the error as one bad input.
- Encodings: whatever the XML declaration says (UTF-8 when none), decoded by the XML parser.
"""
from __future__ import annotations

import re
import zlib
from typing import IO, Dict, Iterator, NamedTuple, Optional
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from pipeline.inputs import decompressed


class Page(NamedTuple):
    page_id: int
    title: str
    ns: int
    redirect: Optional[str]
    text: str
    lang: Optional[str]


class DumpError(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


_DBNAME = re.compile(r"^([a-z0-9_]+?)wiki$")
_BASE_HOST = re.compile(r"^https?://([a-z0-9-]+)\.wikipedia\.org/")
_FILE_NAME = re.compile(r"^([a-z0-9_]+?)wiki-")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def dump_language(dbname: Optional[str], base: Optional[str] = None) -> Optional[str]:
    """The language code of a Wikipedia dump: `dewiki` → `de`; `None` for other projects."""
    if dbname:
        m = _DBNAME.match(dbname.strip())
        if m:
            return m.group(1).replace("_", "-")
        return None
    if base:
        m = _BASE_HOST.match(base.strip())
        if m:
            return m.group(1)
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _number(text: Optional[str], field: str) -> int:
    """A numeric field (`<ns>`, `<id>`, a namespace key); a non-number makes the XML malformed."""
    try:
        return int(text or 0)
    except ValueError:
        raise DumpError("malformed_xml", f"<{field}> is not a number: {text[:50]!r}") from None


def _child_text(elem, name: str) -> Optional[str]:
    for child in elem:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def file_name_language(name: Optional[str]) -> Optional[str]:
    """`dewiki-20220601-pages-articles1.xml.bz2` → `de` (`zh_yuewiki-…` → `zh-yue`); else None."""
    m = _FILE_NAME.match((name or "").rsplit("/", 1)[-1])
    return m.group(1).replace("_", "-") if m else None


class DumpReader:
    def __init__(self, stream: IO[bytes], name: Optional[str] = None, require_language: bool = False):
        self.stream = stream
        self.name = name
        self.require_language = require_language
        self.site: Dict = {"dbname": None, "lang": None, "base": None, "namespaces": {}, "xml_lang": None,
                           "lang_from": None}

    def __iter__(self) -> Iterator[Page]:
        try:
            yield from self._pages()
        except DefusedXmlException as e:
            raise DumpError("xml_entities_forbidden", repr(e)) from None
        except ParseError as e:
            # expat's "no element found" / "unclosed token" at the very end: the file was cut.
            msg = str(e)
            kind = "truncated_dump" if msg.startswith(("no element found", "unclosed token")) else "malformed_xml"
            raise DumpError(kind, msg) from None
        except EOFError as e:
            raise DumpError("truncated_dump", repr(e)) from None
        except (LookupError, ValueError) as e:  # an XML declaration naming an encoding expat cannot read (fuzz/)
            raise DumpError("malformed_xml", f"unsupported encoding: {type(e).__name__}: {e}") from None
        except (OSError, zlib.error) as e:
            raise DumpError("bad_compression", repr(e)) from None

    def _pages(self) -> Iterator[Page]:
        stream = decompressed(self.stream)
        root = None
        depth = 0
        for event, elem in safe_et.iterparse(stream, events=("start", "end")):
            if event == "start":
                if root is None:
                    root = elem
                    self.site["xml_lang"] = (elem.get(XML_LANG) or "").strip().lower() or None
                depth += 1
                continue
            depth -= 1
            name = _local(elem.tag)
            if name == "siteinfo":
                self._read_siteinfo(elem)
                root.clear()
            elif name == "page" and depth == 1:
                if self.site["lang_from"] is None:
                    self._fall_back_language()
                yield self._page(elem)
                root.clear()  # frees the page just yielded: memory stays flat

    def _read_siteinfo(self, elem) -> None:
        self.site["dbname"] = _child_text(elem, "dbname")
        self.site["base"] = _child_text(elem, "base")
        self.site["lang"] = dump_language(self.site["dbname"], self.site["base"])
        if self.site["dbname"] or self.site["base"]:  # siteinfo decides, also "not a Wikipedia"
            self.site["lang_from"] = "siteinfo"
        for child in elem:
            if _local(child.tag) == "namespaces":
                for ns in child:
                    self.site["namespaces"][_number(ns.get("key"), "namespace key")] = ns.text or ""

    def _fall_back_language(self) -> None:
        """No `<siteinfo>` language: the root's `xml:lang`, else the file name; else None, or an
        error if the caller requires a language."""
        for where, lang in (("xml:lang", self.site["xml_lang"]), ("file name", file_name_language(self.name))):
            if lang:
                self.site["lang"], self.site["lang_from"] = lang, where
                return
        self.site["lang_from"] = "none"
        if self.require_language:
            raise DumpError("unknown_language", "no <siteinfo> dbname/base, no xml:lang on the root, and the file "
                            f"name {self.name!r} has no '<lang>wiki-' prefix")

    def _page(self, elem) -> Page:
        title = _child_text(elem, "title") or ""
        ns = _number(_child_text(elem, "ns"), "ns")
        page_id = _number(_child_text(elem, "id"), "id")
        redirect = None
        text = ""
        for child in elem:
            name = _local(child.tag)
            if name == "redirect":
                redirect = child.get("title", "")
            elif name == "revision":  # the last revision wins (history dumps hold several)
                text = _child_text(child, "text") or ""
        return Page(page_id, title, ns, redirect, text, self.site["lang"])


def iter_pages(binary_stream: IO[bytes], name: Optional[str] = None, require_language: bool = False) -> Iterator[Page]:
    """The pages of a dump, in order; raises `DumpError` after the last good page on bad input.
    `name`: the dump's file name, the last resort for its language."""
    return iter(DumpReader(binary_stream, name, require_language))
