"""The one document record of the project, and its one Arrow schema.

Every reader produces `Document`s; every stage passes them on; the Parquet sink writes them with
`ARROW_SCHEMA`. `meta` holds source-specific fields as a plain dict in memory and is written as a
JSON string (sorted keys, so the bytes are deterministic).
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
    return Document(row["id"], row["source"], row["text"], row.get("url"), json.loads(row["meta"] or "{}"))
