"""Stack Exchange HTML → text (issue 22, 8 and 12): linear in the body (400k `<br>` took 30 s, a 12 MB
row 87 CPU-s: every block tag re-joined the text so far), the same text as the plain join-everything
bookkeeping on every real body, and `<script>`/`<style>` contents not taken for prose."""
from __future__ import annotations

import gzip
import html
import html.parser
import re
import time

import pytest

from pipeline.sources import se_posts
from tests.conftest import SHARED

BEER = SHARED / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"


@pytest.fixture(scope="module")
def bodies():
    with gzip.open(BEER) as f:
        return [html.unescape(b) for b in re.findall(r' Body="([^"]*)"', f.read().decode("utf-8"))]


class _PlainBookkeeping(se_posts._HtmlToText):
    """The converter with its end-of-text checks done the plain way: the whole text joined each
    time (what it did before; quadratic, but obviously right)."""

    def _newlines(self, n):
        text = "".join(self.buf).rstrip(" ")
        if not text:
            self.buf[:] = []
            return
        have = len(text) - len(text.rstrip("\n"))
        self.buf[:] = [text + "\n" * max(0, n - have)]

    def _last_char(self):
        return "".join(self.buf)[-1:]


def _plain(fragment: str) -> str:
    parser = _PlainBookkeeping()
    parser.feed(fragment)
    parser.close()
    return parser.text()


def test_every_real_body_converts_as_the_plain_bookkeeping_does(bodies):
    assert len(bodies) == 2354
    for body in bodies:
        assert se_posts.html_to_text(body) == _plain(body)


def _cpu(fn, arg) -> float:
    t0 = time.process_time()
    fn(arg)
    return time.process_time() - t0


def _floor(text: str) -> None:
    parser = html.parser.HTMLParser(convert_charrefs=True)  # the tokenizer alone, no handlers
    parser.feed(text)
    parser.close()


@pytest.mark.parametrize("case", ["br", "real_row", "nested_lists"])
def test_conversion_is_linear_next_to_the_bare_parser(case, bodies):
    if case == "br":
        text = "a line of text<br>" * 100_000  # 1.8 MB: 17 CPU-s before, 198x the parser alone
    elif case == "real_row":
        text = "".join(bodies * 3)[:3_000_000]  # real answers in one 3 MB row: 24 CPU-s before at 3.6 MB
    else:
        text = "<ul><li>item " * 2_000 + "</li></ul>" * 2_000  # 30 CPU-s before (4 MB of indentation out)
    ours, floor = _cpu(se_posts.html_to_text, text), _cpu(_floor, text)
    assert ours < 6 * floor + 0.2, (ours, floor)


def test_script_and_style_contents_are_not_text(bodies):
    body = next(b for b in bodies if b.count("<p>") >= 3)
    first = body.index("</p>") + 4
    noisy = (body[:first] + '<script type="text/javascript">var tracker = "do not index me";</script>'
             + "<style>p.note { color: red }</style>" + body[first:] + "<script>unclosed(\"script\")")
    assert se_posts.html_to_text(noisy) == se_posts.html_to_text(body)
    assert "tracker" not in se_posts.html_to_text(noisy)
    # a self-closed <script/> opens nothing: the text after it is kept
    assert se_posts.html_to_text("<p>before</p><script/><p>after</p>") == "before\n\nafter"
