"""Builds WET files (one gzip member per record, as Common Crawl writes them) with warcio."""
from __future__ import annotations

import io
import uuid
from typing import Iterable, Tuple

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def wet_bytes(pages: Iterable[Tuple[str, str]], date: str = "2023-02-01T10:00:00Z") -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record("test.warc.wet.gz", {"software": "tests/wet_builder.py"})
    writer.write_record(info)
    for i, (url, text) in enumerate(pages):
        headers = StatusAndHeaders("", [
            ("WARC-Type", "conversion"),
            ("WARC-Target-URI", url),
            ("WARC-Date", date),
            ("WARC-Record-ID", '<urn:uuid:%s>' % uuid.uuid5(uuid.NAMESPACE_URL, f'{i}:{url}')),
            ("Content-Type", "text/plain"),
        ], protocol="WARC/1.0")
        record = writer.create_warc_record(url, "conversion", payload=io.BytesIO(text.encode("utf-8")),
                                           warc_headers=headers)
        writer.write_record(record)
    return buf.getvalue()


def write_wet(path, pages, **kw) -> None:
    with open(path, "wb") as f:
        f.write(wet_bytes(pages, **kw))
