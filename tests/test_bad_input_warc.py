"""WET/WARC record boundaries (issue 13): every bad Content-Length is one counted unit, the reader
resynchronises on the next record, and no gzip member or record is held whole past its limit."""
from __future__ import annotations

import gzip
import io
import resource
import zlib

import pytest

from pipeline.sources.warc_io import BadUnit, Limits, iter_records
from tests.wet_builder import wet_bytes

PAGES = [(f"https://example.org/{i}", f"Page {i} says: " + " ".join(f"word{i}x{j}" for j in range(60))) for i in range(5)]


def _members(gz: bytes):
    out, pos = [], 0
    while pos < len(gz):
        d = zlib.decompressobj(31)
        d.decompress(gz[pos:])
        n = len(gz) - pos - len(d.unused_data)
        out.append(gz[pos:pos + n])
        pos += n
    return out


def _set_length(record: bytes, value: bytes) -> bytes:
    head, sep, rest = record.partition(b"Content-Length: ")
    return head + sep + value + rest[rest.index(b"\r\n"):]


def _outcome(data: bytes, limits: Limits = Limits()):
    return [("bad", r.reason) if isinstance(r, BadUnit) else r.payload.decode() for r in iter_records(io.BytesIO(data), limits)]


GZ = wet_bytes(PAGES)
MEMBERS = _members(GZ)  # warcinfo, then one per page
RECORDS = [gzip.decompress(m) for m in MEMBERS]


def _warcio_payloads(data: bytes):
    """The conversion records' payloads as warcio (an independent parser) reads them."""
    from warcio.archiveiterator import ArchiveIterator

    return [r.content_stream().read().decode() for r in ArchiveIterator(io.BytesIO(data)) if r.rec_type == "conversion"]


TEXTS = _warcio_payloads(GZ)
assert len(TEXTS) == len(PAGES) and all(t.endswith(text) for t, (_, text) in zip(TEXTS, PAGES))


def _plain_with(i: int, length: bytes) -> bytes:
    recs = list(RECORDS)
    recs[i + 1] = _set_length(recs[i + 1], length)
    return b"".join(recs)


def _gzip_with(i: int, length: bytes) -> bytes:
    ms = list(MEMBERS)
    ms[i + 1] = gzip.compress(_set_length(RECORDS[i + 1], length), mtime=0)
    return b"".join(ms)


def _expected(i: int, reason: str = "bad_warc_record"):
    return TEXTS[:i] + [("bad", reason)] + TEXTS[i + 1:]


@pytest.mark.parametrize("build", [_plain_with, _gzip_with], ids=["plain", "gzip"])
@pytest.mark.parametrize("length", [b"-492", b"-1", b"12", b"100000", b"twelve", b""],
                         ids=["negative", "minus-one", "too-short", "too-long", "not-a-number", "empty"])
def test_bad_content_length_is_one_unit_and_the_next_records_are_kept(build, length):
    got = _outcome(build(2, length))
    assert got[0].startswith("software:")  # warcinfo
    assert got[1:] == _expected(2)  # never a record cut mid-word, never the rest of the file lost


def test_negative_length_does_not_hang():
    # Content-Length minus the header size sent the old parser back to the same record forever.
    rec = RECORDS[3]
    header_size = rec.index(b"\r\n\r\n") + 4
    data = _plain_with(2, str(-header_size).encode())
    assert _outcome(data)[1:] == _expected(2)


def test_too_long_length_in_a_plain_file_swallows_nothing():
    recs = list(RECORDS)
    recs[2] = _set_length(recs[2], str(len(recs[2]) + len(recs[3]) + 10).encode())  # reaches into page 2's record
    assert _outcome(b"".join(recs))[1:] == _expected(1)


def test_huge_length_is_record_too_large_and_scanned_past():
    got = _outcome(_plain_with(1, b"99999999999"), Limits(max_record_bytes=1 << 20))
    assert got[1:] == _expected(1, "record_too_large")


def test_garbage_before_the_first_record_is_one_unit():
    got = _outcome(b"not a warc file\n" * 50 + b"".join(RECORDS))
    assert got[0] == ("bad", "bad_warc_record") and got[2:] == TEXTS


def test_corrupt_and_truncated_members_are_counted_once():
    bad = bytearray(MEMBERS[2])
    bad[20:30] = b"\0" * 10
    assert _outcome(b"".join(MEMBERS[:2] + [bytes(bad)] + MEMBERS[3:]))[1:] == _expected(1, "corrupt_gzip")
    assert _outcome(GZ[:-30])[1:] == TEXTS[:-1] + [("bad", "truncated_gzip")]


def test_gzip_bomb_member_is_bounded_and_counted():
    bomb = gzip.compress(b"\0" * (64 << 20), mtime=0)  # 64 KB that inflates to 64 MiB
    data = b"".join(MEMBERS[:2] + [bomb] + MEMBERS[2:])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    got = _outcome(data, Limits(max_record_bytes=1 << 20, max_member_bytes=4 << 20))
    grew_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert got[1:] == TEXTS[:1] + [("bad", "member_too_large")] + TEXTS[1:]
    assert grew_kib < 32 << 10  # never the 64 MiB member in memory


def test_records_split_over_chunks_are_whole(monkeypatch):
    from pipeline.sources import warc_io

    monkeypatch.setattr(warc_io, "CHUNK", 7)  # every boundary lands inside some chunk
    assert _outcome(b"".join(RECORDS))[1:] == TEXTS
    assert _outcome(GZ)[1:] == TEXTS
    assert _outcome(_plain_with(2, b"12"))[1:] == _expected(2)


def _record(body: bytes, length=None) -> bytes:
    head = b"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <urn:x>\r\nContent-Length: %d\r\n\r\n"
    return head % (len(body) if length is None else length) + body + b"\r\n\r\n"


@pytest.mark.parametrize("body, length, one_member, want", [
    (5 << 20, None, False, "member_too_large"),  # the record is over its limit too: counted once
    (5 << 20, 10**9, False, "member_too_large"),
    (2 << 20, None, False, "record_too_large"),
    (2 << 20, 10**9, True, "record_too_large"),  # several records in one member: the next kept
], ids=["member-and-record", "member-and-huge-length", "record", "record-in-shared-member"])
def test_a_record_over_both_limits_is_one_unit(body, length, one_member, want):
    lim = Limits(max_record_bytes=1 << 20, max_member_bytes=3 << 20, max_header_bytes=1 << 12)
    parts = [_record(b"first body"), _record(b"y" * body, length), _record(b"last body")]
    members = [b"".join(parts)] if one_member else parts
    data = b"".join(gzip.compress(m, mtime=0, compresslevel=1) for m in members)
    got = [getattr(o, "reason", "record") for o in iter_records(io.BytesIO(data), lim)]
    assert got == ["record", want, "record"]
