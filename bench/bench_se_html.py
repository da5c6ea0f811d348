"""Stack Exchange HTML → text (`se_posts.html_to_text`): CPU seconds per body on hostile and real
bodies, each beside its floor, the bare `html.parser.HTMLParser` loop over the same bytes (the
tokenizer our converter rides on, with no handlers). Linear means a near-constant ratio to the floor
whatever the size. `python bench/bench_se_html.py [--scale F]` (F: share of the sizes below, default 1)

Bodies: `<br>` lines (400k), `<p>` paragraphs, `<pre>` blocks, table cells, lists and block quotes
nested 100,000 deep, and one 12 MB row of real answer bodies (beer.stackexchange.com, concatenated;
the dump's row limit is 16 MiB).
"""
from __future__ import annotations

import gzip
import html
import html.parser
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cputime import cpu  # noqa: E402
from pipeline.sources import se_posts  # noqa: E402

BEER = ROOT.parent / "shared" / "data" / "stackexchange" / "beer.stackexchange.com-Posts.xml.gz"


def real_row(size: int) -> str:
    with gzip.open(BEER) as f:
        bodies = [html.unescape(b) for b in re.findall(r' Body="([^"]*)"', f.read().decode("utf-8"))]
    out, n = [], 0
    while n < size:
        for body in bodies:
            out.append(body)
            n += len(body)
            if n >= size:
                break
    return "".join(out)


def bodies(scale: float):
    n = lambda k: max(1, int(k * scale))  # noqa: E731
    yield "br lines", "a line of text<br>" * n(400_000)
    yield "paragraphs", "<p>Some words in a paragraph.</p>" * n(200_000)
    yield "pre blocks", "<pre>x = 1\n</pre>" * n(200_000)
    yield "table cells", "<tr><td>a</td><td>b</td></tr>" * n(100_000)
    yield "nested lists", "<ul><li>item " * n(100_000) + "</li></ul>" * n(100_000)
    yield "nested quotes", "<blockquote>quoted " * n(100_000) + "</blockquote>" * n(100_000)
    yield "real 12 MB row", real_row(int(12_000_000 * scale))


def floor(text: str) -> None:
    parser = html.parser.HTMLParser(convert_charrefs=True)
    parser.feed(text)
    parser.close()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    scale = float(argv[argv.index("--scale") + 1]) if "--scale" in argv else 1.0
    print(f"{'body':16s} {'MB':>6s} {'html_to_text CPU s':>19s} {'floor CPU s':>12s} {'ratio':>6s}")
    for name, text in bodies(scale):
        t0 = cpu()
        se_posts.html_to_text(text)
        ours = cpu() - t0
        t0 = cpu()
        floor(text)
        base = cpu() - t0
        print(f"{name:16s} {len(text) / 1e6:6.2f} {ours:19.2f} {base:12.2f} {ours / max(base, 1e-9):6.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
