"""Writes the bundled StackExchange samples in the data dump's own formats.

- coffee.stackexchange.com.7z             a site archive holding `Posts.xml` (as in the dump)
- cooking.stackexchange.com-Posts.xml.gz  a second site's `Posts.xml`, gzipped
Rows: questions (PostTypeId 1) and answers (2) with scores from negative to double digits (so a
string sort would misplace them), HTML bodies with code blocks, lists and entities, plus a tag
wiki row (type 4) that is not a document.
Run: python samples/stackexchange/make_samples.py  (from the repository root)
"""
import gzip
import os
from xml.sax.saxutils import quoteattr

import py7zr

HERE = os.path.dirname(os.path.abspath(__file__))


def row(**attrs) -> str:
    return "  <row " + " ".join(f"{k}={quoteattr(str(v), {chr(10): '&#xA;'})}" for k, v in attrs.items()) + " />"


def posts_xml(rows) -> bytes:
    return ("\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<posts>\n" + "\n".join(rows) + "\n</posts>\n").encode("utf-8")


COFFEE = [
    row(Id=1, PostTypeId=1, AcceptedAnswerId=3, CreationDate="2015-01-27T20:01:02.100", Score=14, ViewCount=912,
        Body="<p>What grind size should I use for a French press? My coffee comes out <em>muddy</em>.</p>\n",
        Title="Grind size for French press", Tags="<grinding><french-press>", AnswerCount=4),
    row(Id=2, PostTypeId=2, ParentId=1, CreationDate="2015-01-27T20:05:00.000", Score=9,
        Body="<p>Use a coarse grind, roughly like sea salt.</p>\n"),
    row(Id=3, PostTypeId=2, ParentId=1, CreationDate="2015-01-27T20:09:00.000", Score=10,
        Body="<p>Coarse, and let it steep 4 minutes:</p>\n<ol>\n<li>Heat water to 93&#176;C.</li>\n<li>Stir once after 1 minute.</li>\n<li>Press slowly.</li>\n</ol>\n"),
    row(Id=4, PostTypeId=2, ParentId=1, CreationDate="2015-01-28T08:00:00.000", Score=-2,
        Body="<p>Just use instant coffee.</p>\n"),
    row(Id=5, PostTypeId=2, ParentId=1, CreationDate="2015-01-29T08:00:00.000", Score=0,
        Body="<p>Filter it through a paper filter &amp; the mud is gone.</p>\n"),
    row(Id=6, PostTypeId=1, CreationDate="2015-02-01T10:00:00.000", Score=3, ViewCount=120,
        Body="<p>How do I log my brew ratios? I wrote this:</p>\n<pre><code>def ratio(coffee_g, water_g):\n    return water_g / coffee_g  # e.g. 1:16\n</code></pre>\n",
        Title="Computing brew ratio", Tags="<brewing>", AnswerCount=1),
    row(Id=7, PostTypeId=2, ParentId=6, CreationDate="2015-02-01T11:00:00.000", Score=2,
        Body="<p>Looks right. Keep <code>coffee_g &gt; 0</code> or it divides by zero.</p>\n"),
    row(Id=8, PostTypeId=4, CreationDate="2015-01-27T19:00:00.000", Score=0,
        Body="<p>Questions about grinding coffee beans.</p>\n"),
]

COOKING = [
    row(Id=101, PostTypeId=1, AcceptedAnswerId=102, CreationDate="2011-03-03T12:00:00.000", Score=22, ViewCount=5021,
        Body="<p>Why does my bread not rise?</p>\n<ul>\n<li>Flour: bread flour</li>\n<li>Yeast: instant, 7 g</li>\n</ul>\n",
        Title="Bread does not rise", Tags="<baking><bread><yeast>", AnswerCount=3),
    row(Id=102, PostTypeId=2, ParentId=101, CreationDate="2011-03-03T12:30:00.000", Score=31,
        Body="<p>Your water was probably too hot.</p>\n<blockquote>\n<p>Yeast dies above 60&#176;C.</p>\n</blockquote>\n"),
    row(Id=103, PostTypeId=2, ParentId=101, CreationDate="2011-03-04T09:00:00.000", Score=-1,
        Body="<p>Add baking soda.</p>\n"),
    row(Id=104, PostTypeId=2, ParentId=101, CreationDate="2011-03-05T09:00:00.000", Score=4,
        Body="<p>Check the yeast's date; proof it in warm water with sugar first.</p>\n"),
    row(Id=105, PostTypeId=1, CreationDate="2011-04-01T09:00:00.000", Score=-3, ViewCount=40,
        Body="<p>Is it safe to eat raw chicken?</p>\n", Title="Raw chicken", Tags="<food-safety>", AnswerCount=0),
]


def main() -> None:
    with py7zr.SevenZipFile(os.path.join(HERE, "coffee.stackexchange.com.7z"), "w") as archive:
        archive.writestr(posts_xml(COFFEE), "Posts.xml")
    with open(os.path.join(HERE, "cooking.stackexchange.com-Posts.xml.gz"), "wb") as f:
        f.write(gzip.compress(posts_xml(COOKING), mtime=0))


if __name__ == "__main__":
    main()
