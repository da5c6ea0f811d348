"""GitHub: licence detection, header stripping, RP1 heuristics, the BigQuery query, and the
Source end to end in Beam on the real sdists of ../shared/data/github plus bad archives."""
import collections
import json
import os
import tarfile
from pathlib import Path


from tests import source_harness as harness
import pytest

from filters.code_heuristics import CodeQuality, code_stats
from filters.licenses import detect_license, repo_license, strip_license_header
from pipeline import recipe as recipe_mod
from pipeline.sources import github
from pipeline.sources.github_bigquery import build_query, query_for_recipe

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "github"
SAMPLES = ROOT / "samples" / "github"
RECIPE = recipe_mod.load()


def run_source(inputs, tmp_path, name="run"):
    return harness.run_source(github.Source, inputs, tmp_path / name, RECIPE)


def accounting(docs, events):
    return harness.accounting(docs, events)[1]

def licence_text(archive, name):
    with tarfile.open(archive) as tf:
        return tf.extractfile(tf.getmember(name)).read().decode("utf-8")


def test_licences_detected_from_real_licence_files():
    assert detect_license(licence_text(DATA / "six-1.16.0.tar.gz", "six-1.16.0/LICENSE")) == "mit"
    assert detect_license(licence_text(DATA / "itsdangerous-2.2.0.tar.gz", "itsdangerous-2.2.0/LICENSE.txt")) == "bsd-3-clause"
    assert detect_license(licence_text(DATA / "tenacity-8.2.3.tar.gz", "tenacity-8.2.3/LICENSE")) == "apache-2.0"
    assert detect_license(licence_text(DATA / "Unidecode-1.3.8.tar.gz", "Unidecode-1.3.8/LICENSE")) == "gpl-2.0"
    assert repo_license([]) == (None, "license_not_found")
    assert repo_license(["just some words"]) == (None, "license_unrecognized")
    mit = licence_text(DATA / "six-1.16.0.tar.gz", "six-1.16.0/LICENSE")
    gpl = licence_text(DATA / "Unidecode-1.3.8.tar.gz", "Unidecode-1.3.8/LICENSE")
    assert repo_license([mit, gpl]) == ("gpl-2.0", "license_not_kept:gpl-2.0")  # dual: conservative


def test_licence_header_stripping():
    code = "#!/usr/bin/env python\n# Copyright 2020 X\n# Licensed under the MIT license.\n\n# helper below\nimport os\n"
    assert strip_license_header(code) == "#!/usr/bin/env python\n# helper below\nimport os\n"
    c = "/*\n * Copyright (c) 2019 Y. All rights reserved.\n */\n#include <license.h>\nint x;\n"
    assert strip_license_header(c) == "#include <license.h>\nint x;\n"
    plain = "# Compute the mean of a list.\nimport statistics\n"
    assert strip_license_header(plain) == plain


def test_rp1_thresholds_each_reason():
    q = CodeQuality()
    assert q.reason("def increment(value):\n    return value + 1\n") is None
    assert q.reason("a = 1\n" + "x" * 1001 + "\n") == "max_line_length"
    assert q.reason(("y = " + "z" * 150 + "\n") * 3) == "mean_line_length"
    assert q.reason("#### ---- ;;;; ++++ ****\n" * 4) == "alnum_fraction"
    assert q.reason("0x00, 0x01, 0x02, 0x03, 0x04, 0x05\n" * 10) == "alpha_per_token"
    assert code_stats("ab\ncd\n").max_line_length == 2


def test_bigquery_query_text():
    q = build_query(["mit", "apache-2.0"], [".py", "dockerfile"], 1000, limit=5)
    assert "`bigquery-public-data.github_repos.files` AS f" in q
    assert "`bigquery-public-data.github_repos.contents` AS c ON n.id = c.id" in q
    assert "l.license IN ('apache-2.0', 'mit')" in q
    assert "IN ('.py')" in q and "IN ('dockerfile')" in q
    assert "c.binary = FALSE" in q and "c.size <= 1000" in q and q.endswith("LIMIT 5")
    full = query_for_recipe(RECIPE["github"])
    assert "'bsd-3-clause'" in full and not full.rstrip().splitlines()[-1].startswith("LIMIT")
    with pytest.raises(ValueError):
        build_query(["mit'; DROP TABLE x; --"], [".py"], 10)


def test_source_on_real_sdists_and_samples(tmp_path):
    inputs = sorted(DATA.glob("*.tar.gz")) + sorted(SAMPLES.glob("*.jsonl")) + sorted(SAMPLES.glob("*.tar.gz"))
    docs, events = run_source(inputs, tmp_path)
    drops = accounting(docs, events)
    repos = collections.Counter(json.loads(d["meta"])["repo"] for d in docs)
    assert "Unidecode-1.3.8" not in repos and "gplsnake-1.0" not in repos and "gnu-fan/snake" not in repos
    assert drops["license_not_kept:gpl-2.0"] == 212  # every file of the GPL sdist, with its reason
    assert drops["license_not_kept:gpl-3.0"] == 4
    for kept in ("six-1.16.0", "itsdangerous-2.2.0", "tenacity-8.2.3", "tinycalc-0.1.0", "blue/fastqueue"):
        assert repos[kept] > 0, kept
    licences = {json.loads(d["meta"])["repo"]: json.loads(d["meta"])["license"] for d in docs}
    assert licences["six-1.16.0"] == "mit" and licences["itsdangerous-2.2.0"] == "bsd-3-clause"
    assert licences["tenacity-8.2.3"] == "apache-2.0"
    # queue.go is in the export twice (vendored copy); tinycalc/ops.py is in the export and the tarball.
    assert drops["exact_duplicate"] >= 2
    assert drops["max_line_length"] == 1 and drops["alpha_per_token"] == 1
    for d in docs:
        assert "Licensed under the Apache License" not in d["text"][:300]
        assert not d["text"].lstrip().startswith("# Copyright")
    again, again_events = run_source(inputs, tmp_path, "again")
    assert again == docs  # deterministic: same ids, same texts


def test_bad_archives_counted_and_quarantined(tmp_path):
    mit = licence_text(DATA / "six-1.16.0.tar.gz", "six-1.16.0/LICENSE").encode()
    good_py = b"def add_numbers(first, second):\n    return first + second\n"
    unsafe = tmp_path / "evil-1.0.tar.gz"
    unsafe.write_bytes(harness.tar_gz([("evil-1.0/LICENSE", mit), ("evil-1.0/ok.py", good_py),
                                ("../../etc/evil.py", b"print('escaped')\n"),
                                ("evil-1.0/latin.py", "s = 'caf\u00e9'\n".encode("latin-1"))]))
    truncated = tmp_path / "itsdangerous-cut.tar.gz"
    whole = (DATA / "itsdangerous-2.2.0.tar.gz").read_bytes()
    truncated.write_bytes(whole[: int(len(whole) * 0.6)])
    not_an_archive = tmp_path / "broken.zip"
    not_an_archive.write_bytes(b"this is not a zip file")
    jsonl = tmp_path / "export.jsonl"
    jsonl.write_bytes(b'{"repo_name": "a/b", "path": "x.py", "content": "count_total = compute_count(items)\\n", "license": "mit"}\n{not json\n')
    inputs = [unsafe, truncated, not_an_archive, jsonl, DATA / "six-1.16.0.tar.gz"]
    docs, events = run_source(inputs, tmp_path)
    accounting(docs, events)  # conservation
    bad = {(e["reason"], os.path.basename(e["path"].split("!")[0])) for e in events if e["reason"].startswith("bad_input:")}
    assert ("bad_input:unsafe_path", "evil-1.0.tar.gz") in bad
    assert ("bad_input:not_utf8", "evil-1.0.tar.gz") in bad
    assert ("bad_input:truncated_archive", "itsdangerous-cut.tar.gz") in bad
    assert ("bad_input:bad_archive", "broken.zip") in bad
    assert ("bad_input:malformed_json", "export.jsonl:2") in bad
    repos = collections.Counter(json.loads(d["meta"])["repo"] for d in docs)
    assert repos["evil-1.0"] == 1  # ok.py survives its archive's bad members
    assert repos["itsdangerous-cut"] > 0  # files before the break are kept
    assert repos["six-1.16.0"] == 7 and repos["a/b"] == 1  # nothing else lost (.py, .rst, Makefile)
    assert all(e["path"] for e in events if e["reason"].startswith("bad_input:"))


def test_rp1_mean_line_length_counts_newlines_and_whitelist_is_rp1s():
    # RP1 (github_run_filter.py): avg_line_length = len(content) / number of lines.
    hundred = ("total = " + "a" * 92 + "\n") * 5  # lines of 100 characters: 101 per line with "\n"
    assert CodeQuality().reason(hundred) == "mean_line_length"
    assert code_stats("ab\ncd\n").mean_line_length == 3.0
    rp1 = (".asm .bat .cmd .c .h .cs .cpp .hpp .c++ .h++ .cc .hh .C .H .cmake .css .dockerfile .f90 .f .f03 "
           ".f08 .f77 .f95 .for .fpp .go .hs .html .java .js .jl .lua .md .markdown .php .php3 .php4 .php5 .phps "
           ".phpt .pl .pm .pod .perl .ps1 .psd1 .psm1 .py .rb .rs .sql .scala .sh .bash .command .zsh .ts .tsx "
           ".tex .vb Dockerfile Makefile .xml .rst .m .smali").split()
    assert len(rp1) == 66
    assert sorted(RECIPE["github"]["extensions"]) == sorted({e.lower() for e in rp1})


def _zip_with_encrypted_member(path, licence: bytes, plain: bytes, secret: bytes):
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("enc-1.0/LICENSE", licence)
        zf.writestr("enc-1.0/ok.py", plain)
        zf.writestr("enc-1.0/secret.py", secret)
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag of secret.py in its local and central headers, as a zip with a
    # password-protected member has it.
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = data.find(signature)
        while pos >= 0:
            if data[pos + name_at: pos + name_at + 17] == b"enc-1.0/secret.py":
                struct.pack_into("<H", data, pos + flag_at, struct.unpack_from("<H", data, pos + flag_at)[0] | 1)
            pos = data.find(signature, pos + 4)
    path.write_bytes(bytes(data))


def test_encrypted_zip_member_and_mistyped_json_rows_are_bad_input(tmp_path):
    mit = licence_text(DATA / "six-1.16.0.tar.gz", "six-1.16.0/LICENSE").encode()
    good_py = b"def add_numbers(first, second):\n    return first + second\n"
    archive = tmp_path / "enc-1.0.zip"
    _zip_with_encrypted_member(archive, mit, good_py, b"password = 'hidden value'\n")
    jsonl = tmp_path / "typed.jsonl"
    rows = [{"repo_name": "a/b", "path": 5, "content": "x = 1\n", "license": "mit"},
            {"repo_name": ["a"], "path": "y.py", "content": "x = 1\n", "license": "mit"},
            {"repo_name": "a/b", "path": "z.py", "content": "x = 1\n", "license": 7},
            {"repo_name": "a/b", "path": "ok.py", "content": "count_total = compute_count(items)\n", "license": "MIT"}]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs, events = run_source([archive, jsonl], tmp_path)
    accounting(docs, events)  # conservation
    bad = sorted((e["reason"], os.path.basename(e["path"].split("!")[0])) for e in events if e["reason"].startswith("bad_input:"))
    assert bad == [("bad_input:corrupt_member", "enc-1.0.zip")] + [
        ("bad_input:malformed_json", f"typed.jsonl:{i}") for i in (1, 2, 3)]
    assert sorted(json.loads(d["meta"])["path"] for d in docs) == ["ok.py", "ok.py"]
