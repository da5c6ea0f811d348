"""The whole default graph translated by the real DataflowRunner, offline (`--dry_run=True`), and what
breaks on real workers but not on the DirectRunner: globs matched by the launcher, files it reads
that workers lack, DoFns that do not unpickle in a fresh process, data embedded in the graph."""
import json
import os
import subprocess
import sys
import sysconfig

import apache_beam as beam
import pytest

from pipeline.sources import SOURCE_NAMES
from tests.conftest import ROOT
from tests.source_harness import accounting, run_source

IMAGE = "us-central1-docker.pkg.dev/dummy-project/llamadata/llamadata:0.1.0"
BUCKET = "gs://dummy-bucket"
GS_INPUTS = {
    "commoncrawl": f"{BUCKET}/crawl-data/CC-MAIN-2019-30/wet.paths.gz",
    "c4": f"{BUCKET}/c4/en/c4-train.*.json.gz",
    "github": f"{BUCKET}/github/*.tar.gz",
    "wikipedia": f"{BUCKET}/wikipedia/enwiki-*-pages-articles*.xml*.bz2",
    "books": f"{BUCKET}/books/gutenberg/*.txt",
    "arxiv": f"{BUCKET}/arxiv/src/*.tar",
    "stackexchange": f"{BUCKET}/stackexchange/*.7z",
}
DATAFLOW_ARGS = ["--runner=DataflowRunner", "--dry_run=True", "--no_auth", "--project=dummy-project",
                 "--region=us-central1", f"--temp_location={BUCKET}/tmp", f"--staging_location={BUCKET}/staging",
                 f"--sdk_container_image={IMAGE}", "--sdk_location=container", "--experiments=use_runner_v2"]


def _launch(tmp_path, library, *extra):
    """`pipeline.run` as a Dataflow launcher with every input and the output on gs://, sockets
    refused; returns (process, job spec, files the launcher opened)."""
    job_file, opened = tmp_path / "job.json", tmp_path / "opened.json"
    args = [*DATAFLOW_ARGS, f"--pickle_library={library}", f"--output={BUCKET}/out", *extra,
            f"--dataflow_job_file={job_file}", *(f"--{s}_input={p}" for s, p in GS_INPUTS.items())]
    env = dict(os.environ, LAUNCH_OPENED=str(opened), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.dataflow_launch", "launch", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return proc, json.loads(job_file.read_text()), json.loads(opened.read_text())


def _launcher_local(path: str) -> bool:
    """Whether `path` is a file of this machine's that is neither code, nor the interpreter's, nor
    Beam's own scratch (its staging list under the temp dir), nor the recipe (its values travel in
    the graph)."""
    import tempfile

    prefixes = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["stdlib"], "/dev/", "/proc/", "/usr/share/zoneinfo",
                tempfile.gettempdir(), str(ROOT / "pipeline" / "recipes")}
    if path.endswith((".py", ".pyc", ".so", ".pth", ".zip")) or "__editable__" in path:
        return False
    return not any(path.startswith(os.path.realpath(p)) or path.startswith(p) for p in prefixes)


@pytest.fixture(scope="module", params=["cloudpickle", "dill_unsafe"])
def dataflow_job(request, tmp_path_factory):
    if request.param.startswith("dill"):
        pytest.importorskip("dill")
    tmp = tmp_path_factory.mktemp(f"dataflow-{request.param}")
    proc, spec, opened = _launch(tmp, request.param)
    return request.param, tmp / "job.json", proc, spec, opened


def test_job_built_offline_with_every_source_and_stage(dataflow_job):
    library, _, proc, spec, _ = dataflow_job
    assert "translated by DataflowRunner" in proc.stderr
    components = spec["pipeline"]["components"]
    names = {t["uniqueName"] for t in components["transforms"].values()}
    for source in SOURCE_NAMES:
        assert f"Source:{source}" in names, source
    for step in ["Source:commoncrawl/ReadWET/Match/Match", "Source:commoncrawl/ReadWET/ExpandListings",
                 "Source:commoncrawl/LineDedup", "Source:commoncrawl/LanguageId", "Source:commoncrawl/Quality",
                 "Source:commoncrawl/Quality/Dumps/Match", "Source:c4/Inputs/Match", "Source:c4/SpanDedup",
                 "Source:wikipedia/DumpFiles/Match", "Source:books/BookOverlapDedup", "Source:arxiv/CleanLatex",
                 "Source:stackexchange/BuildThreads", "WriteCurated/WriteShards", "Stats/WriteStatsJson"]:
        assert step in names, step
    # One Docker environment: the image given, which the workers boot.
    (env,) = components["environments"].values()
    assert env["urn"] == "beam:env:docker:v1"
    import base64
    from apache_beam.portability.api import beam_runner_api_pb2 as pb
    assert pb.DockerPayload.FromString(base64.b64decode(env["payload"])).container_image == IMAGE


def test_launcher_needs_no_network(dataflow_job):
    assert dataflow_job[4]["network"] == []


def test_launcher_reads_no_input_model_or_local_file_the_workers_need(dataflow_job):
    opened = dataflow_job[4]["opened"]
    read = sorted({p for p, mode in opened if "r" in mode and "+" not in mode and _launcher_local(p)})
    assert read == [], f"the launcher read files at graph construction that workers would not have: {read}"
    recipe_files = {p for p, _ in opened if p.startswith(str(ROOT / "pipeline" / "recipes"))}
    assert recipe_files, "the recipe is read by the launcher (and its values carried in the graph)"


def test_every_pickled_function_loads_in_a_fresh_worker_process(dataflow_job):
    library, job_file, _, spec, _ = dataflow_job
    proc = subprocess.run([sys.executable, "-m", "tests.dataflow_launch", "load", str(job_file), library], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    pardos = sum(1 for t in spec["pipeline"]["components"]["transforms"].values()
                 if t.get("spec", {}).get("urn") == "beam:transform:pardo:v1")
    assert loaded["dofn"] >= pardos - 10 and loaded["combinefn"] > 0 and loaded["side_input_view"] > 0, loaded


def test_llama_plus_near_dedup_with_its_hot_key_side_inputs_translates_and_loads(tmp_path):
    # llama-plus adds near-dedup per source: its side inputs (hot buckets, hot nodes) on workers too.
    _, spec, _ = _launch(tmp_path, "cloudpickle", "--recipe=llama-plus")
    names = {t["uniqueName"] for t in spec["pipeline"]["components"]["transforms"].values()}
    for step in ("NearDedup:commoncrawl/HotPairs", "NearDedup:commoncrawl/Verify/FanOutSets",
                 "NearDedup:commoncrawl/Components/SmallStar06/Split"):
        assert step in names, step
    proc = subprocess.run([sys.executable, "-m", "tests.dataflow_launch", "load", str(tmp_path / "job.json"),
                           "cloudpickle"], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]


def test_graph_carries_no_data(dataflow_job):
    """No input, model or file list is embedded in the job (Dataflow caps the graph at 10 MB, and a
    launcher-side list of 10^5 WET files would not fit)."""
    _, job_file, _, spec, _ = dataflow_job
    payloads = [len(t.get("spec", {}).get("payload", "")) for t in spec["pipeline"]["components"]["transforms"].values()]
    assert job_file.stat().st_size < 3_000_000 and max(payloads) < 200_000, (job_file.stat().st_size, max(payloads))


# ------------------------------------------------------------- inputs matched on the workers ----------
def _books_pipeline(pattern, out_dir):
    """A books pipeline over `pattern`, built but not run; (pipeline, output prefix)."""
    from common.record import to_row
    from pipeline import recipe as recipe_mod
    from pipeline.sources.books import Source

    p = beam.Pipeline(runner="FnApiRunner")
    docs, events = p | "Books" >> Source([pattern], recipe_mod.load(), None)
    docs | "Ids" >> beam.Map(lambda d: to_row(d)["id"]) | "WriteIds" >> beam.io.WriteToText(
        str(out_dir / "ids"), shard_name_template="")
    return p


def test_glob_is_matched_when_the_job_runs_not_when_it_is_built(tmp_path):
    folder = tmp_path / "books"
    folder.mkdir()
    p = _books_pipeline(str(folder / "*.txt"), tmp_path)
    # The files appear after the graph was built: a launcher-side match would have found none.
    book = (ROOT / "samples" / "books").glob("*.txt")
    text = next(iter(sorted(book))).read_bytes()
    (folder / "a.txt").write_bytes(text)
    (folder / "b.txt").write_bytes(text.replace(b"the", b"The"))
    p.run().wait_until_finish()
    ids = (tmp_path / "ids").read_text().split()
    assert len(ids) >= 1 and all(i for i in ids)


def test_unmatched_glob_is_one_counted_unit_naming_it(tmp_path):
    pattern = str(tmp_path / "nothing-here" / "*.txt")
    from pipeline.sources.books import Source

    docs, events = run_source(Source, [pattern], tmp_path)
    docs_in, dropped = accounting(docs, events)
    assert docs_in == 1 and docs == [] and dropped == {"bad_input:unreadable_file": 1}
    (bad,) = [e for e in events if e["path"]]
    assert bad["path"] == pattern and "matched no file" in bad["detail"]


# ------------------------------------------------------------- wet.paths.gz listings, read on a worker --
def test_listing_expands_in_place_and_bad_listings_are_counted(tmp_path):
    import gzip

    from common import events as ev
    from pipeline.sources.commoncrawl import LISTING_CORRUPT, expand_inputs

    good = tmp_path / "a" / "wet.paths.gz"
    good.parent.mkdir()
    good.write_bytes(gzip.compress(b"crawl-data/X/1.warc.wet.gz\ncrawl-data/X/2.warc.wet.gz\nhttps://h/3.warc.wet.gz\n"))
    not_gzip = tmp_path / "b.wet.paths.gz"
    not_gzip.write_bytes(b"crawl-data/X/1.warc.wet.gz\n")
    latin1 = tmp_path / "c.wet.paths.gz"
    latin1.write_bytes(gzip.compress("crawl-data/caf\u00e9.warc.wet.gz\n".encode("latin-1")))
    cut = tmp_path / "d.wet.paths.gz"
    cut.write_bytes(gzip.compress(b"crawl-data/X/1.warc.wet.gz\n" * 50)[:-12])
    plain = str(tmp_path / "z.warc.wet.gz")
    out = list(expand_inputs([str(good), str(not_gzip), str(latin1), str(cut), plain], "https://base/", 2, 3))
    files = {o for o in out if not isinstance(o, ev.Event)}
    # max_files=2 of the listing's 3, each in the cc_net shard of its line among all 3 (3 shards);
    # the file given directly is file 0 of 1.
    assert files == {("https://base/crawl-data/X/1.warc.wet.gz", 0), ("https://base/crawl-data/X/2.warc.wet.gz", 1),
                     (plain, 2)}
    bad = {e.path: e for e in out if isinstance(e, ev.Event) and e.kind == ev.DROP}
    assert sorted(bad) == sorted(map(str, (not_gzip, latin1, cut)))
    assert {e.reason for e in bad.values()} == {"bad_input:" + LISTING_CORRUPT}
    assert "UnicodeDecodeError" in bad[str(latin1)].detail
    assert sum(e.count for e in out if isinstance(e, ev.Event) and e.kind == ev.READ) == 3


def test_corrupt_listing_beside_a_wet_file_through_beam(tmp_path):
    from pipeline.sources import commoncrawl

    listing = tmp_path / "wet.paths.gz"
    listing.write_bytes(b"\x1f\x8b\x08\x00garbage")
    wet = sorted((ROOT / "samples" / "commoncrawl").glob("*.warc.wet.gz"))[0]
    docs, events = run_source(commoncrawl.Source, [str(listing), str(wet)], tmp_path)
    docs_in, dropped = accounting(docs, events)
    assert dropped["bad_input:corrupt_listing"] == 1 and docs
    (bad,) = [e for e in events if e["reason"] == "bad_input:corrupt_listing"]
    assert bad["path"] == str(listing)
