"""Books: Project Gutenberg without its header and footer, Books3-style texts, book-level dedup.

    files ─ ReadBooks ─ CleanBooks ─ ExactDedup ─ BookOverlapDedup ─ docs
            (one book per .txt/.txt.gz; one per line of a .jsonl)
                        (Gutenberg header/footer stripped: `gutenberg.strip_gutenberg`)
                                     (identical texts: the cheap case first)
                                                  (> 90% shingle containment: `dedup.book_overlap`)

Inputs (`--books_input`):
- plain text, `.txt` or `.txt.gz` (any name; compression sniffed): one book per file. A text
  whose head names Project Gutenberg is corpus `gutenberg`; any other is corpus `books3` (the
  Books3 tarball holds one plain-text file per book);
- JSON lines (`.jsonl`, `.json`, optionally compressed), Books3 as distributed in the Pile:
  `{"text": …, "meta": {…}}` per line (`title` taken from meta or the row when present).
Ids are made from the corpus name and the book's location (Gutenberg: the eBook number and the
file name, as a mirror holds one eBook in several files, `10089.txt`, `10089-8.txt`), so two
corpora never share an id space in the dedup steps, and two copies of a book are two books there.

Thresholds: `pipeline/recipes/llama/books.json`. `meta`: corpus, title, file (and ebook for
Gutenberg). Drop reasons: `gutenberg_markers_missing`, `too_short`, `exact_duplicate`,
`book_overlap`, `duplicate_id`, `bad_input:{not_utf8, truncated_gzip, malformed_json, book_too_large}` (a book, or a
JSON line, over `max_book_bytes` decompressed: a gzip bomb is never inflated whole).
"""
from __future__ import annotations

import functools
import json
import posixpath
import zlib
from typing import Iterator, Sequence, Union

import apache_beam as beam

from common import events as ev
from common.events import Event
from common.record import Document, make_id
from dedup.book_overlap import BookOverlapDedup
from dedup.exact import ExactDedup, content_key
from dedup.unique_ids import UniqueIds
from pipeline import inputs as pipeline_inputs
from pipeline.bounded import iter_lines, read_at_most
from pipeline.recipe import section
from pipeline.sources import gutenberg
from pipeline.stages import ApplyFilter, ReadFileOutcomes

SOURCE = "books"
SAMPLES = ["samples/books/*.txt", "samples/books/*.jsonl"]
_STREAM_ERRORS = (EOFError, OSError, zlib.error)


def _stem(path: str) -> str:
    name = posixpath.basename(path)
    for suffix in (".gz", ".bz2", ".txt", ".jsonl", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def book_from_text(path: str, text: str) -> Document:
    name = posixpath.basename(path)
    if gutenberg.looks_like_gutenberg(text):
        number = gutenberg.ebook_number(text)
        meta = {"corpus": "gutenberg", "ebook": number, "title": gutenberg.title_of(text), "file": name}
        doc_id = make_id(SOURCE, "gutenberg", number or _stem(path), name)
        url = f"https://www.gutenberg.org/ebooks/{number}" if number else None
        return Document(doc_id, SOURCE, text, url, meta)
    meta = {"corpus": "books3", "title": _stem(path), "file": name}
    return Document(make_id(SOURCE, "books3", _stem(path)), SOURCE, text, None, meta)


def read_text_book(path: str, raw, max_book_bytes: int) -> Iterator[Union[Document, Event]]:
    try:
        data, over = read_at_most(pipeline_inputs.decompressed(raw), max_book_bytes)
    except _STREAM_ERRORS as e:
        yield ev.bad_input(SOURCE, "truncated_gzip", path, repr(e))
        return
    if over:  # a gzip bomb, or no book: never inflated whole
        yield ev.bad_input(SOURCE, "book_too_large", path, f"over max_book_bytes={max_book_bytes} decompressed", len(data))
        return
    text = gutenberg.decode_book(data)
    if text is None:
        yield ev.bad_input(SOURCE, "not_utf8", path, "not UTF-8 and no declared encoding", len(data))
        return
    yield book_from_text(path, text)


def read_jsonl_books(path: str, raw, max_book_bytes: int) -> Iterator[Union[Document, Event]]:
    lineno = 0
    try:
        for lineno, line in iter_lines(pipeline_inputs.decompressed(raw), max_book_bytes):
            if line is None:
                yield ev.bad_input(SOURCE, "book_too_large", f"{path}:{lineno}", f"line over max_book_bytes={max_book_bytes}")
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
                if not isinstance(text, str):
                    raise TypeError("text is not a string")
                row_meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
                title = str(row_meta.get("title") or row.get("title") or f"{_stem(path)}:{lineno}")
                # a "\ud800" escape decodes to a lone surrogate: not text, and the sink could not write it
                text.encode("utf-8"), title.encode("utf-8")
            except UnicodeDecodeError as e:
                yield ev.bad_input(SOURCE, "not_utf8", f"{path}:{lineno}", str(e), len(line))
                continue
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:  # RecursionError: absurd nesting
                yield ev.bad_input(SOURCE, "malformed_json", f"{path}:{lineno}", repr(e), len(line))
                continue
            meta = {"corpus": "books3", "title": title, "file": posixpath.basename(path)}
            yield Document(make_id(SOURCE, "books3", _stem(path), str(lineno)), SOURCE, text, None, meta)
    except _STREAM_ERRORS as e:
        yield ev.bad_input(SOURCE, "truncated_gzip", path, f"after line {lineno}: {e!r}")


def read_books(path: str, raw, max_book_bytes: int = 100_000_000) -> Iterator[Union[Document, Event]]:
    lower = path.lower()
    if lower.endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz", ".jsonl.bz2")):
        yield from read_jsonl_books(path, raw, max_book_bytes)
    else:
        yield from read_text_book(path, raw, max_book_bytes)


class BookCleaner:
    """book → book with the body only (Gutenberg), newlines normalised; or a drop reason."""

    def __init__(self, cfg: dict):
        self.min_chars = int(cfg["min_chars"])

    def __call__(self, doc: Document):
        text = doc.text
        if doc.meta.get("corpus") == "gutenberg":
            text = gutenberg.strip_gutenberg(text)
            if text is None:
                return "gutenberg_markers_missing"
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
        if len(text.strip()) < self.min_chars:
            return "too_short"
        return doc.with_text(text)


class Source(beam.PTransform):
    def __init__(self, inputs: Sequence[str], recipe: dict, options=None):
        super().__init__()
        self.cfg = section(recipe, "books")
        self.recipe = recipe
        self.inputs = list(inputs)

    def expand(self, pbegin):
        cfg = self.cfg
        files, input_events = pbegin | "BookFiles" >> pipeline_inputs.MatchInputs(self.inputs, SOURCE)
        read = (
            files
            | "ReadBooks" >> beam.ParDo(ReadFileOutcomes(
                SOURCE, functools.partial(read_books, max_book_bytes=int(cfg["max_book_bytes"])), "books_read",
                pipeline_inputs.DownloadLimits.from_recipe(self.recipe)))
            .with_outputs(ev.EVENTS, main="docs")
        )
        cleaned, clean_events = read.docs | "CleanBooks" >> ApplyFilter(functools.partial(BookCleaner, cfg), label="books_clean")
        unique, exact_events = cleaned | "ExactDedup" >> ExactDedup(key_fn=content_key, label="books_exact_dedup")
        kept, overlap_events = unique | "BookOverlapDedup" >> BookOverlapDedup(
            shingle_words=cfg["shingle_words"],
            threshold=cfg["containment_threshold"],
            sample_mod=cfg["shingle_sample_mod"],
            max_books_per_shingle=cfg["max_books_per_shingle"],
            label="books_overlap",
        )
        kept, id_events = kept | "UniqueIds" >> UniqueIds()
        events = (input_events, read[ev.EVENTS], clean_events, exact_events, overlap_events, id_events) | "BooksEvents" >> beam.Flatten()
        return kept, events
