"""Web text from WARC-family files: WET `conversion` records as they are, WARC `response` records
of HTML pages through resiliparse's main-content extractor. Plain functions, no Beam."""
from __future__ import annotations

from typing import Optional, Tuple

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

from pipeline.sources.warc_io import Record

TEXT_RECORD = "conversion"
HTML_RECORD = "response"


def is_document(record: Record) -> bool:
    """Records that are documents: WET conversions and WARC responses (requests, metadata,
    warcinfo describe documents and are not counted)."""
    return record.type in (TEXT_RECORD, HTML_RECORD)


def record_text(record: Record, main_content: bool = True) -> Tuple[Optional[str], str]:
    """(text, "") for a usable record, or (None, reason) for one that holds no text."""
    if record.type == TEXT_RECORD:
        try:
            return record.payload.decode("utf-8"), ""
        except UnicodeDecodeError:
            return None, "bad_input:bad_encoding"
    content_type = (record.http_headers or {}).get("content-type", "")
    if "html" not in content_type.lower():
        return None, "warc_not_html"
    html = bytes_to_str(record.payload, detect_encoding(record.payload))
    text = extract_plain_text(HTMLTree.parse(html), main_content=main_content, alt_texts=False)
    return text.strip(), ""
