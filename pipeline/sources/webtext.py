"""Web text from WARC-family files: WET `conversion` records as cc_net reads them, WARC `response`
records of HTML pages through resiliparse's main-content extractor. Plain functions, no Beam.

A WET conversion record's first line is the page title (Common Crawl's extractor writes it there):
cc_net (`process_wet_file.parse_doc`) strips every line, keeps the first as `title` and the rest as
`raw_content`, and its `min_len` counts `raw_content` alone. `wet_title_and_body` does the same."""
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


def wet_title_and_body(payload: str) -> Tuple[str, str]:
    """(title, body) of a WET conversion payload, cc_net's way: lines stripped, the first is the
    title, the rest the body (its trailing empty lines, the record separator's, dropped)."""
    lines = [line.strip() for line in payload.split("\n")]
    body = lines[1:]
    while body and not body[-1]:
        body.pop()
    return lines[0], "\n".join(body)


def record_text(record: Record, main_content: bool = True) -> Tuple[Optional[str], str, Optional[str]]:
    """(text, "", title) for a usable record, or (None, reason, None) for one that holds no text."""
    if record.type == TEXT_RECORD:
        try:
            title, body = wet_title_and_body(record.payload.decode("utf-8"))
        except UnicodeDecodeError:
            return None, "bad_input:bad_encoding", None
        return body, "", title
    content_type = (record.http_headers or {}).get("content-type", "")
    if "html" not in content_type.lower():
        return None, "warc_not_html", None
    html = bytes_to_str(record.payload, detect_encoding(record.payload))
    tree = HTMLTree.parse(html)
    text = extract_plain_text(tree, main_content=main_content, alt_texts=False)
    return text.strip(), "", (tree.title or "").strip() or None
