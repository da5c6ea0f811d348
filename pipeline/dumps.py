"""CommonCrawl dumps curated one at a time, the cc_net way (`--commoncrawl_dump`).

LLaMA took five dumps, each through cc_net on its own: dedup scope, quality models and outputs are
per dump, so a dump added later is curated alone and the earlier ones stay as they are. Here each
dump is its own CommonCrawl composite whose source is `commoncrawl/<dump>`: its Parquet files go to
`curated/commoncrawl/<dump>/`, its accounting to the `commoncrawl/<dump>` entry of stats.json,
its line and exact dedup see only its own pages. The tokenizer and mixture take every dump folder
as part of `commoncrawl`.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

DUMP_NAME = re.compile(r"CC-MAIN-\d{4}-\d{2}")
SOURCE = "commoncrawl"


class DumpError(ValueError):
    """A `--commoncrawl_dump` value that names no dump: the message is the one line a user sees."""


def parse(values: Optional[Sequence[str]], base_url: str) -> List[Tuple[str, List[str]]]:
    """`--commoncrawl_dump` values → [(dump, input patterns)], in dump order; a bare name stands for
    its `wet.paths.gz` under `base_url` (Common Crawl's own layout)."""
    dumps: Dict[str, List[str]] = {}
    for value in values or []:
        name, _, patterns = value.partition("=")
        name = name.strip()
        if not DUMP_NAME.fullmatch(name):
            raise DumpError(f"--commoncrawl_dump={value}: a dump is named CC-MAIN-YYYY-WW "
                            f"(e.g. --commoncrawl_dump=CC-MAIN-2019-30 or CC-MAIN-2019-30='gs://b/wet/*.wet.gz')")
        inputs = [p for p in patterns.split(",") if p.strip()] if patterns else [
            f"{base_url.rstrip('/')}/crawl-data/{name}/wet.paths.gz"]
        if name in dumps:
            raise DumpError(f"--commoncrawl_dump: {name} given twice")
        dumps[name] = inputs
    return sorted(dumps.items())


def source_name(dump: str) -> str:
    return f"{SOURCE}/{dump}"


def is_dump_source(name: str) -> bool:
    return name.startswith(SOURCE + "/")


def keep_earlier_entries(stats: dict, previous: Optional[dict], curated_present) -> dict:
    """stats.json of this run plus the dump entries of an earlier run's stats.json that this run did
    not curate and whose curated folder is still there (`curated_present(name)`): a dump added
    later leaves the earlier dumps' accounts in place. (Other sources keep today's rule: stats.json
    describes the run's own sources.)"""
    if not previous:
        return stats
    kept = {name: entry for name, entry in previous.get("sources", {}).items()
            if is_dump_source(name) and name not in stats["sources"] and curated_present(name)}
    if not kept:
        return stats
    sources = dict(sorted({**stats["sources"], **kept}.items()))
    return dict(stats, sources=sources, conserved=all(s["conserved"] for s in sources.values()))
