"""Plain StackExchange logic (pipeline.sources.se_posts) on the real beer.stackexchange dump."""
import gzip
import io
from pathlib import Path
from xml.etree import ElementTree as ET

from pipeline.sources import se_posts
from pipeline.sources.se_posts import Post

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BEER = DATA / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"


def _answer(i, score):
    return Post("s", i, 2, 1, score, "", f"<p>a{i}</p>", "", None)


def test_answers_sorted_by_numeric_score_not_string():
    answers = [_answer(1, 9), _answer(2, 10), _answer(3, -3), _answer(4, 0), _answer(5, 10), _answer(6, -10)]
    assert [(a.score, a.id) for a in se_posts.sort_answers(answers)] == [(10, 2), (10, 5), (9, 1), (0, 4), (-3, 3), (-10, 6)]


def test_html_to_text_keeps_code_and_lists_readable():
    html = (
        "<p>Try:</p>\n<pre><code>for x in xs:\n    print(x &lt; 2)\n</code></pre>\n"
        "<p>Use <code>pip</code> &amp; <a href='http://x'>docs</a>.<br>Next</p>"
        "<ol><li>one</li><li>two<ul><li>nested</li></ul></li></ol><blockquote><p>quoted</p></blockquote>"
    )
    assert se_posts.html_to_text(html) == (
        "Try:\n\n```\nfor x in xs:\n    print(x < 2)\n```\n\nUse `pip` & docs.\nNext\n\n"
        "1. one\n2. two\n   - nested\n\n> quoted"
    )


def test_site_names_from_dump_file_names():
    assert se_posts.site_name("gs://b/beer.stackexchange.com.7z") == "beer.stackexchange.com"
    assert se_posts.site_name("/d/stackoverflow.com-Posts.7z") == "stackoverflow.com"
    assert se_posts.site_name("/d/beer.stackexchange.com-Posts.xml.gz") == "beer.stackexchange.com"
    assert se_posts.site_name("/d/beer.stackexchange.com/Posts.xml") == "beer.stackexchange.com"


def test_top_sites_is_deterministic_on_ties():
    counts = [("b.com", 5), ("a.com", 5), ("c.com", 9), ("d.com", 1)]
    assert se_posts.top_sites(counts, 2) == ["a.com", "c.com"]
    assert se_posts.top_sites(list(reversed(counts)), 2) == ["a.com", "c.com"]


def test_entity_bomb_refused_before_expansion():
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE posts [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<posts><row Id="1" PostTypeId="1" Score="1" Title="&c;" Body="x"/></posts>'
    items = list(se_posts.iter_posts(io.BytesIO(bomb), "s"))
    assert len(items) == 1 and isinstance(items[0], se_posts.BadFile) and items[0].reason == "xml_entities"


def test_non_utf8_bytes_stop_the_file_with_a_bad_file_after_the_good_rows():
    xml = '<?xml version="1.0" encoding="utf-8"?>\n<posts>\n<row Id="1" PostTypeId="1" Score="1" Title="ok" Body="x"/>\n<row Id="2" PostTypeId="1" Score="1" Title="Café" Body="y"/>\n</posts>'.encode("latin-1")
    items = list(se_posts.iter_posts(io.BytesIO(xml), "s"))
    assert isinstance(items[0], Post) and items[0].id == 1
    assert isinstance(items[-1], se_posts.BadFile) and items[-1].reason == "malformed_xml"


def test_beer_threads_match_an_independent_parse():
    with gzip.open(BEER) as f:
        items = list(se_posts.iter_posts(f, "beer.stackexchange.com"))
    posts = [p for p in items if isinstance(p, Post)]
    assert not [p for p in items if isinstance(p, (se_posts.BadRow, se_posts.BadFile))]
    assert sum(p.post_type == 1 for p in posts) == 663 and sum(p.post_type == 2 for p in posts) == 1572
    # independent reference with the stdlib parser: answers of question 2, by int(Score)
    rows = [r.attrib for r in ET.parse(gzip.open(BEER)).getroot()]
    expected = sorted((r for r in rows if r.get("ParentId") == "2"), key=lambda r: (-int(r["Score"]), int(r["Id"])))
    thread = se_posts.assemble_thread(p for p in posts if p.thread_id == 2)
    assert [a.id for a in thread.answers] == [int(r["Id"]) for r in expected]
    text = se_posts.format_thread(thread.question, thread.answers)
    assert text.startswith("Q: When was the first beer ever brewed?\n\n")
    first = se_posts.html_to_text(thread.answers[0].body)
    assert text.index("A: " + first) < text.index("A: " + se_posts.html_to_text(thread.answers[-1].body))


def test_malformed_marked_section_in_a_body_is_text_not_a_crash():
    with gzip.open(BEER) as f:
        body = next(p.body for p in se_posts.iter_posts(f, "beer.stackexchange.com") if isinstance(p, Post) and p.post_type == 2)
    # html.parser raises AssertionError on "<![" + a name it does not know; one bad row must not stop the job.
    text = se_posts.html_to_text(body + "<p><![foo bar</p>")
    assert text.startswith(se_posts.html_to_text(body)) and text.endswith("<![foo bar")
