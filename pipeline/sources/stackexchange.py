"""StackExchange: per-site data-dump files → one document per question with its answers.

Inputs: a site's `.7z` from the data dump (its `Posts.xml` is streamed out of the archive with
py7zr, never written to disk), or a `Posts.xml` / `Posts.xml.gz` (the site is named by the file,
`<site>-Posts.xml[.gz]`, or by its folder, `<site>/Posts.xml`).

The graph reads like the recipe:
1. ReadPosts: stream each file's rows (defusedxml: entity declarations refused) → Posts;
2. CountPosts + TopSites: questions + answers per site (CombinePerKey), then the N largest sites
   (`top_sites`, LLaMA: 28) decided once over all counts (equal counts by name), a side input;
3. JoinThreads: posts keyed by (site, question id) through the runner's shuffle (GroupByKey);
4. BuildThreads: one unit in per question; a site outside the top N is dropped
   (`site_not_in_top_n`); the question and its answers sorted by numeric score become the text
   (format in `se_posts`); `meta` has site, question id, the question's and each answer's score.

Accounting: the unit is the question (one document in, read bytes = raw title + HTML bodies of
the thread). A malformed question/answer row is one unit in and a `bad_input:malformed_row` drop;
a file that cannot be (fully) read — truncated or corrupt archive, malformed XML, an entity
declaration (billion laughs), bytes that are not the declared encoding — is one unit in and one
`bad_input:*` drop naming the file, while the rows read before the fault are kept. Answers whose
question is not in the input, and post types other than questions and answers, are counted in
metrics only (they are not documents).
"""
from __future__ import annotations

import gzip
import io
import queue
import shutil
import tempfile
import threading
from typing import Iterator, Optional

import apache_beam as beam
import py7zr
from py7zr.io import Py7zIO, WriterFactory

from common import events as ev
from common.record import Document, make_id
from dedup.exact import ExactDedup
from dedup.unique_ids import UniqueIds
from pipeline import inputs as inp
from pipeline import recipe as recipe_mod
from pipeline.sources import se_posts
from pipeline.stages import flatten

NAME = "stackexchange"
SAMPLES = ["samples/stackexchange/*.7z", "samples/stackexchange/*Posts.xml*"]


# ---------------------------------------------------------------- streaming a member out of a .7z


class _Cancelled(Exception):
    pass


class _QueueIO(Py7zIO):
    """py7zr writes the member's bytes here; they go to the reader through a bounded queue."""

    def __init__(self, chunks: "queue.Queue", cancel: threading.Event):
        self.chunks = chunks
        self.cancel = cancel
        self._size = 0

    def write(self, s) -> int:
        data = bytes(s)
        while True:
            if self.cancel.is_set():
                raise _Cancelled()
            try:
                self.chunks.put(data, timeout=0.5)
                break
            except queue.Full:
                continue
        self._size += len(data)
        return len(data)

    def read(self, size=None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self._size


class _QueueFactory(WriterFactory):
    def __init__(self, chunks, cancel):
        self.chunks = chunks
        self.cancel = cancel

    def create(self, filename: str) -> Py7zIO:
        return _QueueIO(self.chunks, self.cancel)


class _QueueReader(io.RawIOBase):
    def __init__(self, chunks: "queue.Queue"):
        self.chunks = chunks
        self.pending = b""
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self.pending and not self.done:
            item = self.chunks.get()
            if isinstance(item, BaseException):
                self.done = True
                raise OSError(f"7z: {type(item).__name__}: {item}") from item
            if item is None:
                self.done = True
            else:
                self.pending = item
        n = min(len(buf), len(self.pending))
        buf[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


class SevenZipMember:
    """`with SevenZipMember(fileobj, "Posts.xml") as stream:` the member's bytes, streamed."""

    def __init__(self, fileobj, basename: str = "Posts.xml"):
        self.fileobj = fileobj
        self.basename = basename
        self.chunks: "queue.Queue" = queue.Queue(maxsize=64)
        self.cancel = threading.Event()
        self.thread: Optional[threading.Thread] = None

    def __enter__(self):
        archive = py7zr.SevenZipFile(self.fileobj, mode="r")
        names = [n for n in archive.getnames() if n.rsplit("/", 1)[-1] == self.basename]
        if not names:
            archive.close()
            raise FileNotFoundError(f"no {self.basename} in the archive")
        target = sorted(names, key=lambda n: (n.count("/"), n))[0]

        def produce():
            try:
                archive.extract(targets=[target], factory=_QueueFactory(self.chunks, self.cancel))
                self.chunks.put(None)
            except _Cancelled:
                pass
            except BaseException as e:  # corrupt/truncated archive: the reader raises it
                self.chunks.put(e)
            finally:
                archive.close()

        self.thread = threading.Thread(target=produce, name="7z-extract", daemon=True)
        self.thread.start()
        return io.BufferedReader(_QueueReader(self.chunks), buffer_size=1 << 20)

    def __exit__(self, *exc):
        self.cancel.set()
        while self.thread is not None and self.thread.is_alive():
            try:  # unblock a producer waiting on a full queue
                self.chunks.get(timeout=0.1)
            except queue.Empty:
                pass
        return False


# ---------------------------------------------------------------- reading (plain)


def iter_file_posts(path: str, stream, max_row_bytes: int = se_posts.DEFAULT_MAX_ROW_BYTES) -> Iterator:
    """An input file → Posts, BadRows, None (skipped post types) and at most one BadFile, last."""
    site = se_posts.site_name(path)
    head = stream.read(6)
    rest = inp.with_head(head, stream)
    try:
        if head.startswith(b"7z\xbc\xaf\x27\x1c"):
            fileobj = stream
            if not stream.seekable():  # py7zr needs to seek: spool unseekable streams
                fileobj = tempfile.TemporaryFile()
                fileobj.write(head)
                shutil.copyfileobj(stream, fileobj)
            fileobj.seek(0)
            with SevenZipMember(fileobj) as member:
                yield from se_posts.iter_posts(member, site, max_row_bytes)
            return
        if head.startswith(b"\x1f\x8b"):
            yield from se_posts.iter_posts(gzip.GzipFile(fileobj=rest), site, max_row_bytes)
            return
        yield from se_posts.iter_posts(rest, site, max_row_bytes)
    except FileNotFoundError as e:
        yield se_posts.BadFile("no_posts_xml", str(e))
    except (py7zr.exceptions.ArchiveError, EOFError, OSError, ValueError) as e:
        yield se_posts.BadFile("corrupt_archive", f"{type(e).__name__}: {e}")


class ReadPosts(beam.DoFn):
    """path → Posts; events for malformed rows and for a file that could not be read to its end."""

    def __init__(self, max_row_bytes: int = se_posts.DEFAULT_MAX_ROW_BYTES, download=None):
        self.max_row_bytes = max_row_bytes
        self.download = download

    def process(self, path: str):
        counter = beam.metrics.Metrics.counter
        units = 0
        try:
            with inp.open_binary(path, self.download) as stream:
                for item in iter_file_posts(path, stream, self.max_row_bytes):
                    units += item is not None
                    if isinstance(item, se_posts.Post):
                        counter(NAME, "questions" if item.post_type == se_posts.QUESTION else "answers").inc()
                        yield item
                    elif item is None:
                        counter(NAME, "other_post_types").inc()
                    elif isinstance(item, se_posts.BadRow):
                        counter(NAME, "bad_input:" + item.reason).inc()
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(NAME, 0))
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(NAME, item.reason, f"{path}#row{item.row_id}", item.detail))
                    else:
                        counter(NAME, "bad_input:" + item.reason).inc()
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(NAME, 0))
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(NAME, item.reason, path, item.detail))
            if not units:  # no question, answer or bad row: it would vanish from the books
                for event in ev.no_records(NAME, path):
                    yield beam.pvalue.TaggedOutput(ev.EVENTS, event)
        except Exception as e:  # unreachable input: the whole file is one bad unit
            for event in ev.unreadable_file(NAME, path, e):
                yield beam.pvalue.TaggedOutput(ev.EVENTS, event)


class BuildThreads(beam.DoFn):
    """((site, question id), posts) → the question's document, or a drop; orphan answers counted."""

    def __init__(self, min_answers: int):
        self.min_answers = min_answers

    def process(self, element, top_sites):
        (site, question_id), posts = element
        posts = list(posts)
        thread = se_posts.assemble_thread(posts)
        counter = beam.metrics.Metrics.counter
        if thread.duplicates:
            counter(NAME, "duplicate_rows").inc(thread.duplicates)
        if thread.question is None:
            counter(NAME, "orphan_answers").inc(len(thread.answers))
            return
        nbytes = thread.question.nbytes + sum(a.nbytes for a in thread.answers)
        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(NAME, nbytes))
        if site not in top_sites:
            counter(NAME, "drop:site_not_in_top_n").inc()
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(NAME, "site_not_in_top_n", nbytes))
            return
        if len(thread.answers) < self.min_answers:
            counter(NAME, "drop:too_few_answers").inc()
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(NAME, "too_few_answers", nbytes))
            return
        q = thread.question
        meta = {
            "site": site,
            "question_id": question_id,
            "question_score": q.score,
            "answer_ids": [a.id for a in thread.answers],
            "answer_scores": [a.score for a in thread.answers],
            "accepted_answer_id": q.accepted_answer_id,
            "tags": se_posts.tags_list(q.tags),
        }
        text = se_posts.format_thread(q, thread.answers)
        counter(NAME, "threads").inc()
        # Read as raw title + HTML bodies: what formatting left out, for stats.json's funnel.
        yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.trimmed(NAME, "stackexchange_threads",
                                                             nbytes - len(text.encode("utf-8")), 0))
        yield Document(make_id(NAME, site, str(question_id)), NAME, text, f"https://{site}/questions/{question_id}", meta)


class Source(beam.PTransform):
    """inputs → (question documents, events). See the module docstring for the steps."""

    def __init__(self, inputs, recipe: dict, options=None):
        super().__init__()
        self.inputs = list(inputs)
        self.recipe = recipe
        self.cfg = recipe_mod.section(recipe, NAME)

    def expand(self, pbegin):
        n_sites = int(self.cfg.get("top_sites", 28))
        files, input_events = pbegin | "Inputs" >> inp.MatchInputs(self.inputs, NAME)
        read = files | "ReadPosts" >> beam.ParDo(ReadPosts(
            int(self.cfg["max_row_bytes"]), inp.DownloadLimits.from_recipe(self.recipe))).with_outputs(ev.EVENTS, main="posts")
        posts = read.posts
        top = (
            posts
            | "SiteOfPost" >> beam.Map(lambda p: (p.site, 1))
            | "CountPosts" >> beam.CombinePerKey(sum)
            | "AllCounts" >> beam.combiners.ToList()
            | "TopSites" >> beam.Map(lambda counts: frozenset(se_posts.top_sites(counts, n_sites)))
        )
        built = (
            posts
            | "KeyByQuestion" >> beam.Map(lambda p: ((p.site, p.thread_id), p))
            | "JoinThreads" >> beam.GroupByKey()
            | "BuildThreads"
            >> beam.ParDo(BuildThreads(int(self.cfg.get("min_answers", 0))), top_sites=beam.pvalue.AsSingleton(top)).with_outputs(ev.EVENTS, main="docs")
        )
        docs, event_sets = built.docs, [input_events, read[ev.EVENTS], built[ev.EVENTS]]
        if self.cfg.get("exact_dedup", True):
            docs, dedup_events = docs | "ExactDedup" >> ExactDedup()
            event_sets.append(dedup_events)
        docs, id_events = docs | "UniqueIds" >> UniqueIds()
        event_sets.append(id_events)
        return docs, flatten("StackExchangeEvents", event_sets)
