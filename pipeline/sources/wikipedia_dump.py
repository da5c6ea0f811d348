"""Streaming reader of MediaWiki `pages-articles` XML dumps (raw wikitext, no cleaning).

Public API (also used outside the Wikipedia source, e.g. to collect `<ref>` URLs):

    from pipeline.sources.wikipedia_dump import iter_pages, dump_language, DumpReader, DumpError

    with open("enwiki-…-pages-articles1.xml.bz2", "rb") as f:
        for page in iter_pages(f):          # Page(page_id, title, ns, redirect, text, lang)
            ...                             # text: the last revision's raw wikitext ("" if none)

- `iter_pages(binary_stream)`: a generator of `Page`s, in dump order. The stream may be bzip2,
  gzip or plain XML (sniffed from its first bytes, not the file name). Memory stays flat: the
  parser keeps no tree, only the fields of the page being read, and `max_text_chars` bounds its
  wikitext (longer: `text` "" and `text_chars` its length), so one huge element costs the limit.
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
    text_chars: int = 0  # the wikitext's length, also when it was over the reader's limit and not held


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


def file_name_language(name: Optional[str]) -> Optional[str]:
    """`dewiki-20220601-pages-articles1.xml.bz2` → `de` (`zh_yuewiki-…` → `zh-yue`); else None."""
    m = _FILE_NAME.match((name or "").rsplit("/", 1)[-1])
    return m.group(1).replace("_", "-") if m else None


_FEED_CHUNK = 1 << 16
# Bytes fed with no parser event: one token (a start tag, a comment) that big is malformed_xml.
# expat 2.5 rescans an unfinished token on every feed, so while one is open the feeds double in
# size: a token of n bytes costs O(n) scanning, not O(n^2 / chunk).
_STALL_BYTES = 16 << 20


class _PageTarget:
    """ElementTree parser target that keeps only what a `Page` needs: the fields of the page being
    read (its wikitext up to a limit, the rest only counted) and the `<siteinfo>`, never a tree.
    So one huge element costs the limit, not its size, and the next page still reads."""

    _PAGE_FIELDS = {("page", "title"), ("page", "ns"), ("page", "id")}

    def __init__(self, site: Dict, max_text_chars: Optional[int]):
        self.site = site
        self.max_text_chars = max_text_chars
        self.path: list = []
        self.field: Optional[str] = None  # the element whose text is being collected
        self.field_depth = 0
        self.frozen = False  # the field has had a child element: later text is a tail, not its text
        self.siteinfo: dict = {"dbname": None, "base": None}
        self.buf: list = []
        self.held = 0  # characters in buf
        self.seen = 0  # characters of the field, held or not
        self.page: Optional[dict] = None
        self.ready: list = []  # ("siteinfo", fields) / ("page", fields), in document order
        self.events = 0

    def start(self, tag, attrib):
        self.events += 1
        name = _local(tag)
        self.path.append(name)
        depth = len(self.path)
        if depth == 1:
            self.site["xml_lang"] = (attrib.get(XML_LANG) or "").strip().lower() or None
            return
        parent = self.path[-2]
        if depth == 2 and name == "page":
            self.page = {"title": None, "ns": None, "id": None, "redirect": None, "text": "", "text_chars": 0}
        elif depth == 2 and name == "siteinfo":
            self.siteinfo = {"dbname": None, "base": None}
        elif self.page is not None and depth == 3 and name == "redirect":
            self.page["redirect"] = attrib.get("title", "")
        elif self.page is not None and depth == 3 and name == "revision":
            self.page["text"], self.page["text_chars"], self.page["_text_seen"] = "", 0, False
        elif self.field is not None:
            self.frozen = True  # a child inside the field: its text is what came before (ElementTree's .text)
        elif self._collects(depth, parent, name):
            self.field, self.field_depth, self.frozen = name, depth, False
            self.buf, self.held, self.seen = [], 0, 0
            if parent == "namespaces":
                self.ns_key = attrib.get("key")

    def _collects(self, depth: int, parent: str, name: str) -> bool:
        if depth == 3 and self.page is not None:
            return (parent, name) in self._PAGE_FIELDS and self.page[name] is None
        if depth == 4 and self.page is not None:
            return (parent, name) == ("revision", "text") and not self.page["_text_seen"]
        if self.path[1] == "siteinfo":
            if depth == 3:
                return name in ("dbname", "base") and self.siteinfo[name] is None
            return depth == 4 and parent == "namespaces"
        return False

    def data(self, text):
        self.events += 1
        if self.field is None or self.frozen:
            return
        self.seen += len(text)
        if self.field != "text" or self.max_text_chars is None or self.seen <= self.max_text_chars:
            self.buf.append(text)
            self.held += len(text)
        else:
            self.buf, self.held = [], 0  # over the limit: nothing of it is held, the rest only counted

    def end(self, tag):
        self.events += 1
        name = self.path.pop()
        depth = len(self.path) + 1
        if self.field is not None and depth == self.field_depth:
            value, over = "".join(self.buf), self.seen > self.held
            self.field, self.buf = None, []
            if self.page is not None:
                if name == "text":
                    self.page["text"] = "" if over else value
                    self.page["text_chars"], self.page["_text_seen"] = self.seen, True
                else:
                    self.page[name] = value
            elif self.path[-1] == "namespaces":
                self.site["namespaces"][_number(self.ns_key, "namespace key")] = value
            else:
                self.siteinfo[name] = value
        elif depth == 2 and name == "page" and self.page is not None:
            self.ready.append(("page", self.page))
            self.page = None
        elif depth == 2 and name == "siteinfo":
            self.ready.append(("siteinfo", self.siteinfo))

    def close(self):
        return None


class DumpReader:
    def __init__(self, stream: IO[bytes], name: Optional[str] = None, require_language: bool = False,
                 max_text_chars: Optional[int] = None):
        self.stream = stream
        self.name = name
        self.require_language = require_language
        self.max_text_chars = max_text_chars
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
        target = _PageTarget(self.site, self.max_text_chars)
        parser = safe_et.DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
        stalled, size = 0, _FEED_CHUNK
        while True:
            chunk = stream.read(size)
            before = target.events
            try:
                parser.feed(chunk) if chunk else parser.close()
            except Exception:
                yield from self._ready(target)  # the pages finished before the fault are good
                raise
            if not chunk:
                yield from self._ready(target)
                return
            if target.events != before:
                stalled, size = 0, _FEED_CHUNK
            else:
                stalled, size = stalled + len(chunk), min(2 * size, _STALL_BYTES)
            if stalled > _STALL_BYTES:  # expat holds an unfinished token (a start tag) this big
                raise DumpError("malformed_xml", f"one XML token over {_STALL_BYTES} bytes")
            yield from self._ready(target)

    def _ready(self, target: _PageTarget) -> Iterator[Page]:
        ready, target.ready = target.ready, []
        for kind, fields in ready:
            if kind == "siteinfo":
                self._read_siteinfo(fields)
                continue
            if self.site["lang_from"] is None:
                self._fall_back_language()
            yield Page(_number(fields["id"], "id"), fields["title"] or "", _number(fields["ns"], "ns"),
                       fields["redirect"], fields["text"], self.site["lang"], fields["text_chars"])

    def _read_siteinfo(self, fields: dict) -> None:
        self.site["dbname"] = fields["dbname"]
        self.site["base"] = fields["base"]
        self.site["lang"] = dump_language(self.site["dbname"], self.site["base"])
        if self.site["dbname"] or self.site["base"]:  # siteinfo decides, also "not a Wikipedia"
            self.site["lang_from"] = "siteinfo"

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


def iter_pages(binary_stream: IO[bytes], name: Optional[str] = None, require_language: bool = False,
               max_text_chars: Optional[int] = None) -> Iterator[Page]:
    """The pages of a dump, in order; raises `DumpError` after the last good page on bad input.
    `name`: the dump's file name, the last resort for its language. `max_text_chars`: wikitext
    longer than this is not held (`Page.text` is "", `Page.text_chars` says how long it was)."""
    return iter(DumpReader(binary_stream, name, require_language, max_text_chars))
