"""HTTP bodies inside WARC response records (issue 22, 1, 2, 15): chunked transfer encoding and
gzip/deflate/br/zstd content encodings decoded as warcio's `content_stream()` decodes them, a UTF-16
page without a byte-order mark read as UTF-16, and a body that breaks its own headers (bad chunking,
undecodable or unknown coding, a decoding bomb, a body cut short) one counted `bad_input:http_*`
unit naming the file, the records around it kept.

Every case is built from the real pages of dolma's WARC sample (wget's capture of
creativecommons.org, served chunked, and of commoncrawl.org)."""
from __future__ import annotations

import gzip
import io
import re
import uuid
import zlib

import brotli
import pytest
import zstandard
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree
from warcio.archiveiterator import ArchiveIterator

from common.events import Event
from common.record import Document
from pipeline.sources.commoncrawl import WebArchiveReader, target_uri
from pipeline.sources.warc_io import BadUnit, Limits, iter_records
from tests.conftest import SHARED

DOLMA = SHARED / "commoncrawl" / "dolma-sample-0001.warc.gz"


def _extract(payload: bytes) -> str:
    """The reader's extractor (webtext.record_text with main_content), on bytes given."""
    tree = HTMLTree.parse(bytes_to_str(payload, detect_encoding(payload)))
    return extract_plain_text(tree, main_content=True, alt_texts=False).strip()


def _read(data: bytes, limits: Limits = Limits()):
    reader = WebArchiveReader("commoncrawl", 0, {}, True, limits)
    return list(reader("in.warc.gz", io.BytesIO(data)))


def _raw_responses():
    """(WARC headers, HTTP head bytes, raw body bytes) of the sample's responses, as stored."""
    out = []
    with gzip.open(DOLMA) as f:
        data = f.read()
    for m in re.finditer(rb"WARC/1\.0\r\n", data):
        head_end = data.index(b"\r\n\r\n", m.start())
        head = data[m.start():head_end].decode()
        if "WARC-Type: response" not in head:
            continue
        length = int(re.search(r"Content-Length: (\d+)", head).group(1))
        block = data[head_end + 4:head_end + 4 + length]
        http_end = block.index(b"\r\n\r\n")
        out.append((head, block[:http_end], block[http_end + 4:]))
    return out


RESPONSES = _raw_responses()
CHUNKED = [r for r in RESPONSES if b"Transfer-Encoding: chunked" in r[1]]
PLAIN = [r for r in RESPONSES if b"commoncrawl.org/faq" in r[0].encode()][0]


def _record(uri: str, http_head: bytes, body: bytes, extra: str = "") -> bytes:
    block = http_head + b"\r\n\r\n" + body
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2024-05-01T00:00:00Z\r\n"
            f"WARC-Record-ID: <urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, uri + extra)}>\r\n{extra}"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n")
    return gzip.compress(head.encode() + block + b"\r\n\r\n", mtime=0)


def _head(codings: str = "", content_type: str = "text/html", extra: str = "") -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Type: {content_type}"]
    if codings:
        lines.append(f"Content-Encoding: {codings}")
    return "\r\n".join(lines + ([extra] if extra else [])).encode("latin-1")


def _one(outcomes):
    [out] = outcomes
    return out


def test_chunked_pages_of_the_real_sample_lose_every_chunk_size_line():
    assert len(CHUNKED) == 4  # creativecommons.org, as wget stored it
    warcio_payloads = {}
    with open(DOLMA, "rb") as f:
        for r in ArchiveIterator(f):
            if r.rec_type == "response":
                warcio_payloads[r.rec_headers.get_header("WARC-Record-ID")] = r.content_stream().read()
    docs = {d.meta["warc_record_id"]: d for d in _read(DOLMA.read_bytes()) if isinstance(d, Document)}
    for head, _, body in CHUNKED:
        record_id = re.search(r"WARC-Record-ID: (\S+)", head).group(1)
        sizes = re.findall(rb"(?:^|\r\n)([0-9a-f]+)\r\n", body)  # the chunk-size lines as stored
        assert len(sizes) >= 2
        text = docs[record_id].text
        assert text == _extract(warcio_payloads[record_id])
        for size in {s.decode() for s in sizes if s != b"0"}:
            assert not re.search(rf"(^|\s){size}(\s|$)", text), size  # "7d72 Homepage", "envi 1e31 ronment"
    assert "Creative Commons" in docs[re.search(r"WARC-Record-ID: (\S+)", CHUNKED[0][0]).group(1)].text


def test_wget_angle_bracketed_target_uris_become_plain_urls():
    # wget writes WARC/1.0's `<https://…>`; kept so, a page's URL never joins Wikipedia's cited URLs.
    assert b"WARC-Target-URI: <https://creativecommons.org/>" in gzip.decompress(DOLMA.read_bytes())
    urls = sorted(d.url for d in _read(DOLMA.read_bytes()) if isinstance(d, Document))
    assert urls and "https://creativecommons.org/" in urls
    assert not [u for u in urls if u.startswith("<") or u.endswith(">")]
    assert target_uri("<http://a.example/>") == "http://a.example/" and target_uri("http://b/") == "http://b/"
    assert target_uri(None) is None and target_uri("<") == "<"


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "deflate-raw", "br", "zstd", "gzip, br"])
def test_content_encodings_are_undone(coding):
    head, http_head, body = PLAIN
    expected = _extract(body)
    encode = {"gzip": lambda b: gzip.compress(b, mtime=0), "x-gzip": lambda b: gzip.compress(b, mtime=0),
              "deflate": zlib.compress, "deflate-raw": lambda b: zlib.compress(b)[2:-4], "br": brotli.compress,
              "zstd": zstandard.ZstdCompressor().compress,
              "gzip, br": lambda b: brotli.compress(gzip.compress(b, mtime=0))}[coding]
    name = coding.replace("deflate-raw", "deflate")
    doc = _one(_read(_record("https://commoncrawl.org/faq", _head(name), encode(body))))
    assert isinstance(doc, Document) and doc.text == expected and len(expected) > 2000


@pytest.mark.parametrize("declared", ["text/html", "text/html; charset=UTF-16", "text/html; charset=utf-16le"])
def test_utf16le_page_without_bom_is_read_as_utf16(declared):
    head, http_head, body = PLAIN
    expected = _extract(body)
    page = body.decode("utf-8").encode("utf-16-le")
    assert page[:2] not in (b"\xff\xfe", b"\xfe\xff") and detect_encoding(page) == "cp1252"  # what it was read as
    doc = _one(_read(_record("https://commoncrawl.org/faq", _head(content_type=declared), page)))
    assert doc.text == expected


def _bad(outcome) -> tuple:
    assert isinstance(outcome, Event) and outcome.path == "in.warc.gz", outcome
    return outcome.reason, outcome.detail


def test_bad_bodies_are_counted_units_between_good_records():
    head, http_head, body = PLAIN
    good = _record("https://commoncrawl.org/faq", http_head, body)
    after = _record("https://commoncrawl.org/faq?again", http_head, body)
    gz = gzip.compress(body, mtime=0)
    cases = {
        "bad_input:http_bad_encoding": _head("gzip") + b"", "bad_input:http_unknown_encoding": _head("compress"),
        "bad_input:http_bad_chunking": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked",
    }
    bodies = {
        "bad_input:http_bad_encoding": gz[:40] + bytes(64) + gz[104:],  # a corrupt deflate stream
        "bad_input:http_unknown_encoding": body,
        "bad_input:http_bad_chunking": b"zz\r\n" + body,  # a size line that is not hexadecimal
    }
    for reason, http in cases.items():
        data = good + _record("https://commoncrawl.org/bad", http, bodies[reason]) + after
        outs = _read(data)
        assert [type(o).__name__ for o in outs] == ["Document", "Event", "Document"], reason
        assert _bad(outs[1])[0] == reason


def test_a_decoding_bomb_costs_the_limit():
    bomb = gzip.compress(bytes(200 << 20), mtime=0)  # 200 MiB of zeros in 200 KB
    assert len(bomb) < 300_000
    limits = Limits(max_decoded_bytes=1 << 20)
    for coding, data in (("gzip", bomb), ("br", brotli.compress(bytes(200 << 20), quality=1))):
        reason, detail = _bad(_one(_read(_record("https://example.org/bomb", _head(coding), data), limits)))
        assert reason == "bad_input:http_body_too_large" and "max_decoded_bytes=1048576" in detail


def test_cut_bodies_are_detected_where_they_can_be():
    head, http_head, body = CHUNKED[0]
    uri = "https://creativecommons.org/"
    last = body.rindex(b"\r\n0\r\n")
    gz = gzip.compress(PLAIN[2], mtime=0)
    cut = {
        "no last chunk": (http_head, body[:last + 2]),
        "cut inside a chunk": (http_head, body[: len(body) // 2]),
        "gzip stream cut": (_head("gzip"), gz[: len(gz) // 2]),
        "br stream cut": (_head("br"), brotli.compress(PLAIN[2])[:3000]),
        "shorter than its Content-Length": (_head(extra=f"Content-Length: {len(PLAIN[2])}"), PLAIN[2][:-100]),
    }
    for case, (http, data) in cut.items():
        reason, detail = _bad(_one(_read(_record(uri, http, data))))
        assert reason == "bad_input:http_truncated_body", (case, detail)
    # What cannot be seen is not claimed: no length, no coding, the record ends where it ends.
    assert isinstance(_one(_read(_record(uri, _head(), PLAIN[2][:-100]))), Document)
    # A 304 (or a HEAD answer) has no body whatever its Content-Length and codings say.
    not_modified = b"HTTP/1.1 304 Not Modified\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: 5000"
    assert isinstance(_one(_read(_record(uri, not_modified, b""))), Document)
    # A record the crawler marked truncated is decoded as far as it goes (Common Crawl cuts at 1 MiB).
    doc = _one(_read(_record(uri, http_head, body[:last + 2], extra="WARC-Truncated: length\r\n")))
    assert isinstance(doc, Document) and "Creative Commons" in doc.text


def test_decoded_records_equal_warcio_on_every_response_of_the_real_samples():
    n = 0
    for path in sorted((SHARED / "commoncrawl").glob("*.warc.gz")):
        with open(path, "rb") as f:  # warcio parses the HTTP head only under `msgtype=response`
            theirs = [r.content_stream().read() if r.http_headers else None
                      for r in ArchiveIterator(f) if r.rec_type == "response"]
        ours = [r.payload for r in iter_records(io.BytesIO(path.read_bytes())) if isinstance(r, BadUnit) or r.type == "response"]
        assert len(ours) == len(theirs), path.name
        n += sum(a == b for a, b in zip(ours, theirs) if b is not None)
        assert all(a == b for a, b in zip(ours, theirs) if b is not None), path.name
    assert n >= 15


def test_transfer_codings_are_undone_before_content_codings():
    """RFC 9112 §6.1: transfer codings are applied after (over) content codings, so they come off
    first: `Content-Encoding: br` with `Transfer-Encoding: gzip, chunked` is brotli inside gzip."""
    from pipeline.sources import http_body

    head, http_head, body = PLAIN
    expected = _extract(body)
    wire = gzip.compress(brotli.compress(body), mtime=0)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(wire[i:i + 4096]), wire[i:i + 4096]) for i in range(0, len(wire), 4096))
    chunked += b"0\r\n\r\n"
    headers = {"content-encoding": "br", "transfer-encoding": "gzip, chunked"}
    assert http_body.decode(headers, chunked, 1 << 26) == body
    doc = _one(_read(_record("https://commoncrawl.org/faq", _head("br", extra="Transfer-Encoding: gzip, chunked"),
                             chunked)))
    assert isinstance(doc, Document) and doc.text == expected
