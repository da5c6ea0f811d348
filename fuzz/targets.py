"""One fuzz target per reader: `bytes -> None`, raising only on a bug.

Each target feeds the input to the plain reader as a file would, and checks what docs/bad-input.md
promises: every outcome is a document or a counted bad unit (an exception escaping is a crash),
and the number of outcomes is bounded by the input's size (no-progress guard: a reader that keeps
yielding without consuming input is a hang, reported at once instead of after the timeout).
Time and memory per input are guarded by libFuzzer (`-timeout`, `-rss_limit_mb`, fuzz/run.py).
The targets are plain functions: the seeds replay through them in the test suite without atheris.
"""
from __future__ import annotations

import contextlib
import io
from typing import Callable, Dict

NAMES = ("warc", "wikipedia", "stackexchange", "latex", "github_archive", "jsonl", "http_body")


class NoProgress(AssertionError):
    pass


def _bounded(outcomes, data: bytes, per_byte: float = 1.0):
    """The outcomes, at most one per input byte (plus a few): more means a loop, not a parse."""
    limit = int(len(data) * per_byte) + 8
    for n, outcome in enumerate(outcomes, 1):
        if n > limit:
            raise NoProgress(f"{n} outcomes from {len(data)} bytes")
        yield outcome


def _writable(doc) -> None:
    """What the sink will do with a document must work: every field UTF-8, meta JSON."""
    from common.record import meta_json

    for value in (doc.id, doc.source, doc.text, doc.url or "", meta_json(doc.meta)):
        value.encode("utf-8")


def _warc() -> Callable[[bytes], None]:
    from pipeline.sources.warc_io import BadUnit, Limits, Record, iter_records

    limits = Limits(max_record_bytes=1 << 16, max_member_bytes=1 << 20, max_header_bytes=1 << 12, max_decoded_bytes=1 << 20)

    def one(data: bytes) -> None:
        for rec in _bounded(iter_records(io.BytesIO(data), limits), data):
            assert isinstance(rec, (Record, BadUnit)), type(rec)
            if isinstance(rec, Record):
                assert len(rec.payload) <= max(limits.max_record_bytes, limits.max_decoded_bytes)
    return one


# The HTTP head an http_body input stands for: its first byte picks the codings (below), whether a
# Content-Length is declared and whether the record is marked truncated; the rest is the body.
HTTP_CODINGS = ("", "gzip", "deflate", "br", "zstd", "gzip, br", "x-gzip", "compress")


def http_head(selector: int, body_len: int) -> tuple:
    """(HTTP headers by lower-case name, cut_ok) for selector byte `selector`."""
    headers = {"content-type": "text/html"}
    coding = HTTP_CODINGS[selector & 7]
    if coding:
        headers["content-encoding"] = coding
    if selector & 8:
        headers["transfer-encoding"] = "chunked"
    elif selector & 16:
        headers["content-length"] = str(body_len + (selector >> 6))  # sometimes more than there is
    return headers, bool(selector & 32)


def _http_body() -> Callable[[bytes], None]:
    from pipeline.sources import http_body, webtext

    max_bytes = 1 << 20
    reasons = {http_body.BAD_CHUNKING, http_body.TRUNCATED, http_body.BAD_ENCODING, http_body.UNKNOWN_ENCODING,
               http_body.TOO_LARGE}

    def one(data: bytes) -> None:
        if not data:
            return
        headers, cut_ok = http_head(data[0], len(data) - 1)
        out = http_body.decode(headers, data[1:], max_bytes, cut_ok)
        if isinstance(out, http_body.BodyError):
            assert out.reason in reasons, out
        else:
            assert isinstance(out, bytes) and len(out) <= max_bytes
            assert isinstance(webtext.page_text(out[:4096], "text/html; charset=utf-16"), str)
    return one


def _wikipedia() -> Callable[[bytes], None]:
    from common.events import Event
    from pipeline.sources.wikipedia import read_dump
    from pipeline.sources.wikitext import wikitext_to_text

    # Limits far under the inputs' 4 KiB, so that the over-limit paths are fuzzed too.
    def one(data: bytes) -> None:
        if data[:1] == b"<":  # a dump: pages, each cleaned
            for out in _bounded(read_dump("fuzz.xml", io.BytesIO(data), max_page_bytes=1 << 10), data):
                if not isinstance(out, Event):
                    _writable(out)
                    _writable(out.with_text(wikitext_to_text(out.text)))
        else:  # wikitext on its own
            assert isinstance(wikitext_to_text(data.decode("utf-8", "replace")), str)
    return one


def _stackexchange() -> Callable[[bytes], None]:
    from pipeline.sources import se_posts
    from pipeline.sources.stackexchange import iter_file_posts

    def one(data: bytes) -> None:
        if data.startswith(b"7z\xbc\xaf\x27\x1c"):
            return  # py7zr's container (see fuzz/seeds.py): not fuzzed here
        for post in _bounded(iter_file_posts("fuzz.stackexchange.com-Posts.xml", io.BytesIO(data), max_row_bytes=1 << 10), data):
            if isinstance(post, se_posts.Post):
                assert isinstance(se_posts.html_to_text(post.body), str)
            else:
                assert post is None or isinstance(post, (se_posts.BadRow, se_posts.BadFile)), type(post)
    return one


def _latex() -> Callable[[bytes], None]:
    from pipeline import recipe
    from pipeline.sources import arxiv, latex

    # The budgets' fixed slack (1M characters) would let every small input scan that much in
    # instrumented (slow) code; a small one makes the size-proportional budgets bite at fuzz sizes.
    cfg = dict(recipe.load("llama")["arxiv"], expansion_slack_chars=20_000)
    read_cfg = arxiv.ReadConfig.from_recipe(cfg)
    clean_cfg = latex.CleanConfig.from_recipe(cfg)

    def one(data: bytes) -> None:
        if data[:2] == b"\x1f\x8b" or data[257:262] == b"ustar":  # an e-print or a tar: read, then clean
            for unit in _bounded(arxiv.read_input("2401.00001.gz", io.BytesIO(data), read_cfg), data):
                if isinstance(unit, arxiv.EPrint):
                    cleaned = arxiv.decode_and_clean(unit, cfg)
                    if cleaned.doc is not None:
                        _writable(cleaned.doc)
        else:
            latex.clean_eprint({"main.tex": data.decode("utf-8", "replace")}, clean_cfg)
    return one


def _github_archive() -> Callable[[bytes], None]:
    from common.events import Event
    from common.record import Document
    from pipeline import recipe
    from pipeline.sources import github_read

    adm = github_read.Admission.from_recipe(recipe.load("llama")["github"])

    def one(data: bytes) -> None:
        opener = lambda path: contextlib.nullcontext(io.BytesIO(data))  # noqa: E731 (read twice: fresh each time)
        reader = github_read.read_zip if data[:2] == b"PK" else github_read.read_tar
        name = "repo-1.0.zip" if data[:2] == b"PK" else "repo-1.0.tar.gz"
        for out in _bounded(reader(name, opener, adm), data, per_byte=2.0):
            assert isinstance(out, (Document, Event)), type(out)
            if isinstance(out, Document):
                _writable(out)
    return one


def _jsonl() -> Callable[[bytes], None]:
    from common.events import Event
    from common.record import Document
    from pipeline import recipe
    from pipeline.sources import books, c4, github_read

    adm = github_read.Admission.from_recipe(recipe.load("llama")["github"])._replace(max_row_bytes=1 << 16)

    def one(data: bytes) -> None:
        readers = (
            lambda: books.read_jsonl_books("books3.jsonl", io.BytesIO(data), 1 << 16),
            lambda: github_read.read_bigquery_jsonl("export.jsonl", io.BytesIO(data), adm),
            lambda: c4.read_c4_file("c4.json", io.BytesIO(data)),
        )
        for make in readers:
            for out in _bounded(make(), data):
                assert isinstance(out, (Document, Event)), type(out)
                if isinstance(out, Document):
                    _writable(out)
    return one


_FACTORIES: Dict[str, Callable[[], Callable[[bytes], None]]] = {
    "warc": _warc, "wikipedia": _wikipedia, "stackexchange": _stackexchange, "latex": _latex,
    "github_archive": _github_archive, "jsonl": _jsonl, "http_body": _http_body,
}


def preload() -> None:
    """Import the heavy libraries first, so that instrumenting our modules leaves theirs alone."""
    import apache_beam  # noqa: F401
    import brotli  # noqa: F401
    import defusedxml.ElementTree  # noqa: F401
    import mwparserfromhell  # noqa: F401
    import py7zr  # noqa: F401
    import pyarrow  # noqa: F401
    import resiliparse.parse.encoding  # noqa: F401
    import zstandard  # noqa: F401

    import filters.code_heuristics  # noqa: F401
    import filters.licenses  # noqa: F401


def load(name: str) -> Callable[[bytes], None]:
    return _FACTORIES[name]()
