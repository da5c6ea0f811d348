"""An input URL that fails for good is one counted, quarantined bad unit in every source, not a crash."""
import pytest

from pipeline.sources import module_for
from tests.http_server import serve
from tests.source_harness import accounting, run_source

NAMES = {"commoncrawl": "x.warc.wet.gz", "c4": "c4-train.json.gz", "github": "repo.tar.gz",
         "wikipedia": "enwiki-pages-articles.xml.bz2", "books": "pg1.txt", "arxiv": "2401.99999.gz",
         "stackexchange": "beer.stackexchange.com-Posts.xml.gz"}


@pytest.mark.parametrize("source", sorted(NAMES))
def test_url_answering_404_is_one_bad_unit(source, tmp_path):
    with serve({}) as srv:  # every path answers 404 (not retried)
        url = f"{srv.base_url}/{NAMES[source]}"
        docs, events = run_source(module_for(source).Source, [url], tmp_path)
    docs_in, dropped = accounting(docs, events)
    assert docs_in == 1 and docs == [] and dropped == {"bad_input:unreadable_file": 1}
    bad = [e for e in events if e["reason"] == "bad_input:unreadable_file"]
    assert bad[0]["path"] == url and "404" in bad[0]["detail"]
