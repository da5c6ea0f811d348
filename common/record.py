"""The one document record of the project, and its one Arrow schema.

Every reader produces `Document`s; every stage passes them on; the Parquet sink writes them with
`ARROW_SCHEMA`. `meta` holds source-specific fields as a plain dict in memory and is written as a
JSON string (sorted keys, so the bytes are deterministic).

Declared meta fields (`Column`s) are also written as typed, nullable Parquet columns beside `meta`,
so a DuckDB or Arrow reader filters on them without parsing JSON: `META_COLUMNS` for every run
(language, perplexity bucket, title, …), plus the rule signals a recipe turns on
(`pipeline.web_rules.signal_columns`). A value of another type than declared is written as null
(never a crash); fields declared `in_meta=False` live in their column only, and `from_row` puts
them back into `meta`.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple, Optional

import pyarrow as pa


class Document(NamedTuple):
    id: str
    source: str
    text: str
    url: Optional[str]
    meta: dict

    def with_text(self, text: str) -> "Document":
        return self._replace(text=text)

    def with_meta(self, **fields: Any) -> "Document":
        meta = dict(self.meta)
        meta.update(fields)
        return self._replace(meta=meta)

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8"))


ARROW_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=True),
        pa.field("meta", pa.string(), nullable=False),
    ]
)


class Column(NamedTuple):
    name: str  # the meta key and the column name
    kind: str  # "string", "float", "int" or "bool"
    in_meta: bool = True  # also kept in the meta JSON (fields that readers already read there)


ARROW_TYPES = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_()}

META_COLUMNS = (
    Column("language", "string"),  # lid label (CommonCrawl, C4, Wikipedia); GitHub: the programming language
    Column("language_score", "float"),
    Column("lang", "string"),  # Wikipedia's dump language
    Column("perplexity", "float"),
    Column("bucket", "string"),  # head / middle / tail
    Column("wikiref_score", "float"),
    Column("wikiref_applied", "bool"),
    Column("title", "string"),
    Column("timestamp", "string"),
    Column("license", "string"),
    Column("repo", "string"),
    Column("nlines", "int"),
    Column("original_length", "int"),
)


def _typed(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if kind == "int":
        return value if isinstance(value, int) and -2 ** 63 <= value < 2 ** 63 else None
    return float(value) if isinstance(value, (int, float)) else None


def split_meta(meta: dict, columns) -> tuple:
    """(meta JSON without the column-only fields, the columns' typed values)."""
    values = tuple(_typed(c.kind, meta.get(c.name)) for c in columns)
    moved = [c.name for c in columns if not c.in_meta and c.name in meta]
    if moved:
        meta = {k: v for k, v in meta.items() if k not in moved}
    return meta_json(meta), values


def curated_schema(columns=()) -> pa.Schema:
    return pa.schema(list(ARROW_SCHEMA) + [pa.field(c.name, ARROW_TYPES[c.kind], nullable=True) for c in columns])


def make_id(source: str, *parts: str) -> str:
    """A stable id from the source name and the document's location or content.

    Same inputs, same id on every run and every runner: `source/` + 32 hex chars of SHA-1.
    """
    h = hashlib.sha1()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return f"{source}/{h.hexdigest()[:32]}"


def meta_json(meta: dict) -> str:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def to_row(doc: Document) -> dict:
    return {"id": doc.id, "source": doc.source, "text": doc.text, "url": doc.url, "meta": meta_json(doc.meta)}


def from_row(row: dict) -> Document:
    """A row read back (any columns); column-only fields go back into meta."""
    meta = json.loads(row["meta"] or "{}")
    for key, value in row.items():
        if key not in _BASE_FIELDS and value is not None and key not in meta:
            meta[key] = value
    return Document(row["id"], row["source"], row["text"], row.get("url"), meta)


_BASE_FIELDS = frozenset(ARROW_SCHEMA.names)
