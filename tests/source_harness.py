"""Runs one source's composite in a real Beam pipeline and reads back its documents and events."""
from __future__ import annotations

import collections
import gzip
import io
import json
import tarfile
from pathlib import Path

import apache_beam as beam

from common import events as ev
from common.record import to_row
from pipeline import recipe as recipe_mod


def run_source(source_cls, inputs, out_dir, recipe=None):
    """(docs as row dicts sorted by id, events as dicts) of `source_cls(inputs, recipe, None)`."""
    recipe = recipe or recipe_mod.load()
    out_dir = Path(out_dir)
    with beam.Pipeline(runner="FnApiRunner") as p:
        docs, events = p | "Source" >> source_cls([str(i) for i in inputs], recipe, None)
        (docs | "DocJson" >> beam.Map(lambda d: json.dumps(to_row(d), sort_keys=True))
              | "WriteDocs" >> beam.io.WriteToText(str(out_dir / "docs"), shard_name_template=""))
        (events | "EventJson" >> beam.Map(lambda e: json.dumps(e._asdict(), sort_keys=True))
                | "WriteEvents" >> beam.io.WriteToText(str(out_dir / "events"), shard_name_template=""))
    docs = sorted((json.loads(l) for l in (out_dir / "docs").read_text().splitlines()), key=lambda d: d["id"])
    events = [json.loads(l) for l in (out_dir / "events").read_text().splitlines()]
    return docs, events


def accounting(docs, events):
    """(docs_in, reason → count); asserts docs_in == docs_out + Σ dropped."""
    docs_in = sum(e["count"] for e in events if e["kind"] == ev.READ)
    dropped = collections.Counter(e["reason"] for e in events if e["kind"] == ev.DROP)
    assert docs_in == len(docs) + sum(dropped.values()), (docs_in, len(docs), dropped)
    return docs_in, dict(dropped)


def tar_gz(members) -> bytes:
    """A gzipped tar (mtime 0) of (name, bytes) members, as arXiv serves e-prints."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)
