"""ArXiv: LaTeX e-prints as arXiv serves them → one cleaned paper per e-print (RECIPE.md, ArXiv).

Inputs, told apart by their bytes, not their names:
- an e-print: gzip of a tar (multi-file source) or gzip of a single `.tex`, as
  `https://arxiv.org/e-print/<id>` and the bulk files serve them;
- a monthly bulk `.tar` (`arXiv_src_YYMM_NNN.tar`): members `YYMM/<id>.gz` are e-prints, members
  `*.pdf` are submissions without TeX source (counted in, dropped `no_tex_source`);
- an uncompressed tar of a source tree, or a bare `.tex` file: one e-print.

Units and accounting: each e-print is one document in. A member that cannot be used — its path
escapes the archive (`../`, absolute), or a `.tex` that decodes to no text — is one more unit in,
dropped `bad_input:*` and quarantined as `archive!member`, while the rest of its e-print goes on.
A truncated or corrupt e-print is one `bad_input:*` unit; in a truncated bulk tar the e-prints read
before the damage stay and the damage is one more unit. Junk members (`._*`, `.DS_Store`,
`__MACOSX/`) and non-TeX members (figures, styles) are skipped and counted in metrics. Read bytes
are the e-print's size as served (compressed).

The cleaning itself is plain code in `pipeline.sources.latex`.
"""
from __future__ import annotations

import fnmatch
import gzip
import io
import posixpath
import re
import tarfile
import zlib
from typing import Dict, Iterator, List, Mapping, NamedTuple, Optional, Union

import apache_beam as beam

from common import events as ev
from common.record import Document, make_id
from dedup.exact import ExactDedup
from dedup.unique_ids import UniqueIds
from pipeline import archives
from pipeline import inputs as inp
from pipeline import recipe as recipe_mod
from pipeline.sources import latex
from pipeline.stages import flatten

NAME = "arxiv"
SAMPLES = ["samples/arxiv/*.gz", "samples/arxiv/*.tar"]

_ARCHIVE_ERRORS = (EOFError, zlib.error, tarfile.TarError, gzip.BadGzipFile, OSError)


class EPrint(NamedTuple):
    where: str  # input path, or `path!member` for an e-print inside a bulk tar
    doc_id: str
    arxiv_id: str
    nbytes: int  # size as served (compressed)
    files: Dict[str, bytes]  # archive path → raw bytes of each TeX member


class BadUnit(NamedTuple):
    where: str
    reason: str  # without the `bad_input:` prefix
    detail: str
    nbytes: int


class NoSource(NamedTuple):
    where: str
    reason: str
    nbytes: int


Unit = Union[EPrint, BadUnit, NoSource]


class ReadConfig(NamedTuple):
    tex_extensions: tuple = (".tex", ".ltx")
    junk_patterns: tuple = ("._*", ".DS_Store")
    junk_dirs: tuple = ("__MACOSX",)
    max_tex_member_bytes: int = 20_000_000
    max_eprint_bytes: int = 200_000_000  # compressed e-print as served

    @classmethod
    def from_recipe(cls, cfg: Mapping) -> "ReadConfig":
        d = cls()
        return cls(
            tuple(cfg.get("tex_extensions", d.tex_extensions)),
            tuple(cfg.get("junk_member_patterns", d.junk_patterns)),
            tuple(cfg.get("junk_dirs", d.junk_dirs)),
            int(cfg.get("max_tex_member_bytes", d.max_tex_member_bytes)),
            int(cfg.get("max_eprint_bytes", d.max_eprint_bytes)),
        )


# ---------------------------------------------------------------- names


_NEW_ID = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")
_OLD_ID = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?)(\d{7})(v\d+)?$")


def arxiv_id_from_name(name: str) -> str:
    base = posixpath.basename(name)
    for suffix in (".gz", ".tar", ".tex"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    m = _OLD_ID.match(base)
    return f"{m.group(1)}/{m.group(2)}{m.group(3) or ''}" if m else base


def abs_url(arxiv_id: str) -> Optional[str]:
    if _NEW_ID.match(arxiv_id) or re.match(r"^[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}(v\d+)?$", arxiv_id):
        return f"https://arxiv.org/abs/{arxiv_id}"
    return None


def is_junk(path: str, cfg: ReadConfig) -> bool:
    parts = path.split("/")
    return any(p in cfg.junk_dirs for p in parts[:-1]) or any(fnmatch.fnmatchcase(parts[-1], pat) for pat in cfg.junk_patterns)


def _is_tar_header(block: bytes) -> bool:
    if len(block) < 512:
        return False
    try:
        tarfile.TarInfo.frombuf(block[:512], "utf-8", "surrogateescape")
        return True
    except tarfile.HeaderError:
        return False


# ---------------------------------------------------------------- reading (plain)


class _MemberCollector:
    """Collects TeX members of one source tree; refuses unsafe paths; counts what it skips."""

    def __init__(self, where: str, cfg: ReadConfig):
        self.where = where
        self.cfg = cfg
        self.files: Dict[str, bytes] = {}
        self.bad: List[BadUnit] = []
        self.skipped = {"junk": 0, "non_tex": 0, "not_regular": 0}

    def add(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        if not member.isfile():
            self.skipped["not_regular"] += 1  # links included: never followed
            return
        path = latex.safe_archive_path(member.name)
        if path is None:
            self.bad.append(BadUnit(f"{self.where}!{member.name}", "unsafe_member_path", f"member path escapes the archive: {member.name!r}", member.size))
            return
        if is_junk(path, self.cfg):
            self.skipped["junk"] += 1
            return
        if not path.lower().endswith(self.cfg.tex_extensions):
            self.skipped["non_tex"] += 1
            return
        if member.size > self.cfg.max_tex_member_bytes:
            self.bad.append(BadUnit(f"{self.where}!{member.name}", "too_large", f"{member.size} bytes", member.size))
            return
        data = tar.extractfile(member).read()
        if len(data) != member.size:
            raise EOFError(f"member {member.name} cut short")
        self.files[path] = data  # a later copy of a name wins, as tar extraction does


def read_eprint(data: bytes, where: str, doc_id: str, arxiv_id: str, cfg: ReadConfig) -> Iterator[Unit]:
    """One e-print's bytes (gzip of a tar or of a single file, or a plain tar) → its units."""
    nbytes = len(data)
    try:
        if data[:2] == b"\x1f\x8b":
            stream: io.IOBase = gzip.GzipFile(fileobj=io.BytesIO(data))
            head = stream.read(512)
            stream.seek(0)
        else:
            stream, head = io.BytesIO(data), data[:512]
        if _is_tar_header(head):
            collector = _MemberCollector(where, cfg)
            with archives.open_stream(stream, "r|") as tar:
                for member in tar:
                    collector.add(tar, member)
            yield from collector.bad
            if collector.files:
                yield EPrint(where, doc_id, arxiv_id, nbytes, collector.files)
            else:
                yield NoSource(where, "no_tex_source", nbytes)
            return
        body = stream.read(cfg.max_tex_member_bytes + 1)
        if len(body) > cfg.max_tex_member_bytes:
            yield BadUnit(where, "too_large", f"single file over {cfg.max_tex_member_bytes} bytes", nbytes)
            return
        if body.startswith(b"%PDF"):
            yield NoSource(where, "no_tex_source", nbytes)
            return
        yield EPrint(where, doc_id, arxiv_id, nbytes, {posixpath.basename(arxiv_id) + ".tex": body})
    except _ARCHIVE_ERRORS as e:
        reason = "truncated_archive" if isinstance(e, EOFError) or "unexpected end" in str(e) else "corrupt_archive"
        yield BadUnit(where, reason, f"{type(e).__name__}: {e}", nbytes)


def read_input(path: str, stream, cfg: ReadConfig) -> Iterator[Unit]:
    """An input file (e-print, bulk tar, source tar or bare .tex) → its units."""
    name = posixpath.basename(path.split("?")[0])
    head = stream.read(512)
    if head[:2] == b"\x1f\x8b" or (name.endswith(".tex") and not _is_tar_header(head)):
        data = head + stream.read(cfg.max_eprint_bytes + 1 - len(head))
        if len(data) > cfg.max_eprint_bytes:
            yield BadUnit(path, "too_large", f"e-print over {cfg.max_eprint_bytes} bytes", len(data))
            return
        arxiv_id = arxiv_id_from_name(name)
        yield from read_eprint(data, path, make_id(NAME, name, ""), arxiv_id, cfg)
        return
    if not _is_tar_header(head):
        yield BadUnit(path, "unknown_format", "neither gzip, tar nor .tex", len(head))
        return
    yield from _read_tar(path, name, inp.with_head(head, stream), cfg)


def _read_tar(path: str, name: str, stream, cfg: ReadConfig) -> Iterator[Unit]:
    # A bulk tar holds e-prints (`*.gz`) and PDF-only submissions; a plain source tar holds TeX.
    collector = _MemberCollector(path, cfg)
    n_eprints = 0
    try:
        with archives.open_stream(stream, "r|") as tar:
            for member in tar:
                lower = member.name.lower()
                if member.isfile() and (lower.endswith(".gz") or lower.endswith(".pdf")):
                    where = f"{path}!{member.name}"
                    safe = latex.safe_archive_path(member.name)
                    n_eprints += 1
                    if safe is None:
                        yield BadUnit(where, "unsafe_member_path", f"member path escapes the archive: {member.name!r}", member.size)
                        continue
                    if member.size > cfg.max_eprint_bytes:
                        yield BadUnit(where, "too_large", f"{member.size} bytes", member.size)
                        continue
                    data = tar.extractfile(member).read()
                    if len(data) != member.size:
                        raise EOFError(f"member {member.name} cut short")
                    if lower.endswith(".pdf"):
                        yield NoSource(where, "no_tex_source", len(data))
                        continue
                    yield from read_eprint(data, where, make_id(NAME, name, safe), arxiv_id_from_name(safe), cfg)
                else:
                    collector.add(tar, member)
    except _ARCHIVE_ERRORS as e:
        yield BadUnit(path, "truncated_archive" if isinstance(e, EOFError) or "unexpected end" in str(e) else "corrupt_archive", f"{type(e).__name__}: {e}", 0)
        return
    if n_eprints == 0:  # a plain (uncompressed) source tar: itself one e-print
        yield from collector.bad
        size = sum(len(v) for v in collector.files.values())
        if collector.files:
            yield EPrint(path, make_id(NAME, name, ""), arxiv_id_from_name(name), size, collector.files)
        else:
            yield NoSource(path, "no_tex_source", size)


class Cleaned(NamedTuple):
    doc: Optional[Document]
    drop_reason: str  # "" when doc is set
    bad_members: List[BadUnit]
    fallback_decoded: int
    detail: str = "the e-print's only TeX file has no text encoding allowed"


def decode_and_clean(eprint: EPrint, recipe_cfg: Mapping) -> Cleaned:
    fallbacks = tuple(recipe_cfg.get("fallback_encodings", ("latin-1",)))
    max_ctrl = float(recipe_cfg.get("max_control_fraction", 0.01))
    texts: Dict[str, str] = {}
    bad: List[BadUnit] = []
    fallback = 0
    for path in sorted(eprint.files):
        decoded = latex.decode_tex(eprint.files[path], fallbacks, max_ctrl)
        if decoded is None:
            bad.append(BadUnit(f"{eprint.where}!{path}", "undecodable", f"not UTF-8 nor {', '.join(fallbacks) or 'any allowed fallback'}", len(eprint.files[path])))
            continue
        texts[path] = decoded[0]
        fallback += decoded[1] != "utf-8"
    if len(eprint.files) == 1 and bad:
        # a lone undecodable file is the e-print itself, not a member of it
        return Cleaned(None, "bad_input:undecodable", [], 0)
    if not texts:
        return Cleaned(None, "no_main_file", bad, 0)
    result = latex.clean_eprint(texts, latex.CleanConfig.from_recipe(recipe_cfg))
    if result.text is None:
        return Cleaned(None, result.reason, bad, fallback, result.detail)
    meta = {
        "arxiv_id": eprint.arxiv_id,
        "main_file": result.main_file,
        "tex_files": len(texts),
        "inputs_resolved": result.inputs.resolved,
        "inputs_refused": result.inputs.refused,
        "inputs_missing": result.inputs.missing,
        "macros_expanded": result.macro_expansions,
        "fallback_decoded_files": fallback,
    }
    doc = Document(eprint.doc_id, NAME, result.text, abs_url(eprint.arxiv_id), meta)
    return Cleaned(doc, "", bad, fallback)


# ---------------------------------------------------------------- Beam


def _bad_events(unit: BadUnit):
    yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(NAME, unit.nbytes))
    yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(NAME, unit.reason, unit.where, unit.detail, unit.nbytes))


class ReadEPrints(beam.DoFn):
    """input path → EPrints; a read event per unit, the drop events of units with no text."""

    def __init__(self, cfg: ReadConfig, download=None):
        self.cfg = cfg
        self.download = download

    def process(self, path: str):
        try:
            with inp.open_binary(path, self.download) as stream:
                for unit in read_input(path, stream, self.cfg):
                    if isinstance(unit, EPrint):
                        beam.metrics.Metrics.counter(NAME, "eprints_read").inc()
                        yield unit  # its read event comes with its cleaning, after the reshuffle
                    elif isinstance(unit, BadUnit):
                        beam.metrics.Metrics.counter(NAME, "bad_input:" + unit.reason).inc()
                        yield from _bad_events(unit)
                    else:
                        beam.metrics.Metrics.counter(NAME, unit.reason).inc()
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(NAME, unit.nbytes))
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(NAME, unit.reason, unit.nbytes))
        except Exception as e:  # unreachable or unreadable input file: the whole file is one bad unit
            reason = getattr(e, "bad_input_reason", None) or "unreadable_file"
            yield from _bad_events(BadUnit(path, reason, f"{type(e).__name__}: {e}", 0))


class CleanEPrint(beam.DoFn):
    """EPrint → cleaned Document, or a drop; bad members as units of their own."""

    def __init__(self, recipe_cfg: Mapping):
        self.recipe_cfg = dict(recipe_cfg)

    def process(self, eprint: EPrint):
        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(NAME, eprint.nbytes))
        try:
            cleaned = decode_and_clean(eprint, self.recipe_cfg)
        except RecursionError:  # pathological nesting: this paper only
            cleaned = Cleaned(None, "bad_input:unparseable_latex", [], 0, "nesting deeper than Python's recursion limit")
        except MemoryError:  # whatever the budgets missed costs this paper, never the job
            cleaned = Cleaned(None, "bad_input:out_of_memory", [], 0, "MemoryError while cleaning")
        for unit in cleaned.bad_members:
            beam.metrics.Metrics.counter(NAME, "bad_input:" + unit.reason).inc()
            yield from _bad_events(unit)
        if cleaned.fallback_decoded:
            beam.metrics.Metrics.counter(NAME, "fallback_decoded_files").inc(cleaned.fallback_decoded)
        if cleaned.doc is None:
            beam.metrics.Metrics.counter(NAME, "drop:" + cleaned.drop_reason).inc()
            if cleaned.drop_reason.startswith("bad_input:"):
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(NAME, cleaned.drop_reason, eprint.where, cleaned.detail, eprint.nbytes))
            else:
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(NAME, cleaned.drop_reason, eprint.nbytes))
            return
        beam.metrics.Metrics.counter(NAME, "cleaned").inc()
        # Read as the e-print's served bytes: what cleaning left out of them, for stats.json's funnel.
        doc = cleaned.doc
        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.trimmed(NAME, "arxiv_clean", eprint.nbytes - doc.nbytes, 0))
        yield doc


class Source(beam.PTransform):
    """inputs → (cleaned papers, events): read e-prints, spread them, clean the LaTeX, exact dedup."""

    def __init__(self, inputs, recipe: dict, options=None):
        super().__init__()
        self.inputs = list(inputs)
        self.recipe = recipe
        self.cfg = recipe_mod.section(recipe, NAME)

    def expand(self, pbegin):
        files, input_events = pbegin | "Inputs" >> inp.MatchInputs(self.inputs, NAME)
        read = files | "ReadEPrints" >> beam.ParDo(ReadEPrints(
            ReadConfig.from_recipe(self.cfg), inp.DownloadLimits.from_recipe(self.recipe))).with_outputs(ev.EVENTS, main="eprints")
        cleaned = (
            read.eprints
            | "SpreadEPrints" >> beam.Reshuffle()
            | "CleanLatex" >> beam.ParDo(CleanEPrint(self.cfg)).with_outputs(ev.EVENTS, main="docs")
        )
        docs, event_sets = cleaned.docs, [input_events, read[ev.EVENTS], cleaned[ev.EVENTS]]
        if self.cfg.get("exact_dedup", True):
            docs, dedup_events = docs | "ExactDedup" >> ExactDedup()
            event_sets.append(dedup_events)
        docs, id_events = docs | "UniqueIds" >> UniqueIds()
        event_sets.append(id_events)
        return docs, flatten("ArxivEvents", event_sets)
