"""Builds WET files (one gzip member per record, as Common Crawl writes them) with warcio.

Each conversion record's payload starts with the page title on its own line, as Common Crawl's
extractor writes it: pages are (url, text) — the title is then the URL — or (url, text, title)."""
from __future__ import annotations

import io
import uuid
from typing import Iterable, Sequence

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def wet_bytes(pages: Iterable[Sequence[str]], date: str = "2023-02-01T10:00:00Z") -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record("test.warc.wet.gz", {"software": "tests/wet_builder.py"})
    writer.write_record(info)
    for i, page in enumerate(pages):
        url, text = page[0], page[1]
        title = page[2] if len(page) > 2 else url
        headers = StatusAndHeaders("", [
            ("WARC-Type", "conversion"),
            ("WARC-Target-URI", url),
            ("WARC-Date", date),
            ("WARC-Record-ID", '<urn:uuid:%s>' % uuid.uuid5(uuid.NAMESPACE_URL, f'{i}:{url}')),
            ("Content-Type", "text/plain"),
        ], protocol="WARC/1.0")
        record = writer.create_warc_record(url, "conversion", payload=io.BytesIO((title + "\n" + text).encode("utf-8")),
                                           warc_headers=headers)
        writer.write_record(record)
    return buf.getvalue()


def write_wet(path, pages, **kw) -> None:
    with open(path, "wb") as f:
        f.write(wet_bytes(pages, **kw))
