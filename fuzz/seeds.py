"""Seed corpora: pieces of the real samples (samples/, and ../shared/data when present) and the
hostile cases issue 13 names, each at most MAX_SEED bytes. Built on the fly (nothing binary is
committed): `seeds(name)` → {file name: bytes}."""
from __future__ import annotations

import bz2
import gzip
import io
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SHARED = ROOT.parent / "shared" / "data"
MAX_SEED = 1 << 16


def _tar(files: Dict[str, bytes], compress: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0) if compress else buf.getvalue()


def _gz_members(data: bytes, n: int) -> bytes:
    out, pos = [], 0
    while pos < len(data) and len(out) < n:
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        size = len(data) - pos - len(d.unused_data)
        out.append(data[pos:pos + size])
        pos += size
    return b"".join(out)


def _warc() -> Dict[str, bytes]:
    wet = (SAMPLES / "commoncrawl" / "CC-MAIN-2023-06-sample-00000.warc.wet.gz").read_bytes()
    head = _gz_members(wet, 4)
    plain = gzip.decompress(head)
    cut = plain.index(b"Content-Length: ", 400)
    number_end = plain.index(b"\r\n", cut)
    with_length = lambda v: plain[:cut + 16] + v + plain[number_end:]  # noqa: E731
    return {
        "wet-4-members.gz": head, "wet-plain": plain,
        "negative-length": with_length(b"-492"), "short-length": with_length(b"12"),
        "long-length": with_length(b"99999"), "garbage-first": b"not a record\n" + plain,
        "corrupt-member": head[:60] + b"\0" * 20 + head[80:],
    }


def _wikipedia() -> Dict[str, bytes]:
    xml = bz2.decompress((SAMPLES / "wikipedia" / "enwiki-sample-pages-articles.xml.bz2").read_bytes())
    seeds = {"sample-dump.xml": xml[:MAX_SEED]}
    from pipeline.sources.wikipedia_dump import iter_pages

    for i, page in enumerate(iter_pages(io.BytesIO(xml))):
        seeds[f"wikitext-{i}"] = page.text.encode()[:MAX_SEED]
    if (SHARED / "wikipedia").is_dir():
        for path in sorted((SHARED / "wikipedia").glob("*.bz2"))[:1]:
            with bz2.open(path) as f:
                for i, page in enumerate(iter_pages(f)):
                    if i >= 6:
                        break
                    seeds[f"shared-wikitext-{i}"] = page.text.encode()[:MAX_SEED]
    seeds["nested-links"] = b"[[a " * 4000 + b"text"
    seeds["unclosed-media"] = b"Intro. [[File:x.jpg|thumb|" + b"[[" * 2000
    seeds["headings"] = b"\n".join(b"== H%d ==" % i for i in range(2000)) + b"\nbody"
    seeds["entity-bomb.xml"] = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                                b"<mediawiki><page><title>&b;</title><ns>0</ns><id>1</id></page></mediawiki>")
    return seeds


def _stackexchange() -> Dict[str, bytes]:
    xml = gzip.decompress((SAMPLES / "stackexchange" / "cooking.stackexchange.com-Posts.xml.gz").read_bytes())
    # The .7z container is py7zr's (its cut/corrupt cases: tests/test_bad_input_streams.py); its
    # extraction thread makes a fuzz run crawl, so the XML and gzip layers are fuzzed here.
    seeds = {"cooking-Posts.xml": xml, "cooking-Posts.xml.gz": gzip.compress(xml, mtime=0)}
    beer = SHARED / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"
    if beer.exists():
        with gzip.open(beer) as f:
            head = f.read(MAX_SEED - 20)
        seeds["beer-Posts-head.xml"] = head[: head.rindex(b"/>") + 2] + b"\n</posts>\n"
    seeds["laughs.xml"] = (b'<?xml version="1.0"?><!DOCTYPE posts [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
                           b'<posts><row Id="1" PostTypeId="1" Score="1" Title="&b;" Body="x"/></posts>')
    seeds["bad-row.xml"] = b'<posts><row Id="x" PostTypeId="1" Score="?" Body="&lt;p&gt;hi"/></posts>'
    return seeds


HEAD = b"\\documentclass{article}\n\\begin{document}\n\\section{Intro}\nSome words.\n"


def _latex() -> Dict[str, bytes]:
    seeds = {}
    for path in sorted((SAMPLES / "arxiv").glob("*.gz")):
        data = path.read_bytes()
        seeds[path.name] = data
        seeds[path.name + ".tex"] = gzip.decompress(data)[:MAX_SEED] if data[:2] == b"\x1f\x8b" else data[:MAX_SEED]
    bulk = (SAMPLES / "arxiv" / "arXiv_src_2401_001.tar").read_bytes()
    seeds["bulk.tar"] = bulk[:MAX_SEED]
    if (SHARED / "arxiv").is_dir():
        for path in sorted((SHARED / "arxiv").glob("*.gz"))[:2]:
            with tarfile.open(path) as tar:
                for member in tar.getmembers():
                    if member.isfile() and member.name.endswith(".tex"):
                        seeds[f"shared-{path.stem}-{Path(member.name).name}"] = tar.extractfile(member).read()[:MAX_SEED]
    seeds["def-bomb.tex"] = b"\\def\\b{" + b"\\b" * 10 + b"}\n" + HEAD + b"\\b\n\\end{document}\n"
    fan = {"main.tex": HEAD + b"\\input{l1}" * 10 + b"\\end{document}"}
    for level in range(1, 5):
        fan[f"l{level}.tex"] = b"\\input{l%d}" % (level + 1) * 10
    fan["l5.tex"] = b"leaf"
    seeds["input-fanout.tar.gz"] = _tar(fan)
    seeds["unclosed.tex"] = b"\\newcommand\\a[1]{x#1}\n" + HEAD + b"\\a{" * 2000
    seeds["recursive.tex"] = b"\\def\\loop{a\\loop}\n" + HEAD + b"\\loop\n\\end{document}"
    return seeds


def _github_archive() -> Dict[str, bytes]:
    seeds = {}
    for path in sorted((SAMPLES / "github").glob("*.tar.gz")):
        data = path.read_bytes()
        seeds[path.name] = data
        plain = gzip.decompress(data)
        seeds[path.name[:-3]] = plain[:MAX_SEED]
        buf = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(plain)) as tar, zipfile.ZipFile(buf, "w") as z:
            for m in tar.getmembers():
                if m.isfile():
                    z.writestr(m.name, tar.extractfile(m).read())
        seeds[path.name[:-7] + ".zip"] = buf.getvalue()
        with tarfile.open(fileobj=io.BytesIO(plain)) as tar:
            members = tar.getmembers()
        if len(members) > 1:
            seeds[path.name[:-7] + "-cut-at-header.tar"] = plain[: members[1].offset]
    seeds["escape.tar.gz"] = _tar({"repo/LICENSE": b"MIT License\n", "../../etc/evil.py": b"x = 1\n"})
    return seeds


def _jsonl() -> Dict[str, bytes]:
    seeds = {
        "github-export.jsonl": (SAMPLES / "github" / "github_repos-export-000.jsonl").read_bytes()[:MAX_SEED],
        "books3.jsonl": (SAMPLES / "books" / "books3-sample.jsonl").read_bytes(),
        "c4.json": gzip.decompress((SAMPLES / "c4" / "c4-sample-00000.json.gz").read_bytes())[:MAX_SEED],
        "c4.json.gz": (SAMPLES / "c4" / "c4-sample-00000.json.gz").read_bytes(),
    }
    seeds["nesting.jsonl"] = b"[" * 5000 + b"\n" + b'{"text": "\\ud800"}\n'
    return seeds


def _http_body() -> Dict[str, bytes]:
    """Bodies of the real sample's responses (dolma's wget WARC: creativecommons.org served chunked),
    each under every coding of fuzz/targets.py, whole and cut; the first byte picks the head."""
    import brotli
    import zstandard

    from fuzz.targets import HTTP_CODINGS

    seeds = {}
    dolma = SHARED / "commoncrawl" / "dolma-sample-0001.warc.gz"
    plain = gzip.decompress(dolma.read_bytes()) if dolma.exists() else b""
    chunked = []
    for start in [i for i in range(len(plain)) if plain.startswith(b"Transfer-Encoding: chunked", i)][:2]:
        body_start = plain.index(b"\r\n\r\n", start) + 4
        end = plain.index(b"\r\n0\r\n\r\n", body_start) + 7
        chunked.append(plain[body_start:end][:MAX_SEED - 1])
    html = (SAMPLES / "commoncrawl" / "CC-MAIN-2023-06-sample-00000.warc.wet.gz").read_bytes()
    page = gzip.decompress(html)[:8000]
    encoders = {"gzip": lambda b: gzip.compress(b, mtime=0), "deflate": zlib.compress, "br": brotli.compress,
                "zstd": zstandard.ZstdCompressor().compress, "gzip, br": lambda b: brotli.compress(gzip.compress(b, mtime=0)),
                "x-gzip": lambda b: gzip.compress(b, mtime=0), "compress": lambda b: b}
    for i, body in enumerate(chunked):
        seeds[f"chunked-{i}"] = bytes([8]) + body
        seeds[f"chunked-{i}-cut"] = bytes([8]) + body[: len(body) // 2]
    for code, coding in enumerate(HTTP_CODINGS):
        body = encoders[coding](page) if coding else page
        seeds[f"coding-{code}"] = bytes([code]) + body
        seeds[f"coding-{code}-cut"] = bytes([code]) + body[: len(body) // 2]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[j:j + 500]), body[j:j + 500]) for j in range(0, len(body), 500))
        seeds[f"coding-{code}-chunked"] = bytes([code | 8]) + chunks + b"0\r\n\r\n"
    seeds["content-length-short"] = bytes([16 | 64]) + page
    seeds["gzip-bomb"] = bytes([1]) + gzip.compress(bytes(4 << 20), mtime=0)
    seeds["utf16le"] = bytes([0]) + page.decode("utf-8", "replace").encode("utf-16-le")[:MAX_SEED - 1]
    return seeds


_BUILDERS = {"warc": _warc, "wikipedia": _wikipedia, "stackexchange": _stackexchange, "latex": _latex,
             "github_archive": _github_archive, "jsonl": _jsonl, "http_body": _http_body}


REGRESSIONS = ROOT / "fuzz" / "regressions"  # inputs that once crashed a reader (kept as seeds)


def regressions(name: str) -> Dict[str, bytes]:
    folder = REGRESSIONS / name
    return {f"regression-{p.name}": p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def seeds(name: str) -> Dict[str, bytes]:
    built = {k: v[:MAX_SEED] for k, v in _BUILDERS[name]().items()}
    built.update(regressions(name))
    return dict(sorted(built.items()))


def write(name: str, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    built = seeds(name)
    for file_name, data in built.items():
        (folder / f"seed-{file_name}").write_bytes(data)
    return len(built)
