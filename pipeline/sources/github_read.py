"""Plain readers of GitHub code: BigQuery JSON-lines exports, repository archives, checkouts.

Each reader is a generator of *outcomes*, one per file read: a `Document` (admitted, to be
cleaned), or an `Event` (a drop with its reason, or a `bad_input:*` drop naming the file). The
Beam DoFn in `github.py` turns every outcome into one `read` event plus the outcome, so
docs_in == docs_out + Σ drops holds by construction.

- JSON lines (`.jsonl`, `.json`, optionally `.gz`/`.bz2`): BigQuery's `github_repos` rows
  `{repo_name, path, content, license}` (`license` is BigQuery's licence id).
- Archives (`.tar.gz`, `.tgz`, `.tar`, `.tar.bz2`, `.zip`): one repository each (GitHub tarballs
  `owner-repo-sha/…`, source distributions `name-version/…`; a single top folder is stripped). The
  licence is detected from the text of the root licence files (`filters.licenses`). A tar is read
  twice as a stream: first for its licence files (they may come last), then for the files, so
  memory does not grow with the archive.
- Checkouts: a local directory is one repository (`.git` skipped, links not followed).

Admission (cheap, before any content is decoded): licence kept → extension whitelisted → size.
Bad input: an archive that ends early, also at or inside a member header (the files before the
break are kept; `pipeline.archives`), a member whose path escapes the archive (`../`, absolute), a
file that is not UTF-8, a malformed JSON line, one over `max_row_bytes`, a zero-byte input.
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from typing import IO, Callable, ContextManager, Iterator, List, NamedTuple, Optional, Union

from common import events as ev
from common.events import Event
from common.record import Document, make_id
from filters.code_heuristics import ExtensionWhitelist, language_of
from filters.licenses import is_license_file, normalize_declared, repo_license
from pipeline import archives
from pipeline.bounded import iter_lines
from pipeline.inputs import decompressed, with_head

SOURCE = "github"
Outcome = Union[Document, Event]
Opener = Callable[[str], ContextManager[IO[bytes]]]

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".zip")
_STREAM_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)
# zipfile raises RuntimeError for an encrypted member, NotImplementedError (a RuntimeError) for an
# unsupported compression method, ValueError for offsets that point before the file (found by fuzz/).
_ZIP_ERRORS = (zipfile.BadZipFile, RuntimeError, ValueError, *_STREAM_ERRORS)
_LICENSE_READ_LIMIT = 1 << 20


class Admission(NamedTuple):
    """The cheap checks, in the recipe's order; `reason(path, license, license_reason, size)`."""

    kept_licenses: frozenset
    extensions: ExtensionWhitelist
    max_file_bytes: int
    max_row_bytes: int = 16 << 20  # a JSON line longer than this is bad_input:row_too_large, never held

    @classmethod
    def from_recipe(cls, cfg: dict) -> "Admission":
        return cls(frozenset(cfg["licenses_kept"]), ExtensionWhitelist(cfg["extensions"]), int(cfg["max_file_bytes"]),
                   int(cfg["max_row_bytes"]))

    def reason(self, path: str, license_id: Optional[str], license_reason: Optional[str], size: int) -> Optional[str]:
        if license_reason:
            return license_reason
        if license_id is None:
            return "license_not_found"
        if any(part not in self.kept_licenses for part in license_id.split("+")):
            return "license_not_kept:" + license_id
        if not self.extensions(path):
            return "extension_not_kept"
        if size > self.max_file_bytes:
            return "file_too_large"
        return None


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def repo_name_of_archive(path: str) -> str:
    name = posixpath.basename(path.rstrip("/"))
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def file_doc(repo: str, path: str, text: str, license_id: str, url: Optional[str] = None) -> Document:
    meta = {"repo": repo, "path": path, "license": license_id, "language": language_of(path)}
    return Document(make_id(SOURCE, repo, path), SOURCE, text, url, meta)


def _decode(data: bytes) -> Optional[str]:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _utf8_name(name: str) -> bool:
    """tarfile and os decode names with surrogateescape: a name that was not UTF-8 could not be
    an id nor a Parquet string (found by fuzz/)."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _zip_regular(info: zipfile.ZipInfo) -> bool:
    """A zip member made on Unix carries its file type in the high bits of `external_attr`: a
    symlink's data is its target path, not a file (tar links are skipped the same way)."""
    mode = info.external_attr >> 16
    return info.create_system != 3 or stat.S_IFMT(mode) in (0, stat.S_IFREG)


def _safe_member(name: str) -> bool:
    if not name:  # an empty member name (zipfile's is_dir() fails on it: found by fuzz/)
        return False
    if name.startswith("/") or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        return False
    return ".." not in name.replace("\\", "/").split("/")


def _admit_and_decode(adm: Admission, unit: str, repo: str, rel: str, license_id, license_reason, size, read_bytes) -> Outcome:
    reason = adm.reason(rel, license_id, license_reason, size)
    if reason:
        return ev.drop(SOURCE, reason, size)
    data = read_bytes()
    text = _decode(data)
    if text is None:
        return ev.bad_input(SOURCE, "not_utf8", f"{unit}!{rel}", "file is not valid UTF-8", len(data))
    return file_doc(repo, rel, text, license_id)


# --- BigQuery JSON lines ------------------------------------------------------------------


def read_bigquery_jsonl(path: str, raw: IO[bytes], adm: Admission) -> Iterator[Outcome]:
    stream = decompressed(raw)
    lineno = 0
    try:
        for lineno, line in iter_lines(stream, adm.max_row_bytes):
            if line is None:
                yield ev.bad_input(SOURCE, "row_too_large", f"{path}:{lineno}", f"line over max_row_bytes={adm.max_row_bytes}")
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                repo, rel, content, license_id = row["repo_name"], row["path"], row["content"], row.get("license")
                if not all(isinstance(v, str) for v in (repo, rel, content)) or not isinstance(license_id, (str, type(None))):
                    raise TypeError("repo_name, path, content and license must be strings")
                for value in (repo, rel, content, license_id or ""):
                    value.encode("utf-8")  # a "\ud800" escape: a lone surrogate is not text
            except UnicodeDecodeError as e:
                yield ev.bad_input(SOURCE, "not_utf8", f"{path}:{lineno}", str(e), len(line))
                continue
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:  # RecursionError: absurd nesting
                yield ev.bad_input(SOURCE, "malformed_json", f"{path}:{lineno}", repr(e), len(line))
                continue
            license_id = normalize_declared(license_id)
            size = len(content.encode("utf-8", "surrogatepass"))
            reason = adm.reason(rel, license_id, None, size)
            if reason:
                yield ev.drop(SOURCE, reason, size)
            else:
                url = f"https://github.com/{repo}/blob/HEAD/{rel}"
                yield file_doc(repo, rel, content, license_id, url)
    except _STREAM_ERRORS as e:
        yield ev.bad_input(SOURCE, "truncated_stream", path, f"after line {lineno}: {e!r}")


# --- archives -----------------------------------------------------------------------------


def _single_top(names: List[str]) -> str:
    """The folder every member sits in (GitHub tarball, sdist), as a prefix to strip, or ''."""
    tops = {n.strip("/").split("/", 1)[0] for n in names if n.strip("/")}
    if len(tops) == 1 and all("/" in n.strip("/") or n.endswith("/") or n.strip("/") in tops for n in names):
        top = tops.pop()
        if any(n.strip("/").startswith(top + "/") for n in names):
            return top + "/"
    return ""


def _rel(name: str, prefix: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name[len(prefix):] if prefix and name.startswith(prefix) else name


def read_tar(path: str, opener: Opener, adm: Admission) -> Iterator[Outcome]:
    repo = repo_name_of_archive(path)
    # Pass 1: member names and licence texts. A bad or cut archive is reported by pass 2.
    names: List[str] = []
    licence_candidates = {}
    try:
        with opener(path) as raw, archives.open_stream(raw, "r|*") as tf:
            for m in tf:
                names.append(m.name)
                base = posixpath.basename(m.name)
                if m.isfile() and _safe_member(m.name) and is_license_file(base) and m.name.count("/") <= 1:
                    licence_candidates[m.name] = tf.extractfile(m).read(_LICENSE_READ_LIMIT)
    except _STREAM_ERRORS:
        pass
    prefix = _single_top([n for n in names if _safe_member(n)])  # an escaping member is not a top folder
    texts = [
        _decode(data) or data.decode("latin-1")
        for name, data in sorted(licence_candidates.items())
        if is_license_file(_rel(name, prefix))
    ]
    license_id, license_reason = repo_license(texts, adm.kept_licenses)
    # Pass 2: the files. An input that cannot be opened at all is the caller's unreadable_file.
    with opener(path) as raw:
        try:
            tf = archives.open_stream(raw, "r|*")
        except _STREAM_ERRORS as e:
            yield ev.bad_input(SOURCE, "bad_archive", path, repr(e))
            return
        try:
            with tf:
                for m in tf:
                    if m.isdir():
                        continue
                    if not _utf8_name(m.name):
                        yield ev.bad_input(SOURCE, "not_utf8", f"{path}!{m.name!r}", "member name is not UTF-8", m.size)
                        continue
                    if not _safe_member(m.name):
                        yield ev.bad_input(SOURCE, "unsafe_path", f"{path}!{m.name}", "member path escapes the archive", m.size)
                        continue
                    rel = _rel(m.name, prefix)
                    if not m.isfile():  # links, devices: no content of their own
                        yield ev.drop(SOURCE, "not_regular_file", 0)
                        continue
                    yield _admit_and_decode(
                        adm, path, repo, rel, license_id, license_reason, m.size, lambda m=m: tf.extractfile(m).read()
                    )
        except _STREAM_ERRORS as e:
            yield ev.bad_input(SOURCE, "truncated_archive", path, repr(e))


def read_zip(path: str, opener: Opener, adm: Admission) -> Iterator[Outcome]:
    repo = repo_name_of_archive(path)
    with opener(path) as raw:
        try:
            # zipfile needs a seekable stream; remote streams are copied into memory-backed bytes.
            fileobj = raw if raw.seekable() else io.BytesIO(raw.read())
            zf = zipfile.ZipFile(fileobj)
        except _ZIP_ERRORS as e:
            yield ev.bad_input(SOURCE, "bad_archive", path, repr(e))
            return
        with zf:
            infos = sorted(zf.infolist(), key=lambda i: i.filename)
            prefix = _single_top([i.filename for i in infos if _safe_member(i.filename)])
            texts = []
            for info in infos:
                if (not info.filename.endswith("/") and _safe_member(info.filename) and _zip_regular(info)
                        and is_license_file(_rel(info.filename, prefix))):
                    try:
                        data = zf.read(info)[:_LICENSE_READ_LIMIT]
                        texts.append(_decode(data) or data.decode("latin-1"))
                    except _ZIP_ERRORS:
                        pass
            license_id, license_reason = repo_license(texts, adm.kept_licenses)
            for info in infos:
                if info.filename.endswith("/"):
                    continue
                if not _safe_member(info.filename):
                    yield ev.bad_input(SOURCE, "unsafe_path", f"{path}!{info.filename}", "member path escapes the archive", info.file_size)
                    continue
                rel = _rel(info.filename, prefix)
                if not _zip_regular(info):  # a symlink (or device) member: no content of its own
                    yield ev.drop(SOURCE, "not_regular_file", 0)
                    continue
                try:
                    yield _admit_and_decode(
                        adm, path, repo, rel, license_id, license_reason, info.file_size, lambda info=info: zf.read(info)
                    )
                except _ZIP_ERRORS as e:
                    yield ev.bad_input(SOURCE, "corrupt_member", f"{path}!{info.filename}", repr(e), info.file_size)


def read_checkout(root: str, adm: Admission) -> Iterator[Outcome]:
    root = root.rstrip("/")
    repo = os.path.basename(root)
    files = []
    for dirpath, dirnames, filenames in os.walk(root):  # os.walk does not follow links by default
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            files.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    texts = []
    for rel in files:
        if is_license_file(rel) and os.path.isfile(os.path.join(root, rel)):
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read(_LICENSE_READ_LIMIT)
            texts.append(_decode(data) or data.decode("latin-1"))
    license_id, license_reason = repo_license(texts, adm.kept_licenses)
    for rel in files:
        full = os.path.join(root, rel)
        if not _utf8_name(rel):
            yield ev.bad_input(SOURCE, "not_utf8", f"{root}!{rel!r}", "file name is not UTF-8", 0)
            continue
        if os.path.islink(full) or not os.path.isfile(full):
            yield ev.drop(SOURCE, "not_regular_file", 0)
            continue

        def read_bytes(full=full):
            with open(full, "rb") as f:
                return f.read()

        yield _admit_and_decode(adm, root, repo, rel, license_id, license_reason, os.path.getsize(full), read_bytes)


def read_unit(path: str, opener: Opener, adm: Admission) -> Iterator[Outcome]:
    """Every outcome of one input: a checkout directory, an archive, or a JSON-lines file."""
    if os.path.isdir(path):
        yield from read_checkout(path, adm)
    elif path.lower().endswith(".zip"):
        yield from read_zip(path, opener, adm)
    elif is_archive(path):
        yield from read_tar(path, opener, adm)
    else:
        with opener(path) as raw:
            head = raw.read(4096)  # enough for any magic-number peek after it is un-read
            if not head:  # it would yield nothing and vanish from the books
                yield ev.bad_input(SOURCE, "empty_file", path, "zero bytes")
                return
            if raw.seekable():
                raw.seek(0)
            else:
                raw = with_head(head, raw)
            yield from read_bigquery_jsonl(path, raw, adm)
