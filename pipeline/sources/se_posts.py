"""Plain StackExchange logic: stream `Posts.xml` rows, HTML → text, one document per question.

`Posts.xml` (one per site in the data dump): `<posts><row Id PostTypeId ParentId Score Title Body
Tags AcceptedAnswerId …/>…</posts>`; PostTypeId 1 = question, 2 = answer (ParentId = its question);
other types (tag wikis, …) are skipped. Parsed with defusedxml: a DTD that declares entities
(billion-laughs) or external references is refused before any entity is expanded.

The document format (one per question):

    Q: <title>

    <question body as text>

    A: <answer with the highest score, as text>

    A: <next answer>

Answers are ordered by their numeric score, highest first (-3 after 0, 10 before 9); equal scores
by answer id, oldest first. HTML becomes text: paragraphs and headings separated by a blank line,
`<pre>` code blocks kept verbatim between ``` fences, inline `<code>` in backticks, list items as
`- ` / `1. ` lines (nested lists indented, 16 levels at most), block quotes as `> ` lines, `<br>` as
a line break, links as their text, images as their alt text; `<script>` and `<style>` contents are
not text. Linear in the body (`bench/bench_se_html.py`).
"""
from __future__ import annotations

import html.parser
import io
import posixpath
import re
import zlib
from typing import Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET


QUESTION, ANSWER = 1, 2


class Post(NamedTuple):
    site: str
    id: int
    post_type: int
    parent_id: Optional[int]
    score: int
    title: str
    body: str  # HTML as in the dump
    tags: str
    accepted_answer_id: Optional[int]

    @property
    def thread_id(self) -> int:
        return self.id if self.post_type == QUESTION else self.parent_id

    @property
    def nbytes(self) -> int:
        return len(self.title.encode("utf-8")) + len(self.body.encode("utf-8"))


class BadRow(NamedTuple):
    site: str
    row_id: str
    detail: str
    reason: str = "malformed_row"  # without the `bad_input:` prefix


class BadFile(NamedTuple):
    reason: str  # without the `bad_input:` prefix
    detail: str


# ---------------------------------------------------------------- site names


def site_name(path: str) -> str:
    """`beer.stackexchange.com.7z`, `stackoverflow.com-Posts.7z`, `beer.stackexchange.com-Posts.xml.gz`,
    `beer.stackexchange.com/Posts.xml` → the site's host name."""
    clean = path.split("?")[0].rstrip("/")
    base = posixpath.basename(clean)
    for suffix in (".gz", ".7z", ".xml"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    if base.lower() == "posts":
        return posixpath.basename(posixpath.dirname(clean)) or "unknown"
    if base.endswith("-Posts"):
        base = base[: -len("-Posts")]
    return base


# ---------------------------------------------------------------- Posts.xml


def _int(value: Optional[str]) -> Optional[int]:
    return None if value is None or value == "" else int(value)


def parse_row(site: str, attrs) -> Union[Post, BadRow, None]:
    """A `<row>`'s attributes → Post, BadRow (malformed question/answer), or None (other post types)."""
    try:
        post_type = int(attrs.get("PostTypeId", ""))
    except ValueError:
        return BadRow(site, attrs.get("Id", "?"), f"PostTypeId {attrs.get('PostTypeId')!r}")
    if post_type not in (QUESTION, ANSWER):
        return None
    try:
        post = Post(
            site=site,
            id=int(attrs["Id"]),
            post_type=post_type,
            parent_id=_int(attrs.get("ParentId")),
            score=int(attrs.get("Score", "0")),
            title=attrs.get("Title", ""),
            body=attrs.get("Body", ""),
            tags=attrs.get("Tags", ""),
            accepted_answer_id=_int(attrs.get("AcceptedAnswerId")),
        )
    except (KeyError, ValueError) as e:
        return BadRow(site, attrs.get("Id", "?"), f"{type(e).__name__}: {e}")
    if post_type == ANSWER and post.parent_id is None:
        return BadRow(site, str(post.id), "answer without ParentId")
    return post


DEFAULT_MAX_ROW_BYTES = 16 << 20  # recipe stackexchange.max_row_bytes


class _RowTarget:
    """ElementTree parser target: each `<row>`'s attributes once the row ends; no tree is kept."""

    def __init__(self):
        self.rows: List[dict] = []
        self.open: List[dict] = []
        self.depth = 0
        self.events = 0

    def start(self, tag, attrib):
        self.events += 1
        self.depth += 1
        if tag == "row":
            self.open.append(attrib)

    def end(self, tag):
        self.events += 1
        self.depth -= 1
        if tag == "row":
            self.rows.append(self.open.pop())

    def data(self, text):
        self.events += 1

    def close(self):
        return None


_SKIP_CHUNK = 1 << 20


def iter_posts(stream, site: str, max_row_bytes: int = DEFAULT_MAX_ROW_BYTES) -> Iterator[Union[Post, BadRow, BadFile, None]]:
    """Stream the rows of a Posts.xml (bytes stream); a BadFile, if any, comes last.

    The dump writes one `<row …/>` a line, and the parser is fed line by line, so memory stays at
    a line: a line over `max_row_bytes` that is one row (it starts `<row`, between rows) is one
    BadRow (`row_too_large`), read past in chunks and never parsed, the rows after it kept. Any
    other long line (a file written without newlines) is fed in 1 MiB chunks; one XML token over the
    limit (and a chunk) there is a BadFile (`row_too_large`: the rest of the file is not read). Rows before a
    fault are kept; the fault is one BadFile.
    """
    target = _RowTarget()
    parser = SafeET.DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)
    fault: Optional[BadFile] = None
    stalled = 0

    def feed(piece: bytes) -> None:
        nonlocal stalled
        before = target.events
        parser.feed(piece)
        stalled = 0 if target.events != before else stalled + len(piece)
        if stalled > max_row_bytes:
            raise _TokenTooLarge()

    size = max_row_bytes + 1
    try:
        for number, line in enumerate(iter(lambda: buffered.readline(size), b""), 1):
            if len(line) <= max_row_bytes or line.endswith(b"\n"):
                feed(line)
            elif target.depth == 1 and line.lstrip().startswith(b"<row"):
                for rest in iter(lambda: buffered.readline(_SKIP_CHUNK), b""):  # read past it, never held
                    if rest.endswith(b"\n"):
                        break
                yield BadRow(site, f"?line{number}", f"line {number} over max_row_bytes={max_row_bytes}", "row_too_large")
                continue
            else:  # not one row: parse it as it comes
                feed(line)
                for rest in iter(lambda: buffered.readline(_SKIP_CHUNK), b""):
                    feed(rest)
                    yield from _rows(site, target)
                    if rest.endswith(b"\n"):
                        break
            yield from _rows(site, target)
        parser.close()
    except _TokenTooLarge:
        fault = BadFile("row_too_large", f"one XML token over max_row_bytes={max_row_bytes}; the rest of the file is not read")
    except DefusedXmlException as e:
        fault = BadFile("xml_entities", f"{type(e).__name__}: {e}")
    except SafeET.ParseError as e:
        fault = BadFile("malformed_xml", f"ParseError: {e}")
    except (LookupError, ValueError) as e:  # an XML declaration naming an encoding expat cannot read (fuzz/)
        fault = BadFile("malformed_xml", f"unsupported encoding: {type(e).__name__}: {e}")
    except (EOFError, OSError, zlib.error) as e:  # truncated/corrupt gzip or 7z stream under the parser
        fault = BadFile("truncated_archive" if isinstance(e, EOFError) else "corrupt_archive", f"{type(e).__name__}: {e}")
    yield from _rows(site, target)  # the rows finished before a fault are good
    if fault is not None:
        yield fault


class _TokenTooLarge(Exception):
    pass


def _rows(site: str, target: _RowTarget) -> Iterator[Union[Post, BadRow, None]]:
    rows, target.rows = target.rows, []
    for attrs in rows:
        yield parse_row(site, attrs)


# ---------------------------------------------------------------- HTML → text

_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "dl", "dd", "dt", "details", "summary"}
_NOT_TEXT = {"script", "style"}  # their contents are code, not prose (browsers do not show them)
_WS = re.compile(r"[ \t\r\n\f\v]+")
# List items and block quotes render their content on their own (markers, indents, "> "), so every
# level re-reads what it holds; past this depth they are rendered in place, keeping the cost linear.
_MAX_NESTING = 16


class _HtmlToText(html.parser.HTMLParser):
    """Linear in the body: output is kept as pieces (never an empty one) and every decision looks at
    the last piece or two, never at the whole text so far (400k `<br>` took 30 s that way)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: List[List[str]] = [[]]  # buffers: a list item or block quote renders its own
        self.lists: List[List] = []  # [kind, counter]
        self.pre = 0
        self.code = 0
        self.hidden = 0  # inside <script> or <style>
        self.flat: List[str] = []  # li / blockquote opened past _MAX_NESTING, rendered in place

    # -- output helpers
    @property
    def buf(self) -> List[str]:
        return self.stack[-1]

    def _put(self, text: str) -> None:
        if text:
            self.buf.append(text)

    def _last_char(self) -> str:
        return self.buf[-1][-1] if self.buf else ""

    def _newlines(self, n: int) -> None:
        """Trailing spaces dropped, then at least `n` newlines at the end (none in an empty buffer)."""
        buf = self.buf
        while buf:
            stripped = buf[-1].rstrip(" ")
            if stripped:
                buf[-1] = stripped
                break
            buf.pop()
        if not buf:
            return
        have = 0
        for piece in reversed(buf):  # newline-only pieces are short: at most n + 1 are looked at
            k = len(piece) - len(piece.rstrip("\n"))
            have += k
            if k < len(piece) or have >= n:
                break
        if have < n:
            buf.append("\n" * (n - have))

    def _marker(self) -> str:
        if self.lists and self.lists[-1][0] == "ol":
            self.lists[-1][1] += 1
            return f"{self.lists[-1][1]}. "
        return "- "

    def handle_starttag(self, tag, attrs):
        if tag in _NOT_TEXT:
            self.hidden += 1
        elif tag in _BLOCK:
            self._newlines(2)
        elif tag == "br":
            self._newlines(1)
        elif tag == "pre":
            self._newlines(2)
            self._put("```\n")
            self.pre += 1
        elif tag == "code":
            if not self.pre:
                self._put("`")
            self.code += 1
        elif tag in ("ul", "ol"):
            self._newlines(1 if self.lists else 2)
            self.lists.append([tag, 0])
        elif tag in ("li", "blockquote") and len(self.stack) > _MAX_NESTING:
            self.flat.append(tag)
            self._newlines(1 if tag == "li" else 2)
            self._put(self._marker() if tag == "li" else "> ")
        elif tag == "li":
            self.stack.append([])
        elif tag == "blockquote":
            self._newlines(2)
            self.stack.append([])
        elif tag == "tr":
            self._newlines(1)
        elif tag in ("td", "th"):
            if self._last_char() not in ("", "\n"):
                self._put(" | ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._put(alt)

    def handle_startendtag(self, tag, attrs):
        if tag not in _NOT_TEXT:  # <script/> opens nothing (html.parser reads on as markup)
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _NOT_TEXT:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self._newlines(2)
        elif tag == "pre" and self.pre:
            self.pre -= 1
            if self._last_char() != "\n":
                self._put("\n")
            self._put("```")
            self._newlines(2)
        elif tag == "code" and self.code:
            self.code -= 1
            if not self.pre:
                self._put("`")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._newlines(1 if self.lists else 2)
        elif tag in ("li", "blockquote") and self.flat:
            self._newlines(1 if self.flat.pop() == "li" else 2)
        elif tag == "li" and len(self.stack) > 1:
            # a list item is compact: its paragraphs and nested lists one line apart
            content = re.sub(r"\n{2,}", "\n", "".join(self.stack.pop()).strip("\n").rstrip())
            marker = self._marker()
            # nested lists are indented by their parent item's continuation lines
            lines = content.split("\n") if content else [""]
            rendered = [marker + lines[0].lstrip()] + [(" " * len(marker) + ln) if ln else "" for ln in lines[1:]]
            self._newlines(1)
            self._put("\n".join(rendered))
            self._newlines(1)
        elif tag == "blockquote" and len(self.stack) > 1:
            content = "".join(self.stack.pop()).strip("\n")
            self._newlines(2)
            self._put("\n".join(("> " + ln) if ln else ">" for ln in content.split("\n")))
            self._newlines(2)

    def handle_data(self, data):
        if self.hidden:
            return
        if self.pre:
            self._put(data)
            return
        data = _WS.sub(" ", data)
        if self._last_char() in ("", "\n", " "):
            data = data.lstrip(" ")
        self._put(data)

    def text(self) -> str:
        while len(self.stack) > 1:  # unclosed list items / quotes: keep their text
            content = "".join(self.stack.pop())
            self._put(content)
        if self.pre:
            self._put("\n```")
        out = "".join(self.buf)
        out = "\n".join(line.rstrip() for line in out.split("\n"))
        return re.sub(r"\n{3,}", "\n\n", out).strip("\n")


def html_to_text(fragment: str) -> str:
    try:
        return _convert(fragment)
    except AssertionError:  # html.parser refuses a malformed "<![…" marked section: read it as text
        return _convert(fragment.replace("<![", "&lt;!["))


def _convert(fragment: str) -> str:
    parser = _HtmlToText()
    parser.feed(fragment)
    parser.close()
    return parser.text()


# ---------------------------------------------------------------- threads


def sort_answers(answers: Iterable[Post]) -> List[Post]:
    """Numeric score, highest first; ties by id (oldest first). Never as strings."""
    return sorted(answers, key=lambda a: (-int(a.score), int(a.id)))


class Thread(NamedTuple):
    question: Optional[Post]
    answers: List[Post]  # sorted
    duplicates: int  # repeated rows (the same site file read twice) left out


def _order_key(p: Post):
    return (p.id, p.score, p.title, p.body, p.tags, p.accepted_answer_id or -1, p.parent_id or -1)


def assemble_thread(posts: Iterable[Post]) -> Thread:
    """The posts sharing one (site, question id) → the question and its sorted, de-duplicated answers."""
    questions: List[Post] = []
    by_id = {}
    duplicates = 0
    for post in posts:
        if post.post_type == QUESTION:
            questions.append(post)
        elif post.id in by_id:
            duplicates += 1
            by_id[post.id] = min(by_id[post.id], post, key=_order_key)  # deterministic whatever the order
        else:
            by_id[post.id] = post
    question = min(questions, key=_order_key) if questions else None
    duplicates += max(0, len(questions) - 1)
    return Thread(question, sort_answers(by_id.values()), duplicates)


def format_thread(question: Post, answers: Sequence[Post]) -> str:
    parts = ["Q: " + _WS.sub(" ", question.title).strip()]
    body = html_to_text(question.body)
    if body:
        parts.append(body)
    for answer in answers:
        parts.append("A: " + html_to_text(answer.body))
    return "\n\n".join(parts) + "\n"


def tags_list(tags: str) -> List[str]:
    return re.findall(r"<([^<>]+)>", tags) if "<" in tags else [t for t in tags.split("|") if t]


def top_sites(counts: Iterable[Tuple[str, int]], n: int) -> List[str]:
    """The `n` sites with the most posts; equal counts by name — the same set on every run."""
    return sorted(site for site, _ in sorted(counts, key=lambda kv: (-kv[1], kv[0]))[: max(0, int(n))])
