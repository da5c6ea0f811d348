"""Web text from WARC-family files: WET `conversion` records as cc_net reads them, WARC `response`
records of HTML pages through resiliparse's main-content extractor. Plain functions, no Beam.

A WET conversion record's first line is the page title (Common Crawl's extractor writes it there):
cc_net (`process_wet_file.parse_doc`) strips every line, keeps the first as `title` and the rest as
`raw_content`, and its `min_len` counts `raw_content` alone. `wet_title_and_body` does the same."""
from __future__ import annotations

import re
from typing import Optional, Tuple

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

from pipeline.sources.warc_io import Record

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
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


def utf16_without_bom(payload: bytes, content_type: str = "") -> Optional[str]:
    """'utf-16-le' / 'utf-16-be' for a UTF-16 page with no byte-order mark (resiliparse's detector
    reads one as cp1252): declared so in the HTTP `charset`, or seen in its bytes (HTML markup is
    ASCII, so every other byte of its first 4 KiB is NUL, and the bytes between are not)."""
    charset = _CHARSET.search(content_type)
    declared = charset.group(1).lower().replace("_", "-") if charset else ""
    head = payload[:4096]
    even, odd = head[0::2], head[1::2]
    if not odd:
        return None
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_even > 0.4 and nul_odd < 0.05:
        return "utf-16-be"
    if nul_odd > 0.4 and nul_even < 0.05:
        return "utf-16-le"
    if declared in ("utf-16be", "unicodefffe"):
        return "utf-16-be"
    if declared in ("utf-16", "utf-16le"):
        return "utf-16-le"  # a bare "utf-16" label with no BOM is little-endian (WHATWG Encoding)
    return None


def page_text(payload: bytes, content_type: str = "") -> str:
    """An HTML payload as text: a byte-order mark decides, then UTF-16 without one
    (`utf16_without_bom`), else resiliparse's detector (which reads the `<meta>` charset)."""
    if not payload.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        utf16 = utf16_without_bom(payload, content_type)
        if utf16:
            return payload[: len(payload) // 2 * 2].decode(utf16, "replace")
    return bytes_to_str(payload, detect_encoding(payload))


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
    html = page_text(record.payload, content_type)
    tree = HTMLTree.parse(html)
    text = extract_plain_text(tree, main_content=main_content, alt_texts=False)
    return text.strip(), "", (tree.title or "").strip() or None
