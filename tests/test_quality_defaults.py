"""The llama recipe's CommonCrawl quality as CCNet ran it, and never failing open.

- Without Wikipedia and without reachable models (cc_net's URL pointed at a closed port on
  127.0.0.1) a run stops before curating: one line naming the ways out, exit 2, nothing written.
- With cc_net-named models served from 127.0.0.1 (a small SentencePiece + 5-gram KenLM pair trained
  here the cc_net way from the real enwiki sample's openings), the run downloads them once into the
  cache (a second run does not), scores every kept page with them, buckets with cc_net's
  per-language cutoffs (en 340/520), records their SHA-256 in run.json, stats.json and the report,
  and lists the classifier that could not be trained (no cited page) at the top of its summary, of
  report.html and in stats.json / run.json.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket

import pyarrow.parquet as pq
import pytest

from filters import perplexity as ppl
from pipeline import recipe as recipes
from tests.conftest import run_pipeline
from tests.http_server import serve
from tests.quality_fixtures import wiki_openings
from tests.real_pages import real_pages, write_wet

CC_ONLY = ["--stages=curate", "--sources=commoncrawl"]


def test_cc_nets_cutoffs_bucket_per_language():
    cutoffs = recipes.load()["quality"]["perplexity"]["cutoffs"]
    assert cutoffs["mode"] == "auto"
    en = ppl.cutoffs_from_config(cutoffs, "en")
    assert [ppl.bucket_of(v, en) for v in (339, 340, 341, 519.9, 520, 521)] == \
        ["head", "middle", "middle", "middle", "tail", "tail"]
    # cc_net/data/cutoff.csv, rows 30 and 60 (RECIPE.md CommonCrawl 4).
    for lang, pair in {"en": (340, 520), "de": (370, 590), "fr": (180, 330), "zh": (1460, 1950)}.items():
        assert tuple(ppl.cutoffs_from_config(cutoffs, lang)) == pair, lang
    assert len(cutoffs["given"]) == 48
    with pytest.raises(KeyError):
        ppl.cutoffs_from_config(cutoffs, "xx")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wet(tmp_path_factory):
    d = tmp_path_factory.mktemp("pages")
    write_wet(real_pages()[:60], d / "pages.warc.wet.gz")
    write_wet(real_pages()[60:64], d / "few.warc.wet.gz")
    return d


def _env(cache):
    return {**os.environ, "LLAMADATA_CACHE": str(cache)}


def test_no_wikipedia_and_no_reachable_models_stops_before_curating(wet, tmp_path):
    out = tmp_path / "out"
    proc = run_pipeline(f"--output={out}", *CC_ONLY, f"--commoncrawl_input={wet}/pages.warc.wet.gz",
                        "--set", f"quality.lm.ccnet_url=http://127.0.0.1:{_closed_port()}/cc_net/lm/",
                        check=False, env=_env(tmp_path / "cache"))
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("pipeline.run: error: quality: cc_net's reference LM for en could not be had"), line
    for way in ("--wikipedia_input=DUMP", "--set quality.lm.ccnet_url=DIR_OR_URL/", "en.sp.model and en.arpa.bin",
                "--set commoncrawl.quality=false"):
        assert way in line, way
    assert "Traceback" not in proc.stderr
    assert not (out / "curated").exists() and not (out / "stats.json").exists() and not (out / "run.json").exists()


def test_too_little_wikipedia_text_stops_with_one_line_before_any_output(wet, tmp_path):
    out = tmp_path / "out"
    proc = run_pipeline(f"--output={out}", *CC_ONLY, f"--commoncrawl_input={wet}/few.warc.wet.gz",
                        "--wikipedia_input=samples/wikipedia/enwiki-sample-pages-articles.xml.bz2", check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line == ("pipeline.run: error: quality: no reference LM for en: not trained: 1,692 characters of en "
                    "Wikipedia opening text (< lm.min_training_chars=50000); give --wikipedia_input=DUMP to train it "
                    "cc_net's way, --set quality.lm.ccnet_url=DIR_OR_URL/ where en.sp.model and en.arpa.bin are (or "
                    "quality.lm.sp_model and quality.lm.kenlm_model), or --set commoncrawl.quality=false to skip the "
                    "quality step on purpose"), line
    assert "Traceback" not in proc.stderr
    assert not (out / "curated").exists() and not (out / "stats.json").exists()
    assert json.loads((out / "run.json").read_text())["status"].startswith("failed: QualityUnavailable")


@pytest.fixture(scope="module")
def served_models(tmp_path_factory):
    """cc_net's file names, made cc_net's way from the real enwiki sample's article openings."""
    from filters.lm_train import train_reference_lm

    d = tmp_path_factory.mktemp("lm")
    train_reference_lm(wiki_openings(), str(d), "en", vocab_size=4000)
    return {f"/cc_net/lm/{name}": (d / name).read_bytes() for name in ("en.sp.model", "en.arpa.bin")}


@pytest.fixture(scope="module")
def served_run(wet, served_models, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    env = _env(tmp / "cache")
    with serve(served_models) as srv:
        url = f"{srv.base_url}/cc_net/lm/"
        out = tmp / "out"
        first = run_pipeline(f"--output={out}", *CC_ONLY, f"--commoncrawl_input={wet}/pages.warc.wet.gz",
                             "--set", f"quality.lm.ccnet_url={url}", env=env)
        after_first = list(srv.requests)
        again = run_pipeline(f"--output={tmp / 'again'}", *CC_ONLY, f"--commoncrawl_input={wet}/few.warc.wet.gz",
                             "--set", f"quality.lm.ccnet_url={url}", env=env)
        after_second = list(srv.requests)
    return out, first.stderr, again.stderr, after_first, after_second, url


def test_cc_net_models_downloaded_once_per_machine(served_run, served_models):
    out, first, again, after_first, after_second, url = served_run
    assert sorted(after_first) == sorted(served_models)  # each file fetched once
    assert after_second == after_first                   # the second run found them in the cache
    assert f"quality: downloading {url}en.arpa.bin ({len(served_models['/cc_net/lm/en.arpa.bin']) / 1e6:,.1f} MB)" in first
    assert "quality: downloading" not in again
    assert f"quality reference LM en: cc_net's published models {url}en.sp.model, {url}en.arpa.bin" in first
    run = json.loads((out / "run.json").read_text())
    lm = run["quality_models"]["reference_lm"]
    assert lm["source"] == "ccnet"
    assert lm["models"]["en"]["sha256"] == {
        key: hashlib.sha256(served_models[f"/cc_net/lm/en.{ext}"]).hexdigest()
        for key, ext in (("sp_model", "sp.model"), ("kenlm_model", "arpa.bin"))}


def test_pages_scored_with_cc_nets_models_and_bucketed_by_cc_nets_cutoffs(served_run, served_models):
    out, *_ = served_run
    stats = json.loads((out / "stats.json").read_text())
    s = stats["sources"]["commoncrawl"]
    assert s["conserved"] and s["dropped"].get("perplexity_tail", 0) > 0
    rows = [r for p in sorted((out / "curated" / "commoncrawl").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert rows
    for r in rows:
        meta = json.loads(r["meta"])
        assert meta["perplexity"] > 0
        assert meta["bucket"] == ("head" if meta["perplexity"] < 340 else "middle") and meta["perplexity"] < 520
    note = stats["models"]["perplexity_cutoffs"]["en"]
    assert (note["mode"], note["head"], note["middle"]) == ("given", 340, 520) and "cc_net's cutoff.csv" in note["source"]
    lm = stats["models"]["reference_lm"]["en"]
    assert lm["source"] == "ccnet" and lm["sha256"]["kenlm_model"] == \
        hashlib.sha256(served_models["/cc_net/lm/en.arpa.bin"]).hexdigest()
    assert lm["sha256"]["kenlm_model"] in (out / "report.html").read_text()


def test_a_step_that_did_not_apply_is_listed_first(served_run):
    out, first, *_ = served_run
    stats = json.loads((out / "stats.json").read_text())
    assert stats["recipe_complete"] is False
    (step,) = stats["incomplete"]
    assert step["source"] == "commoncrawl" and step["step"] == "quality.wikiref" and step["by"] == "run"
    assert step["reason"].startswith("not applied: 0 cited pages")
    run = json.loads((out / "run.json").read_text())
    assert run["recipe_complete"] is False and run["incomplete"] == stats["incomplete"]
    # The closing summary opens with it (the banner and the log come before the summary).
    summary = first[first.index("RECIPE INCOMPLETE"):]
    assert summary.splitlines()[0] == "RECIPE INCOMPLETE: 1 step(s) of llama did not run as written:"
    assert summary.index("quality.wikiref (did not apply): not applied: 0 cited pages") < summary.index("docs in")
    page = (out / "report.html").read_text()
    assert page.index("Recipe incomplete") < page.index("<h2>")
    assert "commoncrawl: quality.wikiref (did not apply): not applied: 0 cited pages" in page


def test_a_pinned_sha256_is_enforced(served_models, tmp_path, monkeypatch):
    from common import fetch
    from pipeline import quality_models

    monkeypatch.setattr(fetch, "DEFAULT_CACHE", str(tmp_path / "cache"))
    recipe = recipes.load()
    good = {f"en.{ext}": hashlib.sha256(served_models[f"/cc_net/lm/en.{ext}"]).hexdigest() for ext in ("sp.model", "arpa.bin")}
    with serve(served_models) as srv:
        recipe["quality"]["lm"]["ccnet_url"] = f"{srv.base_url}/cc_net/lm/"
        recipe["quality"]["lm"]["sha256"] = dict(good, **{"en.arpa.bin": "0" * 64})
        with pytest.raises(quality_models.QualityUnavailable) as refused:
            quality_models.plan(recipe, [], cc_bundled=False)
        assert "SHA-256" in str(refused.value) and "--set commoncrawl.quality=false" in str(refused.value)
        recipe["quality"]["lm"]["sha256"] = good
        plan = quality_models.plan(recipe, [], cc_bundled=False)
    assert plan.source == "ccnet" and plan.lms["en"]["sha256"] == {"sp_model": good["en.sp.model"],
                                                                    "kenlm_model": good["en.arpa.bin"]}


def test_a_remote_runner_s_launcher_asks_for_cc_nets_models_without_downloading(served_models, tmp_path, monkeypatch):
    """Workers on other machines download the models; the launcher makes sure they are there (HTTP
    HEAD), and one that is not stops the run before curating, in one line."""
    from common import fetch
    from pipeline import quality_models

    monkeypatch.setattr(fetch, "DEFAULT_CACHE", str(tmp_path / "cache"))
    recipe = recipes.load()
    with serve(served_models) as srv:
        recipe["quality"]["lm"]["ccnet_url"] = f"{srv.base_url}/cc_net/lm/"
        plan = quality_models.plan(recipe, [], cc_bundled=False, download=False)
        assert srv.requests == [] and sorted(srv.heads) == sorted(served_models)
        recipe["quality"]["lm"]["ccnet_url"] = f"{srv.base_url}/elsewhere/"
        with pytest.raises(quality_models.QualityUnavailable) as refused:
            quality_models.plan(recipe, [], cc_bundled=False, download=False)
    assert plan.lms["en"]["bytes"] == {"sp_model": len(served_models["/cc_net/lm/en.sp.model"]),
                                       "kenlm_model": len(served_models["/cc_net/lm/en.arpa.bin"])}
    assert plan.lms["en"]["sha256"] == {"sp_model": None, "kenlm_model": None}
    assert "no SHA-256 pinned" in plan.lms["en"]["reason"]
    line = str(refused.value)
    assert "\n" not in line and line.startswith("quality: cc_net's reference LM for en could not be had: HEAD ")
    assert "HTTP 404" in line and "--set commoncrawl.quality=false" in line
    assert not (tmp_path / "cache").exists()  # nothing downloaded


def _given(recipe_sets, tmp_path):
    from pipeline import quality_models

    recipe = recipes.load(None, recipe_sets)
    plan = quality_models.plan(recipe, [], cc_bundled=False, download=False)
    files = quality_models.training_files(plan, recipe)
    return files["cutoffs"], quality_models.banner_lines(files)


def test_given_models_that_are_cc_nets_files_get_cc_nets_cutoffs(served_models, tmp_path):
    """Given by path under cc_net's own names: cc_net's table (it was made under those models);
    a model of one's own name, or one a run trained (its note beside it), the run's percentiles.
    The banner says which cutoffs apply."""
    ccnet = tmp_path / "ccnet"
    ccnet.mkdir()
    for path, body in served_models.items():
        (ccnet / path.rsplit("/", 1)[1]).write_bytes(body)
    cutoffs, banner = _given([f"quality.lm.sp_model={ccnet}/{{lang}}.sp.model",
                              f"quality.lm.kenlm_model={ccnet}/{{lang}}.arpa.bin"], tmp_path)
    assert cutoffs == {"mode": "given", "given": {"en": {"head": 340, "middle": 520, "ccnet_table": True}}}
    assert "  quality cutoffs en: cc_net's table (cutoff.csv), head < 340, middle < 520" in banner

    mine = tmp_path / "mine"
    mine.mkdir()
    for suffix in ("sp.model", "arpa.bin"):
        (mine / f"mine.{suffix}").write_bytes(served_models[f"/cc_net/lm/en.{suffix}"])
    cutoffs, banner = _given([f"quality.lm.sp_model={mine}/mine.sp.model",
                              f"quality.lm.kenlm_model={mine}/mine.arpa.bin"], tmp_path)
    assert cutoffs["mode"] == "computed"
    assert "  quality cutoffs: computed, the 30th and 60th percentile of this run's perplexities per language" in banner

    (ccnet / "reference_lm.json").write_text(json.dumps({"en": {"source": "trained", "applied": True}}))
    cutoffs, _ = _given([f"quality.lm.sp_model={ccnet}/{{lang}}.sp.model",
                         f"quality.lm.kenlm_model={ccnet}/{{lang}}.arpa.bin"], tmp_path)
    assert cutoffs["mode"] == "computed"  # a run's own trained model, under cc_net's names

    cutoffs, banner = _given([f"quality.lm.sp_model={mine}/mine.sp.model", f"quality.lm.kenlm_model={mine}/mine.arpa.bin",
                              "quality.perplexity.cutoffs.mode=given", "quality.perplexity.cutoffs.given.en=[300, 500]"],
                             tmp_path)
    assert cutoffs["given"]["en"] == {"head": 300, "middle": 500, "ccnet_table": False}
    assert "  quality cutoffs en: given (quality.perplexity.cutoffs.given), head < 300, middle < 500" in banner


def test_workers_check_a_pinned_sha256_where_the_model_comes_from(served_models, tmp_path, monkeypatch):
    """`quality.local_copy` (each worker's copy of a model: a URL, a gs:// file or a local one) holds
    the bytes to the pinned SHA-256 it is given, as the launcher's download does."""
    from common import fetch
    from pipeline import quality

    monkeypatch.setattr(fetch, "DEFAULT_CACHE", str(tmp_path / "cache"))
    body = served_models["/cc_net/lm/en.sp.model"]
    good = hashlib.sha256(body).hexdigest()
    local = tmp_path / "en.sp.model"
    local.write_bytes(body)
    with serve(served_models) as srv:
        url = f"{srv.base_url}/cc_net/lm/en.sp.model"
        assert open(quality.local_copy(url, good), "rb").read() == body
        with pytest.raises(fetch.FetchError, match="SHA-256"):
            quality.local_copy(url, "0" * 64)
    assert quality.local_copy(str(local), good) == str(local)
    with pytest.raises(fetch.FetchError, match="SHA-256"):
        quality.local_copy(str(local), "1" * 64)
